"""Stateful property test of the CouponSchedule (Brownie `state_machine`).

Four registered holders trade at random while the chain moves across record dates, payment
dates and maturity; the paying agent funds, pushes, records bank transfers and funds the
principal; holders claim and redeem. An independent Python model predicts every outcome
(success, or the exact custom error) and every amount. After each step:

* per coupon, paid on chain + off chain never exceeds perUnit x supply at its record date,
  and equals it exactly once the coupon is Paid;
* nobody is paid a coupon twice (CouponPaid / CouponPaidOffchain per (coupon, holder));
* the schedule holds at least what it still owes: balance >= sum couponHeld(i) + principalHeld(),
  and couponHeld / principalHeld equal the model's;
and at the end every holder received, to the yen, what the model says.
"""

import os

import pytest
from brownie import chain
from brownie.test import strategy

# `make fuzz` sets GREENBOND_FUZZ_FACTOR=10: max_examples below times that; unset = the CI numbers.
FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))

DAY = 86_400
PAR = 1_000_000
COUPONS = 3
SPACING = 20 * DAY  # never a calendar month: every period is Actual/365F
START = {"alice": 40, "bob": 30, "carol": 20, "dave": 10}
GUARD = 120  # seconds: never act within this margin before a date (nor in its first 2 seconds)
PAID_STATUS = 3


@pytest.fixture(scope="module")
def machine_setup(SettlementToken, make_bond, deploy_schedule, register, admin, agent, alice, bob, carol, dave):
    token = SettlementToken.deploy("JPY stateful", "JPYS", admin, {"from": admin})
    issue = chain.time()
    bond = make_bond(issue, [issue + SPACING * (k + 1) for k in range(COUPONS)], frequency=12, currency=token)
    for n, h in enumerate((alice, bob, carol, dave), start=1):
        register(h, n)
    bond.batchMint([alice, bob, carol, dave], list(START.values()), {"from": agent})
    s = deploy_schedule(bond)
    return token, bond, s


class StateMachine:
    """Random trading and paying; see the module docstring for the properties checked."""

    st_holder = strategy("uint8", max_value=3)
    st_other = strategy("uint8", max_value=3)
    st_amount = strategy("uint8", min_value=1, max_value=45)
    st_coupon = strategy("uint8", max_value=COUPONS - 1)
    st_sleep = strategy("uint32", min_value=3_600, max_value=14 * DAY)
    st_batch = strategy("uint8[]", max_value=3, max_length=5)
    st_small = strategy("uint16", max_value=7_200)
    st_stay = strategy("bool")  # False (the simplest draw): wait for the rule's date first
    st_phase = strategy("uint8", max_value=6)
    st_transfers = strategy("uint8[2][]", max_value=3, max_length=3)

    def __init__(cls, token, bond, s, payer, holders, per_units, revert_with):
        cls.token, cls.bond, cls.s, cls.payer = token, bond, s, payer
        cls.holders = holders
        cls.per_units = per_units
        cls.revert_with = staticmethod(revert_with)
        cls.records = [s.recordDate(i) for i in range(COUPONS)]
        cls.dates = [s.couponDate(i) for i in range(COUPONS)]
        cls.maturity = s.redemptionDate()
        cls.boundaries = sorted(set(cls.records + cls.dates + [cls.maturity]))
        cls.payer_start = token.balanceOf(payer)

    def setup(self):
        self.bal = dict(zip(self.holders, START.values()))
        self.rec = [None] * COUPONS            # units per holder at each record date
        self.funded = [False] * COUPONS
        self.paid = [dict() for _ in range(COUPONS)]  # holder -> "on" | "off"
        self.off_units = [0] * COUPONS
        self.held = [0] * COUPONS
        self.onchain_paid = [0] * COUPONS
        self.offchain_paid = [0] * COUPONS
        self.seen = set()
        self.received = {h: 0 for h in self.holders}
        self.red_funded = False
        self.principal_held = 0
        self.payer_net = 0                      # pulled from the payer minus returned to it
        self.now = chain.time()

    # ------------------------------------------------------------- helpers

    def _settle(self):
        """Steps out of the margin around a date, then brings the model's record dates up to now."""
        now = chain.time()
        for b in self.boundaries:
            if b - GUARD <= now < b + 2:
                chain.sleep(b + 2 - now)
                now = b + 2
        self.now = now
        for i in range(COUPONS):
            if self.rec[i] is None and self.records[i] <= now:
                self.rec[i] = dict(self.bal)

    def _jump(self, jump, ts):
        """With `jump`, time first moves to just after `ts` (if still ahead): keeps runs short."""
        if jump and chain.time() < ts + 2:
            chain.sleep(ts + 2 - chain.time())
            chain.mine()
        self._settle()

    def _same_side(self, tx):
        for b in self.boundaries:
            assert (self.now < b) == (tx.timestamp < b), "a date fell between prediction and mining"

    def _units(self, i, h):
        return self.rec[i][h] if self.rec[i] is not None else 0

    def _supply_at(self, i):
        return sum(self.rec[i].values())

    def _record_events(self, tx):
        if "CouponPaid" in tx.events:
            for ev in tx.events["CouponPaid"]:
                key = (ev["index"], ev["holder"])
                assert key not in self.seen, f"paid twice: {key}"
                self.seen.add(key)
                self.onchain_paid[ev["index"]] += ev["amount"]
        if "CouponPaidOffchain" in tx.events:
            for ev in tx.events["CouponPaidOffchain"]:
                key = (ev["index"], ev["holder"])
                assert key not in self.seen, f"paid twice: {key}"
                self.seen.add(key)
                self.offchain_paid[ev["index"]] += ev["units"] * self.per_units[ev["index"]]

    def _pay_model(self, i, h):
        """Model of an on-chain payment of coupon i to h; returns the amount (0: nothing owed)."""
        units = self._units(i, h)
        if units == 0:
            return 0
        amount = units * self.per_units[i]
        self.paid[i][h] = "on"
        self.held[i] -= amount
        self.received[h] += amount
        return amount

    # ------------------------------------------------------------- rules

    def initialize_phase(self, st_phase, st_transfers, st_stay):
        """Each run starts in a random phase (before, between or after the dates; the simplest
        draw is just after the second record date), some units having moved first, and with
        every coupon whose record date passed funded unless `st_stay`."""
        for a, b in st_transfers:
            self.rule_transfer(a, b, 7)
        phase = (st_phase + 3) % 7
        if phase:
            self._jump(True, self.boundaries[phase - 1])
        if not st_stay:
            for i in range(COUPONS):
                if self.records[i] < self.now:
                    self.rule_fund_coupon(i, False)

    def rule_sleep(self, st_sleep):
        """Time passes (across record dates, payment dates, maturity)."""
        chain.sleep(st_sleep)
        chain.mine()
        self._settle()

    def rule_next_date(self, st_small):
        """Time jumps to just after the next record date, payment date or maturity."""
        now = chain.time()
        later = [b for b in self.boundaries if b > now]
        if later:
            chain.sleep(later[0] + 2 + st_small - now)
            chain.mine()
        self._settle()

    def rule_transfer(self, st_holder, st_other, st_amount):
        """A holder sells units to another holder."""
        self._settle()
        a, b = self.holders[st_holder], self.holders[st_other]
        if a == b or st_amount > self.bal[a]:
            return
        tx = self.bond.transfer(b, st_amount, {"from": a})
        self._same_side(tx)
        self.bal[a] -= st_amount
        self.bal[b] += st_amount

    def rule_fund_coupon(self, st_coupon, st_stay):
        """The paying agent funds a coupon (maybe after waiting for its record date)."""
        self._jump(not st_stay, self.records[st_coupon])
        i = st_coupon
        if self.funded[i]:
            with self.revert_with("ScheduleAlreadyFunded", i):
                self.s.fundCoupon(i, {"from": self.payer})
        elif self.now < self.records[i]:
            with self.revert_with("ScheduleRecordDateNotReached", i, self.records[i]):
                self.s.fundCoupon(i, {"from": self.payer})
        else:
            before = self.token.balanceOf(self.payer)
            tx = self.s.fundCoupon(i, {"from": self.payer})
            self._same_side(tx)
            amount = (self._supply_at(i) - self.off_units[i]) * self.per_units[i]
            assert before - self.token.balanceOf(self.payer) == amount
            assert tx.events["CouponFunded"]["amount"] == amount
            self.funded[i] = True
            self.held[i] = amount
            self.payer_net += amount

    def rule_claim(self, st_holder, st_coupon, st_stay):
        """A holder claims one coupon (maybe after waiting for its payment date)."""
        self._jump(not st_stay, self.dates[st_coupon])
        h, i = self.holders[st_holder], st_coupon
        if self.now < self.dates[i]:
            with self.revert_with("SchedulePaymentDateNotReached", i, self.dates[i]):
                self.s.claimCoupon(i, {"from": h})
        elif not self.funded[i]:
            with self.revert_with("ScheduleNotFunded", i):
                self.s.claimCoupon(i, {"from": h})
        elif h in self.paid[i]:
            with self.revert_with("ScheduleAlreadyPaid", i, h):
                self.s.claimCoupon(i, {"from": h})
        elif self._units(i, h) == 0:
            with self.revert_with("ScheduleNothingOwed", i, h):
                self.s.claimCoupon(i, {"from": h})
        else:
            tx = self.s.claimCoupon(i, {"from": h})
            self._same_side(tx)
            self._record_events(tx)
            assert tx.return_value == self._pay_model(i, h)

    def rule_claim_all(self, st_holder):
        """A holder claims every funded, due, unpaid coupon."""
        self._settle()
        h = self.holders[st_holder]
        tx = self.s.claimAll({"from": h})
        self._same_side(tx)
        self._record_events(tx)
        expected = 0
        for i in range(COUPONS):
            if self.now < self.dates[i]:
                break
            if self.funded[i] and h not in self.paid[i]:
                expected += self._pay_model(i, h)
        assert tx.return_value == expected

    def rule_distribute(self, st_coupon, st_batch, st_stay):
        """The paying agent pushes a coupon to a batch of holders (repeats allowed)."""
        self._jump(not st_stay, self.dates[st_coupon])
        i = st_coupon
        batch = [self.holders[k] for k in st_batch]
        if self.now < self.dates[i]:
            with self.revert_with("SchedulePaymentDateNotReached", i, self.dates[i]):
                self.s.distributeCoupon(i, batch, {"from": self.payer})
        elif not self.funded[i]:
            with self.revert_with("ScheduleNotFunded", i):
                self.s.distributeCoupon(i, batch, {"from": self.payer})
        else:
            tx = self.s.distributeCoupon(i, batch, {"from": self.payer})
            self._same_side(tx)
            self._record_events(tx)
            expected = []
            for h in batch:
                if h not in self.paid[i] and self._pay_model(i, h):
                    expected.append(h)
            got = [ev["holder"] for ev in tx.events["CouponPaid"]] if "CouponPaid" in tx.events else []
            assert got == expected

    def rule_offchain(self, st_coupon, st_batch, st_stay):
        """The paying agent records a coupon paid by bank transfer to a batch of holders."""
        self._jump(not st_stay, self.records[st_coupon])
        i = st_coupon
        batch = [self.holders[k] for k in st_batch]
        ref = "0x" + f"{len(self.seen) + 1:064x}"
        if self.now < self.records[i]:
            with self.revert_with("ScheduleRecordDateNotReached", i, self.records[i]):
                self.s.recordOffchainPayment(i, batch, ref, {"from": self.payer})
            return
        done = set()
        for h in batch:
            if h in self.paid[i] or h in done:
                with self.revert_with("ScheduleAlreadyPaid", i, h):
                    self.s.recordOffchainPayment(i, batch, ref, {"from": self.payer})
                return
            if self._units(i, h) == 0:
                with self.revert_with("ScheduleNothingOwed", i, h):
                    self.s.recordOffchainPayment(i, batch, ref, {"from": self.payer})
                return
            done.add(h)
        before = self.token.balanceOf(self.payer)
        tx = self.s.recordOffchainPayment(i, batch, ref, {"from": self.payer})
        self._same_side(tx)
        self._record_events(tx)
        released = 0
        for h in batch:
            units = self._units(i, h)
            self.paid[i][h] = "off"
            self.off_units[i] += units
            if self.funded[i]:
                released += units * self.per_units[i]
        self.held[i] -= released
        self.payer_net -= released
        assert self.token.balanceOf(self.payer) - before == released
        assert ("ExcessReturned" in tx.events) == (released != 0)

    def rule_fund_redemption(self):
        """The paying agent funds the principal of every outstanding unit."""
        self._settle()
        if self.red_funded:
            with self.revert_with("ScheduleRedemptionAlreadyFunded"):
                self.s.fundRedemption({"from": self.payer})
            return
        tx = self.s.fundRedemption({"from": self.payer})
        amount = sum(self.bal.values()) * PAR
        assert tx.events["RedemptionFunded"]["amount"] == amount
        self.red_funded = True
        self.principal_held = amount
        self.payer_net += amount

    def rule_redeem(self, st_holder, st_stay):
        """A holder redeems all their units at par (maybe after waiting for maturity)."""
        self._jump(not st_stay, self.maturity)
        h = self.holders[st_holder]
        if self.now < self.maturity:
            with self.revert_with("ScheduleNotMatured", self.maturity):
                self.s.redeem({"from": h})
        elif not self.red_funded:
            with self.revert_with("ScheduleRedemptionNotFunded"):
                self.s.redeem({"from": h})
        elif self.bal[h] == 0:
            with self.revert_with("ScheduleNothingToRedeem", h):
                self.s.redeem({"from": h})
        else:
            tx = self.s.redeem({"from": h})
            self._same_side(tx)
            amount = self.bal[h] * PAR
            assert tx.return_value == amount
            self.bal[h] = 0
            self.principal_held -= amount
            self.received[h] += amount
            assert ("BondFullyRedeemed" in tx.events) == (sum(self.bal.values()) == 0)

    # ------------------------------------------------------------- invariants

    def invariant_coupons(self):
        """Never more than owed per coupon; exactly owed once Paid; held as the model says."""
        for i in range(COUPONS):
            assert self.s.couponHeld(i) == self.held[i]
            if self.rec[i] is None:
                assert self.onchain_paid[i] == self.offchain_paid[i] == 0
                continue
            owed = self._supply_at(i) * self.per_units[i]
            total = self.onchain_paid[i] + self.offchain_paid[i]
            assert total <= owed
            if self.s.couponStatus(i) == PAID_STATUS:
                assert total == owed

    def invariant_solvent(self):
        """The schedule holds at least what it still owes (coupons and principal)."""
        assert self.s.principalHeld() == self.principal_held
        owes = sum(self.held) + self.principal_held  # couponHeld(i) == held[i]: invariant_coupons
        assert self.token.balanceOf(self.s) >= owes

    def teardown(self):
        """Every holder received exactly what the model says, to the yen."""
        for h in self.holders:
            assert self.token.balanceOf(h) == self.received[h]
            assert self.bond.balanceOf(h) == self.bal[h]
        assert self.payer_start - self.token.balanceOf(self.payer) == self.payer_net
        assert self.token.balanceOf(self.s) == sum(self.held) + self.principal_held


@pytest.mark.long
def test_stateful(machine_setup, state_machine, payer, alice, bob, carol, dave, per_unit_model, revert_with):
    token, bond, s = machine_setup
    previous = bond.issueDate()
    per_units = []
    for i in range(COUPONS):
        expected = per_unit_model(previous, s.couponDate(i), 12)
        assert expected == 1_000_000 * 5_980 * 20 // (1_000_000 * 365) == 327
        assert s.couponPerUnit(i) == expected
        per_units.append(expected)
        previous = s.couponDate(i)
    state_machine(
        StateMachine, token, bond, s, payer, [alice, bob, carol, dave], per_units, revert_with,
        settings={"max_examples": 20 * FUZZ_FACTOR, "stateful_step_count": 20},
    )
