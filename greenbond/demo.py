"""`make demo`: a local chain with the default bond deployed, investors registered, the issue
allotted, and a summary of what was done.

Run again, it resumes the same chain (Anvil keeps it in .demo/anvil-state.json) and does only
what is missing. Investors' personal details are sealed to a demo issuer key kept in
.demo/keys/ (ignored by git); nothing personal is printed or sent in plaintext.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import subprocess
import threading
import time
import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, ConfigError, load_terms
from greenbond.deployments import DeploymentError
from greenbond.holders import (
    HolderDetails,
    default_issuer_key_path,
    generate_issuer_key,
    investor_id,
    load_investor_id_salt,
    load_issuer_public_key,
    seal,
)
from greenbond.feeder.service import FeederError
from greenbond.feeder.store import StoreError
from greenbond.chain.localnode import LocalChainError, rpc, start_anvil, start_ganache

DEMO_DIR = REPO_ROOT / ".demo"
DEMO_PORT = 8546
JAPAN = 392


@dataclass(frozen=True)
class DemoInvestor:
    account_index: int
    identifier: str      # the issuer's own customer number: only its salted hash goes on chain
    details: HolderDetails
    units: int


# Fictitious investors; the units add up to the whole issue of the default bond (10,000).
DEMO_INVESTORS = (
    DemoInvestor(1, "CUST-0001", HolderDetails("Sakura Life Insurance Co. (fictitious)", "1-1 Marunouchi, Chiyoda-ku, Tokyo", "bonds@sakura-life.example", "corporation"), 4_000),
    DemoInvestor(2, "CUST-0002", HolderDetails("Midori Asset Management (fictitious)", "2-2 Nihonbashi, Chuo-ku, Tokyo", "ops@midori-am.example", "corporation"), 3_000),
    DemoInvestor(3, "CUST-0003", HolderDetails("Kobe Regional Bank (fictitious)", "3-3 Sannomiya, Chuo-ku, Kobe", "treasury@kobe-bank.example", "corporation"), 2_000),
    DemoInvestor(4, "CUST-0004", HolderDetails("Hanako Yamada (fictitious)", "4-4 Aoba-ku, Sendai", "hanako@example.jp", "individual"), 600),
    DemoInvestor(5, "CUST-0005", HolderDetails("Taro Suzuki (fictitious)", "5-5 Naka-ku, Nagoya", "taro@example.jp", "individual"), 400),
)


_OUT = sys.stdout


def _say(msg: str = "") -> None:
    """The demo's own output. Brownie prints a paragraph per transaction, and its `silent` is
    not honoured for every path, so its stdout is discarded while the demo runs (see run)."""
    print(msg, file=_OUT, flush=True)


class _Discard(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


PAGE_PORT = 8501
BACKOFFICE_PORT = 8502
PUBLISHED_DIR = DEMO_DIR / "published"   # the page's default GREENBOND_PUBLISHED_DIR
PUBLISH_EVERY_S = 300


def run(config_path: Path, serve: bool, chain_kind: str = "anvil", rpc_url: str | None = None,
        with_feeder: bool = True) -> int:
    """The whole demo. `rpc_url` attaches to an existing node with an existing deployment
    (nothing is deployed or started); otherwise a local Anvil (or Ganache) is started or resumed."""
    terms = load_terms(config_path)  # validated before anything starts
    if sum(i.units for i in DEMO_INVESTORS) > terms.units:
        raise ConfigError("issue_volume", f"the demo allots {sum(i.units for i in DEMO_INVESTORS)} units; the bond has {terms.units}")
    DEMO_DIR.mkdir(exist_ok=True)
    node = None
    processes: list[subprocess.Popen] = []
    stop = threading.Event()
    feeder_thread = None
    try:
        if rpc_url is None:
            genesis = terms.timestamp(terms.issue_date) - 86_400  # the day before the issue date
            if chain_kind == "ganache":
                _say(f"Starting Ganache on port {DEMO_PORT} (chain in .demo/ganache-db) ...")
                node = start_ganache(DEMO_DIR / "ganache-db", port=DEMO_PORT, genesis_timestamp=genesis,
                                     log_file=DEMO_DIR / "ganache.log")
            else:
                _say(f"Starting Anvil on port {DEMO_PORT} (chain in .demo/anvil-state.json) ...")
                node = start_anvil(DEMO_DIR / "anvil-state.json", port=DEMO_PORT, genesis_timestamp=genesis,
                                   log_file=DEMO_DIR / "anvil.log")
            if node.process is None:
                _say(f"  a node is already serving at {node.url}; using it")
            rpc_url = node.url
            with contextlib.redirect_stdout(_Discard()):
                _run_on_chain(terms, config_path)
        else:
            _say(f"Using the node at {rpc_url} and its recorded deployment (nothing is deployed).")
            _check_existing(rpc_url)

        feeder = None
        if with_feeder:
            feeder = _backfill_impact(rpc_url)
            _publish_readings(since=None)
        if not serve:
            return 0
        if feeder is not None:
            feeder_thread = threading.Thread(target=feeder.run_forever, args=(stop,), name="feeder", daemon=True)
            feeder_thread.start()
            threading.Thread(target=_keep_publishing, args=(stop,), name="publish", daemon=True).start()
            threading.Thread(target=_keep_clock, args=(rpc_url, stop), name="clock", daemon=True).start()
            _say("\nThe feeder keeps reporting each hour as it closes (log: .demo/feeder.log); its readings are "
                 f"published for Verify in {_display(PUBLISHED_DIR)} every {PUBLISH_EVERY_S // 60} minutes.")
        processes.append(_start_page(rpc_url))
        backoffice, user, password = _start_backoffice(rpc_url)
        processes.append(backoffice)
        _say(f"\nInvestor page (public):  http://localhost:{PAGE_PORT}   (chain: {rpc_url})")
        _say(f"Issuer back office:      http://127.0.0.1:{BACKOFFICE_PORT}   (this machine only)")
        _say(f"  log in as {user} with password {password}")
        _say("  (a demo account for this local chain only, with a new password on every start; the audit log is "
             f"{_display(DEMO_DIR / 'backoffice' / 'audit.jsonl')})")
        _say("Press Ctrl-C to stop the page, the feeder and the chain (the chain is saved).")
        try:
            while all(p.poll() is None for p in processes) and (node is None or node.process is None or node.process.poll() is None):
                stop.wait(1.0)
            _say("\nA process of the demo stopped; stopping the others.")
        except KeyboardInterrupt:
            _say("\nStopping ...")
    finally:
        stop.set()
        for p in processes:
            _terminate(p)
        if feeder_thread is not None:
            feeder_thread.join(timeout=30)
        if node is not None:
            node.stop()
    return 0


def _check_existing(rpc_url: str) -> None:
    from greenbond.chain import ChainError, connect, open_suite

    try:
        suite = open_suite(connect(rpc_url))
    except ChainError as exc:
        raise LocalChainError(str(exc)) from None
    from greenbond.deployments import load_deployment

    for name, rec in load_deployment(web3.eth.chain_id).contracts.items():  # the offering and DvP too
        _say(f"  {name:<16} {rec.address}")


FEEDER_BATCH = 96  # hours per transaction: about 8.2M gas, well under the 30M block limit


def _backfill_impact(rpc_url: str):
    """Runs the feeder over simulated meter data from the facilities' reporting start to the
    chain's present, with progress bars (computing and signing, then sending); returns the feeder
    for continuous operation."""
    import logging

    from tqdm import tqdm

    from greenbond.feeder.service import Feeder
    from greenbond.feeder.store import FeederStore

    logger = logging.getLogger("greenbond")
    logger.addHandler(logging.FileHandler(DEMO_DIR / "feeder.log"))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    db = DEMO_DIR / "feeder.sqlite"
    feeder = Feeder(rpc_url=rpc_url, db_path=db, seed=0, batch_size=FEEDER_BATCH)
    start = min(f.reporting_start for f in feeder.facilities)
    now = feeder.chain_now()
    end = now - now % 3600
    _say("\nImpact: simulated meter readings -> validation -> hourly figures -> 2-of-3 signed reports -> ImpactOracle")
    bar = tqdm(total=0, unit="h", desc="  computing and signing", file=_OUT, leave=True, mininterval=0.5)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    computed = feeder.backfill(start, end, progress, transmit=False)
    bar.close()
    _say(
        f"  {computed.get('hours_new', 0):,} new facility-hours ({computed.get('readings', 0):,} readings), "
        f"{computed.get('hours_existing', 0):,} already stored, {computed.get('quarantined', 0):,} readings quarantined"
    )
    # sending: a second bar follows the outbox from a read-only view of the store
    watcher = FeederStore(db, readonly=True)
    counts = watcher.status()["outbox"]
    total = sum(counts.values())
    send_bar = tqdm(total=total, initial=counts.get("confirmed", 0), unit="report", desc="  sending to the oracle",
                    file=_OUT, leave=True, mininterval=0.5)
    done = threading.Event()

    def follow() -> None:
        while not done.wait(0.5):  # refresh the bar twice a second (display only)
            send_bar.n = watcher.status()["outbox"].get("confirmed", 0)
            send_bar.refresh()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        result = feeder.transmit()
    finally:
        done.set()
        follower.join()
        send_bar.n = watcher.status()["outbox"].get("confirmed", 0)
        send_bar.close()
        watcher.close()
    _say(f"  sending finished: {result}")
    return feeder


def _start_page(rpc_url: str) -> subprocess.Popen:
    # the public app reads the chain and the published readings; it is given no key and no database
    env = {k: v for k, v in os.environ.items() if k not in ("GREENBOND_ISSUER_KEY", "GREENBOND_AGENT_KEY")}
    env.update(GREENBOND_RPC_URL=rpc_url, GREENBOND_PUBLISHED_DIR=str(PUBLISHED_DIR), PYTHONPATH=str(REPO_ROOT))
    # app/serve.py imports the page's heavy modules before the first visitor arrives
    cmd = [
        sys.executable, "-m", "app.serve",
        "--server.port", str(PAGE_PORT), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    log = open(DEMO_DIR / "page.log", "ab")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True)


def _publish_readings(since) -> None:
    """The operator's publication of the readings behind each confirmed hour (greenbond.published):
    what the investor page's Verify reads, never the feeder's database itself."""
    from greenbond.feeder.store import FeederStore
    from greenbond.published import publish

    store = FeederStore(DEMO_DIR / "feeder.sqlite", readonly=True)
    try:
        summary = publish(store, PUBLISHED_DIR, since=since)
    finally:
        store.close()
    if since is None:
        _say(f"  readings published for Verify: {summary.text}")


def _keep_clock(rpc_url: str, stop: threading.Event, every_s: int = 60) -> None:
    """A local chain's clock moves only when a block is mined, and the feeder reports an hour once
    the chain's clock has passed it: with no other transaction the demo would wait forever for the
    next hour to close (its page then rightly shows the data as stale). So an empty block is mined
    whenever the latest one is older than a minute, which carries the chain's clock with the wall clock."""
    while not stop.wait(every_s):
        try:
            latest = int(rpc(rpc_url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
            if time.time() - latest > every_s:
                rpc(rpc_url, "evm_mine")
        except LocalChainError:
            continue   # the node is restarting: the next round tries again


def _keep_publishing(stop: threading.Event) -> None:
    """Re-publishes the last two local days every few minutes, while the feeder reports new hours."""
    while not stop.wait(PUBLISH_EVERY_S):
        yesterday = dt.datetime.now(dt.timezone.utc).astimezone(ZoneInfo("Asia/Tokyo")).date() - dt.timedelta(days=1)
        try:
            _publish_readings(since=yesterday)
        except Exception as exc:  # noqa: BLE001 -- the demo keeps serving; the next round retries
            print(f"publishing the readings failed: {exc}", file=sys.stderr)


def _start_backoffice(rpc_url: str) -> tuple[subprocess.Popen, str, str]:
    """The issuer back office on 127.0.0.1 only, with a demo account for the local chain whose
    password is new on every start (printed once, stored only as an argon2id hash)."""
    from greenbond.backoffice.accounts import ensure_demo_account

    accounts = DEMO_DIR / "backoffice" / "accounts.json"
    chain_id = int(rpc(rpc_url, "eth_chainId"), 16)
    try:
        user, password = ensure_demo_account(accounts, chain_id=chain_id)
    except ValueError as exc:   # not a local dev chain: no demo password guards real data
        user, password = "(none)", f"(none: {exc}; add an account with `python -m greenbond.backoffice accounts add`)"
    env = dict(os.environ, GREENBOND_RPC_URL=rpc_url, GREENBOND_BACKOFFICE_ACCOUNTS=str(accounts),
               PYTHONPATH=str(REPO_ROOT))
    cmd = [sys.executable, "-m", "greenbond.backoffice", "serve", "--address", "127.0.0.1",
           "--port", str(BACKOFFICE_PORT), "--accounts", str(accounts)]
    log = open(DEMO_DIR / "backoffice.log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True)
    return proc, user, password


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _run_on_chain(terms, config_path: Path) -> None:
    import warnings

    import brownie
    from brownie import accounts, chain, network, project, web3

    warnings.filterwarnings("ignore", category=FutureWarning)  # Brownie's own rpc.* deprecations
    warnings.filterwarnings("ignore", module="brownie")  # and its block-height notes

    from greenbond.chain.tx import Signer
    from greenbond.deploy import deploy_suite, describe_bond

    proj = project.get_loaded_projects()[0] if project.get_loaded_projects() else project.load(REPO_ROOT, name="GreenBondProject")
    proj.load_config()
    network.connect("anvil")
    brownie.network.gas_price(0)
    issuer = accounts[0]
    _say(f"Connected to chain {web3.eth.chain_id}, block {web3.eth.block_number}; issuer (account 0) {issuer.address}")

    _say("\nDeploying (reusing what this chain already holds):")
    deployed = deploy_suite(
        web3, Signer(issuer.address), terms,
        network_name="anvil", development=True,
        bond_config=os.path.relpath(config_path, REPO_ROOT), log=_say,
    )
    suite = brownie_handles(deployed, proj)  # the lifecycle below drives the contracts through Brownie
    bond, registry = suite.bond, suite.registry

    key_path = default_issuer_key_path()
    if not key_path.exists():
        generate_issuer_key(key_path)
        _say(f"\nGenerated the demo issuer key pair in {key_path.parent.relative_to(REPO_ROOT)}/ (ignored by git)")
    public_key = load_issuer_public_key()
    salt = load_investor_id_salt()

    _say("\nRegistering investors (details sealed to the issuer's public key):")
    expires = terms.timestamp(terms.maturity_date) + 365 * 86_400
    for inv in DEMO_INVESTORS:
        wallet = accounts[inv.account_index]
        iid = investor_id(inv.identifier, salt)
        if registry.isEligible(wallet):
            _say(f"  {wallet.address}  already registered")
            continue
        blob = seal(inv.details, public_key)
        registry.registerHolder(wallet, iid, JAPAN, expires, blob, {"from": issuer})
        _say(f"  {wallet.address}  investor 0x{iid.hex()[:12]}...  {len(blob)} bytes sealed")

    _issue_through_offering(proj, suite, terms, accounts, web3)

    _run_lifecycle(suite, terms, accounts, chain, web3)

    _open_secondary_offer(suite, terms, accounts, web3)

    _say("\nHoldings now (units, face amount, coupons received on chain):")
    schedule = suite.schedule
    for inv in DEMO_INVESTORS:
        wallet = accounts[inv.account_index]
        received = sum(
            schedule.couponOf(wallet, i) for i in range(schedule.couponCount())
            if schedule.paymentOf(wallet, i) == 1
        )
        offchain = sum(1 for i in range(schedule.couponCount()) if schedule.paymentOf(wallet, i) == 2)
        note = f" (+{offchain} coupons paid by bank transfer)" if offchain else ""
        _say(
            f"  investor {inv.account_index} {wallet.address}  {bond.balanceOf(wallet):>6,} units  "
            f"{terms.currency} {bond.principalOf(wallet):>15,}  coupons {terms.currency} {received:>12,}{note}"
        )

    _say("\nThe bond, as the chain reports it:")
    for line in describe_bond(deployed.bond, terms):
        _say(line)
    _say("\nAddresses:")
    from greenbond.deployments import load_deployment

    for name, rec in load_deployment(web3.eth.chain_id).contracts.items():  # the offering and DvP too
        _say(f"  {name:<16} {rec.address}")
    _say(f"  recorded in deployments/{suite.deployment.chain_id}.json")
    network.disconnect(kill_rpc=False)


def _issue_through_offering(proj, suite, terms, accounts, web3) -> None:
    """The primary offering on the day before the issue date: the window opens at 04:00 and
    closes at 20:00 JST, the investors subscribe with cash (dev settlement token), the issuer
    allots and, on the issue date, settles: units minted against cash, atomically per investor."""
    from greenbond.chain import load_abi
    from greenbond.chain.tx import Signer
    from greenbond.offering import default_terms, deploy_dvp, deploy_offering, run_offering

    bond, issuer = suite.bond, accounts[0]
    bond_w3 = web3.eth.contract(address=bond.address, abi=load_abi("GreenBond"))
    signer = Signer(issuer.address)
    issue_ts = terms.timestamp(terms.issue_date)
    if bond.totalSupply() > 0 and "Offering" not in suite.deployment.contracts:
        _say(f"\nThe issue was allotted before this demo ran offerings ({bond.totalSupply():,} units outstanding)")
        deploy_dvp(web3, bond_w3, signer, log=_say)
        return
    offer_terms = default_terms(bond, issuer.address, open_time=issue_ts - 20 * HOUR, close_time=issue_ts - 4 * HOUR,
                                settlement_date=issue_ts, units_offered=terms.units)
    _say("\nPrimary offering (contracts/Offering.sol) and secondary trading (contracts/BondDvP.sol):")
    deploy_offering(web3, bond_w3, offer_terms, signer, log=_say)
    deploy_dvp(web3, bond_w3, signer, log=_say)
    summary = run_offering(web3, None, [(accounts[i.account_index].address, i.units) for i in DEMO_INVESTORS],
                           log=lambda m: None)
    _say(
        f"  offering {summary.state.lower()}: {summary.total_requested:,} units requested of {summary.units_offered:,} "
        f"offered at {terms.currency} {summary.price_per_unit:,}; {summary.units_issued:,} issued against "
        f"{terms.currency} {summary.cash_raised:,} paid to the issuer{' (pro rata)' if summary.pro_rata else ''}"
    )
    for row in summary.investors:
        _say(f"  {row['investor']}  allotted {row['allotted']:>6,} units, paid {terms.currency} {row['paid']:>15,}")


def _open_secondary_offer(suite, terms, accounts, web3) -> None:
    """Leaves one DvP offer open for the page to show: investor 2 offers 100 units to anyone at
    par plus accrued-like premium, for 30 days (only if no offer is live)."""
    from greenbond.chain import load_abi, open_suite
    from greenbond.offering import list_trades, open_dvp_offer

    from greenbond.deployments import load_deployment

    dvp_rec = load_deployment(web3.eth.chain_id).contracts.get("BondDvP")
    if dvp_rec is None:
        return
    dvp = web3.eth.contract(address=dvp_rec.address, abi=load_abi("BondDvP"))
    if list_trades(web3, dvp, only_live=True):
        return
    seller = accounts[2].address
    units = 100
    price = units * terms.denomination + 150_000  # a small premium over par
    expiry = web3.eth.get_block("latest")["timestamp"] + 30 * DAY
    trade_id = open_dvp_offer(web3, open_suite(web3), seller, "any", units, price, expiry)
    _say(f"\nDvP: investor 2 offers {units} units to any eligible buyer for {terms.currency} {price:,} (trade {trade_id}, 30 days)")


@dataclass
class BrownieSuite:
    """Brownie handles on the deployed suite, for the lifecycle the demo drives."""

    deployment: object
    bond: object
    registry: object
    schedule: object
    settlement: object
    oracle: object


def brownie_handles(suite, proj) -> BrownieSuite:
    """Brownie contract handles on the addresses of `suite` (greenbond.chain.Suite, web3)."""
    return BrownieSuite(
        deployment=suite.deployment,
        bond=proj.GreenBond.at(suite.bond.address),
        registry=proj.HolderRegistry.at(suite.registry.address),
        schedule=proj.CouponSchedule.at(suite.schedule.address),
        settlement=proj.SettlementToken.at(suite.settlement.address),
        oracle=proj.ImpactOracle.at(suite.oracle.address),
    )


# Secondary trades the demo makes before a coupon's record date: (coupon index, seller, buyer, units).
DEMO_TRADES = ((0, 1, 4, 250), (2, 2, 5, 100), (3, 3, 1, 500))
# The demo investor paid by bank transfer (recorded off chain); the others claim or are pushed.
OFFCHAIN_INVESTOR = 5
PUSHED_INVESTOR = 4
HOUR = 3600
DAY = 86_400


def _advance_to(chain, timestamp: int) -> None:
    if chain.time() < timestamp:
        chain.mine(timestamp=timestamp)


def _run_lifecycle(suite, terms, accounts, chain, web3) -> None:
    """Moves the chain from the issue date to the present (wall-clock time, capped at the
    redemption date), paying every coupon that falls due and redeeming at maturity. Each step
    checks the chain first, so a resumed run does only what is missing."""
    import time

    bond, schedule, settlement = suite.bond, suite.schedule, suite.settlement
    agent = accounts[0]  # the paying agent on a dev chain
    tz = ZoneInfo(terms.timezone)
    present = int(time.time())
    count = schedule.couponCount()
    _say(f"\nCoupons (paying agent {agent.address}; present = {dt.datetime.fromtimestamp(present, tz):%Y-%m-%d %H:%M %Z}):")
    for i in range(count):
        pay_date, record = schedule.couponDate(i), schedule.recordDate(i)
        if pay_date > present:
            break
        for coupon, seller, buyer, units in DEMO_TRADES:
            if coupon == i and chain.time() < record - 10 * DAY:
                _advance_to(chain, record - 10 * DAY)
                bond.transfer(accounts[buyer], units, {"from": accounts[seller]})
                _say(f"  trade before coupon {i + 1}: investor {seller} sold {units} units to investor {buyer}")
        _advance_to(chain, record + HOUR)
        offchain = accounts[OFFCHAIN_INVESTOR]
        if not schedule.isPaid(offchain, i) and schedule.couponOf(offchain, i) > 0:
            ref = web3.keccak(text=f"BANK-TRANSFER/{terms.symbol}/coupon-{i + 1}/CUST-000{OFFCHAIN_INVESTOR}")
            schedule.recordOffchainPayment(i, [offchain], ref, {"from": agent})
        if schedule.couponStatus(i) in (0, 4):  # Scheduled or Late: not funded
            owed = schedule.couponTotal(i)
            settlement.mint(agent, owed, {"from": agent})
            settlement.approve(schedule, owed, {"from": agent})
            schedule.fundCoupon(i, {"from": agent})
        _advance_to(chain, pay_date + 10 * HOUR)
        for inv in DEMO_INVESTORS:
            wallet = accounts[inv.account_index]
            if schedule.isPaid(wallet, i) or schedule.couponOf(wallet, i) == 0:
                continue
            if inv.account_index == PUSHED_INVESTOR:
                schedule.distributeCoupon(i, [wallet], {"from": agent})
            else:
                schedule.claimCoupon(i, {"from": wallet})
        units = bond.totalSupplyAt(record)
        _say(
            f"  {i + 1:>2}. {dt.datetime.fromtimestamp(pay_date, tz):%Y-%m-%d}  {schedule.couponPerUnit(i):,} yen/unit"
            f" x {units:,} units = {terms.currency} {schedule.couponPerUnit(i) * units:,}  "
            f"[{STATUS[schedule.couponStatus(i)]}]"
        )
    upcoming = [schedule.couponDate(i) for i in range(count) if schedule.couponDate(i) > present]
    if upcoming:
        _say(f"  next coupon {dt.datetime.fromtimestamp(upcoming[0], tz):%Y-%m-%d}; {len(upcoming)} still to come")
    redemption = schedule.redemptionDate()
    if redemption <= present and bond.totalSupply() > 0:
        _advance_to(chain, redemption + 10 * HOUR)
        if not schedule.redemptionFunded():
            owed = bond.totalSupply() * schedule.redemptionPerUnit()
            settlement.mint(agent, owed, {"from": agent})
            settlement.approve(schedule, owed, {"from": agent})
            schedule.fundRedemption({"from": agent})
        schedule.redeemFor([accounts[i.account_index] for i in DEMO_INVESTORS], {"from": agent})
        _say(f"  redeemed at par on {dt.datetime.fromtimestamp(redemption, tz):%Y-%m-%d}")
    _advance_to(chain, present)


STATUS = ("scheduled", "funded", "paying", "paid", "late")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_BOND_CONFIG, help="bond terms (TOML)")
    parser.add_argument("--no-serve", action="store_true",
                        help="stop after the summary and the impact backfill instead of serving the page")
    parser.add_argument("--chain", choices=("anvil", "ganache"), default="anvil",
                        help="the local node to start or resume on port 8546 (default anvil)")
    parser.add_argument("--rpc", metavar="URL",
                        help="use an existing node and its recorded deployment instead of a local chain")
    parser.add_argument("--no-feeder", action="store_true", help="skip the impact feeder")
    args = parser.parse_args(argv)

    def _terminate_like_ctrl_c(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate_like_ctrl_c)  # `kill` stops it as cleanly as Ctrl-C
    try:
        return run(args.config.resolve(), serve=not args.no_serve, chain_kind=args.chain, rpc_url=args.rpc,
                   with_feeder=not args.no_feeder)
    except (ConfigError, DeploymentError, LocalChainError, FeederError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the chain is saved and the next `make demo` resumes it", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
