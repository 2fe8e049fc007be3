"""A seeded, deterministic, streaming simulator of 30-minute meter readings.

`simulate(facilities, start, end, seed)` yields Readings interval by interval (time-major: all
meters of all facilities for one interval, then the next), generating one JST day at a time, so
memory does not grow with the period. A reading depends only on (seed, meter, JST date), never on
where the period starts: two overlapping runs agree on their overlap.

Building (office): expected Wh of a 30-minute interval =
    floor_area x 142,000 Wh x BEI / meters  x  w(interval) / W(fiscal year)
with w the benchmark profile of greenbond.impact.methodology (weekday/weekend x JST hour x month;
both halves of an hour share the hour's weight), public holidays and the Dec 29 - Jan 3 closure
counted as weekend days when `holidays` is on, and W the sum of w over the fiscal year's 30-minute
intervals (so the expected annual total is floor_area x 142 kWh/m2 x BEI, split evenly over the
meters). Noise: a day factor N(1, 0.04) and an interval factor N(1, 0.03).

Solar: clear-sky power follows the sun's elevation at Tokyo (35.68 N, 139.77 E; solar time =
JST + 19 min; declination 23.44 deg x sin(2 pi (284 + day of year) / 365)), as sin(elevation)^1.2
at the interval's midpoint; each day draws weather (sunny / cloudy / rainy, by month, with the
June-July rainy season) and cloudy intervals flicker. Scaled so that the expected fiscal-year
output is capacity x capacity_factor x hours; nights are exactly zero; never above capacity.

Floats are used for the synthetic shapes only; every Reading carries an integer Wh.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from functools import lru_cache
from typing import Iterable, Iterator

from greenbond.impact.facilities import FacilitySpec
from greenbond.impact.methodology import (
    MONTH_WEIGHTS,
    STANDARD_KWH_PER_M2_YEAR,
    WEEKDAY_HOUR_WEIGHTS,
    WEEKEND_HOUR_WEIGHTS,
    fiscal_year,
)
from greenbond.meters.model import INTERVAL_S, JST, UTC, Reading, to_utc

LATITUDE = 35.68
LONGITUDE = 139.77
SOLAR_TIME_OFFSET_H = (LONGITUDE - 135.0) / 15.0
# (p sunny, p cloudy) by month; the rest is rainy. Clearness: sunny 0.95, cloudy 0.55, rainy 0.18.
WEATHER = {1: (0.65, 0.25), 2: (0.6, 0.28), 3: (0.5, 0.3), 4: (0.5, 0.3), 5: (0.5, 0.32), 6: (0.3, 0.35),
           7: (0.4, 0.35), 8: (0.55, 0.3), 9: (0.4, 0.33), 10: (0.45, 0.33), 11: (0.55, 0.28), 12: (0.65, 0.25)}
CLEARNESS = (0.95, 0.55, 0.18)


# ---------------------------------------------------------------- Japanese holidays


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


@lru_cache(maxsize=32)
def jp_holidays(year: int) -> frozenset[dt.date]:
    """Japanese public holidays of `year` (rules in force since 2020; equinoxes by the usual
    approximation, valid 1980-2099), with substitute holidays and sandwiched citizens' holidays."""
    y = year - 1980
    vernal = int(20.8431 + 0.242194 * y - y // 4)
    autumnal = int(23.2488 + 0.242194 * y - y // 4)
    days = {dt.date(year, m, d) for m, d in ((1, 1), (2, 11), (2, 23), (4, 29), (5, 3), (5, 4), (5, 5),
                                              (8, 11), (11, 3), (11, 23))}
    days |= {dt.date(year, 3, vernal), dt.date(year, 9, autumnal), _nth_monday(year, 1, 2),
             _nth_monday(year, 7, 3), _nth_monday(year, 9, 3), _nth_monday(year, 10, 2)}
    for d in sorted(days):
        if d.weekday() == 6:                       # substitute holiday: next non-holiday day
            sub = d + dt.timedelta(days=1)
            while sub in days:
                sub += dt.timedelta(days=1)
            days.add(sub)
    for d in sorted(days):                         # citizens' holiday between two holidays
        mid = d + dt.timedelta(days=1)
        if mid not in days and d + dt.timedelta(days=2) in days and mid.weekday() != 6:
            days.add(mid)
    return frozenset(days)


def is_day_off(day: dt.date, holidays: bool) -> bool:
    """Weekend; with `holidays`, also public holidays and the Dec 29 - Jan 3 office closure."""
    if day.weekday() >= 5:
        return True
    if not holidays:
        return False
    return day in jp_holidays(day.year) or (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)


# ---------------------------------------------------------------- shapes


def office_day_weights(day: dt.date, holidays: bool) -> tuple[int, ...]:
    """24 hour weights of a JST day (the benchmark profile, days off as weekends)."""
    hours = WEEKEND_HOUR_WEIGHTS if is_day_off(day, holidays) else WEEKDAY_HOUR_WEIGHTS
    month = MONTH_WEIGHTS[day.month]
    return tuple(h * month for h in hours)


def _fiscal_days(year: int) -> Iterator[dt.date]:
    day, end = dt.date(year, 4, 1), dt.date(year + 1, 4, 1)
    while day < end:
        yield day
        day += dt.timedelta(days=1)


@lru_cache(maxsize=32)
def office_interval_weight_total(year: int, holidays: bool) -> int:
    """Sum of 30-minute weights over fiscal year `year` (each hour's weight counted twice)."""
    return sum(2 * sum(office_day_weights(d, holidays)) for d in _fiscal_days(year))


def sin_elevation(instant_utc: dt.datetime) -> float:
    """Sine of the sun's elevation at Tokyo at an instant (negative at night)."""
    local = instant_utc.astimezone(JST)
    doy = local.timetuple().tm_yday
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365)
    solar_hours = local.hour + local.minute / 60 + local.second / 3600 + SOLAR_TIME_OFFSET_H
    hour_angle = math.radians(15.0 * (solar_hours - 12.0))
    lat = math.radians(LATITUDE)
    return math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)


def clear_sky_shape(instant_utc: dt.datetime) -> float:
    """Relative clear-sky output of the 30-minute interval starting at instant (midpoint)."""
    s = sin_elevation(instant_utc + dt.timedelta(seconds=INTERVAL_S // 2))
    return s ** 1.2 if s > 0 else 0.0


def expected_clearness(month: int) -> float:
    ps, pc = WEATHER[month]
    return ps * CLEARNESS[0] + pc * CLEARNESS[1] + (1 - ps - pc) * CLEARNESS[2]


@lru_cache(maxsize=32)
def solar_expected_shape_total(year: int) -> float:
    """Sum over the fiscal year's intervals of clear-sky shape x the month's expected clearness."""
    total = 0.0
    for day in _fiscal_days(year):
        k = expected_clearness(day.month)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=JST).astimezone(UTC)
        total += k * sum(clear_sky_shape(start + dt.timedelta(seconds=i * INTERVAL_S)) for i in range(48))
    return total


# ---------------------------------------------------------------- days


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=JST).astimezone(UTC)


def building_day(facility: FacilitySpec, day: dt.date, seed: int, holidays: bool) -> dict[str, list[int]]:
    """48 interval Wh values per meter for one JST day of a building."""
    fy = fiscal_year(_day_start(day))
    annual_wh = facility.floor_area_m2 * STANDARD_KWH_PER_M2_YEAR * 1000 * float(facility.bei)
    per_weight = annual_wh / len(facility.meters) / office_interval_weight_total(fy, holidays)
    weights = office_day_weights(day, holidays)
    out = {}
    for meter in facility.meters:
        rng = random.Random(f"{seed}|{meter}|{day.isoformat()}")
        day_factor = max(0.5, rng.gauss(1.0, 0.04))
        out[meter] = [max(0, round(per_weight * weights[i // 2] * day_factor * rng.gauss(1.0, 0.03)))
                      for i in range(48)]
    return out


def solar_day(facility: FacilitySpec, day: dt.date, seed: int) -> dict[str, list[int]]:
    """48 interval Wh values per meter for one JST day of a solar plant."""
    start = _day_start(day)
    fy = fiscal_year(start)
    hours = sum(24 for _ in _fiscal_days(fy))
    target_wh = facility.capacity_kw * 1000 * float(facility.capacity_factor) * hours
    scale = target_wh / solar_expected_shape_total(fy)
    cap_wh = facility.capacity_kw * 500
    weather = random.Random(f"{seed}|{facility.key}|{day.isoformat()}|weather")
    ps, pc = WEATHER[day.month]
    u = weather.random()
    state = 0 if u < ps else 1 if u < ps + pc else 2
    clearness = CLEARNESS[state]
    shapes = [clear_sky_shape(start + dt.timedelta(seconds=i * INTERVAL_S)) for i in range(48)]
    spread = (0.03, 0.25, 0.15)[state]
    out = {}
    for meter in facility.meters:
        rng = random.Random(f"{seed}|{meter}|{day.isoformat()}")
        values = []
        for shape in shapes:
            if shape == 0.0:
                values.append(0)
                continue
            flicker = min(1.4, max(0.2, rng.gauss(1.0, spread)))
            values.append(min(cap_wh, max(0, round(scale * shape * clearness * flicker / len(facility.meters)))))
        out[meter] = values
    return out


def facility_day(facility: FacilitySpec, day: dt.date, seed: int, holidays: bool) -> dict[str, list[int]]:
    if facility.kind == "building":
        return building_day(facility, day, seed, holidays)
    return solar_day(facility, day, seed)


def simulate(
    facilities: Iterable[FacilitySpec], start: dt.datetime, end: dt.datetime, seed: int = 0, holidays: bool = True
) -> Iterator[Reading]:
    """Readings of every meter of `facilities` for the intervals in [start, end), time-major.
    start and end are aware instants; start is rounded up to the next :00/:30 boundary."""
    facilities = list(facilities)
    t0 = -(-int(to_utc(start).timestamp()) // INTERVAL_S) * INTERVAL_S
    t1 = int(to_utc(end).timestamp())
    day = dt.datetime.fromtimestamp(t0, JST).date()
    while True:
        day_start = _day_start(day)
        base = int(day_start.timestamp())
        if base >= t1:
            return
        values = [(f, facility_day(f, day, seed, holidays)) for f in facilities]
        for i in range(48):
            ts = base + i * INTERVAL_S
            if ts < t0:
                continue
            if ts >= t1:
                return
            instant = day_start + dt.timedelta(seconds=i * INTERVAL_S)
            for f, per_meter in values:
                for meter, series in per_meter.items():
                    yield Reading(f.facility_id, meter, instant, series[i], 0, "sim")
        day += dt.timedelta(days=1)
