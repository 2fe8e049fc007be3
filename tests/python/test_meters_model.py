"""Reading model and JST/UTC conversion (Japan has no daylight saving time)."""

import datetime as dt

import pytest

from greenbond.meters.model import (
    JST,
    UTC,
    MeterDataError,
    QuarantineEntry,
    REASONS,
    Reading,
    from_unix,
    is_interval_boundary,
    jst,
    meter_id_bytes32,
    parse_instant,
    to_jst,
    to_unix,
    to_utc,
)


def test_jst_is_utc_plus_nine_all_year_no_dst():
    # US and EU DST switch days and the Japanese mid-summer: the offset is always +9 h.
    for day in [(2024, 1, 1), (2024, 3, 10), (2024, 3, 31), (2024, 7, 15), (2024, 10, 27), (2024, 11, 3)]:
        for hour in (0, 1, 2, 3, 12, 23):
            t = jst(*day, hour)
            assert t.tzinfo == UTC
            assert to_jst(t).utcoffset() == dt.timedelta(hours=9)
            assert to_jst(t).hour == hour
            assert (t.hour - hour) % 24 == 15  # UTC = JST - 9 h


def test_conversions_round_trip():
    t = jst(2024, 1, 5, 9, 30)
    assert t == dt.datetime(2024, 1, 5, 0, 30, tzinfo=UTC)
    assert to_unix(t) == 1704414600
    assert from_unix(to_unix(t)) == t
    assert parse_instant("2024-01-05T09:30:00+09:00") == t
    assert parse_instant("2024-01-05T00:30:00Z") == t
    assert to_utc(dt.datetime(2024, 1, 5, 9, 30, tzinfo=JST)) == t
    # 48 intervals a day, always: 2024-03-31 00:00 JST to 2024-04-01 00:00 JST is 86,400 s
    assert to_unix(jst(2024, 4, 1)) - to_unix(jst(2024, 3, 31)) == 48 * 1800


def test_naive_datetimes_refused():
    with pytest.raises(MeterDataError):
        to_utc(dt.datetime(2024, 1, 5, 9, 30))
    with pytest.raises(MeterDataError):
        parse_instant("2024-01-05T09:30:00")


def test_reading_validation():
    t = jst(2024, 1, 5, 9, 30)
    r = Reading(1, "KYOSO-MAIN-A", t, 41250, 1, "csv")
    assert r.ts == 1704414600 and r.estimated
    assert r.leaf_values() == (1, b"KYOSO-MAIN-A" + b"\0" * 20, 1704414600, 41250, 1)
    assert is_interval_boundary(t) and not is_interval_boundary(t + dt.timedelta(minutes=15))
    bad = [
        dict(facility_id=0), dict(meter_id=""), dict(meter_id="X" * 33), dict(meter_id="メーター"),
        dict(interval_start=dt.datetime(2024, 1, 5, 0, 30)),                      # naive
        dict(interval_start=dt.datetime(2024, 1, 5, 9, 30, tzinfo=JST)),          # not stored in UTC
        dict(interval_start=t + dt.timedelta(minutes=10)),                        # not :00/:30
        dict(wh=-1), dict(wh=1.5), dict(wh=2**64), dict(flags=4),
    ]
    for change in bad:
        fields = dict(facility_id=1, meter_id="M", interval_start=t, wh=1, flags=0)
        fields.update(change)
        with pytest.raises(MeterDataError):
            Reading(**fields)


def test_meter_id_bytes32_and_reasons():
    assert meter_id_bytes32("SOLAR-PV-1") == b"SOLAR-PV-1".ljust(32, b"\0")
    assert len(meter_id_bytes32("X" * 32)) == 32
    with pytest.raises(MeterDataError):
        QuarantineEntry("M", None, "", "no-such-reason", "")
    assert {"negative", "out_of_range", "duplicate_conflict", "frozen", "gap_unfilled", "register_reset"} <= set(REASONS)
