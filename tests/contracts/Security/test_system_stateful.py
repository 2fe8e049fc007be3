"""The whole system under one random schedule: bond, registry, coupon schedule, offering, DvP, oracle
and carbon credits.

The suite is deployed the way production deploys it (greenbond.deploy.deploy_suite: the schedule
holds only REDEMPTION_ROLE on the bond, the bond names the oracle, the oracle has the default
facilities, methodology v1 and the 2-of-3 dev signer set; greenbond.offering: the Offering holds
only MINTER_ROLE, the DvP only LOCKER_ROLE). The bond is short (three monthly coupons, issued at
the next JST midnight) so a run crosses record dates, payment dates, the offering's settlement
deadline and maturity. Every investor has two registered wallets (a holder and a spare of the same
investor id), so wallets can be recovered. The offering was subscribed and allotted before the
run; its settlement happens during it.

Each step is one of: a holder transfer, an issue, a burn, a forced transfer, a wallet freeze, a
partial freeze or unfreeze, a recovery, a pause, a registry change, time passing, a DvP offer,
acceptance, cancellation (by the seller or the agent) or expiry, funding, claiming (for oneself or
for a recovered wallet) or pushing a coupon, funding, taking or returning the redemption's
principal, an early call, settling or refunding the offering, and signed hourly reports for the
two facilities (batches, late hours filling gaps, corrections, replays). An independent Python model predicts every outcome
(success or the exact custom error) and every amount.

After every step, read in one JSON-RPC batch:
* supply equals the sum of the balances and the model; at every passed record date too;
* every wallet's frozen flag, frozen units, locked units, lock generation and successor are the
  model's, and frozen plus locked units never exceed the balance;
* every yen is owed to someone identifiable: the schedule holds the coupons funded and not paid
  plus the principal (the outstanding units at par, plus a surplus owed to the paying agent); the
  offering holds the escrow of its unsettled investors; the DvP holds the price of trades waiting
  for approval (none here); every wallet's, the issuer's and the contracts' cash is the model's;
* no payment went to a recovered wallet (its cash never moves after the recovery; the model
  refuses to credit it), no frozen unit was ever redeemed, nobody was paid a coupon twice;
* the expiry the bond keeps per wallet (so that a transfer need not call the registry) is never
  in the future for a wallet the registry does not hold eligible, never past its registry expiry,
  and none for a wallet removed from the registry or never registered; registry changes include
  expiries moved onto coming dates, which time then passes without the bond being told;
* the agent's controls hold, tried by eth_call from the agent (no state change) while the bond is
  not paused: it can freeze every holder, freeze all its unfrozen units, force-transfer and burn
  its whole balance, recover it to the investor's other wallet (when that wallet can receive), and
  from the redemption date the paying agent can redeem it unless it is frozen; locks and escrows
  never stop any of them;
* the oracle: no stored report is overwritten; the facility totals equal the sums over the reports
  in force, recomputed here from the signed figures (J = Wh x 9760, mg = Wh x 462), and the bond's
  totals each facility's times the bond's allocated share (the building's 10bn of 10bn, none of
  the solar plant); every hour sent is reported once, and the coverage counts and the
  reported-hours bitmap are exactly the hours sent;
* the carbon credits (batches proposed over the latest hours, filled, sealed, approved by the
  verifier, issued, cancelled; credited hours corrected and reviewed, holds resolved; credits
  moved and retired): every batch, facility book, balance and retirement is the model's; each
  hour is credited at most once (the credited marks are exactly the hours of the batches not
  cancelled, whose periods never overlap); and no facility has more credited than the oracle
  holds: 10^6 x the kilograms of its sealed, approved and issued batches is at most the CO2 of
  their hours in force now plus the lowering owed (the shortfall not yet deducted, and lowering
  corrections of credited hours not yet reviewed).

`make fuzz` runs it with GREENBOND_FUZZ_FACTOR=10 times the examples CI runs.
"""

import datetime as dt
import os
import sys
from pathlib import Path

import brownie
import pytest
import requests
from brownie import ZERO_ADDRESS, chain, network, project, web3
from brownie.test import strategy
from hypothesis import HealthCheck

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ImpactOracle"))
from oracle_kit import Reverted, batch_read, tdiv  # noqa: E402

from bench.schedule import bench_bond_toml  # noqa: E402
from greenbond.config import load_terms  # noqa: E402
from greenbond.chain.tx import Signer  # noqa: E402
from tests.helpers.brownie_compat import brownie_handles  # noqa: E402
from greenbond.deploy import DEV_VERIFIER_ACCOUNT, deploy_suite  # noqa: E402
from greenbond.impact.methodology import fiscal_year  # noqa: E402
from greenbond.offering import OfferingTerms, deploy_dvp, deploy_offering  # noqa: E402
from greenbond.oracle.setup import DEV_THRESHOLD, dev_signer_keys  # noqa: E402
from greenbond.oracle.signing import HourlyReport, sign_report  # noqa: E402

FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))

DAY, HOUR = 86_400, 3_600
JST = dt.timezone(dt.timedelta(hours=9))
PAR = 1_000_000
UNITS = 1_000                   # issue volume in units
MONTHS = 3                      # three monthly coupons; maturity on the third
START = [120, 80, 40, 0]        # units issued to the four holders before the run
SUBSCRIBED = [40, 30]           # offering subscriptions of holders 0 and 1, allotted in full
DEADLINE_DAYS = 40              # the offering's settlement deadline, days after the issue date
MAX_OFFER = 20 * DAY            # the DvP's maxOfferDuration
CASH = 10**13                   # settlement tokens each wallet starts with
GUARD = 120                     # never act within this margin before a date (nor 2 s after)
BUILDING, SOLAR = 1, 2
MAX_WH = {BUILDING: 3_000_000, SOLAR: 500_000}   # config/facilities/default.toml max_kw x 1 h
PEF, GRAMS = 9_760, 462         # methodology v1: J per Wh, mg per Wh
OK = "OK"
TRADE_OPEN, TRADE_SETTLED, TRADE_CANCELLED, TRADE_EXPIRED = 1, 3, 4, 5
ALLOTTED, SETTLED, LAPSED = 3, 4, 6
MIN_COVERAGE = 900_000         # the credits' minimum coverage, ppm (the default config's)
DRAFT, SEALED, APPROVED, ISSUED, CANCELLED = 1, 2, 3, 4, 5   # ICarbonCredits.BatchStatus
TALLY: dict = {}                # outcomes over all runs, printed at the end (pytest -s)


@pytest.fixture(scope="module")
def system(accounts, tmp_path_factory):
    """The suite deployed by deploy_suite, the offering and DvP by greenbond.offering, into a
    deployments folder of their own; the offering subscribed and allotted before the issue date."""
    chain.mine()
    # the issue date is a JST midnight one to two days ahead: the offering's window (2 hours from
    # now) always closes before it, whatever time of day the clock earlier tests left says
    issue = (dt.datetime.fromtimestamp(chain.time() + 2 * DAY, JST)).date()
    config = tmp_path_factory.mktemp("system") / "bond.toml"
    config.write_text(bench_bond_toml(issue, months=MONTHS, units=UNITS), encoding="utf-8")
    terms = load_terms(config)
    issuer = accounts[0]
    directory = tmp_path_factory.mktemp("deployments")
    proj = project.get_loaded_projects()[0]
    quiet = lambda _m: None  # noqa: E731
    suite = brownie_handles(deploy_suite(web3, Signer(issuer.address), terms, network_name=network.show_active(),
                                         development=True, log=quiet, directory=directory), proj)
    bond, registry, schedule, token = suite.bond, suite.registry, suite.schedule, suite.settlement
    holders = [accounts[i] for i in (3, 4, 5, 6)]
    spares = [accounts[i] for i in (1, 2, 7, 8)]      # each holder's second wallet, same investor id
    expires = chain.time() + 3650 * DAY
    for n, (h, s) in enumerate(zip(holders, spares), start=1):
        for w in (h, s):
            registry.registerHolder(w, "0x" + f"{n:064x}", 392, expires, "0x01", {"from": issuer})
    token.mint(issuer, 10**15, {"from": issuer})
    token.approve(schedule, 2**256 - 1, {"from": issuer})
    now = chain.time()
    offer_terms = OfferingTerms(open_time=now + 60, close_time=now + 2 * HOUR, settlement_date=bond.issueDate(),
                                price_per_unit=PAR, min_units=1, max_units=UNITS, units_offered=100,
                                issuer=issuer.address, settlement_deadline=bond.issueDate() + DEADLINE_DAYS * DAY)
    bond_w3 = web3.eth.contract(address=bond.address, abi=bond.abi)
    offering = proj.Offering.at(deploy_offering(web3, bond_w3, offer_terms, Signer(issuer.address), log=quiet,
                                                directory=directory).address)
    dvp = proj.BondDvP.at(deploy_dvp(web3, bond_w3, Signer(issuer.address), log=quiet, directory=directory,
                                     max_offer_duration=MAX_OFFER).address)
    for w in holders + spares:
        token.mint(w, CASH, {"from": issuer})
        token.approve(dvp, 2**256 - 1, {"from": w})
        token.approve(offering, 2**256 - 1, {"from": w})
    chain.sleep(61)
    chain.mine()
    for h, units in zip(holders, SUBSCRIBED):
        offering.subscribe(units, {"from": h})
    chain.sleep(offer_terms.close_time - chain.time() + 1)
    chain.mine()
    offering.allot({"from": issuer})
    # issue date: the schedule's first period starts there
    chain.sleep(max(0, bond.issueDate() + 2 - chain.time()))
    chain.mine()
    bond.batchMint(holders[:3], START[:3], {"from": issuer})
    return suite, offering, dvp, issuer, holders, spares


def try_calls(calls):
    """eth_call each (contract, function, args, sender) at the latest block in one JSON-RPC batch;
    returns None for a call that succeeded, else the node's error."""
    payload = [{"jsonrpc": "2.0", "id": i, "method": "eth_call",
                "params": [{"from": str(who), "to": c.address, "data": getattr(c, fn).encode_input(*args)}, "latest"]}
               for i, (c, fn, args, who) in enumerate(calls)]
    if not payload:
        return []
    answers = {a["id"]: a for a in requests.post(web3.provider.endpoint_uri, json=payload, timeout=120).json()}
    return [answers[i].get("error") for i in range(len(calls))]


class SystemMachine:
    """See the module docstring."""

    st_wallet = strategy("uint8", max_value=7)         # a holder (0-3) or a spare (4-7)
    st_other = strategy("uint8", max_value=8)          # 8: the outsider (never registered)
    st_amount = strategy("uint8", min_value=1, max_value=60)
    st_coupon = strategy("uint8", max_value=MONTHS - 1)
    st_batch = strategy("uint8[]", max_value=7, max_length=4)
    st_flag = strategy("bool")
    st_sleep = strategy("uint32", min_value=HOUR, max_value=12 * DAY)
    st_small = strategy("uint16", max_value=7_200)
    st_expiry = strategy("uint32", min_value=GUARD, max_value=MAX_OFFER + 2 * DAY)
    st_facility = strategy("uint8", min_value=1, max_value=2)
    st_hours = strategy("uint8", min_value=1, max_value=3)
    st_gap = strategy("uint8", max_value=2)
    st_frac = strategy("uint16", max_value=1_040)     # per mille of the bound; > 1000 is out of bounds
    st_pick = strategy("uint32")
    st_investor = strategy("uint8", max_value=1)
    st_phase = strategy("uint8", max_value=7)
    st_transfers = strategy("uint8[2][]", max_value=3, max_length=3)
    st_span = strategy("uint8", min_value=1, max_value=8)

    def __init__(cls, system, outsider, revert_with):
        suite, offering, dvp, issuer, holders, spares = system
        cls.bond, cls.registry, cls.s = suite.bond, suite.registry, suite.schedule
        cls.token, cls.oracle, cls.offering, cls.dvp = suite.settlement, suite.oracle, offering, dvp
        cls.issuer = issuer
        cls.holders, cls.spares = list(holders), list(spares)
        cls.wallets = cls.holders + cls.spares + [outsider]
        cls.outsider = outsider
        cls.investors = cls.holders[:len(SUBSCRIBED)]
        cls.revert_with = staticmethod(revert_with)
        n = cls.s.couponCount()
        cls.bond_records = list(cls.bond.recordDates())
        cls.all_records = [cls.s.recordDate(i) for i in range(n)]
        cls.all_dates = [cls.s.couponDate(i) for i in range(n)]
        cls.per_unit = [cls.s.couponPerUnit(i) for i in range(n)]
        cls.maturity = cls.s.redemptionDate()
        cls.notice = cls.s.callNotice()
        cls.deadline = offering.terms()[3]
        cls.keys = dev_signer_keys()
        cls.chain_id = web3.eth.chain_id
        cls.start_end = {f: cls.oracle.lastPeriodEnd(f) for f in (BUILDING, SOLAR)}
        # the bond's share of each facility, as deployed from config/facilities (one version each)
        cls.share = {}
        for f in (BUILDING, SOLAR):
            versions = cls.oracle.allocations(f, cls.bond)
            assert len(versions) <= 1
            cls.share[f] = (int(versions[0][1]), int(versions[0][2])) if versions else (0, 1)
        cls.credits = suite.credits
        cls.verifier = next(a for a in cls.spares if a.address == web3.eth.accounts[DEV_VERIFIER_ACCOUNT])
        assert cls.credits.registry() == cls.registry.address and cls.credits.minCoveragePpm() == MIN_COVERAGE
        cls.parties = cls.wallets + [issuer, cls.s, offering, dvp]
        cls.start_cash = {p: cls.token.balanceOf(p) for p in cls.parties}
        assert cls.bond.impactOracle() == cls.oracle.address
        assert offering.state() == ALLOTTED

    def setup(self):
        self.bal = {w: 0 for w in self.wallets}
        for h, units in zip(self.holders, START):
            self.bal[h] = units
        ids = {w: k % 4 + 1 for k, w in enumerate(self.holders + self.spares)}
        self.investor_id = {w: ids.get(w, 0) for w in self.wallets}
        # registry expiry per wallet (0: not registered): the fixture's, ten years away, read back
        self.expiry = {w: int(self.registry.holderOf(w)[2]) for w in self.wallets}
        assert all(bool(self.expiry[w]) == (w in ids) for w in self.wallets)
        self.expiry_dates = set()       # expiries moved onto coming dates: guarded like every date
        self.registered_id = dict(self.investor_id)         # 0 once removed from the registry
        self.frozen = {w: False for w in self.wallets}
        self.frozen_units = {w: 0 for w in self.wallets}
        self.escrow = {w: 0 for w in self.wallets}
        self.gen = {w: 0 for w in self.wallets}
        self.successor = {}                                  # lost wallet -> the wallet it was recovered to
        self.paused = False
        self.cash = dict(self.start_cash)
        # the schedule
        self.ncoupons = len(self.all_records)
        self.redemption = self.maturity
        self.called = False
        self.rec = [None] * len(self.bond_records)         # balances at each bond record date, once passed
        self.funded = [False] * self.ncoupons
        self.held = [0] * self.ncoupons
        self.paid = [set() for _ in range(self.ncoupons)]   # wallets whose coupon i was paid
        self.principal = 0                                   # principal held by the schedule
        self.red_funded = False
        self.fully_redeemed = False
        # the offering and the DvP
        self.subs = {h: {"units": u, "escrow": u * PAR, "settled": False} for h, u in zip(self.investors, SUBSCRIBED)}
        self.trades = []
        # the oracle
        self.reports = {BUILDING: [], SOLAR: []}         # per report: fields, supersededBy, first read
        self.last_end = dict(self.start_end)
        self.hours = {f: set() for f in (BUILDING, SOLAR)}
        self.accepted = []                               # (reports, signatures) for replays
        # the carbon credits
        self.cbatches = []                               # per batch id - 1: the model's batch
        self.credited = {BUILDING: {}, SOLAR: {}}        # hour -> batch id, for batches not cancelled
        self.cbook = {f: {"shortfall": 0, "reviewed": set(), "until": 0, "held": False} for f in (BUILDING, SOLAR)}
        self.cbal = {}                                   # (wallet, batch id) -> credits (kg)
        self.cretired = {}                               # batch id -> credits retired
        self.certs = 0
        self.next_serial = 1
        self.now = chain.time()
        self._settle()

    # ---------------------------------------------------------------- time and the model

    @property
    def boundaries(self):
        dates = self.bond_records + self.all_dates[:self.ncoupons] + [self.redemption, self.deadline]
        dates += [t["expiry"] for t in self.trades if t["status"] == TRADE_OPEN]
        return sorted(set(dates) | self.expiry_dates)

    def _settle(self):
        """Steps out of the margin around a date; record-date balances once a record date passed."""
        now = chain.time()
        for b in self.boundaries:
            if b - GUARD <= now < b + 2:
                chain.sleep(b + 2 - now)
                now = b + 2
        self.now = now
        for i, r in enumerate(self.bond_records):
            if self.rec[i] is None and r <= now:
                self.rec[i] = dict(self.bal)

    def _same_side(self, tx):
        for b in self.boundaries:
            assert (self.now < b) == (tx.timestamp < b), "a date fell between prediction and mining"

    def _units(self, i, w):
        return self.rec[i][w] if self.rec[i] is not None else 0

    def _call(self, expected, fn, *args):
        """Sends; `expected` is None for success or (error name, args...) for the exact revert."""
        name = f"{fn._name}: " + (expected[0] if expected else "ok")
        TALLY[name] = TALLY.get(name, 0) + 1
        if expected is None:
            tx = fn(*args)
            self._same_side(tx)
            return tx
        with self.revert_with(*expected):
            fn(*args)
        return None

    def _pay(self, frm, to, amount):
        """Cash moves in the model; a recovered wallet is never paid."""
        assert to not in self.successor, f"a payment to {to}, a wallet recovered to {self.successor.get(to)}"
        self.cash[frm] -= amount
        self.cash[to] += amount

    def _final(self, w):
        while w in self.successor:
            w = self.successor[w]
        return w

    def _partner(self, w):
        k = self.wallets.index(w)
        return self.wallets[(k + 4) % 8] if k < 8 else None

    def _free(self, w):
        return self.bal[w] - self.frozen_units[w] - self.escrow[w]

    def _release(self, w):
        if self.escrow[w]:
            self.escrow[w] = 0
            self.gen[w] = (self.gen[w] + 1) % 2**16

    def _make_movable(self, w, amount):
        """The bond's agent rule: release every lock if the unlocked units fall short, then
        unfreeze what the free balance lacks."""
        if amount > self.bal[w] - self.escrow[w]:
            self._release(w)
        free = self._free(w)
        if amount > free:
            self.frozen_units[w] -= amount - free

    def _move(self, frm, to, amount):
        self.bal[frm] -= amount
        self.bal[to] += amount

    def _eligible(self, w):
        return self.expiry[w] > self.now

    def _transfer_reason(self, frm, to, amount):
        if self.paused:
            return "PAUSED"
        if self.frozen[frm]:
            return "SENDER_FROZEN"
        if to == ZERO_ADDRESS:
            return "ZERO_ADDRESS"
        if self.frozen[to]:
            return "RECEIVER_RECOVERED" if to in self.successor else "RECEIVER_FROZEN"
        if not self._eligible(to):
            return "RECEIVER_NOT_ELIGIBLE"
        if self.bal[frm] < amount:
            return "INSUFFICIENT_BALANCE"
        if self._free(frm) < amount:
            return "TOKENS_LOCKED"
        return OK

    def _receiver_error(self, to, minting):
        """The bond's checks on the receiver of a mint (or forced transfer, minting=False)."""
        if to in self.successor:   # a recovered wallet is also frozen for good
            return ("GreenBondWalletRecovered", to, self.successor[to])
        if minting and self.frozen[to]:
            return ("GreenBondWalletFrozen", to)
        if not self._eligible(to):
            return ("GreenBondNotEligible", to)
        return None

    def _mint_error(self, to, amount):
        if self.now >= self.redemption:
            return ("GreenBondMatured", self.redemption)
        err = self._receiver_error(to, True)
        if err:
            return err
        available = UNITS - sum(self.bal.values())
        if amount > available:
            return ("GreenBondIssueVolumeExceeded", amount, available)
        if self.paused:
            return ("EnforcedPause",)
        return None

    def _paid_events(self, tx):
        for ev in tx.events["CouponPaid"] if "CouponPaid" in tx.events else []:
            i, h, payee = ev["index"], ev["holder"], ev["payee"]
            assert h not in self.paid[i], f"coupon {i} paid twice to {h}"
            assert payee == self._final(h) and not self.frozen[payee]
            expected = self._units(i, h) * self.per_unit[i]
            assert ev["amount"] == expected and expected > 0
            self.paid[i].add(h)
            self.held[i] -= expected
            self._pay(self.s, payee, expected)

    # ---------------------------------------------------------------- bond rules

    def rule_transfer(self, st_wallet, st_other, st_amount):
        """A holder sells units (to another wallet, or to the unregistered outsider)."""
        self._settle()
        frm, to = self._holder(st_wallet), self.wallets[st_other]
        st_amount = self._some(frm, st_amount)
        why = self._transfer_reason(frm, to, st_amount)
        expected = None if why == OK else ("GreenBondTransferNotAllowed", frm, to, st_amount, why)
        if self._call(expected, self.bond.transfer, to, st_amount, {"from": frm}):
            self._move(frm, to, st_amount)

    def rule_issue(self, st_wallet, st_amount):
        """The agent issues more units (up to the issue volume; never from the redemption date)."""
        self._settle()
        to, amount = self.wallets[st_wallet], st_amount * 5
        if self._call(self._mint_error(to, amount), self.bond.mint, to, amount, {"from": self.issuer}):
            self.bal[to] += amount

    def rule_burn(self, st_wallet, st_amount):
        """The agent cancels units (locks released and units unfrozen as needed)."""
        self._settle()
        w = self._holder(st_wallet)
        if st_amount > self.bal[w]:
            expected = ("GreenBondInsufficientUnlocked", w, self.bal[w], st_amount)
        elif self.paused:
            expected = ("EnforcedPause",)
        else:
            expected = None
        if self._call(expected, self.bond.burn, w, st_amount, {"from": self.issuer}):
            self._make_movable(w, st_amount)
            self.bal[w] -= st_amount

    def rule_forced_transfer(self, st_wallet, st_other, st_amount):
        """The agent moves units between wallets (court order, error correction)."""
        self._settle()
        frm, to = self._holder(st_wallet), self.wallets[st_other]
        if frm == to:
            expected = ("GreenBondSelfTransfer", frm)
        else:
            expected = self._receiver_error(to, False)
        if expected is None and st_amount > self.bal[frm]:
            expected = ("GreenBondInsufficientUnlocked", frm, self.bal[frm], st_amount)
        if expected is None and self.paused:
            expected = ("EnforcedPause",)
        tx = self._call(expected, self.bond.forcedTransfer, frm, to, st_amount, {"from": self.issuer})
        if tx:
            assert tx.events["ForcedTransfer"]["agent"] == self.issuer
            self._make_movable(frm, st_amount)
            self._move(frm, to, st_amount)

    def rule_freeze(self, st_wallet, st_flag):
        """The agent freezes or unfreezes a wallet (frozen wallets can neither trade nor collect)."""
        self._settle()
        w = self.wallets[st_wallet]
        expected = ("GreenBondWalletRecovered", w, self.successor[w]) if w in self.successor and not st_flag else None
        if self._call(expected, self.bond.setAddressFrozen, w, st_flag, {"from": self.issuer}):
            self.frozen[w] = st_flag

    def rule_freeze_partial(self, st_wallet, st_amount, st_flag):
        """The agent freezes (or, with `st_flag`, unfreezes) some of a wallet's units."""
        self._settle()
        w = self._holder(st_wallet)
        if st_flag:
            if st_amount > self.frozen_units[w]:
                expected = ("GreenBondInsufficientFrozen", w, self.frozen_units[w], st_amount)
            else:
                expected = None
            if self._call(expected, self.bond.unfreezePartialTokens, w, st_amount, {"from": self.issuer}):
                self.frozen_units[w] -= st_amount
            return
        unfrozen = self.bal[w] - self.frozen_units[w]
        expected = ("GreenBondInsufficientUnlocked", w, unfrozen, st_amount) if st_amount > unfrozen else None
        if self._call(expected, self.bond.freezePartialTokens, w, st_amount, {"from": self.issuer}):
            if st_amount > unfrozen - self.escrow[w]:
                self._release(w)
            self.frozen_units[w] += st_amount

    def rule_recover(self, st_wallet, st_flag):
        """The agent recovers a wallet to the investor's other wallet (unless `st_flag`, only once
        a record date has passed, so a coupon is still owed to the lost wallet)."""
        if not st_flag:
            later = [r for r in self.bond_records if r > chain.time()]
            if later and self.rec[0] is None:
                self._jump(later[0])
        self._settle()
        lost = self.wallets[st_wallet]
        new = self._partner(lost)
        if not self.registered_id[lost] or self.registered_id[new] != self.registered_id[lost]:
            expected = ("GreenBondNotSameInvestor", lost, new)
        elif lost in self.successor:
            expected = ("GreenBondWalletRecovered", lost, self.successor[lost])
        elif new in self.successor:
            expected = ("GreenBondWalletRecovered", new, self.successor[new])
        elif self.frozen[new]:
            expected = ("GreenBondWalletFrozen", new)
        elif not self._eligible(new):
            expected = ("GreenBondNotEligible", new)
        elif self.paused and self.bal[lost]:
            expected = ("EnforcedPause",)
        else:
            expected = None
        if self._call(expected, self.bond.recoveryAddress, lost, new, {"from": self.issuer}):
            self._release(lost)
            self._move(lost, new, self.bal[lost])
            self.frozen_units[new] += self.frozen_units[lost]
            self.frozen_units[lost] = 0
            if self.frozen[lost]:
                self.frozen[new] = True
            self.frozen[lost] = True            # a lost wallet is frozen for good
            self.successor[lost] = new

    def rule_pause(self, st_flag):
        """The issuer pauses or unpauses the bond (the oracle keeps reporting either way)."""
        self._settle()
        if st_flag != self.paused:
            (self.bond.pause if st_flag else self.bond.unpause)({"from": self.issuer})
            self.paused = st_flag

    def rule_registry(self, st_wallet):
        """The registrar removes a wallet from the registry, or registers it again (same investor)."""
        self._settle()
        w = self.wallets[st_wallet]
        if self.expiry[w]:
            self.registry.removeHolder(w, {"from": self.issuer})
            self.registered_id[w] = 0
            self.expiry[w] = 0
        else:
            n = self.investor_id[w]
            expires = chain.time() + 3650 * DAY
            self.registry.registerHolder(w, "0x" + f"{n:064x}", 392, expires, "0x01", {"from": self.issuer})
            self.registered_id[w] = n
            self.expiry[w] = expires

    def rule_registry_expiry(self, st_wallet, st_pick):
        """The registrar moves a registered wallet's expiry: to one of the coming dates (so time
        passing ends its eligibility, with no registry call the bond would hear of), or ten years
        ahead again (a renewal, also of an expired wallet)."""
        self._settle()
        w = self.wallets[st_wallet]
        if not self.expiry[w]:
            return
        coming = [b for b in self.boundaries if b > self.now + GUARD]
        if coming and st_pick % 3:
            expires = coming[st_pick % len(coming)]
            self.expiry_dates.add(expires)
        else:
            expires = chain.time() + 3650 * DAY    # never reached in a run: not a date to guard
        n = self.registered_id[w]
        self.registry.updateHolder(w, "0x" + f"{n:064x}", 392, expires, "0x01", {"from": self.issuer})
        self.expiry[w] = expires

    # ---------------------------------------------------------------- time

    def initialize_phase(self, st_phase, st_transfers, st_flag):
        """Each run starts in a random phase of the bond's life (before, between or after its
        dates: the simplest draw is just after the second record date), some units having moved
        first, and, unless `st_flag`, every coupon whose record date passed funded."""
        for a, b in st_transfers:
            self.rule_transfer(a, b, 7)
        # an open DvP offer and, half the time, an offering settlement before time moves on, so
        # the trade and offering rules find something to act on in every phase
        self.rule_offer(0, 1 + st_phase % 3, 10 + st_phase, MAX_OFFER - (1 + st_phase) * DAY)
        if st_phase % 2 == 0:
            self.rule_offering_settle(st_phase // 2 % 2)
        dates = self.boundaries
        phase = (st_phase + 3) % (len(dates) + 1)
        if phase:
            target = dates[phase - 1] + 2
            if chain.time() < target:
                chain.sleep(target - chain.time())
                chain.mine()
        self._settle()
        if not st_flag:
            for i in range(self.ncoupons):
                if self.all_records[i] < self.now:
                    self.rule_fund_coupon(i)

    def rule_sleep(self, st_sleep):
        """Time passes, across record dates, payment dates, the offering's deadline and maturity."""
        chain.sleep(st_sleep)
        chain.mine()
        self._settle()

    def _jump(self, ts):
        """Time moves to just after `ts` if it is still ahead (keeps runs short)."""
        if chain.time() < ts + 2:
            chain.sleep(ts + 2 - chain.time())
            chain.mine()
        self._settle()

    def rule_next_date(self, st_small):
        """Time jumps to just after the next record date, payment date, deadline or maturity."""
        later = [b for b in self.boundaries if b > chain.time()]
        if later:
            chain.sleep(later[0] + 2 + st_small - chain.time())
            chain.mine()
        self._settle()

    # ---------------------------------------------------------------- DvP rules

    def _holder(self, st_wallet):
        """Mostly a wallet holding units (st_wallet picks among them), else any wallet."""
        holding = [w for w in self.wallets[:8] if self.bal[w]]
        if holding and st_wallet % 8 != 7:
            return holding[st_wallet % len(holding)]
        return self.wallets[st_wallet]

    def _some(self, w, amount):
        """Mostly an amount the wallet's free units allow, now and then any."""
        free = self._free(w)
        return amount if amount % 5 == 0 or free <= 0 else 1 + amount % free

    def rule_offer(self, st_wallet, st_other, st_amount, st_expiry):
        """A holder offers units on the DvP (expiry up to two days past the maximum: refused)."""
        self._settle()
        seller, buyer = self._holder(st_wallet), self.wallets[st_other]
        st_amount = self._some(seller, st_amount)
        expiry = self.now + st_expiry
        if abs(expiry - (self.now + MAX_OFFER)) < GUARD:
            expiry -= 2 * GUARD
        if expiry > self.now + MAX_OFFER:
            expected = ("DvPBadOffer", "expiry")
        elif buyer == seller:
            expected = ("DvPBadOffer", "buyer")
        elif self.paused:
            expected = ("GreenBondLockRefused", seller, "PAUSED")
        elif self.frozen[seller]:
            expected = ("GreenBondLockRefused", seller, "SENDER_FROZEN")
        elif st_amount > self._free(seller):
            expected = ("GreenBondInsufficientUnlocked", seller, self._free(seller), st_amount)
        else:
            expected = None
        if self._call(expected, self.dvp.offer, buyer, st_amount, st_amount * PAR, expiry, {"from": seller}):
            self.escrow[seller] += st_amount
            self.trades.append({"seller": seller, "buyer": buyer, "units": st_amount, "price": st_amount * PAR,
                                "expiry": expiry, "status": TRADE_OPEN, "gen": self.gen[seller]})

    def _trade(self, st_pick):
        if not self.trades:
            return None, None
        k = st_pick % len(self.trades)
        return k, self.trades[k]

    def rule_accept(self, st_pick, st_wallet, st_flag):
        """The named buyer (or, unless `st_flag`, anyone) accepts a trade: units and cash move."""
        k, t = self._trade(st_pick)
        if t is None:
            return
        self._settle()
        buyer = t["buyer"] if st_flag else self.wallets[st_wallet]
        seller = t["seller"]
        if t["status"] != TRADE_OPEN:
            expected = ("DvPWrongStatus", k, t["status"])
        elif self.now >= t["expiry"]:
            expected = ("DvPExpired", k, t["expiry"])
        elif buyer != t["buyer"] or buyer == seller:
            expected = ("DvPNotBuyer", k, buyer)
        elif t["gen"] != self.gen[seller]:
            expected = ("DvPLockReleased", k)
        else:
            why = self._transfer_reason(seller, buyer, 0)
            expected = None if why == OK else ("GreenBondTransferNotAllowed", seller, buyer, t["units"], why)
        if self._call(expected, self.dvp.accept, k, {"from": buyer}):
            t["status"] = TRADE_SETTLED
            self.escrow[seller] -= t["units"]
            self._move(seller, buyer, t["units"])
            self._pay(buyer, seller, t["price"])

    def rule_cancel_trade(self, st_pick, st_flag):
        """The seller (with `st_flag`) or the agent cancels a trade; the lock is released."""
        k, t = self._trade(st_pick)
        if t is None:
            return
        self._settle()
        who = t["seller"] if st_flag else self.issuer
        expected = None if t["status"] == TRADE_OPEN else ("DvPWrongStatus", k, t["status"])
        tx = self._call(expected, self.dvp.cancel, k, {"from": who})
        if tx:
            assert ("TradeCancelledByAgent" in tx.events) == (not st_flag)
            if not st_flag:
                assert tx.events["TradeCancelledByAgent"]["agent"] == self.issuer
            t["status"] = TRADE_CANCELLED
            if t["gen"] == self.gen[t["seller"]]:
                self.escrow[t["seller"]] -= t["units"]

    def rule_expire_trade(self, st_pick, st_flag):
        """Anyone releases an expired trade (unless `st_flag`, time first moves past its expiry)."""
        k, t = self._trade(st_pick)
        if t is None:
            return
        if not st_flag and t["status"] == TRADE_OPEN:
            self._jump(t["expiry"])
        self._settle()
        if t["status"] != TRADE_OPEN:
            expected = ("DvPWrongStatus", k, t["status"])
        elif self.now < t["expiry"]:
            expected = ("DvPNotExpired", k, t["expiry"])
        else:
            expected = None
        if self._call(expected, self.dvp.expire, k, {"from": self.outsider}):
            t["status"] = TRADE_EXPIRED
            if t["gen"] == self.gen[t["seller"]]:
                self.escrow[t["seller"]] -= t["units"]

    # ---------------------------------------------------------------- offering rules

    def _offering_state(self):
        if all(s["settled"] for s in self.subs.values()):
            return SETTLED
        return LAPSED if self.now >= self.deadline else ALLOTTED

    def rule_offering_settle(self, st_investor):
        """Anyone settles an investor of the offering: units to its wallet (the recovered-to one),
        or, if that wallet is frozen or not eligible, its cash back."""
        self._settle()
        inv = self.investors[st_investor]
        sub = self.subs[inv]
        state = self._offering_state()
        wallet = self._final(inv)
        expected, refund = None, False
        if state != ALLOTTED:
            expected = ("OfferingWrongState", state)
        elif not sub["settled"]:
            refund = self.frozen[wallet] or not self._eligible(wallet)
            if not refund:
                expected = self._mint_error(wallet, sub["units"])
        tx = self._call(expected, self.offering.settle, [inv], {"from": self.outsider})
        if tx and not sub["settled"]:
            sub["settled"] = True
            if refund:
                assert tx.events["RefundedIneligible"]["refund"] == sub["escrow"]
                self._pay(self.offering, wallet, sub["escrow"])
            else:
                self.bal[wallet] += sub["units"]
                self._pay(self.offering, self.issuer, sub["escrow"])
            sub["escrow"] = 0

    def rule_offering_refund(self, st_investor):
        """An investor asks for its cash back: only once the offering lapsed, to its recovered-to wallet."""
        self._settle()
        inv = self.investors[st_investor]
        sub = self.subs[inv]
        state = self._offering_state()
        if state != LAPSED:
            expected = ("OfferingWrongState", state)
        elif sub["escrow"] == 0:
            expected = ("OfferingNothingToRefund", inv)
        else:
            expected = None
        if self._call(expected, self.offering.withdrawRefund, {"from": inv}):
            self._pay(self.offering, self._final(inv), sub["escrow"])
            sub["escrow"], sub["settled"] = 0, True

    # ---------------------------------------------------------------- schedule rules

    def rule_fund_coupon(self, st_coupon):
        """The paying agent funds a coupon: units at the record date x the coupon per unit."""
        self._settle()
        i = st_coupon
        if i >= self.ncoupons:
            expected = ("ScheduleUnknownCoupon", i)
        elif self.funded[i]:
            expected = ("ScheduleAlreadyFunded", i)
        elif self.now < self.all_records[i]:
            expected = ("ScheduleRecordDateNotReached", i, self.all_records[i])
        else:
            expected = None
        tx = self._call(expected, self.s.fundCoupon, i, {"from": self.issuer})
        if tx:
            amount = sum(self.rec[i].values()) * self.per_unit[i]
            assert tx.events["CouponFunded"]["amount"] == amount
            self.funded[i], self.held[i] = True, amount
            self._pay(self.issuer, self.s, amount)

    def _claim_error(self, i, holder, caller):
        payee = self._final(holder)
        if payee != caller:
            return ("ScheduleWalletRecovered", holder, payee)
        if self.frozen[payee]:
            return ("ScheduleHolderFrozen", payee)
        if i >= self.ncoupons:
            return ("ScheduleUnknownCoupon", i)
        if self.now < self.all_dates[i]:
            return ("SchedulePaymentDateNotReached", i, self.all_dates[i])
        if not self.funded[i]:
            return ("ScheduleNotFunded", i)
        if holder in self.paid[i]:
            return ("ScheduleAlreadyPaid", i, holder)
        if self._units(i, holder) == 0:
            return ("ScheduleNothingOwed", i, holder)
        return None

    def rule_claim(self, st_wallet, st_coupon, st_flag):
        """A wallet claims a coupon (unless `st_flag`, once its payment date has come)."""
        if st_coupon < self.ncoupons and not st_flag:
            self._jump(self.all_dates[st_coupon])
        self._settle()
        h, i = self.wallets[st_wallet], st_coupon
        tx = self._call(self._claim_error(i, h, h), self.s.claimCoupon, i, {"from": h})
        if tx:
            assert tx.return_value == self._units(i, h) * self.per_unit[i]
            self._paid_events(tx)

    def rule_claim_for_recovered(self, st_pick, st_coupon):
        """The new wallet claims what a recovered wallet is owed (the lost key itself is refused:
        rule_claim)."""
        if not self.successor or st_coupon >= self.ncoupons:
            return
        lost = sorted(self.successor, key=str)[st_pick % len(self.successor)]
        self._jump(self.all_dates[st_coupon])
        caller = self._final(lost)
        tx = self._call(self._claim_error(st_coupon, lost, caller), self.s.claimCouponOf, st_coupon, lost,
                        {"from": caller})
        if tx:
            self._paid_events(tx)

    def rule_distribute(self, st_coupon, st_batch, st_flag):
        """The paying agent pushes a coupon to a batch of wallets (repeats, frozen and recovered
        ones included; unless `st_flag`, once its payment date has come)."""
        if st_coupon < self.ncoupons and not st_flag:
            self._jump(self.all_dates[st_coupon])
        self._settle()
        i = st_coupon
        batch = [self.wallets[k] for k in st_batch]
        if i >= self.ncoupons:
            expected = ("ScheduleUnknownCoupon", i)
        elif self.now < self.all_dates[i]:
            expected = ("SchedulePaymentDateNotReached", i, self.all_dates[i])
        elif not self.funded[i]:
            expected = ("ScheduleNotFunded", i)
        else:
            expected = None
        tx = self._call(expected, self.s.distributeCoupon, i, batch, {"from": self.issuer})
        if tx:
            owed, skipped = [], []
            for h in batch:
                if h in self.paid[i] or h in owed or not self._units(i, h):
                    continue
                if self.frozen[self._final(h)]:
                    skipped.append(h)
                else:
                    owed.append(h)
            got = [ev["holder"] for ev in tx.events["CouponPaid"]] if "CouponPaid" in tx.events else []
            assert got == owed
            got = [ev["holder"] for ev in tx.events["CouponSkipped"]] if "CouponSkipped" in tx.events else []
            assert got == skipped
            self._paid_events(tx)

    def _owed(self):
        return sum(self.bal.values()) * PAR

    def _redeemable_error(self):
        if self.now < self.redemption:
            return ("ScheduleNotMatured", self.redemption)
        if not self.red_funded:
            return ("ScheduleRedemptionNotFunded",)
        if self.principal < self._owed():
            return ("ScheduleRedemptionUnderfunded", self._owed() - self.principal)
        return None

    def rule_fund_redemption(self):
        """The paying agent funds the principal of every outstanding unit (again after new issues)."""
        self._settle()
        owed = self._owed()
        if self.fully_redeemed or (self.red_funded and self.principal >= owed):
            expected = ("ScheduleRedemptionAlreadyFunded",)
        else:
            expected = None
        tx = self._call(expected, self.s.fundRedemption, {"from": self.issuer})
        if tx:
            assert tx.events["RedemptionFunded"]["amount"] == owed - self.principal
            self._pay(self.issuer, self.s, owed - self.principal)
            self.principal, self.red_funded = owed, True

    def rule_return_surplus(self):
        """The paying agent takes back principal held beyond what the outstanding units are owed."""
        self._settle()
        owed = self._owed()
        expected = ("ScheduleNoSurplus", self.principal, owed) if self.principal <= owed else None
        tx = self._call(expected, self.s.returnSurplusPrincipal, {"from": self.issuer})
        if tx:
            assert tx.events["PrincipalSurplusReturned"]["amount"] == self.principal - owed
            self._pay(self.s, self.issuer, self.principal - owed)
            self.principal = owed

    def _redeemed(self, w, units):
        """The model of one redemption: only free units of an unfrozen, unrecovered wallet."""
        assert not self.frozen[w] and w not in self.successor
        assert units == self.bal[w] - self.frozen_units[w] > 0, "a frozen unit would be redeemed"
        if units > self.bal[w] - self.frozen_units[w] - self.escrow[w]:
            self._release(w)
        self.bal[w] -= units
        self.principal -= units * PAR
        self._pay(self.s, w, units * PAR)
        if sum(self.bal.values()) == 0:
            self.fully_redeemed = True

    def rule_redeem(self, st_wallet, st_flag):
        """A holder redeems its free units at par, from the redemption date (unless `st_flag`,
        time first moves there); the schedule burns them through the bond."""
        if not st_flag:
            self._jump(self.redemption)
        self._settle()
        h = self.wallets[st_wallet]
        expected = self._redeemable_error()
        if expected is None:
            if self._final(h) != h:
                expected = ("ScheduleWalletRecovered", h, self._final(h))
            elif self.frozen[h]:
                expected = ("ScheduleHolderFrozen", h)
            elif self.bal[h] == self.frozen_units[h]:
                expected = ("ScheduleNothingToRedeem", h)
            elif self.paused:
                expected = ("EnforcedPause",)
        tx = self._call(expected, self.s.redeem, {"from": h})
        if tx:
            units = self.bal[h] - self.frozen_units[h]
            assert tx.return_value == units * PAR
            self._redeemed(h, units)

    def rule_redeem_for(self, st_batch, st_flag):
        """The paying agent redeems a batch: every wallet it can, frozen ones skipped with a reason."""
        if not st_flag:
            self._jump(self.redemption)
        self._settle()
        batch = [self.wallets[k] for k in st_batch]
        expected = self._redeemable_error()
        plan = []
        if expected is None:
            bal, frozen_units = dict(self.bal), dict(self.frozen_units)
            for h in batch:
                if bal[h] == 0:
                    continue
                if self.frozen[h]:
                    plan.append((h, "FROZEN"))
                elif bal[h] == frozen_units[h]:
                    plan.append((h, "UNITS_FROZEN"))
                else:
                    plan.append((h, bal[h] - frozen_units[h]))
                    bal[h] = frozen_units[h]
            if self.paused and any(isinstance(x, int) for _, x in plan):
                expected = ("EnforcedPause",)
        tx = self._call(expected, self.s.redeemFor, batch, {"from": self.issuer})
        if tx:
            redeemed = [(e["holder"], e["units"]) for e in tx.events["Redeemed"]] if "Redeemed" in tx.events else []
            skipped = ([(e["holder"], bytes(e["reason"]).rstrip(b"\0").decode()) for e in tx.events["RedemptionSkipped"]]
                       if "RedemptionSkipped" in tx.events else [])
            assert redeemed == [p for p in plan if isinstance(p[1], int)]
            assert skipped == [p for p in plan if isinstance(p[1], str)]
            for h, units in redeemed:
                self._redeemed(h, units)

    def rule_call(self, st_coupon):
        """The issuer calls the bond on a coupon date (notice and record date permitting): later
        coupons are cancelled, and the call date ends issuance as it starts redemption."""
        self._settle()
        k = st_coupon % (MONTHS - 1)      # never maturity itself (always refused; unit-tested)
        if k >= self.ncoupons:
            return
        date = self.all_dates[k]
        if abs(self.now + self.notice - date) < GUARD:
            return
        if self.called or date < self.now + self.notice or date >= self.redemption or self.now >= self.all_records[k]:
            expected = ("ScheduleBadCall", date)
        else:
            expected = None
        if self._call(expected, self.s.callBond, date, {"from": self.issuer}):
            self.called, self.redemption, self.ncoupons = True, date, k + 1

    # ---------------------------------------------------------------- oracle rules

    def _report(self, facility, start, frac, supersedes=0):
        cap = MAX_WH[facility]
        actual = cap * frac // 1000
        benchmark = 0 if facility == SOLAR else min(cap, cap * (1000 - frac % 1000) // 1000 + actual // 2)
        return HourlyReport(facility, start, actual, benchmark, 2 + frac % 5, frac % 3,
                            (frac * 7919 + start).to_bytes(32, "big"), 1,
                            fiscal_year(dt.datetime.fromtimestamp(start, dt.timezone.utc)),
                            self.oracle.signerSetVersion(), supersedes)

    def _sign(self, r, keys):
        return [sign_report(r, k.key, self.chain_id, self.oracle.address) for k in keys]

    def _check(self, reports, r, hours):
        f = r.facilityId
        if r.supersedes == 0 and r.periodStart in hours[f]:
            return ("OracleHourAlreadyReported", f, r.periodStart)
        if r.supersedes:
            stored = reports[f]
            if (r.supersedes > len(stored) or stored[r.supersedes - 1]["by"]
                    or stored[r.supersedes - 1]["fields"][0] != r.periodStart):
                return ("OracleBadCorrection", f, r.supersedes)
        if r.actualWh > MAX_WH[f]:
            return ("OracleOutOfBounds", "actualWh", r.actualWh, MAX_WH[f])
        assert r.periodStart + HOUR <= self.now - GUARD, "the rules only send closed hours"
        return None

    def _submit(self, reports, sigs):
        """Sends reports predicted in order against a copy of the model; stores them on success."""
        import copy

        self._settle()
        model, last_end, hours = copy.deepcopy(self.reports), dict(self.last_end), copy.deepcopy(self.hours)
        expected = None
        for r in reports:
            expected = self._check(model, r, hours)
            if expected:
                break
            red = (r.benchmarkWh - r.actualWh) if r.facilityId == BUILDING else r.actualWh
            fields = (r.periodStart, r.actualWh, r.benchmarkWh, r.readingCount, r.qualityFlags, red * PEF,
                      red * GRAMS, 1, r.factorYear, r.signerSetVersion, r.supersedes, "0x" + r.readingsRoot.hex())
            model[r.facilityId].append({"fields": fields, "by": 0, "first": None})
            if r.supersedes:
                model[r.facilityId][r.supersedes - 1]["by"] = len(model[r.facilityId])
            else:
                last_end[r.facilityId] = max(last_end[r.facilityId], r.periodStart + HOUR)
                hours[r.facilityId].add(r.periodStart)
        args = ([r.as_tuple() for r in reports], sigs, {"from": self.issuer})
        if self._call(expected, self.oracle.submitReports, *args):
            self.reports, self.last_end, self.hours = model, last_end, hours
            self.accepted.append((reports, sigs))
            return True
        return False

    def rule_report_hours(self, st_facility, st_hours, st_gap, st_frac):
        """The transmitter sends the next hours of a facility (maybe after a gap), 2-of-3 signed."""
        self._settle()
        closed_end = (self.now - GUARD) // HOUR * HOUR   # hours ending by then are closed when mined
        # recent hours (a run spans months of chain time), never one that is not closed yet
        start = max(self.last_end[st_facility] + st_gap * HOUR, closed_end - 6 * HOUR)
        st_hours = min(st_hours, (closed_end - start) // HOUR)
        if st_hours <= 0:
            return
        reports = [self._report(st_facility, start + k * HOUR, (st_frac + 211 * k) % 1041) for k in range(st_hours)]
        self._submit(reports, [self._sign(r, self.keys[:DEV_THRESHOLD]) for r in reports])

    def rule_fill_gap(self, st_facility, st_pick, st_hours, st_frac):
        """Hours left out earlier (a gap before the latest reported hour) sent late, newest
        first, or an hour already reported sent again (refused)."""
        self._settle()
        first, end = self.start_end[st_facility], self.last_end[st_facility]
        recent = max(first, end - 24 * HOUR)
        missing = [h for h in range(recent, end, HOUR) if h not in self.hours[st_facility]]
        if missing:
            k = st_pick % len(missing)
            picked = sorted(missing[k:k + st_hours], reverse=True)
        elif self.hours[st_facility]:
            picked = [sorted(self.hours[st_facility])[st_pick % len(self.hours[st_facility])]]
        else:
            return
        reports = [self._report(st_facility, h, (st_frac + 97 * k) % 1001) for k, h in enumerate(picked)]
        self._submit(reports, [self._sign(r, self.keys[:DEV_THRESHOLD]) for r in reports])

    def rule_correct(self, st_facility, st_pick, st_frac):
        """A correction of an earlier report of a facility (or of one already corrected: refused)."""
        stored = self.reports[st_facility]
        if not stored:
            return
        k = st_pick % len(stored)
        r = self._report(st_facility, stored[k]["fields"][0], st_frac, supersedes=k + 1)
        self._submit([r], [self._sign(r, self.keys[1:1 + DEV_THRESHOLD])])

    def rule_replay(self, st_pick):
        """An accepted submission sent again with its signatures: never accepted twice."""
        if self.accepted:
            reports, sigs = self.accepted[st_pick % len(self.accepted)]
            assert not self._submit(reports, sigs)

    def rule_too_few_signatures(self, st_facility):
        """One signature where two are needed: refused, nothing stored."""
        self._settle()
        r = self._report(st_facility, max(self.last_end[st_facility], (self.now - GUARD) // HOUR * HOUR - HOUR), 500)
        if r.periodStart + HOUR > self.now - GUARD:
            return
        with self.revert_with("OracleTooFewSignatures", 1, DEV_THRESHOLD):
            self.oracle.submitReports([r.as_tuple()], [self._sign(r, self.keys[:1])], {"from": self.issuer})

    def rule_hour_not_closed(self, st_facility):
        """An hour that has not ended yet: refused whatever the signatures."""
        self._settle()
        r = self._report(st_facility, max(self.last_end[st_facility], (self.now // HOUR + 1) * HOUR), 500)
        try:
            self.oracle.submitReports([r.as_tuple()], [self._sign(r, self.keys[:DEV_THRESHOLD])], {"from": self.issuer})
        except brownie.exceptions.VirtualMachineError as exc:
            assert str(exc.revert_msg).startswith(f"OraclePeriodNotClosed: {r.periodStart}, "), exc.revert_msg
        else:
            raise AssertionError("a report for an hour not yet closed was accepted")

    # ---------------------------------------------------------------- carbon credit rules

    def _in_force(self, f):
        """hour -> (report index, fields) of the reports in force of a facility."""
        return {e["fields"][0]: (k, e["fields"]) for k, e in enumerate(self.reports[f]) if not e["by"]}

    def _lowerings(self, f):
        """(index, hour, superseded CO2, new CO2) of every correction that lowered its hour."""
        out = []
        for k, e in enumerate(self.reports[f]):
            sup = e["fields"][10]
            if sup and e["fields"][6] < self.reports[f][sup - 1]["fields"][6]:
                out.append((k, e["fields"][0], self.reports[f][sup - 1]["fields"][6], e["fields"][6]))
        return out

    def _unclear(self, f, held_too=True):
        """The error of CarbonCredits._requireClear (or _requireReviewed), or None."""
        lowered, reviewed = len(self._lowerings(f)), len(self.cbook[f]["reviewed"])
        if lowered != reviewed:
            return ("CreditsUnreviewedCorrections", f, lowered, reviewed)
        if held_too and self.cbook[f]["held"]:
            return ("CreditsIssuanceHeld", f)
        return None

    def _cbatch(self, st_pick, *statuses):
        live = [b for b in self.cbatches if b["status"] in statuses]
        return live[st_pick % len(live)] if live else None

    def rule_credit_propose(self, st_facility, st_span):
        """The issuer opens a batch over the facility's latest hours (back from the end of its
        latest reported hour), after its previous batch."""
        self._credit_propose(st_facility, st_span)

    def _credit_propose(self, st_facility, st_span):
        self._settle()
        f, book = st_facility, self.cbook[st_facility]
        end = self.last_end[f]
        start = max(book["until"], end - st_span * HOUR)
        if start >= end or not any(start <= h < end for h in self.hours[f]):
            return None
        fy = fiscal_year(dt.datetime.fromtimestamp(start, dt.timezone.utc))
        tx = self._call(None, self.credits.proposeBatch, f, start, end, 1, fy, "", {"from": self.issuer})
        bid = tx.events["BatchProposed"]["batchId"]
        assert bid == len(self.cbatches) + 1
        self.cbatches.append({"id": bid, "f": f, "start": start, "end": end, "cursor": start, "status": DRAFT,
                              "hours": [], "co2": 0, "est": 0, "deducted": 0, "q": 0, "fy": fy})
        book["until"] = end
        return self.cbatches[-1]

    def rule_credit_through(self, st_facility, st_span, st_frac, st_other):
        """The facility's next hours reported, then a batch from proposal to issue in one step
        (each stage predicted; stops at the first refusal), so that runs reach issued credits."""
        self.rule_report_hours(st_facility, min(st_span, 3), 0, st_frac)
        b = self._credit_propose(st_facility, st_span)
        if b is None:
            return
        for stage in (self._credit_add, self._credit_seal, self._credit_approve):
            stage(b)
        self._credit_issue(b, st_other)

    def rule_credit_add(self, st_pick):
        """The issuer takes every report in force after a draft's cursor, in hour order (refused
        while a lowering correction of the facility waits for review, or a report is of another
        factor year)."""
        b = self._cbatch(st_pick, DRAFT)
        if b is not None:
            self._credit_add(b)

    def _credit_add(self, b):
        if b["status"] != DRAFT:
            return
        f, live = b["f"], self._in_force(b["f"])
        picked = sorted(h for h in live if b["cursor"] <= h < b["end"])
        if not picked:
            return
        expected = self._unclear(f, held_too=False)
        if expected is None:
            bad = next((h for h in picked if live[h][1][8] != b["fy"]), None)
            if bad is not None:
                expected = ("CreditsReportMismatch", live[bad][0], 1, live[bad][1][8])
        if self._call(expected, self.credits.addReports, b["id"], [live[h][0] for h in picked], {"from": self.issuer}):
            for h in picked:
                self.credited[f][h] = b["id"]
                b["hours"].append((h, live[h][0], live[h][1][6]))
                b["co2"] += live[h][1][6]
                b["est"] += live[h][1][4] & 1
            b["cursor"] = picked[-1] + HOUR

    def rule_credit_seal(self, st_pick):
        """The issuer seals a draft: every hour after its cursor unreported, 90% of the period's
        hours taken, no correction waiting, no hold, at least a kilogram after the deduction."""
        b = self._cbatch(st_pick, DRAFT)
        if b is not None:
            self._credit_seal(b)

    def _credit_seal(self, b):
        if b["status"] != DRAFT:
            return
        f, book = b["f"], self.cbook[b["f"]]
        skipped = sorted(h for h in self.hours[f] if b["cursor"] <= h < b["end"])
        period = (b["end"] - b["start"]) // HOUR
        deducted = min(book["shortfall"], max(b["co2"], 0))
        quantity = (b["co2"] - deducted) // 10**6 if b["co2"] > 0 else 0
        if skipped:
            expected = ("CreditsHourSkipped", f, skipped[0])
        elif len(b["hours"]) * 10**6 < MIN_COVERAGE * period:
            expected = ("CreditsCoverageTooLow", len(b["hours"]), period, MIN_COVERAGE)
        else:
            expected = self._unclear(f) or (("CreditsNothingToIssue", b["co2"], deducted) if quantity == 0 else None)
        if self._call(expected, self.credits.sealBatch, b["id"], {"from": self.issuer}):
            book["shortfall"] -= deducted
            b.update(status=SEALED, deducted=deducted, q=quantity, cursor=b["end"])

    def rule_credit_approve(self, st_pick):
        """The verifier (an account apart) approves a sealed batch."""
        b = self._cbatch(st_pick, SEALED)
        if b is not None:
            self._credit_approve(b)

    def _credit_approve(self, b):
        if b["status"] != SEALED:
            return
        if self._call(self._unclear(b["f"]), self.credits.approveBatch, b["id"], b"\x5d" * 32, {"from": self.verifier}):
            b["status"] = APPROVED

    def rule_credit_issue(self, st_pick, st_other):
        """The issuer mints an approved batch to a wallet (the registry's eligible wallets only)."""
        b = self._cbatch(st_pick, APPROVED)
        if b is not None:
            self._credit_issue(b, st_other)

    def _credit_issue(self, b, st_other):
        if b["status"] != APPROVED:
            return
        self._settle()
        w = self.wallets[st_other]
        expected = self._unclear(b["f"]) or (None if self._eligible(w) else ("CreditsNotEligible", w))
        if self._call(expected, self.credits.issueBatch, b["id"], w, {"from": self.issuer}):
            b["status"], b["first"] = ISSUED, self.next_serial
            self.next_serial += b["q"]
            self.cbal[(w, b["id"])] = self.cbal.get((w, b["id"]), 0) + b["q"]

    def rule_credit_cancel(self, st_pick, st_flag):
        """The issuer withdraws, or the verifier rejects, a batch not yet issued: its hours are free."""
        b = self._cbatch(st_pick, DRAFT, SEALED, APPROVED)
        if b is None:
            return
        who = self.issuer if st_flag else self.verifier
        if self._call(None, self.credits.cancelBatch, b["id"], b"\0" * 32, {"from": who}):
            f, book = b["f"], self.cbook[b["f"]]
            for h, _, _ in b["hours"]:
                del self.credited[f][h]
            book["shortfall"] += b["deducted"]
            if book["until"] == b["end"]:
                book["until"] = b["start"]
            b["status"] = CANCELLED

    def rule_credit_review(self, st_facility):
        """Anyone reviews the facility's lowering corrections; a lowered credited hour holds it."""
        f, book = st_facility, self.cbook[st_facility]
        todo = [x for x in self._lowerings(f) if x[0] not in book["reviewed"]]
        if not todo:
            return
        if self._call(None, self.credits.reviewCorrections, f, [x[0] for x in todo], {"from": self.outsider}):
            for k, h, old, new in todo:
                book["reviewed"].add(k)
                if h in self.credited[f]:
                    book["shortfall"] += old - new
                    book["held"] = True

    def rule_credit_correct(self, st_pick, st_frac):
        """A correction of a credited hour (higher or lower), then the review: a lowered one holds
        the facility's issuance and adds to its shortfall."""
        credited = sorted((f, h) for f in (BUILDING, SOLAR) for h in self.credited[f])
        if not credited:
            return
        f, h = credited[st_pick % len(credited)]
        k = self._in_force(f)[h][0]
        r = self._report(f, h, st_frac, supersedes=k + 1)
        if self._submit([r], [self._sign(r, self.keys[1:1 + DEV_THRESHOLD])]):
            self.rule_credit_review(f)

    def rule_credit_resolve(self, st_facility):
        """The verifier lifts a facility's hold (refused when there is none)."""
        f = st_facility
        expected = None if self.cbook[f]["held"] else ("CreditsNotHeld", f)
        if self._call(expected, self.credits.resolveHold, f, b"\x7e" * 32, {"from": self.verifier}):
            self.cbook[f]["held"] = False

    def _credit_holding(self, st_wallet, st_pick):
        held = sorted(((w, bid) for (w, bid), units in self.cbal.items() if units), key=lambda k: (k[0].address, k[1]))
        if not held:
            return None
        return held[(st_wallet + st_pick) % len(held)]

    def rule_credit_transfer(self, st_wallet, st_other, st_amount, st_pick):
        """A holder sends credits (only to the registry's eligible wallets)."""
        self._settle()
        picked = self._credit_holding(st_wallet, st_pick)
        if picked is None:
            return
        w, bid = picked
        to, have = self.wallets[st_other], self.cbal[picked]
        if not self._eligible(to):
            expected = ("CreditsNotEligible", to)
        elif st_amount > have:
            expected = ("ERC1155InsufficientBalance", w, have, st_amount, bid)
        else:
            expected = None
        if self._call(expected, self.credits.safeTransferFrom, w, to, bid, st_amount, b"", {"from": w}):
            self.cbal[picked] -= st_amount
            self.cbal[(to, bid)] = self.cbal.get((to, bid), 0) + st_amount

    def rule_credit_retire(self, st_wallet, st_amount, st_pick):
        """A holder retires credits for a beneficiary: burned, with a certificate."""
        picked = self._credit_holding(st_wallet, st_pick)
        if picked is None:
            return
        w, bid = picked
        have = self.cbal[picked]
        expected = None if st_amount <= have else ("ERC1155InsufficientBalance", w, have, st_amount, bid)
        if self._call(expected, self.credits.retire, bid, st_amount, "Beneficiary", "offset", 0, 1, {"from": w}):
            self.cbal[picked] -= st_amount
            self.cretired[bid] = self.cretired.get(bid, 0) + st_amount
            self.certs += 1

    # ---------------------------------------------------------------- invariants

    def invariant_system(self):
        """Everything, from one batch of reads (see the module docstring)."""
        b, s, t, o, off, dvp = self.bond, self.s, self.token, self.oracle, self.offering, self.dvp
        # views read at the latest block: a record date the clock passed may lie after it
        latest = web3.eth.get_block("latest")["timestamp"]
        passed = [i for i, r in enumerate(self.bond_records) if self.rec[i] is not None and r <= latest]
        calls = [(b, "totalSupply", ())]
        calls += [(b, "balanceOf", (w,)) for w in self.wallets]
        for i in passed:
            calls += [(b, "totalSupplyAt", (self.bond_records[i],))]
            calls += [(b, "balanceOfAt", (w, self.bond_records[i])) for w in self.wallets]
        for w in self.wallets:
            calls += [(b, "isFrozen", (w,)), (b, "getFrozenTokens", (w,)), (b, "escrowedOf", (w,)),
                      (b, "lockGeneration", (w,)), (b, "successorOf", (w,))]
        calls += [(s, "couponCount", ()), (b, "redemptionDate", ()), (s, "redemptionDate", ())]
        calls += [(s, "couponHeld", (i,)) for i in range(self.ncoupons)]
        calls += [(s, "principalHeld", ()), (s, "redemptionFunded", ()), (off, "state", ())]
        calls += [(t, "balanceOf", (p,)) for p in self.parties]
        calls += [(dvp, "trade", (k,)) for k in range(len(self.trades))]
        calls += [(o, "lastPeriodEnd", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(o, "reportCount", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(o, "report", (f, k)) for f in (BUILDING, SOLAR) for k in range(len(self.reports[f]))]
        calls += [(o, "facilityTotals", (f,)) for f in (BUILDING, SOLAR)] + [(o, "bondTotals", (b.address,))]
        calls += [(o, "coverage", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(o, "reportedHoursWord", (f, w)) for f in (BUILDING, SOLAR) for w in self._words(f)]
        values = batch_read(o, calls)
        assert not [v for v in values if isinstance(v, Reverted)]
        got = iter(values)

        # supply equals the sum of balances, now and at every passed record date
        supply = next(got)
        balances = {w: next(got) for w in self.wallets}
        assert balances == self.bal
        assert supply == sum(balances.values()) <= UNITS
        for i in passed:
            at_supply = next(got)
            at = {w: next(got) for w in self.wallets}
            assert at == self.rec[i], f"record date {i}"
            assert at_supply == sum(at.values())

        # every wallet's controls are the model's; frozen and locked units are units it holds
        for w in self.wallets:
            state = (next(got), next(got), next(got), next(got), next(got))
            assert state == (self.frozen[w], self.frozen_units[w], self.escrow[w], self.gen[w], self._final(w)), w
            assert self.frozen_units[w] + self.escrow[w] <= self.bal[w], w
        assert (next(got), next(got), next(got)) == (self.ncoupons, self.redemption, self.redemption)

        # every yen is owed to someone identifiable
        held = [next(got) for _ in range(self.ncoupons)]
        principal, red_funded, offering_state = next(got), next(got), next(got)
        assert held == self.held[:self.ncoupons]       # coupons after a call date are cancelled
        assert not any(self.funded[self.ncoupons:])
        for i in range(self.ncoupons):
            if self.funded[i]:
                owed = sum(self.rec[i].values()) * self.per_unit[i]
                paid = sum(self._units(i, h) * self.per_unit[i] for h in self.paid[i])
                assert self.held[i] == owed - paid >= 0, f"coupon {i}"
        assert principal == self.principal
        assert red_funded == (self.red_funded and principal >= supply * PAR)
        assert offering_state == self._offering_state()
        cash = {p: next(got) for p in self.parties}
        assert cash[s] == sum(held) + principal           # coupons owed + principal (outstanding units, surplus)
        assert cash[off] == sum(x["escrow"] for x in self.subs.values() if not x["settled"])
        assert cash[dvp] == 0                              # no trade waits for approval here
        assert cash == self.cash                           # lost wallets included: never paid again
        for k, tr in enumerate(self.trades):
            stored = next(got)
            assert (stored[0], stored[3], stored[5], stored[6], stored[7]) == (
                tr["seller"], tr["units"], tr["status"], tr["gen"], tr["price"]), k

        # the oracle: nothing overwritten, totals are sums of the reports in force
        ends = {f: next(got) for f in (BUILDING, SOLAR)}
        assert ends == self.last_end
        assert [next(got) for _ in (BUILDING, SOLAR)] == [len(self.reports[f]) for f in (BUILDING, SOLAR)]
        for f in (BUILDING, SOLAR):
            for k, e in enumerate(self.reports[f]):
                stored = next(got)
                fields = stored[:11] + stored[12:]
                assert fields == e["fields"], (f, k)
                assert stored[11] == e["by"], (f, k)
                e["first"] = e["first"] or fields
                assert fields == e["first"], (f, k)
        # the bond's totals: each facility's times the bond's allocated share (none for the solar plant)
        bond_j = bond_mg = 0
        for f in (BUILDING, SOLAR):
            live = [e["fields"] for e in self.reports[f] if not e["by"]]
            j, mg = sum(x[5] for x in live), sum(x[6] for x in live)
            allocated, cost = self.share[f]
            bond_j, bond_mg = bond_j + tdiv(j * allocated, cost), bond_mg + tdiv(mg * allocated, cost)
            assert next(got) == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg), f
        assert next(got) == (tdiv(bond_j, 10**6), tdiv(bond_mg, 1000), bond_j, bond_mg)
        # every hour reported once, counted once; the bitmap is exactly the hours sent
        for f in (BUILDING, SOLAR):
            live = [e["fields"] for e in self.reports[f] if not e["by"]]
            reported, _, estimated = next(got)
            assert (reported, estimated) == (len(self.hours[f]), sum(1 for x in live if x[4] & 1)), f
            assert {x[0] for x in live} == self.hours[f]
        for f in (BUILDING, SOLAR):
            for w in self._words(f):
                assert next(got) == sum(1 << (h - self.start_end[f]) // HOUR % 256 for h in self.hours[f]
                                        if (h - self.start_end[f]) // HOUR // 256 == w), (f, w)

        self._eligibility_kept_right(latest)
        self._credits_hold()
        self._agent_controls_hold(latest)

    def _eligibility_kept_right(self, latest):
        """The expiry the bond keeps for a wallet (so a transfer need not ask the registry) never
        lets more wallets receive than the registry would: kept and in the future only for a
        wallet the registry holds eligible, and never past its registry expiry; none for a wallet
        removed from the registry (its removal told the bond) or never registered."""
        b, r = self.bond, self.registry
        values = batch_read(self.oracle, [(b, "eligibilityCachedUntil", (w,)) for w in self.wallets]
                            + [(r, "holderOf", (w,)) for w in self.wallets])
        kept, records = values[:len(self.wallets)], values[len(self.wallets):]
        for w, until, record in zip(self.wallets, kept, records):
            expires = record[2]
            if not self.expiry[w]:
                assert until == 0 and expires == 0, (w, until, expires)
            assert until <= expires, (w, until, expires)
            if until > latest:
                assert self.expiry[w] > latest and expires > latest, w

    def _credits_hold(self):
        """The carbon credits, read in one batch and held against the model and the oracle:
        * each batch's status, hours taken, CO2, deduction, quantity and serials are the model's;
          the facility books (shortfall, reviews, credited-until, hold) too;
        * every hour is credited at most once: the credited marks are exactly the hours of the
          batches not cancelled, and those batches' periods never overlap;
        * no more is credited than the oracle holds: for each facility, the kilograms of its
          sealed, approved and issued batches are at most the CO2 its hours have now (the reports
          in force) plus the lowering the contract knows it owes (the shortfall not yet deducted)
          or will know at the next review (lowering corrections of credited hours not reviewed);
        * balances and retirements are the model's; retired units are gone from the supply."""
        c = self.credits
        hours = {f: sorted({h for b in self.cbatches if b["f"] == f for h, _, _ in b["hours"]}
                           | set(self.hours[f])) for f in (BUILDING, SOLAR)}
        calls = [(c, "batchCount", ()), (c, "certificateCount", ())]
        calls += [(c, "batch", (b["id"],)) for b in self.cbatches]
        calls += [(c, "retiredOf", (b["id"],)) for b in self.cbatches]
        calls += [(c, "facilityBook", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(c, "isCredited", (f, h)) for f in (BUILDING, SOLAR) for h in hours[f]]
        owners = sorted(self.cbal, key=lambda k: (k[0].address, k[1]))
        calls += [(c, "balanceOf", (w, bid)) for w, bid in owners]
        values = batch_read(self.oracle, calls)
        assert not [v for v in values if isinstance(v, Reverted)]
        got = iter(values)
        assert (next(got), next(got)) == (len(self.cbatches), self.certs)
        for b in self.cbatches:
            stored = next(got)
            assert (stored[0], stored[1], stored[3], stored[4], stored[5]) == (b["f"], b["status"], b["fy"], b["start"],
                                                                                b["end"]), b["id"]
            assert (stored[6], stored[7], stored[8], stored[9], stored[10], stored[11]) == (
                b["cursor"], len(b["hours"]), b["est"], b["co2"], b["deducted"], b["q"]), b["id"]
            if b["status"] == ISSUED:
                assert stored[12] == b["first"], b["id"]   # serials follow on in the order of issue
        for b in self.cbatches:
            assert next(got) == self.cretired.get(b["id"], 0), b["id"]
        for f in (BUILDING, SOLAR):
            book, (shortfall, reviewed, until, held) = self.cbook[f], next(got)
            assert (shortfall, reviewed, until, held) == (book["shortfall"], len(book["reviewed"]), book["until"],
                                                          book["held"]), f
        for f in (BUILDING, SOLAR):
            marked = {h for h in hours[f] if next(got)}
            assert marked == set(self.credited[f]), f
            live = [b for b in self.cbatches if b["f"] == f and b["status"] != CANCELLED]
            taken = [h for b in live for h, _, _ in b["hours"]]
            assert len(taken) == len(set(taken)) == len(marked), f          # each hour credited once
            spans = sorted((b["start"], b["end"]) for b in live)
            assert all(a[1] <= z[0] for a, z in zip(spans, spans[1:])), f   # periods never overlap
            in_force = {h: fields[6] for h, (_, fields) in self._in_force(f).items()}
            book = self.cbook[f]
            sealed = [b for b in live if b["status"] in (SEALED, APPROVED, ISSUED)]
            owed = sum(old - new for k, h, old, new in self._lowerings(f)
                       if k not in book["reviewed"] and h in self.credited[f])
            credited_mg = 10**6 * sum(b["q"] for b in sealed)
            holds = sum(in_force[h] for b in sealed for h, _, _ in b["hours"]) + book["shortfall"] + owed
            assert credited_mg <= holds, (f, credited_mg, holds)
        for key in owners:
            assert next(got) == self.cbal[key], key

    def _words(self, f):
        """The bitmap words holding the facility's reported hours, and word 0 (empty unless an
        hour is there): the facility's reportingStart is start_end, nothing was reported when
        the test began."""
        return sorted({0} | {(h - self.start_end[f]) // HOUR // 256 for h in self.hours[f]})

    def _agent_controls_hold(self, latest):
        """Tried by eth_call as the agent, nothing changes: for every wallet holding units, a
        freeze, a freeze of all its unfrozen units, a forced transfer and a burn of its whole
        balance, a recovery to the investor's other wallet when that one can receive, and from the
        redemption date its redemption by the paying agent unless it is frozen. A pause stops unit
        movements by design (the issuer's own switch), so a paused bond is checked when unpaused."""
        if self.paused:
            return
        b, agent = self.bond, self.issuer
        receivers = [w for w in self.wallets if self.expiry[w] > latest and w not in self.successor]
        redeemable = (latest >= self.redemption and self.red_funded and self.principal >= self._owed())
        calls = []
        for w in self.wallets:
            units = self.bal[w]
            if not units:
                continue
            calls += [(b, "setAddressFrozen", (w, True), agent), (b, "burn", (w, units), agent)]
            if units > self.frozen_units[w]:
                calls.append((b, "freezePartialTokens", (w, units - self.frozen_units[w]), agent))
            target = next((r for r in receivers if r != w), None)
            if target is not None:
                calls.append((b, "forcedTransfer", (w, target, units), agent))
            new = self._partner(w)
            if (new and self.registered_id[w] and self.registered_id[new] == self.registered_id[w]
                    and new not in self.successor and not self.frozen[new] and self.expiry[new] > latest):
                calls.append((b, "recoveryAddress", (w, new), agent))
            if redeemable and not self.frozen[w] and units > self.frozen_units[w]:
                calls.append((self.s, "redeemFor", ([w],), agent))
        errors = try_calls(calls)
        failed = [(c[1], str(c[2][0]), e) for c, e in zip(calls, errors) if e is not None]
        assert not failed, f"an agent control failed: {failed}"

    def teardown(self):
        """Every party holds the model's cash."""
        for p in self.parties:
            assert self.token.balanceOf(p) == self.cash[p], p


# One hypothesis run of 40 examples, not two runs of 20 on the two workers: hypothesis starts with
# short sequences and lengthens them as a run goes on: two runs of 20 made 561 contract calls (21
# and 23 kinds of outcome) where one run of 40 made 1,345 (44 kinds), measured. It is marked `long`
# instead, so it starts first and the other tests share the second worker meanwhile.
@pytest.mark.long
def test_system_stateful(system, accounts, state_machine, revert_with):
    suite = system[0]
    # Ganache takes several times as long a transaction as Anvil: a smaller budget there
    examples = 40 if network.show_active() == "development" else 15
    settings = {"max_examples": examples * FUZZ_FACTOR, "stateful_step_count": 40,
                "suppress_health_check": [HealthCheck.data_too_large]}
    per_unit = PAR * 5_980 // (1_000_000 * 12)   # monthly, regular periods: 498 yen a unit
    assert [suite.schedule.couponPerUnit(i) for i in range(MONTHS)] == [per_unit] * MONTHS
    TALLY.clear()
    state_machine(SystemMachine, system, accounts[9], revert_with, settings=settings)
    print("\noutcomes:", dict(sorted(TALLY.items())))
