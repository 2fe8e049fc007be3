"""VEE on crafted bad data of each kind; every input accounted for."""

import datetime as dt

from greenbond.meters.csv_source import read_csv_lines
from greenbond.meters.model import FLAG_ESTIMATED, MeterSpec, QuarantineEntry, RawReading, Reading, jst
from greenbond.meters.vee import Vee, interpolate, validate

T0 = jst(2024, 1, 8, 0)                      # a Monday, 00:00 JST
METERS = {"A": MeterSpec(1, 100)}            # 100 kW: at most 50,000 Wh per 30 minutes


def raw(k, wh, meter="A", facility=1, flags=0):
    return RawReading(facility, meter, T0 + dt.timedelta(minutes=30 * k), wh, flags, f"t{k}", f"raw {meter} {k} {wh}")


def at(k):
    return T0 + dt.timedelta(minutes=30 * k)


def readings(out):
    return [(int((x.interval_start - T0).total_seconds()) // 1800, x.wh, x.flags) for x in out if isinstance(x, Reading)]


def entries(out):
    return [(int((x.interval_start - T0).total_seconds()) // 1800, x.reason) for x in out if isinstance(x, QuarantineEntry)]


def check_accounting(vee, inputs):
    """Nothing silent: every input is a reading, a quarantine entry or a counted identical duplicate."""
    s = vee.stats
    vee_quarantined = sum(s.quarantined.values()) - s.quarantined["gap_unfilled"] - s.passed_through
    assert s.received == len([i for i in inputs if not isinstance(i, QuarantineEntry)])
    assert s.received == s.accepted + vee_quarantined + s.duplicates_identical


def test_interpolate_integers():
    # (1000 x 2 + 1300 x 1 + 1) // 3 = 1100 ; (1000 + 1300 x 2 + 1) // 3 = 1200
    assert interpolate(1000, 1300, 2) == [1100, 1200]
    assert interpolate(1000, 2000, 4) == [1200, 1400, 1600, 1800]
    assert interpolate(0, 1, 1) == [1]         # 0.5 rounds half up


def test_negative_and_out_of_range_become_gaps_estimated():
    inputs = [raw(0, 1000), raw(1, -5), raw(2, 50_001), raw(3, 1300), raw(4, 50_000)]
    vee = Vee(METERS)
    out = list(vee.run(inputs))
    assert entries(out) == [(1, "negative"), (2, "out_of_range")]
    q = [x for x in out if isinstance(x, QuarantineEntry)]
    assert q[0].raw == "raw A 1 -5" and "-5 Wh < 0" in q[0].detail
    assert "50001 Wh > 50000 Wh" in q[1].detail
    # the two gaps interpolated between 1000 and 1300, flagged E; 50,000 is exactly the bound: accepted
    assert readings(out) == [(0, 1000, 0), (1, 1100, 1), (2, 1200, 1), (3, 1300, 0), (4, 50_000, 0)]
    est = [x for x in out if isinstance(x, Reading) and x.flags & FLAG_ESTIMATED]
    assert all(x.source == "vee:interpolated" for x in est)
    check_accounting(vee, inputs)


def test_duplicates_identical_counted_conflicting_quarantined_first_kept():
    inputs = [raw(0, 1000), raw(0, 1000), raw(0, 1001), raw(1, 1100), raw(1, 1100, flags=2), raw(0, 1000)]
    vee = Vee(METERS)
    out = list(vee.run(inputs))
    assert readings(out) == [(0, 1000, 0), (1, 1100, 0)]
    assert entries(out) == [(0, "duplicate_conflict"), (1, "duplicate_conflict")]
    assert vee.stats.duplicates_identical == 2
    check_accounting(vee, inputs)


def test_short_gap_linear_interpolation():
    out = list(validate([raw(0, 1000), raw(5, 2000)], METERS))
    # 4 missing intervals (2 h): (1000 x (5 - i) + 2000 x i + 2) // 5 for i = 1..4
    assert readings(out) == [(0, 1000, 0), (1, 1200, 1), (2, 1400, 1), (3, 1600, 1), (4, 1800, 1), (5, 2000, 0)]


def test_long_gap_like_week_then_like_day_then_unfilled():
    week = 7 * 48
    history = [raw(k, 1000 + k) for k in range(week + 10)]          # 7 days and 5 hours, all actual
    vee = Vee(METERS)
    out = list(vee.run(history + [raw(week + 16, 9000)]))          # 6 missing intervals: > 2 h
    est = [r for r in readings(out) if r[2]]
    # like-week: interval k takes the value of k - 336 (1000 + k - 336)
    assert est == [(k, 1000 + k - week, 1) for k in range(week + 10, week + 16)]
    assert {x.source for x in out if isinstance(x, Reading) and x.flags} == {"vee:like-week"}

    # one day of history only: like-day (k - 48)
    vee = Vee(METERS)
    out = list(vee.run([raw(k, 500 + k) for k in range(50)] + [raw(60, 7)]))
    assert [r for r in readings(out) if r[2]] == [(k, 500 + k - 48, 1) for k in range(50, 60)]

    # no history: the intervals are declared unfilled, one entry each, no raw
    vee = Vee(METERS)
    out = list(vee.run([raw(0, 5), raw(7, 9)]))
    assert entries(out) == [(k, "gap_unfilled") for k in range(1, 7)]
    assert all(x.raw == "" for x in out if isinstance(x, QuarantineEntry))
    assert vee.stats.quarantined["gap_unfilled"] == 6


def test_frozen_third_and_later_quarantined_zeros_exempt():
    inputs = [raw(0, 500), raw(1, 500), raw(2, 500), raw(3, 500), raw(4, 700),
              raw(5, 0), raw(6, 0), raw(7, 0), raw(8, 0)]
    vee = Vee(METERS)
    out = list(vee.run(inputs))
    assert entries(out) == [(2, "frozen"), (3, "frozen")]
    # intervals 2 and 3 interpolated between 500 and 700: (1000 + 700 + 1)//3 = 567, (500 + 1400 + 1)//3 = 633
    assert readings(out) == [(0, 500, 0), (1, 500, 0), (2, 567, 1), (3, 633, 1), (4, 700, 0),
                             (5, 0, 0), (6, 0, 0), (7, 0, 0), (8, 0, 0)]
    check_accounting(vee, inputs)


def test_unknown_meter_outside_period_late():
    vee = Vee(METERS, start=at(0), end=at(48 * 9))
    inputs = [raw(0, 1, meter="B"), raw(0, 1, facility=2), raw(-1, 5), raw(48 * 9, 5)]
    inputs += [raw(k, 100) if k % 2 else raw(k, 200) for k in range(48 * 8)] + [raw(3, 100)]
    out = list(vee.feed(i) for i in inputs)
    flat = [x for batch in out for x in batch]
    assert entries(flat)[:4] == [(0, "unknown_meter"), (0, "unknown_meter"), (-1, "outside_period"), (48 * 9, "outside_period")]
    assert entries(flat)[-1] == (3, "late")                 # 8 days after: beyond the 7-day lookback
    check_accounting(vee, inputs)


def test_lagging_meter_filled_like_day_and_late_value_after_estimate():
    meters = {"A": MeterSpec(1, 100), "B": MeterSpec(1, 100)}
    vee = Vee(meters)
    inputs = []
    for k in range(48 + 4):                               # a day and 2 h of both
        inputs += [raw(k, 1000 + k, "A"), raw(k, 2000 + k, "B")]
    for k in range(52, 70):                               # then B falls silent
        inputs.append(raw(k, 1000 + k, "A"))
    out = [x for i in inputs for x in vee.feed(i)]
    b_est = [r for r in readings(x for x in out if x.meter_id == "B") if r[2]]
    # B last at 51. When A reaches 60, B is more than 4 h (8 intervals) behind: filled by like-day (k - 48) up
    # to 60 - 4 = 56 (2 h behind); at 65 again up to 61; at 69 B is 4 h behind, not more: no fill
    assert b_est == [(k, 2000 + k - 48, 1) for k in range(52, 62)]
    # B's estimates were emitted before the A reading that moved the watermark past them
    late = vee.feed(raw(60, 5, "B"))
    assert entries(late) == [(60, "late_after_estimate")]
    # B comes back at 68: 62..67 like-day (the gap is long, not interpolated), then 68 accepted
    back = vee.feed(raw(68, 77, "B"))
    assert readings(back) == [(k, 2000 + k - 48, 1) for k in range(62, 68)] + [(68, 77, 0)]


def test_finish_fills_trailing_gap_until_end():
    vee = Vee(METERS, start=at(0), end=at(52))
    out = list(vee.run([raw(k, 10 + k) for k in range(50)]))
    assert readings(out)[-2:] == [(50, 12, 1), (51, 13, 1)]   # like-day: k - 48


def test_csv_through_vee_all_kinds():
    lines = """meter_id,interval_start,wh
A,2024-01-08T00:00:00+09:00,1000
A,2024-01-08T00:30:00+09:00,-1
A,2024-01-08T01:00:00+09:00,1200
A,2024-01-08T01:00:00+09:00,1200
A,2024-01-08T01:00:00+09:00,1250
A,2024-01-08T01:30:00+09:00,999999
A,2024-01-08T01:47:00+09:00,5
A,2024-01-08T02:00:00+09:00,1400
""".splitlines()
    vee = Vee(METERS)
    out = list(vee.run(read_csv_lines(lines, METERS, "day.csv")))
    assert readings(out) == [(0, 1000, 0), (1, 1100, 1), (2, 1200, 0), (3, 1300, 1), (4, 1400, 0)]
    assert sorted(x.reason for x in out if isinstance(x, QuarantineEntry)) == \
        ["duplicate_conflict", "misaligned", "negative", "out_of_range"]
    assert vee.stats.duplicates_identical == 1
    assert set(vee.stats.reasons()) >= {"negative", "frozen", "duplicate_conflict"}
