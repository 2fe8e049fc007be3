"""Cumulative registers -> interval Wh: unit codes, rollover at 99,999,999, a reset told apart."""

import datetime as dt
from fractions import Fraction

import pytest

from greenbond.meters.model import QuarantineEntry, RawReading, jst
from greenbond.meters.registers import (
    REGISTER_MAX,
    check_register,
    RegisterError,
    RegisterSample,
    RegisterTracker,
    floor_wh,
    register_step,
    register_wh,
    rollover_wh,
    split_evenly,
)


def test_unit_codes_exact():
    # kWh = raw x coefficient x unit; Wh = that x 1000
    assert register_wh(12345678, 1, 0x02) == 123456780          # 0.01 kWh: 123,456.78 kWh
    assert register_wh(12345678, 1, 0x04) == Fraction(12345678, 10)  # 0.0001 kWh = 0.1 Wh
    assert floor_wh(12345678, 1, 0x04) == 1234567
    assert register_wh(7, 3, 0x0A) == 210000                     # 7 x 3 x 10 kWh
    assert register_wh(1, 1, 0x0D) == 10_000_000
    assert rollover_wh(1, 0x04) == 10_000_000                    # 10^8 x 0.1 Wh
    assert rollover_wh(2, 0x00) == 2 * 10**11
    for bad in [(-1, 1, 0), (REGISTER_MAX + 1, 1, 0), (1, 0, 0), (1, 1, 0x05)]:
        with pytest.raises(RegisterError):
            check_register(*bad)


def test_normal_step_telescopes_without_drift():
    # unit 0.0001 kWh = 0.1 Wh: floors of the cumulative values, so fractions never accumulate
    raws = [5, 12, 19, 26, 33]                    # 0.5, 1.2, 1.9, 2.6, 3.3 Wh
    steps = [register_step(a, b, 1, 0x04, 10**6).wh for a, b in zip(raws, raws[1:])]
    assert steps == [1, 0, 1, 1]                  # 1-0, 1-1, 2-1, 3-2
    assert sum(steps) == floor_wh(33, 1, 0x04) - floor_wh(5, 1, 0x04) == 3


def test_rollover_vs_reset():
    # 99,999,990 -> 15 at 0.01 kWh: wrapped difference 25 counts = 250 Wh, plausible -> rollover
    step = register_step(99_999_990, 15, 1, 0x02, max_wh=1_500_000)
    assert step.kind == "rollover"
    # floor(15 x 10) - floor(99,999,990 x 10) + 10^8 x 10 = 150 - 999,999,900 + 1,000,000,000 = 250
    assert step.wh == 250
    # 50,000,000 -> 100: the wrap would be 500,000,100 Wh in 30 min: a reset
    assert register_step(50_000_000, 100, 1, 0x02, max_wh=1_500_000) == type(step)("reset", None)
    assert register_step(100, 100, 1, 0x02, 1).wh == 0


def test_split_evenly():
    assert split_evenly(10, 3) == [3, 3, 4]
    assert split_evenly(2, 4) == [0, 0, 1, 1]
    assert sum(split_evenly(12345, 7)) == 12345


def _sample(minutes_after, register, meter="M", coeff=1, unit=0x02):
    t = jst(2024, 1, 5, 9) + dt.timedelta(minutes=minutes_after)
    return RegisterSample(1, meter, t, register, coeff, unit, f"test:{minutes_after}", f"raw {register}")


def test_tracker_baseline_rollover_reset_gap_duplicates():
    tr = RegisterTracker({"M": 1_500_000})
    out = list(tr.feed(_sample(0, 99_999_000)))
    assert len(out) == 1 and isinstance(out[0], QuarantineEntry) and out[0].reason == "register_baseline"
    (r,) = tr.feed(_sample(30, 99_999_500))                         # 500 counts x 10 Wh
    assert isinstance(r, RawReading) and r.wh == 5000 and r.flags == 0
    assert r.interval_start == jst(2024, 1, 5, 9, 30)
    (r,) = tr.feed(_sample(60, 300))                                # wraps: 499 + 1 + 300 = 800 counts
    assert r.wh == 8000 and r.source.endswith("rollover")
    assert list(tr.feed(_sample(60, 300))) == [r]                   # identical repeat: same reading again
    (q,) = tr.feed(_sample(60, 301))
    assert q.reason == "register_out_of_order"
    # a huge forward step is still a step: VEE, not the register, judges plausibility (out_of_range)
    (q,) = tr.feed(_sample(90, 50_000_000))
    assert isinstance(q, RawReading) and q.wh == (50_000_000 - 300) * 10
    (q,) = tr.feed(_sample(120, 10))                                # backwards, wrap implausible: reset
    assert q.reason == "register_reset" and q.raw == "raw 10"
    # next value after the reset: normal step from 10; a missing sample: split over 2 intervals, estimated
    out = list(tr.feed(_sample(180, 110)))
    assert [x.wh for x in out] == [500, 500] and all(x.flags == 1 for x in out)
    assert [x.interval_start for x in out] == [jst(2024, 1, 5, 11, 30), jst(2024, 1, 5, 12)]
