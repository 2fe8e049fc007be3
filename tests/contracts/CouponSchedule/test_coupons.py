"""Every coupon function and every revert, on the conftest bond (coupons 30 days apart, record
date a day before; alice 100 units, bob 50, carol registered with none; 150 units in all)."""

import brownie
import pytest

SCHEDULED, FUNDED, PAYING, PAID, LATE = range(5)
NONE, ONCHAIN, OFFCHAIN = range(3)
REF = "0x" + "ab" * 32


@pytest.fixture(autouse=True)
def setup(schedule):
    pass


def pu(schedule, i):
    return schedule.couponPerUnit(i)


def at_record(s, helpers, i=0):
    helpers.goto(s.recordDate(i))


def at_payment(s, helpers, i=0):
    helpers.goto(s.couponDate(i))


# ------------------------------------------------------------------ views


def test_getters(schedule, bond, admin, payer, settlement, helpers):
    s = schedule
    assert s.bond() == bond
    assert s.settlementToken() == settlement
    assert s.utcOffset() == 32_400
    assert s.callNotice() == helpers.CALL_NOTICE
    assert s.couponCount() == 12
    dates = bond.couponDates()
    records = bond.recordDates()
    for i in range(12):
        assert s.couponDate(i) == dates[i]
        assert s.recordDate(i) == records[i] == dates[i] - helpers.DAY
        assert s.couponPerUnit(i) in (491, 498)
    assert s.redemptionDate() == bond.maturityDate() == dates[-1]
    assert s.redemptionPerUnit() == 1_000_000
    assert not s.redemptionFunded() and not s.called()
    assert s.principalHeld() == 0
    assert s.bondStatus() == 0
    assert s.hasRole(s.DEFAULT_ADMIN_ROLE(), admin)
    assert s.hasRole(s.PAYING_AGENT_ROLE(), payer)
    assert not s.hasRole(s.PAYING_AGENT_ROLE(), admin)


@pytest.mark.parametrize(
    "fn,args",
    [
        ("couponDate", []), ("recordDate", []), ("couponPerUnit", []), ("couponTotal", []),
        ("couponStatus", []), ("isLate", []), ("couponHeld", []),
        ("couponOf", ["alice"]), ("isPaid", ["alice"]), ("paymentOf", ["alice"]),
    ],
)
def test_views_unknown_coupon(schedule, alice, revert_with, fn, args):
    call = [alice if a == "alice" else a for a in args]
    with revert_with("ScheduleUnknownCoupon", 12):
        if call:
            getattr(schedule, fn)(call[0], 12)
        else:
            getattr(schedule, fn)(12)


def test_writes_unknown_coupon(schedule, payer, alice, revert_with):
    with revert_with("ScheduleUnknownCoupon", 12):
        schedule.fundCoupon(12, {"from": payer})
    with revert_with("ScheduleUnknownCoupon", 12):
        schedule.claimCoupon(12, {"from": alice})
    with revert_with("ScheduleUnknownCoupon", 12):
        schedule.distributeCoupon(12, [alice], {"from": payer})
    with revert_with("ScheduleUnknownCoupon", 12):
        schedule.recordOffchainPayment(12, [alice], REF, {"from": payer})
    with revert_with("ScheduleUnknownCoupon", 12):
        schedule.flagLate(12, {"from": alice})


def test_views_before_record_date(schedule, alice, revert_with):
    assert schedule.couponOf(alice, 0) == 0
    assert not schedule.isPaid(alice, 0)
    assert schedule.paymentOf(alice, 0) == NONE
    assert schedule.couponStatus(0) == SCHEDULED
    assert not schedule.isLate(0)
    assert schedule.couponHeld(0) == 0
    with revert_with("ScheduleRecordDateNotReached", 0, schedule.recordDate(0)):
        schedule.couponTotal(0)


def test_views_after_record_date(schedule, alice, bob, carol, outsider, helpers):
    at_record(schedule, helpers)
    p = pu(schedule, 0)
    assert schedule.couponOf(alice, 0) == 100 * p
    assert schedule.couponOf(bob, 0) == 50 * p
    assert schedule.couponOf(carol, 0) == 0
    assert schedule.couponOf(outsider, 0) == 0
    assert schedule.couponTotal(0) == 150 * p
    assert schedule.couponOf(alice, 1) == 0  # record date 1 not reached


def test_status_lifecycle(schedule, payer, alice, bob, helpers):
    s = schedule
    assert s.couponStatus(0) == SCHEDULED
    at_record(s, helpers)
    assert s.couponStatus(0) == SCHEDULED
    s.fundCoupon(0, {"from": payer})
    assert s.couponStatus(0) == FUNDED
    at_payment(s, helpers)
    assert s.couponStatus(0) == PAYING
    s.claimCoupon(0, {"from": alice})
    assert s.couponStatus(0) == PAYING
    s.claimCoupon(0, {"from": bob})
    assert s.couponStatus(0) == PAID
    assert s.couponStatus(1) == SCHEDULED


def test_status_late_then_paying(schedule, payer, helpers):
    at_payment(schedule, helpers)
    assert schedule.couponStatus(0) == LATE and schedule.isLate(0)
    schedule.fundCoupon(0, {"from": payer})
    assert schedule.couponStatus(0) == PAYING and not schedule.isLate(0)


def test_status_paid_all_offchain_unfunded(schedule, payer, alice, bob, helpers):
    """Every unit paid by bank transfer: Paid without on-chain funding, never Late."""
    at_record(schedule, helpers)
    schedule.recordOffchainPayment(0, [alice, bob], REF, {"from": payer})
    assert schedule.couponStatus(0) == PAID
    at_payment(schedule, helpers)
    assert schedule.couponStatus(0) == PAID and not schedule.isLate(0)


def test_status_paid_mixed(schedule, payer, alice, bob, helpers):
    at_record(schedule, helpers)
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    assert schedule.couponStatus(0) == SCHEDULED
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    schedule.claimCoupon(0, {"from": alice})
    assert schedule.couponStatus(0) == PAID


# ------------------------------------------------------------------ fundCoupon


def test_fund_before_record_date(schedule, payer, helpers, revert_with):
    helpers.goto(schedule.recordDate(0) - 3600)
    with revert_with("ScheduleRecordDateNotReached", 0, schedule.recordDate(0)):
        schedule.fundCoupon(0, {"from": payer})


def test_fund_pulls_exactly(schedule, payer, settlement, helpers):
    at_record(schedule, helpers)
    p = pu(schedule, 0)
    before = settlement.balanceOf(payer)
    tx = schedule.fundCoupon(0, {"from": payer})
    assert before - settlement.balanceOf(payer) == 150 * p
    assert settlement.balanceOf(schedule) == 150 * p
    assert schedule.couponHeld(0) == 150 * p
    ev = tx.events["CouponFunded"]
    assert (ev["index"], ev["amount"], ev["unitsAtRecord"], ev["payingAgent"]) == (0, 150 * p, 150, payer)


def test_fund_minus_offchain_units(schedule, payer, settlement, bob, helpers):
    at_record(schedule, helpers)
    p = pu(schedule, 0)
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    before = settlement.balanceOf(payer)
    tx = schedule.fundCoupon(0, {"from": payer})
    assert before - settlement.balanceOf(payer) == 100 * p  # (150 - 50 off chain) units
    assert tx.events["CouponFunded"]["amount"] == 100 * p
    assert tx.events["CouponFunded"]["unitsAtRecord"] == 150
    assert schedule.couponHeld(0) == 100 * p


def test_fund_uses_record_date_supply(schedule, bond, payer, agent, carol, settlement, helpers):
    """Units minted after the record date are not owed this coupon."""
    at_record(schedule, helpers)
    bond.mint(carol, 25, {"from": agent})
    before = settlement.balanceOf(payer)
    schedule.fundCoupon(0, {"from": payer})
    assert before - settlement.balanceOf(payer) == 150 * pu(schedule, 0)


def test_fund_twice(schedule, payer, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    with revert_with("ScheduleAlreadyFunded", 0):
        schedule.fundCoupon(0, {"from": payer})


def test_fund_role(schedule, admin, outsider, helpers, revert_with):
    at_record(schedule, helpers)
    role = schedule.PAYING_AGENT_ROLE()
    for who in (admin, outsider):
        with revert_with("AccessControlUnauthorizedAccount", who, role):
            schedule.fundCoupon(0, {"from": who})


def test_fund_without_allowance(schedule, payer, settlement, helpers):
    at_record(schedule, helpers)
    settlement.approve(schedule, 0, {"from": payer})
    with brownie.reverts():
        schedule.fundCoupon(0, {"from": payer})
    assert schedule.couponStatus(0) == SCHEDULED


# ------------------------------------------------------------------ claimCoupon


def test_claim(schedule, payer, alice, settlement, helpers):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    p = pu(schedule, 0)
    tx = schedule.claimCoupon(0, {"from": alice})
    assert tx.return_value == 100 * p
    assert settlement.balanceOf(alice) == 100 * p
    assert schedule.couponHeld(0) == 50 * p
    assert schedule.isPaid(alice, 0) and schedule.paymentOf(alice, 0) == ONCHAIN
    ev = tx.events["CouponPaid"]
    assert (ev["index"], ev["holder"], ev["units"], ev["amount"], ev["by"]) == (0, alice, 100, 100 * p, alice)


def test_claim_before_payment_date(schedule, payer, alice, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    with revert_with("SchedulePaymentDateNotReached", 0, schedule.couponDate(0)):
        schedule.claimCoupon(0, {"from": alice})


def test_claim_not_funded(schedule, alice, helpers, revert_with):
    at_payment(schedule, helpers)
    with revert_with("ScheduleNotFunded", 0):
        schedule.claimCoupon(0, {"from": alice})


def test_claim_twice(schedule, payer, alice, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    schedule.claimCoupon(0, {"from": alice})
    with revert_with("ScheduleAlreadyPaid", 0, alice):
        schedule.claimCoupon(0, {"from": alice})


def test_claim_nothing_owed(schedule, payer, carol, outsider, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    for who in (carol, outsider):
        with revert_with("ScheduleNothingOwed", 0, who):
            schedule.claimCoupon(0, {"from": who})
    assert not schedule.isPaid(carol, 0)


def test_claim_frozen(schedule, bond, payer, agent, alice, settlement, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("ScheduleHolderFrozen", alice):
        schedule.claimCoupon(0, {"from": alice})
    with revert_with("ScheduleHolderFrozen", alice):
        schedule.claimAll({"from": alice})
    bond.setAddressFrozen(alice, False, {"from": agent})
    schedule.claimCoupon(0, {"from": alice})
    assert settlement.balanceOf(alice) == 100 * pu(schedule, 0)


def test_claim_after_offchain(schedule, payer, bob, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    at_payment(schedule, helpers)
    with revert_with("ScheduleAlreadyPaid", 0, bob):
        schedule.claimCoupon(0, {"from": bob})


# ------------------------------------------------------------------ claimAll


def test_claim_all(schedule, payer, alice, settlement, helpers):
    """Pays every funded, due, unpaid coupon; skips the unfunded one and those not yet due."""
    s = schedule
    for i in range(4):
        at_record(s, helpers, i)
        if i != 1:
            s.fundCoupon(i, {"from": payer})
    at_payment(s, helpers, 2)  # coupon 3 funded but not due
    s.claimCoupon(0, {"from": alice})
    paid0 = settlement.balanceOf(alice)
    tx = s.claimAll({"from": alice})
    assert tx.return_value == 100 * pu(s, 2)
    assert settlement.balanceOf(alice) == paid0 + 100 * pu(s, 2)
    assert [s.isPaid(alice, i) for i in range(4)] == [True, False, True, False]
    assert [e["index"] for e in tx.events["CouponPaid"]] == [2]
    # the late coupon, once funded, is picked up by the next claimAll
    s.fundCoupon(1, {"from": payer})
    at_payment(s, helpers, 3)
    tx = s.claimAll({"from": alice})
    assert tx.return_value == 100 * (pu(s, 1) + pu(s, 3))
    assert [e["index"] for e in tx.events["CouponPaid"]] == [1, 3]
    assert s.claimAll({"from": alice}).return_value == 0


def test_claim_all_nothing(schedule, carol, outsider):
    assert schedule.claimAll({"from": carol}).return_value == 0
    tx = schedule.claimAll({"from": outsider})
    assert tx.return_value == 0 and "CouponPaid" not in tx.events


def test_claim_all_skips_offchain(schedule, payer, bob, settlement, helpers):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    at_payment(schedule, helpers)
    before = settlement.balanceOf(bob)
    assert schedule.claimAll({"from": bob}).return_value == 0
    assert settlement.balanceOf(bob) == before


# ------------------------------------------------------------------ distributeCoupon


def test_distribute_batches(schedule, payer, alice, bob, carol, outsider, settlement, helpers):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    p = pu(schedule, 0)
    tx = schedule.distributeCoupon(0, [alice, carol, outsider], {"from": payer})
    assert settlement.balanceOf(alice) == 100 * p
    assert [e["holder"] for e in tx.events["CouponPaid"]] == [alice]
    assert tx.events["CouponPaid"]["by"] == payer
    assert not schedule.isPaid(carol, 0)  # nothing owed: skipped, nothing recorded
    # re-running a batch that overlaps pays nobody twice
    tx = schedule.distributeCoupon(0, [alice, bob, bob], {"from": payer})
    assert [e["holder"] for e in tx.events["CouponPaid"]] == [bob]
    assert settlement.balanceOf(alice) == 100 * p
    assert settlement.balanceOf(bob) == 50 * p
    tx = schedule.distributeCoupon(0, [alice, bob], {"from": payer})
    assert "CouponPaid" not in tx.events
    assert schedule.couponHeld(0) == 0 and settlement.balanceOf(schedule) == 0
    assert schedule.couponStatus(0) == PAID


def test_distribute_skips_claimed_and_offchain(schedule, payer, alice, bob, settlement, helpers):
    at_record(schedule, helpers)
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    schedule.claimCoupon(0, {"from": alice})
    tx = schedule.distributeCoupon(0, [alice, bob], {"from": payer})
    assert "CouponPaid" not in tx.events
    assert settlement.balanceOf(bob) == 0
    assert settlement.balanceOf(alice) == 100 * pu(schedule, 0)


def test_distribute_to_frozen_holder(schedule, bond, payer, agent, alice, settlement, helpers):
    """A frozen wallet is paid nothing, not even by the agent's push: it is skipped (CouponSkipped)
    and its coupon stays held until the freeze is lifted."""
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    bond.setAddressFrozen(alice, True, {"from": agent})
    tx = schedule.distributeCoupon(0, [alice], {"from": payer})
    assert "CouponPaid" not in tx.events and tx.events["CouponSkipped"]["holder"] == alice
    assert settlement.balanceOf(alice) == 0 and schedule.couponHeld(0) >= 100 * pu(schedule, 0)
    bond.setAddressFrozen(alice, False, {"from": agent})
    schedule.distributeCoupon(0, [alice], {"from": payer})
    assert settlement.balanceOf(alice) == 100 * pu(schedule, 0)


def test_distribute_reverts(schedule, payer, admin, alice, helpers, revert_with):
    at_record(schedule, helpers)
    with revert_with("SchedulePaymentDateNotReached", 0, schedule.couponDate(0)):
        schedule.distributeCoupon(0, [alice], {"from": payer})
    at_payment(schedule, helpers)
    with revert_with("ScheduleNotFunded", 0):
        schedule.distributeCoupon(0, [alice], {"from": payer})
    schedule.fundCoupon(0, {"from": payer})
    with revert_with("AccessControlUnauthorizedAccount", admin, schedule.PAYING_AGENT_ROLE()):
        schedule.distributeCoupon(0, [alice], {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", alice, schedule.PAYING_AGENT_ROLE()):
        schedule.distributeCoupon(0, [alice], {"from": alice})


# ------------------------------------------------------------------ recordOffchainPayment


def test_offchain_before_record_date(schedule, payer, alice, helpers, revert_with):
    helpers.goto(schedule.recordDate(0) - 3600)
    with revert_with("ScheduleRecordDateNotReached", 0, schedule.recordDate(0)):
        schedule.recordOffchainPayment(0, [alice], REF, {"from": payer})


def test_offchain_before_funding(schedule, payer, alice, settlement, helpers):
    at_record(schedule, helpers)
    before = settlement.balanceOf(payer)
    tx = schedule.recordOffchainPayment(0, [alice], REF, {"from": payer})
    assert settlement.balanceOf(payer) == before
    assert "ExcessReturned" not in tx.events
    ev = tx.events["CouponPaidOffchain"]
    assert (ev["index"], ev["holder"], ev["units"], ev["paymentRef"]) == (0, alice, 100, REF)
    assert schedule.paymentOf(alice, 0) == OFFCHAIN and schedule.isPaid(alice, 0)


def test_offchain_after_funding_returns_excess(schedule, payer, alice, bob, settlement, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    p = pu(schedule, 0)
    before = settlement.balanceOf(payer)
    tx = schedule.recordOffchainPayment(0, [alice], REF, {"from": payer})
    assert settlement.balanceOf(payer) - before == 100 * p
    ev = tx.events["ExcessReturned"]
    assert (ev["index"], ev["to"], ev["amount"]) == (0, payer, 100 * p)
    assert schedule.couponHeld(0) == 50 * p == settlement.balanceOf(schedule)
    at_payment(schedule, helpers)
    with revert_with("ScheduleAlreadyPaid", 0, alice):
        schedule.claimCoupon(0, {"from": alice})
    schedule.claimCoupon(0, {"from": bob})
    assert schedule.couponHeld(0) == 0 == settlement.balanceOf(schedule)
    assert settlement.balanceOf(alice) == 0


def test_offchain_after_onchain_payment(schedule, payer, alice, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    schedule.claimCoupon(0, {"from": alice})
    with revert_with("ScheduleAlreadyPaid", 0, alice):
        schedule.recordOffchainPayment(0, [alice], REF, {"from": payer})


def test_offchain_reverts(schedule, payer, admin, alice, bob, carol, outsider, helpers, revert_with):
    at_record(schedule, helpers)
    with revert_with("ScheduleNothingOwed", 0, carol):
        schedule.recordOffchainPayment(0, [alice, carol], REF, {"from": payer})
    with revert_with("ScheduleNothingOwed", 0, outsider):
        schedule.recordOffchainPayment(0, [outsider], REF, {"from": payer})
    assert not schedule.isPaid(alice, 0)  # the whole batch reverted
    with revert_with("ScheduleAlreadyPaid", 0, bob):
        schedule.recordOffchainPayment(0, [bob, bob], REF, {"from": payer})
    schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    with revert_with("ScheduleAlreadyPaid", 0, bob):
        schedule.recordOffchainPayment(0, [bob], REF, {"from": payer})
    with revert_with("AccessControlUnauthorizedAccount", admin, schedule.PAYING_AGENT_ROLE()):
        schedule.recordOffchainPayment(0, [alice], REF, {"from": admin})


# ------------------------------------------------------------------ flagLate


def test_flag_late(schedule, outsider, helpers, revert_with):
    with revert_with("ScheduleNotLate", 0):
        schedule.flagLate(0, {"from": outsider})
    helpers.goto(schedule.couponDate(0) - 3600)
    with revert_with("ScheduleNotLate", 0):
        schedule.flagLate(0, {"from": outsider})
    at_payment(schedule, helpers)
    tx = schedule.flagLate(0, {"from": outsider})
    ev = tx.events["CouponLate"]
    assert (ev["index"], ev["paymentDate"]) == (0, schedule.couponDate(0))
    with revert_with("ScheduleNotLate", 0):
        schedule.flagLate(0, {"from": outsider})
    assert schedule.isLate(0)


def test_flag_late_funded_or_paid(schedule, payer, alice, bob, outsider, helpers, revert_with):
    at_record(schedule, helpers)
    schedule.fundCoupon(0, {"from": payer})
    at_payment(schedule, helpers)
    with revert_with("ScheduleNotLate", 0):
        schedule.flagLate(0, {"from": outsider})
    # coupon 1 paid wholly off chain: not late although never funded
    at_payment(schedule, helpers, 1)
    schedule.recordOffchainPayment(1, [alice, bob], REF, {"from": payer})
    with revert_with("ScheduleNotLate", 1):
        schedule.flagLate(1, {"from": outsider})
