"""An incremental, reorg-safe index of contract logs in an embedded SQLite file.

`EventIndex(path)` keeps, per chain, contract and event (a *stream*), the raw logs read so far
and how far they reach (`tip`, with that block's hash); each log keeps its block's hash and
timestamp. `sync` reads only the blocks after the tip, through
the one range reader (`read_in_ranges`), and `logs` answers from the file: a register of 10,000
transfers then needs neither their logs nor their 10,000 block headers from the node again.

Reorganisations and resets. Before it reads on, `sync` checks the tip's hash against the node.
If it differs (a reorganisation, `evm_revert`, or another chain at the same address, such as a
dev node started afresh), it looks for the newest kept block that is still on the chain: the
kept blocks with logs are checkpoints and, since a block's hash commits to all its ancestors,
"still on the chain" is true for a prefix of them, found by binary search (a few headers). Every
log after that block is dropped and read again. If none is left, the stream starts again.

Consistency of what is kept. Each window of blocks is read as: the window's last header, its
logs, then (one batch) the headers of every block with a log and the last header again. The
window is kept only if every log's block hash equals its block's header and the last header did
not change; otherwise it is read again (a reorganisation during the read), at most
`READ_ATTEMPTS` times. Each window is committed on its own, with the tip: a sync stopped half-way
(killed, the node gone) leaves the index consistent, and the next sync goes on from there.

Only eth_getLogs and block headers are used: a node without archive state serves both.

Several processes may share a file. A reader that syncs and then reads holds `locked()` (an
exclusive lock on `<file>.lock`) across both, so that another process syncing the same stream
from another chain (two dev nodes with one chain id give contracts the same addresses) cannot
change it in between.
"""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import threading
from pathlib import Path
from typing import Callable

from greenbond.chain.batch import CallFailed, call_many, rpc
from greenbond.chain.connection import ChainError
from greenbond.chain.logs import DEFAULT_LOG_CHUNK, logs_fetcher, read_in_ranges

SCHEMA_VERSION = 1
READ_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS streams (
    id INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    address TEXT NOT NULL,          -- lower-case hex
    topic0 TEXT NOT NULL,           -- lower-case hex
    start_block INTEGER NOT NULL,
    tip INTEGER NOT NULL,           -- the last block read (start_block - 1: none yet)
    tip_hash TEXT,                  -- its hash when read
    UNIQUE (chain_id, address, topic0)
);
CREATE TABLE IF NOT EXISTS logs (
    stream INTEGER NOT NULL REFERENCES streams(id),
    block INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,     -- the block's
    log_index INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    topics TEXT NOT NULL,           -- the topics after topic0, concatenated hex without 0x
    data TEXT NOT NULL,
    PRIMARY KEY (stream, block, log_index)
) WITHOUT ROWID;
"""


class EventIndexError(ChainError):
    """The index file cannot be used (another schema, not writable, corrupt)."""


def _header(value) -> tuple[str, int] | None:
    """(hash, timestamp) of a raw eth_getBlockByNumber answer, or None when the block is not there."""
    if not value or isinstance(value, CallFailed):
        return None
    return value["hash"], int(value["timestamp"], 16)


class EventIndex:
    """The index file at `path` (created if missing). One connection, usable from one thread at a
    time (a lock guards it); several processes may share the file (SQLite WAL, one writer)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            with self.db:
                self.db.executescript(_SCHEMA)
                row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    raise EventIndexError(f"the event index {self.path} has schema {row[0]}, this version reads "
                                      f"{SCHEMA_VERSION}: remove the file, it is rebuilt from the chain")
        except sqlite3.Error as exc:
            raise EventIndexError(f"cannot use the event index {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def locked(self):
        """Holds an exclusive lock on `<file>.lock` (waits for it): no other process syncs any
        stream of this file meanwhile. Use it around a sync and the reads that rely on it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path, "a+")
        except OSError as exc:
            raise EventIndexError(f"cannot lock the event index {self.path}: {exc.strerror or exc}") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __enter__(self) -> "EventIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ streams

    def _stream(self, chain_id: int, address: str, topic0: str, start_block: int) -> tuple[int, int, str | None]:
        key = (chain_id, address.lower(), topic0.lower())
        row = self.db.execute("SELECT id, start_block, tip, tip_hash FROM streams WHERE chain_id=? AND address=? "
                              "AND topic0=?", key).fetchone()
        if row is not None and row[1] == start_block:
            return row[0], row[2], row[3]
        with self.db:
            if row is not None:   # asked from another block: start again from there
                self._drop_from(row[0], -1)
                self.db.execute("UPDATE streams SET start_block=?, tip=?, tip_hash=NULL WHERE id=?",
                                (start_block, start_block - 1, row[0]))
                return row[0], start_block - 1, None
            cur = self.db.execute("INSERT INTO streams (chain_id, address, topic0, start_block, tip, tip_hash) "
                                  "VALUES (?, ?, ?, ?, ?, NULL)", (*key, start_block, start_block - 1))
            return cur.lastrowid, start_block - 1, None

    def _drop_from(self, stream: int, block: int) -> int:
        """Drops the stream's logs after `block`; returns how many."""
        return self.db.execute("DELETE FROM logs WHERE stream=? AND block>?", (stream, block)).rowcount

    def tip(self, chain_id: int, address: str, topic0: str) -> int | None:
        """The last block the stream has read, or None if it was never synced."""
        with self._lock:
            row = self.db.execute("SELECT tip, start_block FROM streams WHERE chain_id=? AND address=? AND topic0=?",
                                  (chain_id, address.lower(), topic0.lower())).fetchone()
        return None if row is None or row[0] < row[1] else row[0]

    # ------------------------------------------------------------------ sync

    def sync(self, w3, chain_id: int, address: str, topic0: str, start_block: int, to_block: int,
             chunk: int = DEFAULT_LOG_CHUNK, progress: Callable[[int, int], None] | None = None) -> dict:
        """Brings the stream (`address`'s logs with `topic0`, from `start_block`) up to `to_block`.
        Returns what it did: {"rolled_back": logs dropped, "read_from": first block read or None,
        "new_logs": logs added}. `progress(done_to, to_block)` is called after each window."""
        with self._lock:
            stream, tip, tip_hash = self._stream(chain_id, address, topic0, start_block)
            out = {"rolled_back": 0, "read_from": None, "new_logs": 0}
            if tip_hash is not None:
                head = _header(call_many(w3, [rpc("eth_getBlockByNumber", hex(tip), False)])[0])
                if head is None or head[0] != tip_hash:
                    tip, tip_hash, out["rolled_back"] = self._roll_back(w3, stream, start_block)
            if to_block <= tip:
                return out
            out["read_from"] = tip + 1
            lo = tip + 1
            while lo <= to_block:
                hi = min(to_block, lo + max(1, chunk) * 20 - 1)   # a commit every 20 log queries
                out["new_logs"] += self._read_window(w3, stream, address, topic0, lo, hi, chunk)
                if progress is not None:
                    progress(hi, to_block)
                lo = hi + 1
            return out

    def _read_window(self, w3, stream: int, address: str, topic0: str, lo: int, hi: int,
                     chunk: int) -> int:
        fetch = logs_fetcher(w3.provider, {"address": address, "topics": [topic0]})
        for _attempt in range(READ_ATTEMPTS):
            last = _header(call_many(w3, [rpc("eth_getBlockByNumber", hex(hi), False)])[0])
            if last is None:
                raise ChainError(f"the node has no block {hi}: the chain is shorter than asked")
            logs = [log for part in read_in_ranges(fetch, lo, hi, chunk) for log in part]
            numbers = sorted({int(log["blockNumber"], 16) for log in logs} - {hi})
            answers = call_many(w3, [rpc("eth_getBlockByNumber", hex(n), False) for n in numbers + [hi]])
            headers = dict(zip(numbers + [hi], (_header(a) for a in answers)))
            if headers[hi] != last or any(headers[int(log["blockNumber"], 16)] is None
                                          or headers[int(log["blockNumber"], 16)][0] != log["blockHash"]
                                          for log in logs):
                continue   # the chain changed under the read: read the window again
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(stream, int(log["blockNumber"], 16), headers[int(log["blockNumber"], 16)][1],
                      int(log["logIndex"], 16), int(log["transactionIndex"], 16), log["transactionHash"],
                      log["blockHash"],
                      "".join(t[2:] for t in log["topics"][1:]), log["data"]) for log in logs])
                self.db.execute("UPDATE streams SET tip=?, tip_hash=? WHERE id=?", (hi, last[0], stream))
            return len(logs)
        raise ChainError(f"the chain kept changing while blocks {lo}-{hi} were read ({READ_ATTEMPTS} attempts)")

    def _roll_back(self, w3, stream: int, start_block: int) -> tuple[int, str | None, int]:
        """After the tip's hash changed: the newest kept block still on the chain (binary search
        over the blocks with logs); drops what follows it. Returns (new tip, its hash, logs dropped)."""
        points = self.db.execute("SELECT DISTINCT block, block_hash FROM logs WHERE stream=? ORDER BY block",
                                 (stream,)).fetchall()
        lo, hi = 0, len(points) - 1
        keep = -1   # index of the newest checkpoint still on the chain
        while lo <= hi:
            mid = (lo + hi) // 2
            head = _header(call_many(w3, [rpc("eth_getBlockByNumber", hex(points[mid][0]), False)])[0])
            if head is not None and head[0] == points[mid][1]:
                keep, lo = mid, mid + 1
            else:
                hi = mid - 1
        tip, tip_hash = (points[keep][0], points[keep][1]) if keep >= 0 else (start_block - 1, None)
        with self.db:
            dropped = self._drop_from(stream, tip)
            self.db.execute("UPDATE streams SET tip=?, tip_hash=? WHERE id=?", (tip, tip_hash, stream))
        return tip, tip_hash, dropped

    # ------------------------------------------------------------------ reads

    def logs(self, chain_id: int, address: str, topic0: str, from_block: int, to_block: int) -> list[dict]:
        """The kept logs of the stream in blocks `from_block`..`to_block`, in chain order, as raw
        JSON-RPC logs (hex quantities, what `EventDecoder.decode` takes) with an added int
        `timestamp` (their block's). Raises ChainError if the stream has not been synced that far."""
        with self._lock:
            row = self.db.execute("SELECT id, tip, start_block FROM streams WHERE chain_id=? AND address=? "
                                  "AND topic0=?", (chain_id, address.lower(), topic0.lower())).fetchone()
            if row is None or row[1] < to_block or row[2] > from_block:
                raise ChainError(f"the event index has not read {address}'s logs for blocks {from_block}-{to_block}")
            rows = self.db.execute(
                "SELECT block, log_index, tx_index, tx_hash, block_hash, topics, data, timestamp FROM logs "
                "WHERE stream=? AND block BETWEEN ? AND ? ORDER BY block, log_index",
                (row[0], from_block, to_block)).fetchall()
        topic0 = topic0.lower()
        return [{
            "address": address, "blockNumber": hex(b), "logIndex": hex(i), "transactionIndex": hex(ti),
            "transactionHash": th, "blockHash": bh,
            "topics": [topic0] + ["0x" + topics[k:k + 64] for k in range(0, len(topics), 64)],
            "data": data, "timestamp": ts,
        } for b, i, ti, th, bh, topics, data, ts in rows]
