"""Sends the outbox to the chain: `submitReports` batches as legacy (type 0) transactions signed
locally with the transmitter key, exactly once per (facility, hour, supersedes).

One transaction in flight at a time. Each `step()`:
 0. reorganisation check (`check_reorg`): cheap on every step, thorough when needed. Cheap: the
    newest block known to hold a report we confirmed (from its receipt) must still have the
    same hash, and each facility's latest confirmed original hour must still be reported on
    chain (`isReported`, one call per facility). The first step of a process, or either cheap
    check failing, runs the thorough check: the receipts of our transactions confirmed within
    the last `finality_blocks` blocks (default 64) are read again, and every confirmed original
    hour the chain does not report (`reportedHoursWord`, 256 hours a call) is taken as rolled
    back. A transaction re-mined
    in another block: its block and report indexes are updated. Gone: if it is in the pool
    again, it and its reports go back to sent (step 2 takes over); otherwise its reports go back
    to pending, tx hash cleared, and step 3 sends them again (the signed reports stay valid;
    the nonce is re-read: with the same nonce and batch it is the very same transaction). Logged as `reorg_detected` with the hours put back, and
    counted in the metrics. Exactly once holds: the oracle rejects an hour it already holds
    (reconciliation confirms it instead), and a vanished transaction and its replacement
    share a nonce. Deeper than the window, only original hours are checked (by the bitmap).
 1. reconcile: an original report is marked confirmed only on evidence that this very report is
    on chain: its hour is reported (`reportedHoursWord`) AND the hour's first readings root
    (`firstRoot`) is the report's root (block and report index from the ReportAccepted events
    when found); it is then never sent again. An hour reported with another root is a conflict:
    the entry is marked failed with both roots (only a correction can change that hour). The sent
    reports are reconciled on every step; every open one on the first step of a process and
    whenever the oracle says an hour is already reported (another transmitter, or a crash
    between sending and recording);
 2. the transaction in flight, if any: a receipt confirms its reports (or, reverted, puts them
    back to pending); still in the pool: wait; vanished from the pool with its nonce still unused
    on chain: the same signed bytes are sent again (same hash); its nonce used by another
    transaction: dropped, its reports back to pending;
 3. otherwise the next batch. First, hours restated after their report (corrections.py) whose
    report in force is now confirmed get their correction queued (`queue_corrections`; the
    report index is looked up in ReportAccepted events if reconciliation did not know it). A
    pending correction goes only once the entry it corrects is confirmed, re-signed with
    supersedes = 1 + that entry's report index if a reorganisation moved it (the oracle rejects
    a correction of anything but the hour's report in force: a stale one never lands on the
    wrong report). The batch: up to `batch_size` pending reports of closed hours (chain time),
    oldest hour first, fewer if the gas estimate exceeds `max_gas`; a batch the node would
    revert is bisected to find the report at fault, which is marked failed with the decoded
    reason (an hour not yet closed, or a stale signer set, is not a fault: it waits or is
    re-signed). The nonce is re-read from the chain (`eth_getTransactionCount(addr, "pending")`)
    for every new transaction: a failed send never advances it. The signed transaction (hash,
    nonce, raw bytes) is recorded BEFORE it is sent.
A node that does not answer raises `RpcUnavailable`; `drain()` retries with capped exponential
backoff and carries on where it was when the node returns.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from eth_account import Account
from eth_utils import keccak
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ProviderConnectionError,
    TransactionNotFound,
    Web3RPCError,
)

from greenbond.chain.batch import CallFailed, call as view_call, call_many, rpc as raw_rpc
from greenbond.chain.connection import ChainError
from greenbond.chain.logs import EventDecoder, iter_events
from greenbond.chain.reverts import decode_revert, error_selectors
from greenbond.feeder.corrections import announce
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import FeederStore, OutboxEntry, report_from_json, signatures_from_json
from greenbond.oracle.signing import REPORT_FIELDS

log = logging.getLogger("greenbond.feeder.transmit")

HOUR = 3600
# Reports a transaction, at most (fewer when the block's gas limit or the size bound asks): larger
# batches spread a transaction's fixed costs (measured on Anvil, 90 days of both facilities:
# 24 -> 635 reports/s, 96 -> 1,198, 200 -> 1,859, 300 -> 2,179). 200 reports have a 17.3M gas
# limit and 109 KB of calldata, under geth's (and GoQuorum's) 128 KB transaction size limit.
DEFAULT_BATCH_SIZE = 200
MAX_CALLDATA_BYTES = 120_000
DEFAULT_RECEIPT_TIMEOUT = 60.0
DEFAULT_FINALITY_BLOCKS = 64     # blocks within which a confirmed report's receipt is read again after a reorg
TRANSIENT_ERRORS = ("OraclePeriodNotClosed", "OracleWrongSignerSet")


class RpcUnavailable(RuntimeError):
    """The node did not answer (connection refused, reset, timed out)."""


class TransmitError(RuntimeError):
    """Sending cannot go on without a person (e.g. the transmitter lacks the role)."""


SUBMIT_REPORTS_TYPES = (
    "(" + ",".join(t for _, t in REPORT_FIELDS) + ")[]",   # HourlyReport[], its one definition
    "(bytes32,bytes32)[][]",                                # Signature (r, vs)[][]
)
SUBMIT_REPORTS_SELECTOR = keccak(
    ("submitReports(" + ",".join(SUBMIT_REPORTS_TYPES) + ")").encode()
)[:4]
# A batch's gas limit: GAS_FIXED + reports x (GAS_PER_REPORT + GAS_PER_SIGNATURE x signatures).
# Measured with `make bench` (bench_impact.json): 85,500 gas a report with 3 signatures in a
# batch, about 79,000 with 2; a one-report transaction 146,000. The bound is 10 % above.
GAS_FIXED = 100_000
GAS_PER_REPORT = 70_000
GAS_PER_SIGNATURE = 8_000
GAS_MARGIN_PERCENT = 110   # a per-report figure learned from an estimate above the bound, plus 10 %


def encode_submit_reports(reports: Sequence[tuple], signatures: Sequence[Sequence[tuple]]) -> bytes:
    """Calldata of ImpactOracle.submitReports for report tuples and (r, vs) signature pairs."""
    from faster_eth_abi import encode

    return SUBMIT_REPORTS_SELECTOR + encode(list(SUBMIT_REPORTS_TYPES), [list(reports), [list(s) for s in signatures]])


def rpc_guard(fn: Callable, *args, **kwargs):
    """Calls fn; a transport failure becomes RpcUnavailable."""
    try:
        return fn(*args, **kwargs)
    except (OSError, ProviderConnectionError, TimeoutError) as exc:
        raise RpcUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from None


@dataclass
class StepResult:
    action: str               # 'idle', 'waiting', 'sent', 'confirmed', 'resent', 'failed', 'nothing_closed'
    detail: str = ""


class Transmitter:
    def __init__(self, w3, oracle, store: FeederStore, account, signer: ReportSigner | None, *, chain_id: int,
                 batch_size: int = DEFAULT_BATCH_SIZE, gas_price: int = 0, max_gas: int | None = None,
                 receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT, from_block: int = 0, metrics=None,
                 finality_blocks: int = DEFAULT_FINALITY_BLOCKS):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.w3, self.oracle, self.store, self.account = w3, oracle, store, account
        self.signer = signer
        self.chain_id = chain_id
        self.batch_size = batch_size
        self.gas_price = gas_price
        self.max_gas = max_gas
        self.receipt_timeout = receipt_timeout
        self.from_block = from_block
        self.metrics = metrics
        self.finality_blocks = finality_blocks
        self.selectors = error_selectors(oracle.abi)
        self._anchor: tuple[int, bytes] | None = None   # (number, hash): newest block holding a report we confirmed
        self._reorg_checked = False                        # the thorough check ran once in this process
        self._reconciled_all = False                       # every open report was reconciled once in this process
        self._reporting_start: dict[int, int] = {}
        self._learned_per_report = 0                       # from estimates above the bound: see _gas_limit
        self._step_block = None                            # the latest block, read once per step
        self._last_calldata: tuple | None = None           # (batch key, calldata) of the last batch encoded
        self._last_mined_ok = False                         # the last transaction settled was mined successfully

    # ------------------------------------------------------------ chain reads

    def _latest(self):
        """The latest block. Within a step it is read once (its number, clock and gas limit):
        nothing of ours is mined between the reads of one step."""
        if self._step_block is not None:
            return self._step_block
        return rpc_guard(self.w3.eth.get_block, "latest")

    def chain_now(self) -> int:
        return int(self._latest()["timestamp"])

    def _views(self, items: Sequence[tuple]) -> list:
        """Views of the oracle (`(name, *args)`) and raw JSON-RPC reads (`raw_rpc(...)`) in one
        JSON-RPC batch, each encoded once per function (greenbond.chain.batch): web3's contract
        call took about 13 ms a view here, most of it formatting, several times a step."""
        if not items:
            return []
        calls = [it if it[0] == "rpc" else view_call(self.oracle, *it) for it in items]
        results = rpc_guard(call_many, self.w3, calls)
        for it, result in zip(items, results):
            if isinstance(result, CallFailed):
                raise ChainError(f"{it[0]} failed on the node: {result.message}")
        return results

    def _view(self, name: str, *args):
        return self._views([(name, *args)])[0]

    # ------------------------------------------------------------ reconcile

    def reconcile(self, *, everything: bool | None = None) -> int:
        """Marks confirmed the open original reports that are on chain, on evidence (see module doc,
        step 1); returns how many. `everything`: all open reports (default: on the first call of
        the process), else only the sent ones."""
        if everything is None:
            everything = not self._reconciled_all
        confirmed = 0
        for fid, hours in self.store.open_original_hours(sent_only=not everything).items():
            reported = self.reported_hours(fid, [start for _, start, _ in hours])
            on_chain = [(entry_id, start, mine) for entry_id, start, mine in hours if start in reported]
            roots = self._views([("firstRoot", fid, start) for _, start, _ in on_chain])
            found: dict[int, tuple[int | None, int | None]] = {}
            for (entry_id, start, mine), root in zip(on_chain, roots):
                root = bytes(root)
                if root == mine:
                    found[start] = (None, None)
                    continue
                why = (f"hour already on chain with another readings root (chain 0x{root.hex()}, ours 0x{mine.hex()}):"
                       " only a correction can change it")
                self.store.mark_failed(entry_id, why)
                log.error("report conflicts with the hour on chain; marked failed", extra={
                    "event": "report_conflict", "facility_id": fid, "period_start": start, "reason": why})
                if self.metrics:
                    self.metrics.failed()
            if not found:
                continue
            starts = sorted(found)
            for i in range(0, len(starts), 256):
                found.update(self._accepted_events(fid, starts[i:i + 256]))
            n = self.store.confirm_on_chain(fid, found)
            if n:
                confirmed += n
                log.info("hours found on chain with our readings root marked confirmed", extra={
                    "event": "reconciled", "facility_id": fid, "hours": n})
        if everything:
            self._reconciled_all = True
        return confirmed

    def reported_hours(self, fid: int, starts: Sequence[int]) -> set[int]:
        """Which of the hours `starts` of facility `fid` the oracle reports: one
        reportedHoursWord call per 256 hours touched, all in one JSON-RPC batch."""
        if fid not in self._reporting_start:
            self._reporting_start[fid] = int(self._view("facility", fid)[3])
        origin = self._reporting_start[fid]
        wanted = sorted({(start - origin) // HOUR // 256 for start in starts if start >= origin})
        words = dict(zip(wanted, map(int, self._views([("reportedHoursWord", fid, w) for w in wanted]))))
        out = set()
        for start in starts:
            if start < origin:
                continue
            k = (start - origin) // HOUR
            if words[k // 256] >> (k % 256) & 1:
                out.add(start)
        return out

    def _accepted_events(self, fid: int, starts: Sequence[int]) -> dict[int, tuple[int, int]]:
        if len(starts) > 256:
            return {}
        event = self.oracle.events.ReportAccepted
        try:
            latest = rpc_guard(lambda: self.w3.eth.block_number)
            # the one log reader: block ranges, halved when the node limits them
            logs = rpc_guard(lambda: list(iter_events(
                event, self.from_block, latest, argument_filters={"facilityId": fid, "periodStart": list(starts)})))
        except (Web3RPCError, ValueError, ChainError):
            return {}
        return {int(lg["args"]["periodStart"]): (int(lg["blockNumber"]), int(lg["args"]["index"]))
                for lg in logs if int(lg["args"]["supersedes"]) == 0}

    # ------------------------------------------------------------ chain reorganisations

    def _note_block(self, number: int, block_hash) -> None:
        if self._anchor is None or number >= self._anchor[0]:
            self._anchor = (number, bytes(block_hash))

    def _cheap_reorg_check(self) -> bool:
        """True when a reorganisation shows: the block of our anchor has another hash (or is gone)
        or a facility's latest confirmed original hour is no longer reported. One JSON-RPC batch."""
        tips = sorted(self.store.confirmed_tips().items())
        items: list[tuple] = [("isReported", fid, last) for fid, last in tips]
        if self._anchor is not None:
            items.append(raw_rpc("eth_getBlockByNumber", hex(self._anchor[0]), False))
        if not items:
            return False
        results = self._views(items)
        if not all(results[:len(tips)]):
            return True
        if self._anchor is None:
            return False
        block = results[-1]
        return not block or bytes.fromhex(block["hash"][2:]) != self._anchor[1]

    def _rolled_back_originals(self) -> list[OutboxEntry]:
        """Confirmed original hours the chain does not report (all of them, by the bitmap)."""
        out = []
        for fid, _last in self.store.confirmed_tips().items():
            entries = self.store.confirmed_originals(fid)
            reported = self.reported_hours(fid, [e.period_start for e in entries])
            out += [e for e in entries if e.period_start not in reported]
        return out

    def check_reorg(self) -> int:
        """Puts back what a chain reorganisation took off the chain (see module doc); returns the
        number of reports put back to sent or pending."""
        if self._reorg_checked and not self._cheap_reorg_check():
            return 0
        self._reorg_checked = False     # until this check completes (the node may fail half-way)
        rolled_back = self._rolled_back_originals()
        latest = int(self._latest()["number"])
        suspects = {e.id: e for e in self.store.confirmed_since(latest - self.finality_blocks)}
        gone = {e.id for e in rolled_back}
        suspects.update({e.id: e for e in rolled_back})
        by_tx: dict[str | None, list[OutboxEntry]] = {}
        for e in suspects.values():
            by_tx.setdefault(e.tx_hash, []).append(e)
        self._anchor = None
        back: list[tuple[OutboxEntry, str]] = []
        moved = 0
        for tx_hash, entries in by_tx.items():
            record = self.store.transaction_record(tx_hash) if tx_hash else None
            if record is None or record.status != "mined":
                # confirmed by reconciliation, not by a transaction of ours: only the bitmap tells
                lost = [e for e in entries if e.id in gone]
                self.store.unconfirm([e.id for e in lost], "no longer on chain after a chain reorganisation")
                back += [(e, "pending") for e in lost]
                continue
            receipt = self._receipt(tx_hash)
            if receipt is not None and receipt["status"] == 1:
                block = int(receipt["blockNumber"])
                self._note_block(block, receipt["blockHash"])
                indexes = self._report_indexes(receipt)
                if block != record.block or any(e.block != block or indexes.get((e.facility_id, e.period_start),
                                                                                e.report_index) != e.report_index
                                                for e in entries):
                    moved += self.store.remined(tx_hash, block, int(receipt["gasUsed"]), indexes)
                    log.warning("transaction moved to another block by a chain reorganisation", extra={
                        "event": "reorg_moved", "tx": tx_hash, "from_block": record.block, "block": block})
                continue
            if receipt is not None:
                status, why = "reverted", (f"after a chain reorganisation, transaction {tx_hash} was mined again "
                                           f"in block {receipt['blockNumber']} and reverted")
            elif self._in_pool(tx_hash):
                status, why = "sent", f"a chain reorganisation put transaction {tx_hash} back in the pool"
            else:
                status, why = "dropped", f"a chain reorganisation removed transaction {tx_hash} from the chain"
            back += [(e, "sent" if status == "sent" else "pending") for e in self.store.reorged(tx_hash, status, why)]
        self._reorg_checked = True
        if back or moved:
            hours = sorted((e.facility_id, e.period_start, e.supersedes) for e, _ in back)
            log.warning("chain reorganisation: confirmed reports are no longer on chain; they go back to be sent",
                        extra={"event": "reorg_detected", "reports": len(back), "moved": moved, "latest_block": latest,
                               "to_pending": sum(1 for _, to in back if to == "pending"),
                               "to_sent": sum(1 for _, to in back if to == "sent"),
                               "txs": sorted({e.tx_hash for e, _ in back if e.tx_hash}),
                               "hours": [list(h) for h in hours[:500]]})
            if self.metrics:
                self.metrics.reorg(len(back))
        return len(back)

    # ------------------------------------------------------------ the transaction in flight

    @functools.cached_property
    def _accepted(self) -> EventDecoder:
        return EventDecoder(next(a for a in self.oracle.abi if a.get("type") == "event" and a["name"] == "ReportAccepted"))

    def _report_indexes(self, receipt) -> dict[tuple[int, int], int]:
        """(facility, period_start) -> report index, from the receipt's ReportAccepted logs, decoded
        by the chain layer's EventDecoder (web3's took about 2 ms a log)."""
        address = self.oracle.address.lower()
        out = {}
        for lg in receipt["logs"]:
            if lg["topics"] and lg["topics"][0] == self._accepted.topic0 and lg["address"].lower() == address:
                args = self._accepted.decode(lg)["args"]
                out[(args["facilityId"], args["periodStart"])] = args["index"]
        return out

    def _receipt(self, tx_hash: str) -> dict | None:
        """The receipt's status, block, gas and raw logs, or None when there is none
        yet. Read raw: web3's receipt formatters took about 15 ms for a 96-log receipt, and a
        transaction's receipt is polled until it is mined."""
        answer = rpc_guard(self.w3.provider.make_request, "eth_getTransactionReceipt", [tx_hash])
        if answer.get("error"):
            raise ChainError(f"eth_getTransactionReceipt failed: {answer['error']}")
        raw = answer.get("result")
        if not raw or raw.get("blockNumber") is None:
            return None
        return {"status": int(raw["status"], 16), "blockNumber": int(raw["blockNumber"], 16),
                "blockHash": bytes.fromhex(raw["blockHash"][2:]), "gasUsed": int(raw["gasUsed"], 16),
                "logs": raw.get("logs") or []}

    def _in_pool(self, tx_hash: str) -> bool:
        try:
            return rpc_guard(self.w3.eth.get_transaction, tx_hash) is not None
        except TransactionNotFound:
            return False

    def _settle(self, tx_hash: str, receipt) -> StepResult:
        self._last_mined_ok = receipt["status"] == 1
        if receipt["status"] == 1:
            indexes = self._report_indexes(receipt)
            n = self.store.mark_mined(tx_hash, int(receipt["blockNumber"]), int(receipt["gasUsed"]), indexes)
            self._note_block(int(receipt["blockNumber"]), receipt["blockHash"])
            log.info("transaction mined, reports confirmed", extra={
                "event": "confirmed", "tx": tx_hash, "block": int(receipt["blockNumber"]), "reports": n,
                "gas_used": int(receipt["gasUsed"])})
            if self.metrics:
                self.metrics.confirmed(n, int(receipt["gasUsed"]))
            return StepResult("confirmed", tx_hash)
        n = self.store.mark_tx_failed(tx_hash, "reverted", f"transaction {tx_hash} reverted in block {receipt['blockNumber']}")
        log.warning("transaction reverted; its reports go back to pending", extra={
            "event": "reverted", "tx": tx_hash, "block": int(receipt["blockNumber"]), "reports": n})
        return StepResult("failed", tx_hash)

    def _check_inflight(self, record) -> StepResult:
        receipt = self._receipt(record.tx_hash)
        if receipt is not None:
            return self._settle(record.tx_hash, receipt)
        if not self.store.entries_of_tx(record.tx_hash):
            # reconciliation confirmed all its hours (another transaction carried them)
            self.store.mark_tx_failed(record.tx_hash, "superseded", "its hours are on chain already")
            log.info("transaction no longer needed", extra={"event": "superseded", "tx": record.tx_hash})
            return StepResult("idle")
        if self._in_pool(record.tx_hash):
            return self._wait_receipt(record.tx_hash)
        mined_nonce = int(rpc_guard(self.w3.eth.get_transaction_count, self.account.address, "latest"))
        if mined_nonce > record.nonce:
            receipt = self._receipt(record.tx_hash)  # mined between the two reads?
            if receipt is not None:
                return self._settle(record.tx_hash, receipt)
            n = self.store.mark_tx_failed(record.tx_hash, "dropped",
                                          f"nonce {record.nonce} was used by another transaction")
            log.warning("transaction replaced: its nonce was used by another one; reports back to pending",
                        extra={"event": "dropped", "tx": record.tx_hash, "nonce": record.nonce, "reports": n})
            return StepResult("failed", record.tx_hash)
        # vanished from the pool, nonce unused: send the very same bytes again
        self._send_raw(record.raw, record.tx_hash)
        self.store.note_resent(record.tx_hash)
        log.warning("transaction vanished from the pool; sent again", extra={
            "event": "resent", "tx": record.tx_hash, "nonce": record.nonce, "attempts": record.attempts + 1})
        if self.metrics:
            self.metrics.resent()
        return self._wait_receipt(record.tx_hash, resent=True)

    def _wait_receipt(self, tx_hash: str, resent: bool = False) -> StepResult:
        """Polls for the receipt until `receipt_timeout`; still nothing: 'waiting' (the next step
        looks again: in the pool, vanished, or replaced)."""
        started = time.monotonic()
        deadline = started + self.receipt_timeout
        interval = 0.01
        while True:
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                return self._settle(tx_hash, receipt)
            if time.monotonic() >= deadline:
                return StepResult("resent" if resent else "waiting", tx_hash)
            time.sleep(interval)  # polling the node for a condition (the receipt), bounded by the deadline
            # a dev chain mines a 300-report batch in about 0.1 s: every 10 ms for a second, then
            # backing off to 0.2 s (a chain with block times)
            if time.monotonic() - started > 1.0:
                interval = min(interval * 2, 0.2)

    # ------------------------------------------------------------ sending

    def _send_raw(self, raw: bytes, tx_hash: str) -> None:
        try:
            rpc_guard(self.w3.eth.send_raw_transaction, raw)
        except Web3RPCError as exc:
            text = str(exc).lower()
            if "already known" in text or "already imported" in text or "known transaction" in text:
                return
            if "nonce too low" in text:
                return  # the next step finds it mined or replaced
            raise

    def _calldata(self, entries: Sequence[OutboxEntry]) -> bytes:
        """`submitReports(reports, signatures)` calldata, encoded directly: web3's contract
        encoder walks every nested value through its formatters and took about 0.1 s for a
        96-report batch, several times per transaction. A test checks both encodings agree. The
        last batch's calldata is kept: the check before sending and the send use the same."""
        key = tuple((e.id, tuple(e.report.values()), tuple(map(tuple, e.signatures))) for e in entries)
        if self._last_calldata is not None and self._last_calldata[0] == key:
            return self._last_calldata[1]
        reports = [report_from_json(e.report).as_tuple() for e in entries]
        sigs = [signatures_from_json(e.signatures) for e in entries]
        data = encode_submit_reports(reports, sigs)
        self._last_calldata = (key, data)
        return data

    def _estimate(self, entries: Sequence[OutboxEntry]) -> int:
        tx = {"from": self.account.address, "to": self.oracle.address, "data": self._calldata(entries),
              "gasPrice": self.gas_price}
        gas = int(rpc_guard(self.w3.eth.estimate_gas, tx))
        if gas > self._limit_of(entries):
            per_report = -(-(gas - GAS_FIXED) // len(entries)) * GAS_MARGIN_PERCENT // 100
            self._learned_per_report = max(self._learned_per_report, per_report)
        return gas

    def _gas_per_report(self, entries: Sequence[OutboxEntry]) -> int:
        signatures = max(len(e.signatures) for e in entries)
        return max(GAS_PER_REPORT + GAS_PER_SIGNATURE * signatures, self._learned_per_report)

    def _limit_of(self, entries: Sequence[OutboxEntry]) -> int:
        return GAS_FIXED + len(entries) * self._gas_per_report(entries)

    def _may_skip_check(self, entries: Sequence[OutboxEntry]) -> bool:
        """Whether a batch of original reports may go without the eth_call check: only at gas
        price 0 and only right after a transaction of this process was mined successfully. The
        call would run the whole batch once more (a third of a transaction's time); what it
        guards against costs nothing at price 0: a batch that reverts is mined reverted, its
        reports go back to pending, and the next batch is checked (and, if it still reverts,
        bisected to the report at fault) since the last transaction did not succeed."""
        return self.gas_price == 0 and self._last_mined_ok and not any(e.supersedes for e in entries)

    def _runs_within(self, entries: Sequence[OutboxEntry], gas: int) -> bool:
        """The batch succeeds with `gas` on the latest state: one eth_call."""
        tx = {"from": self.account.address, "to": self.oracle.address, "data": self._calldata(entries),
              "gasPrice": self.gas_price, "gas": gas}
        try:
            rpc_guard(self.w3.eth.call, tx, "latest")
            return True
        except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError):
            return False

    def _gas_limit(self, entries: list[OutboxEntry], cap: int) -> tuple[list[OutboxEntry], int | None, str | None, bool]:
        """The batch (trimmed to fit `cap`), its gas (None: it reverts, with the reason) and whether
        that gas is a checked limit (True) or an estimate (False, to be given some margin).

        eth_estimateGas searches for the limit by running the batch again and again (Anvil: about
        18 runs, 0.55 s for 96 reports, most of a transaction's time). So a batch's limit is
        the bound above (GAS_FIXED + reports x per-report bound), checked by ONE eth_call with that
        limit: if the batch runs within it on the state it will be mined on (ours is the only
        transaction in flight), the transaction does too. The limit depends only on the batch,
        so a batch sent again after a reorganisation is the same transaction, byte for byte.
        Anything else (a revert, too little gas) falls back to the estimate, which finds the
        fault as before, and raises the bound if the batch needed more. At gas price 0 (a
        consortium chain, a dev chain) even that call is skipped while transactions keep being
        mined successfully: see _may_skip_check."""
        per = self._gas_per_report(entries)
        entries = entries[:max(1, (cap - GAS_FIXED) // per)]
        while len(entries) > 1 and len(self._calldata(entries)) > MAX_CALLDATA_BYTES:
            entries = entries[:max(1, len(entries) * MAX_CALLDATA_BYTES // len(self._calldata(entries)))]
        limit = self._limit_of(entries)
        if limit <= cap and (self._may_skip_check(entries) or self._runs_within(entries, limit)):
            return entries, limit, None, True
        gas, reason = self._try_estimate(entries)
        return entries, gas, reason, False

    def _try_estimate(self, entries) -> tuple[int | None, str | None]:
        try:
            return self._estimate(entries), None
        except (ContractCustomError, ContractLogicError, Web3RPCError, ValueError) as exc:
            return None, decode_revert(exc, self.selectors)

    def _find_fault(self, entries: list[OutboxEntry]) -> tuple[OutboxEntry, str]:
        """Bisects a reverting batch down to one report and its revert reason."""
        while len(entries) > 1:
            half = entries[: len(entries) // 2]
            gas, reason = self._try_estimate(half)
            entries = half if gas is None else entries[len(entries) // 2:]
        gas, reason = self._try_estimate(entries)
        return entries[0], reason or "reverts only in a batch"

    def _resign(self, entries: list[OutboxEntry], version: int) -> list[OutboxEntry]:
        """Re-signs pending reports for signer set `version` (after a signer set change)."""
        if self.signer is None:
            raise TransmitError("reports must be re-signed for a new signer set, but no signer keys are loaded")
        from dataclasses import replace

        for e in entries:
            if e.report["signerSetVersion"] != version:
                report = replace(report_from_json(e.report), signerSetVersion=version)
                self.store.resign(e.id, report, self.signer.sign(report))
        return [self.store.entry(e.facility_id, e.period_start, e.supersedes) for e in entries]

    def _gas_cap(self) -> int:
        block_limit = int(self._latest()["gasLimit"])
        cap = block_limit * 9 // 10
        return min(cap, self.max_gas) if self.max_gas else cap

    # ------------------------------------------------------------ corrections

    def queue_corrections(self) -> int:
        """Queues the corrections of restated hours whose report in force is confirmed now (see
        module doc, step 3); returns how many were queued."""
        due = self.store.corrections_due()
        if not due or self.signer is None:
            return 0
        for fid, start in due:
            head = self.store.head(fid, start)
            if head is not None and head.status == "confirmed" and head.report_index is None and not head.supersedes:
                found = self._accepted_events(fid, [start]).get(start)
                if found is not None:
                    self.store.set_report_index(head.id, *found)
        results = [q for q in self.store.queue_corrections(self.signer.sign) if q.kind != "waiting"]
        return announce(results, self.metrics)

    def _ready(self, entries: list[OutboxEntry]) -> list[OutboxEntry]:
        """The entries that can go now: corrections only once the entry they correct is confirmed,
        re-pointed at its current report index if that moved."""
        out = []
        for e in entries:
            if e.supersedes:
                prev = self.store.previous_entry(e)
                if prev is None or prev.status != "confirmed" or prev.report_index is None:
                    continue
                if prev.report_index + 1 != e.supersedes:
                    if self.signer is None:
                        continue
                    report = replace(report_from_json(e.report), supersedes=prev.report_index + 1)
                    self.store.repoint(e.id, report, self.signer.sign(report))
                    log.warning("correction re-pointed: the report it corrects moved", extra={
                        "event": "correction_repointed", "facility_id": e.facility_id, "period_start": e.period_start,
                        "from_supersedes": e.supersedes, "supersedes": report.supersedes})
                    e = self.store.entry(e.facility_id, e.period_start, report.supersedes)
            out.append(e)
        return out

    def _next_batch(self) -> tuple[list[OutboxEntry], int] | StepResult:
        now = self.chain_now()
        self.queue_corrections()
        entries = self._ready([e for e in self.store.pending(limit=self.batch_size) if e.period_start + HOUR <= now])
        if not entries:
            return StepResult("idle" if not self.store.pending(limit=1) else "nothing_closed")
        version = int(self._view("signerSetVersion"))
        if any(e.report["signerSetVersion"] != version for e in entries):
            entries = self._resign(entries, version)
        cap = self._gas_cap()
        block_limit = int(self._latest()["gasLimit"])
        while True:
            entries, gas, reason, checked = self._gas_limit(entries, cap)
            if gas is None:
                bad, why = self._find_fault(entries)
                if why.split("(")[0] in TRANSIENT_ERRORS:
                    # not the report's fault: wait (hour not closed yet) or re-sign (signer set)
                    entries = entries[: entries.index(bad)]
                    if not entries:
                        self.store.note_error([bad.id], why)
                        return StepResult("waiting", why)
                    continue
                if why.startswith("OracleHourAlreadyReported"):
                    # on chain already (another transmitter, or ours before a crash): confirmed
                    # if the root is ours, failed as a conflict if not
                    self.reconcile(everything=True)
                    still = self.store.entry(bad.facility_id, bad.period_start, bad.supersedes)
                    if still is not None and still.status != "pending":
                        return StepResult("idle", "reconciled")
                self.store.mark_failed(bad.id, why)
                log.error("report rejected by the oracle; marked failed", extra={
                    "event": "report_failed", "facility_id": bad.facility_id, "period_start": bad.period_start,
                    "reason": why})
                if self.metrics:
                    self.metrics.failed()
                return StepResult("failed", why)
            if gas > cap and len(entries) > 1:
                entries = entries[: max(1, len(entries) // 2)]
                continue
            if not checked:   # an estimate: a fifth more for the state the transaction meets
                gas = min(block_limit, gas + gas // 5 + 10_000)
            return entries, gas

    def step(self) -> StepResult:
        """One move of the state machine (see module doc). Raises RpcUnavailable."""
        self._step_block = None
        self._step_block = self._latest()
        try:
            return self._step()
        finally:
            self._step_block = None

    def _step(self) -> StepResult:
        self.check_reorg()
        self.reconcile()
        inflight = self.store.inflight()
        if inflight:
            return self._check_inflight(inflight[0])
        got = self._next_batch()
        if isinstance(got, StepResult):
            return got
        entries, gas_limit = got
        nonce = int(rpc_guard(self.w3.eth.get_transaction_count, self.account.address, "pending"))
        tx = {"to": self.oracle.address, "data": self._calldata(entries), "value": 0, "nonce": nonce,
              "gas": gas_limit, "gasPrice": self.gas_price, "chainId": self.chain_id}
        signed = Account.sign_transaction(tx, self.account.key)
        raw = bytes(signed.raw_transaction)
        tx_hash = "0x" + keccak(raw).hex()
        self.store.record_sent(tx_hash, nonce, raw, gas_limit, [e.id for e in entries])
        try:
            self._send_raw(raw, tx_hash)
        except Web3RPCError as exc:
            why = " ".join(str(exc).split())[:300]
            self.store.mark_tx_failed(tx_hash, "dropped", f"the node refused the transaction: {why}")
            log.error("the node refused the transaction; reports back to pending", extra={
                "event": "send_refused", "tx": tx_hash, "nonce": nonce, "reason": why})
            raise TransmitError(f"the node refused the transaction: {why}") from None
        log.info("transaction sent", extra={
            "event": "sent", "tx": tx_hash, "nonce": nonce, "reports": len(entries), "gas_limit": gas_limit,
            "first_hour": entries[0].period_start, "last_hour": entries[-1].period_start})
        if self.metrics:
            self.metrics.sent(len(entries))
        return self._wait_receipt(tx_hash)

    def drain(self, stop_event: threading.Event | None = None, *, backoff_start: float = 0.5, backoff_cap: float = 30.0,
              until_idle: bool = True, on_outage: Callable[[float], None] | None = None) -> str:
        """Steps until nothing is left to send ('idle'), nothing more can be sent now
        ('nothing_closed'/'waiting'), or stop is set ('stopped'). Node outages are retried with
        exponential backoff, capped; refusals by the node too (the transmitter may be out of gas
        money, or a node restarting)."""
        stop_event = stop_event or threading.Event()
        delay = backoff_start
        while not stop_event.is_set():
            try:
                result = self.step()
                delay = backoff_start
            except RpcUnavailable as exc:
                log.warning("the RPC node does not answer; retrying", extra={
                    "event": "rpc_unavailable", "retry_in_s": delay, "reason": str(exc)})
                if self.metrics:
                    self.metrics.rpc_error()
                if on_outage:
                    on_outage(delay)
                stop_event.wait(delay)  # backoff (not synchronisation): wake early on stop
                delay = min(delay * 2, backoff_cap)
                continue
            except TransmitError:
                stop_event.wait(delay)
                delay = min(delay * 2, backoff_cap)
                continue
            if result.action in ("idle", "nothing_closed"):
                return result.action
            if result.action == "waiting" and not until_idle:
                return result.action
            if result.action == "waiting" and not self.store.inflight():
                # the oracle is not ready (hour not closed on chain yet): back off
                stop_event.wait(delay)
                delay = min(delay * 2, backoff_cap)
        return "stopped"
