"""Underwritten offerings: the underwriter takes the units not sold at the issue price, paying
the issuer; best-efforts offerings have no underwriter leg."""

import pytest
from brownie import ZERO_ADDRESS

PAR = 1_000_000


@pytest.fixture
def underwritten(make_offering, underwriter, go, admin, alice, bob):
    """600 offered, underwritten by erin; alice 250 + bob 150 = 400 subscribed; allotted."""
    o, t = make_offering(underwriter=underwriter)
    go(t["openTime"])
    o.subscribe(250, {"from": alice})
    o.subscribe(150, {"from": bob})
    go(t["closeTime"])
    tx = o.allot({"from": admin})
    assert tx.events["Allotted"]["underwriterUnits"] == 200
    return o, t


def test_underwriter_takes_the_rest(underwritten, go, settlement, bond, underwriter, issuer_wallet, alice, bob, outsider, states):
    o, t = underwritten
    assert o.underwriterUnits() == 200
    go(t["settlementDate"])
    o.settle([alice, bob], {"from": outsider})
    assert o.state() == states.ALLOTTED  # the underwriter's leg is still open
    cash_uw = settlement.balanceOf(underwriter)
    tx = o.settleUnderwriter({"from": outsider})
    ev = tx.events["UnderwriterSettled"]
    assert (ev["underwriter"], ev["units"], ev["paid"]) == (underwriter, 200, 200 * PAR)
    assert bond.balanceOf(underwriter) == 200
    assert settlement.balanceOf(underwriter) == cash_uw - 200 * PAR
    assert settlement.balanceOf(issuer_wallet) == 600 * PAR
    assert settlement.balanceOf(o) == 0
    assert o.state() == states.SETTLED
    assert tx.events["OfferingSettled"]["unitsIssued"] == 600
    assert o.cashRaised() == 600 * PAR


def test_underwriter_first_then_investors(underwritten, go, bond, underwriter, alice, bob, states):
    o, t = underwritten
    go(t["settlementDate"])
    tx = o.settleUnderwriter({"from": underwriter})
    assert "OfferingSettled" not in tx.events and o.state() == states.ALLOTTED
    o.settle([alice, bob], {"from": alice})
    assert o.state() == states.SETTLED
    assert bond.totalSupply() == 600


def test_underwriter_twice(underwritten, go, alice, bob, underwriter, revert_with, states):
    o, t = underwritten
    go(t["settlementDate"])
    o.settleUnderwriter({"from": underwriter})
    with revert_with("OfferingNothingToRefund", underwriter):
        o.settleUnderwriter({"from": underwriter})
    o.settle([alice, bob], {"from": alice})
    with revert_with("OfferingWrongState", states.SETTLED):
        o.settleUnderwriter({"from": underwriter})


def test_underwriter_too_early(underwritten, underwriter, revert_with):
    o, t = underwritten
    with revert_with("OfferingTooEarly", t["settlementDate"]):
        o.settleUnderwriter({"from": underwriter})


def test_underwriter_before_allotment(make_offering, underwriter, go, revert_with, states):
    o, t = make_offering(underwriter=underwriter)
    go(t["closeTime"])
    with revert_with("OfferingWrongState", states.CLOSED):
        o.settleUnderwriter({"from": underwriter})


def test_underwriter_without_cash_reverts_and_nothing_moves(underwritten, go, settlement, bond, underwriter, alice, revert_with):
    o, t = underwritten
    settlement.approve(o, 0, {"from": underwriter})
    go(t["settlementDate"])
    with revert_with("ERC20InsufficientAllowance", o, 0, 200 * PAR):
        o.settleUnderwriter({"from": alice})
    assert bond.balanceOf(underwriter) == 0 and o.underwriterUnits() == 200


def test_underwriter_takes_everything_when_nobody_subscribed(make_offering, underwriter, go, admin, bond, issuer_wallet, settlement, states):
    o, t = make_offering(underwriter=underwriter)
    go(t["closeTime"])
    o.allot({"from": admin})
    assert o.underwriterUnits() == 600 and o.state() == states.ALLOTTED
    go(t["settlementDate"])
    o.settleUnderwriter({"from": admin})
    assert bond.balanceOf(underwriter) == 600 and settlement.balanceOf(issuer_wallet) == 600 * PAR
    assert o.state() == states.SETTLED


def test_oversubscribed_underwritten_offering_owes_the_underwriter_nothing_extra(make_offering, underwriter, go, admin, alice, bob, carol):
    o, t = make_offering(underwriter=underwriter)
    go(t["openTime"])
    for who, units in ((alice, 500), (bob, 300), (carol, 200)):
        o.subscribe(units, {"from": who})
    go(t["closeTime"])
    o.allot({"from": admin})
    assert o.underwriterUnits() == 0  # 300/180/120 sum to 600 exactly: nothing unsold


def test_best_efforts_has_no_underwriter_leg(offering, go, admin, alice, revert_with, states):
    o, t = offering
    go(t["openTime"])
    o.subscribe(100, {"from": alice})
    go(t["closeTime"])
    o.allot({"from": admin})
    go(t["settlementDate"])
    assert o.underwriterUnits() == 0
    with revert_with("OfferingNothingToRefund", ZERO_ADDRESS):
        o.settleUnderwriter({"from": admin})
    o.settle([alice], {"from": alice})
    assert o.state() == states.SETTLED
