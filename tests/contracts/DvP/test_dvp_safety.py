"""Hostile settlement tokens for the DvP: fee-on-transfer cash is refused (DvPTransferShortfall)
and re-entry through the token's hooks is stopped by the guard; nothing moves either way."""

import pytest
from brownie import ZERO_ADDRESS

MAX = 2**256 - 1
PRICE = 100_000


def _setup(token, GreenBond, BondDvP, terms, registry, register, admin, agent, alice, bob):
    t = list(terms)
    t[3] = token.address
    b = GreenBond.deploy(tuple(t), registry, admin, {"from": admin})
    register(alice, 1)
    register(bob, 2)
    b.mint(alice, 100, {"from": admin})
    d = BondDvP.deploy(b, 30 * 86_400, {"from": admin})
    b.grantRole(b.LOCKER_ROLE(), d, {"from": admin})
    for w in (alice, bob):
        token.mint(w, 10**9, {"from": admin})
        token.approve(d, MAX, {"from": w})
    return b, d


@pytest.mark.parametrize("approval", [False, True])
def test_fee_on_transfer_cash(FeeToken, GreenBond, BondDvP, terms, registry, register, admin, agent, alice, bob, expiry_in, revert_with, approval):
    token = FeeToken.deploy(10_000, {"from": admin})  # 1% burnt
    b, d = _setup(token, GreenBond, BondDvP, terms, registry, register, admin, agent, alice, bob)
    if approval:
        b.setTransferApprovalRequired(True, {"from": admin})
    d.offer(bob, 10, PRICE, expiry_in(), {"from": alice})
    before = (token.balanceOf(alice), token.balanceOf(bob), b.balanceOf(alice), b.balanceOf(bob))
    with revert_with("DvPTransferShortfall", PRICE, PRICE - 1_000):
        d.accept(0, {"from": bob})
    assert (token.balanceOf(alice), token.balanceOf(bob), b.balanceOf(alice), b.balanceOf(bob)) == before
    assert b.escrowedOf(alice) == 10


@pytest.mark.parametrize("victim,payload", [("accept", "cancel"), ("accept", "accept"), ("accept_pending", "expire"),
                                            ("approve", "cancel"), ("cancel_pending", "accept")])
def test_reentry_reverts(HostileToken, GreenBond, BondDvP, terms, registry, register, admin, agent, alice, bob, expiry_in, revert_with, victim, payload):
    token = HostileToken.deploy({"from": admin})
    b, d = _setup(token, GreenBond, BondDvP, terms, registry, register, admin, agent, alice, bob)
    d.offer(ZERO_ADDRESS, 10, PRICE, expiry_in(), {"from": alice})
    d.offer(bob, 5, PRICE, expiry_in(), {"from": alice})
    if victim != "accept":
        b.setTransferApprovalRequired(True, {"from": admin})
    if victim in ("approve", "cancel_pending"):
        d.accept(0, {"from": bob})
    data = {"cancel": d.cancel.encode_input(1), "expire": d.expire.encode_input(1), "accept": d.accept.encode_input(1)}[payload]
    token.arm(d, data, {"from": admin})
    before = ([token.balanceOf(w) for w in (d, alice, bob)], [b.balanceOf(w) for w in (alice, bob)], b.escrowedOf(alice))
    with revert_with("ReentrancyGuardReentrantCall"):
        {
            "accept": lambda: d.accept(0, {"from": bob}),
            "accept_pending": lambda: d.accept(0, {"from": bob}),
            "approve": lambda: d.approve(0, {"from": admin}),
            "cancel_pending": lambda: d.cancel(0, {"from": bob}),
        }[victim]()
    after = ([token.balanceOf(w) for w in (d, alice, bob)], [b.balanceOf(w) for w in (alice, bob)], b.escrowedOf(alice))
    assert before == after and token.reentered() == 0
