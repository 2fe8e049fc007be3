"""A transfer-approval bond: accepting pays into the DvP (PendingApproval) and moves nothing else;
an agent of the bond approves (both legs move) or rejects (everything returns)."""

import pytest

PRICE = 5_000_000


@pytest.fixture
def pending(dvp, bond, admin, alice, bob, expiry_in, legs):
    exp = expiry_in()
    bond.setTransferApprovalRequired(True, {"from": admin})
    dvp.offer(bob, 30, PRICE, exp, {"from": alice})
    before = legs(alice, bob)
    tx = dvp.accept(0, {"from": bob})
    assert tx.events["OfferAccepted"]["pendingApproval"] is True
    assert "TradeSettled" not in tx.events
    return exp, before


def test_accept_holds_cash_in_the_dvp(dvp, pending, alice, bob, legs, status):
    _, ((ac, au, al), (bc, bu, bl), dc) = pending
    assert legs(alice, bob) == [(ac, au, al), (bc - PRICE, bu, bl), dc + PRICE]
    assert dvp.trade(0)["status"] == status.PENDING and dvp.trade(0)["acceptedBy"] == bob


def test_agent_approves(dvp, pending, agent, alice, bob, legs, status):
    _, ((ac, au, _), (bc, bu, _), dc) = pending
    tx = dvp.approve(0, {"from": agent})
    assert tx.events["TradeSettled"]["units"] == 30
    assert legs(alice, bob) == [(ac + PRICE, au - 30, 0), (bc - PRICE, bu + 30, 0), dc]
    assert dvp.trade(0)["status"] == status.SETTLED


def test_agent_rejects(dvp, pending, agent, alice, bob, legs, status):
    _, before = pending
    tx = dvp.reject(0, {"from": agent})
    assert tx.events["TradeRejected"]["agent"] == agent
    assert legs(alice, bob) == [(before[0][0], before[0][1], 0), before[1], before[2]]
    assert dvp.trade(0)["status"] == status.CANCELLED


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_non_agent(dvp, pending, alice, bob, carol, action, revert_with):
    for who in (alice, bob, carol):
        with revert_with("DvPNotAgent", who):
            getattr(dvp, action)(0, {"from": who})


def test_approve_or_reject_only_pending(dvp, bond, admin, agent, alice, bob, expiry_in, revert_with, status):
    dvp.offer(bob, 5, PRICE, expiry_in(), {"from": alice})
    with revert_with("DvPWrongStatus", 0, status.OPEN):
        dvp.approve(0, {"from": agent})
    with revert_with("DvPWrongStatus", 0, status.OPEN):
        dvp.reject(0, {"from": agent})
    dvp.accept(0, {"from": bob})  # approval off: settles at once
    with revert_with("DvPWrongStatus", 0, status.SETTLED):
        dvp.approve(0, {"from": agent})


def test_approve_after_expiry(dvp, pending, go, agent, alice, bob, carol, legs, revert_with):
    exp, before = pending
    go(exp)
    with revert_with("DvPExpired", 0, exp):
        dvp.approve(0, {"from": agent})
    dvp.expire(0, {"from": carol})
    assert legs(alice, bob) == [(before[0][0], before[0][1], 0), before[1], before[2]]


def test_approve_checks_the_bond_rules(dvp, pending, registry, registrar, agent, alice, bob, revert_with):
    registry.removeHolder(bob, {"from": registrar})
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "RECEIVER_NOT_ELIGIBLE"):
        dvp.approve(0, {"from": agent})
    dvp.reject(0, {"from": agent})


def test_plain_transfers_still_need_approval(dvp, pending, bond, alice, carol, revert_with):
    with revert_with("GreenBondTransferNotAllowed", alice, carol, 1, "APPROVAL_REQUIRED"):
        bond.transfer(carol, 1, {"from": alice})


def test_switch_turned_off_while_pending(dvp, pending, bond, admin, agent, bob):
    bond.setTransferApprovalRequired(False, {"from": admin})
    dvp.approve(0, {"from": agent})
    assert bond.balanceOf(bob) == 80


def test_paused_bond_blocks_approval(dvp, pending, bond, admin, agent, alice, bob, legs, revert_with):
    bond.pause({"from": admin})
    before = legs(alice, bob)
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 30, "PAUSED"):
        dvp.approve(0, {"from": agent})
    assert legs(alice, bob) == before
