"""pause / unpause: while paused nothing moves, whoever asks."""

import pytest


@pytest.fixture(autouse=True)
def setup(holders, register, dave):
    register(dave, 1)


def test_pause_events(bond, admin):
    tx = bond.pause({"from": admin})
    assert bond.paused()
    assert tx.events["Paused"]["account"] == admin
    tx = bond.unpause({"from": admin})
    assert not bond.paused()
    assert tx.events["Unpaused"]["account"] == admin


def test_pause_twice(bond, admin, revert_with):
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.pause({"from": admin})


def test_unpause_not_paused(bond, admin, revert_with):
    with revert_with("ExpectedPause"):
        bond.unpause({"from": admin})


def test_nothing_moves_while_paused(bond, admin, agent, alice, bob, carol, dave, revert_with):
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 5, "0x", {"from": alice})
    bond.setTransferApprovalRequired(False, {"from": admin})
    bond.pause({"from": admin})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, "PAUSED"):
        bond.transfer(bob, 1, {"from": alice})
    bond.approve(carol, 1, {"from": alice})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, "PAUSED"):
        bond.transferFrom(alice, bob, 1, {"from": carol})
    with revert_with("EnforcedPause"):
        bond.mint(bob, 1, {"from": agent})
    with revert_with("EnforcedPause"):
        bond.burn(bob, 1, {"from": agent})
    with revert_with("EnforcedPause"):
        bond.forcedTransfer(bob, carol, 1, {"from": agent})
    bond.cancelTransfer(0, {"from": alice})
    with revert_with("EnforcedPause"):
        bond.recoveryAddress(alice, dave, {"from": agent})
    bond.setTransferApprovalRequired(True, {"from": admin})
    with revert_with("GreenBondTransferNotAllowed", alice, carol, 5, "PAUSED"):
        bond.applyForTransfer(carol, 5, "0x", {"from": alice})
    assert (bond.balanceOf(alice), bond.balanceOf(bob), bond.balanceOf(carol)) == (100, 50, 0)
    assert bond.totalSupply() == 150


def test_moves_again_after_unpause(bond, admin, alice, bob):
    bond.pause({"from": admin})
    bond.unpause({"from": admin})
    bond.transfer(bob, 1, {"from": alice})
    assert bond.balanceOf(bob) == 51


def test_freezes_and_cancel_work_while_paused(bond, admin, agent, alice, carol):
    """Pause stops movements only: the agent can still lock units and applicants can still cancel."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 5, "0x", {"from": alice})
    bond.pause({"from": admin})
    bond.freezePartialTokens(alice, 10, {"from": agent})
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.cancelTransfer(0, {"from": alice})
    assert bond.escrowedOf(alice) == 0
    assert bond.getFrozenTokens(alice) == 10
