"""greenbond.chain.index.EventIndex on a real Anvil: after every change the index holds exactly
what a full replay of the chain's logs gives (eth_getLogs from block 0, read here directly).

- random transfers with syncs at random points;
- `anvil_reorg` (the last blocks replaced, with and without other transactions);
- `evm_snapshot`/`evm_revert`: the chain shorter than the index read it, then longer with other blocks;
- another chain at the same address (a dev node started afresh deploys to the same address);
- the chain changing between the read of a window's logs and of its headers;
- a sync that fails half-way, and a process killed (SIGKILL) half-way: the file stays consistent
  and the next sync goes on from the last window kept;
- a node without archive state (`anvil --prune-history`): the index needs only logs and headers;
- a file of another schema, or one that cannot be written: one sentence.

The event source is an OpenZeppelin ERC-20 (contracts/dev/PlainERC20.sol): its Transfer events.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from greenbond.chain.connection import ChainError

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

REPO = Path(__file__).resolve().parents[2]
CHAIN_ID = 31337
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


class Node:
    """An Anvil (in memory) with a PlainERC20 deployed and its supply spread over the dev accounts."""

    def __init__(self, directory: Path, extra_args=(), genesis: int | None = None):
        from tests.helpers.devchain import child_env

        from greenbond.chain.localnode import start_anvil

        os.environ["PATH"] = child_env()["PATH"]
        self.node = start_anvil(None, extra_args=extra_args, genesis_timestamp=genesis, log_file=directory / "anvil.log")
        self.url = self.node.url
        self.w3 = self.connect()
        self.accounts = self.w3.eth.accounts
        self.token, self.start = self.deploy()

    def connect(self):
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def deploy(self):
        from greenbond.chain.tx import Signer, deploy_contract

        token, receipt = deploy_contract(self.w3, "PlainERC20", [10**24], Signer(self.accounts[0]))
        for a in self.accounts[1:8]:
            self.mined(token.functions.transfer(a, 10**20).transact({"from": self.accounts[0], "gasPrice": 0}))
        return token, receipt["blockNumber"]

    def mined(self, tx_hash) -> None:
        """Waits for the transaction's receipt: Anvil answers eth_sendTransaction before it has
        mined the block, and a test that reads `latest` next must see that block."""
        assert self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1

    def transfers(self, rng: random.Random, n: int) -> None:
        for _ in range(n):
            a, b = rng.sample(self.accounts[:8], 2)
            self.mined(self.token.functions.transfer(b, rng.randrange(1, 10**6)).transact({"from": a, "gasPrice": 0}))

    def rpc(self, method: str, params=None):
        resp = self.w3.provider.make_request(method, params or [])
        assert not resp.get("error"), resp
        return resp["result"]

    def latest(self) -> int:
        return self.w3.eth.block_number

    def replay(self) -> list[tuple]:
        """Every Transfer log of the token on the chain now, read in one query from the deploy block."""
        logs = self.rpc("eth_getLogs", [{"address": self.token.address, "topics": [TRANSFER],
                                          "fromBlock": hex(self.start), "toBlock": hex(self.latest())}])
        return [norm(log) for log in logs]

    def stop(self) -> None:
        self.node.stop()


def norm(log: dict) -> tuple:
    return (int(log["blockNumber"], 16), int(log["logIndex"], 16), int(log["transactionIndex"], 16),
            log["transactionHash"].lower(), log["blockHash"].lower(), tuple(t.lower() for t in log["topics"]),
            log["data"].lower())


def indexed(index, node: Node, to_block: int | None = None) -> list[tuple]:
    to_block = node.latest() if to_block is None else to_block
    return [norm(log) for log in index.logs(CHAIN_ID, node.token.address, TRANSFER, node.start, to_block)]


def sync(index, node: Node, chunk: int = 5_000, w3=None, **kw) -> dict:
    return index.sync(w3 or node.w3, CHAIN_ID, node.token.address, TRANSFER, node.start, node.latest(),
                      chunk=chunk, **kw)


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path)
    yield n
    n.stop()


@pytest.fixture
def index(tmp_path):
    from greenbond.chain.index import EventIndex

    with EventIndex(tmp_path / "events.sqlite") as ix:
        yield ix


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equal_to_a_full_replay_after_random_transfers(node, index, seed):
    rng = random.Random(seed)
    for _ in range(6):
        node.transfers(rng, rng.randrange(0, 15))
        got = sync(index, node, chunk=rng.choice([1, 3, 7, 5_000]))
        assert got["rolled_back"] == 0
        assert indexed(index, node) == node.replay()
    # and a read of part of the range gives that part
    mid = (node.start + node.latest()) // 2
    assert indexed(index, node, mid) == [log for log in node.replay() if log[0] <= mid]


def test_a_warm_sync_with_nothing_new_reads_no_logs(node, index):
    node.transfers(random.Random(4), 10)
    assert sync(index, node)["new_logs"] == 1 + 7 + 10      # the mint, the spread, the transfers
    from web3 import Web3

    from greenbond.chain.connection import RPC_STATS, CountingHTTPProvider

    counted = Web3(CountingHTTPProvider(node.url))
    before = RPC_STATS.snapshot()
    again = sync(index, node, w3=counted)
    after = RPC_STATS.snapshot()
    assert again == {"rolled_back": 0, "read_from": None, "new_logs": 0}
    assert after["requests"] - before["requests"] == 1                 # one header: the tip's hash
    assert after["by_method"].get("eth_getLogs", 0) == before["by_method"].get("eth_getLogs", 0)


def test_anvil_reorg_drops_what_it_removed(node, index):
    rng = random.Random(5)
    node.transfers(rng, 12)
    sync(index, node)
    before = node.replay()
    node.rpc("anvil_reorg", [3, []])                  # the last 3 blocks replaced by empty ones
    assert node.replay() == before[:-3]
    got = sync(index, node)
    assert got["rolled_back"] == 3
    assert indexed(index, node) == node.replay()


def test_anvil_reorg_with_other_transactions(node, index):
    from eth_account import Account

    rng = random.Random(6)
    node.transfers(rng, 8)
    sync(index, node)
    # a signed transfer by a dev key that sent nothing in the replaced blocks, mined in their place
    key = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"   # Anvil's 10th dev account
    sender = Account.from_key(key).address
    data = node.token.functions.transfer(node.accounts[1], 0).build_transaction(
        {"from": sender, "gas": 100_000, "gasPrice": 0, "nonce": 0, "chainId": CHAIN_ID})
    raw = Account.sign_transaction(data, key).raw_transaction
    node.rpc("anvil_reorg", [2, [["0x" + bytes(raw).hex(), 0]]])
    got = sync(index, node)
    assert got["rolled_back"] == 2
    assert indexed(index, node) == node.replay()
    assert any(log[5][1][-40:] == sender[2:].lower() for log in indexed(index, node))   # the new one is in


def test_evm_revert_shorter_then_longer_with_other_blocks(node, index):
    rng = random.Random(7)
    node.transfers(rng, 5)
    snap = node.rpc("evm_snapshot")
    node.transfers(rng, 6)
    sync(index, node)
    assert node.rpc("evm_revert", [snap]) is True       # shorter than the index read it
    got = sync(index, node)
    assert got["rolled_back"] == 6
    assert indexed(index, node) == node.replay()
    sync(index, node)
    node.transfers(rng, 9)                             # longer again, with other blocks
    assert sync(index, node)["rolled_back"] == 0
    assert indexed(index, node) == node.replay()
    # and a revert made between two syncs whose tip block number exists again (other hash)
    snap = node.rpc("evm_snapshot")
    node.transfers(rng, 3)
    sync(index, node)
    node.rpc("evm_revert", [snap])
    node.transfers(rng, 4)
    assert sync(index, node)["rolled_back"] == 3
    assert indexed(index, node) == node.replay()


def test_another_chain_at_the_same_address_starts_the_stream_again(tmp_path, index):
    """Two dev chains, the same deployer and nonces: the same addresses. Their genesis times differ
    (two chains started within the same second with the same transactions have the same blocks:
    the same history, rightly kept)."""
    first = Node(tmp_path, genesis=1_700_000_000)
    try:
        first.transfers(random.Random(8), 5)
        sync(index, first)
        address = first.token.address
    finally:
        first.stop()
    second = Node(tmp_path, genesis=1_700_100_000)
    try:
        assert second.token.address == address
        second.transfers(random.Random(9), 3)
        got = sync(index, second)
        assert got["rolled_back"] == 1 + 7 + 5
        assert indexed(index, second) == second.replay()
    finally:
        second.stop()


def test_the_chain_changing_during_a_read_is_read_again(node, index, monkeypatch):
    """A reorganisation between the read of a window's logs and of its headers: the logs' block
    hashes no longer match, the window is read again, and only the canonical logs are kept."""
    from greenbond.chain import index as index_module

    rng = random.Random(10)
    node.transfers(rng, 6)
    sync(index, node)
    node.transfers(rng, 6)
    real = index_module.read_in_ranges
    calls = {"n": 0}

    def read_then_reorg(*args, **kwargs):
        parts = list(real(*args, **kwargs))
        calls["n"] += 1
        if calls["n"] == 1:
            node.rpc("anvil_reorg", [2, []])
        return iter(parts)

    monkeypatch.setattr(index_module, "read_in_ranges", read_then_reorg)
    sync(index, node)
    assert calls["n"] == 2
    assert indexed(index, node) == node.replay()


def test_a_sync_that_fails_half_way_keeps_what_it_committed(tmp_path, node, index, monkeypatch):
    from greenbond.chain import index as index_module
    from greenbond.chain.index import EventIndex

    node.transfers(random.Random(11), 60)             # about 70 blocks: windows of 20 blocks at chunk 1
    real = index_module.read_in_ranges
    calls = {"n": 0}

    def fail_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ChainError("the node went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(index_module, "read_in_ranges", fail_third)
    with pytest.raises(ChainError, match="went away"):
        sync(index, node, chunk=1)
    tip = index.tip(CHAIN_ID, node.token.address, TRANSFER)
    assert tip == node.start + 2 * 20 - 1
    assert indexed(index, node, tip) == [log for log in node.replay() if log[0] <= tip]
    monkeypatch.setattr(index_module, "read_in_ranges", real)
    with EventIndex(tmp_path / "events.sqlite") as again:
        got = sync(again, node, chunk=1)
        assert got["read_from"] == tip + 1
        assert indexed(again, node) == node.replay()


KILLED_SYNC = textwrap.dedent("""
    import os, signal, sys
    from web3 import Web3
    from greenbond.chain.index import EventIndex
    url, path, address, topic, start, latest, kill_after = sys.argv[1:]
    windows = []
    def progress(done, to):
        windows.append(done)
        if len(windows) == int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)
    EventIndex(path).sync(Web3(Web3.HTTPProvider(url)), 31337, address, topic, int(start), int(latest),
                          chunk=1, progress=progress)
""")


def test_a_process_killed_mid_sync_leaves_a_consistent_index(tmp_path, node):
    from tests.helpers.devchain import child_env

    from greenbond.chain.index import EventIndex

    node.transfers(random.Random(12), 60)
    path = tmp_path / "killed.sqlite"
    proc = subprocess.run([sys.executable, "-c", KILLED_SYNC, node.url, str(path), node.token.address, TRANSFER,
                           str(node.start), str(node.latest()), "2"], env=child_env(), cwd=REPO, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    with EventIndex(path) as ix:
        tip = ix.tip(CHAIN_ID, node.token.address, TRANSFER)
        assert tip == node.start + 2 * 20 - 1          # two windows committed, the third never started
        assert indexed(ix, node, tip) == [log for log in node.replay() if log[0] <= tip]
        assert sync(ix, node, chunk=1)["read_from"] == tip + 1
        assert indexed(ix, node) == node.replay()


def test_a_node_without_archive_state(tmp_path, index):
    n = Node(tmp_path, extra_args=["--prune-history", "4"])
    try:
        n.transfers(random.Random(13), 30)
        with pytest.raises(Exception):                 # the node really keeps no old state
            n.token.functions.totalSupply().call(block_identifier=n.start)
        sync(index, n)
        assert indexed(index, n) == n.replay()
        n.transfers(random.Random(14), 5)
        sync(index, n)
        assert indexed(index, n) == n.replay()
    finally:
        n.stop()


def test_reading_beyond_what_was_synced_is_refused(node, index):
    sync(index, node)
    with pytest.raises(ChainError, match="has not read"):
        index.logs(CHAIN_ID, node.token.address, TRANSFER, node.start, node.latest() + 5)


def test_a_file_of_another_schema_is_one_sentence(tmp_path):
    import sqlite3

    from greenbond.chain.index import EventIndex, EventIndexError

    path = tmp_path / "old.sqlite"
    EventIndex(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='0' WHERE key='schema'")
    with pytest.raises(EventIndexError, match="remove the file, it is rebuilt from the chain"):
        EventIndex(path)
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    try:
        if os.geteuid() != 0:
            with pytest.raises(EventIndexError, match="cannot use the event index"):
                EventIndex(tmp_path / "ro" / "events.sqlite")
    finally:
        (tmp_path / "ro").chmod(0o700)
