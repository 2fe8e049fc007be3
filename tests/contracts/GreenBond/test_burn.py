"""burn: cancels units, unfreezing what the free balance lacks, never touching escrow."""

import pytest
from brownie import ZERO_ADDRESS


@pytest.fixture(autouse=True)
def setup(holders):
    pass


def test_burn(bond, agent, alice):
    tx = bond.burn(alice, 40, {"from": agent})
    assert bond.balanceOf(alice) == 60
    assert bond.totalSupply() == 110
    assert tx.events["Transfer"]["to"] == ZERO_ADDRESS
    assert tx.events["Transfer"]["value"] == 40
    assert "TokensUnfrozen" not in tx.events


def test_burn_whole_balance(bond, agent, alice):
    bond.burn(alice, 100, {"from": agent})
    assert bond.balanceOf(alice) == 0
    assert bond.totalSupply() == 50


def test_burn_more_than_balance(bond, agent, alice, revert_with):
    with revert_with("GreenBondInsufficientUnlocked", alice, 100, 101):
        bond.burn(alice, 101, {"from": agent})


def test_burn_free_units_first(bond, agent, alice):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    tx = bond.burn(alice, 70, {"from": agent})
    assert "TokensUnfrozen" not in tx.events
    assert bond.getFrozenTokens(alice) == 30


def test_burn_unfreezes_shortfall(bond, agent, alice):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    tx = bond.burn(alice, 80, {"from": agent})
    assert tx.events["TokensUnfrozen"]["userAddress"] == alice
    assert tx.events["TokensUnfrozen"]["amount"] == 10
    assert bond.getFrozenTokens(alice) == 20
    assert bond.balanceOf(alice) == 20


def test_burn_frozen_wallet(bond, agent, alice):
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.burn(alice, 1, {"from": agent})
    assert bond.balanceOf(alice) == 99


def test_burn_releases_escrow_only_when_needed(bond, admin, agent, alice, carol, revert_with):
    """A burn within the unescrowed units leaves a pending application alone; one that needs the
    escrowed units releases every escrow of the wallet first (the application reads as released)."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 60, "0x", {"from": alice})
    tx = bond.burn(alice, 40, {"from": agent})
    assert "LocksReleased" not in tx.events and bond.escrowedOf(alice) == 60
    tx = bond.burn(alice, 1, {"from": agent})
    ev = tx.events["LocksReleased"]
    assert (ev["holder"], ev["amount"], ev["generation"], ev["agent"]) == (alice, 60, 1, agent)
    assert bond.balanceOf(alice) == 59 and bond.escrowedOf(alice) == 0
    assert bond.transferApplication(0)["status"] == 4
    with revert_with("GreenBondInsufficientUnlocked", alice, 59, 60):
        bond.burn(alice, 60, {"from": agent})


def test_burn_paused(bond, admin, agent, alice, revert_with):
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.burn(alice, 1, {"from": agent})
    assert bond.balanceOf(alice) == 100
