"""cancelOffering (allotting role, until settlement begins) and the refunds after it: refund
(anyone pushes) and withdrawRefund (the investor pulls); nobody is refunded twice."""

import pytest

PAR = 1_000_000


def _subscribed(o, t, go, alice, bob):
    go(t["openTime"])
    o.subscribe(100, {"from": alice})
    o.subscribe(40, {"from": bob})


def test_cancel_role(offering, bob, revert_with):
    o, t = offering
    with revert_with("AccessControlUnauthorizedAccount", bob, o.ALLOTTER_ROLE()):
        o.cancelOffering({"from": bob})


@pytest.mark.parametrize("stage", ["pending", "open", "closed", "allotted", "allotted_after_date"])
def test_cancel_then_everyone_refunded(offering, go, admin, settlement, alice, bob, carol, outsider, stage, states):
    o, t = offering
    c0 = {w: settlement.balanceOf(w) for w in (alice, bob)}
    if stage != "pending":
        _subscribed(o, t, go, alice, bob)
    if stage.startswith("allotted") or stage == "closed":
        go(t["closeTime"])
    if stage.startswith("allotted"):
        o.allot({"from": admin})
    if stage == "allotted_after_date":
        go(t["settlementDate"])
    tx = o.cancelOffering({"from": admin})
    assert tx.events["OfferingCancelled"]["by"] == admin
    assert o.state() == states.CANCELLED
    assert o.allottedOf(carol) == 0
    if stage == "pending":
        return
    tx = o.refund([alice, carol], {"from": outsider})  # carol never subscribed: skipped
    assert [(e["investor"], e["amount"]) for e in tx.events["Refunded"]] == [(alice, 100 * PAR)]
    tx = o.withdrawRefund({"from": bob})
    assert tx.events["Refunded"]["amount"] == 40 * PAR
    assert {w: settlement.balanceOf(w) for w in (alice, bob)} == c0
    assert settlement.balanceOf(o) == 0


def test_no_refund_twice(offering, go, admin, alice, bob, settlement, revert_with):
    o, t = offering
    _subscribed(o, t, go, alice, bob)
    o.cancelOffering({"from": admin})
    o.refund([alice, alice], {"from": bob})
    cash = settlement.balanceOf(alice)
    tx = o.refund([alice], {"from": bob})
    assert "Refunded" not in tx.events
    with revert_with("OfferingNothingToRefund", alice):
        o.withdrawRefund({"from": alice})
    o.withdrawRefund({"from": bob})
    with revert_with("OfferingNothingToRefund", bob):
        o.withdrawRefund({"from": bob})
    assert settlement.balanceOf(alice) == cash


def test_nothing_works_after_cancel(offering, go, admin, alice, bob, revert_with, states):
    o, t = offering
    _subscribed(o, t, go, alice, bob)
    o.cancelOffering({"from": admin})
    for call in (lambda: o.subscribe(1, {"from": alice}),
                 lambda: o.cancelSubscription({"from": alice}),
                 lambda: o.allot({"from": admin}),
                 lambda: o.settle([alice], {"from": admin}),
                 lambda: o.settleUnderwriter({"from": admin}),
                 lambda: o.cancelOffering({"from": admin})):
        with revert_with("OfferingWrongState", states.CANCELLED):
            call()


def test_refund_only_after_cancel(offering, go, alice, bob, revert_with, states):
    o, t = offering
    _subscribed(o, t, go, alice, bob)
    with revert_with("OfferingWrongState", states.OPEN):
        o.refund([alice], {"from": alice})
    with revert_with("OfferingWrongState", states.OPEN):
        o.withdrawRefund({"from": alice})


def test_cancel_impossible_once_settlement_began(offering, go, admin, alice, bob, revert_with, states):
    o, t = offering
    _subscribed(o, t, go, alice, bob)
    go(t["closeTime"])
    o.allot({"from": admin})
    go(t["settlementDate"])
    o.settle([alice], {"from": alice})
    with revert_with("OfferingWrongState", states.ALLOTTED):
        o.cancelOffering({"from": admin})
    o.settle([bob], {"from": alice})
    with revert_with("OfferingWrongState", states.SETTLED):
        o.cancelOffering({"from": admin})


def test_cancel_impossible_once_underwriter_settled(make_offering, underwriter, go, admin, alice, revert_with, states):
    o, t = make_offering(underwriter=underwriter)
    go(t["openTime"])
    o.subscribe(100, {"from": alice})
    go(t["closeTime"])
    o.allot({"from": admin})
    go(t["settlementDate"])
    o.settleUnderwriter({"from": underwriter})
    with revert_with("OfferingWrongState", states.ALLOTTED):
        o.cancelOffering({"from": admin})
