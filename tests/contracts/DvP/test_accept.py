"""accept: both legs in one transaction, both parties checked by the bond's own rules; any
failure reverts the whole accept (the buyer keeps the cash, the seller the units, still locked)."""

import pytest
from brownie import ZERO_ADDRESS

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

PRICE = 5_000_000


@pytest.fixture
def named(dvp, alice, bob, expiry_in):
    """Trade 0: alice offers 30 units to bob for PRICE, expiring in a day."""
    exp = expiry_in()
    dvp.offer(bob, 30, PRICE, exp, {"from": alice})
    return exp


@pytest.fixture
def open_offer(dvp, alice, expiry_in):
    """Trade 0: alice offers 30 units to any eligible buyer for PRICE."""
    exp = expiry_in()
    dvp.offer(ZERO_ADDRESS, 30, PRICE, exp, {"from": alice})
    return exp


def test_named_buyer_accepts(dvp, named, bond, alice, bob, legs, status):
    (ac, au, _), (bc, bu, _), dc = legs(alice, bob)
    tx = dvp.accept(0, {"from": bob})
    assert tx.events["OfferAccepted"]["buyer"] == bob and tx.events["OfferAccepted"]["pendingApproval"] is False
    ev = tx.events["TradeSettled"]
    assert (ev["id"], ev["seller"], ev["buyer"], ev["units"], ev["price"]) == (0, alice, bob, 30, PRICE)
    assert legs(alice, bob) == [(ac + PRICE, au - 30, 0), (bc - PRICE, bu + 30, 0), dc]
    t = dvp.trade(0)
    assert t["status"] == status.SETTLED and t["acceptedBy"] == bob


def test_anyone_eligible_accepts_an_open_offer(dvp, open_offer, alice, carol, legs, status):
    (ac, au, _), (cc, cu, _), dc = legs(alice, carol)
    dvp.accept(0, {"from": carol})
    assert legs(alice, carol) == [(ac + PRICE, au - 30, 0), (cc - PRICE, cu + 30, 0), dc]
    assert dvp.trade(0)["status"] == status.SETTLED


def test_wrong_buyer(dvp, named, carol, legs, alice, bob, revert_with):
    before = legs(alice, bob, carol)
    with revert_with("DvPNotBuyer", 0, carol):
        dvp.accept(0, {"from": carol})
    assert legs(alice, bob, carol) == before


def test_seller_cannot_accept_own_open_offer(dvp, open_offer, alice, revert_with):
    with revert_with("DvPNotBuyer", 0, alice):
        dvp.accept(0, {"from": alice})


def test_ineligible_buyer_rejected_by_the_bond(dvp, open_offer, settlement, admin, outsider, alice, legs, revert_with, status):
    settlement.mint(outsider, 10**9, {"from": admin})
    settlement.approve(dvp, 2**256 - 1, {"from": outsider})
    before = legs(alice, outsider)
    with revert_with("GreenBondTransferNotAllowed", alice, outsider, 30, "RECEIVER_NOT_ELIGIBLE"):
        dvp.accept(0, {"from": outsider})
    assert legs(alice, outsider) == before  # outsider keeps the cash, alice the (still locked) units
    assert before[0][2] == 30 and dvp.trade(0)["status"] == status.OPEN


def test_named_buyer_who_lost_eligibility(dvp, named, registry, registrar, alice, bob, legs, revert_with):
    registry.removeHolder(bob, {"from": registrar})
    before = legs(alice, bob)
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "RECEIVER_NOT_ELIGIBLE"):
        dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == before


def test_after_expiry(dvp, named, go, bob, alice, legs, revert_with):
    go(named)
    before = legs(alice, bob)
    with revert_with("DvPExpired", 0, named):
        dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == before


def test_accept_twice(dvp, named, bob, carol, revert_with, status):
    dvp.accept(0, {"from": bob})
    with revert_with("DvPWrongStatus", 0, status.SETTLED):
        dvp.accept(0, {"from": bob})


def test_buyer_without_allowance(dvp, named, settlement, alice, bob, legs, revert_with):
    settlement.approve(dvp, PRICE - 1, {"from": bob})
    before = legs(alice, bob)
    with revert_with("ERC20InsufficientAllowance", dvp, PRICE - 1, PRICE):
        dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == before


def test_paused_bond(dvp, named, bond, admin, alice, bob, legs, revert_with, status):
    bond.pause({"from": admin})
    before = legs(alice, bob)
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "PAUSED"):
        dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == before and dvp.trade(0)["status"] == status.OPEN
    bond.unpause({"from": admin})
    dvp.accept(0, {"from": bob})
    assert bond.balanceOf(bob) == 80


@pytest.mark.parametrize("who,code", [("seller", "SENDER_FROZEN"), ("buyer", "RECEIVER_FROZEN")])
def test_frozen_party(dvp, named, bond, agent, alice, bob, legs, revert_with, who, code):
    bond.setAddressFrozen(alice if who == "seller" else bob, True, {"from": agent})
    before = legs(alice, bob)
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, code):
        dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == before


def test_not_transferable(dvp, named, bond, admin, alice, bob, revert_with):
    bond.setTransferable(False, {"from": admin})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "NOT_TRANSFERABLE"):
        dvp.accept(0, {"from": bob})


def test_zero_price_offer_moves_units_only(dvp, alice, bob, expiry_in, legs):
    dvp.offer(bob, 5, 0, expiry_in(), {"from": alice})
    (ac, au, _), (bc, bu, _), dc = legs(alice, bob)
    dvp.accept(0, {"from": bob})
    assert legs(alice, bob) == [(ac, au - 5, 0), (bc, bu + 5, 0), dc]
