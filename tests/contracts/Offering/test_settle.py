"""settle: from the settlement date, in batches; each investor atomically minted, the issuer
paid exactly allotted x price, the rest refunded; re-settling skips; an investor no longer
eligible is refunded in full; a paused bond stops the batch and nothing moves."""

import pytest

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

PAR = 1_000_000


@pytest.fixture
def allotted(offering, go, admin, alice, bob, carol):
    """500 / 300 / 200 requested for 600 (pro rata 300 / 180 / 120), allotted, before settlement."""
    o, t = offering
    go(t["openTime"])
    for who, units in ((alice, 500), (bob, 300), (carol, 200)):
        o.subscribe(units, {"from": who})
    go(t["closeTime"])
    o.allot({"from": admin})
    return o, t


def test_before_settlement_date(allotted, alice, revert_with):
    o, t = allotted
    with revert_with("OfferingTooEarly", t["settlementDate"]):
        o.settle([alice], {"from": alice})


@pytest.mark.parametrize("when", ["open", "closed"])
def test_before_allotment(offering, go, alice, revert_with, states, when):
    o, t = offering
    go(t["openTime"])
    o.subscribe(5, {"from": alice})
    if when == "closed":
        go(t["settlementDate"])
    with revert_with("OfferingWrongState", states.OPEN if when == "open" else states.CLOSED):
        o.settle([alice], {"from": alice})


def test_settle_pro_rata_exact_amounts(allotted, go, settlement, bond, issuer_wallet, alice, bob, carol, outsider, states):
    o, t = allotted
    go(t["settlementDate"])
    cash0 = {w: settlement.balanceOf(w) for w in (alice, bob, carol, issuer_wallet)}
    supply0 = bond.totalSupply()
    tx = o.settle([alice], {"from": outsider})  # anyone may push a batch
    ev = tx.events["SettledInvestor"]
    assert (ev["investor"], ev["units"], ev["paid"], ev["refunded"]) == (alice, 300, 300 * PAR, 200 * PAR)
    assert bond.balanceOf(alice) == 300
    assert settlement.balanceOf(alice) == cash0[alice] + 200 * PAR
    assert settlement.balanceOf(issuer_wallet) == cash0[issuer_wallet] + 300 * PAR
    assert o.state() == states.ALLOTTED
    assert "OfferingSettled" not in tx.events

    tx = o.settle([bob, carol], {"from": outsider})
    assert [bond.balanceOf(w) for w in (bob, carol)] == [180, 120]
    assert settlement.balanceOf(bob) == cash0[bob] + 120 * PAR
    assert settlement.balanceOf(carol) == cash0[carol] + 80 * PAR
    assert settlement.balanceOf(issuer_wallet) == cash0[issuer_wallet] + 600 * PAR
    assert bond.totalSupply() == supply0 + 600
    assert settlement.balanceOf(o) == 0
    assert o.state() == states.SETTLED
    assert tx.events["OfferingSettled"]["unitsIssued"] == 600
    assert tx.events["OfferingSettled"]["cashRaised"] == 600 * PAR
    assert o.unitsSettled() == 600 and o.cashRaised() == 600 * PAR
    assert [o.allottedOf(w) for w in (alice, bob, carol)] == [300, 180, 120]
    assert o.subscriptionOf(alice)[2] is True


def test_full_allotment_no_refund(offering, go, admin, settlement, bond, issuer_wallet, alice, bob):
    o, t = offering
    go(t["openTime"])
    o.subscribe(100, {"from": alice})
    o.subscribe(50, {"from": bob})
    go(t["closeTime"])
    o.allot({"from": admin})
    go(t["settlementDate"])
    cash0 = settlement.balanceOf(alice)
    tx = o.settle([alice, bob], {"from": admin})
    assert [e["refunded"] for e in tx.events["SettledInvestor"]] == [0, 0]
    assert settlement.balanceOf(alice) == cash0
    assert bond.balanceOf(alice) == 100 and bond.balanceOf(bob) == 50
    assert settlement.balanceOf(issuer_wallet) == 150 * PAR


def test_resettle_skips(allotted, go, settlement, bond, issuer_wallet, alice, bob, carol, outsider):
    o, t = allotted
    go(t["settlementDate"])
    o.settle([alice], {"from": alice})
    snapshot = (settlement.balanceOf(alice), bond.balanceOf(alice), settlement.balanceOf(issuer_wallet))
    tx = o.settle([alice, alice, outsider, bob], {"from": alice})  # alice twice, an outsider: skipped
    assert [e["investor"] for e in tx.events["SettledInvestor"]] == [bob]
    assert (settlement.balanceOf(alice), bond.balanceOf(alice)) == snapshot[:2]
    assert settlement.balanceOf(issuer_wallet) == snapshot[2] + 180 * PAR
    o.settle([carol], {"from": alice})
    assert bond.balanceOf(carol) == 120


def test_empty_batch(allotted, go, alice, states):
    o, t = allotted
    go(t["settlementDate"])
    tx = o.settle([], {"from": alice})
    assert "SettledInvestor" not in tx.events and o.state() == states.ALLOTTED


def test_settle_after_settled(allotted, go, alice, bob, carol, revert_with, states):
    o, t = allotted
    go(t["settlementDate"])
    o.settle([alice, bob, carol], {"from": alice})
    with revert_with("OfferingWrongState", states.SETTLED):
        o.settle([alice], {"from": alice})


def test_ineligible_at_settlement_refunded_in_full(allotted, go, registry, registrar, settlement, bond, issuer_wallet, alice, bob, carol, states):
    o, t = allotted
    registry.removeHolder(bob, {"from": registrar})
    go(t["settlementDate"])
    cash_bob = settlement.balanceOf(bob)
    tx = o.settle([alice, bob, carol], {"from": alice})
    assert tx.events["RefundedIneligible"]["investor"] == bob
    assert tx.events["RefundedIneligible"]["refund"] == 300 * PAR
    assert bond.balanceOf(bob) == 0
    assert settlement.balanceOf(bob) == cash_bob + 300 * PAR
    assert o.allottedOf(bob) == 0
    assert settlement.balanceOf(issuer_wallet) == 420 * PAR  # 300 + 120, not bob's 180
    assert bond.balanceOf(alice) == 300 and bond.balanceOf(carol) == 120
    assert settlement.balanceOf(o) == 0
    assert o.state() == states.SETTLED
    assert o.unitsSettled() == 420


def test_registration_expired_at_settlement(allotted, go, registry, registrar, settlement, bond, alice, carol):
    """carol's registration lapses between the close and the settlement date: refunded, not minted."""
    o, t = allotted
    registry.updateHolder(carol, "0x" + f"{3:064x}", 392, t["settlementDate"] - 60, "0x" + "03" * 48, {"from": registrar})
    go(t["settlementDate"])
    assert not registry.isEligible(carol)
    cash0 = settlement.balanceOf(carol)
    tx = o.settle([alice, carol], {"from": alice})
    assert tx.events["RefundedIneligible"]["investor"] == carol
    assert settlement.balanceOf(carol) == cash0 + 200 * PAR and bond.balanceOf(carol) == 0
    assert bond.balanceOf(alice) == 300


def test_paused_bond_stops_the_batch(allotted, go, bond, admin, settlement, alice, bob, revert_with):
    o, t = allotted
    go(t["settlementDate"])
    bond.pause({"from": admin})
    before = (settlement.balanceOf(alice), settlement.balanceOf(o), bond.balanceOf(alice))
    with revert_with("EnforcedPause"):
        o.settle([alice, bob], {"from": alice})
    assert (settlement.balanceOf(alice), settlement.balanceOf(o), bond.balanceOf(alice)) == before
    assert o.subscriptionOf(alice)[2] is False
    bond.unpause({"from": admin})
    o.settle([alice, bob], {"from": alice})
    assert bond.balanceOf(alice) == 300


def test_offering_without_agent_role_cannot_mint(make_offering, go, admin, bond, alice, revert_with):
    o, t = make_offering(grant=False)
    go(t["openTime"])
    o.subscribe(10, {"from": alice})
    go(t["closeTime"])
    o.allot({"from": admin})
    go(t["settlementDate"])
    with revert_with("AccessControlUnauthorizedAccount", o, bond.MINTER_ROLE()):
        o.settle([alice], {"from": alice})
