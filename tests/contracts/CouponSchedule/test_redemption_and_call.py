"""Redemption at par, the issuer's early call, and constructor validation (conftest bond:
alice 100 units, bob 50; maturity = the 12th coupon date; call notice 30 days)."""

import pytest

from brownie import ZERO_ADDRESS, chain

PAR = 1_000_000
DAY = 86_400
JST = 9 * 3600
CALL_NOTICE = 30 * DAY
ACTIVE, MATURED, REDEEMED = range(3)


@pytest.fixture(autouse=True)
def setup(schedule):
    pass


# ------------------------------------------------------------------ redemption


def test_fund_redemption(schedule, payer, settlement):
    before = settlement.balanceOf(payer)
    tx = schedule.fundRedemption({"from": payer})
    assert before - settlement.balanceOf(payer) == 150 * PAR
    assert schedule.principalHeld() == 150 * PAR and schedule.redemptionFunded()
    ev = tx.events["RedemptionFunded"]
    assert (ev["amount"], ev["units"], ev["payingAgent"]) == (150 * PAR, 150, payer)


def test_fund_redemption_twice_and_role(schedule, payer, admin, revert_with):
    with revert_with("AccessControlUnauthorizedAccount", admin, schedule.PAYING_AGENT_ROLE()):
        schedule.fundRedemption({"from": admin})
    schedule.fundRedemption({"from": payer})
    with revert_with("ScheduleRedemptionAlreadyFunded"):
        schedule.fundRedemption({"from": payer})


def test_units_issued_after_funding_are_topped_up(schedule, bond, payer, agent, alice, bob, settlement, helpers,
                                                 revert_with):
    """Units issued after the principal was funded: the redemption is short until the paying
    agent funds again (only the shortfall); no holder is paid from another's principal."""
    schedule.fundRedemption({"from": payer})
    bond.mint(bob, 10, {"from": agent})
    assert schedule.principalHeld() == 150 * PAR and not schedule.redemptionFunded()
    helpers.goto(schedule.redemptionDate())
    with revert_with("ScheduleRedemptionUnderfunded", 10 * PAR):
        schedule.redeem({"from": alice})
    with revert_with("ScheduleRedemptionUnderfunded", 10 * PAR):
        schedule.redeemFor([alice, bob], {"from": payer})
    before = settlement.balanceOf(payer)
    tx = schedule.fundRedemption({"from": payer})
    assert before - settlement.balanceOf(payer) == 10 * PAR
    assert (tx.events["RedemptionFunded"]["amount"], tx.events["RedemptionFunded"]["units"]) == (10 * PAR, 160)
    assert schedule.principalHeld() == 160 * PAR and schedule.redemptionFunded()
    with revert_with("ScheduleRedemptionAlreadyFunded"):
        schedule.fundRedemption({"from": payer})
    schedule.redeemFor([alice, bob], {"from": payer})
    assert settlement.balanceOf(alice) == 100 * PAR and settlement.balanceOf(bob) == 60 * PAR
    assert schedule.principalHeld() == 0 and bond.totalSupply() == 0


def test_nothing_is_issued_at_or_after_maturity(schedule, bond, payer, agent, alice, helpers, revert_with):
    """So the principal funded at maturity covers every unit for good."""
    maturity = bond.maturityDate()
    helpers.goto(maturity)
    with revert_with("GreenBondMatured", maturity):
        bond.mint(alice, 1, {"from": agent})
    with revert_with("GreenBondMatured", maturity):
        bond.batchMint([alice], [1], {"from": agent})


def test_redeem_before_date(schedule, payer, alice, helpers, revert_with):
    schedule.fundRedemption({"from": payer})
    helpers.goto(schedule.redemptionDate() - 3600)
    with revert_with("ScheduleNotMatured", schedule.redemptionDate()):
        schedule.redeem({"from": alice})
    with revert_with("ScheduleNotMatured", schedule.redemptionDate()):
        schedule.redeemFor([alice], {"from": payer})


def test_redeem_not_funded(schedule, payer, alice, helpers, revert_with):
    helpers.goto(schedule.redemptionDate())
    assert schedule.bondStatus() == MATURED
    with revert_with("ScheduleRedemptionNotFunded"):
        schedule.redeem({"from": alice})
    with revert_with("ScheduleRedemptionNotFunded"):
        schedule.redeemFor([alice], {"from": payer})


def test_redeem_burns_and_pays(schedule, bond, payer, alice, bob, carol, settlement, helpers, revert_with):
    schedule.fundRedemption({"from": payer})
    helpers.goto(schedule.redemptionDate())
    tx = schedule.redeem({"from": alice})
    assert tx.return_value == 100 * PAR
    assert settlement.balanceOf(alice) == 100 * PAR
    assert bond.balanceOf(alice) == 0 and bond.totalSupply() == 50
    ev = tx.events["Redeemed"]
    assert (ev["holder"], ev["units"], ev["amount"], ev["by"]) == (alice, 100, 100 * PAR, alice)
    assert "BondFullyRedeemed" not in tx.events
    assert schedule.principalHeld() == 50 * PAR and schedule.bondStatus() == MATURED
    with revert_with("ScheduleNothingToRedeem", alice):
        schedule.redeem({"from": alice})
    with revert_with("ScheduleNothingToRedeem", carol):
        schedule.redeem({"from": carol})
    tx = schedule.redeem({"from": bob})
    assert tx.events["BondFullyRedeemed"]["timestamp"] == tx.timestamp
    assert schedule.bondStatus() == REDEEMED
    assert bond.totalSupply() == 0 and schedule.principalHeld() == 0 == settlement.balanceOf(schedule)


def test_redeem_for(schedule, bond, payer, admin, alice, bob, carol, settlement, helpers, revert_with):
    schedule.fundRedemption({"from": payer})
    helpers.goto(schedule.redemptionDate())
    with revert_with("AccessControlUnauthorizedAccount", admin, schedule.PAYING_AGENT_ROLE()):
        schedule.redeemFor([alice], {"from": admin})
    tx = schedule.redeemFor([alice, carol, alice, bob], {"from": payer})  # carol and repeats skipped
    assert [e["holder"] for e in tx.events["Redeemed"]] == [alice, bob]
    assert tx.events["Redeemed"][0]["by"] == payer
    assert "BondFullyRedeemed" in tx.events and schedule.bondStatus() == REDEEMED
    assert settlement.balanceOf(alice) == 100 * PAR and settlement.balanceOf(bob) == 50 * PAR


def test_frozen_holder_redeemed_by_agent(schedule, bond, payer, agent, alice, settlement, helpers, revert_with):
    """A frozen wallet is redeemed by nobody; once unfrozen, its free units are, and its frozen
    units wait (their principal held) until the agent unfreezes them."""
    schedule.fundRedemption({"from": payer})
    helpers.goto(schedule.redemptionDate())
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.freezePartialTokens(alice, 40, {"from": agent})
    with revert_with("ScheduleHolderFrozen", alice):
        schedule.redeem({"from": alice})
    tx = schedule.redeemFor([alice], {"from": payer})
    assert tx.events["RedemptionSkipped"]["holder"] == alice and bond.balanceOf(alice) == 100
    bond.setAddressFrozen(alice, False, {"from": agent})
    schedule.redeemFor([alice], {"from": payer})
    assert bond.balanceOf(alice) == 40 and settlement.balanceOf(alice) == 60 * PAR
    assert tuple(int(v) for v in schedule.redeemableOf(alice)) == (0, 40 * PAR)
    bond.unfreezePartialTokens(alice, 40, {"from": agent})
    schedule.redeemFor([alice], {"from": payer})
    assert bond.balanceOf(alice) == 0 and settlement.balanceOf(alice) == 100 * PAR


def test_last_coupon_after_redemption(schedule, payer, alice, bob, settlement, helpers):
    """Burning at maturity does not change the units at the last record date."""
    last = schedule.couponCount() - 1
    helpers.goto(schedule.recordDate(last))
    schedule.fundCoupon(last, {"from": payer})
    schedule.fundRedemption({"from": payer})
    helpers.goto(schedule.redemptionDate())
    schedule.redeem({"from": alice})
    schedule.claimCoupon(last, {"from": alice})
    p = schedule.couponPerUnit(last)
    assert settlement.balanceOf(alice) == 100 * PAR + 100 * p
    schedule.redeemFor([bob], {"from": payer})
    schedule.distributeCoupon(last, [bob], {"from": payer})
    assert settlement.balanceOf(bob) == 50 * PAR + 50 * p
    assert settlement.balanceOf(schedule) == 0


# ------------------------------------------------------------------ callBond


def test_call(schedule, admin, helpers):
    s = schedule
    call_date = s.couponDate(3)
    p3 = s.couponPerUnit(3)
    tx = s.callBond(call_date, {"from": admin})
    ev = tx.events["BondCalled"]
    assert (ev["callDate"], ev["lastCouponPerUnit"], ev["issuer"]) == (call_date, p3, admin)
    assert s.called() and s.couponCount() == 4 and s.redemptionDate() == call_date
    assert s.couponPerUnit(3) == p3


def test_call_later_coupons_disappear(schedule, admin, payer, alice, revert_with):
    schedule.callBond(schedule.couponDate(3), {"from": admin})
    with revert_with("ScheduleUnknownCoupon", 4):
        schedule.couponDate(4)
    with revert_with("ScheduleUnknownCoupon", 11):
        schedule.fundCoupon(11, {"from": payer})


def test_call_then_redeem_on_call_date(schedule, admin, payer, alice, bob, settlement, helpers, revert_with):
    s = schedule
    call_date = s.couponDate(2)
    s.callBond(call_date, {"from": admin})
    s.fundRedemption({"from": payer})
    helpers.goto(call_date - 3600)
    with revert_with("ScheduleNotMatured", call_date):
        s.redeem({"from": alice})
    helpers.goto(s.recordDate(2))  # already passed; keeps the order of events readable
    for i in range(3):
        s.fundCoupon(i, {"from": payer})
    helpers.goto(call_date)
    assert s.bondStatus() == MATURED
    s.redeem({"from": alice})
    total = s.claimAll({"from": alice}).return_value
    assert total == 100 * sum(s.couponPerUnit(i) for i in range(3))
    assert settlement.balanceOf(alice) == 100 * PAR + total
    s.redeemFor([bob], {"from": payer})
    assert s.bondStatus() == REDEEMED


def test_call_reverts(schedule, admin, payer, helpers, revert_with):
    s = schedule
    with revert_with("AccessControlUnauthorizedAccount", payer, s.DEFAULT_ADMIN_ROLE()):
        s.callBond(s.couponDate(3), {"from": payer})
    # coupon 0 is less than 30 days ahead
    helpers.goto(s.couponDate(0) - s.callNotice() + 60)
    with revert_with("ScheduleBadCall", s.couponDate(0)):
        s.callBond(s.couponDate(0), {"from": admin})
    # not a coupon date
    with revert_with("ScheduleBadCall", s.couponDate(3) + 1):
        s.callBond(s.couponDate(3) + 1, {"from": admin})
    with revert_with("ScheduleBadCall", s.couponDate(3) - 1):
        s.callBond(s.couponDate(3) - 1, {"from": admin})
    # maturity itself, or later
    for d in (s.couponDate(11), s.couponDate(11) + 86_400):
        with revert_with("ScheduleBadCall", d):
            s.callBond(d, {"from": admin})
    s.callBond(s.couponDate(5), {"from": admin})
    with revert_with("ScheduleBadCall", s.couponDate(4)):
        s.callBond(s.couponDate(4), {"from": admin})  # cannot call twice


def test_call_notice(schedule, admin, helpers, revert_with):
    s = schedule
    call_date = s.couponDate(4)
    helpers.goto(call_date - s.callNotice() + 3600)
    with revert_with("ScheduleBadCall", call_date):
        s.callBond(call_date, {"from": admin})
    s.callBond(s.couponDate(5), {"from": admin})


def test_call_record_date_passed(deploy_schedule, bond, admin, helpers, revert_with):
    """With no notice required, the call coupon's record date must still be ahead."""
    s = deploy_schedule(bond, call_notice=0, fund=False)
    helpers.goto(s.recordDate(2))
    with revert_with("ScheduleBadCall", s.couponDate(2)):
        s.callBond(s.couponDate(2), {"from": admin})
    s.callBond(s.couponDate(3), {"from": admin})
    assert s.couponCount() == 4


# ------------------------------------------------------------------ constructor


def test_constructor_validation(CouponSchedule, bond, admin, payer, revert_with):
    for args in ((ZERO_ADDRESS, admin, payer), (bond, ZERO_ADDRESS, payer), (bond, admin, ZERO_ADDRESS)):
        with revert_with("ScheduleInvalidConfig", "address"):
            CouponSchedule.deploy(*args, 32_400, 0, {"from": admin})
    for offset in (-14 * 3600 - 1, 14 * 3600 + 1, 2**31 - 1, -(2**31)):
        with revert_with("ScheduleInvalidConfig", "utcOffset"):
            CouponSchedule.deploy(bond, admin, payer, offset, 0, {"from": admin})
    for offset in (-14 * 3600, 14 * 3600, 0):
        assert CouponSchedule.deploy(bond, admin, payer, offset, 0, {"from": admin}).utcOffset() == offset


def test_deployed_like_deploy_script(hitachi_terms):
    """greenbond.deploy passes the calendar's offset and call_notice_days in seconds."""
    assert hitachi_terms.utc_offset_seconds == 32_400
    assert hitachi_terms.call_notice_days * 86_400 == 30 * 86_400


def test_zero_coupon_bond_cannot_be_called(GreenBond, CouponSchedule, settlement, registry, admin, revert_with):
    now = chain.time()
    maturity = now + 365 * DAY
    terms = ("Zero", "Z", "PLACEHOLDER-ZERO", settlement.address, 1_000_000, 1_000_000 * 10, 0, 0, 1, 0,
             now, maturity, 0, [])
    zero = GreenBond.deploy(terms, registry, admin, {"from": admin})
    schedule = CouponSchedule.deploy(zero, admin, admin, JST, CALL_NOTICE, {"from": admin})
    assert schedule.couponCount() == 0 and schedule.redemptionDate() == maturity
    with revert_with("ScheduleBadCall", now + 2 * CALL_NOTICE):
        schedule.callBond(now + 2 * CALL_NOTICE, {"from": admin})
