"""Throughput of the meter pipeline: simulator -> VEE -> hourly aggregation (with Merkle leaf
hashing and one tree per facility-hour). For `make bench`; a measurement, not a test.

    measure_throughput(n_readings=1_000_000) -> ThroughputResult

The simulated period is sized to give n readings over the default facilities (3 meters: about
52,560 readings a year), so 1,000,000 readings is about 19 years of data, streamed: memory is
flat in the period length (VEE keeps 7 days of integers per meter, the aggregator a few open
hours). Peak memory is measured with tracemalloc (Python allocations; tracing slows the run,
so the rate comes from a separate untraced run unless `trace_memory_same_run`), and the
process's peak RSS with resource.getrusage.

Factors: 1,000,000 readings run past FY2028, the last year v1 has a grid factor for; the bench
uses a copy of the methodology whose last factor is repeated for the later years
(`extend_factors`). That copy is for timing only; it is never loaded, signed or published.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
import tracemalloc
from dataclasses import asdict, dataclass, replace
from itertools import islice

from greenbond.impact.facilities import FacilitySpec, all_meter_specs, load_facilities
from greenbond.impact.hourly import HourlyAggregator, HourlyFigure
from greenbond.impact.methodology import Methodology, fiscal_year, load_methodology
from greenbond.meters.model import INTERVAL_S, jst
from greenbond.meters.simulator import simulate
from greenbond.meters.vee import Vee


@dataclass(frozen=True)
class ThroughputResult:
    readings: int
    hours: int
    seconds: float
    readings_per_minute: float
    peak_traced_bytes: int          # tracemalloc peak during the traced run
    traced_readings: int            # readings in the traced run
    max_rss_kib: int                # resource.getrusage peak RSS of the process
    total_actual_wh: int

    def as_dict(self) -> dict:
        return asdict(self)


def extend_factors(m: Methodology, until_fy: int) -> Methodology:
    """A bench-only copy of `m` with its last grid factor repeated up to fiscal year `until_fy`."""
    last = max(m.grid_factors)
    factors = dict(m.grid_factors)
    for year in range(last + 1, until_fy + 1):
        factors[year] = replace(m.grid_factors[last], fiscal_year=year, source="bench-only repeat")
    return replace(m, grid_factors=factors)


def _pipeline(facilities: list[FacilitySpec], methodology: Methodology, n: int, start: dt.datetime):
    """Runs n simulated readings through VEE and the aggregator; returns (readings, hours, Wh)."""
    meters = all_meter_specs(facilities)
    per_interval = len(meters)
    end = start + dt.timedelta(seconds=INTERVAL_S * (-(-n // per_interval)))
    vee = Vee(meters, start, end)
    agg = HourlyAggregator(facilities, methodology)
    source = islice(simulate(facilities, start, end, seed=7), n)
    hours = wh = 0
    for item in agg.run(vee.run(source)):
        if isinstance(item, HourlyFigure):
            hours += 1
            wh += item.actual_wh
    return vee.stats.received, hours, wh


def measure_throughput(n_readings: int = 1_000_000, traced_readings: int = 200_000,
                       start: dt.datetime | None = None) -> ThroughputResult:
    """Streams `n_readings` simulated readings through the pipeline and times it; then runs
    `traced_readings` under tracemalloc for the peak of Python allocations."""
    facilities = load_facilities()
    start = start or jst(2024, 4, 1)
    years = n_readings // (len(all_meter_specs(facilities)) * 17_520) + 2
    methodology = extend_factors(load_methodology(), fiscal_year(start) + years)
    t0 = time.perf_counter()
    received, hours, wh = _pipeline(facilities, methodology, n_readings, start)
    seconds = time.perf_counter() - t0
    peak = 0
    if traced_readings:
        tracemalloc.start()
        try:
            _pipeline(facilities, methodology, traced_readings, start)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ThroughputResult(received, hours, seconds, received / seconds * 60, peak, traced_readings, rss, wh)


if __name__ == "__main__":  # python -m bench.impact_throughput [N]
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(json.dumps(measure_throughput(n).as_dict(), indent=2))
