"""greenbond.chain.logs: the one range reader and the page's log cache, on a fake node whose
answers the test controls (a refused block, a range that is too large)."""

import pytest

from greenbond.chain import logs as chain_logs
from greenbond.chain.connection import ChainError
from greenbond.chain.logs import LogCache, read_in_ranges


def raw(block: int, index: int = 0) -> dict:
    return {"blockNumber": hex(block), "logIndex": hex(index), "data": hex(block)}


class FakeNode:
    """Logs at every 10th block up to `head`; eth_getLogs over a range holding a block in `refuse`
    is an error; a range longer than `max_range` too."""

    def __init__(self, head: int, refuse=(), max_range: int = 10**9):
        self.head, self.refuse, self.max_range, self.served = head, set(refuse), max_range, []

    def logs(self, start: int, end: int) -> list:
        if end - start + 1 > self.max_range or any(start <= b <= end for b in self.refuse):
            raise ValueError({"code": -32005, "message": "query refused"})
        self.served.append((start, end))
        return [raw(b) for b in range(start, end + 1) if b % 10 == 0]


def test_a_refused_range_is_halved_and_nothing_is_read_twice():
    node = FakeNode(1_000, max_range=100)
    got = [log for part in read_in_ranges(node.logs, 1, 1_000, chunk=1_000) for log in part]
    assert [int(l["blockNumber"], 16) for l in got] == list(range(10, 1_001, 10))
    blocks = [b for s, e in node.served for b in range(s, e + 1)]
    assert blocks == list(range(1, 1_001))                  # every block asked for once, in order


def test_a_single_refused_block_is_a_chain_error():
    with pytest.raises(ChainError, match="refused logs for block 30"):
        list(read_in_ranges(FakeNode(100, refuse={30}).logs, 1, 100, chunk=8))


def test_log_cache_keeps_nothing_from_a_read_that_failed_half_way(monkeypatch):
    """Found in review: logs read before a refused block stayed in the cache while its position
    did not move, so the next refresh added them a second time (every report counted twice)."""
    node = FakeNode(100, refuse={55})

    def fake_call_many(w3, reqs, *args, **kwargs):
        out = []
        for _kind, method, params in reqs:
            if method == "eth_blockNumber":
                out.append(hex(node.head))
            else:
                out.append({"hash": f"0x{int(params[0], 16):064x}"})
        return out

    monkeypatch.setattr(chain_logs, "call_many", fake_call_many)
    cache = LogCache(w3=None, address="0x" + "11" * 20, topic0="0x" + "22" * 32, start_block=1,
                     decode=lambda log: int(log["blockNumber"], 16), chunk=20)
    monkeypatch.setattr(cache, "_get_logs", node.logs)
    with pytest.raises(ChainError):
        cache.refresh()
    assert cache.items == [] and cache.tip == 0
    node.refuse.clear()
    assert cache.refresh() == list(range(10, 101, 10))      # each log once
