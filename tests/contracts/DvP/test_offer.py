"""offer: the seller's units are locked in the seller's wallet (escrowedOf grows; the free
balance shrinks; canTransfer says TOKENS_LOCKED), never transferred; bad offers are refused."""

import pytest
from brownie import ZERO_ADDRESS

MAX_OFFER = 30 * 86_400

PRICE = 5_000_000


def test_offer_locks_not_transfers(dvp, bond, alice, bob, expiry_in, py, status, reason):
    exp = expiry_in()
    tx = dvp.offer(bob, 30, PRICE, exp, {"from": alice})
    ev = tx.events["OfferMade"]
    assert (ev["id"], ev["seller"], ev["buyer"], ev["units"], ev["price"], ev["expiry"]) == (0, alice, bob, 30, PRICE, exp)
    assert tx.events["UnitsLocked"]["holder"] == alice and tx.events["UnitsLocked"]["locker"] == dvp
    assert tx.return_value == 0
    assert bond.balanceOf(alice) == 100 and bond.escrowedOf(alice) == 30 and bond.balanceOf(dvp) == 0
    assert py(dvp.trade(0)) == (alice.address, bob.address, ZERO_ADDRESS, 30, exp, status.OPEN, 0, PRICE)
    assert dvp.tradeCount() == 1
    assert bond.canTransfer(alice, bob, 71) == (False, reason("TOKENS_LOCKED"))
    assert bond.canTransfer(alice, bob, 70) == (True, reason("OK"))


def test_locked_units_cannot_move(dvp, bond, alice, bob, carol, agent, expiry_in, revert_with):
    dvp.offer(bob, 60, PRICE, expiry_in(), {"from": alice})
    with revert_with("GreenBondTransferNotAllowed", alice, carol, 41, "TOKENS_LOCKED"):
        bond.transfer(carol, 41, {"from": alice})
    bond.transfer(carol, 40, {"from": alice})  # the free units still move
    with revert_with("GreenBondInsufficientUnlocked", alice, 0, 1):
        dvp.offer(bob, 1, PRICE, expiry_in(), {"from": alice})  # nor can they be locked twice
    # the agent is never stopped by a lock: its burn releases it (and voids the trade)
    tx = bond.burn(alice, 1, {"from": agent})
    assert tx.events["LocksReleased"]["amount"] == 60 and bond.escrowedOf(alice) == 0


def test_offers_add_up(dvp, bond, alice, bob, carol, expiry_in):
    dvp.offer(bob, 30, PRICE, expiry_in(), {"from": alice})
    dvp.offer(ZERO_ADDRESS, 50, PRICE, expiry_in(), {"from": alice})
    assert bond.escrowedOf(alice) == 80 and dvp.tradeCount() == 2


def test_frozen_units_cannot_be_offered(dvp, bond, agent, alice, bob, expiry_in, revert_with):
    bond.freezePartialTokens(alice, 90, {"from": agent})
    with revert_with("GreenBondInsufficientUnlocked", alice, 10, 11):
        dvp.offer(bob, 11, PRICE, expiry_in(), {"from": alice})


@pytest.mark.parametrize("field", ["units", "units_big", "expiry", "buyer"])
def test_bad_offers(dvp, alice, bob, expiry_in, revert_with, field):
    from brownie import web3

    args = {
        "units": (bob, 0, PRICE, expiry_in()),
        "units_big": (bob, 2**96, PRICE, expiry_in()),
        "expiry": (bob, 1, PRICE, web3.eth.get_block("latest")["timestamp"]),  # not after the next block
        "buyer": (alice, 1, PRICE, expiry_in()),
    }[field]
    with revert_with("DvPBadOffer", field.split("_")[0]):
        dvp.offer(*args, {"from": alice})


def test_more_than_held(dvp, alice, bob, expiry_in, revert_with):
    with revert_with("GreenBondInsufficientUnlocked", alice, 100, 101):
        dvp.offer(bob, 101, PRICE, expiry_in(), {"from": alice})


def test_without_locker_role(BondDvP, bond, admin, alice, bob, expiry_in, revert_with):
    d = BondDvP.deploy(bond, MAX_OFFER, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", d, bond.LOCKER_ROLE()):
        d.offer(bob, 1, PRICE, expiry_in(), {"from": alice})


def test_lock_functions_are_locker_only(bond, alice, agent, revert_with):
    role = bond.LOCKER_ROLE()
    for call in (lambda: bond.lockUnits(alice, 1, {"from": agent}),
                 lambda: bond.unlockUnits(alice, 1, 0, {"from": agent}),
                 lambda: bond.transferLocked(alice, agent, 1, 0, {"from": agent})):
        with revert_with("AccessControlUnauthorizedAccount", agent, role):
            call()


def test_unknown_trade(dvp, alice, revert_with):
    with revert_with("DvPUnknownTrade", 7):
        dvp.trade(7)
    with revert_with("DvPUnknownTrade", 0):
        dvp.accept(0, {"from": alice})


def test_zero_bond(BondDvP, admin, revert_with):
    with revert_with("DvPBadOffer", "bond"):
        BondDvP.deploy(ZERO_ADDRESS, MAX_OFFER, {"from": admin})
