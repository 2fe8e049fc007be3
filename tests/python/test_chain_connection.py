"""greenbond.chain's one `connect` and the page's transport in it: the URL check, a node that does
not answer as NodeUnreachable (a ChainError callers word their own way), the count of JSON-RPC
calls really sent (a chain id answered from the connection's cache is not one; a batch is one
request), and the one range reader of logs (a refused range halved, a refused block an error)."""

from __future__ import annotations

import shutil

import pytest

from greenbond.chain import (ChainError, NodeUnreachable, call_many, connect, read_in_ranges, rpc, rpc_delta,
                             rpc_stats)
from greenbond.chain.localnode import free_port, start_anvil


def test_connect_refuses_what_is_not_an_rpc_url():
    with pytest.raises(ChainError, match="'localhost:8546' is not an RPC URL: give one like http://"):
        connect("localhost:8546")


def test_a_node_that_does_not_answer_is_node_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeUnreachable) as err:
        connect(url, timeout=2)
    assert err.value.url == url and err.value.reason
    assert str(err.value) == f"the RPC node at {url} is unreachable ({err.value.reason})"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if shutil.which("anvil") is None:
        pytest.skip("anvil is not installed (npm ci)")
    n = start_anvil(log_file=tmp_path_factory.mktemp("anvil") / "anvil.log")
    yield n
    n.stop()


def test_a_counting_connection_counts_what_it_sends(node):
    before = rpc_stats()
    w3 = connect(node.url, counting=True)
    opened = rpc_delta(before)
    assert set(opened["by_method"]) == {"eth_chainId"}      # the check (web3 asks once more to set up its cache)
    before = rpc_stats()
    for _ in range(3):
        assert w3.eth.chain_id == 31337                      # from the cache: nothing sent
    w3.eth.block_number
    call_many(w3, [rpc("eth_blockNumber"), rpc("eth_chainId")])   # one request of two calls
    assert rpc_delta(before) == {"calls": 3, "requests": 2, "by_method": {"eth_blockNumber": 2, "eth_chainId": 1}}


def test_a_connection_counts_nothing_unless_asked(node):
    before = rpc_stats()
    w3 = connect(node.url)
    w3.eth.block_number
    assert rpc_delta(before)["calls"] == 0


def test_read_in_ranges_halves_a_refused_range_and_keeps_chain_order():
    asked = []

    def fetch(start, end):
        asked.append((start, end))
        if end - start + 1 > 3:
            raise ValueError({"code": -32005, "message": "query returned more than 10000 results"})
        return [{"blockNumber": hex(b), "logIndex": hex(i)} for b in range(end, start - 1, -1) for i in (1, 0)]

    got = [log for logs in read_in_ranges(fetch, 10, 19, chunk=8) for log in logs]
    assert asked == [(10, 17), (10, 13), (10, 11), (12, 13), (14, 15), (16, 17), (18, 19)]
    assert [(int(l["blockNumber"], 16), int(l["logIndex"], 16)) for l in got] == [(b, i) for b in range(10, 20)
                                                                                   for i in (0, 1)]


def test_read_in_ranges_stops_at_a_refused_block():
    def fetch(start, end):
        raise ValueError("too many logs")

    with pytest.raises(ChainError, match="the node refused logs for block 5: too many logs"):
        list(read_in_ranges(fetch, 5, 9, chunk=4))
