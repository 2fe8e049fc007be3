"""For many (from, to, amount) combinations, canTransfer predicts exactly what transfer does."""

import itertools

import pytest
from brownie.exceptions import VirtualMachineError


@pytest.mark.long
def test_can_transfer_agrees_with_transfer(bond, holders, registry, registrar, agent, admin, alice, bob, carol,
                                          dave, outsider, reason, error_msg):
    bond.freezePartialTokens(bob, 20, {"from": agent})
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(carol, 10, "0x", {"from": bob})
    bond.setTransferApprovalRequired(False, {"from": admin})
    bond.setAddressFrozen(carol, True, {"from": agent})
    wallets = [alice, bob, carol, dave, outsider]
    checked = 0
    for sender, receiver, amount in itertools.product(wallets, wallets, [0, 1, 20, 50, 101]):
        allowed, code = bond.canTransfer(sender, receiver, amount)
        before = (bond.balanceOf(sender), bond.balanceOf(receiver))
        if allowed:
            assert code == reason("OK")
            bond.transfer(receiver, amount, {"from": sender})
            if sender != receiver:
                assert bond.balanceOf(sender) == before[0] - amount
                assert bond.balanceOf(receiver) == before[1] + amount
            if sender != receiver and amount:
                # put the units back so later combinations see the same state
                bond.forcedTransfer(receiver, sender, amount, {"from": agent})
        else:
            try:
                bond.transfer(receiver, amount, {"from": sender})
            except VirtualMachineError as e:
                assert e.revert_msg == error_msg(
                    "GreenBondTransferNotAllowed", sender, receiver, amount, bytes(code)
                )
            else:
                raise AssertionError(f"transfer {sender} -> {receiver} {amount} succeeded against canTransfer")
        checked += 1
    assert checked == 125
