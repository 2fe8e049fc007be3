"""balanceOfAt / totalSupplyAt: balances fixed at each record date, whatever moves before or after."""

import re

import brownie
import pytest
from brownie import chain

DAY = 86_400
HOUR = 3_600


@pytest.fixture(autouse=True)
def setup(holders):
    pass


@pytest.fixture
def dates(bond):
    return list(bond.recordDates())


def sleep_past(t):
    """Advance chain time so that the next block is at least a minute after `t`."""
    chain.sleep(max(0, t - chain.time()) + 60)
    chain.mine()


def sleep_until_before(t):
    """Advance chain time to an hour before `t` (the next transactions still precede `t`)."""
    assert chain.time() < t - HOUR
    chain.sleep(t - HOUR - chain.time())


def test_record_dates_follow_coupons(bond):
    assert list(bond.recordDates()) == [c - DAY for c in bond.couponDates()]


def test_untouched_balances_at_record_date(bond, dates, alice, bob, carol):
    sleep_past(dates[0])
    assert bond.balanceOfAt(alice, dates[0]) == 100
    assert bond.balanceOfAt(bob, dates[0]) == 50
    assert bond.balanceOfAt(carol, dates[0]) == 0
    assert bond.totalSupplyAt(dates[0]) == 150


def test_transfer_after_record_date(bond, dates, alice, bob):
    sleep_past(dates[0])
    bond.transfer(bob, 10, {"from": alice})
    assert bond.balanceOfAt(alice, dates[0]) == 100
    assert bond.balanceOfAt(bob, dates[0]) == 50
    assert (bond.balanceOf(alice), bond.balanceOf(bob)) == (90, 60)


def test_transfer_before_record_date(bond, dates, alice, bob):
    sleep_until_before(dates[0])
    bond.transfer(bob, 10, {"from": alice})
    sleep_past(dates[0])
    bond.transfer(bob, 5, {"from": alice})
    assert bond.balanceOfAt(alice, dates[0]) == 90
    assert bond.balanceOfAt(bob, dates[0]) == 60


def test_several_record_dates(bond, dates, agent, alice, bob, carol):
    bond.transfer(bob, 10, {"from": alice})                      # before R0: 90 / 60 / 0
    sleep_past(dates[0])
    bond.transfer(carol, 20, {"from": alice})                    # before R1: 70 / 60 / 20
    bond.mint(bob, 40, {"from": agent})                          #            70 / 100 / 20
    sleep_past(dates[1])
    bond.burn(alice, 70, {"from": agent})                        # before R2: 0 / 100 / 20
    bond.transfer(alice, 5, {"from": carol})                     #            5 / 100 / 15
    sleep_past(dates[2])
    sleep_past(dates[3])                                         # nothing moved: R3 == R2
    bond.transfer(carol, 100, {"from": bob})                     # after R3:  5 / 0 / 115
    expected = {
        0: (90, 60, 0, 150),
        1: (70, 100, 20, 190),
        2: (5, 100, 15, 120),
        3: (5, 100, 15, 120),
    }
    for i, (a, b, c, supply) in expected.items():
        assert bond.balanceOfAt(alice, dates[i]) == a
        assert bond.balanceOfAt(bob, dates[i]) == b
        assert bond.balanceOfAt(carol, dates[i]) == c
        assert bond.totalSupplyAt(dates[i]) == supply


def test_first_receipt_after_record_date(bond, dates, register, agent, alice, dave):
    register(dave, 4)
    sleep_past(dates[0])
    bond.transfer(dave, 7, {"from": alice})
    sleep_past(dates[1])
    sleep_past(dates[2])
    bond.mint(dave, 3, {"from": agent})
    assert bond.balanceOfAt(dave, dates[0]) == 0
    assert bond.balanceOfAt(dave, dates[1]) == 7
    assert bond.balanceOfAt(dave, dates[2]) == 7
    assert bond.balanceOf(dave) == 10


def test_first_mint_after_several_record_dates(bond, dates, register, agent, dave):
    register(dave, 4)
    sleep_past(dates[2])
    bond.mint(dave, 9, {"from": agent})
    for i in range(3):
        assert bond.balanceOfAt(dave, dates[i]) == 0
    assert bond.totalSupplyAt(dates[2]) == 150
    sleep_past(dates[3])
    assert bond.balanceOfAt(dave, dates[3]) == 9
    assert bond.totalSupplyAt(dates[3]) == 159


def test_emptied_then_refilled(bond, dates, alice, bob):
    bond.transfer(bob, 100, {"from": alice})
    sleep_past(dates[0])
    bond.transfer(alice, 30, {"from": bob})
    sleep_past(dates[1])
    bond.transfer(bob, 30, {"from": alice})
    sleep_past(dates[2])
    bond.transfer(alice, 1, {"from": bob})
    assert [bond.balanceOfAt(alice, d) for d in dates[:3]] == [0, 30, 0]
    assert [bond.balanceOfAt(bob, d) for d in dates[:3]] == [150, 120, 150]


def test_held_then_emptied_then_refilled_keeps_every_date(bond, dates, alice, bob):
    """A wallet that held units at one record date, none at the next and some at the third: the
    zero in between is not stored, and must not hide the first date's balance (found by make fuzz:
    the chain used to link the third entry to the unstored second one and read the first as 0)."""
    sleep_past(dates[0])
    bond.transfer(bob, 100, {"from": alice})      # alice held 100 at date 0, now none
    sleep_past(dates[1])
    bond.transfer(alice, 10, {"from": bob})       # alice held 0 at date 1 (not stored)
    sleep_past(dates[2])
    bond.transfer(bob, 5, {"from": alice})        # alice held 10 at date 2
    sleep_past(dates[3])
    bond.transfer(alice, 1, {"from": bob})
    assert [bond.balanceOfAt(alice, d) for d in dates[:4]] == [100, 0, 10, 5]
    assert [bond.balanceOfAt(bob, d) for d in dates[:4]] == [50, 150, 140, 145]


def test_supply_held_then_zero_then_issued_keeps_every_date(GreenBond, terms, registry, admin, agent, register, alice):
    """The same for the supply: issued, all burnt before a record date, issued again."""
    b = GreenBond.deploy(terms, registry, admin, {"from": admin})
    for role in ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE"):
        b.grantRole(getattr(b, role)(), agent, {"from": admin})
    d = list(b.recordDates())
    b.mint(alice, 7, {"from": agent})
    sleep_past(d[0])
    b.burn(alice, 7, {"from": agent})             # supply 7 at date 0, none after
    sleep_past(d[1])
    b.mint(alice, 3, {"from": agent})             # supply 0 at date 1 (not stored)
    sleep_past(d[2])
    b.mint(alice, 1, {"from": agent})             # supply 3 at date 2
    assert [b.totalSupplyAt(x) for x in d[:3]] == [7, 0, 3]
    assert [b.balanceOfAt(alice, x) for x in d[:3]] == [7, 0, 3]


def test_idle_wallet_over_several_record_dates(bond, dates, alice, bob, carol):
    bond.transfer(carol, 10, {"from": alice})
    for i in range(4):
        sleep_past(dates[i])
        bond.transfer(carol, 1, {"from": alice})  # other wallets keep moving
    for i in range(4):
        assert bond.balanceOfAt(bob, dates[i]) == 50
    bond.transfer(carol, 50, {"from": bob})  # bob moves only now
    for i in range(4):
        assert bond.balanceOfAt(bob, dates[i]) == 50
        assert bond.balanceOfAt(alice, dates[i]) == 90 - i
        assert bond.balanceOfAt(carol, dates[i]) == 10 + i


def test_supply_after_mints_and_burns(bond, dates, agent, alice, bob):
    bond.mint(alice, 10, {"from": agent})
    sleep_past(dates[0])
    bond.burn(bob, 50, {"from": agent})
    sleep_past(dates[1])
    sleep_past(dates[2])
    bond.mint(bob, 1, {"from": agent})
    assert [bond.totalSupplyAt(d) for d in dates[:3]] == [160, 110, 110]
    assert bond.totalSupply() == 111


def test_forced_transfer_and_recovery_before_record_date(bond, dates, register, agent, alice, bob, carol, dave):
    register(dave, 1)
    bond.forcedTransfer(bob, carol, 20, {"from": agent})
    bond.recoveryAddress(alice, dave, {"from": agent})
    sleep_past(dates[0])
    bond.transfer(carol, 1, {"from": dave})
    assert [bond.balanceOfAt(w, dates[0]) for w in (alice, bob, carol, dave)] == [0, 30, 20, 100]


def test_approved_transfer_counts_when_approved(bond, dates, admin, agent, alice, bob):
    """Escrowed units still belong to the applicant at a record date."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(bob, 40, "0x", {"from": alice})
    sleep_past(dates[0])
    bond.approveTransfer(0, {"from": agent})
    assert bond.balanceOfAt(alice, dates[0]) == 100
    assert bond.balanceOfAt(bob, dates[0]) == 50
    sleep_past(dates[1])
    assert bond.balanceOfAt(alice, dates[1]) == 60
    assert bond.balanceOfAt(bob, dates[1]) == 90


def test_future_lookup(bond, dates, alice, error_msg):
    pattern = re.escape(error_msg("GreenBondFutureLookup", dates[0])) + r", \d+"
    with brownie.reverts(revert_pattern=pattern):
        bond.balanceOfAt(alice, dates[0])
    with brownie.reverts(revert_pattern=pattern):
        bond.totalSupplyAt(dates[0])


def test_future_lookup_reports_now(bond, dates, alice):
    try:
        bond.balanceOfAt(alice, dates[5])
    except brownie.exceptions.VirtualMachineError as e:
        now = int(e.revert_msg.rsplit(", ", 1)[1])
    else:
        raise AssertionError("no revert")
    assert chain[-1].timestamp <= now < dates[0]


def test_not_a_record_date(bond, dates, alice, revert_with):
    sleep_past(dates[1])
    for t in (dates[0] - 1, dates[0] + 1, dates[0] + DAY, 0, (dates[0] + dates[1]) // 2):
        with revert_with("GreenBondNotARecordDate", t):
            bond.balanceOfAt(alice, t)
        with revert_with("GreenBondNotARecordDate", t):
            bond.totalSupplyAt(t)


def test_record_date_reached_events(bond, dates, alice, bob):
    sleep_past(dates[1])
    tx = bond.transfer(bob, 1, {"from": alice})
    events = tx.events["RecordDateReached"]
    assert [(e["index"], e["recordDate"]) for e in events] == [(0, dates[0]), (1, dates[1])]
    tx = bond.transfer(bob, 1, {"from": alice})
    assert "RecordDateReached" not in tx.events
    sleep_past(dates[2])
    tx = bond.transfer(bob, 1, {"from": alice})
    assert [(e["index"], e["recordDate"]) for e in tx.events["RecordDateReached"]] == [(2, dates[2])]


def test_no_event_before_record_date(bond, alice, bob):
    tx = bond.transfer(bob, 1, {"from": alice})
    assert "RecordDateReached" not in tx.events


def test_record_dates_already_past_at_deployment(hitachi_bond, admin, alice):
    """The default bond's first record dates precede the dev chain's clock: nothing was held then."""
    past = [t for t in hitachi_bond.recordDates() if t < chain.time()]
    tx = hitachi_bond.mint(alice, 10, {"from": admin})
    assert len(tx.events["RecordDateReached"]) == len(past)
    for t in past:
        assert hitachi_bond.balanceOfAt(alice, t) == 0
        assert hitachi_bond.totalSupplyAt(t) == 0
