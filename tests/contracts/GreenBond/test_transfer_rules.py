"""canTransfer reason codes, and transfer/transferFrom reverting with the same reason."""

import pytest
from brownie import ZERO_ADDRESS, chain

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

DAY = 86_400


@pytest.fixture(autouse=True)
def setup(holders):
    pass


def assert_blocked(bond, sender, receiver, amount, code, reason, revert_with):
    """canTransfer gives `code`, and both transfer and transferFrom revert with it."""
    assert bond.canTransfer(sender, receiver, amount) == (False, reason(code))
    with revert_with("GreenBondTransferNotAllowed", sender, receiver, amount, code):
        bond.transfer(receiver, amount, {"from": sender})
    bond.approve(receiver, amount, {"from": sender})
    with revert_with("GreenBondTransferNotAllowed", sender, receiver, amount, code):
        bond.transferFrom(sender, receiver, amount, {"from": receiver})


def test_ok(bond, alice, bob, reason):
    assert bond.canTransfer(alice, bob, 100) == (True, reason("OK"))
    bond.transfer(bob, 100, {"from": alice})
    assert bond.balanceOf(alice) == 0
    assert bond.balanceOf(bob) == 150


def test_ok_transfer_from(bond, alice, bob, carol, reason):
    bond.approve(carol, 30, {"from": alice})
    bond.transferFrom(alice, bob, 30, {"from": carol})
    assert bond.balanceOf(bob) == 80
    assert bond.allowance(alice, carol) == 0


def test_transfer_from_needs_allowance(bond, alice, bob, carol, revert_with):
    with revert_with("ERC20InsufficientAllowance", carol, 0, 1):
        bond.transferFrom(alice, bob, 1, {"from": carol})


def test_paused(bond, admin, alice, bob, reason, revert_with):
    bond.pause({"from": admin})
    assert_blocked(bond, alice, bob, 1, "PAUSED", reason, revert_with)


def test_not_transferable(bond, admin, alice, bob, reason, revert_with):
    bond.setTransferable(False, {"from": admin})
    assert_blocked(bond, alice, bob, 1, "NOT_TRANSFERABLE", reason, revert_with)


def test_approval_required(bond, admin, alice, bob, reason, revert_with):
    bond.setTransferApprovalRequired(True, {"from": admin})
    assert_blocked(bond, alice, bob, 1, "APPROVAL_REQUIRED", reason, revert_with)


def test_zero_address_receiver(bond, alice, reason, revert_with):
    assert bond.canTransfer(alice, ZERO_ADDRESS, 1) == (False, reason("ZERO_ADDRESS"))
    with revert_with("GreenBondTransferNotAllowed", alice, ZERO_ADDRESS, 1, "ZERO_ADDRESS"):
        bond.transfer(ZERO_ADDRESS, 1, {"from": alice})


def test_zero_address_sender(bond, alice, reason):
    assert bond.canTransfer(ZERO_ADDRESS, alice, 1) == (False, reason("ZERO_ADDRESS"))


def test_sender_frozen(bond, agent, alice, bob, reason, revert_with):
    bond.setAddressFrozen(alice, True, {"from": agent})
    assert_blocked(bond, alice, bob, 1, "SENDER_FROZEN", reason, revert_with)


def test_receiver_frozen(bond, agent, alice, bob, reason, revert_with):
    bond.setAddressFrozen(bob, True, {"from": agent})
    assert_blocked(bond, alice, bob, 1, "RECEIVER_FROZEN", reason, revert_with)


def test_unfrozen_sender_may_transfer_again(bond, agent, alice, bob, reason):
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.setAddressFrozen(alice, False, {"from": agent})
    assert bond.canTransfer(alice, bob, 1) == (True, reason("OK"))
    bond.transfer(bob, 1, {"from": alice})


def test_receiver_unregistered(bond, alice, outsider, reason, revert_with):
    assert_blocked(bond, alice, outsider, 1, "RECEIVER_NOT_ELIGIBLE", reason, revert_with)


def test_receiver_removed(bond, registry, registrar, alice, bob, reason, revert_with):
    registry.removeHolder(bob, {"from": registrar})
    assert_blocked(bond, alice, bob, 1, "RECEIVER_NOT_ELIGIBLE", reason, revert_with)


def test_removed_holder_keeps_units_and_may_send(bond, registry, registrar, alice, bob, reason):
    registry.removeHolder(bob, {"from": registrar})
    assert bond.balanceOf(bob) == 50
    assert bond.canTransfer(bob, alice, 50) == (True, reason("OK"))
    bond.transfer(alice, 50, {"from": bob})
    assert bond.balanceOf(alice) == 150


def test_receiver_expired(bond, register, alice, dave, reason, revert_with):
    register(dave, 4, expires_in=10 * DAY)
    assert bond.canTransfer(alice, dave, 1) == (True, reason("OK"))
    chain.sleep(11 * DAY)
    chain.mine()
    assert_blocked(bond, alice, dave, 1, "RECEIVER_NOT_ELIGIBLE", reason, revert_with)


def test_insufficient_balance(bond, alice, bob, reason, revert_with):
    assert_blocked(bond, alice, bob, 101, "INSUFFICIENT_BALANCE", reason, revert_with)


def test_insufficient_balance_empty_sender(bond, carol, bob, reason, revert_with):
    assert_blocked(bond, carol, bob, 1, "INSUFFICIENT_BALANCE", reason, revert_with)


def test_tokens_locked_by_partial_freeze(bond, agent, alice, bob, reason, revert_with):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    assert bond.canTransfer(alice, bob, 70) == (True, reason("OK"))
    assert_blocked(bond, alice, bob, 71, "TOKENS_LOCKED", reason, revert_with)


def test_tokens_locked_by_escrow(bond, admin, agent, alice, bob, carol, reason, revert_with):
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 60, "0x", {"from": alice})
    bond.setTransferApprovalRequired(False, {"from": admin})
    assert bond.canTransfer(alice, bob, 40) == (True, reason("OK"))
    assert_blocked(bond, alice, bob, 41, "TOKENS_LOCKED", reason, revert_with)


def test_rule_order(bond, admin, agent, alice, outsider, reason):
    """The first broken rule is the one reported."""
    bond.setAddressFrozen(alice, True, {"from": agent})
    assert bond.canTransfer(alice, outsider, 1000)[1] == reason("SENDER_FROZEN")
    bond.setTransferApprovalRequired(True, {"from": admin})
    assert bond.canTransfer(alice, outsider, 1000)[1] == reason("APPROVAL_REQUIRED")
    bond.setTransferable(False, {"from": admin})
    assert bond.canTransfer(alice, outsider, 1000)[1] == reason("NOT_TRANSFERABLE")
    bond.pause({"from": admin})
    assert bond.canTransfer(alice, outsider, 1000)[1] == reason("PAUSED")


def test_zero_amount_transfer(bond, alice, carol, reason):
    assert bond.canTransfer(alice, carol, 0) == (True, reason("OK"))
    bond.transfer(carol, 0, {"from": alice})
    assert bond.balanceOf(carol) == 0
