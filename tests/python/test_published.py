"""Published readings (greenbond/published.py, `feeder publish`): the readings behind confirmed
reports as day files per facility with an index, read back and checked against their roots; no
chain needed (hours are marked confirmed in the store as the transmitter would)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from greenbond.config import REPO_ROOT
from greenbond.feeder.service import ChainContext, Pipeline
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import FeederStore
from greenbond.impact.facilities import load_facilities
from greenbond.impact.methodology import load_methodology
from greenbond.merkle import MerkleTree
from greenbond.meters.model import jst
from greenbond.meters.simulator import simulate
from greenbond.oracle.setup import dev_signer_keys
from greenbond.published import (
    FORMAT,
    NotPublished,
    PublishedFormatError,
    PublishedMismatch,
    PublishedReadings,
    PublishError,
    load_day_file,
    publish,
)

ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FACILITIES = load_facilities()
METHODOLOGY = load_methodology()
START = jst(2024, 1, 8)          # 00:00 JST, a local day boundary
HOUR = 3600
CONFIRMED_HOURS = 30             # of the 48 stored per facility: day 1 whole, 6 hours of day 2


def ts(d: dt.datetime) -> int:
    return int(d.timestamp())


@pytest.fixture
def store(tmp_path):
    """Two JST days of both facilities stored; the first CONFIRMED_HOURS of each confirmed on chain."""
    s = FeederStore(tmp_path / "feeder.sqlite")
    s.bind_chain(31337, ORACLE)
    ctx = ChainContext(31337, ORACLE, 1, 1, 2, {})
    pipe = Pipeline(s, FACILITIES, METHODOLOGY, ctx, ReportSigner(dev_signer_keys(), 31337, ORACLE, 2), commit_hours=24)
    end = START + dt.timedelta(days=2)
    pipe.ingest(simulate(FACILITIES, START, end, seed=3), START, end, cursor_key="sim")
    for fid in (1, 2):
        s.confirm_on_chain(fid, {ts(START) + h * HOUR: (100 + h, h) for h in range(CONFIRMED_HOURS)})
    yield s
    s.close()


def test_round_trip_roots_match(store, tmp_path):
    out = tmp_path / "pub"
    summary = publish(store, out)
    assert summary.hours_published == 2 * CONFIRMED_HOURS and summary.days_written == 4
    assert summary.hours_waiting == 2 * (48 - CONFIRMED_HOURS) and summary.facilities == 2
    assert sorted(p.name for p in (out / "facility-1").iterdir()) == ["2024-01-08.json", "2024-01-09.json", "index.json"]
    pub = PublishedReadings(out)
    for fid in (1, 2):
        for h in range(CONFIRMED_HOURS):
            start = ts(START) + h * HOUR
            got = pub.readings(fid, start)
            stored = store.readings(fid, start)
            assert [(r.meter_id, r.ts, r.wh, r.flags) for r in got] == [(r.meter_id, r.ts, r.wh, r.flags) for r in stored]
            assert MerkleTree.of_readings(got).root == store.hour(fid, start).readings_root
    hour = pub.hour(1, ts(START))
    assert hour.file == "facility-1/2024-01-08.json" and hour.sha256 == hour.index_sha256 and hour.report_index == 0
    day = json.loads((out / "facility-1" / "2024-01-08.json").read_text())
    assert day["format"] == FORMAT and day["day"] == "2024-01-08" and day["timezone"] == "Asia/Tokyo"
    assert day["chain_id"] == 31337 and day["oracle"] == ORACLE.lower() and day["methodology_version"] == 1
    assert day["day_start_utc"] == "2024-01-07T15:00:00Z" and len(day["hours"]) == 24
    first = day["hours"][0]
    assert first["period_start_utc"] == "2024-01-07T15:00:00Z" and first["reading_count"] == len(first["readings"])
    # no operator detail (the feeder's `source`, which can name its files) in a published reading
    assert set(first["readings"][0]) == {"meter_id", "interval_start", "interval_start_utc", "wh", "flags"}
    index = json.loads((out / "facility-1" / "index.json").read_text())
    entry = index["days"]["2024-01-09"]
    assert entry["hours"] == CONFIRMED_HOURS - 24 and len(entry["roots"]) == CONFIRMED_HOURS - 24
    assert index["facility"].startswith("Kyoso-to")


def test_only_confirmed_hours_are_published(store, tmp_path):
    out = tmp_path / "pub"
    publish(store, out)
    pub = PublishedReadings(out)
    last = ts(START) + CONFIRMED_HOURS * HOUR       # stored, signed, not confirmed
    assert store.readings(1, last)
    with pytest.raises(NotPublished, match="are not published"):
        pub.readings(1, last)
    # confirmed later: the next run publishes it, rewriting only the day that changed
    store.confirm_on_chain(1, {last: (200, CONFIRMED_HOURS)})
    summary = publish(store, out)
    assert summary.files == ["facility-1/2024-01-09.json"] and summary.days_unchanged == 3
    assert len(pub.readings(1, last)) == len(store.readings(1, last))


def test_a_restated_hour_waits_for_its_correction(store, tmp_path):
    """The stored readings of an hour restated after its report was confirmed hash to the new
    root, not to the one on chain: the hour is not published until the correction is confirmed."""
    start = ts(START) + 3 * HOUR
    entry = store.in_force(1, start)
    with store.transaction() as cur:   # as revise_hour leaves it: another root stored than the one confirmed
        cur.execute("UPDATE hours SET readings_root = ? WHERE facility_id = 1 AND period_start = ?",
                    (b"\x01" * 32, start))
    assert entry.report["readingsRoot"] != "0x" + "01" * 32
    summary = publish(store, tmp_path / "pub")
    assert summary.hours_published == 2 * CONFIRMED_HOURS - 1
    with pytest.raises(NotPublished):
        PublishedReadings(tmp_path / "pub").readings(1, start)


def test_second_publish_writes_nothing(store, tmp_path):
    out = tmp_path / "pub"
    publish(store, out)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*.json")}
    again = publish(store, out)
    assert again.days_written == 0 and again.days_unchanged == 4 and again.files == []
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*.json")} == before
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]    # no temporary file left
    # a facility and a since day limit what is looked at, and leave the other days alone
    only = publish(store, out, facility_ids=[2], since="2024-01-09")
    assert (only.days_unchanged, only.days_written, only.hours_published) == (1, 0, CONFIRMED_HOURS - 24)
    assert len(json.loads((out / "facility-1" / "index.json").read_text())["days"]) == 2


def test_a_changed_wh_is_detected(store, tmp_path):
    out = tmp_path / "pub"
    publish(store, out)
    path = out / "facility-1" / "2024-01-08.json"
    start = ts(START) + 2 * HOUR
    doc = json.loads(path.read_text())
    hour = next(h for h in doc["hours"] if h["period_start"] == start)
    hour["readings"][0]["wh"] += 1
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    pub = PublishedReadings(out)
    with pytest.raises(PublishedMismatch, match="has changed since it was published"):
        pub.readings(1, start)
    # even with the index's sha256 made to agree, the readings no longer hash to the file's root
    index_path = out / "facility-1" / "index.json"
    index = json.loads(index_path.read_text())
    import hashlib

    index["days"]["2024-01-08"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    index_path.write_text(json.dumps(index))
    with pytest.raises(PublishedMismatch, match="hash to 0x[0-9a-f]{64}, not to the root the file gives"):
        pub.readings(1, start)
    loose = pub.hour(1, start, strict=False)
    assert not loose.root_matches and loose.problems()
    assert pub.readings(1, start + HOUR)      # the other hours of the file are still whole
    # publishing again restores the file from the store
    assert publish(store, out).files == ["facility-1/2024-01-08.json"]
    assert pub.readings(1, start)


def test_load_day_file_refuses_what_is_not_one(store, tmp_path):
    publish(store, tmp_path / "pub")
    good = (tmp_path / "pub" / "facility-2" / "2024-01-08.json").read_bytes()
    day = load_day_file(good, "upload.json")
    assert day.facility_id == 2 and len(day.hours) == 24 and all(h.root_matches for h in day.hours)

    def changed(**fields) -> bytes:
        doc = json.loads(good)
        doc["hours"][3]["readings"][1].update(fields)
        return json.dumps(doc).encode()

    for data, words in [
        (b"", "is empty"),
        (b"\x89PNG\r\n", "is not a JSON file"),
        (b'{"format": "other"}', "is not a published readings file"),
        (json.dumps({"format": FORMAT, "version": 99}).encode(), "version 99"),
        (changed(wh=-5), "upload.json, hour #4, reading #2: wh -5 must be an int"),
        (changed(wh="5"), "the field 'wh' must be an integer"),
        (changed(interval_start=0), "is not in the hour"),
        (changed(meter_id="x" * 40), "must be printable ASCII"),
    ]:
        with pytest.raises(PublishedFormatError, match=re.escape(words)):
            load_day_file(data, "upload.json")


def test_reader_sentences_for_missing_data(tmp_path):
    with pytest.raises(NotPublished, match="There are no published readings at"):
        PublishedReadings(tmp_path / "nothing").readings(1, 0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotPublished, match="No readings of facility 1 are published"):
        PublishedReadings(tmp_path / "empty").readings(1, 0)


def test_unwritable_out_dir_is_a_sentence(store, tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(PublishError, match="cannot write the published readings to"):
        publish(store, tmp_path / "a-file" / "pub")


# ---------------------------------------------------------------- the command


def feeder_publish(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "greenbond", "feeder", "publish", "--no-progress", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_cli_publishes_with_a_summary(store, tmp_path):
    out = tmp_path / "pub"
    store.close()
    p = feeder_publish("--db", str(tmp_path / "feeder.sqlite"), "--out", str(out))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].startswith("publishing the confirmed hours of") and len(lines) == 2
    assert lines[1].startswith(f"published {2 * CONFIRMED_HOURS} confirmed hour(s)") and "4 day file(s) written" in lines[1]
    p = feeder_publish("--db", str(tmp_path / "feeder.sqlite"), "--out", str(out), "--facility", "1",
                       "--since", "2024-01-09")
    assert p.returncode == 0 and "0 day file(s) written, 1 unchanged" in p.stdout


@pytest.mark.parametrize("case", ["missing db", "not a db", "out is a file"])
def test_cli_errors_are_one_line(tmp_path, case):
    db, out = tmp_path / "feeder.sqlite", tmp_path / "pub"
    if case == "not a db":
        db.write_text("not a database\n" * 100)
    if case == "out is a file":
        FeederStore(db).close()
        (tmp_path / "x").write_text("x")
        out = tmp_path / "x" / "pub"
    p = feeder_publish("--db", str(db), "--out", str(out))
    err = p.stderr.strip().splitlines()
    assert p.returncode == 1 and len(err) == 1 and err[0].startswith("error: "), p.stderr
    assert {"missing db": "there is no feeder database at", "not a db": "is not a valid feeder database",
            "out is a file": "cannot write the published readings to"}[case] in err[0]
    assert "Traceback" not in p.stderr and not out.exists()
