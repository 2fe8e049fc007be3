"""The transmitter's gas limits on a real Anvil: a batch's limit comes from the per-report bound,
checked by one eth_call (no eth_estimateGas on the normal path); at gas price 0 the check is
skipped while transactions keep succeeding; a batch that needs more than the bound falls back to
the estimate and raises the bound; a transaction that reverts makes the next batch checked again.
Every hour ends on chain exactly once, equal to the recomputation."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from feeder_chain import check_exactly_once, day, module_chain
from greenbond.feeder import transmit

SEED = 5

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-gas")


def feeder(chain, db, **kwargs):
    """An in-process feeder whose eth_estimateGas calls and eth_call checks of whole batches are
    counted (rpc.estimates, rpc.checks: the batch sizes)."""
    from greenbond.feeder.service import Feeder

    f = Feeder(rpc_url=chain.url, db_path=db, deployments_dir=chain.deployments, seed=SEED, batch_size=12, **kwargs)
    f.connect()
    t = f.transmitter
    rpc = SimpleNamespace(checks=[], estimates=[])
    check, estimate = t._runs_within, t.w3.eth.estimate_gas
    t._runs_within = lambda entries, gas: rpc.checks.append(len(entries)) or check(entries, gas)
    t.w3.eth.estimate_gas = lambda tx, *a: rpc.estimates.append(len(tx["data"])) or estimate(tx, *a)
    return f, rpc


def transactions(f) -> list:
    return [(t.status, t.reports, t.gas_limit, t.gas_used) for t in f.store.transactions()]


def test_limits_from_the_bound_one_check_then_none(chain, tmp_path):
    f, rpc = feeder(chain, tmp_path / "feeder.sqlite")
    try:
        assert f.backfill(day(0), day(1))["transmit"] == "idle"
        txs = transactions(f)
        signatures = len(f.store.entries("confirmed")[0].signatures)
    finally:
        f.close()
    assert check_exactly_once(chain, day(0), day(1), SEED) == 48
    per_report = transmit.GAS_PER_REPORT + transmit.GAS_PER_SIGNATURE * signatures
    assert [(s, n, limit) for s, n, limit, _ in txs] == [("mined", 12, transmit.GAS_FIXED + 12 * per_report)] * 4
    assert all(used < limit for *_, limit, used in txs)
    # the first batch is checked by one eth_call; the other three go unchecked (gas price 0,
    # the last transaction succeeded); nothing is estimated
    assert rpc.checks == [12]
    assert len(rpc.estimates) == 0


def test_checked_every_time_at_a_gas_price(chain, tmp_path):
    f, rpc = feeder(chain, tmp_path / "feeder.sqlite", gas_price=1)
    try:
        assert f.backfill(day(1), day(2))["transmit"] == "idle"
    finally:
        f.close()
    assert rpc.checks == [12, 12, 12, 12]
    assert len(rpc.estimates) == 0
    assert check_exactly_once(chain, day(1), day(2), SEED) == 48


def test_a_bound_too_low_falls_back_to_the_estimate_and_learns(chain, tmp_path, monkeypatch):
    monkeypatch.setattr(transmit, "GAS_PER_REPORT", 1_000)
    monkeypatch.setattr(transmit, "GAS_PER_SIGNATURE", 0)
    f, rpc = feeder(chain, tmp_path / "feeder.sqlite")
    try:
        assert f.backfill(day(2), day(3))["transmit"] == "idle"
        txs = transactions(f)
        learned = f.transmitter._learned_per_report
    finally:
        f.close()
    assert check_exactly_once(chain, day(2), day(3), SEED) == 48
    # the first batch's check fails (too little gas): estimated once, the bound learned from it;
    # the next three use the learned bound and nothing reverts
    assert rpc.checks == [12] and len(rpc.estimates) == 1
    assert learned > 50_000
    assert [s for s, *_ in txs] == ["mined"] * 4
    assert [limit for *_, limit, _ in txs[1:]] == [transmit.GAS_FIXED + 12 * learned] * 3


def test_an_unchecked_batch_that_reverts_makes_the_next_one_checked(chain, tmp_path, monkeypatch):
    """After a first transaction succeeds, the bound drops too low: the next batch goes unchecked,
    runs out of gas and is mined reverted; its reports go back to pending, the next batch is
    checked, estimated, and every hour still lands once."""
    f, rpc = feeder(chain, tmp_path / "feeder.sqlite")
    try:
        f.backfill(day(3), day(4), transmit=False)
        t = f.transmitter
        assert t.step().action == "confirmed"
        monkeypatch.setattr(transmit, "GAS_PER_REPORT", 1_000)
        monkeypatch.setattr(transmit, "GAS_PER_SIGNATURE", 0)
        assert t.step().action == "failed"            # sent unchecked, reverted (out of gas)
        assert rpc.checks == [12] and len(rpc.estimates) == 0
        assert t.drain() == "idle"
        txs = transactions(f)
    finally:
        f.close()
    assert check_exactly_once(chain, day(3), day(4), SEED) == 48
    assert [s for s, *_ in txs] == ["mined", "reverted", "mined", "mined", "mined"]
    assert rpc.checks == [12, 12] and len(rpc.estimates) == 1
