"""Corrections: the feeder restates an hour it already stored (and maybe reported) when the
readings under that hour change.

What changes an hour: a value a source sends for an interval of an hour the feeder has already
closed, that outranks the value the hour holds for that interval (greenbond.impact.hourly
`reading_rank`: received edited > received > received flagged estimated > VEE estimate > none):
  - a late reading for an interval with no value (a meter gateway catching up after a gap);
  - a real reading for an interval VEE had estimated (gap-filled);
  - a value re-sent with other flags that outranks the first (estimated -> actual, actual ->
    edited). A re-sent value of the same rank is a conflict: the first stays (as in VEE) and the
    new one is quarantined 'duplicate_conflict'. An identical value changes nothing.
VEE estimates made by a later run never change a stored hour (they are guesses of that run).

Where such values come from (service.PipelineStream):
  - in one stream, VEE quarantines a value for an interval it already covered
    ('duplicate_conflict', 'late_after_estimate', 'late') and the aggregator one whose hour it
    has closed ('late'): the value is offered to its hour instead. Hour still open:
    `HourlyAggregator.revise` (the report is right from the start). Hour closed: resolved at the
    next commit against the figure waiting in the buffer or the stored hour (`merge`);
  - a later run (a new process, another CSV file, MQTT after a restart) computes figures for
    hours already stored: their received readings are resolved against the stored hour the same
    way (a rerun with the same readings changes nothing).
A value not taken goes to quarantine as before; a received value displaced by a better one is
quarantined too ('duplicate_conflict', the detail names its replacement), so none is lost.

A changed stored hour is recomputed with `hourly_figure` (same methodology; quality bits 0-1
from the new readings, bit 2 'quarantined values excluded' kept from the stored figure) and
written (`FeederStore.revise_hour`: figure, readings, and a corrections_due mark) in the same
SQLite transaction as the commit that brought the value; `FeederStore.queue_corrections` then
turns it, in that transaction too, into an outbox report:
  - its report never sent (pending, no attempt): replaced in place, no correction needed;
  - its report confirmed with a report index: a correction, supersedes = 1 + that index,
    signed like any report (`correction_queued` is logged with the old and new figures);
  - its report in flight, failed, or confirmed without a known index: the hour stays due, and
    the transmitter queues the correction once the report is confirmed (Transmitter
    `queue_corrections`, every batch), looking the index up in ReportAccepted events if needed.
At most one entry per hour is ever unconfirmed, so two corrections of one content are never
queued, and a crash at any point leaves either nothing or the readings with their due mark.
Hours stored under another methodology version than the feeder's are not restated
(`correction_skipped`): that is a methodology change, not a correction.
The store holds the readings of the hour's newest figure: once its correction is confirmed they
verify against the report in force; the superseded report's root no longer matches them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from greenbond.impact.hourly import HourlyFigure, hourly_figure, is_estimate, reading_rank, QUALITY_QUARANTINE_EXCLUDED
from greenbond.meters.model import MeterDataError, QuarantineEntry, RawReading, Reading

log = logging.getLogger("greenbond.feeder.corrections")

# quarantine reasons of a valid value for an interval already covered: offered to its hour
REVISABLE = ("duplicate_conflict", "late_after_estimate", "late")


def offered_reading(item, entry: QuarantineEntry) -> Reading | None:
    """The Reading behind a VEE quarantine entry `entry` of source item `item`, if the entry says
    the value is valid but its interval was already covered; else None."""
    if entry.reason not in REVISABLE or not isinstance(item, (Reading, RawReading)):
        return None
    if item.meter_id != entry.meter_id or item.interval_start != entry.interval_start:
        return None
    if isinstance(item, Reading):
        return None if is_estimate(item) else item
    try:
        return Reading(item.facility_id, item.meter_id, item.interval_start, item.wh, item.flags, item.source)
    except MeterDataError:
        return None


@dataclass
class Merge:
    readings: list[Reading]
    changed: list[tuple[Reading | None, Reading]] = field(default_factory=list)   # (old, new)
    quarantine: list[QuarantineEntry] = field(default_factory=list)


def merge(current: Sequence[Reading], offered: Iterable[tuple[Reading, QuarantineEntry | None]]) -> Merge:
    """The hour's readings with the offered values applied by rank (module doc), in leaf order: a
    replaced value keeps its position, a new interval is appended. `offered` pairs a value with
    the quarantine entry to record if it is not taken (None: one is made)."""
    out = Merge(list(current))
    pos = {(r.meter_id, r.ts): i for i, r in enumerate(out.readings)}
    for new, entry in offered:
        if is_estimate(new):
            continue
        key = (new.meter_id, new.ts)
        i = pos.get(key)
        old = out.readings[i] if i is not None else None
        if old is not None and (old.wh, old.flags) == (new.wh, new.flags):
            continue
        if reading_rank(new) > reading_rank(old):
            if i is None:
                pos[key] = len(out.readings)
                out.readings.append(new)
            else:
                out.readings[i] = new
                if not is_estimate(old):
                    out.quarantine.append(QuarantineEntry(
                        old.meter_id, old.interval_start, repr(old), "duplicate_conflict",
                        f"{old.wh} Wh (flags {old.flags}) replaced under its hour's root by {new.wh} Wh "
                        f"(flags {new.flags}) from {new.source}: the hour was recomputed", old.source))
            out.changed.append((old, new))
        else:
            out.quarantine.append(entry or QuarantineEntry(
                new.meter_id, new.interval_start, repr(new), "duplicate_conflict",
                f"{new.wh} Wh (flags {new.flags}) after {old.wh} Wh (flags {old.flags}) was stored", new.source))
    return out


def refigure(facility, methodology, period_start: int, readings: Sequence[Reading], quality_flags: int) -> HourlyFigure:
    """The hour's figure from its new readings; quality bit 2 as in `quality_flags` (the stored or
    first computed figure's)."""
    return hourly_figure(facility, methodology, period_start, readings,
                         quarantined=1 if quality_flags & QUALITY_QUARANTINE_EXCLUDED else 0)


def announce(results, metrics=None, changed: dict | None = None) -> int:
    """Logs what `FeederStore.queue_corrections` did and counts the corrections queued; returns
    that count. `changed`: (facility, hour) -> the readings that changed, for the log."""
    queued = 0
    for q in results:
        extra = {"facility_id": q.facility_id, "period_start": q.period_start, "supersedes": q.supersedes,
                 "old": q.old, "new": q.new, "head_status": q.head_status}
        if changed and (q.facility_id, q.period_start) in changed:
            extra["readings_changed"] = changed[(q.facility_id, q.period_start)]
        if q.kind == "queued":
            queued += 1
            log.info("hour restated: correction queued", extra={"event": "correction_queued", **extra})
        elif q.kind == "recomputed":
            log.info("hour restated before its report was sent: report recomputed", extra={
                "event": "report_recomputed", **extra})
        elif q.kind == "waiting":
            log.info("hour restated: its correction waits for the report in force to be confirmed", extra={
                "event": "correction_waiting", **extra})
    if metrics is not None:
        metrics.corrections(queued, sum(1 for q in results if q.kind == "recomputed"))
    return queued


def describe(changes: Sequence[tuple[Reading | None, Reading]]) -> list[dict]:
    """The changed readings of an hour, for the log."""
    return [{"meter_id": new.meter_id, "interval_start": new.ts, "old_wh": None if old is None else old.wh,
             "old_flags": None if old is None else old.flags, "new_wh": new.wh, "new_flags": new.flags}
            for old, new in changes]
