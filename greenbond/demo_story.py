"""The demo's story, written once over web3: five fictitious investors registered (details sealed
to the issuer's key), the issue allotted (through the Offering, or minted directly), trades before
record dates, every coupon that fell due paid (one investor by bank transfer, one pushed, the
others claim), redemption at maturity once the present is past it, and one secondary DvP offer
left open.

`make demo` (greenbond.demo) tells it on its saved chain and the page tests'
DemoLikeChain (tests/helpers/pageview_fixture.py) on a fresh one. Every step looks at the chain
first, so a resumed run does only what is missing. Dev chains only: the investors are the node's
unlocked accounts, and the clock is moved by mining blocks (greenbond.chain.localnode.advance_to).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from web3 import Web3

from greenbond.chain.localnode import advance_to
from greenbond.chain.tx import Signer, transact
from greenbond.holders import HolderDetails, investor_id, seal

Log = Callable[[str], None]

HOUR = 3600
DAY = 86_400
JAPAN = 392
STATUS = ("scheduled", "funded", "paying", "paid", "late")


@dataclass(frozen=True)
class DemoInvestor:
    account_index: int
    identifier: str      # the issuer's own customer number: only its salted hash goes on chain
    details: HolderDetails
    units: int

    @property
    def name(self) -> str:
        return self.details.name


# Fictitious investors; the units add up to the whole issue of the default bond (10,000).
DEMO_INVESTORS = (
    DemoInvestor(1, "CUST-0001", HolderDetails("Sakura Life Insurance Co. (fictitious)", "1-1 Marunouchi, Chiyoda-ku, Tokyo", "bonds@sakura-life.example", "corporation"), 4_000),
    DemoInvestor(2, "CUST-0002", HolderDetails("Midori Asset Management (fictitious)", "2-2 Nihonbashi, Chuo-ku, Tokyo", "ops@midori-am.example", "corporation"), 3_000),
    DemoInvestor(3, "CUST-0003", HolderDetails("Kobe Regional Bank (fictitious)", "3-3 Sannomiya, Chuo-ku, Kobe", "treasury@kobe-bank.example", "corporation"), 2_000),
    DemoInvestor(4, "CUST-0004", HolderDetails("Hanako Yamada (fictitious)", "4-4 Aoba-ku, Sendai", "hanako@example.jp", "individual"), 600),
    DemoInvestor(5, "CUST-0005", HolderDetails("Taro Suzuki (fictitious)", "5-5 Naka-ku, Nagoya", "taro@example.jp", "individual"), 400),
)

# Secondary trades before a coupon's record date: (coupon index, seller, buyer, units).
DEMO_TRADES = ((0, 1, 4, 250), (2, 2, 5, 100), (3, 3, 1, 500))
# The investor paid by bank transfer (recorded off chain) and the one the agent pushes to; the others claim.
OFFCHAIN_INVESTOR = 5
PUSHED_INVESTOR = 4
# The secondary offer left open: investor 2 offers 100 units to anyone at par plus a small premium, 30 days.
OFFER_SELLER, OFFER_UNITS, OFFER_PREMIUM, OFFER_DAYS = 2, 100, 150_000, 30


def _quiet(_msg: str) -> None:
    pass


def _send(w3: Web3, fn, sender: str) -> dict:
    return transact(w3, fn, Signer(sender), gas_price=0)


def chain_time(w3: Web3) -> int:
    return w3.eth.get_block("latest")["timestamp"]


def register_investors(w3: Web3, suite, terms, accounts: list[str], public_key, salt: bytes, *,
                       details: Callable[[DemoInvestor], HolderDetails] | None = None, log: Log = _quiet) -> None:
    """Registers each demo investor not yet eligible: its salted customer-number hash, Japan, an
    expiry a year after maturity and its details sealed to `public_key` (`details(inv)`, by
    default the investor's own)."""
    issuer = accounts[0]
    expires = terms.timestamp(terms.maturity_date) + 365 * DAY
    for inv in DEMO_INVESTORS:
        wallet = accounts[inv.account_index]
        if suite.registry.functions.isEligible(wallet).call():
            log(f"  {wallet}  already registered")
            continue
        iid = investor_id(inv.identifier, salt)
        blob = seal(details(inv) if details else inv.details, public_key)
        _send(w3, suite.registry.functions.registerHolder(wallet, iid, JAPAN, expires, blob), issuer)
        log(f"  {wallet}  investor 0x{iid.hex()[:12]}...  {len(blob)} bytes sealed")


def issue_through_offering(w3: Web3, suite, terms, accounts: list[str], *, directory: Path | None = None,
                           log: Log = _quiet) -> None:
    """The primary offering on the day before the issue date: the window opens at 04:00 and
    closes at 20:00 JST, the investors subscribe with cash (dev settlement token), the issuer
    allots and, on the issue date, settles: units minted against cash, atomically per investor.
    The DvP for secondary trading is deployed with it."""
    from greenbond.offering import default_terms, deploy_dvp, deploy_offering, run_offering

    bond, issuer = suite.bond, accounts[0]
    signer = Signer(issuer)
    issue_ts = terms.timestamp(terms.issue_date)
    supply = bond.functions.totalSupply().call()
    if supply > 0 and "Offering" not in suite.deployment.contracts:
        log(f"\nThe issue was allotted before this demo ran offerings ({supply:,} units outstanding)")
        deploy_dvp(w3, bond, signer, log=log, directory=directory)
        return
    offer_terms = default_terms(bond, issuer, open_time=issue_ts - 20 * HOUR, close_time=issue_ts - 4 * HOUR,
                                settlement_date=issue_ts, units_offered=terms.units)
    log("\nPrimary offering (contracts/Offering.sol) and secondary trading (contracts/BondDvP.sol):")
    deploy_offering(w3, bond, offer_terms, signer, log=log, directory=directory)
    deploy_dvp(w3, bond, signer, log=log, directory=directory)
    summary = run_offering(w3, None, [(accounts[i.account_index], i.units) for i in DEMO_INVESTORS],
                           log=_quiet, directory=directory)
    log(
        f"  offering {summary.state.lower()}: {summary.total_requested:,} units requested of {summary.units_offered:,} "
        f"offered at {terms.currency} {summary.price_per_unit:,}; {summary.units_issued:,} issued against "
        f"{terms.currency} {summary.cash_raised:,} paid to the issuer{' (pro rata)' if summary.pro_rata else ''}"
    )
    for row in summary.investors:
        log(f"  {row['investor']}  allotted {row['allotted']:>6,} units, paid {terms.currency} {row['paid']:>15,}")


def issue_by_mint(w3: Web3, suite, terms, accounts: list[str], *, log: Log = _quiet) -> None:
    """The issue minted directly to the investors (batchMint) at 10:00 on the issue date, with no
    Offering and no DvP: a chain where the pages show that there is no on-chain offering."""
    if suite.bond.functions.totalSupply().call() > 0:
        return
    advance_to(w3, terms.timestamp(terms.issue_date) + 10 * HOUR)
    _send(w3, suite.bond.functions.batchMint([accounts[i.account_index] for i in DEMO_INVESTORS],
                                             [i.units for i in DEMO_INVESTORS]), accounts[0])
    log(f"  {sum(i.units for i in DEMO_INVESTORS):,} units minted to {len(DEMO_INVESTORS)} investors")


def run_lifecycle(w3: Web3, suite, terms, accounts: list[str], present: int, *, leave_claimable: int | None = None,
                  log: Log = _quiet) -> None:
    """Moves the chain from the issue date to `present` (capped at nothing: redemption happens
    once the present is past it), paying every coupon that falls due and redeeming at maturity.
    Investor `leave_claimable`, if given, claims only the first coupon and leaves the later ones
    claimable. Each step checks the chain first, so a resumed run does only what is missing."""
    bond, schedule, settlement = suite.bond.functions, suite.schedule.functions, suite.settlement.functions
    agent = accounts[0]  # the paying agent on a dev chain
    tz = ZoneInfo(terms.timezone)
    count = schedule.couponCount().call()
    log(f"\nCoupons (paying agent {agent}; present = {dt.datetime.fromtimestamp(present, tz):%Y-%m-%d %H:%M %Z}):")
    for i in range(count):
        pay_date, record = schedule.couponDate(i).call(), schedule.recordDate(i).call()
        if pay_date > present:
            break
        for coupon, seller, buyer, units in DEMO_TRADES:
            if coupon == i and chain_time(w3) < record - 10 * DAY:
                advance_to(w3, record - 10 * DAY)
                _send(w3, bond.transfer(accounts[buyer], units), accounts[seller])
                log(f"  trade before coupon {i + 1}: investor {seller} sold {units} units to investor {buyer}")
        advance_to(w3, record + HOUR)
        offchain = accounts[OFFCHAIN_INVESTOR]
        if not schedule.isPaid(offchain, i).call() and schedule.couponOf(offchain, i).call() > 0:
            ref = Web3.keccak(text=f"BANK-TRANSFER/{terms.symbol}/coupon-{i + 1}/CUST-000{OFFCHAIN_INVESTOR}")
            _send(w3, schedule.recordOffchainPayment(i, [offchain], ref), agent)
        if schedule.couponStatus(i).call() in (0, 4):  # Scheduled or Late: not funded
            owed = schedule.couponTotal(i).call()
            _send(w3, settlement.mint(agent, owed), agent)
            _send(w3, settlement.approve(suite.schedule.address, owed), agent)
            _send(w3, schedule.fundCoupon(i), agent)
        advance_to(w3, pay_date + 10 * HOUR)
        for inv in DEMO_INVESTORS:
            wallet = accounts[inv.account_index]
            if schedule.isPaid(wallet, i).call() or schedule.couponOf(wallet, i).call() == 0:
                continue
            if inv.account_index == PUSHED_INVESTOR:
                _send(w3, schedule.distributeCoupon(i, [wallet]), agent)
            elif inv.account_index != leave_claimable or i == 0:
                _send(w3, schedule.claimCoupon(i), wallet)
        units = bond.totalSupplyAt(record).call()
        per_unit = schedule.couponPerUnit(i).call()
        log(
            f"  {i + 1:>2}. {dt.datetime.fromtimestamp(pay_date, tz):%Y-%m-%d}  {per_unit:,} yen/unit"
            f" x {units:,} units = {terms.currency} {per_unit * units:,}  "
            f"[{STATUS[schedule.couponStatus(i).call()]}]"
        )
    upcoming = [d for d in (schedule.couponDate(i).call() for i in range(count)) if d > present]
    if upcoming:
        log(f"  next coupon {dt.datetime.fromtimestamp(upcoming[0], tz):%Y-%m-%d}; {len(upcoming)} still to come")
    redemption = schedule.redemptionDate().call()
    if redemption <= present and bond.totalSupply().call() > 0:
        advance_to(w3, redemption + 10 * HOUR)
        if not schedule.redemptionFunded().call():
            owed = bond.totalSupply().call() * schedule.redemptionPerUnit().call()
            _send(w3, settlement.mint(agent, owed), agent)
            _send(w3, settlement.approve(suite.schedule.address, owed), agent)
            _send(w3, schedule.fundRedemption(), agent)
        _send(w3, schedule.redeemFor([accounts[i.account_index] for i in DEMO_INVESTORS]), agent)
        log(f"  redeemed at par on {dt.datetime.fromtimestamp(redemption, tz):%Y-%m-%d}")
    advance_to(w3, present)


def open_secondary_offer(w3: Web3, suite, terms, accounts: list[str], *, directory: Path | None = None,
                         log: Log = _quiet) -> int | None:
    """Leaves one DvP offer open for the page to show: investor 2 offers 100 units to anyone at
    par plus a small premium, for 30 days (only when the chain has a DvP and no offer is live).
    Returns the new trade's id, or None."""
    from greenbond.chain import load_abi
    from greenbond.deployments import DEPLOYMENTS_DIR, load_deployment
    from greenbond.offering import list_trades, open_dvp_offer

    dep = load_deployment(w3.eth.chain_id, Path(directory or DEPLOYMENTS_DIR))
    dvp_rec = dep.contracts.get("BondDvP") if dep else None
    if dvp_rec is None:
        return None
    dvp = w3.eth.contract(address=dvp_rec.address, abi=load_abi("BondDvP"))
    if list_trades(w3, dvp, only_live=True):
        return None
    price = OFFER_UNITS * terms.denomination + OFFER_PREMIUM
    expiry = chain_time(w3) + OFFER_DAYS * DAY
    trade_id = open_dvp_offer(w3, None, accounts[OFFER_SELLER], "any", OFFER_UNITS, price, expiry,
                              directory=directory)
    log(f"\nDvP: investor {OFFER_SELLER} offers {OFFER_UNITS} units to any eligible buyer for {terms.currency} "
        f"{price:,} (trade {trade_id}, {OFFER_DAYS} days)")
    return trade_id


def holdings(suite, accounts: list[str]) -> list[dict]:
    """Each demo investor's units, face amount, coupons received on chain and coupons paid off chain."""
    bond, schedule = suite.bond.functions, suite.schedule.functions
    count = schedule.couponCount().call()
    rows = []
    for inv in DEMO_INVESTORS:
        wallet = accounts[inv.account_index]
        paid = [schedule.paymentOf(wallet, i).call() for i in range(count)]
        rows.append({
            "investor": inv.account_index, "wallet": wallet, "units": bond.balanceOf(wallet).call(),
            "principal": bond.principalOf(wallet).call(),
            "received": sum(schedule.couponOf(wallet, i).call() for i in range(count) if paid[i] == 1),
            "offchain": sum(1 for p in paid if p == 2),
        })
    return rows
