"""Stateful property test of the Offering and the BondDvP together (Brownie `state_machine`).

Four registered investors (alice, bob, carol, dave; alice and bob already hold units) and an
underwriter (erin) act at random while time passes: subscriptions, cancellations, the
allotment, settlement batches, the underwriter's leg, the offering's cancellation and refunds;
DvP offers (named or open), acceptances, cancels, expiries, agent approvals and rejections,
with the bond's transfer-approval switch toggled. The outsider (never registered) tries to buy.

After every step:
* cash is conserved: the settlement-token balances of every actor and both contracts sum to
  what was minted at the start; bond units are created only by settlement, and the supply is
  the initial supply plus the units the offering reports settled (sum of its SettledInvestor
  and UnderwriterSettled events);
* the Offering holds exactly the sum of the open escrows (subscriptionOf(...).escrow);
* the DvP holds exactly the sum of the prices of PendingApproval trades;
* each seller's escrowedOf equals the units of its Open and PendingApproval trades;
* every settled trade moved both legs in one transaction: the seller got the price and lost the
  units, the buyer the reverse (checked on the transaction that settled it).
"""

import os

import pytest
from brownie import ZERO_ADDRESS, chain
from brownie.exceptions import VirtualMachineError
from brownie.test import strategy

# `make fuzz` sets GREENBOND_FUZZ_FACTOR=10: max_examples below times that; unset = the CI numbers.
FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))

DAY = 86_400
PRICE_UNIT = 1_000
MAX = 2**256 - 1
OPEN, PENDING, SETTLED = 1, 2, 3


@pytest.fixture(scope="module")
def machine_setup(Offering, BondDvP, bond, settlement, admin, holders, register, dave, erin, issuer_wallet, outsider):
    alice, bob, carol = holders
    register(dave, 4)
    register(erin, 5)
    now = chain.time()
    terms = (now + 2 * 3600, now + 3 * DAY, now + 4 * DAY, now + 60 * DAY, PRICE_UNIT, 1, 400, 600,
             issuer_wallet.address, erin.address)
    o = Offering.deploy(bond, terms, admin, {"from": admin})
    bond.grantRole(bond.MINTER_ROLE(), o, {"from": admin})
    d = BondDvP.deploy(bond, 30 * DAY, {"from": admin})
    bond.grantRole(bond.LOCKER_ROLE(), d, {"from": admin})
    for who in (alice, bob, carol, dave, erin, outsider):
        settlement.mint(who, 10**8, {"from": admin})
        settlement.approve(o, MAX, {"from": who})
        settlement.approve(d, MAX, {"from": who})
    return o, d


class StateMachine:
    """Random primary and secondary market activity; see the module docstring."""

    st_who = strategy("uint8", max_value=3)
    st_buyer = strategy("uint8", max_value=5)   # 4: anyone (open offer) / the outsider; 5: erin
    st_units = strategy("uint16", min_value=1, max_value=450)
    st_small = strategy("uint8", min_value=1, max_value=60)
    st_price = strategy("uint32", max_value=10**6)
    st_sleep = strategy("uint32", min_value=600, max_value=2 * DAY)
    st_trade = strategy("uint8", max_value=15)
    st_batch = strategy("uint8[]", max_value=3, max_length=4)
    st_flag = strategy("bool")

    def __init__(cls, o, d, bond, settlement, admin, agent, investors, erin, issuer_wallet, outsider):
        cls.o, cls.d, cls.bond, cls.cash = o, d, bond, settlement
        cls.admin, cls.agent, cls.erin, cls.issuer, cls.outsider = admin, agent, erin, issuer_wallet, outsider
        cls.investors = investors
        cls.actors = list(investors) + [erin, issuer_wallet, outsider, admin]
        cls.terms = o.terms()

    def setup(self):
        self.cash0 = self._cash_total()
        self.supply0 = self.bond.totalSupply()
        self.units_issued = 0
        self.settled_checked = set()

    # ------------------------------------------------------------- helpers

    def _cash_total(self):
        return sum(self.cash.balanceOf(a) for a in self.actors) + self.cash.balanceOf(self.o) + self.cash.balanceOf(self.d)

    def _try(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except VirtualMachineError:
            return None

    def _note_offering(self, tx):
        if tx is None:
            return
        for e in tx.events["SettledInvestor"] if "SettledInvestor" in tx.events else []:
            self.units_issued += e["units"]
        if "UnderwriterSettled" in tx.events:
            self.units_issued += tx.events["UnderwriterSettled"]["units"]

    def _settling(self, fn, id_, caller):
        """Runs an accept/approve on trade `id_`; checks both legs moved in that transaction."""
        t = self.d.trade(id_)
        buyer = caller if t["acceptedBy"] == ZERO_ADDRESS else t["acceptedBy"]
        seller = t["seller"]
        before = [(self.cash.balanceOf(w), self.bond.balanceOf(w)) for w in (seller, buyer)]
        dvp_before = self.cash.balanceOf(self.d)
        tx = self._try(fn, id_, {"from": caller})
        after = [(self.cash.balanceOf(w), self.bond.balanceOf(w)) for w in (seller, buyer)]
        status = self.d.trade(id_)["status"]
        if tx is None:
            assert after == before, "a failed accept/approve moved something"
            return
        if status == SETTLED:
            paid_before = 0 if t["status"] == OPEN else t["price"]  # pending: the buyer paid at accept
            assert after[0] == (before[0][0] + t["price"], before[0][1] - t["units"])
            assert after[1] == (before[1][0] - t["price"] + paid_before, before[1][1] + t["units"])
            assert self.cash.balanceOf(self.d) == dvp_before - paid_before
            self.settled_checked.add(id_)
        else:
            assert status == PENDING
            assert after[0] == before[0]
            assert after[1] == (before[1][0] - t["price"], before[1][1])

    # ------------------------------------------------------------- offering rules

    def rule_sleep(self, st_sleep):
        """Time passes (across the window, the settlement date, offers' expiries)."""
        chain.sleep(st_sleep)
        chain.mine()

    def rule_subscribe(self, st_who, st_units):
        """An investor subscribes (or tries to: outside the window, beyond the limits)."""
        who = self.investors[st_who]
        state = self.o.state()
        s = self.o.subscriptionOf(who)
        tx = self._try(self.o.subscribe, st_units, {"from": who})
        ok = state == 1 and s["requested"] + st_units <= 400
        assert (tx is not None) == ok or self.o.state() != state

    def rule_outsider_subscribes(self, st_small):
        """The outsider is never eligible."""
        assert self._try(self.o.subscribe, st_small, {"from": self.outsider}) is None

    def rule_cancel_subscription(self, st_who):
        """An investor withdraws the whole subscription."""
        who = self.investors[st_who]
        escrow = self.o.subscriptionOf(who)["escrow"]
        before = self.cash.balanceOf(who)
        tx = self._try(self.o.cancelSubscription, {"from": who})
        if tx is not None:
            assert self.cash.balanceOf(who) == before + escrow

    def rule_allot(self):
        """The issuer allots once the window closed."""
        tx = self._try(self.o.allot, {"from": self.admin})
        if tx is not None:
            total = sum(self.o.allottedOf(w) for w in self.investors) + self.o.underwriterUnits()
            assert total <= self.terms["unitsOffered"]   # by name: the Terms struct gained a field (issue 11)

    def rule_settle(self, st_batch):
        """Anyone settles a batch of investors (duplicates and non-subscribers included)."""
        batch = [self.investors[i] for i in st_batch]
        self._note_offering(self._try(self.o.settle, batch, {"from": self.outsider}))

    def rule_settle_underwriter(self):
        """The underwriter's leg."""
        self._note_offering(self._try(self.o.settleUnderwriter, {"from": self.erin}))

    def rule_cancel_offering(self, st_flag):
        """The issuer cancels (rarely: only when the flag is set twice in a row)."""
        if st_flag and getattr(self, "_last_flag", False):
            self._try(self.o.cancelOffering, {"from": self.admin})
        self._last_flag = st_flag

    def rule_refund(self, st_batch, st_flag):
        """After a cancellation: a pushed refund batch, or an investor pulls."""
        if st_flag:
            self._try(self.o.refund, [self.investors[i] for i in st_batch], {"from": self.outsider})
        elif st_batch:
            self._try(self.o.withdrawRefund, {"from": self.investors[st_batch[0]]})

    # ------------------------------------------------------------- DvP rules

    def rule_offer(self, st_who, st_buyer, st_small, st_price, st_sleep):
        """A holder offers units to a named buyer or to anyone."""
        seller = self.investors[st_who]
        buyer = ZERO_ADDRESS if st_buyer == 4 else (self.erin if st_buyer == 5 else self.investors[st_buyer])
        free = self.bond.balanceOf(seller) - self.bond.escrowedOf(seller) - self.bond.getFrozenTokens(seller)
        tx = self._try(self.d.offer, buyer, st_small, st_price, chain.time() + st_sleep, {"from": seller})
        if buyer != seller and st_small <= free:
            assert tx is not None

    def rule_accept(self, st_trade, st_buyer):
        """Someone accepts a trade (named buyer, anyone, the outsider, the seller)."""
        n = self.d.tradeCount()
        if n == 0:
            return
        caller = self.outsider if st_buyer == 4 else (self.erin if st_buyer == 5 else self.investors[st_buyer])
        self._settling(self.d.accept, st_trade % n, caller)

    def rule_approve(self, st_trade, st_flag):
        """The agent approves (flag) or rejects a pending trade."""
        n = self.d.tradeCount()
        if n == 0:
            return
        if st_flag:
            self._settling(self.d.approve, st_trade % n, self.agent)
        else:
            self._try(self.d.reject, st_trade % n, {"from": self.agent})

    def rule_cancel_trade(self, st_trade, st_buyer):
        """The seller, the buyer or someone else cancels a trade."""
        n = self.d.tradeCount()
        if n == 0:
            return
        caller = self.outsider if st_buyer >= 4 else self.investors[st_buyer]
        self._try(self.d.cancel, st_trade % n, {"from": caller})

    def rule_expire(self, st_trade):
        """Anyone expires a trade."""
        n = self.d.tradeCount()
        if n:
            self._try(self.d.expire, st_trade % n, {"from": self.outsider})

    def rule_toggle_approval(self):
        """The issuer flips the bond's transfer-approval switch."""
        self.bond.setTransferApprovalRequired(not self.bond.transferApprovalRequired(), {"from": self.admin})

    # ------------------------------------------------------------- invariants

    def invariant_conservation(self):
        assert self._cash_total() == self.cash0
        assert self.bond.totalSupply() == self.supply0 + self.units_issued == self.supply0 + self.o.unitsSettled()

    def invariant_offering_holds_the_escrows(self):
        assert self.cash.balanceOf(self.o) == sum(self.o.subscriptionOf(w)["escrow"] for w in self.investors)

    def invariant_dvp_holds_pending_prices_and_locks_match(self):
        pending_cash = 0
        locked = {w: 0 for w in self.investors}
        for i in range(self.d.tradeCount()):
            t = self.d.trade(i)
            if t["status"] == PENDING:
                pending_cash += t["price"]
            if t["status"] in (OPEN, PENDING):
                locked[t["seller"]] += t["units"]
            if t["status"] == SETTLED:
                assert i in self.settled_checked
        assert self.cash.balanceOf(self.d) == pending_cash
        for w in self.investors:
            assert self.bond.escrowedOf(w) == locked[w]


@pytest.mark.long
def test_stateful(machine_setup, state_machine, bond, settlement, admin, agent, holders, dave, erin, issuer_wallet, outsider):
    o, d = machine_setup
    investors = list(holders) + [dave]
    state_machine(
        StateMachine, o, d, bond, settlement, admin, agent, investors, erin, issuer_wallet, outsider,
        settings={"max_examples": 10 * FUZZ_FACTOR, "stateful_step_count": 30},
    )
