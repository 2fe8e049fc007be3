"""Reading the chain's history: logs in block ranges, the block at a moment."""

from __future__ import annotations

from typing import Iterator

from web3 import Web3
from web3.exceptions import Web3Exception

from greenbond.chain.connection import ChainError

DEFAULT_LOG_CHUNK = 5_000


def iter_events(event, from_block: int, to_block: int, chunk: int = DEFAULT_LOG_CHUNK, argument_filters=None) -> Iterator:
    """Decoded logs of `event` (a web3 contract event class) from `from_block` to `to_block`
    inclusive, read in block ranges of at most `chunk`; a range the node refuses as too large is
    halved and retried, so one huge query is never needed."""
    start = from_block
    size = max(1, chunk)
    while start <= to_block:
        end = min(to_block, start + size - 1)
        try:
            logs = event.get_logs(from_block=start, to_block=end, argument_filters=argument_filters)
        except (Web3Exception, ValueError) as exc:
            if size == 1:
                raise ChainError(f"the node refused logs for block {start}: {exc}") from None
            size = max(1, size // 2)
            continue
        yield from sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
        start = end + 1


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
