"""setAddressFrozen / isFrozen, and partial freezes with their events and limits."""

import pytest


@pytest.fixture(autouse=True)
def setup(holders):
    pass


def test_freeze_address(bond, agent, alice):
    tx = bond.setAddressFrozen(alice, True, {"from": agent})
    assert bond.isFrozen(alice)
    ev = tx.events["AddressFrozen"]
    assert (ev["userAddress"], ev["isFrozen"], ev["owner"]) == (alice, True, agent)


def test_unfreeze_address(bond, agent, alice):
    bond.setAddressFrozen(alice, True, {"from": agent})
    tx = bond.setAddressFrozen(alice, False, {"from": agent})
    assert not bond.isFrozen(alice)
    ev = tx.events["AddressFrozen"]
    assert (ev["userAddress"], ev["isFrozen"], ev["owner"]) == (alice, False, agent)


def test_not_frozen_by_default(bond, alice, outsider):
    assert not bond.isFrozen(alice)
    assert not bond.isFrozen(outsider)


def test_freeze_partial(bond, agent, alice):
    tx = bond.freezePartialTokens(alice, 30, {"from": agent})
    assert bond.getFrozenTokens(alice) == 30
    assert tx.events["TokensFrozen"]["userAddress"] == alice
    assert tx.events["TokensFrozen"]["amount"] == 30
    bond.freezePartialTokens(alice, 70, {"from": agent})
    assert bond.getFrozenTokens(alice) == 100
    assert bond.balanceOf(alice) == 100


def test_freeze_partial_above_free(bond, agent, alice, revert_with):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    with revert_with("GreenBondInsufficientUnlocked", alice, 70, 71):
        bond.freezePartialTokens(alice, 71, {"from": agent})


def test_freeze_partial_releases_escrow_when_needed(bond, admin, agent, alice, carol, revert_with):
    """The agent can always freeze every unfrozen unit: escrowed ones are released first."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 60, "0x", {"from": alice})
    bond.freezePartialTokens(alice, 40, {"from": agent})
    assert bond.escrowedOf(alice) == 60
    tx = bond.freezePartialTokens(alice, 1, {"from": agent})
    assert tx.events["LocksReleased"]["amount"] == 60 and bond.escrowedOf(alice) == 0
    bond.freezePartialTokens(alice, 59, {"from": agent})
    assert bond.getFrozenTokens(alice) == 100
    with revert_with("GreenBondInsufficientUnlocked", alice, 0, 1):
        bond.freezePartialTokens(alice, 1, {"from": agent})


def test_freeze_partial_empty_wallet(bond, agent, carol, revert_with):
    with revert_with("GreenBondInsufficientUnlocked", carol, 0, 1):
        bond.freezePartialTokens(carol, 1, {"from": agent})


def test_unfreeze_partial(bond, agent, alice):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    tx = bond.unfreezePartialTokens(alice, 12, {"from": agent})
    assert bond.getFrozenTokens(alice) == 18
    assert tx.events["TokensUnfrozen"]["userAddress"] == alice
    assert tx.events["TokensUnfrozen"]["amount"] == 12


def test_unfreeze_partial_above_frozen(bond, agent, alice, revert_with):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    with revert_with("GreenBondInsufficientFrozen", alice, 30, 31):
        bond.unfreezePartialTokens(alice, 31, {"from": agent})
    with revert_with("GreenBondInsufficientFrozen", bond, 0, 1):
        bond.unfreezePartialTokens(bond, 1, {"from": agent})


def test_unfrozen_units_move_again(bond, agent, alice, bob):
    bond.freezePartialTokens(alice, 100, {"from": agent})
    bond.unfreezePartialTokens(alice, 10, {"from": agent})
    bond.transfer(bob, 10, {"from": alice})
    assert bond.balanceOf(alice) == 90
    assert bond.getFrozenTokens(alice) == 90


def test_received_units_are_free(bond, agent, alice, bob):
    bond.freezePartialTokens(alice, 100, {"from": agent})
    bond.transfer(alice, 5, {"from": bob})
    bond.transfer(bob, 5, {"from": alice})
    assert bond.getFrozenTokens(alice) == 100
