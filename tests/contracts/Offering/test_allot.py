"""allot: only the allotting role, only once the window closed, once; allottedOf in full or pro
rata. The rounding rule (IOffering / Offering.sol): pro rata when the units requested exceed
the units offered, each investor allotted floor(requested x offered / total requested); the
leftover of the rounding stays unissued (best efforts) or goes to the underwriter, so the
allotment never exceeds the offer."""

import pytest

PAR = 1_000_000


def _subscribe_and_close(o, t, go, plan):
    go(t["openTime"])
    for who, units in plan:
        o.subscribe(units, {"from": who})
    go(t["closeTime"])


def test_allot_role(offering, go, bob, admin, revert_with):
    o, t = offering
    go(t["closeTime"])
    with revert_with("AccessControlUnauthorizedAccount", bob, o.ALLOTTER_ROLE()):
        o.allot({"from": bob})
    o.grantRole(o.ALLOTTER_ROLE(), bob, {"from": admin})
    o.allot({"from": bob})


@pytest.mark.parametrize("when", ["pending", "open"])
def test_allot_before_close(offering, go, admin, revert_with, states, when):
    o, t = offering
    if when == "open":
        go(t["openTime"])
    with revert_with("OfferingWrongState", states.PENDING if when == "pending" else states.OPEN):
        o.allot({"from": admin})


def test_allot_twice(offering, go, admin, alice, revert_with, states):
    o, t = offering
    _subscribe_and_close(o, t, go, [(alice, 10)])
    o.allot({"from": admin})
    with revert_with("OfferingWrongState", states.ALLOTTED):
        o.allot({"from": admin})


def test_allotted_of_is_zero_before_allotment(offering, go, alice):
    o, t = offering
    _subscribe_and_close(o, t, go, [(alice, 10)])
    assert o.allottedOf(alice) == 0


def test_full_allotment(offering, go, admin, alice, bob, carol, states):
    o, t = offering
    _subscribe_and_close(o, t, go, [(alice, 200), (bob, 150), (carol, 250)])  # exactly 600
    tx = o.allot({"from": admin})
    ev = tx.events["Allotted"]
    assert (ev["totalRequested"], ev["unitsOffered"], ev["proRata"], ev["underwriterUnits"]) == (600, 600, False, 0)
    assert [o.allottedOf(w) for w in (alice, bob, carol)] == [200, 150, 250]
    assert o.state() == states.ALLOTTED


def test_pro_rata_hand_computed(offering, go, admin, alice, bob, carol):
    """500 / 300 / 200 requested for 600 offered: 500*600/1000 = 300, 300*600/1000 = 180, 200*600/1000 = 120."""
    o, t = offering
    _subscribe_and_close(o, t, go, [(alice, 500), (bob, 300), (carol, 200)])
    tx = o.allot({"from": admin})
    assert tx.events["Allotted"]["proRata"] is True
    assert [o.allottedOf(w) for w in (alice, bob, carol)] == [300, 180, 120]


def test_pro_rata_remainders_round_down(make_offering, go, admin, alice, bob, carol):
    """333 / 333 / 334 for 500: 166.5 -> 166, 166.5 -> 166, 167 -> 167; 499 allotted, never 501."""
    o, t = make_offering(units=500)
    _subscribe_and_close(o, t, go, [(alice, 333), (bob, 333), (carol, 334)])
    o.allot({"from": admin})
    got = [o.allottedOf(w) for w in (alice, bob, carol)]
    assert got == [166, 166, 167]
    assert sum(got) == 499 <= 500


def test_undersubscribed_best_efforts(offering, go, admin, alice, outsider):
    o, t = offering
    _subscribe_and_close(o, t, go, [(alice, 100)])
    tx = o.allot({"from": admin})
    assert tx.events["Allotted"]["underwriterUnits"] == 0
    assert o.allottedOf(alice) == 100 and o.allottedOf(outsider) == 0
    assert o.underwriterUnits() == 0


def test_nobody_subscribed(offering, go, admin, states):
    o, t = offering
    go(t["closeTime"])
    o.allot({"from": admin})
    assert o.state() == states.SETTLED  # nothing to settle: best efforts, nothing sold


def test_cancelled_subscription_not_allotted(offering, go, admin, alice, bob):
    o, t = offering
    go(t["openTime"])
    o.subscribe(500, {"from": alice})
    o.subscribe(500, {"from": bob})
    o.cancelSubscription({"from": bob})
    go(t["closeTime"])
    o.allot({"from": admin})
    assert o.allottedOf(alice) == 500 and o.allottedOf(bob) == 0
