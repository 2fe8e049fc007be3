"""recoveryAddress: a lost wallet's units, partial freeze and frozen flag move to the investor's new wallet."""

import pytest


@pytest.fixture(autouse=True)
def setup(holders, register, dave):
    register(dave, 1)  # alice's investor registers a second wallet


def test_recovery_moves_balance(bond, agent, alice, dave):
    tx = bond.recoveryAddress(alice, dave, {"from": agent})
    assert tx.return_value is True
    assert bond.balanceOf(alice) == 0
    assert bond.balanceOf(dave) == 100
    ev = tx.events["RecoverySuccess"]
    assert (ev["lostWallet"], ev["newWallet"]) == (alice, dave)
    assert ev["investorId"] == "0x" + f"{1:064x}"
    assert tx.events["Transfer"]["value"] == 100
    assert "TokensFrozen" not in tx.events
    # the lost wallet is frozen for good (and marked recovered): it never receives again
    ev = tx.events["AddressFrozen"]
    assert (ev["userAddress"], ev["isFrozen"], ev["owner"]) == (alice, True, agent)
    assert bond.isFrozen(alice) and not bond.isFrozen(dave)


def test_lost_wallet_cannot_be_unfrozen(bond, agent, alice, dave, revert_with):
    bond.recoveryAddress(alice, dave, {"from": agent})
    with revert_with("GreenBondWalletRecovered", alice, dave):
        bond.setAddressFrozen(alice, False, {"from": agent})
    bond.setAddressFrozen(alice, True, {"from": agent})   # freezing again changes nothing


def test_recovery_adds_to_existing_balance(bond, agent, alice, dave):
    bond.mint(dave, 5, {"from": agent})
    bond.recoveryAddress(alice, dave, {"from": agent})
    assert bond.balanceOf(dave) == 105


def test_recovery_moves_frozen_tokens(bond, agent, alice, dave):
    bond.freezePartialTokens(alice, 30, {"from": agent})
    tx = bond.recoveryAddress(alice, dave, {"from": agent})
    assert bond.getFrozenTokens(alice) == 0
    assert bond.getFrozenTokens(dave) == 30
    assert tx.events["TokensUnfrozen"]["userAddress"] == alice
    assert tx.events["TokensUnfrozen"]["amount"] == 30
    assert tx.events["TokensFrozen"]["userAddress"] == dave
    assert tx.events["TokensFrozen"]["amount"] == 30


def test_recovery_moves_frozen_flag(bond, agent, alice, dave, bob):
    bond.setAddressFrozen(alice, True, {"from": agent})
    tx = bond.recoveryAddress(alice, dave, {"from": agent})
    assert bond.isFrozen(dave)
    ev = tx.events["AddressFrozen"]
    assert (ev["userAddress"], ev["isFrozen"], ev["owner"]) == (dave, True, agent)
    assert bond.canTransfer(dave, bob, 1)[0] is False


def test_recovery_different_investor(bond, agent, alice, bob, revert_with):
    with revert_with("GreenBondNotSameInvestor", alice, bob):
        bond.recoveryAddress(alice, bob, {"from": agent})


def test_recovery_unregistered_new_wallet(bond, agent, alice, outsider, revert_with):
    with revert_with("GreenBondNotSameInvestor", alice, outsider):
        bond.recoveryAddress(alice, outsider, {"from": agent})


def test_recovery_unregistered_lost_wallet(bond, registry, registrar, agent, alice, dave, revert_with):
    registry.removeHolder(alice, {"from": registrar})
    with revert_with("GreenBondNotSameInvestor", alice, dave):
        bond.recoveryAddress(alice, dave, {"from": agent})


def test_recovery_same_wallet(bond, agent, alice, revert_with):
    with revert_with("GreenBondNotSameInvestor", alice, alice):
        bond.recoveryAddress(alice, alice, {"from": agent})


def test_recovery_expired_new_wallet(bond, register, agent, bob, erin, revert_with):
    from brownie import chain

    register(erin, 2, expires_in=86_400)
    chain.sleep(2 * 86_400)
    with revert_with("GreenBondNotEligible", erin):
        bond.recoveryAddress(bob, erin, {"from": agent})


def test_recovery_of_an_empty_wallet(bond, register, agent, carol, erin, revert_with):
    """A wallet holding no units may still be owed coupons at passed record dates: it can be
    recovered, and is then marked recovered (it never receives again)."""
    register(erin, 3)
    bond.recoveryAddress(carol, erin, {"from": agent})
    assert bond.successorOf(carol) == erin and bond.successorOf(erin) == erin
    with revert_with("GreenBondWalletRecovered", carol, erin):
        bond.recoveryAddress(carol, erin, {"from": agent})


def test_recovery_releases_pending_escrow(bond, admin, agent, alice, bob, dave):
    """A pending application no longer blocks recovery: its escrow is released (LocksReleased)
    and the application reads as released (4)."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(bob, 10, "0x", {"from": alice})
    tx = bond.recoveryAddress(alice, dave, {"from": agent})
    assert tx.events["LocksReleased"]["amount"] == 10
    assert bond.balanceOf(dave) == 100 and bond.escrowedOf(alice) == 0
    assert bond.transferApplication(0)["status"] == 4


def test_recovery_paused(bond, admin, agent, alice, dave, revert_with):
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.recoveryAddress(alice, dave, {"from": agent})
