"""The bond's share of what its facilities report, and how complete the reporting is, by the
oracle's own rules: allocation versions (allocated proceeds / financed cost, from an hour on), the
facilities' allocation periods and the share of a span of hours truncated toward zero per period
as Solidity does (`attributed_share`), coverage (hours reported of hours elapsed, estimated
hours) and the missing hours as runs (`Gap`, from the reportedHoursWord bitmaps). Pure
arithmetic on values read elsewhere; nothing here reads the chain."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from greenbond.pageview.reports import HOUR, AllocationLog
from greenbond.pageview.session import local_time


@dataclass(frozen=True)
class Allocation:
    """One version of a bond's allocation to a facility (ImpactOracle.allocations): from the hour
    starting at `effective_from` on, the bond's share of the facility's impact is
    allocated_proceeds / financed_cost."""

    effective_from: int
    allocated_proceeds: int
    financed_cost: int

    @property
    def share(self) -> Fraction:
        return Fraction(self.allocated_proceeds, self.financed_cost) if self.financed_cost else Fraction(0)

    @property
    def share_text(self) -> str:
        """The share as a percentage, e.g. "100%", "33.33%"."""
        return f"{float(self.share) * 100:.4g}%"


def allocation_in_force(versions: Sequence[Allocation], at: int) -> Allocation | None:
    """The version that applies to the hour starting at `at`: the last one with effective_from
    <= at (versions come oldest first, effective_from non-decreasing; of several with the same
    effective_from the last applies), None before the first."""
    found = None
    for a in versions:
        if a.effective_from <= at:
            found = a
    return found


def financed_by(versions: Sequence[Allocation]) -> bool:
    """True when some version allocates a non-zero amount: the facilities bondCoverage sums over."""
    return any(a.allocated_proceeds for a in versions)


def allocation_text(versions: Sequence[Allocation], at: int, currency: str, tz: ZoneInfo) -> str:
    """The allocation in force at `at` in words, for a table cell: "100% (allocated / financed cost
    currency)", or why there is none."""
    now = allocation_in_force(versions, at)
    if now is not None and now.allocated_proceeds:
        return f"{now.share_text} ({now.allocated_proceeds:,} / {now.financed_cost:,} {currency})"
    later = next((a for a in versions if a.effective_from > at and a.allocated_proceeds), None)
    if later is not None:
        return (f"not financed by this bond yet: {later.share_text} from {local_time(later.effective_from, tz)}")
    if financed_by(versions):
        return "not financed by this bond now (an earlier allocation counts for the hours it covered)"
    return "not financed by this bond"


def mul_div_toward_zero(value: int, numerator: int, denominator: int) -> int:
    """value x numerator / denominator, truncated toward zero (Solidity's signed division), for a
    non-negative numerator and a positive denominator."""
    q = abs(value) * numerator // denominator
    return q if value >= 0 else -q


def allocation_period_starts(reporting_start: int, logs: Iterable[AllocationLog]) -> list[int]:
    """A facility's allocation periods as the oracle keeps them: period 0 starts at its
    reportingStart, and every allocation version of ANY bond whose effectiveFrom is after the
    newest period's start opens a new period there. `logs` are the facility's AllocationRecorded
    events in chain order."""
    starts = [reporting_start]
    for log in logs:
        if log.effective_from > starts[-1]:
            starts.append(log.effective_from)
    return starts


def attributed_share(hours: Iterable[tuple[int, int, int]], period_starts: Sequence[int],
                     versions: Sequence[Allocation]) -> tuple[int, int]:
    """The part of a facility's figures attributable to one bond, by the oracle's rule.

    `hours` are (period_start, energy J, CO2 mg) of reports in force of the facility. The rule
    (ImpactOracle.attributedTotals):
    1. the hours are grouped by the facility's allocation period (`allocation_period_starts`: a
       period begins at the facility's reportingStart and at every allocation version's
       effectiveFrom, of any bond);
    2. each period's exact sums (J and mg, integers) are multiplied by allocatedProceeds /
       financedCost of the bond's version in force at the period's start (the last version with
       effectiveFrom <= that start) and truncated toward zero, like Solidity's signed division; a
       period with no version in force, or a zero allocation, gives nothing;
    3. the periods' results are added up.
    Over every reported hour this is attributedTotals(facility, bond) (J, mg) exactly. Over the
    hours of a window (the last 24 hours) it is the bond's share of that window: each period's
    hours in the window, truncated per period in the same way. Returns (J, mg)."""
    sums: dict[int, list[int]] = {}
    for period_start, energy_j, co2_mg in hours:
        p = bisect_right(period_starts, period_start) - 1
        if p < 0:
            continue          # before the facility's reportingStart: the oracle accepts no such hour
        acc = sums.setdefault(p, [0, 0])
        acc[0] += energy_j
        acc[1] += co2_mg
    energy, co2 = 0, 0
    for p, (pj, pmg) in sums.items():
        a = allocation_in_force(versions, period_starts[p])
        if a is None or a.allocated_proceeds == 0:
            continue
        energy += mul_div_toward_zero(pj, a.allocated_proceeds, a.financed_cost)
        co2 += mul_div_toward_zero(pmg, a.allocated_proceeds, a.financed_cost)
    return energy, co2


@dataclass(frozen=True)
class Gap:
    """A run of consecutive hours with no report, [start, end)."""

    facility_id: int
    start: int
    end: int

    @property
    def hours(self) -> int:
        return (self.end - self.start) // HOUR


@dataclass
class Coverage:
    """ImpactOracle.coverage (a facility) or bondCoverage (the facilities a bond finances): hours
    with a report in force, closed hours since the reporting start, reported hours whose readings
    were partly estimated; and the missing hours as runs (`gaps`, from reportedHoursWord)."""

    hours_reported: int
    hours_elapsed: int
    estimated_hours: int
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing_hours(self) -> int:
        return max(0, self.hours_elapsed - self.hours_reported)

    @property
    def complete(self) -> bool:
        return self.missing_hours == 0

    @property
    def percent_text(self) -> str:
        """Hours reported / hours elapsed in percent with one decimal, rounded DOWN: 100.0% only
        when no hour is missing."""
        if self.hours_elapsed == 0:
            return "no hour elapsed"
        tenths = self.hours_reported * 1000 // self.hours_elapsed
        return f"{tenths // 10}.{tenths % 10}%"

    @property
    def counts_text(self) -> str:
        return f"{self.hours_reported:,} h reported of {self.hours_elapsed:,} h elapsed"

    @property
    def estimated_text(self) -> str:
        return f"{self.estimated_hours:,} hour{'' if self.estimated_hours == 1 else 's'} estimated"

    @property
    def missing_text(self) -> str:
        if self.complete:
            return "no hour missing"
        n = len(self.gaps)
        runs = f" in {n:,} gap{'' if n == 1 else 's'}" if n else ""
        return f"{self.missing_hours:,} hour{'' if self.missing_hours == 1 else 's'} missing{runs}"

    @property
    def text(self) -> str:
        """e.g. "99.9% (1,234 h reported of 1,235 h elapsed), 3 hours estimated, 1 hour missing in 1 gap"."""
        return f"{self.percent_text} ({self.counts_text}), {self.estimated_text}, {self.missing_text}"


def gaps_from_words(facility_id: int, reporting_start: int, hours_elapsed: int, words: Sequence[int]) -> list[Gap]:
    """The runs of unreported hours among the first `hours_elapsed` hours of a facility, from its
    reportedHoursWord bitmaps (bit b of word w: the hour reportingStart + (256 w + b) h)."""
    if hours_elapsed <= 0:
        return []
    bits = np.zeros(len(words) * 256, dtype=np.uint8)
    for w, value in enumerate(words):
        if value:
            raw = np.frombuffer(int(value).to_bytes(32, "little"), dtype=np.uint8)
            bits[256 * w: 256 * (w + 1)] = np.unpackbits(raw, bitorder="little")
    missing = np.ones(hours_elapsed, dtype=np.int8)
    n = min(hours_elapsed, bits.size)
    missing[:n] = 1 - bits[:n]
    edges = np.diff(np.concatenate(([0], missing, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [Gap(facility_id, reporting_start + int(a) * HOUR, reporting_start + int(b) * HOUR)
            for a, b in zip(starts, ends)]


def reported_in_words(hours_elapsed: int, words: Sequence[int]) -> int:
    """How many of the first `hours_elapsed` hours the bitmaps mark reported."""
    total = 0
    for w, value in enumerate(words):
        lo = 256 * w
        if lo >= hours_elapsed:
            break
        keep = min(256, hours_elapsed - lo)
        total += bin(int(value) & ((1 << keep) - 1)).count("1")
    return total
