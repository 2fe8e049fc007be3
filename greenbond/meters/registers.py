"""Cumulative energy registers -> interval Wh, exactly (integers and Fractions, never floats).

ECHONET Lite low-voltage smart meters report cumulative energy as an 8-digit integer register
(0 .. 99,999,999, then it wraps to 0) with a coefficient and a unit code:
    kWh = raw x coefficient x unit(unit_code)
unit codes: 0x00 = 1, 0x01 = 0.1, 0x02 = 0.01, 0x03 = 0.001, 0x04 = 0.0001,
            0x0A = 10, 0x0B = 100, 0x0C = 1000, 0x0D = 10000 kWh.

Interval energy. A register value is the cumulative reading at the END of the interval it is
given for. With E(raw) the register in exact Wh (a Fraction), the interval energy is
    wh = floor(E(raw)) - floor(E(prev))                      (normal: raw >= prev)
    wh = floor(E(raw)) - floor(E(prev)) + E(10^8)            (rollover: raw < prev, see below)
Using floors of the cumulative values (not the floor of each difference) makes the intervals
telescope: their sum is exactly floor(E(last)) - floor(E(first)), no rounding drift. E(10^8) is
an integer for every unit code and integer coefficient (10^8 x 0.0001 kWh = 10^7 Wh).

Rollover vs reset. When raw < prev, either the register wrapped past 99,999,999 or the meter was
reset / replaced. It is a rollover when the wrapped difference is plausible, i.e.
E(raw + 10^8 - prev) <= max_wh (the meter's maximum energy over the elapsed intervals); else it
is a reset, and the interval's energy is unknown (the meter's value before the reset is lost).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

from greenbond.meters.model import INTERVAL_S, QuarantineEntry, RawReading

REGISTER_MODULUS = 100_000_000          # 8 decimal digits: 0 .. 99,999,999
REGISTER_MAX = REGISTER_MODULUS - 1

UNIT_KWH: dict[int, Fraction] = {
    0x00: Fraction(1),
    0x01: Fraction(1, 10),
    0x02: Fraction(1, 100),
    0x03: Fraction(1, 1000),
    0x04: Fraction(1, 10000),
    0x0A: Fraction(10),
    0x0B: Fraction(100),
    0x0C: Fraction(1000),
    0x0D: Fraction(10000),
}


class RegisterError(ValueError):
    """A register value, coefficient or unit code that cannot be right."""


def check_register(raw: int, coefficient: int, unit_code: int) -> None:
    """Raises RegisterError unless 0 <= raw <= 99,999,999, coefficient >= 1, unit code known."""
    if type(raw) is not int or not 0 <= raw <= REGISTER_MAX:
        raise RegisterError(f"register {raw!r} outside 0..{REGISTER_MAX}")
    if type(coefficient) is not int or coefficient < 1:
        raise RegisterError(f"coefficient {coefficient!r} must be an integer >= 1")
    if unit_code not in UNIT_KWH:
        raise RegisterError(f"unknown unit code {unit_code!r} (known: {', '.join(hex(c) for c in UNIT_KWH)})")


def register_wh(raw: int, coefficient: int, unit_code: int) -> Fraction:
    """The register as exact Wh: raw x coefficient x unit(kWh) x 1000."""
    return raw * coefficient * UNIT_KWH[unit_code] * 1000


def floor_wh(raw: int, coefficient: int, unit_code: int) -> int:
    """floor(register_wh(...)): the whole Wh the register stands for."""
    value = register_wh(raw, coefficient, unit_code)
    return value.numerator // value.denominator


def rollover_wh(coefficient: int, unit_code: int) -> int:
    """Energy of one full turn of the register (10^8 counts), an integer number of Wh."""
    value = register_wh(REGISTER_MODULUS, coefficient, unit_code)
    if value.denominator != 1:  # cannot happen with the codes above and an integer coefficient
        raise RegisterError("register turn is not a whole number of Wh")
    return value.numerator


@dataclass(frozen=True)
class RegisterStep:
    """Result of comparing two register values: kind is 'normal', 'rollover' or 'reset'.
    wh is the energy between them (None for a reset: unknown)."""

    kind: str
    wh: int | None


def register_step(prev_raw: int, raw: int, coefficient: int, unit_code: int, max_wh: int) -> RegisterStep:
    """Energy between two register values read `max_wh`-bounded time apart (see module doc)."""
    check_register(prev_raw, coefficient, unit_code)
    check_register(raw, coefficient, unit_code)
    base = floor_wh(raw, coefficient, unit_code) - floor_wh(prev_raw, coefficient, unit_code)
    if raw >= prev_raw:
        return RegisterStep("normal", base)
    wrapped = register_wh(raw + REGISTER_MODULUS - prev_raw, coefficient, unit_code)
    if wrapped <= max_wh:
        return RegisterStep("rollover", base + rollover_wh(coefficient, unit_code))
    return RegisterStep("reset", None)


@dataclass(frozen=True, slots=True)
class RegisterSample:
    """A cumulative register value read at the END of the interval starting at interval_start."""

    facility_id: int
    meter_id: str
    interval_start: dt.datetime
    register: int
    coefficient: int
    unit_code: int
    source: str = ""
    raw: str = ""


def split_evenly(total: int, parts: int) -> list[int]:
    """total Wh over `parts` intervals: equal integer shares, the remainder on the last ones."""
    share, rest = divmod(total, parts)
    return [share + (1 if i >= parts - rest else 0) for i in range(parts)]


class RegisterTracker:
    """Turns each meter's stream of RegisterSamples into interval RawReadings (stateful: it keeps
    only the previous sample per meter).

    - first sample of a meter: quarantine 'register_baseline' (opens the series);
    - next interval: RawReading with the step's Wh;
    - k > 1 intervals later (samples missing): the step's Wh split evenly over the k intervals,
      each flagged estimated (the total is measured, its split is not);
    - rollover: as a normal step plus one register turn; reset: quarantine 'register_reset' and
      the series restarts from the new value;
    - same interval again with the same value: the same reading again (VEE counts the duplicate);
      an older interval or a different value: quarantine 'register_out_of_order'.
    """

    def __init__(self, max_interval_wh: dict[str, int]):
        self._max = max_interval_wh
        self._last: dict[str, tuple[int, RegisterSample, list[RawReading]]] = {}

    def feed(self, sample: RegisterSample) -> Iterator[RawReading | QuarantineEntry]:
        ts = int(sample.interval_start.timestamp())
        prev = self._last.get(sample.meter_id)
        if prev is None:
            self._last[sample.meter_id] = (ts, sample, [])
            yield self._quarantine(sample, "register_baseline", f"register {sample.register} opens the series")
            return
        prev_ts, prev_sample, prev_out = prev
        if ts <= prev_ts:
            if ts == prev_ts and sample.register == prev_sample.register and prev_out:
                yield prev_out[-1]
            else:
                yield self._quarantine(
                    sample, "register_out_of_order",
                    f"register {sample.register} at {sample.interval_start.isoformat()} after "
                    f"{prev_sample.register} at {prev_sample.interval_start.isoformat()}",
                )
            return
        if (sample.coefficient, sample.unit_code) != (prev_sample.coefficient, prev_sample.unit_code):
            self._last[sample.meter_id] = (ts, sample, [])
            yield self._quarantine(sample, "register_reset", "coefficient or unit code changed: series restarted")
            return
        k = (ts - prev_ts) // INTERVAL_S
        max_wh = self._max.get(sample.meter_id, 0) * k
        step = register_step(prev_sample.register, sample.register, sample.coefficient, sample.unit_code, max_wh)
        if step.kind == "reset":
            self._last[sample.meter_id] = (ts, sample, [])
            yield self._quarantine(
                sample, "register_reset",
                f"register fell from {prev_sample.register} to {sample.register}; a rollover would mean "
                f"more than {max_wh} Wh",
            )
            return
        out: list[RawReading] = []
        flags = 0 if k == 1 else 1
        detail = "" if step.kind == "normal" else ";rollover"
        for i, wh in enumerate(split_evenly(step.wh, k)):
            start = sample.interval_start - dt.timedelta(seconds=(k - 1 - i) * INTERVAL_S)
            out.append(RawReading(sample.facility_id, sample.meter_id, start, wh, flags,
                                  sample.source + detail, sample.raw))
        self._last[sample.meter_id] = (ts, sample, out[-1:])
        yield from out

    @staticmethod
    def _quarantine(sample: RegisterSample, reason: str, detail: str) -> QuarantineEntry:
        return QuarantineEntry(sample.meter_id, sample.interval_start, sample.raw, reason, detail, sample.source)
