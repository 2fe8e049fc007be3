"""cancel (seller while open; seller or buyer while pending approval) and expire (anyone, after
the expiry): the units are released and a buyer who paid is refunded; nothing twice."""

import pytest
from brownie import ZERO_ADDRESS

PRICE = 5_000_000


@pytest.fixture
def trade(dvp, alice, bob, expiry_in):
    exp = expiry_in()
    dvp.offer(bob, 30, PRICE, exp, {"from": alice})
    return exp


@pytest.fixture
def pending(trade, dvp, bond, admin, bob):
    bond.setTransferApprovalRequired(True, {"from": admin})
    dvp.accept(0, {"from": bob})
    return trade


def test_seller_cancels_open(dvp, trade, bond, alice, bob, legs, status):
    before = legs(alice, bob)
    tx = dvp.cancel(0, {"from": alice})
    assert tx.events["OfferCancelled"]["by"] == alice
    assert bond.escrowedOf(alice) == 0
    assert legs(alice, bob)[1:] == before[1:] and legs(alice)[0][:2] == before[0][:2]
    assert dvp.trade(0)["status"] == status.CANCELLED
    bond.transfer(bob, 100, {"from": alice})  # everything free again


@pytest.mark.parametrize("who", ["buyer", "other"])
def test_others_cannot_cancel_open(dvp, trade, bob, carol, revert_with, who):
    caller = bob if who == "buyer" else carol
    with revert_with("DvPNotSeller", 0, caller):
        dvp.cancel(0, {"from": caller})


@pytest.mark.parametrize("who", ["seller", "buyer"])
def test_cancel_pending_refunds_buyer(dvp, pending, bond, alice, bob, legs, status, who):
    (ac, au, al), (bc, bu, _), dc = legs(alice, bob)
    assert dc == PRICE and al == 30
    dvp.cancel(0, {"from": alice if who == "seller" else bob})
    assert legs(alice, bob) == [(ac, au, 0), (bc + PRICE, bu, 0), 0]
    assert dvp.trade(0)["status"] == status.CANCELLED and dvp.trade(0)["acceptedBy"] == ZERO_ADDRESS


def test_others_cannot_cancel_pending(dvp, pending, carol, revert_with):
    with revert_with("DvPNotSeller", 0, carol):
        dvp.cancel(0, {"from": carol})


def test_cancel_after_the_end(dvp, trade, alice, bob, revert_with, status):
    dvp.accept(0, {"from": bob})
    with revert_with("DvPWrongStatus", 0, status.SETTLED):
        dvp.cancel(0, {"from": alice})
    dvp.offer(bob, 1, PRICE, trade, {"from": alice})
    dvp.cancel(1, {"from": alice})
    with revert_with("DvPWrongStatus", 1, status.CANCELLED):
        dvp.cancel(1, {"from": alice})


def test_expire_before_expiry(dvp, trade, carol, revert_with):
    with revert_with("DvPNotExpired", 0, trade):
        dvp.expire(0, {"from": carol})


def test_expire_open_releases_units(dvp, trade, go, bond, alice, bob, carol, legs, status):
    go(trade)
    before = legs(alice, bob)
    tx = dvp.expire(0, {"from": carol})  # anyone
    assert tx.events["OfferExpired"]["id"] == 0
    assert bond.escrowedOf(alice) == 0
    assert legs(alice, bob) == [(before[0][0], before[0][1], 0), before[1], before[2]]
    assert dvp.trade(0)["status"] == status.EXPIRED


def test_expire_pending_refunds_buyer(dvp, pending, go, alice, bob, carol, legs, status, revert_with):
    go(pending)
    (ac, au, _), (bc, bu, _), dc = legs(alice, bob)
    dvp.expire(0, {"from": carol})
    assert legs(alice, bob) == [(ac, au, 0), (bc + PRICE, bu, 0), 0]
    with revert_with("DvPWrongStatus", 0, status.EXPIRED):
        dvp.expire(0, {"from": carol})
    with revert_with("DvPWrongStatus", 0, status.EXPIRED):
        dvp.cancel(0, {"from": alice})


def test_expired_open_offer_may_still_be_cancelled_by_seller(dvp, trade, go, alice, bond, status):
    go(trade)
    dvp.cancel(0, {"from": alice})
    assert bond.escrowedOf(alice) == 0 and dvp.trade(0)["status"] == status.CANCELLED


def test_one_trade_unwinds_only_its_own_units(dvp, alice, bob, carol, expiry_in, bond):
    dvp.offer(bob, 30, PRICE, expiry_in(), {"from": alice})
    dvp.offer(carol, 20, PRICE, expiry_in(), {"from": alice})
    dvp.cancel(0, {"from": alice})
    assert bond.escrowedOf(alice) == 20
    dvp.accept(1, {"from": carol})
    assert bond.escrowedOf(alice) == 0 and bond.balanceOf(alice) == 80
