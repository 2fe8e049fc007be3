"""Per-unit coupons of regular and irregular periods, worked out by hand.

Regular period: denomination x rate // (1e6 x frequency). Irregular first or last period
(Actual/365 Fixed): denomination x rate x days // (1e6 x 365), days counted between the
00:00 JST dates. Denomination 1,000,000 yen, rate 0.598% (5,980 ppm) unless stated.
These bonds only need deploying: their dates may lie in the past.
"""

import datetime as dt

import pytest

from greenbond.config import regular_schedule

D = dt.date
REGULAR = 2_990  # 1_000_000 * 5_980 // (1_000_000 * 2)


def actual_365f(start, end, denomination=1_000_000, rate=5_980):
    return denomination * rate * (end - start).days // (1_000_000 * 365)


@pytest.fixture(scope="module")
def per_units(make_bond, deploy_schedule):
    def _per_units(issue, coupons, frequency=2, **kw):
        s = deploy_schedule(make_bond(issue, coupons, frequency=frequency, **kw), fund=False)
        return [s.couponPerUnit(i) for i in range(s.couponCount())]

    return _per_units


def test_short_first_period(per_units):
    # 2025-01-10 -> 2025-06-14: Jan 21 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 14 = 155 days
    # 1_000_000 * 5_980 * 155 // (1_000_000 * 365) = 926_900 // 365 = 2_539 (365 * 2_539 = 926_735)
    coupons = [D(2025, 6, 14), D(2025, 12, 14), D(2026, 6, 14), D(2026, 12, 14)]
    assert (coupons[0] - D(2025, 1, 10)).days == 155
    assert actual_365f(D(2025, 1, 10), coupons[0]) == 2_539
    assert per_units(D(2025, 1, 10), coupons) == [2_539, REGULAR, REGULAR, REGULAR]


def test_long_first_period(per_units):
    # 2024-10-01 -> 2025-06-14: Oct 30 + Nov 30 + Dec 31 + Jan 31 + Feb 28 + Mar 31 + Apr 30
    #   + May 31 + Jun 14 = 256 days
    # 5_980 * 256 // 365 = 1_530_880 // 365 = 4_194 (365 * 4_194 = 1_530_810)
    coupons = [D(2025, 6, 14), D(2025, 12, 14), D(2026, 6, 14)]
    assert (coupons[0] - D(2024, 10, 1)).days == 256
    assert per_units(D(2024, 10, 1), coupons) == [4_194, REGULAR, REGULAR]


def test_short_last_period(per_units):
    # 2026-06-14 -> 2026-09-30: Jun 16 + Jul 31 + Aug 31 + Sep 30 = 108 days
    # 5_980 * 108 // 365 = 645_840 // 365 = 1_769 (365 * 1_769 = 645_685)
    coupons = [D(2025, 6, 14), D(2025, 12, 14), D(2026, 6, 14), D(2026, 9, 30)]
    assert (coupons[-1] - coupons[-2]).days == 108
    assert per_units(D(2024, 12, 14), coupons) == [REGULAR, REGULAR, REGULAR, 1_769]


def test_long_last_period(per_units):
    # 2026-06-14 -> 2027-02-28: 16 + 31 + 31 + 30 + 31 + 30 + 31 + 31 + 28 = 259 days
    # 5_980 * 259 // 365 = 1_548_820 // 365 = 4_243 (365 * 4_243 = 1_548_695)
    coupons = [D(2025, 6, 14), D(2025, 12, 14), D(2026, 6, 14), D(2027, 2, 28)]
    assert (coupons[-1] - coupons[-2]).days == 259
    assert per_units(D(2024, 12, 14), coupons) == [REGULAR, REGULAR, REGULAR, 4_243]


def test_short_first_and_last(per_units):
    # first: 2025-03-01 -> 2025-06-14 = 31 + 30 + 31 + 13 = 105 days: 627_900 // 365 = 1_720
    # last: 2025-12-14 -> 2026-03-31 = 17 + 31 + 28 + 31 = 107 days: 639_860 // 365 = 1_753
    coupons = [D(2025, 6, 14), D(2025, 12, 14), D(2026, 3, 31)]
    assert (coupons[0] - D(2025, 3, 1)).days == 105 and (coupons[2] - coupons[1]).days == 107
    assert per_units(D(2025, 3, 1), coupons) == [1_720, REGULAR, 1_753]


def test_irregular_other_denomination_and_rate(per_units):
    # denomination 100,000 yen, 1.25% (12,500 ppm), quarterly: regular 100_000 * 12_500 // 4e6 = 312
    # first 2025-01-01 -> 2025-03-20 = 30 + 28 + 20 = 78 days:
    #   100_000 * 12_500 * 78 // 365_000_000 = 97_500_000_000 // 365_000_000 = 267
    coupons = [D(2025, 3, 20), D(2025, 6, 20), D(2025, 9, 20)]
    got = per_units(D(2025, 1, 1), coupons, frequency=4, denomination=100_000, rate=12_500)
    assert got == [267, 312, 312]


def test_month_end_schedule_31_aug_28_29_feb(per_units):
    """31 Aug / end of Feb (28, or 29 in a leap year) are regular half-years."""
    coupons = [D(2025, 2, 28), D(2025, 8, 31), D(2026, 2, 28), D(2026, 8, 31), D(2027, 2, 28),
               D(2027, 8, 31), D(2028, 2, 29), D(2028, 8, 31)]
    assert regular_schedule(D(2024, 8, 31), D(2028, 8, 31), 2) == coupons
    assert per_units(D(2024, 8, 31), coupons) == [REGULAR] * 8


def test_month_end_leap_february_issue(per_units):
    """Issued 29 Feb 2024 (a month end), paying 31 Aug and end of Feb."""
    coupons = [D(2024, 8, 31), D(2025, 2, 28), D(2025, 8, 31)]
    assert per_units(D(2024, 2, 29), coupons) == [REGULAR] * 3


def test_30_june_30_december_is_regular(per_units):
    """30 June is the last day of June, but a 30 Jun / 30 Dec schedule is an ordinary one
    (the deploy generates it: regular_schedule rolls 30 Dec back to 30 Jun). Every period is
    a regular half-year: 2,990, not Actual/365F (182 days would give 2,981)."""
    coupons = [D(2025, 6, 30), D(2025, 12, 30), D(2026, 6, 30), D(2026, 12, 30)]
    assert regular_schedule(D(2024, 12, 30), D(2026, 12, 30), 2) == coupons
    assert per_units(D(2024, 12, 30), coupons) == [REGULAR] * 4


def test_28_feb_28_aug_is_regular(per_units):
    """Maturity 28 Feb 2027 rolls back to 28 Aug / 28 Feb: regular, though 28 Feb 2026 is a
    month end (Actual/365F of 184 days would give 3,014)."""
    coupons = [D(2026, 2, 28), D(2026, 8, 28), D(2027, 2, 28)]
    assert regular_schedule(D(2025, 8, 28), D(2027, 2, 28), 2) == coupons
    assert per_units(D(2025, 8, 28), coupons) == [REGULAR] * 3


def test_29th_schedule_clamped_in_february(per_units):
    """Maturity 29 Feb 2028 rolls back to 29 Aug / 28 Feb 2027 / 29 Aug: all regular."""
    coupons = [D(2026, 8, 29), D(2027, 2, 28), D(2027, 8, 29), D(2028, 2, 29)]
    assert regular_schedule(D(2026, 2, 28), D(2028, 2, 29), 2) == coupons
    assert per_units(D(2026, 2, 28), coupons) == [REGULAR] * 4


@pytest.mark.parametrize(
    "frequency,issue,coupons,expected",
    [
        (1, D(2025, 6, 14), [D(2026, 6, 14), D(2027, 6, 14)], 5_980),      # 5_980_000_000 // 1_000_000
        (4, D(2025, 6, 14), [D(2025, 9, 14), D(2025, 12, 14), D(2026, 3, 14)], 1_495),  # // 4_000_000
        (12, D(2025, 1, 31), [D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30)], 498),  # // 12_000_000
    ],
)
def test_regular_other_frequencies(per_units, frequency, issue, coupons, expected):
    assert per_units(issue, coupons, frequency=frequency) == [expected] * len(coupons)


def test_conftest_bond_per_unit(schedule, bond, per_unit_model):
    """30-day coupons are mostly not calendar months: 1_000_000 * 5_980 * 30 // 365_000_000 = 491.
    A 30-day period that is exactly one calendar month (24 Nov -> 24 Dec) is regular:
    1_000_000 * 5_980 // 12_000_000 = 498. The model decides which, from the chain's dates."""
    assert 1_000_000 * 5_980 * 30 // (1_000_000 * 365) == 491
    assert 1_000_000 * 5_980 // (1_000_000 * 12) == 498
    previous = bond.issueDate()
    for i in range(12):
        expected = per_unit_model(previous, schedule.couponDate(i), 12)
        assert expected in (491, 498)
        assert schedule.couponPerUnit(i) == expected
        previous = schedule.couponDate(i)


def test_irregular_needs_actual_365f(make_bond, deploy_schedule, CouponSchedule, admin, payer, revert_with):
    """Only Actual/365 Fixed is supported for an irregular period (here 30/360, basis 2)."""
    bond = make_bond(D(2025, 1, 10), [D(2025, 6, 14), D(2025, 12, 14)], day_count=2)
    with revert_with("ScheduleUnsupportedDayCount", 2):
        CouponSchedule.deploy(bond, admin, payer, 32_400, 0, {"from": admin})
    regular = make_bond(D(2024, 12, 14), [D(2025, 6, 14), D(2025, 12, 14)], day_count=2)
    s = deploy_schedule(regular, fund=False)
    assert [s.couponPerUnit(0), s.couponPerUnit(1)] == [REGULAR, REGULAR]


def test_calendar_follows_utc_offset(make_bond, CouponSchedule, admin, payer):
    """The JST dates read in UTC are 15:00 the day before; with utcOffset 0, 13 Jun 15:00 UTC
    minus six months is 13 Dec 15:00 UTC: still regular. With a -10h calendar, 14 Jun 00:00
    JST is 13 Jun 05:00 local and 14 Dec 00:00 JST is 13 Dec 05:00 local: regular too."""
    bond = make_bond(D(2024, 12, 14), [D(2025, 6, 14), D(2025, 12, 14)])
    for offset in (0, -36_000, 32_400, 50_400):
        s = CouponSchedule.deploy(bond, admin, payer, offset, 0, {"from": admin})
        assert s.couponPerUnit(0) == REGULAR
