"""addRecordDate: a future date after the last one; balances are fixed at it like at any other."""

import pytest
from brownie import chain

DAY = 86_400


def sleep_past(t):
    chain.sleep(max(0, t - chain.time()) + 60)
    chain.mine()


def test_add_record_date(bond, admin):
    last = bond.recordDates()[-1]
    tx = bond.addRecordDate(last + DAY, {"from": admin})
    assert list(bond.recordDates())[-1] == last + DAY
    assert len(bond.recordDates()) == 13
    assert tx.events["RecordDateAdded"]["index"] == 12
    assert tx.events["RecordDateAdded"]["recordDate"] == last + DAY


def test_not_after_last(bond, admin, revert_with):
    last = bond.recordDates()[-1]
    with revert_with("GreenBondBadRecordDate", last):
        bond.addRecordDate(last, {"from": admin})
    with revert_with("GreenBondBadRecordDate", last - DAY):
        bond.addRecordDate(last - DAY, {"from": admin})


def test_not_in_past(GreenBond, terms, registry, admin, revert_with):
    zero = list(terms)
    zero[6], zero[7], zero[13] = 0, 0, []
    bond = GreenBond.deploy(tuple(zero), registry, admin, {"from": admin})
    now = chain[-1].timestamp
    with revert_with("GreenBondBadRecordDate", now - 1):
        bond.addRecordDate(now - 1, {"from": admin})
    with revert_with("GreenBondBadRecordDate", 0):
        bond.addRecordDate(0, {"from": admin})


def test_balances_fixed_at_added_date(bond, holders, admin, agent, alice, bob):
    last = bond.recordDates()[-1]
    sleep_past(last)
    bond.transfer(bob, 10, {"from": alice})  # passes all twelve scheduled dates
    added = chain.time() + 10 * DAY
    bond.addRecordDate(added, {"from": admin})
    bond.transfer(bob, 20, {"from": alice})
    sleep_past(added)
    tx = bond.transfer(bob, 30, {"from": alice})
    assert [(e["index"], e["recordDate"]) for e in tx.events["RecordDateReached"]] == [(12, added)]
    assert bond.balanceOfAt(alice, added) == 70
    assert bond.balanceOfAt(bob, added) == 80
    assert bond.balanceOfAt(alice, last) == 100
    assert bond.totalSupplyAt(added) == 150


def test_added_before_pending_dates_are_counted(bond, holders, admin, alice, bob):
    """All scheduled dates have passed but no movement counted them yet when a date is added."""
    last = bond.recordDates()[-1]
    sleep_past(last)
    added = chain.time() + DAY
    bond.addRecordDate(added, {"from": admin})
    bond.transfer(bob, 10, {"from": alice})
    sleep_past(added)
    tx = bond.transfer(bob, 5, {"from": alice})
    assert [e["index"] for e in tx.events["RecordDateReached"]] == [12]
    assert bond.balanceOfAt(alice, last) == 100
    assert bond.balanceOfAt(alice, added) == 90


def test_early_call_on_zero_coupon_bond(GreenBond, terms, registry, holders, admin, alice, bob):
    zero = list(terms)
    zero[6], zero[7], zero[13] = 0, 0, []
    bond = GreenBond.deploy(tuple(zero), registry, admin, {"from": admin})
    bond.mint(alice, 100, {"from": admin})
    call = chain.time() + 5 * DAY
    tx = bond.addRecordDate(call, {"from": admin})
    assert tx.events["RecordDateAdded"]["index"] == 0
    bond.transfer(bob, 40, {"from": alice})
    sleep_past(call)
    bond.transfer(bob, 60, {"from": alice})
    assert bond.balanceOfAt(alice, call) == 60
    assert bond.balanceOfAt(bob, call) == 40
    assert bond.totalSupplyAt(call) == 100
