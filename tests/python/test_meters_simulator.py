"""The simulator: deterministic, streaming, realistic annual totals and shapes."""

import datetime as dt
import types
from itertools import islice

import pytest

from greenbond.impact.facilities import load_facilities
from greenbond.meters.model import JST, jst
from greenbond.meters.simulator import is_day_off, jp_holidays, simulate


@pytest.fixture(scope="module")
def facilities():
    return load_facilities()


@pytest.fixture(scope="module")
def year_totals(facilities):
    """One fiscal year (FY2024) streamed once: totals per meter, building weekday/weekend means."""
    totals, days = {}, {True: [0, 0], False: [0, 0]}
    night_solar = 0
    for r in simulate(facilities, jst(2024, 4, 1), jst(2025, 4, 1), seed=11):
        totals[r.meter_id] = totals.get(r.meter_id, 0) + r.wh
        local = r.interval_start.astimezone(JST)
        if r.facility_id == 1:
            off = local.weekday() >= 5
            days[off][0] += r.wh
            days[off][1] += 1
        elif local.hour in (0, 1, 2, 3, 21, 22, 23):
            night_solar += r.wh
    return totals, days, night_solar


def test_is_a_stream_and_deterministic(facilities):
    gen = simulate(facilities, jst(2024, 1, 1), jst(2034, 1, 1), seed=3)
    assert isinstance(gen, types.GeneratorType)       # ten years, never a list
    first = list(islice(gen, 30))
    again = list(islice(simulate(facilities, jst(2024, 1, 1), jst(2034, 1, 1), seed=3), 30))
    assert first == again
    other = list(islice(simulate(facilities, jst(2024, 1, 1), jst(2034, 1, 1), seed=4), 30))
    assert first != other
    # time-major: 3 meters per interval, 30-minute steps
    assert [r.meter_id for r in first[:3]] == ["KYOSO-MAIN-A", "KYOSO-MAIN-B", "SOLAR-PV-1"]
    assert first[3].interval_start - first[0].interval_start == dt.timedelta(minutes=30)


def test_values_do_not_depend_on_where_the_period_starts(facilities):
    a = list(simulate(facilities, jst(2024, 6, 1), jst(2024, 6, 3), seed=5))
    b = list(simulate(facilities, jst(2024, 6, 1, 13, 30), jst(2024, 6, 2, 2), seed=5))
    by_key = {(r.meter_id, r.interval_start): r for r in a}
    assert b and all(by_key[(r.meter_id, r.interval_start)] == r for r in b)
    assert b[0].interval_start == jst(2024, 6, 1, 13, 30) and b[-1].interval_start == jst(2024, 6, 2, 1, 30)


def test_building_annual_total_and_weekday_above_weekend(year_totals):
    totals, days, _ = year_totals
    building_kwh = (totals["KYOSO-MAIN-A"] + totals["KYOSO-MAIN-B"]) / 1000
    target = 16_000 * 142 * 0.74                      # 1,681,280 kWh
    assert abs(building_kwh - target) / target < 0.03
    assert abs(totals["KYOSO-MAIN-A"] - totals["KYOSO-MAIN-B"]) / totals["KYOSO-MAIN-A"] < 0.02
    weekday_mean = days[False][0] / days[False][1]
    weekend_mean = days[True][0] / days[True][1]
    assert weekday_mean > 1.4 * weekend_mean


def test_solar_capacity_factor_and_nights(year_totals):
    totals, _, night = year_totals
    cf = totals["SOLAR-PV-1"] / (500 * 1000 * 24 * 365)
    assert 0.12 <= cf <= 0.15
    assert night == 0


def test_seasons_and_hours(facilities):
    def mean(start, end, meter, hours):
        vals = [r.wh for r in simulate(facilities, start, end, seed=2)
                if r.meter_id == meter and r.interval_start.astimezone(JST).hour in hours]
        return sum(vals) / len(vals)

    # office: August (cooling) above May; 10:00-16:00 on weekdays above 01:00-04:00
    assert mean(jst(2024, 8, 5), jst(2024, 8, 10), "KYOSO-MAIN-A", range(24)) > \
        1.2 * mean(jst(2024, 5, 13), jst(2024, 5, 18), "KYOSO-MAIN-A", range(24))
    assert mean(jst(2024, 5, 13), jst(2024, 5, 18), "KYOSO-MAIN-A", range(10, 16)) > \
        2 * mean(jst(2024, 5, 13), jst(2024, 5, 18), "KYOSO-MAIN-A", range(1, 4))
    # solar: May noon above December noon; capacity never exceeded
    may = mean(jst(2024, 5, 1), jst(2024, 6, 1), "SOLAR-PV-1", (11, 12))
    dec = mean(jst(2024, 12, 1), jst(2025, 1, 1), "SOLAR-PV-1", (11, 12))
    assert may > dec
    assert max(r.wh for r in simulate(facilities[1:], jst(2024, 5, 1), jst(2024, 6, 1), seed=2)) <= 250_000


def test_japanese_holidays():
    h = jp_holidays(2024)
    for day in [(1, 1), (1, 8), (2, 12), (3, 20), (4, 29), (5, 6), (7, 15), (8, 12), (9, 16), (9, 23), (11, 4)]:
        assert dt.date(2024, *day) in h, day               # incl. substitute holidays (Feb 12, May 6, Aug 12, ...)
    assert dt.date(2024, 9, 22) in h                       # autumnal equinox (a Sunday)
    assert len(h) == 21
    assert is_day_off(dt.date(2024, 12, 30), True) and not is_day_off(dt.date(2024, 12, 30), False)
    assert not is_day_off(dt.date(2024, 1, 5), True)
