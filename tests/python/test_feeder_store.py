"""The feeder's store, outbox state machine, signing, pipeline (no chain), full disk and floods."""

from __future__ import annotations

import datetime as dt
import io
import random
import sqlite3

import pytest

from greenbond.feeder.service import ChainContext, Pipeline
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import FeederStore, StoreError, report_from_json, signatures_from_json
from greenbond.impact.facilities import load_facilities
from greenbond.impact.hourly import HourlyFigure
from greenbond.impact.methodology import load_methodology
from greenbond.merkle import MerkleTree
from greenbond.meters.csv_source import read_csv_lines
from greenbond.meters.model import QuarantineEntry, jst
from greenbond.meters.simulator import simulate
from greenbond.oracle.setup import dev_signer_keys
from greenbond.oracle.signing import report_digest, sign_report

ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FACILITIES = load_facilities()
METHODOLOGY = load_methodology()


def pipeline(store, commit_hours=24):
    ctx = ChainContext(31337, ORACLE, 1, 1, 2, {})
    return Pipeline(store, FACILITIES, METHODOLOGY, ctx, ReportSigner(dev_signer_keys(), 31337, ORACLE, 2),
                    commit_hours=commit_hours)


@pytest.fixture
def store(tmp_path):
    s = FeederStore(tmp_path / "f.sqlite")
    yield s
    s.close()


def fill(store, days=1, start=jst(2024, 1, 8)):
    end = start + dt.timedelta(days=days)
    return pipeline(store).ingest(simulate(FACILITIES, start, end, seed=3), start, end, cursor_key="sim")


def test_pragmas_wal_and_full_sync(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_pipeline_stores_hours_readings_and_signed_reports(store):
    result = fill(store)
    assert result.hours_new == 48 and result.readings == 24 * 2 * 3
    start = int(jst(2024, 1, 8, 10).timestamp())
    readings = store.readings(1, start)
    hour = store.hour(1, start)
    assert len(readings) == hour.reading_count == 4
    # the page's path: the tree from the stored readings has the stored root; proofs verify
    tree = MerkleTree.of_readings(readings)
    assert tree.root == hour.readings_root
    entry = store.entry(1, start)
    report = report_from_json(entry.report)
    assert report.readingsRoot == hour.readings_root and entry.status == "pending"
    # signatures: the fast signer equals eth-account's typed-data signing (deterministic k)
    sigs = signatures_from_json(entry.signatures)
    keys = dev_signer_keys()
    assert sigs == [sign_report(report, k.key, 31337, ORACLE) for k in keys[:2]]
    assert ReportSigner(keys, 31337, ORACLE, 2).digest(report) == report_digest(report, 31337, ORACLE)


def test_signer_digest_at_the_edges_of_each_field_and_refuses_what_does_not_fit():
    """The signer writes the struct's words itself: at every field's largest value it must equal
    the typed-data digest, and a value that does not fit its type is refused, never signed."""
    from dataclasses import replace

    from greenbond.oracle.signing import REPORT_FIELDS, HourlyReport

    signer = ReportSigner(dev_signer_keys(), 31337, ORACLE, 2)
    biggest = HourlyReport(**{n: b"\xff" * 32 if t == "bytes32" else (1 << int(t[4:])) - 1 for n, t in REPORT_FIELDS})
    assert signer.digest(biggest) == report_digest(biggest, 31337, ORACLE)
    zero = HourlyReport(**{n: b"\0" * 32 if t == "bytes32" else 0 for n, t in REPORT_FIELDS})
    assert signer.digest(zero) == report_digest(zero, 31337, ORACLE)
    assert signer.sign(biggest) == [sign_report(biggest, k.key, 31337, ORACLE) for k in dev_signer_keys()[:2]]
    with pytest.raises(ValueError, match="readingCount 65536 does not fit uint16"):
        signer.digest(replace(zero, readingCount=1 << 16))
    with pytest.raises(ValueError, match="actualWh -1 does not fit uint64"):
        signer.digest(replace(zero, actualWh=-1))
    with pytest.raises(ValueError, match="readingsRoot must be 32 bytes"):
        signer.digest(replace(zero, readingsRoot=b"\1" * 31))


def test_same_hours_twice_are_stored_once(store):
    fill(store)
    again = fill(store)
    assert again.hours_new == 0 and again.hours_existing == 48
    assert store.status()["outbox"]["pending"] == 48


def test_outbox_state_machine(store):
    fill(store)
    batch = store.pending(limit=4)
    assert [e.period_start for e in batch] == sorted(e.period_start for e in batch)
    ids = [e.id for e in batch]
    store.record_sent("0xaa", 7, b"raw", 100_000, ids)
    assert {e.status for e in store.entries_of_tx("0xaa")} == {"sent"}
    with pytest.raises(StoreError):          # only pending entries can be sent
        store.record_sent("0xbb", 8, b"raw", 100_000, ids[:1])
    # vanished / replaced: back to pending, attempts and the reason kept
    assert store.mark_tx_failed("0xaa", "dropped", "nonce used by another transaction") == 4
    e = store.entry(batch[0].facility_id, batch[0].period_start)
    assert e.status == "pending" and e.attempts == 1 and "nonce" in e.last_error
    # sent again in a new transaction, mined
    store.record_sent("0xcc", 7, b"raw2", 100_000, ids)
    n = store.mark_mined("0xcc", 42, 90_000, {(e.facility_id, e.period_start): 5 for e in batch})
    assert n == 4
    e = store.entry(batch[0].facility_id, batch[0].period_start)
    assert (e.status, e.block, e.report_index, e.attempts, e.tx_hash) == ("confirmed", 42, 5, 2, "0xcc")
    assert store.transaction_record("0xaa").status == "dropped"
    assert store.transaction_record("0xcc").status == "mined"
    # a confirmed entry is never pending again, even if its old transaction is marked failed
    store.mark_tx_failed("0xcc", "reverted", "x")
    assert store.entry(batch[0].facility_id, batch[0].period_start).status == "confirmed"


def test_reconciliation_confirms_only_the_hours_given_as_on_chain(store):
    """The transmitter passes the hours it found on chain with our readings root; only those
    are confirmed, whatever lies before or after them (a gap stays pending)."""
    fill(store)
    first = store.pending(limit=1)[0]
    h = first.period_start
    n = store.confirm_on_chain(1, {h: (9, 0), h + 2 * 3600: (None, None)})
    assert n == 2
    e = store.entry(1, h)
    assert e.status == "confirmed" and e.block == 9 and e.report_index == 0
    assert store.entry(1, h + 3600).status == "pending"              # the gap between them
    assert store.entry(1, h + 2 * 3600).status == "confirmed"
    assert store.entry(1, h + 3 * 3600).status == "pending"
    assert store.entry(2, h).status == "pending"                     # other facility untouched
    assert store.confirm_on_chain(1, {h: (9, 0)}) == 0                # already confirmed: unchanged
    assert [e.period_start for e in store.open_originals(1)][:2] == [h + 3600, h + 3 * 3600]


def test_failed_entries_and_retry(store):
    fill(store)
    e = store.pending(limit=1)[0]
    store.mark_failed(e.id, "OracleOutOfBounds(actualWh, 1, 0)")
    assert store.entry(e.facility_id, e.period_start).status == "failed"
    assert store.retry_failed() == 1
    assert store.entry(e.facility_id, e.period_start).status == "pending"


def test_one_unique_report_per_facility_hour_supersedes(store):
    fill(store)
    e = store.pending(limit=1)[0]
    report = report_from_json(e.report)
    with store.transaction() as cur:
        assert not store.enqueue(report, [], cur)


def test_readonly_store_reads_and_refuses_writes(store, tmp_path):
    fill(store)
    ro = FeederStore(tmp_path / "f.sqlite", readonly=True)
    try:
        assert ro.status()["outbox"]["pending"] == 48
        assert len(ro.readings(2, int(jst(2024, 1, 8, 12).timestamp()))) == 2
        with pytest.raises(StoreError, match="read-only"):
            ro.set_meta("x", "y")
    finally:
        ro.close()
    with pytest.raises(StoreError, match="no feeder database"):
        FeederStore(tmp_path / "missing.sqlite", readonly=True)


def test_unwritable_path_is_a_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="does not exist"):
        FeederStore(blocker / "f.sqlite")
    (tmp_path / "bad.sqlite").write_text("this is not a database" * 100)
    with pytest.raises(StoreError, match="not a valid feeder database"):
        FeederStore(tmp_path / "bad.sqlite")


def test_full_disk_gives_a_sentence_and_an_intact_database(tmp_path):
    path = tmp_path / "small.sqlite"
    fill_store = FeederStore(path)
    fill(fill_store)
    pages = fill_store._conn.execute("PRAGMA page_count").fetchone()[0]
    before = fill_store.status()
    fill_store.close()
    # the database may not grow any more: as if the disk were full
    store = FeederStore(path, max_page_count=pages + 2)
    with pytest.raises(StoreError) as err:
        fill(store, days=5, start=jst(2024, 1, 9))
    message = str(err.value)
    assert "is full" in message and "nothing of the last change was written" in message
    # nothing half-written: every stored hour has its readings and its outbox entry
    con = store._conn
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    hours = con.execute("SELECT COUNT(*), COALESCE(SUM(reading_count), 0) FROM hours").fetchone()
    assert hours[1] == con.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
    assert hours[0] == con.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert hours[0] % 2 == 0 and hours[0] >= before["outbox"]["pending"]
    store.close()
    # with room again, the same run completes and the hours are all there once
    store = FeederStore(path)
    fill(store, days=5, start=jst(2024, 1, 9))
    assert store.status()["outbox"]["pending"] == 48 * 6
    store.close()


def test_meter_flood_a_day_at_once_with_duplicates(store):
    """A day of readings of every meter arriving at once (a gateway flushing its buffer),
    every value twice and a few conflicting or broken records: every hour is computed, identical
    duplicates are dropped, the rest quarantined with reasons."""
    start, end = jst(2024, 2, 5), jst(2024, 2, 6)
    readings = list(simulate(FACILITIES, start, end, seed=5))
    lines = ["meter_id,interval_start,wh"]
    for r in readings:
        line = f"{r.meter_id},{r.interval_start.isoformat()},{r.wh}"
        lines += [line, line]
    lines.append(f"KYOSO-MAIN-A,{readings[0].interval_start.isoformat()},{readings[0].wh + 1}")   # conflict
    lines.append("KYOSO-MAIN-A,not-a-time,5")
    lines.append("NO-SUCH-METER,2024-02-05T10:00:00+09:00,5")
    p = pipeline(store)
    meters = p.meters
    result = p.ingest(read_csv_lines(io.StringIO("\n".join(lines) + "\n"), meters, "flood.csv"), start, end)
    assert result.hours_new == 48 and result.readings == len(readings)
    reasons = {q.reason for q in store.quarantine()}
    assert {"duplicate_conflict", "parse_error", "unknown_meter"} <= reasons
    assert store.status()["quarantine"]["duplicate_conflict"]["open"] == 1
    # quarantine listing by reason and acknowledgement
    (conflict,) = store.quarantine(reason="duplicate_conflict")
    assert conflict.raw.startswith("KYOSO-MAIN-A") and conflict.facility_id == 1
    assert store.acknowledge([conflict.id]) == 1
    assert store.quarantine(reason="duplicate_conflict", acknowledged=False) == []


def test_simulator_backfill_resumes_from_its_cursor(store):
    p = pipeline(store, commit_hours=6)
    import threading

    stop = threading.Event()
    start, end = jst(2024, 3, 1), jst(2024, 3, 3)
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done >= 12:
            stop.set()

    s = p.stream(start, end)
    s.progress, s.stop_event, s.cursor_key = progress, stop, "sim"
    s.feed(simulate(FACILITIES, start, end, seed=1))
    assert s.result.stopped and 0 < s.result.hours_new < 96
    import json

    cursor = json.loads(store.get_meta("cursor:sim"))
    assert cursor["start"] == int(start.timestamp()) and cursor["done"] < int(end.timestamp())
    # every facility is complete up to the cursor
    for f in FACILITIES:
        assert {h.period_start for h in store.hours(f.facility_id, cursor["start"], cursor["done"])} == set(
            range(cursor["start"], cursor["done"], 3600))
    assert seen[-1][1] == 48


def test_one_feeder_per_database(tmp_path):
    """A second feeder on the same database is refused (it would send the outbox twice); the lock
    goes with the first feeder."""
    from greenbond.feeder.service import Feeder, FeederError

    db = tmp_path / "feeder.sqlite"
    first = Feeder(rpc_url="http://127.0.0.1:9", db_path=db)
    try:
        with pytest.raises(FeederError, match="another feeder is already running"):
            Feeder(rpc_url="http://127.0.0.1:9", db_path=db)
    finally:
        first.close()
    Feeder(rpc_url="http://127.0.0.1:9", db_path=db).close()


def test_readers_do_not_take_the_lock(tmp_path):
    """`feeder status` and `feeder verify` only read: they run beside a running feeder."""
    from greenbond.feeder.service import Feeder

    db = tmp_path / "feeder.sqlite"
    running = Feeder(rpc_url="http://127.0.0.1:9", db_path=db)
    try:
        Feeder(rpc_url="http://127.0.0.1:9", db_path=db, exclusive=False).close()
    finally:
        running.close()
