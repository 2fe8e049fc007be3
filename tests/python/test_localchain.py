"""The local node's life cycle: `stop` returns only when the node has really ended.

npm's `anvil` is a Node wrapper around the binary; it forwards SIGINT and exits at once, while the
binary is still writing its state file and serving. A restart on the same port must then find the
port free (CI stop 19: the page's restart tests attached to the dying node and lost it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from greenbond.chain.localnode import _group_alive, free_port, is_serving, rpc, start_anvil

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None, reason="anvil is not installed (npm ci)")


def test_stop_waits_for_the_node_itself_and_a_restart_resumes_its_chain(tmp_path: Path):
    port = free_port()
    state = tmp_path / "anvil-state.json"
    node = start_anvil(state, port=port, genesis_timestamp=None, log_file=tmp_path / "anvil.log")
    assert node.process is not None, "a node was already serving on a fresh port"
    rpc(node.url, "anvil_mine", [hex(2000)], timeout=60)  # a state file that takes a moment to write
    node.stop()
    assert not is_serving(node.url), "the node still answers after stop()"
    assert not _group_alive(node.process.pid), "a process of the node's session outlived stop()"
    assert state.exists(), "the node ended without writing its state file"

    again = start_anvil(state, port=port, genesis_timestamp=None, log_file=tmp_path / "anvil.log")
    try:
        assert again.process is not None, "the restart attached to the old node instead of starting one"
        assert int(rpc(again.url, "eth_blockNumber"), 16) == 2000
    finally:
        again.stop()


def test_advance_to_mines_one_block_at_the_moment_and_never_goes_back(tmp_path: Path):
    from web3 import Web3

    from greenbond.chain.localnode import advance_to

    node = start_anvil(genesis_timestamp=1_700_000_000, log_file=tmp_path / "anvil.log")
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        start = w3.eth.block_number
        assert advance_to(w3, 1_800_000_000)
        assert w3.eth.get_block("latest")["timestamp"] == 1_800_000_000 and w3.eth.block_number == start + 1
        assert not advance_to(w3, 1_750_000_000)          # in the past: nothing mined, nothing moved back
        assert w3.eth.block_number == start + 1
    finally:
        node.stop()
