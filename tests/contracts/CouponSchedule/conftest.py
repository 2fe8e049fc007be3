"""Fixtures for the CouponSchedule tests.

Two kinds of bond are paid here:

* `bond` from the top-level conftest: 12 coupons 30 days apart from the chain's clock
  (frequency 12, record date one day before each coupon). Thirty days is not a calendar month,
  so the schedule treats every period as irregular and pays Actual/365F accrual:
  1_000_000 * 5_980 * 30 // (1_000_000 * 365) = 179_400_000_000 // 365_000_000 = 491 yen a unit.
  `schedule` pays it; alice holds 100 units and bob 50 (the `holders` fixture).
* calendar bonds built by `make_bond` from real dates at 00:00 JST (UTC+9), for the day-count
  and golden-case tests, and `future_hitachi`: the Hitachi shape (semi-annual, 14th of the
  month, 10 coupons, 10,000 units of 1,000,000 yen at 0.598%) issued on the next 14th after the
  chain's clock, so it can be paid.

Time only moves forward: `goto(ts)` mines a block at `ts` when the chain is before it.
"""

import datetime as dt

import pytest
from brownie import chain

from greenbond.config import add_months

DAY = 86_400
JST = 9 * 3600
TZ = dt.timezone(dt.timedelta(seconds=JST))
CALL_NOTICE = 30 * DAY
PER_UNIT_30D = 491  # 1_000_000 * 5_980 * 30 // (1_000_000 * 365)
PAYER_FLOAT = 10**15
MAX = 2**256 - 1


def jst(day):
    """Unix seconds of 00:00 JST on `day` (a date or a (y, m, d) tuple)."""
    if isinstance(day, int):
        return day  # already unix seconds
    if isinstance(day, tuple):
        day = dt.date(*day)
    return int(dt.datetime.combine(day, dt.time(0), TZ).timestamp())


def jst_date(ts):
    """The JST calendar date of unix time `ts`."""
    return dt.datetime.fromtimestamp(ts, TZ).date()


def next_14th(ts):
    """The first 14th of a month, 00:00 JST, strictly after `ts` plus a day of margin."""
    day = jst_date(ts + DAY) + dt.timedelta(days=1)
    while day.day != 14:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture(scope="session")
def helpers(goto):
    """Plain functions for tests: jst, jst_date, goto, add_months, next_14th."""

    class H:
        pass

    h = H()
    h.jst, h.jst_date, h.goto, h.add_months, h.next_14th = jst, jst_date, goto, add_months, next_14th
    h.DAY, h.JST, h.CALL_NOTICE, h.PER_UNIT_30D = DAY, JST, CALL_NOTICE, PER_UNIT_30D
    return h


@pytest.fixture(scope="module")
def payer(accounts):
    """The paying agent: PAYING_AGENT_ROLE on every schedule here, and a float of yen."""
    return accounts[8]


@pytest.fixture(scope="module")
def deploy_schedule(CouponSchedule, admin, payer):
    """deploy_schedule(bond, call_notice=30 days) -> a CouponSchedule for `bond`, deployed as
    greenbond.deploy does (issuer admin, JST calendar), with REDEMPTION_ROLE on the bond so it can
    burn redeemed units; the payer holds a float of the bond's currency and has approved the schedule.
    The currency must have mint(address,uint256) callable by admin (all dev tokens here)."""
    from brownie import Contract

    def _deploy(bond, call_notice=CALL_NOTICE, utc_offset=JST, fund=True):
        s = CouponSchedule.deploy(bond, admin, payer, utc_offset, call_notice, {"from": admin})
        bond.grantRole(bond.REDEMPTION_ROLE(), s, {"from": admin})
        if fund:
            token = Contract.from_abi(
                "Token",
                bond.currency(),
                [
                    {"name": "mint", "type": "function", "stateMutability": "nonpayable",
                     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
                     "outputs": []},
                    {"name": "approve", "type": "function", "stateMutability": "nonpayable",
                     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
                     "outputs": [{"name": "", "type": "bool"}]},
                ],
            )
            token.mint(payer, PAYER_FLOAT, {"from": admin})
            token.approve(s, MAX, {"from": payer})
        return s

    return _deploy


@pytest.fixture(scope="module")
def schedule(deploy_schedule, bond, holders):
    """The schedule of the conftest bond (30-day coupons: 491 yen a unit); alice 100, bob 50."""
    return deploy_schedule(bond)


@pytest.fixture(scope="module")
def make_bond(GreenBond, registry, admin, agent, settlement):
    """make_bond(issue, coupons, frequency=2, ...) -> a GreenBond on real calendar dates
    (dates at 00:00 JST, or unix seconds as given; maturity is the last coupon date)."""

    def _make(issue, coupons, frequency=2, rate=5_980, denomination=1_000_000, units=10_000,
              record_days=1, currency=None, day_count=0):
        dates = [jst(d) for d in coupons]
        terms = (
            "Calendar Green Bond", "CGB", "PLACEHOLDER-CAL",
            (currency or settlement).address,
            denomination, denomination * units, rate, 1, frequency, day_count,
            jst(issue), dates[-1], record_days * DAY, dates,
        )
        b = GreenBond.deploy(terms, registry, admin, {"from": admin})
        for role in ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE"):
            b.grantRole(getattr(b, role)(), agent, {"from": admin})
        return b

    return _make


@pytest.fixture(scope="module")
def future_hitachi(make_bond, deploy_schedule, holders, agent, alice, bob, carol):
    """The Hitachi shape issued on the next 14th (00:00 JST) after the chain's clock: 10
    semi-annual coupons on the 14th, 10,000 units (alice 6,000, bob 3,000, carol 1,000)."""
    issue = next_14th(chain.time())
    coupons = [add_months(issue, 6 * k) for k in range(1, 11)]
    b = make_bond(issue, coupons)
    s = deploy_schedule(b)
    b.batchMint([alice, bob, carol], [6_000, 3_000, 1_000], {"from": agent})
    return b, s, issue, coupons


def _shift_months(ts, months, tz_offset=JST):
    """Python model of a calendar shift: `ts` moved by `months` months in the bond's calendar,
    a month end staying a month end, other days clamped to the month's length."""
    local = dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(seconds=tz_offset)))
    day = local.date()
    month_end = (day + dt.timedelta(days=1)).month != day.month
    shifted = add_months(day, months)
    if month_end:
        shifted = add_months(dt.date(shifted.year, shifted.month, 1), 1) - dt.timedelta(days=1)
    return int(dt.datetime.combine(shifted, local.timetz()).timestamp())


def model_per_unit(previous, date, frequency, denomination=1_000_000, rate=5_980):
    """Per-unit coupon of the period previous -> date (unix seconds): regular when the two
    dates lie one period apart on a calendar schedule (either way round), else Actual/365F."""
    step = 12 // frequency
    if _shift_months(date, -step) == previous or _shift_months(previous, step) == date:
        return denomination * rate // (1_000_000 * frequency)
    return denomination * rate * ((date - previous) // DAY) // (1_000_000 * 365)


@pytest.fixture(scope="session")
def per_unit_model():
    return model_per_unit
