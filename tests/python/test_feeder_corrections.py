"""The feeder restates hours whose readings change after they were stored (no chain):
greenbond/feeder/corrections.py, FeederStore.revise_hour / queue_corrections, the pipeline's
offered values, and the transmitter's handling of corrections (waiting, re-pointing, index lookup).

Expected figures are recomputed independently with greenbond.impact.hourly.hourly_figure from the
simulator's readings, never read back from the feeder."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from greenbond.feeder.metrics import Metrics
from greenbond.feeder.service import ChainContext, Pipeline
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import FeederStore, StoreError, report_from_json, signatures_from_json
from greenbond.impact.facilities import load_facilities
from greenbond.impact.hourly import hour_of, hourly_figure
from greenbond.impact.methodology import load_methodology
from greenbond.merkle import MerkleTree
from greenbond.meters.model import FLAG_EDITED, jst
from greenbond.meters.simulator import simulate
from greenbond.oracle.setup import dev_signer_keys
from greenbond.oracle.signing import sign_report

ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FACILITIES = load_facilities()
KYOSO = FACILITIES[0]
METHODOLOGY = load_methodology()
START, END = jst(2024, 1, 8), jst(2024, 1, 9)
H = int(jst(2024, 1, 8, 10).timestamp())          # the hour restated: 10:00 JST
M = "KYOSO-MAIN-A"
SIGNER = ReportSigner(dev_signer_keys(), 31337, ORACLE, 2)


def pipeline(store, *, commit_hours=24, metrics=None, methodology_version=1):
    ctx = ChainContext(31337, ORACLE, methodology_version, 1, 2, {})
    return Pipeline(store, FACILITIES, METHODOLOGY, ctx, SIGNER, commit_hours=commit_hours, metrics=metrics)


@pytest.fixture
def store(tmp_path):
    s = FeederStore(tmp_path / "f.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def day():
    return list(simulate(FACILITIES, START, END, seed=3))


def the(readings, meter, ts):
    (r,) = [r for r in readings if r.meter_id == meter and r.ts == ts]
    return r


def expected(readings, fid=1, hour=H):
    """The hour's figure straight from its readings (greenbond.impact, not the feeder)."""
    return hourly_figure(KYOSO, METHODOLOGY, hour, [r for r in readings if r.facility_id == fid and hour_of(r.ts) == hour])


def figures_of(report) -> tuple:
    return report.actualWh, report.benchmarkWh, report.readingCount, report.qualityFlags, report.readingsRoot


def figures(fig) -> tuple:
    return fig.actual_wh, fig.benchmark_wh, fig.reading_count, fig.quality_flags, fig.readings_root


def confirm_all(store, tx: str, block: int = 10) -> dict:
    """Sends every pending entry in one (pretend) transaction and mines it; report indexes
    continue each facility's sequence. Returns (facility, hour) -> index."""
    batch = store.pending()
    store.record_sent(tx, block, bytes.fromhex(tx[2:]), 1, [e.id for e in batch])
    taken = {}
    for e in store.entries("confirmed"):
        taken[e.facility_id] = max(taken.get(e.facility_id, 0), e.report_index + 1)
    indexes = {}
    for e in batch:
        indexes[(e.facility_id, e.period_start)] = taken.get(e.facility_id, 0)
        taken[e.facility_id] = taken.get(e.facility_id, 0) + 1
    assert store.mark_mined(tx, block, 1, indexes) == len(batch)
    return indexes


def corrections(store):
    return [e for e in store.entries() if e.supersedes]


def assert_signed(entry):
    report = report_from_json(entry.report)
    keys = dev_signer_keys()[:2]
    assert signatures_from_json(entry.signatures) == [sign_report(report, k.key, 31337, ORACLE) for k in keys]


def Events():
    """The corrections logger's records in this process, by event (feeder_chain.LogEvents)."""
    from feeder_chain import LogEvents

    return LogEvents("greenbond.feeder.corrections")


def with_gap(store, day, **kw):
    """The day stored with M's 10:30 reading missing (VEE interpolated it); returns the late reading."""
    late = the(day, M, H + 1800)
    p = pipeline(store, **kw)
    assert p.ingest([r for r in day if r is not late], START, END).hours_new == 48
    est = the(store.readings(1, H), M, H + 1800)
    assert est.source == "vee:interpolated" and store.hour(1, H).quality_flags & 1
    return p, late


def test_late_reading_for_a_reported_hour_queues_exactly_one_correction(store, day):
    metrics = Metrics()
    p, late = with_gap(store, day, metrics=metrics)
    before = store.hour(1, H)
    leaf = [(r.meter_id, r.ts) for r in store.readings(1, H)].index((M, H + 1800))
    indexes = confirm_all(store, "0xaa")
    quarantined = len(store.quarantine())
    with Events() as ev:
        result = pipeline(store, metrics=metrics).ingest([late], None, None)   # a later run: the gateway caught up
    assert (result.hours_revised, result.corrections_queued, result.hours_new) == (1, 1, 0)
    (c,) = corrections(store)
    assert (c.facility_id, c.period_start, c.supersedes, c.status) == (1, H, indexes[(1, H)] + 1, "pending")
    want = expected(day)
    report = report_from_json(c.report)
    assert figures_of(report) == figures(want) and want.quality_flags == 0
    assert (report.methodologyVersion, report.factorYear, report.signerSetVersion) == (1, want.factor_year, 1)
    assert_signed(c)
    # the store holds the hour's new readings (the estimate replaced where it was) and figure
    readings = store.readings(1, H)
    assert readings[leaf] == late and MerkleTree.of_readings(readings).root == want.readings_root
    assert figures(store.hour(1, H)) == figures(want)
    assert store.entry(1, H, 0).status == "confirmed"
    assert len(store.quarantine()) == quarantined                 # the late value was taken, not quarantined
    (q,) = ev.named("correction_queued")
    assert (q.facility_id, q.period_start, q.supersedes) == (1, H, indexes[(1, H)] + 1)
    assert q.old["readingsRoot"] == "0x" + before.readings_root.hex() and q.old["qualityFlags"] == before.quality_flags == 3
    assert q.new["actualWh"] == want.actual_wh and q.new["readingsRoot"] == "0x" + want.readings_root.hex()
    assert q.readings_changed == [{"meter_id": M, "interval_start": H + 1800, "old_wh": q.readings_changed[0]["old_wh"],
                                   "old_flags": 1, "new_wh": late.wh, "new_flags": 0}]
    assert metrics.registry.get_sample_value("greenbond_feeder_corrections_queued_total") == 1
    assert store.status()["corrections"] == {"pending": 1, "sent": 0, "confirmed": 0, "failed": 0, "due": 0}
    # the same reading again, with the correction pending and once it is confirmed: nothing new
    assert pipeline(store).ingest([late], None, None).hours_revised == 0
    confirm_all(store, "0xbb")
    assert pipeline(store).ingest([late], None, None).hours_revised == 0
    assert [e.status for e in corrections(store)] == ["confirmed"] and len(store.quarantine()) == quarantined


def test_gateway_catching_up_in_the_same_stream_corrects_each_hour_it_missed(store, day):
    """M is silent 10:00-16:00 (VEE cannot estimate it: no earlier day), the hours are stored and
    confirmed, then M's backlog arrives in the same stream: one correction per hour, each equal
    to the hour computed from the full readings; the backlog is not quarantined."""
    silent = range(H, H + 6 * 3600, 1800)
    backlog = [r for r in day if r.meter_id == M and r.ts in silent]
    p = pipeline(store, commit_hours=1)
    s = p.stream(START, END)
    s.feed([r for r in day if r not in backlog])
    hours = range(H, H + 6 * 3600, 3600)
    assert all(store.hour(1, h).reading_count == 2 for h in hours)     # M missing, not estimated
    indexes = confirm_all(store, "0xaa")
    with Events() as ev:
        s.feed(backlog)
        s.finish()
    assert s.result.corrections_queued == 6
    got = sorted(corrections(store), key=lambda e: e.period_start)
    assert [(e.period_start, e.supersedes) for e in got] == [(h, indexes[(1, h)] + 1) for h in hours]
    for e in got:
        assert figures_of(report_from_json(e.report)) == figures(expected(day, 1, e.period_start))
        assert_signed(e)
    assert len(ev.named("correction_queued")) == 6
    assert not store.quarantine(reason="late_after_estimate")
    assert store.quarantine(reason="gap_unfilled")                     # the gaps VEE declared stay recorded
    # the hours stored after the backlog are first reports, complete
    for h in range(H + 10 * 3600, int(END.timestamp()), 3600):
        assert store.entry(1, h, 0).status == "pending" and store.entry(1, h, 1) is None


def test_value_for_an_hour_still_open_goes_into_its_first_report(store, day):
    """M's 10:30 value comes an hour late, after VEE interpolated it but before the hour closed:
    the first report of 10:00 carries the real value (no correction, not quarantined). A
    conflicting plain value in the same open hour is quarantined and flags the hour (bit 2), as
    VEE and the aggregator alone would."""
    late = the(day, M, H + 1800)
    conflict = dataclasses.replace(the(day, M, H), wh=the(day, M, H).wh + 5, source="csv:resend.csv:2")
    items = [r for r in day if r is not late]
    at = max(i for i, r in enumerate(items) if r.ts == H + 2 * 3600) + 1
    items[at:at] = [late, conflict]
    pipeline(store).ingest(items, START, END)
    hour = [r for r in day if r.facility_id == 1 and hour_of(r.ts) == H]
    want = hourly_figure(KYOSO, METHODOLOGY, H, hour, quarantined=1)
    assert want.quality_flags == 4
    assert figures_of(report_from_json(store.entry(1, H, 0).report)) == figures(want)
    assert corrections(store) == [] and store.corrections_due() == []
    assert not store.quarantine(reason="late_after_estimate")
    (q,) = store.quarantine(reason="duplicate_conflict")
    assert q.meter_id == M and q.interval_start == H


def test_unsent_original_is_recomputed_in_place_not_corrected(store, day):
    p, late = with_gap(store, day)
    original = store.entry(1, H, 0)
    with Events() as ev:
        result = pipeline(store).ingest([late], None, None)
    assert (result.hours_revised, result.corrections_queued) == (1, 0)
    assert corrections(store) == []
    entry = store.entry(1, H, 0)
    assert (entry.id, entry.status, entry.attempts) == (original.id, "pending", 0)
    assert figures_of(report_from_json(entry.report)) == figures(expected(day))
    assert_signed(entry)
    assert len(ev.named("report_recomputed")) == 1 and not ev.named("correction_queued")
    assert store.corrections_due() == []


@pytest.mark.parametrize("state", ["sent", "pending_after_a_failed_send"])
def test_correction_of_a_report_in_flight_waits_until_it_is_confirmed(tmp_path, day, state):
    """The report in force is in a transaction (or was, and may still be mined): the hour's
    readings change at once, with a due mark in the same transaction; the correction is queued
    after the report is confirmed, once, also across a restart."""
    path = tmp_path / "f.sqlite"
    store = FeederStore(path)
    p, late = with_gap(store, day)
    ids = [e.id for e in store.pending()]
    store.record_sent("0xaa", 0, b"a", 1, ids)
    if state != "sent":
        store.mark_tx_failed("0xaa", "dropped", "nonce used by another transaction")
    old = store.entry(1, H, 0)
    with Events() as ev:
        result = pipeline(store).ingest([late], None, None)
    assert (result.hours_revised, result.corrections_queued) == (1, 0)
    assert len(ev.named("correction_waiting")) == 1
    assert store.entry(1, H, 0).report == old.report and corrections(store) == []
    assert store.corrections_due() == [(1, H)]
    store.close()
    store = FeederStore(path)                                          # restart: nothing lost
    try:
        assert store.corrections_due() == [(1, H)]
        assert MerkleTree.of_readings(store.readings(1, H)).root == expected(day).readings_root
        assert store.status()["corrections"]["due"] == 1
        assert [q.kind for q in store.queue_corrections(SIGNER.sign)] == ["waiting"]
        if state != "sent":
            store.record_sent("0xbb", 1, b"b", 1, ids)
        tx = "0xaa" if state == "sent" else "0xbb"
        store.mark_mined(tx, 10, 1, {(e.facility_id, e.period_start): 40 + i for i, e in
                                     enumerate(store.entries_of_tx(tx))})
        index = store.entry(1, H, 0).report_index
        (q,) = store.queue_corrections(SIGNER.sign)
        assert (q.kind, q.period_start, q.supersedes) == ("queued", H, index + 1)
        assert store.queue_corrections(SIGNER.sign) == [] and store.corrections_due() == []
        (c,) = corrections(store)
        assert figures_of(report_from_json(c.report)) == figures(expected(day))
        assert_signed(c)
    finally:
        store.close()


def test_resent_values_same_conflicting_or_edited(store, day):
    """The whole day again changes nothing; a different plain value for a stored interval is a
    conflict (quarantined, the first stays); an edited value outranks it: one correction, and
    the value it displaced is kept in quarantine."""
    p = pipeline(store)
    p.ingest(day, START, END)
    confirm_all(store, "0xaa")
    assert pipeline(store).ingest(day, START, END).hours_revised == 0
    assert corrections(store) == [] and store.quarantine() == []
    first = the(day, M, H)
    conflict = dataclasses.replace(first, wh=first.wh + 5, source="csv:resend.csv:2")
    assert pipeline(store).ingest([conflict], None, None).hours_revised == 0
    (q,) = store.quarantine(reason="duplicate_conflict")
    assert q.meter_id == M and str(first.wh) in q.detail and corrections(store) == []
    edited = dataclasses.replace(first, wh=first.wh + 5, flags=FLAG_EDITED, source="csv:resend.csv:3")
    assert pipeline(store).ingest([edited], None, None).corrections_queued == 1
    (c,) = corrections(store)
    assert figures_of(report_from_json(c.report)) == figures(expected([edited if r is first else r for r in day]))
    displaced = [e for e in store.quarantine(reason="duplicate_conflict") if "replaced under its hour's root" in e.detail]
    assert len(displaced) == 1 and str(first.wh) in displaced[0].raw


def test_a_failure_in_the_commit_writes_neither_readings_nor_correction(store, day, monkeypatch):
    p, late = with_gap(store, day)
    confirm_all(store, "0xaa")
    old_root = store.hour(1, H).readings_root

    def disk_full(*args, **kwargs):
        raise StoreError("the feeder database is full")

    monkeypatch.setattr(store, "queue_corrections", disk_full)
    with pytest.raises(StoreError):
        pipeline(store).ingest([late], None, None)
    assert store.hour(1, H).readings_root == old_root
    assert the(store.readings(1, H), M, H + 1800).source == "vee:interpolated"
    assert store.corrections_due() == [] and corrections(store) == []
    monkeypatch.undo()
    assert pipeline(store).ingest([late], None, None).corrections_queued == 1


def test_hours_of_another_methodology_version_are_not_restated(store, day):
    p, late = with_gap(store, day)
    confirm_all(store, "0xaa")
    old_root = store.hour(1, H).readings_root
    with Events() as ev:
        result = pipeline(store, methodology_version=2).ingest([late], None, None)
    assert result.hours_revised == 0 and corrections(store) == []
    assert store.hour(1, H).readings_root == old_root
    (skipped,) = ev.named("correction_skipped")
    assert skipped.stored_methodology_version == 1 and skipped.methodology_version == 2


def transmitter(store):
    from greenbond.feeder.transmit import Transmitter

    return Transmitter(None, SimpleNamespace(abi=[]), store, None, SIGNER, chain_id=31337)


def test_transmitter_sends_a_correction_after_its_target_and_repoints_it(store, day):
    p, late = with_gap(store, day)
    confirm_all(store, "0xaa")
    pipeline(store).ingest([late], None, None)
    (c,) = corrections(store)
    t = transmitter(store)
    assert [e.id for e in t._ready([c])] == [c.id]
    # a reorganisation re-mined the original elsewhere: the correction follows it
    store.remined("0xaa", 11, 1, {(1, H): 77})
    (moved,) = t._ready([c])
    assert (moved.id, moved.supersedes, report_from_json(moved.report).supersedes) == (c.id, 78, 78)
    assert_signed(moved)
    # the original taken off the chain: the correction waits for it
    store.reorged("0xaa", "dropped", "a chain reorganisation removed it")
    assert t._ready([moved]) == []


def test_transmitter_queues_a_waiting_correction_and_looks_up_a_missing_index(store, day):
    """The original was confirmed by reconciliation without its report index: the correction
    waits; the transmitter finds the index in the ReportAccepted events and queues it."""
    p, late = with_gap(store, day)
    hours = {e.period_start: (None, None) for e in store.open_originals(1) if e.period_start <= H}
    assert store.confirm_on_chain(1, hours) == 11                    # 00:00-10:00 JST, no indexes known
    pipeline(store).ingest([late], None, None)
    assert store.corrections_due() == [(1, H)] and corrections(store) == []
    t = transmitter(store)
    t._accepted_events = lambda fid, starts: {H: (12, 7)} if (fid, list(starts)) == (1, [H]) else {}
    with Events() as ev:
        assert t.queue_corrections() == 1
    assert store.entry(1, H, 0).report_index == 7
    (c,) = corrections(store)
    assert (c.supersedes, c.status) == (8, "pending") and len(ev.named("correction_queued")) == 1
    assert t.queue_corrections() == 0
