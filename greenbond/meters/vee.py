"""Validation, estimation and editing (VEE) of 30-minute readings, streaming, per meter.

Input: a stream of RawReading / Reading / QuarantineEntry (from the sources), in roughly time
order. Output: a stream of clean Readings and QuarantineEntries; `Vee.stats` counts everything.
Nothing is dropped silently: every input ends as a Reading, a QuarantineEntry, or (identical
duplicates only) a count in `stats.duplicates_identical`.

Rules, in the order they are applied to each value:
 1. unknown meter, or a facility id other than the meter's      -> 'unknown_meter'
 2. interval outside [start, end) when those are given          -> 'outside_period'
 3. wh < 0 (no meter here is net metered)                       -> 'negative'
    wh > max_kw x 0.5 h (MeterSpec.max_interval_wh)             -> 'out_of_range'
 4. an interval already covered for this meter:
      same wh and flags as the value accepted                   -> identical duplicate: counted, not emitted
      a different value                                         -> 'duplicate_conflict' (the FIRST is kept:
                                                                   it has already gone downstream)
      the interval was estimated (or declared unfilled)         -> 'late_after_estimate' (the estimate stands;
                                                                   a correction is the reporter's business)
      older than the 7-day lookback                             -> 'late'
 5. frozen: the same non-zero wh in 3 or more consecutive intervals: the 1st and 2nd are accepted
    (they may be genuine), the 3rd and later are quarantined as 'frozen' and their intervals
    become a gap, estimated as below. Zeros never count as frozen (solar at night).
 Quarantined values leave their interval a gap.

Gaps (intervals with no accepted value) are estimated and flagged estimated ('E', flags bit 0);
an estimate carries no raw value (source 'vee:<method>'):
 - up to 4 missing intervals (2 h) between two accepted values: linear interpolation,
       wh_i = round((a x (n+1-i) + b x i) / (n+1)),  i = 1..n, a before the gap, b after it,
   rounded half up in integers;
 - longer gaps (and gaps with no value before them): like-day: the value of the same interval
   7 days earlier (same weekday) if that was an actual value, else the same interval 1 day
   earlier if actual; with neither, the interval is left unfilled and a 'gap_unfilled' entry
   says so (raw '');
 - a meter that falls more than 4 h behind the newest accepted interval of its facility (the
   watermark) has its gap declared long and filled by like-day up to 2 h before the watermark,
   so that hours can be closed while the meter is silent; values that arrive later for those
   intervals are 'late_after_estimate'.
 - with `end` given, `finish()` fills each meter's trailing gap up to `end` by like-day.

Memory per meter: the last 7 days of emitted Wh values (336 integers) for like-day estimates and
duplicate checks; never the readings themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from greenbond.meters.model import (
    FLAG_ESTIMATED,
    INTERVAL_S,
    REASONS,
    MeterSpec,
    QuarantineEntry,
    RawReading,
    Reading,
    from_unix,
    to_utc,
)

MAX_INTERPOLATION_INTERVALS = 4            # 2 h
DAY_S = 86_400
WEEK_S = 7 * DAY_S
FILL_TRIGGER_S = 4 * 3600                  # a meter this far behind its facility's watermark ...
FILL_LAG_S = 2 * 3600                      # ... is filled up to this far behind it
FROZEN_RUN = 3


def interpolate(a: int, b: int, n: int) -> list[int]:
    """n values strictly between a and b on a straight line, rounded half up (integers)."""
    d = n + 1
    return [(a * (d - i) + b * i + d // 2) // d for i in range(1, n + 1)]


@dataclass
class VeeStats:
    received: int = 0
    accepted: int = 0
    duplicates_identical: int = 0
    estimated: Counter = field(default_factory=Counter)      # method -> count
    quarantined: Counter = field(default_factory=Counter)    # reason -> count
    passed_through: int = 0                                  # quarantine entries from the sources

    @staticmethod
    def reasons() -> dict[str, str]:
        """Every quarantine reason code and its meaning."""
        return dict(REASONS)


class _MeterState:
    __slots__ = ("spec", "last_ts", "anchor", "long_gap", "history", "run_value", "run_len", "run_ts")

    def __init__(self, spec: MeterSpec):
        self.spec = spec
        self.last_ts: int | None = None       # last interval covered (accepted, estimated or unfilled)
        self.anchor: int | None = None        # wh accepted at last_ts (None if last_ts was not accepted)
        self.long_gap = False
        self.history: dict[int, tuple[int, int, bool]] = {}   # ts -> (wh, flags, actual)
        self.run_value = -1
        self.run_len = 0
        self.run_ts = -1


class Vee:
    """Streaming VEE over many meters. `run(stream)` yields the output; or call `feed(item)` per
    item and `finish()` at the end. `start`/`end` (aware datetimes) bound the period if given."""

    def __init__(self, meters: Mapping[str, MeterSpec], start: dt.datetime | None = None,
                 end: dt.datetime | None = None):
        self.meters = meters
        self.start = int(to_utc(start).timestamp()) if start is not None else None
        self.end = int(to_utc(end).timestamp()) if end is not None else None
        self.stats = VeeStats()
        self._state: dict[str, _MeterState] = {}
        self._by_facility: dict[int, list[tuple[str, _MeterState]]] = {}
        self._watermark: dict[int, int] = {}
        for meter_id, spec in meters.items():
            st = _MeterState(spec)
            if self.start is not None:
                st.last_ts = self.start - INTERVAL_S
                st.long_gap = True
            self._state[meter_id] = st
            self._by_facility.setdefault(spec.facility_id, []).append((meter_id, st))

    def run(self, stream: Iterable[RawReading | Reading | QuarantineEntry]) -> Iterator[Reading | QuarantineEntry]:
        for item in stream:
            yield from self.feed(item)
        yield from self.finish()

    # ------------------------------------------------------------ one item

    def feed(self, item: RawReading | Reading | QuarantineEntry) -> list[Reading | QuarantineEntry]:
        if isinstance(item, QuarantineEntry):
            self.stats.passed_through += 1
            self.stats.quarantined[item.reason] += 1
            return [item]
        self.stats.received += 1
        st = self._state.get(item.meter_id)
        if st is None or st.spec.facility_id != item.facility_id:
            return [self._q(item, "unknown_meter", f"meter {item.meter_id!r} of facility {item.facility_id} is not configured")]
        ts = item.ts
        if (self.start is not None and ts < self.start) or (self.end is not None and ts >= self.end):
            return [self._q(item, "outside_period", "interval outside the requested period")]
        wh = item.wh
        if wh < 0:
            return [self._q(item, "negative", f"{wh} Wh < 0")]
        if wh > st.spec.max_interval_wh:
            return [self._q(item, "out_of_range", f"{wh} Wh > {st.spec.max_interval_wh} Wh (max {st.spec.max_kw} kW x 0.5 h)")]
        if st.last_ts is not None and ts <= st.last_ts:
            return self._covered(item, st, ts)
        if wh != 0 and wh == st.run_value and ts == st.run_ts + INTERVAL_S:
            st.run_len += 1
        else:
            st.run_value, st.run_len = wh, 1
        st.run_ts = ts
        if st.run_len >= FROZEN_RUN:
            return [self._q(item, "frozen", f"{wh} Wh for {st.run_len} consecutive intervals")]
        out: list[Reading | QuarantineEntry] = []
        if st.last_ts is not None and ts > st.last_ts + INTERVAL_S:
            self._fill_gap(item.meter_id, st, ts, wh, out)
        reading = item if isinstance(item, Reading) else Reading(
            item.facility_id, item.meter_id, item.interval_start, wh, item.flags, item.source)
        self._advance(st, ts, wh, reading.flags, True)
        st.long_gap = False
        self.stats.accepted += 1
        fid = item.facility_id
        if ts > self._watermark.get(fid, -1):
            self._watermark[fid] = ts
            self._fill_laggards(fid, ts, out)
        out.append(reading)
        return out

    def _covered(self, item, st: _MeterState, ts: int) -> list[Reading | QuarantineEntry]:
        prior = st.history.get(ts)
        if prior is None:
            if st.last_ts - ts < WEEK_S:
                return [self._q(item, "late_after_estimate", "the interval was declared unfilled")]
            return [self._q(item, "late", f"older than the {WEEK_S // DAY_S}-day lookback")]
        wh0, flags0, actual = prior
        if not actual:
            return [self._q(item, "late_after_estimate", f"the interval was estimated at {wh0} Wh")]
        if wh0 == item.wh and flags0 == item.flags:
            self.stats.duplicates_identical += 1
            return []
        return [self._q(item, "duplicate_conflict", f"{item.wh} Wh (flags {item.flags}) after {wh0} Wh (flags {flags0}) was accepted")]

    # ------------------------------------------------------------ gaps

    def _advance(self, st: _MeterState, ts: int, wh: int | None, flags: int, actual: bool) -> None:
        """Marks interval ts covered (wh None: unfilled) and keeps 7 days of history."""
        st.last_ts = ts
        st.anchor = wh if actual else None
        if wh is not None:
            st.history[ts] = (wh, flags, actual)
        st.history.pop(ts - WEEK_S - INTERVAL_S, None)

    def _fill_gap(self, meter_id: str, st: _MeterState, ts: int, wh: int, out: list) -> None:
        """Estimates the intervals strictly between st.last_ts and ts."""
        n = (ts - st.last_ts) // INTERVAL_S - 1
        if not st.long_gap and st.anchor is not None and n <= MAX_INTERPOLATION_INTERVALS:
            for i, value in enumerate(interpolate(st.anchor, wh, n), start=1):
                t = st.last_ts + INTERVAL_S
                out.append(self._estimate(meter_id, st, t, value, "interpolated"))
            return
        self._like_day_until(meter_id, st, ts - INTERVAL_S, out)

    def _like_day_until(self, meter_id: str, st: _MeterState, last: int, out: list) -> None:
        """Fills st.last_ts + 30 min .. last (inclusive) by like-day (week, else day before)."""
        st.long_gap = True
        while st.last_ts < last:
            t = st.last_ts + INTERVAL_S
            for back, method in ((WEEK_S, "like-week"), (DAY_S, "like-day")):
                prior = st.history.get(t - back)
                if prior is not None and prior[2]:
                    out.append(self._estimate(meter_id, st, t, prior[0], method))
                    break
            else:
                self._advance(st, t, None, 0, False)
                self.stats.quarantined["gap_unfilled"] += 1
                out.append(QuarantineEntry(meter_id, from_unix(t), "", "gap_unfilled",
                                           "no value within 2 h and none a week or a day earlier", "vee"))

    def _estimate(self, meter_id: str, st: _MeterState, t: int, wh: int, method: str) -> Reading:
        self._advance(st, t, wh, FLAG_ESTIMATED, False)
        self.stats.estimated[method] += 1
        return Reading(st.spec.facility_id, meter_id, from_unix(t), wh, FLAG_ESTIMATED, f"vee:{method}")

    def _fill_laggards(self, facility_id: int, watermark: int, out: list) -> None:
        for meter_id, st in self._by_facility.get(facility_id, ()):
            if st.last_ts is not None and watermark - st.last_ts > FILL_TRIGGER_S:
                self._like_day_until(meter_id, st, watermark - FILL_LAG_S, out)

    def finish(self) -> list[Reading | QuarantineEntry]:
        """Fills trailing gaps up to `end` (like-day); nothing without `end`."""
        out: list[Reading | QuarantineEntry] = []
        if self.end is None:
            return out
        last = self.end - INTERVAL_S
        for meter_id, st in self._state.items():
            if st.last_ts is not None and st.last_ts < last:
                self._like_day_until(meter_id, st, last, out)
        return out

    def _q(self, item, reason: str, detail: str) -> QuarantineEntry:
        self.stats.quarantined[reason] += 1
        raw = getattr(item, "raw", "") or repr(item)
        return QuarantineEntry(item.meter_id, item.interval_start, raw, reason, detail, item.source)


def validate(stream: Iterable, meters: Mapping[str, MeterSpec], start: dt.datetime | None = None,
             end: dt.datetime | None = None) -> Iterator[Reading | QuarantineEntry]:
    """Convenience: Vee(meters, start, end).run(stream)."""
    return Vee(meters, start, end).run(stream)
