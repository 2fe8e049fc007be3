"""The golden case, to the yen: the default Hitachi terms (config/bonds/hitachi-2023.toml).

Semi-annual, regular periods: per unit = denomination x rate / 1e6 / frequency
  = 1_000_000 * 5_980 // (1_000_000 * 2) = 5_980_000_000 // 2_000_000 = 2_990 yen,
and with 10,000 units each coupon totals 2_990 * 10_000 = 29_900_000 yen.
"""

import datetime as dt

import pytest
from brownie import chain

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

DAY = 86_400
PER_UNIT = 2_990
UNITS = 10_000
TOTAL = 29_900_000


@pytest.fixture(scope="module")
def hitachi_schedule(deploy_schedule, hitachi_bond):
    return deploy_schedule(hitachi_bond)


def test_per_unit_arithmetic():
    assert 1_000_000 * 5_980 // (1_000_000 * 2) == PER_UNIT
    assert PER_UNIT * UNITS == TOTAL


def test_hitachi_schedule(hitachi_schedule, hitachi_terms, helpers):
    s = hitachi_schedule
    assert hitachi_terms.utc_offset_seconds == 32_400
    assert s.utcOffset() == 32_400
    assert s.couponCount() == 10
    expected = [dt.date(y, m, 14) for y in range(2024, 2029) for m in (6, 12)]
    for i, day in enumerate(expected):
        assert s.couponDate(i) == helpers.jst(day)
        assert s.recordDate(i) == s.couponDate(i) - DAY
        assert s.couponPerUnit(i) == PER_UNIT
        assert s.couponPerUnit(i) * hitachi_terms.units == TOTAL
    maturity = helpers.jst(dt.date(2028, 12, 14))
    assert s.couponDate(9) == maturity == hitachi_terms.timestamp(hitachi_terms.maturity_date)
    assert s.redemptionDate() == maturity
    assert s.redemptionPerUnit() == 1_000_000
    assert hitachi_terms.units == UNITS


def test_hitachi_dates_are_in_the_past(hitachi_schedule):
    """The chain runs at the real date: the paying tests use `future_hitachi` instead."""
    assert hitachi_schedule.couponDate(0) < chain.time()


def test_future_hitachi_shape(future_hitachi, helpers):
    bond, s, issue, coupons = future_hitachi
    assert issue.day == 14 and helpers.jst(issue) > chain.time()
    assert s.couponCount() == 10
    for i, day in enumerate(coupons):
        assert day.day == 14
        assert s.couponDate(i) == helpers.jst(day)
        assert s.recordDate(i) == s.couponDate(i) - DAY
        assert s.couponPerUnit(i) == PER_UNIT
    assert s.couponDate(9) == bond.maturityDate() == s.redemptionDate()


def test_future_hitachi_first_coupon(future_hitachi, payer, settlement, alice, bob, carol, helpers):
    bond, s, issue, coupons = future_hitachi
    helpers.goto(s.recordDate(0))
    before = settlement.balanceOf(payer)
    tx = s.fundCoupon(0, {"from": payer})
    assert before - settlement.balanceOf(payer) == TOTAL
    ev = tx.events["CouponFunded"]
    assert (ev["index"], ev["amount"], ev["unitsAtRecord"], ev["payingAgent"]) == (0, TOTAL, UNITS, payer)
    assert s.couponTotal(0) == TOTAL
    assert s.couponHeld(0) == TOTAL
    helpers.goto(s.couponDate(0))
    for holder, units in ((alice, 6_000), (bob, 3_000), (carol, 1_000)):
        tx = s.claimCoupon(0, {"from": holder})
        assert tx.return_value == units * PER_UNIT
        assert settlement.balanceOf(holder) == units * PER_UNIT
    assert settlement.balanceOf(alice) == 17_940_000
    assert settlement.balanceOf(bob) == 8_970_000
    assert settlement.balanceOf(carol) == 2_990_000
    assert s.couponHeld(0) == 0
    assert s.couponStatus(0) == 3  # Paid


def test_future_hitachi_whole_life(future_hitachi, payer, settlement, alice, bob, carol, helpers):
    """Ten coupons of 29,900,000 yen and 10,000,000,000 yen of principal, to the yen."""
    bond, s, issue, coupons = future_hitachi
    holders = [alice, bob, carol]
    start = settlement.balanceOf(payer)
    for i in range(10):
        helpers.goto(s.recordDate(i))
        s.fundCoupon(i, {"from": payer})
        helpers.goto(s.couponDate(i))
        s.distributeCoupon(i, holders, {"from": payer})
        assert s.couponStatus(i) == 3
    s.fundRedemption({"from": payer})
    tx = s.redeemFor(holders, {"from": payer})
    assert "BondFullyRedeemed" in tx.events
    assert s.bondStatus() == 2
    assert settlement.balanceOf(alice) == 6_000 * (10 * PER_UNIT + 1_000_000)
    assert settlement.balanceOf(bob) == 3_000 * (10 * PER_UNIT + 1_000_000)
    assert settlement.balanceOf(carol) == 1_000 * (10 * PER_UNIT + 1_000_000)
    assert start - settlement.balanceOf(payer) == 10 * TOTAL + 10_000_000_000
    assert settlement.balanceOf(s) == 0
