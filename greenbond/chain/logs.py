"""Reading the chain's history: logs in block ranges, the block at a moment.

- `read_in_ranges`: the one range reader: a log query over many blocks, split into ranges, a
  range the node refuses halved and retried;
- `iter_events`: a web3 event's decoded logs over a span of blocks, through it, asked for with
  the provider's own eth_getLogs and decoded by `EventDecoder`;
- `LogCache`: one event's raw logs of one contract, read once through it and kept, topped up
  with only the new blocks, read again when the chain was reset or reorganised under it;
- `block_before`: the last block before a moment.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Iterator

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from greenbond.chain.batch import call_many, rpc
from greenbond.chain.connection import ChainError

DEFAULT_LOG_CHUNK = 5_000


def _chain_order(log) -> tuple[int, int]:
    """(block, log index) of a decoded log, or of a raw one (hex quantities)."""
    block, index = log["blockNumber"], log["logIndex"]
    return (int(block, 16), int(index, 16)) if isinstance(block, str) else (block, index)


def read_in_ranges(fetch: Callable[[int, int], list], from_block: int, to_block: int,
                   chunk: int = DEFAULT_LOG_CHUNK) -> Iterator[list]:
    """`fetch(start, end)` (the logs of blocks start..end inclusive) over `from_block` to
    `to_block`, in block ranges of at most `chunk`; yields each range's logs in chain order.
    A range the node refuses (`fetch` raises a Web3Exception or a ValueError) is halved and
    retried, so one huge query is never needed; a single block refused is a ChainError."""
    start = from_block
    size = max(1, chunk)
    while start <= to_block:
        end = min(to_block, start + size - 1)
        try:
            logs = fetch(start, end)
        except (Web3Exception, ValueError) as exc:
            if size == 1:
                raise ChainError(f"the node refused logs for block {start}: {exc}") from None
            size = max(1, size // 2)
            continue
        yield sorted(logs, key=_chain_order)
        start = end + 1


class EventDecoder:
    """Decodes raw logs of one event (its ABI) into dicts shaped as web3's event logs: `args`
    (indexed values from the topics, the others from the data, addresses checksummed), `event`,
    `address`, `blockNumber`, `logIndex`, `transactionIndex`, `transactionHash`, `blockHash`.

    Hand-written because it is measurably better: web3's event decoder walks every value through
    its formatters and took 1.2 ms a log, 80 % of a register of 1,000 holders and 15,000 events
    (24 of 30 s); this takes a few microseconds. tests/python/test_chain_logs.py checks it gives
    what web3 gives for every event of the suite's ABIs."""

    def __init__(self, event_abi: dict):
        from eth_utils import event_abi_to_log_topic

        self.name = event_abi["name"]
        inputs = event_abi.get("inputs", [])
        self.indexed = [(i["name"], _abi_type(i)) for i in inputs if i.get("indexed")]
        self.unindexed = [(i["name"], _abi_type(i)) for i in inputs if not i.get("indexed")]
        self.order = [i["name"] for i in inputs]
        self.topic0 = "0x" + event_abi_to_log_topic(event_abi).hex()

    def _address(self, raw_hex: str) -> str:
        return _checksummed_address(raw_hex[-40:].lower())

    def _checksummed(self, abi_type: str, value):
        """Addresses in decoded data checksummed, as web3 gives them (arrays of addresses too)."""
        if abi_type == "address":
            return self._address(value)
        if abi_type.startswith("address[") and abi_type.endswith("]"):
            return [self._checksummed(abi_type[: abi_type.rindex("[")], v) for v in value]
        return value

    def _topic_value(self, abi_type: str, topic: str):
        if abi_type == "address":
            return self._address(topic)
        if abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("("):
            return bytes.fromhex(topic[2:])   # a dynamic value is indexed by its hash
        return _decode([abi_type], bytes.fromhex(topic[2:]))[0]

    def topics(self, argument_filters: dict | None) -> list:
        """eth_getLogs topics for `argument_filters` on indexed arguments (a value or a list of
        values, any of which matches); a filter on a non-indexed argument is a ValueError."""
        filters = dict(argument_filters or {})
        unknown = set(filters) - {n for n, _ in self.indexed}
        if unknown:
            raise ValueError(f"{self.name}: only indexed arguments can be filtered, not {sorted(unknown)}")
        out: list = [self.topic0]
        for name, abi_type in self.indexed:
            if name not in filters:
                out.append(None)
                continue
            values = filters[name] if isinstance(filters[name], (list, tuple, set)) else [filters[name]]
            out.append(["0x" + _encode([abi_type], [v]).hex() for v in values])
        while out and out[-1] is None:
            out.pop()
        return out

    def decode(self, log: dict) -> dict:
        topics = log["topics"]
        args = {name: self._topic_value(t, topics[k + 1]) for k, (name, t) in enumerate(self.indexed)}
        if self.unindexed:
            data = log["data"]
            values = _decode([t for _, t in self.unindexed], bytes.fromhex(data[2:] if isinstance(data, str) else data.hex()))
            for (name, abi_type), value in zip(self.unindexed, values):
                args[name] = self._checksummed(abi_type, value)
        return {
            "args": {name: args[name] for name in self.order},
            "event": self.name,
            "address": self._address(log["address"]),
            "blockNumber": int(log["blockNumber"], 16),
            "logIndex": int(log["logIndex"], 16),
            "transactionIndex": int(log["transactionIndex"], 16),
            "transactionHash": HexBytes(log["transactionHash"]),
            "blockHash": HexBytes(log["blockHash"]),
        }


@functools.lru_cache(maxsize=1 << 16)
def _checksummed_address(hex40: str) -> str:
    """The checksummed form of 40 lower-case hex digits, remembered: the same holders appear in
    thousands of logs (as topics and as data), and a checksum is a keccak each time."""
    return Web3.to_checksum_address("0x" + hex40)


def _abi_type(param: dict) -> str:
    """The canonical type of an ABI parameter (tuples spelled out)."""
    t = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + t[len("tuple"):]
    return t


def _decode(types: list[str], data: bytes) -> tuple:
    try:
        from faster_eth_abi import decode
    except ImportError:  # pragma: no cover
        from eth_abi import decode
    return decode(types, data)


def _encode(types: list[str], values: list) -> bytes:
    try:
        from faster_eth_abi import encode
    except ImportError:  # pragma: no cover
        from eth_abi import encode
    return encode(types, values)


def logs_fetcher(provider, query: dict) -> Callable[[int, int], list]:
    """`fetch(start, end)` for `read_in_ranges`: the provider's own eth_getLogs for `query`
    (address, topics) over blocks start..end, raw; a node's error is a ValueError (so the range
    reader halves the range)."""
    def fetch(start: int, end: int) -> list:
        resp = provider.make_request("eth_getLogs", [dict(query, fromBlock=hex(start), toBlock=hex(end))])
        if resp.get("error"):
            raise ValueError(resp["error"])
        return resp["result"]

    return fetch


def iter_events(event, from_block: int, to_block: int, chunk: int = DEFAULT_LOG_CHUNK, argument_filters=None) -> Iterator:
    """Decoded logs of `event` (a web3 contract event class, e.g. `contract.events.Transfer`)
    from `from_block` to `to_block` inclusive, read in block ranges of at most `chunk`
    (`read_in_ranges`) with the provider's eth_getLogs and decoded by `EventDecoder`.
    `argument_filters` may name indexed arguments only."""
    decoder = EventDecoder(event.abi)
    fetch = logs_fetcher(event.w3.provider, {"address": event.address, "topics": decoder.topics(argument_filters)})
    for logs in read_in_ranges(fetch, from_block, to_block, chunk):
        for log in logs:
            yield decoder.decode(log)


class LogCache:
    """Raw logs of one event of one contract, read in block ranges from `start_block` and kept
    (each decoded by `decode`); `refresh` reads only blocks after the last one read. If the block
    last read has changed hash (the chain was reset or reorganised), everything is read again.
    That hash is taken before the block's logs, so a reorganisation during a read is caught at
    the next one. The logs are asked for with the provider's own eth_getLogs (no web3 event
    machinery: `decode` parses the raw log), through `read_in_ranges`."""

    def __init__(self, w3: Web3, address: str, topic0: str, start_block: int, decode: Callable[[dict], Any],
                 chunk: int = DEFAULT_LOG_CHUNK * 20):
        self.w3, self.address, self.topic0, self.start = w3, address, topic0, start_block
        self.decode, self.chunk = decode, chunk
        self.items: list = []
        self.tip = start_block - 1
        self.tip_hash: str | None = None
        self._lock = threading.Lock()

    def _get_logs(self, start: int, end: int) -> list:
        return logs_fetcher(self.w3.provider, {"address": self.address, "topics": [self.topic0]})(start, end)

    def refresh(self, latest: int | None = None) -> list:
        with self._lock:
            if latest is None or self.tip_hash is not None:
                reqs = [rpc("eth_blockNumber")]
                if self.tip_hash is not None:
                    reqs.append(rpc("eth_getBlockByNumber", hex(self.tip), False))
                res = call_many(self.w3, reqs)
                latest = int(res[0], 16) if latest is None else latest
                if self.tip_hash is not None and (not res[1] or res[1].get("hash") != self.tip_hash):
                    self.items, self.tip, self.tip_hash = [], self.start - 1, None
            if latest <= self.tip:
                return self.items
            # the hash of the last block to read is taken BEFORE its logs: a reorganisation during
            # the read then shows as a changed hash at the next refresh (taken after, it would
            # vouch for logs of the old branch)
            block = call_many(self.w3, [rpc("eth_getBlockByNumber", hex(latest), False)])[0]
            # kept only once the whole range is read: a read that fails half-way leaves the cache
            # as it was (appending as we go would add those logs a second time at the next refresh)
            new = [self.decode(l) for logs in read_in_ranges(self._get_logs, self.tip + 1, latest, self.chunk)
                   for l in logs]
            self.items.extend(new)
            if not block:   # `latest` is already gone (the chain got shorter): keep nothing, read again next time
                items, self.items, self.tip, self.tip_hash = self.items, [], self.start - 1, None
                return items
            self.tip, self.tip_hash = latest, block.get("hash")
            return self.items


def block_before(w3: Web3, timestamp: int, latest: int | None = None) -> int:
    """The last block whose timestamp is strictly before `timestamp` (binary search); the
    state after that block is the state "at" `timestamp`, as a record date fixes it."""
    hi = w3.eth.block_number if latest is None else latest
    if w3.eth.get_block(0)["timestamp"] >= timestamp:
        raise ChainError(f"the chain starts after {timestamp}: nothing was recorded before then")
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if w3.eth.get_block(mid)["timestamp"] < timestamp:
            lo = mid
        else:
            hi = mid - 1
    return lo
