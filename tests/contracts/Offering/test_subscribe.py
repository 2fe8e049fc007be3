"""subscribe and cancelSubscription: who, when, how many (per call and cumulative), the escrow."""

import pytest

PAR = 1_000_000


def test_subscribe_escrows_cash(open_offering, settlement, alice, balances, py):
    o, t = open_offering
    (cash0, _), = balances(alice)
    tx = o.subscribe(200, {"from": alice})
    assert tx.events["Subscribed"]["investor"] == alice
    assert tx.events["Subscribed"]["units"] == 200 and tx.events["Subscribed"]["cash"] == 200 * PAR
    assert settlement.balanceOf(alice) == cash0 - 200 * PAR
    assert settlement.balanceOf(o) == 200 * PAR
    assert py(o.subscriptionOf(alice)) == (200, 0, False, 200 * PAR)
    assert o.totalRequested() == 200 and o.subscribers() == [alice]


def test_subscribe_cumulative(open_offering, alice, settlement, py):
    o, t = open_offering
    o.subscribe(300, {"from": alice})
    o.subscribe(700, {"from": alice})  # up to max exactly
    assert py(o.subscriptionOf(alice)) == (1_000, 0, False, 1_000 * PAR)
    assert o.subscribers() == [alice]
    assert settlement.balanceOf(o) == 1_000 * PAR


def test_before_open(offering, alice, revert_with, states):
    o, t = offering
    with revert_with("OfferingWrongState", states.PENDING):
        o.subscribe(1, {"from": alice})


def test_after_close(offering, alice, go, revert_with, states):
    o, t = offering
    go(t["closeTime"])
    with revert_with("OfferingWrongState", states.CLOSED):
        o.subscribe(1, {"from": alice})


def test_ineligible(open_offering, outsider, settlement, admin, revert_with):
    o, t = open_offering
    settlement.mint(outsider, 10 * PAR, {"from": admin})
    settlement.approve(o, 10 * PAR, {"from": outsider})
    with revert_with("OfferingNotEligible", outsider):
        o.subscribe(1, {"from": outsider})


def test_removed_investor_is_ineligible(open_offering, registry, registrar, bob, revert_with):
    o, t = open_offering
    registry.removeHolder(bob, {"from": registrar})
    with revert_with("OfferingNotEligible", bob):
        o.subscribe(1, {"from": bob})


def test_zero_units(open_offering, alice, revert_with):
    o, t = open_offering
    with revert_with("OfferingUnitsOutOfRange", 0, 1, 1_000):
        o.subscribe(0, {"from": alice})
    o.subscribe(5, {"from": alice})
    with revert_with("OfferingUnitsOutOfRange", 5, 1, 1_000):
        o.subscribe(0, {"from": alice})


def test_above_max_and_cumulative(open_offering, alice, revert_with):
    o, t = open_offering
    with revert_with("OfferingUnitsOutOfRange", 1_001, 1, 1_000):
        o.subscribe(1_001, {"from": alice})
    o.subscribe(600, {"from": alice})
    with revert_with("OfferingUnitsOutOfRange", 1_001, 1, 1_000):
        o.subscribe(401, {"from": alice})


def test_below_min_and_cumulative(make_offering, alice, go, revert_with):
    o, t = make_offering(min_units=10, max_units=20)
    go(t["openTime"])
    with revert_with("OfferingUnitsOutOfRange", 9, 10, 20):
        o.subscribe(9, {"from": alice})
    o.subscribe(10, {"from": alice})
    o.subscribe(1, {"from": alice})  # cumulative 11 is within range
    with revert_with("OfferingUnitsOutOfRange", 21, 10, 20):
        o.subscribe(10, {"from": alice})
    assert o.subscriptionOf(alice)[0] == 11


def test_cancel_refunds_everything(open_offering, alice, bob, settlement, balances, py):
    o, t = open_offering
    before = balances(alice)
    o.subscribe(100, {"from": alice})
    o.subscribe(50, {"from": alice})
    o.subscribe(30, {"from": bob})
    tx = o.cancelSubscription({"from": alice})
    assert tx.events["SubscriptionCancelled"]["investor"] == alice
    assert tx.events["SubscriptionCancelled"]["refund"] == 150 * PAR
    assert balances(alice) == before
    assert py(o.subscriptionOf(alice)) == (0, 0, False, 0)
    assert o.totalRequested() == 30
    assert settlement.balanceOf(o) == 30 * PAR


def test_cancel_then_resubscribe(open_offering, alice, bob, settlement, py):
    o, t = open_offering
    o.subscribe(100, {"from": alice})
    o.cancelSubscription({"from": alice})
    o.subscribe(1_000, {"from": alice})  # the whole max again: the cancelled units no longer count
    o.subscribe(10, {"from": bob})
    assert o.subscribers() == [alice, bob]  # listed once
    assert py(o.subscriptionOf(alice)) == (1_000, 0, False, 1_000 * PAR)
    assert o.totalRequested() == 1_010
    assert settlement.balanceOf(o) == 1_010 * PAR


def test_cancel_nothing(open_offering, alice, revert_with):
    o, t = open_offering
    with revert_with("OfferingNothingToCancel", alice):
        o.cancelSubscription({"from": alice})
    o.subscribe(1, {"from": alice})
    o.cancelSubscription({"from": alice})
    with revert_with("OfferingNothingToCancel", alice):
        o.cancelSubscription({"from": alice})


@pytest.mark.parametrize("when", ["pending", "closed"])
def test_cancel_outside_window(offering, alice, go, revert_with, states, when):
    o, t = offering
    if when == "pending":
        with revert_with("OfferingWrongState", states.PENDING):
            o.cancelSubscription({"from": alice})
        return
    go(t["openTime"])
    o.subscribe(5, {"from": alice})
    go(t["closeTime"])
    with revert_with("OfferingWrongState", states.CLOSED):
        o.cancelSubscription({"from": alice})
    assert o.subscriptionOf(alice)[3] == 5 * PAR
