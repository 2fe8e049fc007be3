"""forcedTransfer: the agent moves units to an eligible wallet, unfreezing what it must."""

import pytest
from brownie import ZERO_ADDRESS

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat


@pytest.fixture(autouse=True)
def setup(holders):
    pass


def test_forced_transfer(bond, agent, alice, carol):
    tx = bond.forcedTransfer(alice, carol, 40, {"from": agent})
    assert tx.return_value is True
    assert bond.balanceOf(alice) == 60
    assert bond.balanceOf(carol) == 40
    ev = tx.events["ForcedTransfer"]
    assert (ev["from"], ev["to"], ev["amount"], ev["agent"]) == (alice, carol, 40, agent)
    assert tx.events["Transfer"]["value"] == 40
    assert "TokensUnfrozen" not in tx.events


def test_forced_transfer_self(bond, agent, alice, revert_with):
    with revert_with("GreenBondSelfTransfer", alice):
        bond.forcedTransfer(alice, alice, 1, {"from": agent})


def test_forced_transfer_zero_receiver(bond, agent, alice, revert_with):
    with revert_with("GreenBondZeroAddress"):
        bond.forcedTransfer(alice, ZERO_ADDRESS, 1, {"from": agent})


def test_forced_transfer_receiver_not_eligible(bond, registry, registrar, agent, alice, bob, outsider, revert_with):
    with revert_with("GreenBondNotEligible", outsider):
        bond.forcedTransfer(alice, outsider, 1, {"from": agent})
    registry.removeHolder(bob, {"from": registrar})
    with revert_with("GreenBondNotEligible", bob):
        bond.forcedTransfer(alice, bob, 1, {"from": agent})


def test_forced_transfer_unfreezes_shortfall(bond, agent, alice, carol):
    bond.freezePartialTokens(alice, 80, {"from": agent})
    tx = bond.forcedTransfer(alice, carol, 50, {"from": agent})
    assert tx.events["TokensUnfrozen"]["userAddress"] == alice
    assert tx.events["TokensUnfrozen"]["amount"] == 30
    assert bond.getFrozenTokens(alice) == 50
    assert bond.balanceOf(alice) == 50


def test_forced_transfer_from_frozen_wallet(bond, agent, alice, carol):
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.forcedTransfer(alice, carol, 100, {"from": agent})
    assert bond.balanceOf(carol) == 100
    assert bond.isFrozen(alice)


def test_forced_transfer_more_than_balance(bond, agent, alice, carol, revert_with):
    with revert_with("GreenBondInsufficientUnlocked", alice, 100, 101):
        bond.forcedTransfer(alice, carol, 101, {"from": agent})


def test_forced_transfer_releases_escrow_when_needed(bond, admin, agent, alice, bob, carol, revert_with):
    """Escrowed units never stop a forced transfer: when it needs them, the wallet's escrows are
    released first (LocksReleased naming the agent); the application can no longer be approved."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(bob, 70, "0x", {"from": alice})
    bond.forcedTransfer(alice, carol, 30, {"from": agent})
    assert bond.escrowedOf(alice) == 70
    tx = bond.forcedTransfer(alice, carol, 70, {"from": agent})
    assert tx.events["LocksReleased"]["agent"] == agent and bond.escrowedOf(alice) == 0
    assert bond.balanceOf(carol) == 100
    with revert_with("GreenBondApplicationNotPending", 0, 4):
        bond.approveTransfer(0, {"from": agent})


def test_forced_transfer_ignores_transfer_switches(bond, admin, agent, alice, carol):
    bond.setTransferable(False, {"from": admin})
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.forcedTransfer(alice, carol, 1, {"from": agent})
    assert bond.balanceOf(carol) == 1


def test_forced_transfer_paused(bond, admin, agent, alice, carol, revert_with):
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.forcedTransfer(alice, carol, 1, {"from": agent})
