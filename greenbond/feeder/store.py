"""The feeder's embedded database (SQLite): readings, quarantine, hourly figures, the outbox of
signed reports and the transactions that carry them, and a small meta table (source cursors).

Durability: WAL journal, `synchronous=FULL`, and every state change inside one transaction
(`BEGIN IMMEDIATE ... COMMIT`): a crash or a full disk leaves the database as it was before the
change. A full disk or an unwritable path is a `StoreError` whose message is a sentence.

Tables
    readings     the exact readings under each hour's Merkle root, in leaf (value) order:
                 (facility_id, period_start, leaf_index) -> meter, interval, wh, flags, source;
                 `estimated` repeats flags bit 0 for queries. Values are kept as received (VEE
                 never edits a received value; estimates are separate rows flagged estimated).
    quarantine   what VEE or the sources kept out, with the payload as received and why;
                 `acknowledged` is set by an operator (`feeder quarantine --ack`). For a CSV file
                 a sample, not everything: per file (the source without its line) and reason, the
                 first QUARANTINE_SAMPLE entries of each content are kept as rows, the rest only
                 counted in quarantine_counts. A 200,000-row file of an unknown meter is 100 rows
                 and one count, not 200,000 payloads. A file repeats a few problems many times; a
                 live source (MQTT, VEE's gaps) brings its entries one by one over time, each kept.
    quarantine_counts  (stream, reason, input) -> entries counted beyond the sample, and how many
                 of them are acknowledged. `input` is what was read: a file's content digest, so the
                 same file read again (a restart of `feeder run --source csv:...`) counts its
                 entries once (the larger count of the two runs), or else one run (counts add up).
                 Added by CREATE TABLE IF NOT EXISTS like corrections_due; the quarantine rows of
                 older databases stay as they are and are counted as before.
    hours        one computed figure per (facility_id, period_start).
    outbox       one signed report per (facility_id, period_start, supersedes): sent at most
                 once. status: pending -> sent (tx_hash, nonce, attempts) -> confirmed (block,
                 report index); or failed (last_error says why). A sent entry whose transaction
                 vanished or reverted goes back to pending (attempts and last_error kept).
                 A confirmed entry whose block a chain reorganisation removed goes back too
                 (`reorged`, `unconfirm`): to sent if its transaction is in the pool again, else
                 to pending with its tx hash and nonce cleared (sent anew, the nonce re-read);
                 re-mined in another block, its block and report index are updated (`remined`).
                 No new column or status: schema 1 databases need no migration.
                 Corrections: an entry with supersedes = 1 + the report index of the hour's
                 previous entry. Per hour the entries form a chain in id order, and only the
                 newest (the head) may be unconfirmed: a correction is queued only once the head
                 is confirmed with its report index (see `queue_corrections`).
    corrections_due hours whose stored figure changed (`revise_hour`, in the transaction that
                 wrote the new readings) and whose head report does not carry it yet. Added by
                 CREATE TABLE IF NOT EXISTS: schema 1 databases get it when a writer opens them.
    transactions every signed transaction, recorded (hash, nonce, raw bytes) BEFORE it is sent,
                 so that after a crash it can be found on chain or sent again byte for byte. A
                 transaction signed again with the same bytes (same reports, nonce and gas, e.g.
                 after a reorganisation removed it) reuses its record (attempts counted).
    meta         key/value: source cursors, the chain the database belongs to.
    mqtt_inbox   MQTT messages kept before the broker is told they arrived (`inbox_add`, then the
                 acknowledgement): topic, payload as received, the interval it is about (NULL:
                 no reading in it), unique by sha256 of topic and payload, so a message the
                 broker delivers again after a crash is kept once. A row stays until its hour is
                 in `hours` (or its quarantine entry is written) and a newer message of its topic
                 is kept (a register meter's next sample needs the previous one): `inbox_prune`.
                 At start the feeder replays the rows first. Added by CREATE TABLE IF NOT EXISTS.

Public read API (the investor page): `FeederStore(path, readonly=True)` then `.readings()`,
`.hour()`, `.hours()`, `.quarantine()` (the kept sample), `.status()` (every entry counted).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from greenbond.meters.model import FLAG_ESTIMATED, QuarantineEntry, Reading, from_unix

SCHEMA_VERSION = 1
QUARANTINE_SAMPLE = 100      # quarantine rows kept per CSV file, reason and content; the rest are counted
QUARANTINE_RAW_MAX = 2000    # characters of a kept payload (a line is rarely longer; a broken file may be)
STATUSES = ("pending", "sent", "confirmed", "failed")
TX_STATUSES = ("sent", "mined", "reverted", "dropped", "superseded")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (
    facility_id    INTEGER NOT NULL,
    period_start   INTEGER NOT NULL,
    leaf_index     INTEGER NOT NULL,
    meter_id       TEXT    NOT NULL,
    interval_start INTEGER NOT NULL,
    wh             INTEGER NOT NULL,
    flags          INTEGER NOT NULL,
    estimated      INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    PRIMARY KEY (facility_id, period_start, leaf_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id              INTEGER PRIMARY KEY,
    facility_id     INTEGER,
    meter_id        TEXT    NOT NULL,
    interval_start  INTEGER,
    raw             TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    detail          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    acknowledged    INTEGER NOT NULL DEFAULT 0,
    acknowledged_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_once
    ON quarantine (meter_id, COALESCE(interval_start, -1), reason, source, raw);
CREATE INDEX IF NOT EXISTS quarantine_reason ON quarantine (reason, acknowledged);
CREATE TABLE IF NOT EXISTS hours (
    facility_id         INTEGER NOT NULL,
    period_start        INTEGER NOT NULL,
    actual_wh           INTEGER NOT NULL,
    benchmark_wh        INTEGER NOT NULL,
    reduction_wh        INTEGER NOT NULL,
    energy_reduction_j  INTEGER NOT NULL,
    co2_avoided_mg      INTEGER NOT NULL,
    reading_count       INTEGER NOT NULL,
    actual_count        INTEGER NOT NULL,
    expected_count      INTEGER NOT NULL,
    quality_flags       INTEGER NOT NULL,
    readings_root       BLOB    NOT NULL,
    methodology_version INTEGER NOT NULL,
    factor_year         INTEGER NOT NULL,
    computed_at         INTEGER NOT NULL,
    PRIMARY KEY (facility_id, period_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY,
    facility_id  INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    supersedes   INTEGER NOT NULL DEFAULT 0,
    report       TEXT    NOT NULL,
    signatures   TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed')),
    tx_hash      TEXT,
    nonce        INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    block        INTEGER,
    report_index INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (facility_id, period_start, supersedes)
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, period_start, facility_id);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash    TEXT PRIMARY KEY,
    nonce      INTEGER NOT NULL,
    raw        BLOB    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('sent', 'mined', 'reverted', 'dropped', 'superseded')),
    reports    INTEGER NOT NULL,
    gas_limit  INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1,
    block      INTEGER,
    gas_used   INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_status ON transactions (status);
CREATE TABLE IF NOT EXISTS corrections_due (
    facility_id  INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (facility_id, period_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mqtt_inbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    digest         BLOB    NOT NULL UNIQUE,
    topic          TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    interval_start INTEGER,
    received_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine_counts (
    stream       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    input        TEXT    NOT NULL,
    unsampled    INTEGER NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    first_at     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    PRIMARY KEY (stream, reason, input)
) WITHOUT ROWID;
"""


class StoreError(RuntimeError):
    """The database cannot be used or written; the message is a sentence for a person."""


def _explain(exc: sqlite3.Error, path: str) -> str:
    text = str(exc).lower()
    if "full" in text:
        return (f"the feeder database {path} is full (no space left on its disk, or its size limit was reached); "
                "nothing of the last change was written: free some space and run the feeder again")
    if "readonly" in text or "read-only" in text:
        return f"the feeder database {path} is read-only: check the file's and its folder's permissions"
    if "unable to open" in text or "disk i/o" in text:
        return f"the feeder database {path} cannot be opened or written (check the folder exists and is writable)"
    if "locked" in text or "busy" in text:
        return f"the feeder database {path} is locked by another process (is another feeder running on it?)"
    if "malformed" in text or "not a database" in text:
        return f"{path} is not a valid feeder database (or it is corrupt): move it aside and backfill again"
    return f"the feeder database {path} failed: {exc}"


@dataclass(frozen=True)
class HourRow:
    facility_id: int
    period_start: int
    actual_wh: int
    benchmark_wh: int
    reduction_wh: int
    energy_reduction_j: int
    co2_avoided_mg: int
    reading_count: int
    actual_count: int
    expected_count: int
    quality_flags: int
    readings_root: bytes
    methodology_version: int
    factor_year: int
    computed_at: int


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    facility_id: int
    period_start: int
    supersedes: int
    report: dict              # the HourlyReport fields (readingsRoot as 0x-hex)
    signatures: list          # [[r hex, vs hex], ...]
    status: str
    tx_hash: str | None
    nonce: int | None
    attempts: int
    last_error: str | None
    block: int | None
    report_index: int | None


SIGNED_FIGURES = ("actualWh", "benchmarkWh", "readingCount", "qualityFlags", "readingsRoot")


@dataclass(frozen=True)
class QueuedCorrection:
    """What `queue_corrections` did for an hour. kind: 'queued' (a new correction entry, pending),
    'recomputed' (the head was never sent: its report was replaced in place), 'unchanged' (the
    head already carries the stored figure), 'waiting' (the head is not confirmed with a report
    index yet: the hour stays due). old/new: the signed figures (SIGNED_FIGURES, root as hex)."""

    kind: str
    facility_id: int
    period_start: int
    supersedes: int
    old: dict
    new: dict
    head_status: str


@dataclass(frozen=True)
class TxRecord:
    tx_hash: str
    nonce: int
    raw: bytes
    status: str
    reports: int
    gas_limit: int
    attempts: int
    block: int | None
    gas_used: int | None
    last_error: str | None


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    facility_id: int | None
    meter_id: str
    interval_start: int | None
    raw: str
    reason: str
    detail: str
    source: str
    created_at: int
    acknowledged: bool


_LINE_SUFFIX = re.compile(r":\d+(?:;.*)?$")


def quarantine_stream(source: str) -> str:
    """The stream of a quarantine entry's source: 'csv:meters.csv:17' (or '...:17;rollover') ->
    'csv:meters.csv', the file; any other source ('mqtt:<topic>', 'vee') is its own stream."""
    return _LINE_SUFFIX.sub("", source) if source.startswith("csv:") else source


class QuarantineTally:
    """One run's quarantine bookkeeping (a PipelineStream holds one across its commits):
    per (stream, reason), entries seen and entries that are rows (kept now or already there).
    `input` names what the run reads: 'sha256:<digest>' of a file makes a second read of the same
    content count nothing twice; None gives the run a name of its own (its counts add up)."""

    def __init__(self, input: str | None = None, sample: int = QUARANTINE_SAMPLE):
        self.input = input or f"run:{uuid.uuid4().hex[:16]}"
        self.sample = sample
        self.counts: dict[tuple[str, str], list[int]] = {}   # (stream, reason) -> [seen, rows]


def report_to_json(report) -> str:
    """An HourlyReport (greenbond.oracle.signing) as stored in the outbox."""
    fields = {name: getattr(report, name) for name in report.__dataclass_fields__}
    fields["readingsRoot"] = "0x" + bytes(fields["readingsRoot"]).hex()
    return json.dumps(fields, sort_keys=True)


def report_from_json(data: dict):
    from greenbond.oracle.signing import HourlyReport

    fields = dict(data)
    fields["readingsRoot"] = bytes.fromhex(fields["readingsRoot"].removeprefix("0x"))
    return HourlyReport(**fields)


def signatures_to_json(signatures: Sequence[tuple[bytes, bytes]]) -> str:
    return json.dumps([["0x" + r.hex(), "0x" + vs.hex()] for r, vs in signatures])


def signatures_from_json(data: list) -> list[tuple[bytes, bytes]]:
    return [(bytes.fromhex(r[2:]), bytes.fromhex(vs[2:])) for r, vs in data]


class FeederStore:
    """The feeder's SQLite database. One writer (the feeder); any number of readers
    (`readonly=True`, e.g. the investor page)."""

    def __init__(self, path: str | Path, readonly: bool = False, *, max_page_count: int | None = None,
                 timeout: float = 30.0):
        self.path = str(path)
        self.readonly = readonly
        try:
            if readonly:
                if not Path(self.path).exists():
                    raise StoreError(f"there is no feeder database at {self.path}: run the feeder first")
                self._conn = sqlite3.connect(f"file:{Path(self.path).resolve()}?mode=ro", uri=True,
                                             timeout=timeout, isolation_level=None, check_same_thread=False)
                self._conn.execute("PRAGMA query_only = ON")
            else:
                parent = Path(self.path).resolve().parent
                if not parent.is_dir():
                    raise StoreError(f"the folder of the feeder database {self.path} does not exist")
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                             check_same_thread=False)
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
                self._conn.execute("PRAGMA foreign_keys = ON")
                if max_page_count is not None:
                    self._conn.execute(f"PRAGMA max_page_count = {int(max_page_count)}")
                with self.transaction() as cur:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            cur.execute(statement)
                    cur.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(_explain(exc, self.path)) from None
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has feeder schema {row and row[0]}, this feeder reads {SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "FeederStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One atomic change: BEGIN IMMEDIATE ... COMMIT, rolled back on any error. SQLite errors
        (a full disk above all) come out as a StoreError sentence."""
        if self.readonly:
            raise StoreError(f"the feeder database {self.path} was opened read-only")
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(_explain(exc, self.path)) from None
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException as exc:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise StoreError(_explain(exc, self.path)) from None
            raise

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(_explain(exc, self.path)) from None

    # ------------------------------------------------------------ meta

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str, cur: sqlite3.Cursor | None = None) -> None:
        sql = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        if cur is not None:
            cur.execute(sql, (key, value))
            return
        with self.transaction() as c:
            c.execute(sql, (key, value))

    # ------------------------------------------------------------ MQTT inbox

    def inbox_add(self, messages: Sequence[tuple[str, bytes, int | None]]) -> tuple[list[tuple[int, str, bytes]], int]:
        """Keeps received MQTT messages, (topic, payload, interval start or None), in one
        transaction. A message already kept (same topic and payload: the broker's redelivery after
        a crash, or a gateway sending it twice) is not kept again. Returns the rows kept now,
        (id, topic, payload) in arrival order, and how many were already there."""
        import hashlib

        kept: list[tuple[int, str, bytes]] = []
        now = int(time.time())
        with self.transaction() as cur:
            for topic, payload, interval_start in messages:
                digest = hashlib.sha256(topic.encode() + b"\0" + payload).digest()
                cur.execute("INSERT OR IGNORE INTO mqtt_inbox (digest, topic, payload, interval_start, received_at) "
                            "VALUES (?, ?, ?, ?, ?)", (digest, topic, payload, interval_start, now))
                if cur.rowcount:
                    kept.append((cur.lastrowid, topic, payload))
        return kept, len(messages) - len(kept)

    def inbox(self) -> list[tuple[int, str, bytes]]:
        """Every kept MQTT message, (id, topic, payload), in arrival order."""
        return [(i, t, bytes(p)) for i, t, p in self._read("SELECT id, topic, payload FROM mqtt_inbox ORDER BY id")]

    def inbox_prune(self, upto_id: int, facility_ids: Iterable[int]) -> int:
        """Deletes kept messages up to `upto_id` (all of them fed to the pipeline and its commit
        done) that no restart needs: those with no reading (their quarantine entry is written) and
        those whose hour is before every facility's newest stored hour (closed and stored, or
        quarantined as late), except each topic's newest message. Returns how many went."""
        facility_ids = list(facility_ids)
        with self.transaction() as cur:
            latest = [cur.execute("SELECT MAX(period_start) FROM hours WHERE facility_id = ?", (f,)).fetchone()[0]
                      for f in facility_ids]
            before = min(latest) if latest and None not in latest else -1   # a facility with no hour: keep all
            cur.execute(
                "DELETE FROM mqtt_inbox WHERE id <= ? AND (interval_start IS NULL OR interval_start < ?) "
                "AND id NOT IN (SELECT MAX(id) FROM mqtt_inbox GROUP BY topic)", (upto_id, before))
            return cur.rowcount

    def bind_chain(self, chain_id: int, oracle_address: str) -> None:
        """Records which chain and oracle the database feeds; refuses another one (its outbox
        and transactions would mean nothing there)."""
        want = f"{chain_id}:{oracle_address.lower()}"
        have = self.get_meta("chain")
        if have is None:
            self.set_meta("chain", want)
        elif have != want:
            raise StoreError(
                f"the feeder database {self.path} belongs to chain/oracle {have}, not {want}: "
                "use another --db for this chain (or move the old file aside)")

    # ------------------------------------------------------------ writes of the pipeline

    def add_quarantine(self, entries: Iterable[QuarantineEntry], meter_facility: dict[str, int],
                       cur: sqlite3.Cursor, tally: QuarantineTally | None = None) -> int:
        """Records quarantine entries in the caller's transaction; returns how many are new.
        Every entry is a row as before (an entry already recorded, same meter, interval, reason,
        source and payload, is not recorded twice), except from a CSV file: per (file, reason) of
        the run (`tally`, kept by the caller across commits) the first `tally.sample` are rows, the
        others are counted in quarantine_counts against the run's input, never stored. Without a
        tally, this call is a run of its own."""
        tally = tally or QuarantineTally()
        now = int(time.time())
        n = 0
        touched = set()
        for q in entries:
            key = (quarantine_stream(q.source), q.reason)
            c = tally.counts.setdefault(key, [0, 0])
            c[0] += 1
            ts = int(q.interval_start.timestamp()) if q.interval_start is not None else None
            raw = q.raw if len(q.raw) <= QUARANTINE_RAW_MAX else (
                f"{q.raw[:QUARANTINE_RAW_MAX]}... ({len(q.raw) - QUARANTINE_RAW_MAX:,} more characters)")
            if c[1] < tally.sample or not key[0].startswith("csv:"):
                cur.execute(
                    "INSERT OR IGNORE INTO quarantine (facility_id, meter_id, interval_start, raw, reason, detail,"
                    " source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (meter_facility.get(q.meter_id), q.meter_id, ts, raw, q.reason, q.detail, q.source, now),
                )
                n += cur.rowcount
                c[1] += 1
            elif cur.execute(   # a row already (an older database kept every entry): not counted again
                    "SELECT 1 FROM quarantine WHERE meter_id = ? AND COALESCE(interval_start, -1) = ? AND reason = ?"
                    " AND source = ? AND raw = ?", (q.meter_id, -1 if ts is None else ts, q.reason, q.source, raw),
            ).fetchone():
                c[1] += 1
            else:
                touched.add(key)
        for key in touched:
            seen, rows = tally.counts[key]
            row = cur.execute("SELECT unsampled FROM quarantine_counts WHERE stream = ? AND reason = ? AND input = ?",
                              (*key, tally.input)).fetchone()
            before = row[0] if row else 0
            if seen - rows > before:
                cur.execute(
                    "INSERT INTO quarantine_counts (stream, reason, input, unsampled, first_at, last_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream, reason, input) DO UPDATE"
                    " SET unsampled = excluded.unsampled, last_at = excluded.last_at",
                    (*key, tally.input, seen - rows, now, now))
                n += seen - rows - before
        return n

    def has_hour(self, facility_id: int, period_start: int) -> bool:
        return bool(self._read("SELECT 1 FROM hours WHERE facility_id = ? AND period_start = ?",
                               (facility_id, period_start)))

    def stored_roots(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[bytes, int]]:
        """(facility, period_start) -> (readings root, methodology version) of the hours stored."""
        out = {}
        for fid, start in keys:
            rows = self._read("SELECT readings_root, methodology_version FROM hours WHERE facility_id = ?"
                              " AND period_start = ?", (fid, start))
            if rows:
                out[(fid, start)] = (bytes(rows[0][0]), rows[0][1])
        return out

    def revise_hour(self, fig, cur: sqlite3.Cursor) -> None:
        """A stored hour's new figure (its readings changed): replaces the figure and the readings
        under its root, and marks the hour due for a correction (`queue_corrections`), all in the
        caller's transaction."""
        now = int(time.time())
        cur.execute(
            "UPDATE hours SET actual_wh = ?, benchmark_wh = ?, reduction_wh = ?, energy_reduction_j = ?,"
            " co2_avoided_mg = ?, reading_count = ?, actual_count = ?, expected_count = ?, quality_flags = ?,"
            " readings_root = ?, factor_year = ?, computed_at = ? WHERE facility_id = ? AND period_start = ?",
            (fig.actual_wh, fig.benchmark_wh, fig.reduction_wh, fig.energy_reduction_j, fig.co2_avoided_mg,
             fig.reading_count, fig.actual_count, fig.expected_count, fig.quality_flags, bytes(fig.readings_root),
             fig.factor_year, now, fig.facility_id, fig.period_start))
        if cur.rowcount != 1:
            raise StoreError(f"internal: hour {fig.period_start} of facility {fig.facility_id} is not stored")
        cur.execute("DELETE FROM readings WHERE facility_id = ? AND period_start = ?", (fig.facility_id, fig.period_start))
        cur.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.facility_id, fig.period_start, i, r.meter_id, r.ts, r.wh, r.flags, int(bool(r.flags & FLAG_ESTIMATED)),
              r.source) for i, r in enumerate(fig.readings)],
        )
        cur.execute("INSERT OR IGNORE INTO corrections_due (facility_id, period_start, created_at) VALUES (?, ?, ?)",
                    (fig.facility_id, fig.period_start, now))

    def add_hour(self, fig, methodology_version: int, report, signatures, cur: sqlite3.Cursor) -> bool:
        """Stores a figure, its readings and its signed report (pending) unless the hour is
        already stored; returns whether it was new."""
        now = int(time.time())
        cur.execute(
            "INSERT OR IGNORE INTO hours VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fig.facility_id, fig.period_start, fig.actual_wh, fig.benchmark_wh, fig.reduction_wh,
             fig.energy_reduction_j, fig.co2_avoided_mg, fig.reading_count, fig.actual_count, fig.expected_count,
             fig.quality_flags, bytes(fig.readings_root), methodology_version, fig.factor_year, now),
        )
        if cur.rowcount == 0:
            return False
        cur.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.facility_id, fig.period_start, i, r.meter_id, r.ts, r.wh, r.flags, int(bool(r.flags & FLAG_ESTIMATED)),
              r.source) for i, r in enumerate(fig.readings)],
        )
        self.enqueue(report, signatures, cur)
        return True

    def enqueue(self, report, signatures, cur: sqlite3.Cursor) -> bool:
        """A signed report into the outbox as pending, unless (facility, hour, supersedes) is there."""
        now = int(time.time())
        cur.execute(
            "INSERT OR IGNORE INTO outbox (facility_id, period_start, supersedes, report, signatures, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            (report.facilityId, report.periodStart, report.supersedes, report_to_json(report),
             signatures_to_json(signatures), now, now),
        )
        return cur.rowcount == 1

    # ------------------------------------------------------------ outbox state machine

    @staticmethod
    def _entries_sql(where: str, limit: int | None = None, order: str = "period_start, facility_id, supersedes") -> str:
        sql = ("SELECT id, facility_id, period_start, supersedes, report, signatures, status, tx_hash, nonce, attempts,"
               f" last_error, block, report_index FROM outbox WHERE {where} ORDER BY {order}")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return sql

    @staticmethod
    def _entry_of(r: tuple) -> OutboxEntry:
        return OutboxEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), *r[6:])

    def _entries(self, where: str, args: tuple = (), limit: int | None = None) -> list[OutboxEntry]:
        return [self._entry_of(r) for r in self._read(self._entries_sql(where, limit), args)]

    def _entries_cur(self, cur: sqlite3.Cursor, where: str, args: tuple = ()) -> list[OutboxEntry]:
        return [self._entry_of(r) for r in cur.execute(self._entries_sql(where), args).fetchall()]

    def pending(self, limit: int | None = None) -> list[OutboxEntry]:
        """Pending reports, oldest hour first (so each facility's hours go forward)."""
        return self._entries("status = 'pending'", (), limit)

    def open_original_hours(self, *, sent_only: bool = False) -> dict[int, list[tuple[int, int, bytes]]]:
        """facility -> [(entry id, period_start, readings root)] of the pending and sent (or only
        sent) original reports, oldest first: what reconciliation checks against the chain,
        without loading whole entries (a year's backlog took a second to load as entries)."""
        states = "('sent')" if sent_only else "('pending', 'sent')"
        out: dict[int, list[tuple[int, int, bytes]]] = {}
        for fid, entry_id, start, root in self._read(
                "SELECT facility_id, id, period_start, json_extract(report, '$.readingsRoot') FROM outbox"
                f" WHERE status IN {states} AND supersedes = 0 ORDER BY period_start, facility_id"):
            out.setdefault(fid, []).append((entry_id, start, bytes.fromhex(root.removeprefix("0x"))))
        return out

    def open_originals(self, facility_id: int, *, sent_only: bool = False) -> list[OutboxEntry]:
        """Pending and sent (or only sent) original reports of a facility: the ones the chain may
        already hold. Reconciliation checks each against the chain's evidence."""
        states = "('sent')" if sent_only else "('pending', 'sent')"
        return self._entries(f"status IN {states} AND supersedes = 0 AND facility_id = ?", (facility_id,))

    def entries(self, status: str | None = None) -> list[OutboxEntry]:
        return self._entries("status = ?", (status,)) if status else self._entries("1")

    def entries_of_tx(self, tx_hash: str) -> list[OutboxEntry]:
        return self._entries("tx_hash = ? AND status = 'sent'", (tx_hash,))

    def entry(self, facility_id: int, period_start: int, supersedes: int = 0) -> OutboxEntry | None:
        got = self._entries("facility_id = ? AND period_start = ? AND supersedes = ?",
                            (facility_id, period_start, supersedes))
        return got[0] if got else None

    def resign(self, entry_id: int, report, signatures) -> None:
        """Replaces a PENDING entry's report and signatures (e.g. for a new signer set version)."""
        with self.transaction() as cur:
            cur.execute("UPDATE outbox SET report = ?, signatures = ?, updated_at = ? WHERE id = ? AND status = 'pending'",
                        (report_to_json(report), signatures_to_json(signatures), int(time.time()), entry_id))

    # ------------------------------------------------------------ corrections

    def head(self, facility_id: int, period_start: int) -> OutboxEntry | None:
        """The hour's newest outbox entry (the original, or its latest correction)."""
        got = self._entries_newest("facility_id = ? AND period_start = ?", (facility_id, period_start))
        return got[0] if got else None

    def in_force(self, facility_id: int, period_start: int) -> OutboxEntry | None:
        """The hour's newest confirmed entry: the report in force on chain, as far as we know."""
        got = self._entries_newest("facility_id = ? AND period_start = ? AND status = 'confirmed'",
                                   (facility_id, period_start))
        return got[0] if got else None

    def previous_entry(self, entry: OutboxEntry) -> OutboxEntry | None:
        """The entry a correction corrects: the hour's entry created just before it."""
        got = self._entries_newest("facility_id = ? AND period_start = ? AND id < ?",
                                   (entry.facility_id, entry.period_start, entry.id))
        return got[0] if got else None

    def _entries_newest(self, where: str, args: tuple) -> list[OutboxEntry]:
        return [self._entry_of(r) for r in self._read(self._entries_sql(where, 1, "id DESC"), args)]

    def corrections_due(self) -> list[tuple[int, int]]:
        """(facility, period_start) of the hours whose correction is not queued yet."""
        return [tuple(r) for r in self._read("SELECT facility_id, period_start FROM corrections_due"
                                             " ORDER BY period_start, facility_id")]

    def set_report_index(self, entry_id: int, block: int | None, report_index: int) -> None:
        """A confirmed entry's report index found later (ReportAccepted events)."""
        with self.transaction() as cur:
            cur.execute("UPDATE outbox SET block = COALESCE(block, ?), report_index = ?, updated_at = ? WHERE id = ?"
                        " AND status = 'confirmed' AND report_index IS NULL", (block, report_index, int(time.time()),
                                                                               entry_id))

    def repoint(self, entry_id: int, report, signatures) -> None:
        """A PENDING correction's target changed (a reorganisation moved the report it corrects):
        new supersedes, report and signatures."""
        with self.transaction() as cur:
            cur.execute("UPDATE outbox SET supersedes = ?, report = ?, signatures = ?, updated_at = ? WHERE id = ?"
                        " AND status = 'pending'", (report.supersedes, report_to_json(report),
                                                    signatures_to_json(signatures), int(time.time()), entry_id))

    def queue_corrections(self, sign, cur: sqlite3.Cursor | None = None,
                          hours: Iterable[tuple[int, int]] | None = None) -> list[QueuedCorrection]:
        """Turns due hours (all, or those of `hours`) into outbox reports. Per hour, against its
        head entry: the head already carries the stored figure -> nothing ('unchanged'); never sent
        (pending, no attempt) -> its report is replaced in place, same supersedes ('recomputed':
        an original never sent needs no correction); confirmed with a report index -> a new
        pending entry, supersedes = 1 + that index ('queued'); otherwise (sent, pending after a
        failed attempt, failed, confirmed without index) -> the hour stays due ('waiting'): the
        transmitter calls this again once the head is confirmed. The report keeps the head's
        methodology, factor year and signer set (the transmitter re-signs for a new set); `sign`
        maps a report to its signatures. One transaction (the caller's `cur` if given)."""
        if cur is None:
            with self.transaction() as c:
                return self.queue_corrections(sign, c, hours)
        from dataclasses import replace

        if hours is None:
            due = cur.execute("SELECT facility_id, period_start FROM corrections_due ORDER BY period_start, facility_id").fetchall()
        else:
            due = [h for h in hours if cur.execute("SELECT 1 FROM corrections_due WHERE facility_id = ? AND period_start = ?",
                                                   h).fetchone()]
        out = []
        now = int(time.time())
        for fid, start in due:
            row = cur.execute("SELECT actual_wh, benchmark_wh, reading_count, quality_flags, readings_root FROM hours"
                              " WHERE facility_id = ? AND period_start = ?", (fid, start)).fetchone()
            heads = self._entries_cur(cur, "facility_id = ? AND period_start = ?", (fid, start))
            head = max(heads, key=lambda e: e.id) if heads else None
            if row is None or head is None:
                cur.execute("DELETE FROM corrections_due WHERE facility_id = ? AND period_start = ?", (fid, start))
                continue
            new = dict(zip(SIGNED_FIGURES, (*row[:4], "0x" + bytes(row[4]).hex())))
            old = {k: head.report[k] for k in SIGNED_FIGURES}
            if old == new:
                kind, supersedes = "unchanged", head.supersedes
            elif head.status == "pending" and head.attempts == 0:
                kind, supersedes = "recomputed", head.supersedes
                report = replace(report_from_json(head.report), **{**new, "readingsRoot": bytes(row[4])})
                cur.execute("UPDATE outbox SET report = ?, signatures = ?, last_error = NULL, updated_at = ? WHERE id = ?",
                            (report_to_json(report), signatures_to_json(sign(report)), now, head.id))
            elif head.status == "confirmed" and head.report_index is not None:
                kind, supersedes = "queued", head.report_index + 1
                report = replace(report_from_json(head.report), **{**new, "readingsRoot": bytes(row[4])},
                                 supersedes=supersedes)
                if not self.enqueue(report, sign(report), cur):
                    raise StoreError(f"internal: a correction of facility {fid} hour {start} superseding "
                                     f"{supersedes} is already queued")
            else:
                out.append(QueuedCorrection("waiting", fid, start, head.supersedes, old, new, head.status))
                continue
            cur.execute("DELETE FROM corrections_due WHERE facility_id = ? AND period_start = ?", (fid, start))
            out.append(QueuedCorrection(kind, fid, start, supersedes, old, new, head.status))
        return out

    def record_sent(self, tx_hash: str, nonce: int, raw: bytes, gas_limit: int, entry_ids: Sequence[int]) -> None:
        """BEFORE sending: the transaction (hash, nonce, raw bytes) and its entries -> sent."""
        now = int(time.time())
        with self.transaction() as cur:
            placeholders = ",".join("?" * len(entry_ids))
            cur.execute(f"SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND id IN ({placeholders})", tuple(entry_ids))
            if cur.fetchone()[0] != len(entry_ids):
                raise StoreError("internal: only pending reports can be sent")
            row = cur.execute("SELECT status FROM transactions WHERE tx_hash = ?", (tx_hash,)).fetchone()
            if row is None:
                cur.execute("INSERT INTO transactions (tx_hash, nonce, raw, status, reports, gas_limit, created_at,"
                            " updated_at) VALUES (?, ?, ?, 'sent', ?, ?, ?, ?)",
                            (tx_hash, nonce, raw, len(entry_ids), gas_limit, now, now))
            elif row[0] in ("dropped", "reverted", "superseded"):
                # the very same signed bytes again (same reports, nonce and gas: signing is
                # deterministic), e.g. after a reorganisation removed it: one record, sent again
                cur.execute("UPDATE transactions SET status = 'sent', nonce = ?, raw = ?, reports = ?, gas_limit = ?,"
                            " attempts = attempts + 1, block = NULL, gas_used = NULL, updated_at = ? WHERE tx_hash = ?",
                            (nonce, raw, len(entry_ids), gas_limit, now, tx_hash))
            else:
                raise StoreError(f"internal: transaction {tx_hash} is already {row[0]}")
            cur.execute(f"UPDATE outbox SET status = 'sent', tx_hash = ?, nonce = ?, attempts = attempts + 1,"
                        f" updated_at = ? WHERE id IN ({placeholders})", (tx_hash, nonce, now, *entry_ids))

    def inflight(self) -> list[TxRecord]:
        return self._txs("status = 'sent'")

    def transaction_record(self, tx_hash: str) -> TxRecord | None:
        got = self._txs("tx_hash = ?", (tx_hash,))
        return got[0] if got else None

    def transactions(self) -> list[TxRecord]:
        return self._txs("1")

    def _txs(self, where: str, args: tuple = ()) -> list[TxRecord]:
        rows = self._read("SELECT tx_hash, nonce, raw, status, reports, gas_limit, attempts, block, gas_used, last_error"
                          f" FROM transactions WHERE {where} ORDER BY nonce, created_at", args)
        return [TxRecord(r[0], r[1], bytes(r[2]), *r[3:]) for r in rows]

    def note_resent(self, tx_hash: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE transactions SET attempts = attempts + 1, updated_at = ? WHERE tx_hash = ?",
                        (int(time.time()), tx_hash))

    def mark_mined(self, tx_hash: str, block: int, gas_used: int, indexes: dict[tuple[int, int], int]) -> int:
        """A successful receipt: the transaction is mined and its entries confirmed at `block`
        (report indexes from the ReportAccepted events, keyed (facility, period_start))."""
        now = int(time.time())
        with self.transaction() as cur:
            cur.execute("UPDATE transactions SET status = 'mined', block = ?, gas_used = ?, updated_at = ? WHERE tx_hash = ?",
                        (block, gas_used, now, tx_hash))
            rows = cur.execute("SELECT id, facility_id, period_start FROM outbox WHERE tx_hash = ? AND status = 'sent'",
                               (tx_hash,)).fetchall()
            for entry_id, fid, start in rows:
                cur.execute("UPDATE outbox SET status = 'confirmed', block = ?, report_index = ?, last_error = NULL,"
                            " updated_at = ? WHERE id = ?", (block, indexes.get((fid, start)), now, entry_id))
            return len(rows)

    def mark_tx_failed(self, tx_hash: str, status: str, error: str) -> int:
        """The transaction reverted, was dropped or is no longer needed: its still-sent entries
        go back to pending (the nonce is never reused by us: the next send re-reads it)."""
        if status not in ("reverted", "dropped", "superseded"):
            raise ValueError(status)
        now = int(time.time())
        with self.transaction() as cur:
            cur.execute("UPDATE transactions SET status = ?, last_error = ?, updated_at = ? WHERE tx_hash = ?",
                        (status, error, now, tx_hash))
            cur.execute("UPDATE outbox SET status = 'pending', last_error = ?, updated_at = ?"
                        " WHERE tx_hash = ? AND status = 'sent'", (error, now, tx_hash))
            return cur.rowcount

    # ------------------------------------------------------------ chain reorganisations

    def confirmed_since(self, block: int) -> list[OutboxEntry]:
        """Confirmed entries in a block after `block`, confirmed by a transaction of ours that is
        recorded mined: the ones whose receipt a reorganisation check reads again."""
        return self._entries("status = 'confirmed' AND block > ? AND tx_hash IN"
                             " (SELECT tx_hash FROM transactions WHERE status = 'mined')", (block,))

    def confirmed_tips(self) -> dict[int, int]:
        """facility -> the latest confirmed original hour (period_start)."""
        return dict(self._read("SELECT facility_id, MAX(period_start) FROM outbox WHERE status = 'confirmed'"
                               " AND supersedes = 0 GROUP BY facility_id"))

    def confirmed_originals(self, facility_id: int) -> list[OutboxEntry]:
        """Confirmed original reports of a facility: a reorganisation check compares their hours
        with the hours the chain reports."""
        return self._entries("status = 'confirmed' AND supersedes = 0 AND facility_id = ?", (facility_id,))

    def reorged(self, tx_hash: str, status: str, reason: str) -> list[OutboxEntry]:
        """A transaction of ours recorded mined is no longer on the canonical chain. status 'sent':
        it is in the pool again: it and its confirmed entries go back to sent (the in-flight
        machinery waits for it, sends it again or finds its nonce used). 'dropped' (gone) or
        'reverted' (mined again but failed): its confirmed entries go back to pending with tx hash
        and nonce cleared, to be sent in a new transaction. Returns the entries put back (as they
        were)."""
        if status not in ("sent", "dropped", "reverted"):
            raise ValueError(status)
        now = int(time.time())
        with self.transaction() as cur:
            row = cur.execute("SELECT status FROM transactions WHERE tx_hash = ?", (tx_hash,)).fetchone()
            if row is None or row[0] != "mined":
                return []
            entries = self._entries_cur(cur, "status = 'confirmed' AND tx_hash = ?", (tx_hash,))
            if status == "sent":
                cur.execute("UPDATE transactions SET status = 'sent', block = NULL, gas_used = NULL, last_error = ?,"
                            " updated_at = ? WHERE tx_hash = ?", (reason, now, tx_hash))
                cur.execute("UPDATE outbox SET status = 'sent', block = NULL, report_index = NULL, last_error = ?,"
                            " updated_at = ? WHERE status = 'confirmed' AND tx_hash = ?", (reason, now, tx_hash))
            else:
                cur.execute("UPDATE transactions SET status = ?, last_error = ?, updated_at = ? WHERE tx_hash = ?",
                            (status, reason, now, tx_hash))
                cur.execute("UPDATE outbox SET status = 'pending', tx_hash = NULL, nonce = NULL, block = NULL,"
                            " report_index = NULL, last_error = ?, updated_at = ?"
                            " WHERE status = 'confirmed' AND tx_hash = ?", (reason, now, tx_hash))
            return entries

    def unconfirm(self, entry_ids: Sequence[int], reason: str) -> int:
        """Confirmed entries the chain no longer holds (and no transaction of ours to look for)
        go back to pending, tx hash and nonce cleared."""
        if not entry_ids:
            return 0
        now = int(time.time())
        with self.transaction() as cur:
            cur.executemany("UPDATE outbox SET status = 'pending', tx_hash = NULL, nonce = NULL, block = NULL,"
                            " report_index = NULL, last_error = ?, updated_at = ? WHERE id = ? AND status = 'confirmed'",
                            [(reason, now, int(i)) for i in entry_ids])
            return cur.rowcount  # executemany: the sum over the statements

    def remined(self, tx_hash: str, block: int, gas_used: int, indexes: dict[tuple[int, int], int]) -> int:
        """A transaction of ours recorded mined is on the canonical chain in another block (after
        a reorganisation): its block, and its confirmed entries' block and report index, are
        updated. Returns the entries updated."""
        now = int(time.time())
        with self.transaction() as cur:
            cur.execute("UPDATE transactions SET block = ?, gas_used = ?, updated_at = ? WHERE tx_hash = ?"
                        " AND status = 'mined'", (block, gas_used, now, tx_hash))
            rows = cur.execute("SELECT id, facility_id, period_start, report_index FROM outbox"
                               " WHERE tx_hash = ? AND status = 'confirmed'", (tx_hash,)).fetchall()
            for entry_id, fid, start, index in rows:
                cur.execute("UPDATE outbox SET block = ?, report_index = ?, updated_at = ? WHERE id = ?",
                            (block, indexes.get((fid, start), index), now, entry_id))
            return len(rows)

    def confirm_on_chain(self, facility_id: int, found: dict[int, tuple[int | None, int | None]]) -> int:
        """Reconciliation: the chain holds these very reports (their hour is reported with their
        readings root), so the pending or sent originals of those hours are confirmed, not resent.
        `found` maps period_start -> (block, report index), (None, None) when not known yet."""
        now = int(time.time())
        with self.transaction() as cur:
            n = 0
            for start, (block, index) in found.items():
                n += cur.execute("UPDATE outbox SET status = 'confirmed', block = ?, report_index = ?, updated_at = ?,"
                                 " last_error = COALESCE(last_error, 'found on chain at reconciliation')"
                                 " WHERE facility_id = ? AND supersedes = 0 AND period_start = ?"
                                 " AND status IN ('pending', 'sent')", (block, index, now, facility_id, start)).rowcount
            return n

    def mark_failed(self, entry_id: int, reason: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE outbox SET status = 'failed', last_error = ?, updated_at = ? WHERE id = ?"
                        " AND status IN ('pending', 'sent')", (reason, int(time.time()), entry_id))

    def note_error(self, entry_ids: Sequence[int], error: str) -> None:
        with self.transaction() as cur:
            cur.executemany("UPDATE outbox SET last_error = ?, updated_at = ? WHERE id = ?",
                            [(error, int(time.time()), i) for i in entry_ids])

    def retry_failed(self, facility_id: int | None = None) -> int:
        """Operator action: failed entries back to pending."""
        with self.transaction() as cur:
            if facility_id is None:
                cur.execute("UPDATE outbox SET status = 'pending' WHERE status = 'failed'")
            else:
                cur.execute("UPDATE outbox SET status = 'pending' WHERE status = 'failed' AND facility_id = ?",
                            (facility_id,))
            return cur.rowcount

    # ------------------------------------------------------------ public read API

    def readings(self, facility_id: int, period_start: int) -> list[Reading]:
        """The exact readings under the hour's Merkle root, in leaf order: build the tree with
        `greenbond.merkle.MerkleTree.of_readings(readings)` and `.proof(i)` is readings[i]'s proof."""
        rows = self._read("SELECT meter_id, interval_start, wh, flags, source FROM readings"
                          " WHERE facility_id = ? AND period_start = ? ORDER BY leaf_index", (facility_id, period_start))
        return [Reading(facility_id, m, from_unix(ts), wh, flags, src) for m, ts, wh, flags, src in rows]

    def hour(self, facility_id: int, period_start: int) -> HourRow | None:
        rows = self._read("SELECT * FROM hours WHERE facility_id = ? AND period_start = ?", (facility_id, period_start))
        return HourRow(*rows[0][:11], bytes(rows[0][11]), *rows[0][12:]) if rows else None

    def hours(self, facility_id: int, start: int | None = None, end: int | None = None) -> list[HourRow]:
        """The facility's figures with start <= period_start < end, in time order."""
        rows = self._read("SELECT * FROM hours WHERE facility_id = ? AND period_start >= ? AND period_start < ?"
                          " ORDER BY period_start", (facility_id, start if start is not None else -2**62,
                                                     end if end is not None else 2**62))
        return [HourRow(*r[:11], bytes(r[11]), *r[12:]) for r in rows]

    def quarantine(self, reason: str | None = None, facility_id: int | None = None, acknowledged: bool | None = None,
                   limit: int = 1000) -> list[QuarantineRow]:
        where, args = ["1"], []
        if reason is not None:
            where.append("reason = ?")
            args.append(reason)
        if facility_id is not None:
            where.append("facility_id = ?")
            args.append(facility_id)
        if acknowledged is not None:
            where.append("acknowledged = ?")
            args.append(int(acknowledged))
        rows = self._read("SELECT id, facility_id, meter_id, interval_start, raw, reason, detail, source, created_at,"
                          f" acknowledged FROM quarantine WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
                          (*args, int(limit)))
        return [QuarantineRow(*r[:9], bool(r[9])) for r in rows]

    def acknowledge(self, ids: Sequence[int] | None = None, reason: str | None = None) -> int:
        """Operator: marks quarantine entries acknowledged (by id, or every one of a reason: the
        kept rows and the entries only counted)."""
        now = int(time.time())
        with self.transaction() as cur:
            if ids:
                cur.executemany("UPDATE quarantine SET acknowledged = 1, acknowledged_at = ? WHERE id = ? AND acknowledged = 0",
                                [(now, int(i)) for i in ids])
            elif reason:
                cur.execute("UPDATE quarantine SET acknowledged = 1, acknowledged_at = ? WHERE reason = ? AND acknowledged = 0",
                            (now, reason))
                n = cur.rowcount
                n += cur.execute("SELECT COALESCE(SUM(unsampled - acknowledged), 0) FROM quarantine_counts"
                                 " WHERE reason = ?", (reason,)).fetchone()[0]
                cur.execute("UPDATE quarantine_counts SET acknowledged = unsampled WHERE reason = ?", (reason,))
                return n
            else:
                raise StoreError("say which quarantine entries to acknowledge (ids or a reason)")
            return sum(1 for _ in ids)

    def status(self) -> dict:
        """Counts for `feeder status` and the page: last stored / confirmed hour per facility,
        outbox by status (corrections included), corrections by status and how many hours wait for
        one ('due'), quarantine by reason (total: every entry, the ones only counted included;
        open: not acknowledged; kept: the rows `quarantine()` lists), source cursors."""
        out: dict = {"facilities": {}, "outbox": {s: 0 for s in STATUSES}, "quarantine": {}, "cursors": {},
                     "transactions": {}}
        for fid, last, count in self._read("SELECT facility_id, MAX(period_start), COUNT(*) FROM hours GROUP BY facility_id"):
            out["facilities"][fid] = {"last_stored_hour": last, "hours": count, "last_confirmed_hour": None}
        for fid, last in self._read("SELECT facility_id, MAX(period_start) FROM outbox WHERE status = 'confirmed'"
                                    " GROUP BY facility_id"):
            out["facilities"].setdefault(fid, {"last_stored_hour": None, "hours": 0})["last_confirmed_hour"] = last
        for status, count in self._read("SELECT status, COUNT(*) FROM outbox GROUP BY status"):
            out["outbox"][status] = count
        for reason, total, open_ in self._read("SELECT reason, COUNT(*), SUM(acknowledged = 0) FROM quarantine GROUP BY reason"):
            out["quarantine"][reason] = {"total": total, "open": open_, "kept": total}
        try:
            counted = self._read("SELECT reason, SUM(unsampled), SUM(unsampled - acknowledged) FROM quarantine_counts"
                                 " GROUP BY reason")
        except StoreError:   # a schema 1 database no writer of this version has opened yet
            counted = []
        for reason, total, open_ in counted:
            c = out["quarantine"].setdefault(reason, {"total": 0, "open": 0, "kept": 0})
            c["total"] += total
            c["open"] += open_
        for status, count in self._read("SELECT status, COUNT(*) FROM transactions GROUP BY status"):
            out["transactions"][status] = count
        for key, value in self._read("SELECT key, value FROM meta WHERE key LIKE 'cursor:%'"):
            out["cursors"][key[len("cursor:"):]] = value
        out["corrections"] = {s: 0 for s in STATUSES}
        for status, count in self._read("SELECT status, COUNT(*) FROM outbox WHERE supersedes > 0 GROUP BY status"):
            out["corrections"][status] = count
        try:
            out["corrections"]["due"] = self._read("SELECT COUNT(*) FROM corrections_due")[0][0]
        except StoreError:   # a schema 1 database no writer of this version has opened yet
            out["corrections"]["due"] = 0
        out["chain"] = self.get_meta("chain")
        return out
