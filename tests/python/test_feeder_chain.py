"""The feeder end to end on a local Anvil: the suite deployed with deploy_suite (Brownie), the
feeder run as a separate OS process (`python -m greenbond feeder ...`), and after each scenario
every hour of both facilities checked on chain exactly once (one ReportAccepted per (facility,
hour)) and equal to an independent recomputation through greenbond.impact.

One chain for the module; each scenario reports its own days, so the scenarios do not depend on
each other's order: a plain backfill, a kill -9 during submission, an RPC
outage through a TCP proxy we cut and restore, a transaction dropped from the pool, and a gas
bound that splits batches. After each, every report the store says confirmed is on chain with its
readings root (`confirmed_are_on_chain`). `feeder run` catching up an outage, late hours and gaps
are in test_feeder_gaps.py (a chain each). The chain's clock starts 10 days after the facilities' reporting
start (2023-12-14 00:00 JST).

Run inside a private network namespace:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_feeder_chain.py'
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from feeder_chain import (
    HOUR, FeederProcess, TcpProxy, check_exactly_once, confirmed_are_on_chain, day, iso, module_chain, wait_for,
)

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    __import__("pathlib").Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

SEED = 11


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-chain")


def backfill_args(chain, db, start, end, *extra, rpc=None):
    return ["backfill", "--rpc", rpc or chain.url, "--db", str(db), "--deployments", str(chain.deployments),
            "--from", iso(start), "--to", iso(end), "--seed", str(SEED), "--no-progress", *extra]


def db_rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_backfill_two_days_exactly_once_and_verify(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    p = FeederProcess(backfill_args(chain, db, day(0), day(2), "--batch-size", "24"), tmp_path / "feeder.log")
    assert p.wait() == 0, p.errors()[-3000:]
    assert check_exactly_once(chain, day(0), day(2), SEED) == 96
    # batching: 96 reports in transactions of at most 24, each mined
    txs = db_rows(db, "SELECT status, reports FROM transactions")
    assert [s for s, _ in txs] == ["mined"] * 4 and all(n <= 24 for _, n in txs)
    assert db_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("confirmed", 96)]
    # the logs are JSON lines with events; the dev keys were announced loudly
    events = [e["event"] for e in p.events()]
    assert "dev_keys" in events and events.count("sent") == 4 and events.count("confirmed") == 4

    # a second run of the same backfill sends nothing
    p2 = FeederProcess(backfill_args(chain, db, day(0), day(2)), tmp_path / "feeder2.log")
    assert p2.wait() == 0, p2.errors()[-3000:]
    assert "sent" not in [e["event"] for e in p2.events()]
    assert check_exactly_once(chain, day(0), day(2), SEED) == 96

    # verify: one reading of one hour, its proof checked on chain, signers named
    v = FeederProcess(["verify", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments),
                       "--facility", "1", "--hour", iso(day(1) + 9 * HOUR), "--reading", "1"], tmp_path / "verify.log")
    assert v.wait() == 0, v.errors()[-3000:]
    out = v.output()
    assert "verifyReading: TRUE" in out
    from greenbond.oracle.setup import dev_signer_keys

    signers = [k.address for k in dev_signer_keys()[:2]]
    assert all(s in out for s in signers)

    # status: on chain and in the store agree
    s = FeederProcess(["status", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments),
                       "--json"], tmp_path / "status.log")
    assert s.wait() == 0, s.errors()[-3000:]
    import json

    st = json.loads(s.output())
    assert st["outbox"]["confirmed"] == 96 == confirmed_are_on_chain(chain, db)
    assert st["chain"]["facilities"]["1"]["last_period_end"] >= day(2)


def test_kill9_during_submission_then_restart(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    # killed at its second transaction, whatever its speed: a proxy holds its requests after that one
    proxy = TcpProxy(chain.port)
    proxy.hold_after(b'"eth_sendRawTransaction"', 2)
    try:
        p = FeederProcess(backfill_args(chain, db, day(2), day(4), "--batch-size", "4", rpc=proxy.url),
                          tmp_path / "feeder.log")
        wait_for(proxy.holding.is_set, 120, "the feeder's second transaction")
        p.kill9()
    finally:
        proxy.cut()
    # killed mid-way: something is still to do
    left = db_rows(db, "SELECT COUNT(*) FROM outbox WHERE status != 'confirmed'")[0][0]
    assert left > 0
    args = backfill_args(chain, db, day(2), day(4), "--batch-size", "4")
    p2 = FeederProcess(args, tmp_path / "feeder2.log")
    assert p2.wait() == 0, p2.errors()[-3000:]
    assert check_exactly_once(chain, day(2), day(4), SEED) == 96
    assert db_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("confirmed", 96)]
    assert confirmed_are_on_chain(chain, db) == 96


def test_rpc_outage_in_the_middle(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    proxy = TcpProxy(chain.port)
    try:
        proxy.hold_after(b'"eth_sendRawTransaction"', 3)    # the outage starts at its third transaction
        p = FeederProcess(backfill_args(chain, db, day(4), day(6), "--batch-size", "4", rpc=proxy.url),
                          tmp_path / "feeder.log")
        wait_for(proxy.holding.is_set, 120, "the feeder's third transaction")
        proxy.cut()
        proxy.release()
        p.wait_event("rpc_unavailable", count=2)   # it retried at least twice (backoff) while the node was away
        proxy.restore()
        assert p.wait() == 0, p.errors()[-3000:]
    finally:
        proxy.cut()
    assert check_exactly_once(chain, day(4), day(6), SEED) == 96
    assert db_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("confirmed", 96)]
    assert confirmed_are_on_chain(chain, db) == 96


def test_dropped_transaction_is_resent(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    chain.rpc("evm_setAutomine", [False])
    try:
        p = FeederProcess(backfill_args(chain, db, day(6), day(7), "--receipt-timeout", "1"), tmp_path / "feeder.log")
        sent = p.wait_event("sent")
        chain.rpc("anvil_dropTransaction", [sent["tx"]])
        resent = p.wait_event("resent")
        assert resent["tx"] == sent["tx"]
    finally:
        chain.rpc("evm_setAutomine", [True])
    chain.rpc("evm_mine")
    assert p.wait() == 0, p.errors()[-3000:]
    assert check_exactly_once(chain, day(6), day(7), SEED) == 48
    (attempts,) = db_rows(db, f"SELECT attempts FROM transactions WHERE tx_hash = '{sent['tx']}'")[0]
    assert attempts >= 2


def test_gas_bound_splits_batches(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    p = FeederProcess(backfill_args(chain, db, day(7), day(8), "--max-gas", "400000"), tmp_path / "feeder.log")
    assert p.wait() == 0, p.errors()[-3000:]
    assert check_exactly_once(chain, day(7), day(8), SEED) == 48
    txs = db_rows(db, "SELECT reports, gas_used FROM transactions WHERE status = 'mined'")
    assert len(txs) > 2 and all(n < 24 and gas <= 400000 for n, gas in txs)


def test_unwritable_database_is_a_sentence(chain, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    p = FeederProcess(backfill_args(chain, blocker / "feeder.sqlite", day(8), day(9)), tmp_path / "feeder.log")
    assert p.wait() == 1
    err = p.errors()
    assert err.startswith("error: ") and "feeder database" in err and "Traceback" not in err
