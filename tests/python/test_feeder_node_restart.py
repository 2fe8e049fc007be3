"""The feeder while the RPC node itself restarts: Anvil is stopped in the middle of a backfill
(SIGINT: it writes its state file and exits, as an operator's restart would) and started again on
the same port from that state. The feeder, a separate OS process, retries with backoff while the
node is away and then finishes; every hour of both facilities is on chain exactly once and equals
the independent recomputation (tests/python/feeder_chain.py). The TCP-proxy outage in
test_feeder_chain.py cuts the connection; here the node's own process goes away and comes back.

Run inside a private network namespace:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_feeder_node_restart.py'
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from feeder_chain import FeederProcess, TcpProxy, check_exactly_once, day, iso, module_chain, wait_for
from greenbond.chain.localnode import start_anvil

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

SEED = 17


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-node-restart")


def test_backfill_survives_the_node_restarting(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    # the feeder reaches the node through a proxy that stops passing its requests on after its
    # third transaction: the node is stopped while the feeder is at that point, whatever its speed
    proxy = TcpProxy(chain.port)
    proxy.hold_after(b'"eth_sendRawTransaction"', 3)
    args = ["backfill", "--rpc", proxy.url, "--db", str(db), "--deployments", str(chain.deployments),
            "--from", iso(day(0)), "--to", iso(day(2)), "--seed", str(SEED), "--no-progress", "--batch-size", "4"]
    p = FeederProcess(args, tmp_path / "feeder.log")
    try:
        wait_for(proxy.holding.is_set, 120, "the feeder's third transaction")
        chain.node.stop()                                   # the node goes away, state saved
        proxy.release()
        p.wait_event("rpc_unavailable", count=2)            # the feeder backs off and retries
        chain.node = start_anvil(chain.workdir / "anvil-state.json", port=chain.port, genesis_timestamp=None,
                                 log_file=chain.workdir / "anvil.log")
        assert p.wait() == 0, p.errors()[-3000:]
    finally:
        if p.proc.poll() is None:
            p.kill9()
        proxy.cut()
    events = [e["event"] for e in p.events()]
    before = events[:events.index("rpc_unavailable")]
    assert 2 <= before.count("confirmed") <= 3 and events.count("confirmed") == 24   # half-way, then the rest
    assert check_exactly_once(chain, day(0), day(2), SEED) == 96
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall() == [("confirmed", 96)]
