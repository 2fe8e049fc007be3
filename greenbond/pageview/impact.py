"""The Impact page: the bond's figures (since issuance, the last 24 reported hours, coverage),
each a share of the facilities it finances, never a sum of facilities; each facility whole and
with the part attributable to the bond; freshness, methodologies and grid factors; the charts'
hourly, daily and monthly frames; and the hourly CSV (every report in force and every missing
hour), read when it is downloaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from greenbond.chain import CallFailed, ChainError, call, call_many, rpc
from greenbond.pageview.overview import KINDS
from greenbond.pageview.reports import HOUR, AllocationLog, ReportLog, _rollups, short_name
from greenbond.pageview.session import PageError, PageSettings, guarded, local_time, session
from greenbond.pageview.share import (Allocation, Coverage, Gap, allocation_in_force, allocation_period_starts,
                                      allocation_text, attributed_share, financed_by, gaps_from_words,
                                      reported_in_words)


@dataclass
class FactorRow:
    methodology_version: int
    fiscal_year: int
    grams_per_kwh: int
    final: bool
    source: str


@dataclass
class MethodologyRow:
    version: int
    benchmark_model: str
    benchmark_model_version: int
    primary_energy_factor_kj_per_kwh: int
    source_uri: str
    source_hash: str
    created: str
    in_force: bool
    factors: list[FactorRow]


@dataclass
class Freshness:
    """The age of a facility's LATEST reported hour. Hours before it may still be missing (any
    closed hour can be reported late): `coverage` says how many."""

    facility_id: int
    name: str
    last_period_end: int         # 0: nothing reported yet
    last_hour: str               # the latest reported hour, local time
    age_s: int | None
    heartbeat_s: int
    stale: bool
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))

    @property
    def age_text(self) -> str:
        if self.age_s is None:
            return "no report yet"
        h, rem = divmod(max(0, self.age_s), 3600)
        return f"{h} h {rem // 60:02d} min"

    @property
    def earlier_text(self) -> str:
        """What freshness does not say: whether the hours before the latest reported one are all there."""
        c = self.coverage
        if c.complete:
            return "all reported"
        return f"{c.missing_text} (coverage {c.percent_text})"

    @property
    def note(self) -> str:
        """A sentence: freshness is about the latest reported hour only."""
        if self.age_s is None:
            return f"{self.name}: no hour reported yet."
        text = f"{self.name}: the latest reported hour ended {self.age_text} ago"
        if self.coverage.complete:
            return text + "; every earlier hour is reported."
        return (text + f"; this says nothing about earlier hours, and some are missing: {self.coverage.missing_text} "
                f"(coverage {self.coverage.percent_text}).")


@dataclass
class FacilityImpact:
    facility_id: int
    name: str
    kind: str
    report_count: int
    energy_reduction_j: int      # the whole facility since its reporting start: facilityTotals (corrections applied)
    co2_avoided_mg: int
    last24_energy_j: int         # the whole facility, last 24 reported hours
    last24_co2_mg: int
    attributed_energy_j: int = 0          # the bond's share since issuance: attributedTotals(facility, bond)
    attributed_co2_mg: int = 0
    attributed_last24_energy_j: int = 0   # the bond's share of the last 24 hours (attributed_share)
    attributed_last24_co2_mg: int = 0
    allocations: list[Allocation] = field(default_factory=list)   # the bond's versions, oldest first
    allocation: str = "not financed by this bond"                 # the version in force, in words
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))
    reporting_start: int = 0
    window_hours_reported: int = 0        # hours of the last-24-hours window with a report in force

    @property
    def financed(self) -> bool:
        """A non-zero allocation of the bond in some version (what bondCoverage counts)."""
        return financed_by(self.allocations)

    @property
    def short(self) -> str:
        return short_name(self.name)


@dataclass
class ImpactView:
    bond: str                    # the bond's address: every "bond's share" figure is for it
    energy_reduction_j: int      # bondTotals(bond): the bond's share since issuance
    co2_avoided_mg: int
    last24_energy_j: int         # the bond's share of the last 24 hours (attributed_share, per facility)
    last24_co2_mg: int
    window_start: int            # the last 24 reported hours: [window_start, window_end)
    window_end: int
    window_text: str
    facilities: list[FacilityImpact]
    hourly: pd.DataFrame         # the window: facility, hour (local wall clock), actual_kwh, benchmark_kwh, energy_mj, co2_kg
    daily: pd.DataFrame          # facility, short (name), day, energy_mj, co2_t (each facility's own figures)
    monthly: pd.DataFrame        # facility, short (name), month, energy_mj, co2_t (each facility's own figures)
    methodologies: list[MethodologyRow]
    freshness: list[Freshness]
    heartbeat_s: int
    report_count: int            # effective hourly reports (corrections applied)
    timezone: str
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))   # bondCoverage, gaps of its facilities
    currency: str = "JPY"
    block: int = 0               # the block every view was read at
    block_time: int = 0
    problems: list[str] = field(default_factory=list)
    _effective: list = field(default_factory=list, repr=False)   # the ReportLogs in force, for the CSV
    _names: dict = field(default_factory=dict, repr=False)
    _settings: PageSettings | None = field(default=None, repr=False)   # where the CSV reads the reports' Wh and flags

    @property
    def csv(self) -> str:
        """Every effective hourly report, and a row per missing hour, as CSV (columns: see
        `impact_csv`), generated when asked for (the page's download button calls it on click,
        not on render): the reports' Wh and quality flags are read then, in batches, at `block`."""
        figures = report_figures(self._settings, self._effective, self.block) if self._settings else None
        return impact_csv(self._effective, self._names, ZoneInfo(self.timezone), figures=figures, gaps=self.gaps)

    @property
    def energy_mj(self) -> float:
        return self.energy_reduction_j / 1e6

    @property
    def co2_t(self) -> float:
        return self.co2_avoided_mg / 1e9

    @property
    def last24_energy_mj(self) -> float:
        return self.last24_energy_j / 1e6

    @property
    def last24_co2_t(self) -> float:
        return self.last24_co2_mg / 1e9

    @property
    def any_stale(self) -> bool:
        return any(f.stale for f in self.freshness)

    @property
    def financed(self) -> list[FacilityImpact]:
        """The facilities the bond's figures cover (a non-zero allocation in some version)."""
        return [f for f in self.facilities if f.financed]

    @property
    def not_financed(self) -> list[FacilityImpact]:
        return [f for f in self.facilities if not f.financed]

    @property
    def gaps(self) -> list[Gap]:
        """Missing hours of every facility, oldest first."""
        return sorted((g for f in self.facilities for g in f.coverage.gaps), key=lambda g: (g.start, g.facility_id))

    @property
    def window_hours(self) -> int:
        """Hours the last-24-hours window holds for the bond's facilities (24 each)."""
        return 24 * len(self.financed) if self.window_end else 0

    @property
    def window_hours_reported(self) -> int:
        return sum(f.window_hours_reported for f in self.financed)

    @property
    def window_note(self) -> str:
        """Whether the last-24-hours figures of the bond have every hour of the window."""
        if not self.window_end:
            return "no reports yet"
        have, want = self.window_hours_reported, self.window_hours
        if have == want:
            return f"all {want:,} hours of the window reported"
        return f"{have:,} of {want:,} hours of the window reported: {want - have:,} missing"

    @property
    def share_text(self) -> str:
        """The facilities in the bond's figures and each one's share, e.g. "Kyoso-to 100%"."""
        parts = []
        for f in self.financed:
            a = allocation_in_force(f.allocations, self.block_time)
            parts.append(f"{f.short} {a.share_text}" if a is not None and a.allocated_proceeds else
                         f"{f.short} (earlier allocation versions)")
        return ", ".join(parts)

    @property
    def covers_text(self) -> str:
        """What every "since issuance" figure of the bond covers, in one sentence."""
        n = len(self.financed)
        c = self.coverage
        text = (f"The bond's share (allocated / financed cost) of {n} facilit{'y' if n == 1 else 'ies'}"
                f"{f' ({self.share_text})' if n else ''}; coverage {c.percent_text} ({c.counts_text}), "
                f"{c.estimated_text}")
        text += "." if c.complete else f"; {c.missing_text} (see Coverage)."
        if self.not_financed:
            text += (" Not in these figures: " + ", ".join(f.short for f in self.not_financed)
                     + " (not financed by this bond; shown on its own below).")
        return text


@guarded
def impact_view(settings: PageSettings, now: int | None = None) -> ImpactView:
    """The Impact page. The bond's figures (since issuance, last 24 hours, coverage) are its share
    of the facilities it finances, never a sum of facilities: bondTotals(bond), attributed_share
    over the window's reports, bondCoverage(bond); each facility is shown whole (facilityTotals)
    and with the part attributable to the bond (attributedTotals). Every view is read at one
    block; the missing hours come from reportedHoursWord, read only for a facility whose coverage
    says some hour is missing."""
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle, tz = s.suite.oracle, s.tz
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle, so there are no impact figures to show.")
    bond = s.suite.bond.address
    nfac, nmeth, heartbeat, block = call_many(s.w3, [
        call(oracle, "facilityCount"), call(oracle, "methodologyCount"), call(oracle, "heartbeat"),
        rpc("eth_getBlockByNumber", "latest", False),
    ])
    latest, block_ts = int(block["number"], 16), int(block["timestamp"], 16)
    logs = s.reports.refresh(latest)
    factor_logs = s.factors.refresh(latest)
    allocation_logs = s.allocation_logs.refresh(latest)
    per = 7
    items = [call(oracle, "bondTotals", bond), call(oracle, "bondCoverage", bond)]
    for f in range(1, nfac + 1):
        items += [call(oracle, "facility", f), call(oracle, "facilityTotals", f), call(oracle, "lastPeriodEnd", f),
                  call(oracle, "reportCount", f), call(oracle, "attributedTotals", f, bond),
                  call(oracle, "allocations", f, bond), call(oracle, "coverage", f)]
    for v in range(1, nmeth + 1):
        items.append(call(oracle, "methodology", v))
    res = call_many(s.w3, items, block=latest)
    totals, bond_cov = res[0], res[1]
    res = res[2:]
    facilities, names, lpe = [], {}, {}
    for j in range(nfac):
        f, ftot, last_end, count, atot, versions, cov = res[per * j: per * j + per]
        versions = [Allocation(*v) for v in versions]
        names[j + 1] = f[5]
        lpe[j + 1] = last_end
        facilities.append(FacilityImpact(
            j + 1, f[5], KINDS[f[0]], count, ftot[2], ftot[3], 0, 0,
            attributed_energy_j=atot[2], attributed_co2_mg=atot[3], allocations=versions,
            allocation=allocation_text(versions, block_ts, s.terms.currency, tz),
            coverage=Coverage(*cov), reporting_start=f[3],
        ))
    methodologies = []
    for v in range(1, nmeth + 1):
        m = res[per * nfac + v - 1]
        model_id, model_version, pef, created, uri, shash = m
        factors = [FactorRow(int(x["version"]), int(x["year"]), int(x["gramsPerKWh"]), bool(x["isFinal"]), x["source"])
                   for x in factor_logs if int(x["version"]) == v]
        methodologies.append(MethodologyRow(
            v, bytes(model_id).rstrip(b"\0").decode("ascii", "replace"), model_version, pef, uri,
            "0x" + bytes(shash).hex(), local_time(created, tz) if created else "", v == nmeth,
            sorted(factors, key=lambda x: x.fiscal_year),
        ))

    table = s.report_table.update(logs)
    eff = table.effective
    cols = {c: v[eff] for c, v in table.cols.items()}
    eff_pos = np.flatnonzero(eff)
    # lastPeriodEnd is the facility's reportingStart before its first report
    window_end = max((lpe[fi.facility_id] for fi in facilities if fi.coverage.hours_reported), default=0)
    window_start = window_end - 24 * HOUR
    ps = cols["period_start"]
    win = np.flatnonzero((ps >= window_start) & (ps < window_end))
    in_window = [logs[k] for k in eff_pos[win]]
    # one more batch: the window's stored reports (Wh for the chart) and, for each facility with a
    # missing hour, its reported-hours bitmaps up to the hours elapsed
    items = [call(oracle, "report", l.facility_id, l.index) for l in in_window]
    word_reads = []
    for fi in facilities:
        if not fi.coverage.complete:
            n_words = -(-fi.coverage.hours_elapsed // 256)
            word_reads.append((fi, len(items), n_words))
            items += [call(oracle, "reportedHoursWord", fi.facility_id, w) for w in range(n_words)]
    res = call_many(s.w3, items, block=latest)
    stored = res[:len(in_window)]
    problems = []
    for fi, at, n_words in word_reads:
        words = res[at: at + n_words]
        fi.coverage.gaps = gaps_from_words(fi.facility_id, fi.reporting_start, fi.coverage.hours_elapsed, words)
        marked = reported_in_words(fi.coverage.hours_elapsed, words)
        if marked != fi.coverage.hours_reported:
            problems.append(f"{fi.name}: the chain's bitmap of reported hours marks {marked:,} hours, its coverage "
                            f"counts {fi.coverage.hours_reported:,}.")
    hourly = pd.DataFrame({
        "facility": [names.get(l.facility_id, str(l.facility_id)) for l in in_window],
        "facility_id": [l.facility_id for l in in_window],
        # wall-clock time in the bond's time zone, without a zone: charts show it as is
        "hour": pd.to_datetime([l.period_start for l in in_window], unit="s", utc=True)
                  .tz_convert(s.terms.timezone).tz_localize(None),
        "actual_kwh": [r[1] / 1000 for r in stored],
        "benchmark_kwh": [r[2] / 1000 for r in stored],
        "energy_mj": [l.energy_reduction_j / 1e6 for l in in_window],
        "co2_kg": [l.co2_avoided_mg / 1e6 for l in in_window],
    })
    by_facility: dict[int, list[AllocationLog]] = {}
    for a in allocation_logs:
        by_facility.setdefault(a.facility_id, []).append(a)
    bond_last24_j = bond_last24_mg = 0
    for fi in facilities:
        mine = [l for l in in_window if l.facility_id == fi.facility_id]
        fi.window_hours_reported = len({l.period_start for l in mine})
        fi.last24_energy_j = sum(l.energy_reduction_j for l in mine)
        fi.last24_co2_mg = sum(l.co2_avoided_mg for l in mine)
        starts = allocation_period_starts(fi.reporting_start, by_facility.get(fi.facility_id, []))
        fi.attributed_last24_energy_j, fi.attributed_last24_co2_mg = attributed_share(
            ((l.period_start, l.energy_reduction_j, l.co2_avoided_mg) for l in mine), starts, fi.allocations)
        bond_last24_j += fi.attributed_last24_energy_j
        bond_last24_mg += fi.attributed_last24_co2_mg
    bond_coverage = Coverage(*bond_cov, gaps=sorted((g for fi in facilities if fi.financed for g in fi.coverage.gaps),
                                                    key=lambda g: (g.start, g.facility_id)))
    offset = s.terms.utc_offset_seconds
    frame = pd.DataFrame({k: cols[k] for k in ("facility_id", "period_start", "energy_j", "co2_mg")})
    daily, monthly = _rollups(frame, names, offset)
    now = int(time.time()) if now is None else now
    freshness = []
    for fi in facilities:
        end = lpe[fi.facility_id]
        reported = fi.coverage.hours_reported > 0
        age = now - end if reported else None
        freshness.append(Freshness(fi.facility_id, fi.name, end if reported else 0,
                                   local_time(end - HOUR, tz) if reported else "",
                                   age, heartbeat, age is None or age > heartbeat, fi.coverage))
    return ImpactView(
        bond=bond, energy_reduction_j=totals[2], co2_avoided_mg=totals[3],
        last24_energy_j=bond_last24_j, last24_co2_mg=bond_last24_mg,
        window_start=window_start, window_end=window_end,
        window_text=(f"{local_time(window_start, tz)} to {local_time(window_end, tz)}" if window_end else "no reports yet"),
        facilities=facilities, hourly=hourly, daily=daily, monthly=monthly, methodologies=methodologies,
        freshness=freshness, heartbeat_s=heartbeat, report_count=int(eff_pos.size), timezone=s.terms.timezone,
        coverage=bond_coverage, currency=s.terms.currency, block=latest, block_time=block_ts, problems=problems,
        _effective=[logs[k] for k in eff_pos], _names=dict(names), _settings=settings,
    )


CSV_COLUMNS = (
    "facility_id", "facility", "report_index", "hour_start_utc", "hour_start_local",
    "energy_reduction_j", "energy_reduction_mj", "co2_avoided_mg", "co2_avoided_t",
    "methodology_version", "readings_root", "supersedes_index", "tx_hash",
    "actual_kwh", "benchmark_kwh", "reading_count", "quality_flags", "quality", "coverage",
)
QUALITY_NAMES = ((1, "estimated"), (2, "low_coverage"), (4, "quarantine_excluded"))   # HourlyReport.qualityFlags bits


def quality_text(flags: int) -> str:
    """qualityFlags as names joined by '|' ('' for none): estimated (some readings of the hour were
    estimated), low_coverage (fewer than 90% of the expected readings were measured),
    quarantine_excluded (a received value was kept out by validation)."""
    names = [n for bit, n in QUALITY_NAMES if flags & bit]
    rest = flags & ~sum(bit for bit, _ in QUALITY_NAMES)
    return "|".join(names + ([f"bits_{rest:#x}"] if rest else []))


def _kwh(wh: int) -> str:
    """Wh as kWh with three decimals, exactly (no float rounding)."""
    sign = "-" if wh < 0 else ""
    return f"{sign}{abs(wh) // 1000}.{abs(wh) % 1000:03d}"


def report_figures(settings: PageSettings, logs: Sequence[ReportLog], block: int | str = "latest") -> dict:
    """(facility, index) -> (actualWh, benchmarkWh, readingCount, qualityFlags) of each report,
    read with ImpactOracle.report in JSON-RPC batches (1,000 calls a request) at `block`; a report
    that cannot be read (e.g. the chain was reset) is left out."""
    if not logs:
        return {}
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        return {}
    try:
        res = call_many(s.w3, [call(oracle, "report", l.facility_id, l.index) for l in logs], block=block or "latest")
    except ChainError as exc:   # a batch the node refuses: a page sentence, as before the batch moved to greenbond.chain
        raise PageError(str(exc)) from None
    return {(l.facility_id, l.index): (r[1], r[2], r[3], r[4]) for l, r in zip(logs, res) if not isinstance(r, CallFailed)}


def impact_csv(logs: Sequence[ReportLog], names: dict[int, str], tz: ZoneInfo, *,
               figures: dict | None = None, gaps: Iterable[Gap] = ()) -> str:
    """The hourly CSV: a row per report in force (coverage "reported") and a row per hour without
    one since each facility's reporting start (coverage "missing", only the facility and the hour
    filled), in time order. Columns (CSV_COLUMNS):
      facility_id, facility; report_index (on chain); hour_start_utc, hour_start_local (the bond's
      time zone); energy_reduction_j/_mj, co2_avoided_mg/_t (the facility's whole figure, not the
      bond's share); methodology_version; readings_root (the Merkle root the published readings
      hash to); supersedes_index (the report this corrects, if any); tx_hash;
      actual_kwh, benchmark_kwh (the report's actualWh / benchmarkWh in kWh, exact to the Wh);
      reading_count (readings under the root); quality_flags (the report's qualityFlags: 1
      estimated readings, 2 low coverage, 4 a value kept out by validation) and quality (the
      same as names); coverage ("reported" or "missing").
    `figures` ((facility, index) -> (actualWh, benchmarkWh, readingCount, qualityFlags), see
    `report_figures`) fills the Wh and flags columns; without it they are empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    rows = []
    for l in logs:
        fig = (figures or {}).get((l.facility_id, l.index))
        extra = ([_kwh(fig[0]), _kwh(fig[1]), fig[2], fig[3], quality_text(fig[3])] if fig is not None
                 else ["", "", "", "", ""])
        rows.append((l.period_start, l.facility_id, 0, l, extra))
    for g in gaps:
        for t in range(g.start, g.end, HOUR):
            rows.append((t, g.facility_id, 1, None, None))
    rows.sort(key=lambda r: r[:3])
    for t, fid, _missing, l, extra in rows:
        utc = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        when = [utc.strftime("%Y-%m-%dT%H:%MZ"), utc.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
        if l is None:
            w.writerow([fid, names.get(fid, ""), "", *when, *[""] * 8, *[""] * 5, "missing"])
            continue
        w.writerow([fid, names.get(fid, ""), l.index, *when, l.energy_reduction_j,
                    f"{l.energy_reduction_j / 1e6:.6f}", l.co2_avoided_mg, f"{l.co2_avoided_mg / 1e9:.9f}",
                    l.methodology_version, l.readings_root, l.supersedes - 1 if l.supersedes else "", l.tx_hash,
                    *extra, "reported"])
    return buf.getvalue()
