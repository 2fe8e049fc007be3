"""Hostile settlement tokens: a fee-on-transfer token is refused (OfferingTransferShortfall), and
re-entry through the token's transfer hooks is stopped by the guard; nothing moves either way."""

import pytest

MAX = 2**256 - 1


def _bond_in(token, GreenBond, terms, registry, admin):
    t = list(terms)
    t[3] = token.address
    b = GreenBond.deploy(tuple(t), registry, admin, {"from": admin})
    return b


def _offering_for(b, token, make_terms, Offering, admin, who, underwriter=None):
    o = Offering.deploy(b, make_terms(underwriter), admin, {"from": admin})
    b.grantRole(b.MINTER_ROLE(), o, {"from": admin})
    for w in who:
        token.mint(w, 10**12, {"from": admin})
        token.approve(o, MAX, {"from": w})
    return o


@pytest.fixture(scope="module")
def make_terms(issuer_wallet):
    from brownie import ZERO_ADDRESS, chain

    DAY = 86_400

    def _t(underwriter=None):
        now = chain.time()
        return (now + DAY, now + 3 * DAY, now + 5 * DAY, now + 35 * DAY, 1_000, 1, 1_000, 600, issuer_wallet.address,
                underwriter.address if underwriter else ZERO_ADDRESS)

    return _t


def test_fee_on_transfer_token_refused(FeeToken, GreenBond, Offering, terms, registry, admin, investors, alice, make_terms, go, revert_with):
    token = FeeToken.deploy(10_000, {"from": admin})  # 1% burnt on every transfer
    b = _bond_in(token, GreenBond, terms, registry, admin)
    o = _offering_for(b, token, make_terms, Offering, admin, [alice])
    go(o.terms()[0])
    before = token.balanceOf(alice)
    with revert_with("OfferingTransferShortfall", 100_000, 99_000):
        o.subscribe(100, {"from": alice})
    assert token.balanceOf(alice) == before and o.totalRequested() == 0


def test_fee_on_transfer_token_refused_for_underwriter(FeeToken, GreenBond, Offering, terms, registry, admin, investors, erin, make_terms, go, revert_with):
    token = FeeToken.deploy(10_000, {"from": admin})
    b = _bond_in(token, GreenBond, terms, registry, admin)
    o = _offering_for(b, token, make_terms, Offering, admin, [erin], underwriter=erin)
    t = o.terms()
    go(t[1])
    o.allot({"from": admin})
    go(t[2])
    with revert_with("OfferingTransferShortfall", 600_000, 594_000):
        o.settleUnderwriter({"from": erin})
    assert b.balanceOf(erin) == 0


@pytest.fixture
def hostile_offering(HostileToken, GreenBond, Offering, terms, registry, admin, investors, alice, bob, erin, make_terms, go):
    token = HostileToken.deploy({"from": admin})
    b = _bond_in(token, GreenBond, terms, registry, admin)
    o = _offering_for(b, token, make_terms, Offering, admin, [alice, bob, erin], underwriter=erin)
    return token, b, o


VICTIMS = ["subscribe", "cancelSubscription", "settle", "settleUnderwriter", "refund", "withdrawRefund"]
PAYLOADS = ["cancelSubscription", "settle", "withdrawRefund"]


# every victim once, every payload at least once (the full product adds time, not coverage)
CASES = [("subscribe", "cancelSubscription"), ("cancelSubscription", "settle"), ("settle", "withdrawRefund"),
         ("settleUnderwriter", "settle"), ("refund", "withdrawRefund"), ("withdrawRefund", "cancelSubscription")]


@pytest.mark.parametrize("victim,payload", CASES)
def test_reentry_reverts(hostile_offering, victim, payload, admin, alice, bob, erin, go, revert_with):
    token, b, o = hostile_offering
    t = o.terms()
    go(t[0])
    if victim != "subscribe":
        o.subscribe(100, {"from": alice})
        o.subscribe(50, {"from": bob})
    if victim in ("settle", "settleUnderwriter"):
        go(t[1])
        o.allot({"from": admin})
        go(t[2])
    if victim in ("refund", "withdrawRefund"):
        o.cancelOffering({"from": admin})
    data = {
        "cancelSubscription": o.cancelSubscription.encode_input(),
        "settle": o.settle.encode_input([alice]),
        "withdrawRefund": o.withdrawRefund.encode_input(),
    }[payload]
    token.arm(o, data, {"from": admin})
    before = ([token.balanceOf(w) for w in (o, alice, bob, erin)], [b.balanceOf(w) for w in (alice, bob, erin)])
    with revert_with("ReentrancyGuardReentrantCall"):
        {
            "subscribe": lambda: o.subscribe(10, {"from": alice}),
            "cancelSubscription": lambda: o.cancelSubscription({"from": alice}),
            "settle": lambda: o.settle([alice], {"from": bob}),
            "settleUnderwriter": lambda: o.settleUnderwriter({"from": erin}),
            "refund": lambda: o.refund([alice], {"from": bob}),
            "withdrawRefund": lambda: o.withdrawRefund({"from": alice}),
        }[victim]()
    after = ([token.balanceOf(w) for w in (o, alice, bob, erin)], [b.balanceOf(w) for w in (alice, bob, erin)])
    assert before == after
    assert token.reentered() == 0
