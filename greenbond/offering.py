"""The primary offering (contracts/Offering.sol) and delivery versus payment (contracts/BondDvP.sol)
from Python: deployment, the issuer's and investors' actions, and what the demo calls.

Two kinds of caller:

* deployment: `deploy_offering(w3, bond, terms, signer)` and `deploy_dvp(w3, bond, signer)` deploy
  (or reuse) the contracts, grant the bond's MINTER_ROLE to the Offering (it mints at settlement)
  and LOCKER_ROLE to the DvP (it locks and delivers units), and record them in
  deployments/<chainId>.json with greenbond.deploy's reuse rule;
* the CLI (`python -m greenbond offering|dvp ...`, greenbond/offering_cli.py and dvp_cli.py) and
  the demo's flow functions, over plain web3.py: `run_offering`, `open_dvp_offer`,
  `accept_dvp_offer`, `offering_status`, `list_trades`.
Transactions go through the chain layer (greenbond.chain.tx: legacy, dry run first; the sender
from greenbond.chain.keys: the node's unlocked accounts on dev chains, a key from the environment
elsewhere). Every failure is an OfferingError whose message is a sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from web3 import Web3
from web3.logs import DISCARD  # receipts also hold the bond's own events

from greenbond.chain import iter_events, load_abi
from greenbond.chain.keys import dev_account, signer_for
from greenbond.chain.reverts import decode_revert as decode_error
from greenbond.chain.tx import Signer, TransactionFailed, is_dev_chain
from greenbond.chain.tx import transact as chain_transact
from greenbond.deployments import DEPLOYMENTS_DIR, Deployment, DeploymentError, load_deployment
ZERO_ADDRESS = "0x" + "00" * 20
MAX_UINT = 2**256 - 1
STATES = ("Pending", "Open", "Closed", "Allotted", "Settled", "Cancelled", "Lapsed")
# IOffering.Terms field order (web3 returns the struct as a tuple)
TERMS_FIELDS = ("open_time", "close_time", "settlement_date", "settlement_deadline", "price_per_unit", "min_units",
                "max_units", "units_offered", "issuer", "underwriter")
T_PRICE, T_UNITS_OFFERED, T_UNDERWRITER = 4, 7, 9
# IBondDvP.Trade field order
TRADE_FIELDS = ("seller", "buyer", "accepted_by", "units", "expiry", "status", "lock_generation", "price")
# How long after the settlement date unsettled subscriptions become refundable, unless the terms say
SETTLEMENT_WINDOW = 30 * 86_400
# The longest a DvP offer may stay open (BondDvP's maxOfferDuration), unless the deployer says
MAX_OFFER_DURATION = 30 * 86_400
TRADE_STATUS = ("None", "Open", "PendingApproval", "Settled", "Cancelled", "Expired")
MINTER_ROLE = Web3.keccak(text="MINTER_ROLE")
LOCKER_ROLE = Web3.keccak(text="LOCKER_ROLE")

Log = Callable[[str], None]


class OfferingError(RuntimeError):
    """The offering or trade cannot go on; the message is a sentence for a person."""


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class OfferingTerms:
    """IOffering.Terms. Times are unix seconds; price in the settlement token's smallest unit."""

    open_time: int
    close_time: int
    settlement_date: int
    price_per_unit: int
    min_units: int
    max_units: int
    units_offered: int
    issuer: str
    underwriter: str = ZERO_ADDRESS
    settlement_deadline: int | None = None   # default: SETTLEMENT_WINDOW after the settlement date

    @property
    def deadline(self) -> int:
        """From then on, subscriptions not yet settled are refundable (the offering lapses)."""
        if self.settlement_deadline is not None:
            return int(self.settlement_deadline)
        return int(self.settlement_date) + SETTLEMENT_WINDOW

    def as_tuple(self) -> tuple:
        return (int(self.open_time), int(self.close_time), int(self.settlement_date), self.deadline,
                int(self.price_per_unit), int(self.min_units), int(self.max_units), int(self.units_offered),
                Web3.to_checksum_address(self.issuer), Web3.to_checksum_address(self.underwriter or ZERO_ADDRESS))

    def validate(self) -> None:
        """The constructor's checks, as sentences, before anything is sent."""
        if self.close_time <= self.open_time:
            raise OfferingError("the subscription window must close after it opens (--close after --open)")
        if self.settlement_date < self.close_time:
            raise OfferingError("the settlement date must not be before the window closes")
        if self.deadline <= self.settlement_date:
            raise OfferingError("the settlement deadline must be after the settlement date")
        if self.price_per_unit <= 0:
            raise OfferingError("the issue price must be positive")
        if self.min_units <= 0 or self.max_units < self.min_units:
            raise OfferingError(f"the units per investor must satisfy 1 <= min <= max (got min {self.min_units}, max {self.max_units})")
        if self.units_offered <= 0:
            raise OfferingError("the offering must offer at least one unit")
        if not self.issuer or int(self.issuer, 16) == 0:
            raise OfferingError("the issuer (who receives the cash) must be an address")


def default_terms(bond, issuer: str, *, open_time: int, close_time: int, settlement_date: int | None = None,
                  price_per_unit: int | None = None, min_units: int = 1, max_units: int | None = None,
                  units_offered: int | None = None, underwriter: str | None = None) -> OfferingTerms:
    """Terms for `bond` (a web3 or Brownie contract): par price, settlement on the issue date,
    the whole unissued volume offered, at most the whole offer per investor."""
    call = _caller(bond)
    units = units_offered if units_offered is not None else int(call("maxSupply")) - int(call("totalSupply"))
    return OfferingTerms(
        open_time=int(open_time), close_time=int(close_time),
        settlement_date=int(settlement_date if settlement_date is not None else call("issueDate")),
        price_per_unit=int(price_per_unit if price_per_unit is not None else call("denomination")),
        min_units=int(min_units), max_units=int(max_units if max_units is not None else units),
        units_offered=int(units), issuer=issuer, underwriter=underwriter or ZERO_ADDRESS,
    )


def _caller(contract):
    """fn(name, *args) calling a view on a web3 contract or a Brownie ProjectContract."""
    if hasattr(contract, "functions"):
        return lambda name, *a: getattr(contract.functions, name)(*a).call()
    return lambda name, *a: getattr(contract, name)(*a)


# --------------------------------------------------------------------------- deployment (Brownie)


def _load(web3, directory) -> Deployment:
    chain_id = web3.eth.chain_id
    dep = load_deployment(chain_id, directory)
    if dep is None or "GreenBond" not in dep.contracts:
        raise DeploymentError(f"no bond deployment on chain {chain_id}: deploy the suite first (make demo or scripts/deploy.py)")
    return dep


# --------------------------------------------------------------------------- web3 plumbing


# Custom errors -> sentences. `{0}` etc. are the decoded arguments.
ERROR_SENTENCES = {
    "OfferingWrongState": "the offering is {state}, which does not allow this",
    "OfferingNotEligible": "{0} is not an eligible holder in the bond's registry",
    "OfferingUnitsOutOfRange": "a subscription must total between {1} and {2} units per investor; this one would total {0}",
    "OfferingNothingToCancel": "{0} has no subscription to cancel",
    "OfferingNothingToRefund": "there is nothing to refund or settle for {0}",
    "OfferingTransferShortfall": "the settlement token delivered {1} instead of {0} (fee-on-transfer tokens are not supported)",
    "OfferingTooEarly": "settlement starts at {0:time}; it is too early",
    "OfferingBadTerms": "the offering's terms are invalid ({0})",
    "DvPBadOffer": "the offer is invalid ({0})",
    "DvPUnknownTrade": "there is no trade {0}",
    "DvPWrongStatus": "trade {0} is {status}, which does not allow this",
    "DvPNotBuyer": "trade {0} is offered to someone else, not {1}",
    "DvPNotSeller": "only the seller (or, once paid, the buyer) or an agent of the bond may cancel trade {0}; {1} is none of them",
    "DvPNotAgent": "{0} is not an agent of the bond",
    "DvPExpired": "trade {0} expired at {1:time}",
    "DvPNotExpired": "trade {0} runs until {1:time}; it has not expired",
    "DvPTransferShortfall": "the settlement token delivered {1} instead of {0} (fee-on-transfer tokens are not supported)",
    "DvPLockReleased": "an agent action on the bond released the units of trade {0}: it can only be cancelled",
    "GreenBondLockRefused": "{0} cannot lock units now: {1}",
    "GreenBondLockReleased": "an agent action released the units {0} had locked",
    "GreenBondWalletFrozen": "{0} is frozen",
    "GreenBondWalletRecovered": "{0} was recovered to {1} and can no longer receive units",
    "GreenBondTransferNotAllowed": "the bond's rules refuse moving {2} units from {0} to {1}: {3}",
    "GreenBondInsufficientUnlocked": "{0} has only {1} free units ({2} needed)",
    "GreenBondNotEligible": "{0} is not an eligible holder in the bond's registry",
    "GreenBondIssueVolumeExceeded": "the bond's issue volume allows only {1} more units ({0} asked)",
    "AccessControlUnauthorizedAccount": "{0} lacks the role this needs",
    "ERC20InsufficientBalance": "{0} holds {1} of the settlement token; {2} are needed",
    "ERC20InsufficientAllowance": "the contract {0} may spend only {1} of the settlement token; {2} are needed",
    "EnforcedPause": "the bond is paused",
    "ReentrancyGuardReentrantCall": "the contract refused a re-entrant call",
}


def _time(ts) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def explain(exc: Exception | str) -> str:
    """A revert (an exception, or its decoded 'Name(args)') as a sentence."""
    text = exc if isinstance(exc, str) else getattr(exc, "error", None) or decode_error(exc)
    name, _, rest = text.partition("(")
    if name in ERROR_SENTENCES and rest.endswith(")"):
        args = [a.strip() for a in rest[:-1].split(",")] if rest[:-1] else []
        template = ERROR_SENTENCES[name]
        kw = {}
        if name == "OfferingWrongState" and args:
            kw["state"] = STATES[int(args[0])] if args[0].isdigit() and int(args[0]) < len(STATES) else args[0]
        if name == "DvPWrongStatus" and len(args) > 1:
            kw["status"] = TRADE_STATUS[int(args[1])] if args[1].isdigit() and int(args[1]) < len(TRADE_STATUS) else args[1]
        try:
            out = template
            for i, a in enumerate(args):
                out = out.replace("{%d:time}" % i, _time(a) if a.isdigit() else a).replace("{%d}" % i, a)
            return out.format(**kw) if kw else out
        except Exception:  # noqa: BLE001
            pass
    if name in ERROR_SENTENCES and not rest:
        return ERROR_SENTENCES[name]
    return f"the transaction was refused: {text}"


def transact(w3: Web3, fn, signer: Signer, *, gas: int | None = None) -> dict:
    """greenbond.chain.tx.transact with the offering's and DvP's reverts as sentences."""
    try:
        return chain_transact(w3, fn, signer, gas=gas)
    except TransactionFailed as exc:
        raise OfferingError(explain(exc.error)) from None


def deploy_offering(w3: Web3, bond, terms: OfferingTerms, signer: Signer, *, directory: Path | None = None,
                    name: str = "Offering", log: Log = print):
    """Deploys (or reuses, by greenbond.deploy's rule) an Offering of `bond` (a web3 contract) with
    `terms`; `signer` (the bond's admin) becomes its admin and allotter. Grants the bond's
    MINTER_ROLE (and nothing else) to the Offering and records it as `name`. Returns the contract."""
    from greenbond.deploy import ensure_deployed

    terms.validate()
    directory = Path(directory or DEPLOYMENTS_DIR)
    dep = _load(w3, directory)
    args = [bond.address, list(terms.as_tuple()), signer.address]
    if not bond.functions.hasRole(b"\0" * 32, signer.address).call():
        raise OfferingError(f"{signer.address} is not the bond's admin: only the issuer can open an offering "
                            "(it grants the Offering MINTER_ROLE)")
    contract = _ensure(ensure_deployed, w3, dep, name, "Offering", args, signer, log, directory)
    if not bond.functions.hasRole(MINTER_ROLE, contract.address).call():
        transact(w3, bond.functions.grantRole(MINTER_ROLE, contract.address), signer)
        log(f"  granted MINTER_ROLE on the bond to the {name} (it mints the allotted units)")
    return contract


def deploy_dvp(w3: Web3, bond, signer: Signer, *, directory: Path | None = None, name: str = "BondDvP",
               log: Log = print, max_offer_duration: int = MAX_OFFER_DURATION):
    """Deploys (or reuses) the BondDvP of `bond` and grants it the bond's LOCKER_ROLE."""
    from greenbond.deploy import ensure_deployed

    directory = Path(directory or DEPLOYMENTS_DIR)
    dep = _load(w3, directory)
    args = [bond.address, int(max_offer_duration)]
    contract = _ensure(ensure_deployed, w3, dep, name, "BondDvP", args, signer, log, directory)
    if not bond.functions.hasRole(LOCKER_ROLE, contract.address).call():
        transact(w3, bond.functions.grantRole(LOCKER_ROLE, contract.address), signer)
        log(f"  granted LOCKER_ROLE on the bond to the {name} (it locks and delivers traded units)")
    return contract


def _ensure(ensure_deployed, w3, dep, name, contract_name, args, signer, log, directory):
    try:
        return ensure_deployed(w3, dep, name, contract_name, args, signer, log=log, directory=directory)
    except TransactionFailed as exc:
        raise OfferingError(explain(exc.error)) from None


# --------------------------------------------------------------------------- handles


@dataclass
class Handles:
    w3: Web3
    deployment: Deployment
    bond: Any
    settlement: Any
    registry: Any
    offering: Any = None
    dvp: Any = None


def handles(w3: Web3, suite=None, *, directory: Path | None = None, offering: str | None = None,
            dvp: str | None = None) -> Handles:
    """web3 contract handles from `suite` (greenbond.deploy.Suite, greenbond.chain.Suite, or None:
    read deployments/<chainId>.json); offering/dvp addresses override the recorded ones."""
    dep = getattr(suite, "deployment", None)
    if dep is None:
        try:
            dep = _load(w3, Path(directory or DEPLOYMENTS_DIR))
        except DeploymentError as exc:
            raise OfferingError(str(exc)) from None

    def at(address, abi):
        return w3.eth.contract(address=Web3.to_checksum_address(str(getattr(address, "address", address))), abi=load_abi(abi))

    bond = at(dep.contracts["GreenBond"].address, "GreenBond")
    for name, rec in dep.contracts.items():
        if not w3.eth.get_code(rec.address):
            raise OfferingError(f"the deployments file names {name} at {rec.address}, but the chain holds no code there: the chain was reset; deploy again")
    off = offering or (dep.contracts["Offering"].address if "Offering" in dep.contracts else None)
    dv = dvp or (dep.contracts["BondDvP"].address if "BondDvP" in dep.contracts else None)
    return Handles(
        w3=w3, deployment=dep, bond=bond,
        settlement=at(bond.functions.currency().call(), "SettlementToken"),
        registry=at(bond.functions.registry().call(), "HolderRegistry"),
        offering=at(off, "Offering") if off else None,
        dvp=at(dv, "BondDvP") if dv else None,
    )


def _need(h: Handles, what: str):
    c = getattr(h, what)
    if c is None:
        raise OfferingError("no offering is deployed on this chain: run `python -m greenbond offering open` first"
                            if what == "offering" else
                            "no DvP is deployed on this chain: the first `python -m greenbond dvp offer` deploys it (issuer), or the demo does")
    return c


# --------------------------------------------------------------------------- time on dev chains


def chain_now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def advance_to(w3: Web3, timestamp: int) -> None:
    """Dev chains only: the next block is mined at `timestamp` (greenbond.chain.localnode.advance_to)."""
    from greenbond.chain.localnode import LocalChainError
    from greenbond.chain.localnode import advance_to as mine_until

    if not is_dev_chain(w3):
        raise OfferingError(f"it is {_time(chain_now(w3))} on this chain and {_time(timestamp)} is needed; "
                            "only dev chains can move time")
    try:
        mine_until(w3, timestamp)
    except LocalChainError as exc:
        raise OfferingError(str(exc)) from None


# --------------------------------------------------------------------------- the offering's flow


def offering_status(w3: Web3, offering, investors: Iterable[str] | None = None) -> dict:
    """The offering's terms, state and per-subscriber figures, as plain data."""
    f = offering.functions
    t = f.terms().call()
    state = f.state().call()
    who = list(investors) if investors is not None else f.subscribers().call()
    subs = []
    for w in who:
        requested, allotted, settled, escrow = f.subscriptionOf(w).call()
        subs.append({"investor": w, "requested": requested, "allotted": f.allottedOf(w).call(),
                     "settled": settled, "escrow": escrow})
    return {
        "address": offering.address, "state": STATES[state],
        "terms": dict(zip(TERMS_FIELDS, t)),
        "total_requested": f.totalRequested().call(), "units_settled": f.unitsSettled().call(),
        "cash_raised": f.cashRaised().call(), "underwriter_units": f.underwriterUnits().call(),
        "escrow_held": None, "subscribers": subs,
    }


def subscribe(w3: Web3, h: Handles, investor: Signer, units: int, *, fund_from: Signer | None = None) -> dict:
    """`investor` subscribes `units` (approving the offering for exactly the cash needed); on a
    dev chain with `fund_from` (the settlement token's minter) a shortfall of cash is minted first."""
    o = _need(h, "offering")
    price = o.functions.terms().call()[T_PRICE]
    amount = units * price
    try:  # the offering's own checks (window, eligibility, limits) come before the cash is pulled
        o.functions.subscribe(units).call({"from": investor.address, "gasPrice": 0})
    except Exception as exc:  # noqa: BLE001
        if not decode_error(exc).startswith(("ERC20InsufficientBalance", "ERC20InsufficientAllowance")):
            raise OfferingError(explain(exc)) from None
    balance = h.settlement.functions.balanceOf(investor.address).call()
    if balance < amount:
        if fund_from is None or not is_dev_chain(w3):
            raise OfferingError(f"{investor.address} holds {balance:,} of the settlement token; the subscription needs {amount:,}")
        transact(w3, h.settlement.functions.mint(investor.address, amount - balance), fund_from)
    if h.settlement.functions.allowance(investor.address, o.address).call() < amount:
        transact(w3, h.settlement.functions.approve(o.address, amount), investor)
    return transact(w3, o.functions.subscribe(units), investor)


def allot(w3: Web3, h: Handles, signer: Signer) -> dict:
    return transact(w3, _need(h, "offering").functions.allot(), signer)


def settle(w3: Web3, h: Handles, signer: Signer, *, batch: int = 100) -> list[dict]:
    """Settles every unsettled subscriber in batches of `batch`, then the underwriter's leg if
    any; returns the receipts (nothing left: an empty list)."""
    o = _need(h, "offering")
    f = o.functions
    pending = [w for w in f.subscribers().call()
               if not f.subscriptionOf(w).call()[2] and f.subscriptionOf(w).call()[0] > 0]
    receipts = []
    for i in range(0, len(pending), max(1, batch)):
        receipts.append(transact(w3, f.settle(pending[i:i + batch]), signer))
    if f.underwriterUnits().call() and STATES[f.state().call()] == "Allotted":
        underwriter = f.terms().call()[T_UNDERWRITER]
        uw = Signer(underwriter) if is_dev_chain(w3) and underwriter in w3.eth.accounts else signer
        units = f.underwriterUnits().call()
        price = f.terms().call()[T_PRICE]
        if h.settlement.functions.allowance(uw.address, o.address).call() < units * price:
            transact(w3, h.settlement.functions.approve(o.address, units * price), uw)
        receipts.append(transact(w3, f.settleUnderwriter(), signer))
    return receipts


def cancel_offering(w3: Web3, h: Handles, signer: Signer, *, refund: bool = True) -> list[dict]:
    """Cancels the offering and (by default) pushes every refund."""
    o = _need(h, "offering")
    receipts = []
    if STATES[o.functions.state().call()] != "Cancelled":
        receipts.append(transact(w3, o.functions.cancelOffering(), signer))
    if refund:
        owed = [w for w in o.functions.subscribers().call() if o.functions.subscriptionOf(w).call()[3] > 0]
        if owed:
            receipts.append(transact(w3, o.functions.refund(owed), signer))
    return receipts


@dataclass
class OfferingSummary:
    """What run_offering did and where the offering stands."""

    offering: str
    state: str
    units_offered: int
    price_per_unit: int
    total_requested: int
    units_issued: int
    cash_raised: int
    pro_rata: bool
    investors: list = field(default_factory=list)  # dicts: investor, requested, allotted, paid, refunded
    gas: dict = field(default_factory=dict)        # step -> gas used in this run

    def as_dict(self) -> dict:
        return asdict(self)


def run_offering(web3: Web3, suite, investors: Sequence[tuple[str, int]], *, issuer: str | None = None,
                 offering: str | None = None, batch: int = 100, log: Log = print,
                 directory: Path | None = None) -> OfferingSummary:
    """Dev chains: runs the deployed offering (suite.deployment's "Offering", or `offering`) to
    the end. Each investor (address, units) subscribes its missing units while the window is open
    (funded with the dev settlement token first, by the issuer, its minter); after the close the
    issuer allots; on the settlement date every subscriber is settled in batches of `batch`
    (then the underwriter's leg). Time is moved by mining a block at the moment needed. Resumable: every
    step looks at the chain first. Returns an OfferingSummary."""
    h = handles(web3, suite, directory=directory, offering=offering)
    o = _need(h, "offering")
    f = o.functions
    issuer_signer = dev_account(web3, issuer if issuer is not None else 0)
    terms = f.terms().call()
    open_time, close_time, settlement_date, price = terms[0], terms[1], terms[2], terms[T_PRICE]
    gas: dict[str, int] = {}

    def add(step, receipts):
        for r in receipts if isinstance(receipts, list) else [receipts]:
            gas[step] = gas.get(step, 0) + int(r["gasUsed"])

    state = STATES[f.state().call()]
    if state == "Pending":
        advance_to(web3, open_time)
        state = STATES[f.state().call()]
    if state == "Open":
        for address, units in investors:
            address = Web3.to_checksum_address(address)
            missing = int(units) - f.subscriptionOf(address).call()[0]
            if missing > 0:
                add("subscribe", subscribe(web3, h, Signer(address), missing, fund_from=issuer_signer))
                log(f"  {address} subscribed {missing:,} units ({missing * price:,} escrowed)")
        advance_to(web3, close_time)
        state = STATES[f.state().call()]
    if state == "Closed":
        add("allot", allot(web3, h, issuer_signer))
        log(f"  allotted {'pro rata' if f.totalRequested().call() > terms[T_UNITS_OFFERED] else 'in full'} "
            f"({f.totalRequested().call():,} units requested for {terms[T_UNITS_OFFERED]:,} offered)")
        state = STATES[f.state().call()]
    if state == "Allotted":
        advance_to(web3, settlement_date)
        receipts = settle(web3, h, issuer_signer, batch=batch)
        add("settle", receipts)
        log(f"  settled in {len(receipts)} transaction(s): {f.unitsSettled().call():,} units issued, "
            f"{f.cashRaised().call():,} paid to the issuer")
    return summarize(web3, h, gas)


def summarize(web3: Web3, h: Handles, gas: dict | None = None) -> OfferingSummary:
    """The offering's outcome from the chain (SettledInvestor / RefundedIneligible events)."""
    o = h.offering
    f = o.functions
    terms = f.terms().call()
    rows = {}
    for w in f.subscribers().call():
        requested, allotted, settled, escrow = f.subscriptionOf(w).call()
        rows[w] = {"investor": w, "requested": requested, "allotted": f.allottedOf(w).call(),
                   "settled": settled, "paid": 0, "refunded": 0, "escrow": escrow}
    start = h.deployment.contracts["Offering"].block if "Offering" in h.deployment.contracts else 0
    latest = web3.eth.block_number
    for ev in iter_events(o.events.SettledInvestor, start, latest):   # the one range reader
        r = rows.get(ev["args"]["investor"])
        if r is not None:
            r["paid"], r["refunded"] = ev["args"]["paid"], ev["args"]["refunded"]
    for ev in iter_events(o.events.RefundedIneligible, start, latest):
        r = rows.get(ev["args"]["investor"])
        if r is not None:
            r["refunded"] = ev["args"]["refund"]
    total = f.totalRequested().call()
    return OfferingSummary(
        offering=o.address, state=STATES[f.state().call()], units_offered=terms[T_UNITS_OFFERED], price_per_unit=terms[T_PRICE],
        total_requested=total, units_issued=f.unitsSettled().call(), cash_raised=f.cashRaised().call(),
        pro_rata=total > terms[T_UNITS_OFFERED], investors=list(rows.values()), gas=dict(gas or {}),
    )


# --------------------------------------------------------------------------- DvP


def open_dvp_offer(web3: Web3, suite, seller: str, buyer: str | None, units: int, price: int, expiry: int, *,
                   dvp: str | None = None, directory: Path | None = None, signer: Signer | None = None) -> int:
    """`seller` offers `units` to `buyer` (None or "any": any eligible buyer) for `price` (total, in
    the settlement token's smallest unit) until `expiry` (unix seconds); returns the trade id. On a
    dev chain `seller` is one of the node's unlocked accounts."""
    h = handles(web3, suite, directory=directory, dvp=dvp)
    d = _need(h, "dvp")
    s = signer or dev_account(web3, seller)
    to = ZERO_ADDRESS if buyer in (None, "", "any") else Web3.to_checksum_address(buyer)
    if expiry <= chain_now(web3):
        raise OfferingError(f"the expiry {_time(expiry)} is not in the future (the chain says {_time(chain_now(web3))})")
    receipt = transact(web3, d.functions.offer(to, int(units), int(price), int(expiry)), s)
    logs = d.events.OfferMade().process_receipt(receipt, errors=DISCARD)
    return int(logs[0]["args"]["id"])


def accept_dvp_offer(web3: Web3, suite, buyer: str, trade_id: int, *, dvp: str | None = None,
                     directory: Path | None = None, signer: Signer | None = None) -> dict:
    """`buyer` accepts trade `trade_id`, approving the DvP for exactly its price first."""
    h = handles(web3, suite, directory=directory, dvp=dvp)
    d = _need(h, "dvp")
    s = signer or dev_account(web3, buyer)
    try:
        t = d.functions.trade(int(trade_id)).call()
    except Exception as exc:  # noqa: BLE001
        raise OfferingError(explain(exc)) from None
    price = t[TRADE_FIELDS.index("price")]
    if price and h.settlement.functions.allowance(s.address, d.address).call() < price:
        transact(web3, h.settlement.functions.approve(d.address, price), s)
    return transact(web3, d.functions.accept(int(trade_id)), s)


def list_trades(web3: Web3, dvp, *, only_live: bool = False) -> list[dict]:
    """Every trade of the DvP (or only Open / PendingApproval ones) as plain dicts."""
    out = []
    for i in range(dvp.functions.tradeCount().call()):
        seller, buyer, accepted_by, units, expiry, status, _generation, price = dvp.functions.trade(i).call()
        if only_live and status not in (1, 2):
            continue
        out.append({"id": i, "seller": seller, "buyer": None if int(buyer, 16) == 0 else buyer,
                    "accepted_by": None if int(accepted_by, 16) == 0 else accepted_by, "units": units,
                    "price": price, "expiry": expiry, "status": TRADE_STATUS[status]})
    return out


__all__ = [
    "OfferingError", "OfferingTerms", "OfferingSummary", "Signer", "default_terms", "deploy_offering", "deploy_dvp",
    "run_offering", "open_dvp_offer", "accept_dvp_offer", "list_trades",
    "offering_status", "subscribe", "allot", "settle", "cancel_offering", "advance_to", "handles", "signer_for",
    "dev_account", "transact", "explain",
]
