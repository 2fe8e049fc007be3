"""Meter files as operators receive them, through `python -m greenbond feeder ...` (issue 12):
Excel's UTF-8 with a BOM and CRLF, CP932 with Japanese headers and 'JST' times, semicolons; the
empty, header-only, undecodable and broken files refused in one line naming file and line; a run
that ingests nothing exits non-zero saying why; and rejected rows are counted exactly while the
database keeps only a bounded sample of them.

Refusals happen before the chain is contacted, so those tests run the CLI as a separate process
against a node that is not there. Ingesting needs a chain context: those tests run the CLI's main()
in this process with `connect` giving a context instead of a node (`backfill --no-send` computes,
stores and signs, and sends nothing)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import subprocess
import sys

import pytest

from greenbond.config import REPO_ROOT
from greenbond.feeder.service import ChainContext, Pipeline
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import QUARANTINE_SAMPLE, FeederStore, QuarantineTally
from greenbond.impact.facilities import load_facilities
from greenbond.impact.methodology import load_methodology
from greenbond.meters.csv_source import CsvFileError, read_csv, scan_csv
from greenbond.meters.model import JST, jst
from greenbond.meters.simulator import simulate
from greenbond.oracle.setup import dev_signer_keys

ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
FACILITIES = load_facilities()
START, END = jst(2024, 1, 8), jst(2024, 1, 9)          # one JST day: 24 hours x 2 facilities
HEADER = ("meter_id", "interval_start", "wh")
JP_HEADER = ("メーターID", "計測開始", "電力量(Wh)")


def day_rows(start=START, end=END):
    """(meter_id, interval start as aware datetime, wh) of every meter for [start, end)."""
    return [(r.meter_id, r.interval_start, r.wh) for r in simulate(FACILITIES, start, end, seed=7)]


def iso(t: dt.datetime) -> str:
    return t.astimezone(JST).isoformat()


def jst_text(t: dt.datetime) -> str:
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def write(path, rows, *, header=HEADER, encoding="utf-8", newline="\n", sep=",", when=iso, bom=False):
    """A meter file as an export writes it: bytes in `encoding`, `newline` line ends, `sep` between cells."""
    lines = [sep.join(header)] + [sep.join((m, when(t), str(wh))) for m, t, wh in rows]
    data = (newline.join(lines) + newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


# ---------------------------------------------------------------- the CLI as a process (refusals)


def feeder_process(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "greenbond", "feeder", *args], cwd=cwd or REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def refused(tmp_path, path, *extra, command="backfill") -> str:
    """Runs the command on `path` against no node; asserts it refused with ONE line on stderr and
    exit code 1, touching no database. Returns the line without 'error: '."""
    db = tmp_path / "refused.sqlite"
    period = ["--from", "2024-01-08", "--to", "2024-01-09", "--no-progress"] if command == "backfill" else []
    p = feeder_process(command, "--db", str(db), "--rpc", "http://127.0.0.1:9", "--connect-timeout", "1",
                       "--source", f"csv:{path}", *period, *extra)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert not db.exists()
    return lines[0][len("error: "):]


def test_empty_and_header_only_files_are_refused(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    assert refused(tmp_path, tmp_path / "empty.csv") == "empty.csv: the file is empty (0 bytes): nothing to ingest"
    (tmp_path / "blank.csv").write_bytes(b"\r\n# exported 2024-04-01\r\n\r\n")
    assert refused(tmp_path, tmp_path / "blank.csv") == (
        "blank.csv: no header line, only blank or comment lines: nothing to ingest")
    write(tmp_path / "header.csv", [], bom=True, newline="\r\n")
    assert refused(tmp_path, tmp_path / "header.csv") == "header.csv line 1: a header and no rows: nothing to ingest"
    # `feeder run` reads files the same way
    assert refused(tmp_path, tmp_path / "header.csv", command="run") == (
        "header.csv line 1: a header and no rows: nothing to ingest")


def test_a_bad_line_refuses_the_file_naming_file_and_line(tmp_path):
    rows = day_rows()[:5]
    path = write(tmp_path / "meters.csv", rows)
    with path.open("a") as f:
        f.write("KYOSO-MAIN-A,2024-01-08 10:00,5\n")                     # line 7: a time without its zone
    assert refused(tmp_path, path) == (
        "meters.csv line 7: interval_start: '2024-01-08 10:00' has no UTC offset (write e.g. +09:00 or JST); "
        "fix the line, or pass --skip-bad-lines to quarantine the lines that cannot be parsed")
    path = write(tmp_path / "cells.csv", rows)
    with path.open("a") as f:
        f.write("KYOSO-MAIN-A,2024-01-08T10:00:00+09:00\n")
    assert refused(tmp_path, path).startswith("cells.csv line 7: 2 cells, header has 3")
    path = write(tmp_path / "kwh.csv", rows, header=("meter_id", "interval_start", "kWh"))
    assert refused(tmp_path, path) == "kwh.csv line 1: header lacks wh (or register, coefficient and unit_code)"


def test_undecodable_bytes_and_utf16_are_refused(tmp_path):
    rows = day_rows()[:3]
    path = write(tmp_path / "mixed.csv", rows, header=JP_HEADER, encoding="cp932")
    with path.open("ab") as f:                                     # a line in neither UTF-8 nor CP932
        f.write(b"KYOSO-MAIN-A,2024-01-08T10:00:00+09:00,5,\x85\xff\n")
    assert refused(tmp_path, path) == (
        "mixed.csv line 5: byte 42 of the line is neither UTF-8 nor CP932 (Shift_JIS): give --encoding if you know it")
    jp = write(tmp_path / "jp.csv", rows, header=JP_HEADER, encoding="cp932")
    assert refused(tmp_path, jp, "--encoding", "utf-8") == (
        "jp.csv line 1: byte 1 of the line is not valid UTF-8 (--encoding utf-8)")
    (tmp_path / "u16.csv").write_bytes("meter_id,interval_start,wh\r\n".encode("utf-16"))
    assert refused(tmp_path, tmp_path / "u16.csv") == (
        "u16.csv line 1: UTF-16 text (Excel's 'Unicode text'): save it as 'CSV UTF-8' or CSV, or convert it to UTF-8")
    p = feeder_process("backfill", "--encoding", "latin-1", "--from", "2024-01-08", "--to", "2024-01-09")
    assert p.returncode == 2 and "use auto, utf-8 or cp932" in p.stderr


def test_large_file_of_an_unknown_meter_is_refused_with_exact_counts(tmp_path):
    """Nothing of it could be ingested: refused before the chain or the database is touched."""
    rows = [("KYOSO-X", START + dt.timedelta(minutes=30 * (i % 48)), 100 + i % 7) for i in range(12_000)]
    path = write(tmp_path / "meters.csv", rows)
    assert refused(tmp_path, path) == (
        "meters.csv: 12,000 rows (UTF-8, ','), none ingested: 12,000 rejected (unknown_meter: 12,000 (KYOSO-X: 12,000)); "
        "nothing to report: is the meter in the facility file (--facilities)?")


# ---------------------------------------------------------------- the CLI in this process, with a chain context


@pytest.fixture
def offline(monkeypatch):
    """feeder backfill --no-send without a node: `connect` gives a chain context, the chain's clock is far ahead."""
    from greenbond.feeder import service

    def connect(self, stop_event=None):
        if self.context is None:
            self.context = ChainContext(31337, ORACLE, 1, 1, 2, {})
            self.pipeline = Pipeline(self.store, self.facilities, self.methodology, self.context,
                                     ReportSigner(dev_signer_keys(), 31337, ORACLE, 2), commit_hours=self.commit_hours)
        return self.context

    monkeypatch.setattr(service.Feeder, "connect", connect)
    monkeypatch.setattr(service.Feeder, "chain_now", lambda self, stop_event=None: int(jst(2030, 1, 1).timestamp()))
    yield
    # main() set up JSON logging to this test's captured stderr: take it down again
    root = logging.getLogger("greenbond")
    for handler in [h for h in root.handlers if getattr(h, "_greenbond_feeder", False)]:
        root.removeHandler(handler)
    root.propagate = True
    root.setLevel(logging.NOTSET)


def backfill(capsys, db, path, *extra, start="2024-01-08", end="2024-01-09"):
    """(exit code, stdout lines, stderr lines that are not JSON log lines)."""
    from greenbond.cli import main

    rc = main(["feeder", "backfill", "--db", str(db), "--no-send", "--no-progress", "--from", start, "--to", end,
               "--source", f"csv:{path}", *extra])
    out, err = capsys.readouterr()
    return rc, out.strip().splitlines(), [line for line in err.strip().splitlines() if not line.startswith("{")]


def roots(db) -> list:
    with FeederStore(db, readonly=True) as store:
        return [(h.facility_id, h.period_start, h.readings_root, h.actual_wh)
                for f in FACILITIES for h in store.hours(f.facility_id)]


def test_every_accepted_shape_gives_the_same_hours(tmp_path, capsys, offline):
    """Plain UTF-8; Excel's UTF-8 with BOM and CRLF; CP932 with Japanese headers and 'JST' times;
    semicolons; '/' dates with 'UTC': the same 48 hours, the same readings roots."""
    rows = day_rows()
    files = {
        "plain.csv": ({}, "(UTF-8, ',')"),
        "excel.csv": (dict(bom=True, newline="\r\n"), "(UTF-8 with BOM, ',')"),
        "sjis.csv": (dict(header=JP_HEADER, encoding="cp932", newline="\r\n", when=jst_text), "(CP932, ',')"),
        "semi.csv": (dict(sep=";", when=lambda t: t.astimezone(dt.timezone.utc).strftime("%Y/%m/%d %H:%M UTC")),
                     "(UTF-8, ';')"),
    }
    got = {}
    for name, (shape, label) in files.items():
        path = write(tmp_path / name, rows, **shape)
        db = tmp_path / f"{name}.sqlite"
        rc, out, err = backfill(capsys, db, path)
        assert rc == 0 and err == [], (name, err)
        assert out[0].endswith("48 new hours (144 readings), 0 already stored, 0 quarantined; send: not requested")
        assert out[1] == f"{name}: 144 rows {label}, all ingested"
        got[name] = roots(db)
    assert len(got["plain.csv"]) == 48
    assert all(r == got["plain.csv"] for r in got.values())
    # forced, the same; the file read again: nothing new, nothing rejected
    rc, out, _ = backfill(capsys, tmp_path / "sjis.csv.sqlite", tmp_path / "sjis.csv", "--encoding", "shift_jis")
    assert rc == 0 and "0 new hours" in out[0] and "48 already stored" in out[0]
    assert out[1] == "sjis.csv: 144 rows (CP932, ','), all ingested"


def test_rejected_rows_are_summarised_per_reason(tmp_path, capsys, offline):
    rows = day_rows()
    bad = [("KYOSO-X", START + dt.timedelta(minutes=30 * i), 5) for i in range(10)]
    bad += [("KYOSO-MAIN-A", START + dt.timedelta(minutes=15), 5)]                   # misaligned
    path = write(tmp_path / "meters.csv", rows + bad)
    rc, out, err = backfill(capsys, tmp_path / "f.sqlite", path)
    assert rc == 0 and err == []
    assert out[1] == ("meters.csv: 155 rows (UTF-8, ','), 144 ingested, 11 rejected "
                      "(unknown_meter: 10 (KYOSO-X: 10); misaligned: 1 (KYOSO-MAIN-A: 1))")
    with FeederStore(tmp_path / "f.sqlite", readonly=True) as store:
        q = store.status()["quarantine"]
        assert (q["unknown_meter"]["total"], q["misaligned"]["total"]) == (10, 1)


def test_skip_bad_lines_quarantines_them_and_counts_them(tmp_path, capsys, offline):
    path = write(tmp_path / "meters.csv", day_rows())
    with path.open("a") as f:
        f.write("KYOSO-MAIN-A,2024-01-08 10:00,5\nKYOSO-MAIN-A,2024-01-08T10:00:00+09:00,12.5\n")
    rc, out, _ = backfill(capsys, tmp_path / "f.sqlite", path, "--skip-bad-lines")
    assert rc == 0
    assert out[1] == "meters.csv: 146 rows (UTF-8, ','), 144 ingested, 2 rejected (parse_error: 2 (KYOSO-MAIN-A: 2))"
    with FeederStore(tmp_path / "f.sqlite", readonly=True) as store:
        assert [q.source for q in store.quarantine(reason="parse_error")] == ["csv:meters.csv:146", "csv:meters.csv:147"]


def test_a_run_that_ingests_nothing_exits_non_zero_saying_why(tmp_path, capsys, offline):
    """Every row is readable and of a known meter, but outside the period asked for: VEE rejects
    them all. The rejections are recorded, the command exits 1 with one line saying why."""
    path = write(tmp_path / "meters.csv", day_rows())
    rc, out, err = backfill(capsys, tmp_path / "f.sqlite", path, start="2024-02-01", end="2024-02-02")
    assert rc == 1
    assert "0 new hours" in out[0]
    assert err == ["error: meters.csv: 144 rows (UTF-8, ','), none ingested: 144 rejected (outside_period: 144 "
                   "(KYOSO-MAIN-A: 48, KYOSO-MAIN-B: 48, SOLAR-PV-1: 48)); nothing to report: "
                   "the rows are outside --from/--to"]


def test_large_unknown_meter_file_keeps_the_database_small_and_the_counts_exact(tmp_path, capsys, offline):
    """200,000 rows of an unknown meter beside a day of good ones (8 MB of CSV). The database kept
    every rejected row whole before (61 MB for the same rows); now it keeps QUARANTINE_SAMPLE of
    them and one count, and the counts (output, status, acknowledgement) are exact. (The same file
    read again counts nothing twice: test_bounded_sample_per_file_and_reason_and_counts_per_input.)"""
    n = 200_000
    unknown = [("KYOSO-X", START + dt.timedelta(minutes=30 * (i % 48)), 100 + i % 7) for i in range(n)]
    path = write(tmp_path / "big.csv", day_rows() + unknown)
    db = tmp_path / "f.sqlite"
    rc, out, err = backfill(capsys, db, path)
    assert rc == 0 and err == []
    assert out[0].endswith(f"48 new hours (144 readings), 0 already stored, {n} quarantined; send: not requested")
    assert out[1] == f"big.csv: {n + 144:,} rows (UTF-8, ','), 144 ingested, {n:,} rejected (unknown_meter: {n:,} (KYOSO-X: {n:,}))"

    def size():
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        return sum(p.stat().st_size for p in tmp_path.glob("f.sqlite*"))

    assert size() < 5_000_000
    with FeederStore(db, readonly=True) as store:
        assert store.status()["quarantine"] == {"unknown_meter": {"total": n, "open": n, "kept": QUARANTINE_SAMPLE}}
        kept = store.quarantine(reason="unknown_meter", limit=10 * QUARANTINE_SAMPLE)
        assert len(kept) == QUARANTINE_SAMPLE and kept[0].source == "csv:big.csv:146"
        assert kept[0].raw == f"KYOSO-X,{iso(START)},100"
    from greenbond.cli import main

    assert main(["feeder", "quarantine", "--db", str(db), "--reason", "unknown_meter", "--ack"]) == 0
    assert capsys.readouterr().out.strip() == f"acknowledged {n} entries"
    with FeederStore(db, readonly=True) as store:
        assert store.status()["quarantine"]["unknown_meter"] == {"total": n, "open": 0, "kept": QUARANTINE_SAMPLE}
    assert size() < 5_000_000


# ---------------------------------------------------------------- the store's bounded quarantine


def pipeline(store):
    ctx = ChainContext(31337, ORACLE, 1, 1, 2, {})
    return Pipeline(store, FACILITIES, load_methodology(), ctx, ReportSigner(dev_signer_keys(), 31337, ORACLE, 2))


def ingest(store, path, input_id=None):
    p = pipeline(store)
    s = p.stream(None, None)
    if input_id:
        s.tally = QuarantineTally(input_id)
    s.feed(read_csv(path, p.meters))
    s.finish()
    return s.result


def test_bounded_sample_per_file_and_reason_and_counts_per_input(tmp_path):
    unknown = [("KYOSO-X", START + dt.timedelta(minutes=30 * i), 5) for i in range(300)]
    misaligned = [("KYOSO-MAIN-A", START + dt.timedelta(minutes=30 * i + 15), 5) for i in range(3)]
    a = write(tmp_path / "a.csv", unknown + misaligned)
    b = write(tmp_path / "b.csv", unknown)
    with FeederStore(tmp_path / "f.sqlite") as store:
        assert ingest(store, a, "sha256:a").quarantined == 303
        assert ingest(store, a, "sha256:a").quarantined == 0               # the same content: nothing new
        assert ingest(store, b).quarantined == 300                          # another file: its own sample and count
        q = store.status()["quarantine"]
        assert q == {"unknown_meter": {"total": 600, "open": 600, "kept": 2 * QUARANTINE_SAMPLE},
                     "misaligned": {"total": 3, "open": 3, "kept": 3}}
        by_file = store._conn.execute("SELECT substr(source, 1, 9), COUNT(*) FROM quarantine GROUP BY 1").fetchall()
        assert sorted(by_file) == [("csv:a.csv", QUARANTINE_SAMPLE + 3), ("csv:b.csv", QUARANTINE_SAMPLE)]
        # acknowledging by id acknowledges that row; by reason, every entry, counted ones too
        first = store.quarantine(reason="unknown_meter", limit=1)[0]
        assert store.acknowledge([first.id]) == 1
        assert store.status()["quarantine"]["unknown_meter"]["open"] == 599
        assert store.acknowledge(reason="unknown_meter") == 599
        assert store.status()["quarantine"]["unknown_meter"] == {"total": 600, "open": 0, "kept": 200}
        assert store.status()["quarantine"]["misaligned"]["open"] == 3


def test_live_sources_keep_every_entry(tmp_path):
    """Entries of a live source (an MQTT topic, VEE's gaps) come one by one over time: each is kept
    and listed, as before; only a file's are sampled."""
    from greenbond.meters.model import QuarantineEntry

    entries = [QuarantineEntry("KYOSO-MAIN-A", START + dt.timedelta(minutes=30 * i), f'{{"wh": {-i}}}', "negative",
                               f"{-i} Wh < 0", "mqtt:greenbond/meters/KYOSO-MAIN-A") for i in range(1, 151)]
    with FeederStore(tmp_path / "f.sqlite") as store:
        with store.transaction() as cur:
            assert store.add_quarantine(entries, {"KYOSO-MAIN-A": 1}, cur) == 150
        assert store.status()["quarantine"]["negative"] == {"total": 150, "open": 150, "kept": 150}
        assert len(store.quarantine(reason="negative")) == 150


def test_an_older_database_opens_and_its_rows_are_not_counted_twice(tmp_path):
    """A database written before the counts table (every entry a row) opens read-only and for
    writing; reading the same file again counts the entries it already holds as rows once."""
    path = write(tmp_path / "a.csv", [("KYOSO-X", START + dt.timedelta(minutes=30 * i), 5) for i in range(250)])
    db = tmp_path / "old.sqlite"
    with FeederStore(db) as store:
        ingest_all = pipeline(store).stream(None, None)
        ingest_all.tally = QuarantineTally(sample=10**9)                    # as before: every entry a row
        ingest_all.feed(read_csv(path, ingest_all.p.meters))
        ingest_all.finish()
        store._conn.execute("DROP TABLE quarantine_counts")
    with FeederStore(db, readonly=True) as store:
        assert store.status()["quarantine"]["unknown_meter"] == {"total": 250, "open": 250, "kept": 250}
    with FeederStore(db) as store:
        assert ingest(store, path, "sha256:a").quarantined == 0
        assert store.status()["quarantine"]["unknown_meter"] == {"total": 250, "open": 250, "kept": 250}


def test_scan_counts_what_the_source_rejects_and_detects_the_shape(tmp_path):
    rows = day_rows()[:4] + [("KYOSO-X", START, 1)]
    path = write(tmp_path / "s.csv", rows, header=JP_HEADER, encoding="cp932", newline="\r\n", sep=";", when=jst_text)
    scan = scan_csv(path, pipeline_meters())
    assert (scan.encoding, scan.bom, scan.delimiter, scan.header_line, scan.rows) == ("cp932", False, ";", 1, 5)
    assert dict(scan.tally.by_reason) == {"unknown_meter": 1}
    assert scan.summary() == "s.csv: 5 rows (CP932, ';'), 4 ingested, 1 rejected (unknown_meter: 1 (KYOSO-X: 1))"
    with pytest.raises(CsvFileError, match=r"^s\.csv line 1: byte 1 of the line is not valid UTF-8"):
        scan_csv(path, pipeline_meters(), "utf-8")


def pipeline_meters():
    from greenbond.impact.facilities import all_meter_specs

    return all_meter_specs(FACILITIES)
