"""Gas of the primary offering's settlement and of DvP trades against the physical floor:
`run_offering_bench()` writes reports/bench_offering.json (atomically) and returns the report.

Runs on the connected Brownie network (a local development chain; connects to "development" if
none is). One run deploys a HolderRegistry, the dev SettlementToken and a GreenBond (terms
relative to the chain's clock), then measures `gas_used`:

* settlement per investor: three offerings settled in one batch of 1, 10 and 100 investors
  (fresh registered wallets, each subscribed 10 units, allotted in full, so each investor is a
  new holder and there is no refund); per-investor figure = gas of the batch / investors;
* DvP trades between existing holders: `offer`, `accept` (both legs), and on a
  transfer-approval bond `offer`, `accept` (cash into the DvP) and the agent's `approve`;
* the physical floor, in the same run: a GreenBond `transfer` of 1 unit plus one
  SettlementToken `transfer`. Two floors: to a new holder (balance 0 before; what settlement
  does for a first-time investor) and between existing holders (what a secondary trade does).
  Ratios compare each figure with the matching floor.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from greenbond.files import write_json_atomic

from greenbond.config import REPO_ROOT

SCHEMA_VERSION = 1
REPORT_PATH = REPO_ROOT / "reports" / "bench_offering.json"
BATCHES = (1, 10, 100)
DAY = 86_400
PAR = 1_000_000
UNITS_EACH = 10


write_atomically = write_json_atomic  # the report is written atomically (greenbond.files)


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build_report(measurements: dict, meta: dict) -> dict:
    """The report from raw gas figures (pure; unit-testable)."""
    floor_new = measurements["floor"]["bond_transfer_new_holder"] + measurements["floor"]["cash_transfer"]
    floor_existing = measurements["floor"]["bond_transfer_existing"] + measurements["floor"]["cash_transfer"]
    per_investor = {str(n): measurements["settle_batch"][str(n)] / n for n in BATCHES if str(n) in measurements["settle_batch"]}
    trade = measurements["dvp"]
    trade_total = trade["offer"] + trade["accept"]
    approval_total = trade["offer_approval_mode"] + trade["accept_pending"] + trade["approve"]
    return {
        "schema_version": SCHEMA_VERSION,
        **meta,
        "measurements": measurements,
        "per_settled_investor": per_investor,
        "per_trade": {"offer_plus_accept": trade_total, "offer_accept_approve": approval_total},
        "floor": {"new_holder": floor_new, "existing_holders": floor_existing,
                  "note": "two separate transactions: each floor includes 2 x 21,000 intrinsic gas, which a batch amortises"},
        "ratios": {
            **{f"settle_per_investor_batch_{n}_vs_floor": round(v / floor_new, 3) for n, v in per_investor.items()},
            "trade_vs_floor": round(trade_total / floor_existing, 3),
            "accept_vs_floor": round(trade["accept"] / floor_existing, 3),
            "approval_trade_vs_floor": round(approval_total / floor_existing, 3),
        },
    }


def run_offering_bench(path: Path = REPORT_PATH, batches=BATCHES) -> dict:
    """Measures on the connected Brownie network; writes `path`; returns the report."""
    import warnings

    from brownie import ZERO_ADDRESS, accounts, chain, network, project, web3

    warnings.filterwarnings("ignore", category=FutureWarning)
    if not network.is_connected():
        network.connect("development")
    proj = project.get_loaded_projects()[0] if project.get_loaded_projects() else project.load(REPO_ROOT, name="GreenBondProject")
    admin = accounts[0]
    tx_from = {"from": admin}

    def send(fn, *args, sender=None, gas_limit=None):
        """Sends without Brownie's confirmation loop (which, with many fresh local accounts on a
        fast-mining node, sometimes reports a mined transaction as dropped); returns gas used."""
        params = {"from": sender or admin, "required_confs": 0}
        if gas_limit:
            params["gas_limit"] = gas_limit
        tx = fn(*args, params)
        receipt = web3.eth.wait_for_transaction_receipt(tx.txid, timeout=120)
        if receipt["status"] != 1:
            raise RuntimeError(f"benchmark transaction {tx.txid} reverted")
        return int(receipt["gasUsed"])

    settlement = proj.SettlementToken.deploy("JPY bench", "JPYB", admin, tx_from)
    registry = proj.HolderRegistry.deploy(admin, tx_from)
    start = chain.time()
    coupon_dates = [start + 30 * DAY * (i + 1) for i in range(12)]
    terms = ("Bench Green Bond", "BGB", "PLACEHOLDER-BENCH", settlement.address, PAR, PAR * 10_000, 5_980, 1, 12, 0,
             start, coupon_dates[-1], DAY, coupon_dates)
    bond = proj.GreenBond.deploy(terms, registry, admin, tx_from)
    registry.addCachingToken(bond, tx_from)   # as greenbond.deploy does
    expires = start + 10 * 365 * DAY
    serial = [0]

    def new_holder():
        serial[0] += 1
        acct = accounts.add()
        send(registry.registerHolder, acct, "0x" + f"{serial[0]:064x}", 392, expires, "0x" + "ab" * 48)
        return acct

    # ---------------------------------------------------------------- the floor
    a, b, fresh = new_holder(), new_holder(), new_holder()
    bond.batchMint([a, b], [100, 100], tx_from)
    settlement.mint(a, 10**12, tx_from)
    settlement.mint(b, 10**12, tx_from)
    bond.transfer(b, 1, {"from": a})  # warm: both balances already nonzero
    floor = {
        "bond_transfer_existing": bond.transfer(b, 1, {"from": a}).gas_used,
        "bond_transfer_new_holder": bond.transfer(fresh, 1, {"from": a}).gas_used,
        "cash_transfer": settlement.transfer(b, PAR, {"from": a}).gas_used,
    }

    # ---------------------------------------------------------------- settlement batches
    settle_batch = {}
    for n in batches:
        now = chain.time()
        ot = (now + 60, now + DAY, now + 2 * DAY, now + 30 * DAY, PAR, 1, UNITS_EACH, UNITS_EACH * n, admin.address,
              ZERO_ADDRESS)
        o = proj.Offering.deploy(bond, ot, admin, tx_from)
        bond.grantRole(bond.MINTER_ROLE(), o, tx_from)
        investors = [new_holder() for _ in range(n)]
        for inv in investors:
            send(settlement.mint, inv, UNITS_EACH * PAR)
            send(settlement.approve, o, UNITS_EACH * PAR, sender=inv)
        chain.sleep(61)
        chain.mine()
        for inv in investors:
            send(o.subscribe, UNITS_EACH, sender=inv)
        chain.sleep(DAY)
        chain.mine()
        o.allot(tx_from)
        chain.sleep(DAY)
        chain.mine()
        settle_batch[str(n)] = send(o.settle, investors, gas_limit=11_000_000)

    # ---------------------------------------------------------------- DvP
    dvp = proj.BondDvP.deploy(bond, 30 * DAY, tx_from)
    bond.grantRole(bond.LOCKER_ROLE(), dvp, tx_from)
    for w in (a, b):
        settlement.approve(dvp, 2**256 - 1, {"from": w})
    dvp.offer(b, 1, PAR, chain.time() + DAY, {"from": a})  # warm the trade array and locks
    dvp.accept(0, {"from": b})
    offer = dvp.offer(b, 1, PAR, chain.time() + DAY, {"from": a})
    accept = dvp.accept(1, {"from": b})
    bond.setTransferApprovalRequired(True, tx_from)
    offer_a = dvp.offer(b, 1, PAR, chain.time() + DAY, {"from": a})
    accept_p = dvp.accept(2, {"from": b})
    approve = dvp.approve(2, tx_from)
    dvp_gas = {"offer": offer.gas_used, "accept": accept.gas_used, "offer_approval_mode": offer_a.gas_used,
               "accept_pending": accept_p.gas_used, "approve": approve.gas_used}

    meta = {
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "network": network.show_active(),
        "chain_id": web3.eth.chain_id,
        "client_version": web3.client_version,
        "git_commit": _git_commit(),
        "units_per_investor": UNITS_EACH,
        "description": __doc__.strip().split("\n\n")[0],
    }
    report = build_report({"floor": floor, "settle_batch": settle_batch, "dvp": dvp_gas}, meta)
    write_atomically(Path(path), report)
    return report


def main() -> None:
    report = run_offering_bench()
    print(json.dumps({k: report[k] for k in ("per_settled_investor", "per_trade", "floor", "ratios")}, indent=2))


__all__ = ["run_offering_bench", "build_report", "write_atomically", "REPORT_PATH"]
