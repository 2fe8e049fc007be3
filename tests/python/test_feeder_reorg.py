"""The feeder survives a chain reorganisation (greenbond/feeder/transmit.py `check_reorg`).

Store transitions first (no chain): a confirmed report whose transaction a reorganisation removed
goes back to pending (tx hash and nonce cleared) or, its transaction in the pool again, to sent;
one re-mined in another block gets its new block and report index.

Then on a private Anvil with the suite deployed (tests/python/feeder_chain.py), each scenario on
its own days (the oracle is forward-only per facility): the feeder backfills, its reports are
confirmed, the chain is reorganised under it, and the feeder runs again. Afterwards every hour is
on chain exactly once (one ReportAccepted per (facility, hour)) and equal to an independent
recomputation through greenbond.impact, and the log says the reorganisation was detected:
- `anvil_reorg` deep enough to take the feeder's last three transactions, one of them replayed
  in another block: a new feeder process moves that one and sends the rest again;
- an `evm_snapshot`/`evm_revert` rollback under a feeder that keeps running in this process: it
  notices at its next step, without a restart, and sends everything again;
- `anvil_rollback` with the feeder's transaction put back in the pool: back to sent, then mined.

Run inside a private network namespace:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_feeder_reorg.py'
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from feeder_chain import day, iso, module_chain
from greenbond.feeder.store import FeederStore, StoreError
from greenbond.impact.facilities import load_facilities
from greenbond.meters.model import jst

SEED = 11
HOUR = 3600
DAY = 86_400

needs_anvil = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")


# ---------------------------------------------------------------- the store's transitions (no chain)


@pytest.fixture
def store(tmp_path):
    """A store with a day of signed reports of both facilities, pending."""
    from greenbond.feeder.service import ChainContext, Pipeline
    from greenbond.feeder.signer import ReportSigner
    from greenbond.impact.methodology import load_methodology
    from greenbond.meters.simulator import simulate
    from greenbond.oracle.setup import dev_signer_keys

    oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    s = FeederStore(tmp_path / "f.sqlite")
    pipeline = Pipeline(s, load_facilities(), load_methodology(), ChainContext(31337, oracle, 1, 1, 2, {}),
                        ReportSigner(dev_signer_keys(), 31337, oracle, 2))
    start, end = jst(2024, 1, 8), jst(2024, 1, 9)
    assert pipeline.ingest(simulate(load_facilities(), start, end, seed=3), start, end).hours_new == 48
    yield s
    s.close()


def _mined(store, tx="0xaa", block=40, n=4):
    batch = store.pending(limit=n)
    store.record_sent(tx, 7, b"raw", 100_000, [e.id for e in batch])
    store.mark_mined(tx, block, 90_000, {(e.facility_id, e.period_start): i for i, e in enumerate(batch)})
    return batch


def test_store_reorged_transaction_gone_goes_back_to_pending(store):
    batch = _mined(store)
    assert [e.id for e in store.confirmed_since(39)] == [e.id for e in batch]
    assert store.confirmed_since(40) == []
    back = store.reorged("0xaa", "dropped", "a chain reorganisation removed transaction 0xaa from the chain")
    assert sorted(e.id for e in back) == sorted(e.id for e in batch) and {e.status for e in back} == {"confirmed"}
    e = store.entry(batch[0].facility_id, batch[0].period_start)
    assert (e.status, e.tx_hash, e.nonce, e.block, e.report_index, e.attempts) == ("pending", None, None, None, None, 1)
    assert "reorganisation" in e.last_error
    tx = store.transaction_record("0xaa")
    assert tx.status == "dropped" and "reorganisation" in tx.last_error
    assert store.reorged("0xaa", "dropped", "again") == []          # only a mined transaction is put back
    # signed again with the same nonce and the same reports, the transaction is the very same
    # bytes (deterministic signatures): its record is reused; mined: confirmed once more
    store.record_sent("0xaa", 7, b"raw", 100_000, [e.id for e in batch])
    tx = store.transaction_record("0xaa")
    assert (tx.status, tx.attempts, tx.block) == ("sent", 2, None)
    with pytest.raises(StoreError, match="already sent"):
        store.record_sent("0xaa", 7, b"raw", 100_000, [])
    assert store.mark_mined("0xaa", 41, 90_000, {}) == 4
    e = store.entry(batch[0].facility_id, batch[0].period_start)
    assert (e.status, e.tx_hash, e.block, e.attempts) == ("confirmed", "0xaa", 41, 2)


def test_store_reorged_transaction_in_the_pool_goes_back_to_sent(store):
    batch = _mined(store)
    back = store.reorged("0xaa", "sent", "a chain reorganisation put transaction 0xaa back in the pool")
    assert len(back) == 4
    assert [t.tx_hash for t in store.inflight()] == ["0xaa"] and store.transaction_record("0xaa").block is None
    assert {(e.status, e.tx_hash, e.block) for e in store.entries_of_tx("0xaa")} == {("sent", "0xaa", None)}
    # the in-flight machinery takes over: mined again
    assert store.mark_mined("0xaa", 45, 90_000, {}) == 4
    assert store.entry(batch[0].facility_id, batch[0].period_start).block == 45


def test_store_reorged_transaction_reverted_goes_back_to_pending(store):
    batch = _mined(store)
    assert len(store.reorged("0xaa", "reverted", "mined again and reverted")) == 4
    assert store.transaction_record("0xaa").status == "reverted"
    assert {store.entry(e.facility_id, e.period_start).status for e in batch} == {"pending"}
    with pytest.raises(ValueError):
        store.reorged("0xaa", "mined", "x")


def test_store_remined_updates_block_and_index(store):
    batch = _mined(store, block=40)
    moved = {(batch[0].facility_id, batch[0].period_start): 17}
    assert store.remined("0xaa", 43, 88_000, moved) == 4
    first = store.entry(batch[0].facility_id, batch[0].period_start)
    second = store.entry(batch[1].facility_id, batch[1].period_start)
    assert (first.status, first.block, first.report_index) == ("confirmed", 43, 17)
    assert (second.block, second.report_index) == (43, 1)      # an index not in the receipt is kept
    assert store.transaction_record("0xaa").block == 43


def test_store_reconciled_queries_and_unconfirm(store):
    """Reports confirmed by reconciliation (no transaction of ours) are only found through the
    oracle's reported hours: confirmed originals whose hour it no longer reports are not on chain."""
    first = store.pending(limit=1)[0]
    store.confirm_on_chain(1, {first.period_start + k * HOUR: ((9, 0) if k == 0 else (None, None)) for k in range(3)})
    assert store.confirmed_tips() == {1: first.period_start + 2 * HOUR}
    assert store.confirmed_since(0) == []                        # no mined transaction of ours holds them
    lost = [e for e in store.confirmed_originals(1) if e.period_start > first.period_start]
    assert [e.period_start for e in lost] == [first.period_start + HOUR, first.period_start + 2 * HOUR]
    assert store.unconfirm([e.id for e in lost], "no longer on chain") == 2
    assert store.confirmed_tips() == {1: first.period_start}
    e = store.entry(1, first.period_start + HOUR)
    assert (e.status, e.block, e.report_index, e.last_error) == ("pending", None, None, "no longer on chain")
    assert store.unconfirm([], "nothing") == 0


def test_store_schema_is_unchanged():
    """The reorganisation handling needs no new column or status: databases of schema 1 open as
    they are (no migration)."""
    from greenbond.feeder import store as st

    assert st.SCHEMA_VERSION == 1
    assert st.STATUSES == ("pending", "sent", "confirmed", "failed")


# ---------------------------------------------------------------- on a chain


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-reorg")


def backfill_args(chain, db, start, end, *extra):
    return ["backfill", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments),
            "--from", iso(start), "--to", iso(end), "--seed", str(SEED), "--no-progress", *extra]


def db_rows(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def Events():
    """The transmit logger's records in this process, by event (feeder_chain.LogEvents)."""
    from feeder_chain import LogEvents

    return LogEvents("greenbond.feeder.transmit")


def in_process_feeder(chain, db, **kwargs):
    from greenbond.feeder.metrics import Metrics
    from greenbond.feeder.service import Feeder

    f = Feeder(rpc_url=chain.url, db_path=db, deployments_dir=chain.deployments, seed=SEED, batch_size=12, **kwargs)
    f.connect()
    f.transmitter.metrics = Metrics()
    return f


@needs_anvil
def test_anvil_reorg_under_the_feeder_then_it_runs_again(chain, tmp_path):
    """The feeder's last three transactions are taken off the chain by `anvil_reorg`; the first
    of them is replayed in another block. The next run moves that one's block and sends the
    other 24 reports again: every hour exactly once, equal to the recomputation."""
    from feeder_chain import FeederProcess, check_exactly_once, confirmed_are_on_chain

    db = tmp_path / "feeder.sqlite"
    args = backfill_args(chain, db, day(0), day(1), "--batch-size", "12")
    p = FeederProcess(args, tmp_path / "feeder.log")
    assert p.wait() == 0, p.errors()[-3000:]
    assert check_exactly_once(chain, day(0), day(1), SEED) == 48
    txs = db_rows(db, "SELECT tx_hash, raw, block FROM transactions WHERE status = 'mined' ORDER BY nonce")
    assert len(txs) == 4
    latest = chain.w3().eth.block_number
    assert [b for _, _, b in txs[1:]] == [latest - 2, latest - 1, latest]   # one block each, the last three

    replayed = txs[1]
    chain.rpc("anvil_reorg", [3, [["0x" + bytes(replayed[1]).hex(), 1]]])
    on_chain = chain.accepted()
    assert {e["tx"].removeprefix("0x") for e in on_chain if e["periodStart"] >= day(0)} == {
        txs[0][0].removeprefix("0x"), replayed[0].removeprefix("0x")}
    assert {e["block"] for e in on_chain if e["tx"].removeprefix("0x") == replayed[0].removeprefix("0x")} == {latest - 1}
    # the feeder's database still says all 48 are confirmed
    assert db_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("confirmed", 48)]

    p2 = FeederProcess(args, tmp_path / "feeder2.log")
    assert p2.wait() == 0, p2.errors()[-3000:]
    assert check_exactly_once(chain, day(0), day(1), SEED) == 48
    assert db_rows(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("confirmed", 48)]
    assert confirmed_are_on_chain(chain, db) == 48   # "confirmed" is what the chain shows again
    events = p2.events()
    (detected,) = [e for e in events if e["event"] == "reorg_detected"]
    assert (detected["reports"], detected["to_pending"], detected["to_sent"], detected["moved"]) == (24, 24, 0, 12)
    assert sorted(detected["txs"]) == sorted(t for t, _, _ in txs[2:])
    assert sorted(h[1] for h in detected["hours"]) == sorted(day(0) + h * HOUR for h in range(12, 24) for _ in (1, 2))
    assert [e["tx"] for e in events if e["event"] == "reorg_moved"] == [replayed[0]]
    assert [e["event"] for e in events].count("sent") == 2
    # the database agrees with the chain: blocks and report indexes of every hour
    onchain = {(e["facilityId"], e["periodStart"]): (e["block"], e["index"]) for e in chain.accepted()}
    stored = db_rows(db, "SELECT facility_id, period_start, block, report_index FROM outbox")
    assert {(f, s): (b, i) for f, s, b, i in stored} == {k: v for k, v in onchain.items() if day(0) <= k[1] < day(1)}
    # same reports, same nonces: the two new transactions are the removed ones byte for byte
    # (deterministic signatures), their records reused
    again = db_rows(db, "SELECT tx_hash, status, attempts, last_error FROM transactions ORDER BY nonce")
    assert [t for t, *_ in again] == [t for t, _, _ in txs]
    assert [(s, n) for _, s, n, _ in again] == [("mined", 1)] * 2 + [("mined", 2)] * 2
    assert all("reorganisation" in why for *_, why in again[2:])


@needs_anvil
def test_snapshot_revert_under_a_running_feeder(chain, tmp_path):
    """A snapshot revert takes every transaction of a backfill off the chain while the feeder
    keeps running in this process: its next step notices (no restart), puts the 48 reports back
    to pending and sends them again."""
    from feeder_chain import check_exactly_once

    feeder = in_process_feeder(chain, tmp_path / "feeder.sqlite")
    try:
        snapshot = chain.rpc("evm_snapshot")
        assert feeder.backfill(day(1), day(2))["transmit"] == "idle"
        assert check_exactly_once(chain, day(1), day(2), SEED) == 48
        assert chain.rpc("evm_revert", [snapshot]) is True
        assert not [e for e in chain.accepted() if e["periodStart"] >= day(1)]
        with Events() as log:
            assert feeder.transmit() == "idle"
        assert check_exactly_once(chain, day(1), day(2), SEED) == 48
        (detected,) = log.named("reorg_detected")
        assert (detected.reports, detected.to_pending, detected.to_sent) == (48, 48, 0)
        assert len(log.named("sent")) == 4
        assert feeder.store.status()["outbox"]["confirmed"] == 48
        reg = feeder.transmitter.metrics.registry
        assert reg.get_sample_value("greenbond_feeder_reorgs_total") == 1
        assert reg.get_sample_value("greenbond_feeder_reports_rolled_back_total") == 48
        # nothing more to do: the cheap check finds the chain as the store says
        with Events() as log:
            assert feeder.transmit() == "idle"
        assert not log.named("reorg_detected") and not log.named("sent")
    finally:
        feeder.close()


@needs_anvil
def test_rolled_back_transaction_back_in_the_pool_is_waited_for(chain, tmp_path):
    """`anvil_rollback` removes the block of the feeder's transaction and the very transaction is
    in the pool again: its reports go back to sent (not pending: no second transaction), and
    are confirmed when it is mined again."""
    from feeder_chain import check_exactly_once

    feeder = in_process_feeder(chain, tmp_path / "feeder.sqlite")
    try:
        assert feeder.backfill(day(2), day(2) + 6 * HOUR)["transmit"] == "idle"
        (tx,) = feeder.store.transactions()
        assert tx.status == "mined" and tx.block == chain.w3().eth.block_number
        chain.rpc("evm_setAutomine", [False])
        try:
            chain.rpc("anvil_rollback", [1])
            assert not [e for e in chain.accepted() if e["periodStart"] >= day(2)]
            chain.rpc("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
            with Events() as log:
                assert feeder.transmitter.check_reorg() == 12
            (detected,) = log.named("reorg_detected")
            assert (detected.to_sent, detected.to_pending) == (12, 0)
            assert feeder.store.status()["outbox"]["sent"] == 12
            assert [t.tx_hash for t in feeder.store.inflight()] == [tx.tx_hash]
        finally:
            chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_mine")
        with Events() as log:
            assert feeder.transmit() == "idle"
        assert not log.named("sent")                      # the same transaction, not a new one
        assert check_exactly_once(chain, day(2), day(2) + 6 * HOUR, SEED) == 12
        (again,) = feeder.store.transactions()
        assert (again.tx_hash, again.status) == (tx.tx_hash, "mined")
        assert feeder.store.status()["outbox"]["confirmed"] == 12
    finally:
        feeder.close()
