"""Hourly figures per facility from clean 30-minute readings, and roll-ups to days, months and
years in JST. Everything is an integer; each figure can be checked by hand with `hourly_figure`.

One hour [H, H + 1 h) of a facility:
    actual_wh       sum of the wh of every reading of every meter in the hour (estimates included)
    benchmark_wh    building: the methodology's benchmark for the hour; solar: 0
    reduction_wh    building: benchmark_wh - actual_wh (may be negative); solar: actual_wh (generation)
    energy_reduction_j = reduction_wh x primary energy factor (kJ/kWh = J/Wh)
    co2_avoided_mg     = reduction_wh x grid factor of the hour's fiscal year (g/kWh = mg/Wh)
    reading_count   readings under the root (actual + estimated); expected = 2 x meters
    quality_flags   1: estimated readings present;
                    2: coverage < 90%: actual (non-estimated) readings x 10 < expected x 9;
                    4: quarantined values for this hour were excluded
    readings_root   StandardMerkleTree root over the hour's readings (greenbond.merkle)
exactly what ImpactOracle stores and derives from a signed HourlyReport.

Streaming (`HourlyAggregator`): an hour of a facility closes once the facility's newest reading
is at least 5 h past the hour's last interval (VEE fills a meter that falls 4 h behind, see
vee.py, so nothing more can arrive for it), or at `finish()`. Open hours hold their readings
(a few hours' worth: memory does not grow with the period). A reading for an hour already closed
comes out as a QuarantineEntry 'late'. Quarantine entries pass through unchanged.
With `close_complete` (a live source: the feeder's MQTT path), an hour also closes as soon as it
holds a value for every interval of every meter, if it is the facility's next hour (the one after
the last closed): a live feed reports each hour when its last reading arrives, not five hours
later, which would be past the oracle's heartbeat. Files and the simulator keep the lag, so a
value corrected later in the same file still lands in the hour's first report.

Which value of a meter interval goes under the root (`reading_rank`, higher wins, ties keep the
value already there): a received edited value (flags bit 1) > a received value > a received value
flagged estimated > a VEE estimate (source 'vee:...') > nothing. VEE itself keeps the first value
and quarantines later ones; `HourlyAggregator.revise` lets a caller (the feeder) put a later,
better value into an hour that is still open, and the feeder applies the same rule to stored hours
(a correction, greenbond/feeder/corrections.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from greenbond.impact.facilities import FacilitySpec
from greenbond.impact.methodology import BENCHMARK_MODELS, Methodology, co2_avoided_mg, energy_reduction_j, fiscal_year
from greenbond.merkle import MerkleTree, reading_leaf
from greenbond.meters.model import (
    FLAG_EDITED,
    FLAG_ESTIMATED,
    HOUR_S,
    INTERVAL_S,
    INTERVALS_PER_HOUR,
    JST,
    QuarantineEntry,
    Reading,
    from_unix,
)

QUALITY_ESTIMATED = 1
QUALITY_LOW_COVERAGE = 2
QUALITY_QUARANTINE_EXCLUDED = 4
CLOSE_LAG_S = 5 * 3600


def hour_of(ts: int) -> int:
    """Start (unix seconds) of the hour containing ts."""
    return ts - ts % HOUR_S


def quality_flags(actual_count: int, estimated_count: int, expected_count: int, quarantined: int) -> int:
    """HourlyReport.qualityFlags from the hour's counts (see module doc)."""
    flags = 0
    if estimated_count:
        flags |= QUALITY_ESTIMATED
    if actual_count * 10 < expected_count * 9:
        flags |= QUALITY_LOW_COVERAGE
    if quarantined:
        flags |= QUALITY_QUARANTINE_EXCLUDED
    return flags


def reduction_wh(kind: str, actual_wh: int, benchmark_wh: int) -> int:
    """Building: benchmark - actual; solar: the generation itself."""
    return benchmark_wh - actual_wh if kind == "building" else actual_wh


def is_estimate(reading: Reading) -> bool:
    """A value VEE made up (interpolation, like-day), not one a source sent."""
    return reading.source.startswith("vee:")


def reading_rank(reading: Reading | None) -> int:
    """0 nothing, 1 a VEE estimate, 2 a received value flagged estimated, 3 a received value,
    4 a received edited value (see module doc): a value replaces another of the same interval only
    with a higher rank."""
    if reading is None:
        return 0
    if is_estimate(reading):
        return 1
    if reading.flags & FLAG_ESTIMATED:
        return 2
    return 4 if reading.flags & FLAG_EDITED else 3


@dataclass(frozen=True)
class HourlyFigure:
    facility_id: int
    kind: str
    period_start: int               # unix seconds, a multiple of 3600
    actual_wh: int
    benchmark_wh: int
    reduction_wh: int
    energy_reduction_j: int
    co2_avoided_mg: int
    reading_count: int
    actual_count: int
    expected_count: int
    quality_flags: int
    factor_year: int                # fiscal year of the grid factor
    readings_root: bytes
    readings: tuple[Reading, ...]   # the leaves, in arrival order: proof(i) is readings[i]'s

    def tree(self) -> MerkleTree:
        return MerkleTree.of_readings(self.readings)

    def proof(self, index: int) -> list[bytes]:
        return self.tree().proof(index)


def hourly_figure(facility: FacilitySpec, methodology: Methodology, period_start: int,
                  readings: Sequence[Reading], quarantined: int = 0,
                  leaves: Sequence[bytes] | None = None) -> HourlyFigure:
    """The figure of one hour from its readings (pure). `leaves` may pass precomputed leaf hashes."""
    if period_start % HOUR_S:
        raise ValueError(f"period_start {period_start} is not on the hour")
    if not readings:
        raise ValueError("an hourly figure needs at least one reading")
    for r in readings:
        if r.facility_id != facility.facility_id or hour_of(r.ts) != period_start:
            raise ValueError(f"reading {r.meter_id} at {r.interval_start.isoformat()} is not in this hour/facility")
    actual = sum(r.wh for r in readings)
    estimated = sum(1 for r in readings if r.flags & FLAG_ESTIMATED)
    start = from_unix(period_start)
    if facility.kind == "building":
        model = BENCHMARK_MODELS[(methodology.benchmark_model, methodology.benchmark_model_version)]
        benchmark = model(facility.floor_area_m2, start)
    else:
        benchmark = 0
    red = reduction_wh(facility.kind, actual, benchmark)
    fy = fiscal_year(start)
    expected = INTERVALS_PER_HOUR * len(facility.meters)
    tree = MerkleTree(leaves if leaves is not None else [reading_leaf(r) for r in readings])
    return HourlyFigure(
        facility_id=facility.facility_id, kind=facility.kind, period_start=period_start,
        actual_wh=actual, benchmark_wh=benchmark, reduction_wh=red,
        energy_reduction_j=energy_reduction_j(red, methodology), co2_avoided_mg=co2_avoided_mg(red, methodology, fy),
        reading_count=len(readings), actual_count=len(readings) - estimated, expected_count=expected,
        quality_flags=quality_flags(len(readings) - estimated, estimated, expected, quarantined),
        factor_year=fy, readings_root=tree.root, readings=tuple(readings),
    )


class _Hour:
    __slots__ = ("readings", "leaves", "quarantined")

    def __init__(self):
        self.readings: list[Reading] = []
        self.leaves: list[bytes] = []
        self.quarantined = 0


class HourlyAggregator:
    """Streams VEE output into HourlyFigures (see module doc). Counters: `late_readings`,
    `hours_without_readings` (hours with only quarantined values: no figure can be signed)."""

    def __init__(self, facilities: Iterable[FacilitySpec], methodology: Methodology, close_complete: bool = False):
        self.facilities = {f.facility_id: f for f in facilities}
        self.close_complete = close_complete
        self.meter_facility = {m: f.facility_id for f in self.facilities.values() for m in f.meters}
        self.methodology = methodology
        self._open: dict[int, dict[int, _Hour]] = {fid: {} for fid in self.facilities}
        self._closed_until: dict[int, int] = {fid: -1 for fid in self.facilities}   # hours < this are closed
        self._watermark: dict[int, int] = {}
        self.late_readings = 0
        self.hours_without_readings = 0

    def run(self, stream: Iterable[Reading | QuarantineEntry]) -> Iterator[HourlyFigure | QuarantineEntry]:
        for item in stream:
            yield from self.feed(item)
        yield from self.finish()

    def feed(self, item: Reading | QuarantineEntry) -> list[HourlyFigure | QuarantineEntry]:
        if isinstance(item, QuarantineEntry):
            fid = self.meter_facility.get(item.meter_id)
            if fid is not None and item.interval_start is not None and item.excluded_reading:
                hour = hour_of(int(item.interval_start.timestamp()))
                if hour >= self._closed_until[fid]:
                    self._bucket(fid, hour).quarantined += 1
            return [item]
        fid = item.facility_id
        if fid not in self.facilities:
            return [QuarantineEntry(item.meter_id, item.interval_start, repr(item), "unknown_meter",
                                    f"facility {fid} is not configured", item.source)]
        ts = item.ts
        hour = hour_of(ts)
        if hour < self._closed_until[fid]:
            self.late_readings += 1
            return [QuarantineEntry(item.meter_id, item.interval_start, repr(item), "late",
                                    "its hour was already closed and reported", item.source)]
        bucket = self._bucket(fid, hour)
        bucket.readings.append(item)
        bucket.leaves.append(reading_leaf(item))
        out = []
        if ts > self._watermark.get(fid, -1):
            self._watermark[fid] = ts
            out = self._close(fid, ts + INTERVAL_S - CLOSE_LAG_S)
        if self.close_complete:
            out += self._close_complete(fid)
        return out

    def resume_after(self, fid: int, closed_until: int) -> None:
        """Hours of the facility before `closed_until` are already stored (a restart): a reading
        for them comes out 'late' (the feeder restates the stored hour), and the next hour may
        close as soon as it is complete."""
        self._closed_until[fid] = max(self._closed_until[fid], closed_until)

    def _close_complete(self, fid: int) -> list[HourlyFigure]:
        """Closes the facility's next hours while each holds a value for every meter interval."""
        out = []
        hours, expected = self._open[fid], INTERVALS_PER_HOUR * len(self.facilities[fid].meters)
        while True:
            nxt = self._closed_until[fid]
            bucket = hours.get(nxt) if nxt >= 0 else None
            if bucket is None or len({(r.meter_id, r.ts) for r in bucket.readings}) < expected:
                return out
            out += self._close(fid, nxt + HOUR_S)

    def revise(self, reading: Reading) -> str:
        """A received value for an interval VEE had already covered (VEE quarantined it as
        'duplicate_conflict' or 'late_after_estimate'). Its hour still open: 'applied' when it
        outranks the hour's value for that interval (`reading_rank`; it takes that value's place,
        or is added if the interval has none), else 'kept' (the caller passes the quarantine entry
        on as usual; so for a VEE estimate or an unknown facility). 'closed' when the hour is
        closed: the caller resolves it against the hour it stored."""
        fid = reading.facility_id
        if fid not in self.facilities or is_estimate(reading):
            return "kept"
        hour = hour_of(reading.ts)
        if hour < self._closed_until[fid]:
            return "closed"
        bucket = self._bucket(fid, hour)
        for i, r in enumerate(bucket.readings):
            if r.meter_id == reading.meter_id and r.ts == reading.ts:
                if reading_rank(reading) <= reading_rank(r):
                    return "kept"
                bucket.readings[i] = reading
                bucket.leaves[i] = reading_leaf(reading)
                return "applied"
        bucket.readings.append(reading)
        bucket.leaves.append(reading_leaf(reading))
        return "applied"

    def _bucket(self, fid: int, hour: int) -> _Hour:
        hours = self._open[fid]
        bucket = hours.get(hour)
        if bucket is None:
            bucket = hours[hour] = _Hour()
        return bucket

    def _close(self, fid: int, before: int) -> list[HourlyFigure]:
        """Closes the facility's hours that end at or before `before`."""
        out = []
        hours = self._open[fid]
        for hour in sorted(h for h in hours if h + HOUR_S <= before):
            bucket = hours.pop(hour)
            if bucket.readings:
                out.append(hourly_figure(self.facilities[fid], self.methodology, hour, bucket.readings,
                                         bucket.quarantined, bucket.leaves))
            else:
                self.hours_without_readings += 1
            self._closed_until[fid] = max(self._closed_until[fid], hour + HOUR_S)
        return out

    def finish(self) -> list[HourlyFigure]:
        out = []
        for fid in self.facilities:
            out.extend(self._close(fid, 2**63))
        return out


# ---------------------------------------------------------------- roll-ups

PERIODS = ("day", "month", "year", "fiscal_year")


def period_key(period_start: int, period: str) -> str:
    """The JST day ('2024-01-05'), month ('2024-01'), calendar year ('2024') or fiscal year
    ('FY2023') an hour belongs to."""
    local = dt.datetime.fromtimestamp(period_start, JST)
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "month":
        return local.strftime("%Y-%m")
    if period == "year":
        return f"{local.year:04d}"
    if period == "fiscal_year":
        return f"FY{local.year if local.month >= 4 else local.year - 1}"
    raise ValueError(f"period {period!r} not one of {PERIODS}")


@dataclass
class Rollup:
    facility_id: int
    period: str
    key: str
    hours: int = 0
    actual_wh: int = 0
    benchmark_wh: int = 0
    reduction_wh: int = 0
    energy_reduction_j: int = 0
    co2_avoided_mg: int = 0
    reading_count: int = 0
    quality_flags: int = 0          # OR of the hours' flags

    def add(self, fig: HourlyFigure) -> None:
        self.hours += 1
        self.actual_wh += fig.actual_wh
        self.benchmark_wh += fig.benchmark_wh
        self.reduction_wh += fig.reduction_wh
        self.energy_reduction_j += fig.energy_reduction_j
        self.co2_avoided_mg += fig.co2_avoided_mg
        self.reading_count += fig.reading_count
        self.quality_flags |= fig.quality_flags


def rollup(figures: Iterable[HourlyFigure], period: str) -> Iterator[Rollup]:
    """Sums of hourly integers per facility and JST period, streaming: figures must come in time
    order per facility (as HourlyAggregator emits them); a bucket is emitted when its facility
    moves to the next period, the rest at the end."""
    current: dict[int, Rollup] = {}
    for fig in figures:
        key = period_key(fig.period_start, period)
        bucket = current.get(fig.facility_id)
        if bucket is None or bucket.key != key:
            if bucket is not None:
                yield bucket
            bucket = current[fig.facility_id] = Rollup(fig.facility_id, period, key)
        bucket.add(fig)
    yield from current.values()


def hourly_report(fig: HourlyFigure, methodology_version: int, signer_set_version: int, supersedes: int = 0):
    """The greenbond.oracle.signing.HourlyReport to sign for a figure."""
    from greenbond.oracle.signing import HourlyReport

    return HourlyReport(
        facilityId=fig.facility_id, periodStart=fig.period_start, actualWh=fig.actual_wh,
        benchmarkWh=fig.benchmark_wh, readingCount=fig.reading_count, qualityFlags=fig.quality_flags,
        readingsRoot=fig.readings_root, methodologyVersion=methodology_version, factorYear=fig.factor_year,
        signerSetVersion=signer_set_version, supersedes=supersedes,
    )
