"""ibet-style transfer approval: apply (escrow), approve (units move), cancel (escrow released)."""

import pytest

PENDING, APPROVED, CANCELLED = 1, 2, 3


@pytest.fixture(autouse=True)
def setup(holders, bond, admin):
    bond.setTransferApprovalRequired(True, {"from": admin})


def test_apply_requires_approval_mode(bond, admin, alice, bob, revert_with):
    bond.setTransferApprovalRequired(False, {"from": admin})
    with revert_with("GreenBondApprovalNotRequired"):
        bond.applyForTransfer(bob, 1, "0x", {"from": alice})


def test_apply_escrows(bond, alice, bob):
    tx = bond.applyForTransfer(bob, 30, "0xc0ffee", {"from": alice})
    assert tx.return_value == 0
    assert bond.escrowedOf(alice) == 30
    assert bond.balanceOf(alice) == 100
    assert bond.balanceOf(bob) == 50
    ev = tx.events["TransferApplied"]
    assert (ev["id"], ev["from"], ev["to"], ev["amount"]) == (0, alice, bob, 30)
    assert ev["data"] == "0xc0ffee"
    app = bond.transferApplication(0)
    assert (app[0], app[1], app[2], app[3]) == (alice, bob, 30, PENDING)
    assert app[4] == "0xc0ffee"
    assert bond.transferApplicationCount() == 1


def test_apply_ids_increment(bond, alice, bob, carol):
    assert bond.applyForTransfer(bob, 1, "0x", {"from": alice}).return_value == 0
    assert bond.applyForTransfer(carol, 2, "0x", {"from": bob}).return_value == 1
    assert bond.applyForTransfer(carol, 3, "0x", {"from": alice}).return_value == 2
    assert bond.transferApplicationCount() == 3
    assert bond.escrowedOf(alice) == 4
    assert bond.escrowedOf(bob) == 2


def test_apply_checks_rules(bond, agent, alice, bob, outsider, revert_with):
    with revert_with("GreenBondTransferNotAllowed", alice, outsider, 1, "RECEIVER_NOT_ELIGIBLE"):
        bond.applyForTransfer(outsider, 1, "0x", {"from": alice})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 101, "INSUFFICIENT_BALANCE"):
        bond.applyForTransfer(bob, 101, "0x", {"from": alice})
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, "SENDER_FROZEN"):
        bond.applyForTransfer(bob, 1, "0x", {"from": alice})


def test_apply_cannot_reuse_escrow(bond, alice, bob, carol, revert_with):
    bond.applyForTransfer(bob, 60, "0x", {"from": alice})
    with revert_with("GreenBondTransferNotAllowed", alice, carol, 41, "TOKENS_LOCKED"):
        bond.applyForTransfer(carol, 41, "0x", {"from": alice})
    bond.applyForTransfer(carol, 40, "0x", {"from": alice})


def test_apply_not_transferable(bond, admin, alice, bob, revert_with):
    bond.setTransferable(False, {"from": admin})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, "NOT_TRANSFERABLE"):
        bond.applyForTransfer(bob, 1, "0x", {"from": alice})


def test_approve(bond, agent, alice, bob):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    tx = bond.approveTransfer(0, {"from": agent})
    assert bond.balanceOf(alice) == 70
    assert bond.balanceOf(bob) == 80
    assert bond.escrowedOf(alice) == 0
    assert bond.transferApplication(0)[3] == APPROVED
    assert tx.events["TransferApproved"]["id"] == 0
    assert tx.events["TransferApproved"]["agent"] == agent
    assert tx.events["Transfer"]["value"] == 30


def test_approve_by_issuer(bond, admin, alice, bob):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.approveTransfer(0, {"from": admin})
    assert bond.balanceOf(bob) == 80


def test_approve_after_approval_switched_off(bond, admin, agent, alice, bob):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.setTransferApprovalRequired(False, {"from": admin})
    bond.approveTransfer(0, {"from": agent})
    assert bond.balanceOf(bob) == 80


def test_approve_rechecks_receiver(bond, registry, registrar, agent, alice, bob, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    registry.removeHolder(bob, {"from": registrar})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "RECEIVER_NOT_ELIGIBLE"):
        bond.approveTransfer(0, {"from": agent})
    assert bond.transferApplication(0)[3] == PENDING
    assert bond.escrowedOf(alice) == 30


def test_approve_rechecks_frozen(bond, agent, alice, bob, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "SENDER_FROZEN"):
        bond.approveTransfer(0, {"from": agent})
    bond.setAddressFrozen(alice, False, {"from": agent})
    bond.setAddressFrozen(bob, True, {"from": agent})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "RECEIVER_FROZEN"):
        bond.approveTransfer(0, {"from": agent})


def test_approve_paused(bond, admin, agent, alice, bob, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.pause({"from": admin})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "PAUSED"):
        bond.approveTransfer(0, {"from": agent})


def test_approve_twice(bond, agent, alice, bob, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.approveTransfer(0, {"from": agent})
    with revert_with("GreenBondApplicationNotPending", 0, APPROVED):
        bond.approveTransfer(0, {"from": agent})
    with revert_with("GreenBondApplicationNotPending", 0, APPROVED):
        bond.cancelTransfer(0, {"from": alice})


def test_unknown_application(bond, agent, alice, revert_with):
    with revert_with("GreenBondUnknownApplication", 0):
        bond.approveTransfer(0, {"from": agent})
    with revert_with("GreenBondUnknownApplication", 0):
        bond.cancelTransfer(0, {"from": alice})
    with revert_with("GreenBondUnknownApplication", 0):
        bond.transferApplication(0)
    bond.applyForTransfer(alice, 1, "0x", {"from": alice})
    with revert_with("GreenBondUnknownApplication", 1):
        bond.approveTransfer(1, {"from": agent})


def test_cancel_by_applicant(bond, alice, bob):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    tx = bond.cancelTransfer(0, {"from": alice})
    assert bond.escrowedOf(alice) == 0
    assert bond.balanceOf(alice) == 100
    assert bond.balanceOf(bob) == 50
    assert bond.transferApplication(0)[3] == CANCELLED
    assert tx.events["TransferCancelled"]["id"] == 0
    assert tx.events["TransferCancelled"]["by"] == alice


def test_cancel_by_agent(bond, agent, alice, bob):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    tx = bond.cancelTransfer(0, {"from": agent})
    assert bond.escrowedOf(alice) == 0
    assert tx.events["TransferCancelled"]["by"] == agent


def test_cancel_by_others(bond, admin, alice, bob, outsider, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    with revert_with("GreenBondNotApplicantOrAgent", 0, bob):
        bond.cancelTransfer(0, {"from": bob})
    with revert_with("GreenBondNotApplicantOrAgent", 0, outsider):
        bond.cancelTransfer(0, {"from": outsider})


def test_cancel_twice(bond, agent, alice, bob, revert_with):
    bond.applyForTransfer(bob, 30, "0x", {"from": alice})
    bond.cancelTransfer(0, {"from": alice})
    with revert_with("GreenBondApplicationNotPending", 0, CANCELLED):
        bond.cancelTransfer(0, {"from": alice})
    with revert_with("GreenBondApplicationNotPending", 0, CANCELLED):
        bond.approveTransfer(0, {"from": agent})


def test_cancel_releases_for_new_application(bond, alice, bob, carol):
    bond.applyForTransfer(bob, 100, "0x", {"from": alice})
    bond.cancelTransfer(0, {"from": alice})
    bond.applyForTransfer(carol, 100, "0x", {"from": alice})
    assert bond.escrowedOf(alice) == 100


def test_approve_one_of_several(bond, agent, alice, bob, carol):
    bond.applyForTransfer(bob, 10, "0x", {"from": alice})
    bond.applyForTransfer(carol, 20, "0x", {"from": alice})
    bond.approveTransfer(1, {"from": agent})
    assert bond.escrowedOf(alice) == 10
    assert bond.balanceOf(carol) == 20
    bond.cancelTransfer(0, {"from": alice})
    assert bond.escrowedOf(alice) == 0
    assert bond.balanceOf(alice) == 80
