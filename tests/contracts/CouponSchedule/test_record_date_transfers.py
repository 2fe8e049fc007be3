"""Who is paid: the holder at the record date (the state strictly before that second)."""

import pytest

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat


@pytest.fixture(autouse=True)
def setup(schedule):
    pass


def pay_all(s, payer, i, holders, helpers):
    if s.couponStatus(i) == 0:
        helpers.goto(s.recordDate(i))
        s.fundCoupon(i, {"from": payer})
    helpers.goto(s.couponDate(i))
    s.distributeCoupon(i, holders, {"from": payer})


def test_seller_before_record_date_gets_nothing(schedule, bond, payer, alice, bob, carol, settlement, helpers):
    s = schedule
    helpers.goto(s.recordDate(0) - 3600)
    bond.transfer(carol, 40, {"from": alice})
    bond.transfer(carol, 50, {"from": bob})  # bob sells everything before the record date
    helpers.goto(s.recordDate(0))
    p = s.couponPerUnit(0)
    assert s.couponOf(alice, 0) == 60 * p
    assert s.couponOf(bob, 0) == 0
    assert s.couponOf(carol, 0) == 90 * p
    pay_all(s, payer, 0, [alice, bob, carol], helpers)
    assert settlement.balanceOf(alice) == 60 * p
    assert settlement.balanceOf(bob) == 0
    assert settlement.balanceOf(carol) == 90 * p


def test_seller_after_record_date_still_paid(schedule, bond, payer, alice, bob, carol, settlement, helpers):
    s = schedule
    helpers.goto(s.recordDate(0))
    tx = bond.transfer(carol, 50, {"from": bob})  # at or after the record date second
    assert tx.timestamp >= s.recordDate(0)
    p0, p1 = s.couponPerUnit(0), s.couponPerUnit(1)
    assert s.couponOf(bob, 0) == 50 * p0 and s.couponOf(carol, 0) == 0
    pay_all(s, payer, 0, [alice, bob, carol], helpers)
    assert settlement.balanceOf(bob) == 50 * p0
    assert settlement.balanceOf(carol) == 0
    # the next coupon goes to the buyer
    pay_all(s, payer, 1, [alice, bob, carol], helpers)
    assert settlement.balanceOf(bob) == 50 * p0
    assert settlement.balanceOf(carol) == 50 * p1
    assert settlement.balanceOf(alice) == 100 * (p0 + p1)


def test_trades_between_record_dates(schedule, bond, payer, alice, bob, carol, settlement, helpers):
    """Several trades between two record dates: only the position at the record date counts,
    and the claim may come long after (after further trades)."""
    s = schedule
    helpers.goto(s.recordDate(0) + 3600)
    bond.transfer(carol, 70, {"from": alice})
    bond.transfer(bob, 20, {"from": carol})
    bond.transfer(alice, 50, {"from": carol})  # alice 80, bob 70, carol 0
    helpers.goto(s.recordDate(1))
    s.fundCoupon(0, {"from": payer})
    s.fundCoupon(1, {"from": payer})
    bond.transfer(carol, 80, {"from": alice})  # after record date 1: changes nothing for 0 or 1
    helpers.goto(s.couponDate(1))
    p0, p1 = s.couponPerUnit(0), s.couponPerUnit(1)
    assert [s.couponOf(h, 0) for h in (alice, bob, carol)] == [100 * p0, 50 * p0, 0]
    assert [s.couponOf(h, 1) for h in (alice, bob, carol)] == [80 * p1, 70 * p1, 0]
    for h in (alice, bob):
        s.claimAll({"from": h})
    assert settlement.balanceOf(alice) == 100 * p0 + 80 * p1
    assert settlement.balanceOf(bob) == 50 * p0 + 70 * p1
    assert s.claimAll({"from": carol}).return_value == 0
    assert settlement.balanceOf(s) == 0


def test_new_holder_between_record_dates(schedule, bond, payer, agent, register, alice, dave, settlement, helpers, revert_with):
    s = schedule
    register(dave, 4)
    helpers.goto(s.recordDate(0) + 60)
    bond.transfer(dave, 10, {"from": alice})
    helpers.goto(s.recordDate(1))
    s.fundCoupon(0, {"from": payer})
    s.fundCoupon(1, {"from": payer})
    helpers.goto(s.couponDate(1))
    with revert_with("ScheduleNothingOwed", 0, dave):
        s.claimCoupon(0, {"from": dave})
    assert s.claimCoupon(1, {"from": dave}).return_value == 10 * s.couponPerUnit(1)
