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


# ---------------------------------------------------------------- the fast event decoder

SUITE = ("GreenBond", "HolderRegistry", "CouponSchedule", "ImpactOracle", "Offering", "BondDvP", "SettlementToken")


def _value(abi_type: str, k: int):
    """A value of `abi_type` that differs with `k` and reaches the type's edges."""
    import hashlib

    if abi_type.endswith("[]"):
        return [_value(abi_type[:-2], k + j) for j in range(k % 3 + 1)]
    h = hashlib.sha256(f"{abi_type}{k}".encode()).digest()
    if abi_type == "address":
        return "0x" + h[:20].hex()
    if abi_type == "bool":
        return bool(k % 2)
    if abi_type == "string":
        return "日本 green bond " * (k % 4)
    if abi_type == "bytes":
        return h * (k % 3)
    if abi_type.startswith("bytes"):
        return h[: int(abi_type[5:])]
    bits = int(abi_type.lstrip("uint") or 256)
    if abi_type.startswith("int"):
        return [-(1 << (bits - 1)), (1 << (bits - 1)) - 1, -k, k][k % 4]
    return [0, (1 << bits) - 1, k, int.from_bytes(h, "big") % (1 << bits)][k % 4]


def test_event_decoder_gives_what_web3_gives_for_every_event_of_the_suite():
    from eth_abi import encode
    from hexbytes import HexBytes
    from web3 import Web3
    from web3._utils.events import get_event_data

    from greenbond.chain import load_abi
    from greenbond.chain.logs import EventDecoder, _abi_type

    w3 = Web3()
    checked = 0
    for name in SUITE:
        for abi in (a for a in load_abi(name) if a["type"] == "event"):
            decoder = EventDecoder(abi)
            for k in range(4):
                values = {i["name"]: _value(_abi_type(i), k) for i in abi["inputs"]}
                indexed = [i for i in abi["inputs"] if i.get("indexed")]
                plain = [i for i in abi["inputs"] if not i.get("indexed")]
                topics = [decoder.topic0] + ["0x" + encode([_abi_type(i)], [values[i["name"]]]).hex() for i in indexed]
                raw = {"address": "0x" + "ab" * 20, "topics": topics,
                       "data": "0x" + encode([_abi_type(i) for i in plain], [values[i["name"]] for i in plain]).hex(),
                       "blockNumber": hex(7 + k), "logIndex": hex(k), "transactionIndex": hex(1),
                       "transactionHash": "0x" + "cd" * 32, "blockHash": "0x" + "ef" * 32}
                ours = decoder.decode(raw)
                # web3's own log formatters checksum the address before decoding: as get_logs returns it
                theirs = get_event_data(w3.codec, abi, {**raw, "address": Web3.to_checksum_address(raw["address"]),
                                                        "topics": [HexBytes(t) for t in topics],
                                                        "data": HexBytes(raw["data"]), "blockNumber": 7 + k,
                                                        "logIndex": k, "transactionIndex": 1,
                                                        "transactionHash": HexBytes(raw["transactionHash"]),
                                                        "blockHash": HexBytes(raw["blockHash"])})
                assert ours["args"] == dict(theirs["args"]), (name, abi["name"], k)
                assert list(ours["args"]) == [i["name"] for i in abi["inputs"]]
                for key in ("event", "address", "blockNumber", "logIndex", "transactionIndex", "transactionHash",
                            "blockHash"):
                    assert ours[key] == theirs[key], (name, abi["name"], key)
                checked += 1
    assert checked > 100


def test_event_decoder_filters_by_indexed_arguments_only():
    from greenbond.chain import load_abi
    from greenbond.chain.logs import EventDecoder

    accepted = EventDecoder(next(a for a in load_abi("ImpactOracle") if a.get("name") == "ReportAccepted"))
    topics = accepted.topics({"facilityId": 1, "periodStart": [3600, 7200]})
    assert topics[0] == accepted.topic0 and topics[2] is None
    assert topics[1] == ["0x" + "00" * 31 + "01"]
    assert topics[3] == ["0x" + (3600).to_bytes(32, "big").hex(), "0x" + (7200).to_bytes(32, "big").hex()]
    assert accepted.topics(None) == [accepted.topic0]
    with pytest.raises(ValueError, match="only indexed arguments"):
        accepted.topics({"co2AvoidedMg": 5})
