"""Offering constructor: every bad term is refused with OfferingBadTerms(field); good terms are
kept, the admin holds both roles, and the state follows the clock before any allotment."""

import pytest
from brownie import ZERO_ADDRESS, chain

DAY = 86_400


def _terms(issuer, **over):
    now = chain.time()
    t = dict(openTime=now + DAY, closeTime=now + 2 * DAY, settlementDate=now + 3 * DAY,
             settlementDeadline=now + 30 * DAY, pricePerUnit=10,
             minUnits=1, maxUnits=5, unitsOffered=10, issuer=issuer.address, underwriter=ZERO_ADDRESS)
    t.update(over)
    return t


@pytest.mark.parametrize(
    "field,change",
    [
        ("closeTime", lambda t: {"closeTime": t["openTime"]}),
        ("settlementDate", lambda t: {"settlementDate": t["closeTime"] - 1}),
        ("settlementDeadline", lambda t: {"settlementDeadline": t["settlementDate"]}),
        ("pricePerUnit", lambda t: {"pricePerUnit": 0}),
        ("minUnits", lambda t: {"minUnits": 0}),
        ("minUnits", lambda t: {"minUnits": 6}),
        ("unitsOffered", lambda t: {"unitsOffered": 0}),
        ("issuer", lambda t: {"issuer": ZERO_ADDRESS}),
    ],
)
def test_bad_terms(Offering, bond, admin, issuer_wallet, field, change, revert_with):
    t = _terms(issuer_wallet)
    t.update(change(t))
    with revert_with("OfferingBadTerms", field):
        Offering.deploy(bond, tuple(t.values()), admin, {"from": admin})


def test_zero_bond_or_admin(Offering, bond, admin, issuer_wallet, revert_with):
    t = tuple(_terms(issuer_wallet).values())
    with revert_with("OfferingBadTerms", "address"):
        Offering.deploy(ZERO_ADDRESS, t, admin, {"from": admin})
    with revert_with("OfferingBadTerms", "address"):
        Offering.deploy(bond, t, ZERO_ADDRESS, {"from": admin})


def test_terms_roles_and_links(offering, bond, settlement, admin, bob, py):
    o, t = offering
    assert py(o.terms()) == tuple(t.values())
    assert o.bond() == bond and o.cash() == settlement
    assert o.hasRole(o.ALLOTTER_ROLE(), admin) and o.hasRole(o.DEFAULT_ADMIN_ROLE(), admin)
    assert not o.hasRole(o.ALLOTTER_ROLE(), bob)
    assert o.totalRequested() == 0 and o.subscribers() == []


def test_states_follow_the_clock(offering, go, states):
    o, t = offering
    assert o.state() == states.PENDING
    go(t["openTime"])
    assert o.state() == states.OPEN
    go(t["closeTime"])
    assert o.state() == states.CLOSED
