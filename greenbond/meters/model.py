"""The meter data model: a 30-minute `Reading`, a not-yet-validated `RawReading`, a
`QuarantineEntry` (with the list of every reason code), a `MeterSpec`, and JST/UTC helpers.

Conventions
- An interval is [interval_start, interval_start + 30 min). Japanese smart meters record every
  30 minutes (48 slots a day) and Japan has no daylight saving time, so JST = UTC+9 always.
- Instants are stored as timezone-aware UTC datetimes; unix seconds (`Reading.ts`) are what the
  chain and the Merkle leaves use. JST appears only when a calendar is needed.
- `wh` is the energy over the interval in integer watt-hours; never a float.
- `flags` are the on-chain Reading flags: bit 0 estimated ('E'), bit 1 edited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

UTC = dt.timezone.utc
JST = dt.timezone(dt.timedelta(hours=9), "JST")
INTERVAL_S = 1800                     # seconds in one reading interval
INTERVALS_PER_HOUR = 2
HOUR_S = 3600

FLAG_ESTIMATED = 1 << 0               # 'E': the value was estimated (no raw value behind it)
FLAG_EDITED = 1 << 1                  # edited by hand or by a rule, raw kept elsewhere
READING_FLAGS_MASK = FLAG_ESTIMATED | FLAG_EDITED

MAX_METER_ID_BYTES = 32
UINT64_MAX = 2**64 - 1

# Every reason a reading (or an expected interval) can end in quarantine. Code -> meaning.
REASONS: dict[str, str] = {
    "parse_error": "the record could not be parsed (bad CSV line, bad JSON, missing or malformed field)",
    "misaligned": "interval_start is not at a :00 or :30 boundary",
    "unknown_meter": "the meter id is not configured (or belongs to another facility)",
    "register_baseline": "first cumulative register value of a meter: it opens the series, the interval it ends has nothing to subtract",
    "register_reset": "the register went backwards by more than a plausible rollover: meter reset or replaced",
    "register_out_of_order": "a register value for an interval at or before the previous one, and not an identical repeat",
    "negative": "negative energy: only net metering may go negative and no meter here is net metered",
    "out_of_range": "more energy than the meter's max kW allows over 30 minutes",
    "duplicate_conflict": "a second, different value for an interval already accepted: the first is kept",
    "late_after_estimate": "a value arrived for an interval already estimated (or declared unfilled) and emitted: the estimate stands",
    "late": "a value for an interval older than the VEE lookback (or an hour already closed)",
    "frozen": "third or later consecutive identical non-zero value: a frozen register",
    "outside_period": "interval outside the requested [start, end)",
    "gap_unfilled": "no reading and no basis for an estimate (no neighbour within 2 h, no like-day value)",
}


class MeterDataError(ValueError):
    """A value that cannot be a reading (raised by constructors; sources turn it into quarantine)."""


def check_meter_id(meter_id: str) -> str:
    """A meter id: non-empty printable ASCII, at most 32 bytes (it becomes a bytes32 on chain)."""
    if not isinstance(meter_id, str) or not meter_id:
        raise MeterDataError("meter_id must be a non-empty string")
    if len(meter_id) > MAX_METER_ID_BYTES or not meter_id.isascii() or not meter_id.isprintable():
        raise MeterDataError(f"meter_id {meter_id!r} must be printable ASCII of at most 32 bytes")
    return meter_id


def meter_id_bytes32(meter_id: str) -> bytes:
    """The on-chain bytes32 of a meter id: its ASCII bytes right-padded with zeros."""
    return check_meter_id(meter_id).encode("ascii").ljust(32, b"\0")


def to_utc(instant: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC. Naive datetimes are refused (their zone would be a guess)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise MeterDataError(f"naive datetime {instant!r}: give a time zone")
    return instant.astimezone(UTC)


def to_jst(instant: dt.datetime) -> dt.datetime:
    """The same instant in JST (UTC+9, no DST)."""
    return to_utc(instant).astimezone(JST)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A JST wall-clock time as an aware UTC datetime: jst(2024, 1, 5, 9, 30) = 2024-01-05 00:30Z."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


def to_unix(instant: dt.datetime) -> int:
    """Unix seconds of an aware datetime (whole seconds)."""
    return int(to_utc(instant).timestamp())


def from_unix(ts: int) -> dt.datetime:
    """An aware UTC datetime from unix seconds."""
    return dt.datetime.fromtimestamp(ts, UTC)


# Zone names a time may end with, instead of a numeric offset. Only these: an abbreviation
# stands for one fixed offset here (JST has no DST), and a name that could mean several zones
# (IST, CST) or drift with DST would make the same text two instants.
ZONE_SUFFIXES: dict[str, dt.timezone] = {"JST": JST, "UTC": UTC, "Z": UTC}

# What meter exports write besides strict ISO 8601: '2024-04-01 09:00 JST', '2024/4/1 9:00 JST',
# '2024-04-01 09:00 +09:00', '2024-04-01T09:00:00+0900'. Date with '-' or '/', month, day and
# hour with one or two digits, seconds optional, then a zone suffix or a numeric offset.
_LENIENT_INSTANT = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*(?:(?P<zone>[A-Za-z]+)|(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2}))?")


def parse_instant(text: str) -> dt.datetime:
    """A time with its zone -> aware UTC datetime. ISO 8601 with an offset
    ('2024-01-05T09:30:00+09:00', '...Z'), or as exports write it: a space instead of 'T', '/'
    in the date, no seconds, and a numeric offset or a zone suffix of ZONE_SUFFIXES
    ('2024-01-05 09:30 JST', '2024/1/5 9:30 UTC'). A time without a zone is refused: which
    zone it meant would be a guess."""
    text = text.strip()
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        value = dt.datetime.fromisoformat(iso)     # the common case, and the fast one
    except ValueError:
        value = None
    if value is None:
        m = _LENIENT_INSTANT.fullmatch(text)
        if m is None:
            raise MeterDataError(f"{text!r} is not a date and time (write e.g. 2024-01-05T09:30:00+09:00 "
                                 "or 2024-01-05 09:30 JST)")
        year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
        if m["zone"] is not None:
            tz = ZONE_SUFFIXES.get(m["zone"].upper())
            if tz is None:
                raise MeterDataError(f"{text!r}: unknown zone {m['zone']!r} (write an offset such as +09:00, "
                                     f"or one of {', '.join(ZONE_SUFFIXES)})")
        elif m["sign"] is not None:
            offset = dt.timedelta(hours=int(m["oh"]), minutes=int(m["om"]))
            tz = dt.timezone(-offset if m["sign"] == "-" else offset)
        else:
            tz = None
        try:
            value = dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError as exc:
            raise MeterDataError(f"{text!r}: {exc}") from None
    if value.tzinfo is None:
        raise MeterDataError(f"{text!r} has no UTC offset (write e.g. +09:00 or JST)")
    return value.astimezone(UTC)


def is_interval_boundary(instant: dt.datetime) -> bool:
    """True at :00:00 or :30:00 (JST and UTC agree: the offset is a whole number of hours)."""
    return to_unix(instant) % INTERVAL_S == 0 and instant.microsecond == 0


@dataclass(frozen=True, slots=True)
class Reading:
    """A valid 30-minute reading: `wh` Wh consumed (building) or generated (solar) over
    [interval_start, interval_start + 30 min). `source` says where it came from
    ('csv:file.csv:12', 'mqtt:<topic>', 'sim', 'vee:interpolated', ...)."""

    facility_id: int
    meter_id: str
    interval_start: dt.datetime
    wh: int
    flags: int = 0
    source: str = ""

    def __post_init__(self) -> None:
        if type(self.facility_id) is not int or not 0 < self.facility_id < 2**32:
            raise MeterDataError(f"facility_id {self.facility_id!r} must be an int in [1, 2^32)")
        check_meter_id(self.meter_id)
        start = self.interval_start
        if not isinstance(start, dt.datetime) or start.tzinfo is None:
            raise MeterDataError(f"interval_start {start!r} must be an aware datetime")
        if start.utcoffset():
            raise MeterDataError(f"interval_start {start!r} must be stored in UTC (use to_utc)")
        if start.microsecond or start.second or start.minute % 30:
            raise MeterDataError(f"interval_start {start.isoformat()} is not at a :00 or :30 boundary")
        if type(self.wh) is not int or not 0 <= self.wh <= UINT64_MAX:
            raise MeterDataError(f"wh {self.wh!r} must be an int in [0, 2^64)")
        if type(self.flags) is not int or self.flags & ~READING_FLAGS_MASK:
            raise MeterDataError(f"flags {self.flags!r}: only bits 0 (estimated) and 1 (edited) exist")

    @property
    def ts(self) -> int:
        """interval_start in unix seconds."""
        return int(self.interval_start.timestamp())

    @property
    def estimated(self) -> bool:
        return bool(self.flags & FLAG_ESTIMATED)

    def leaf_values(self) -> tuple[int, bytes, int, int, int]:
        """(facilityId, meterId bytes32, intervalStart, wh, flags): the on-chain Reading struct."""
        return (self.facility_id, meter_id_bytes32(self.meter_id), self.ts, self.wh, self.flags)


@dataclass(frozen=True, slots=True)
class RawReading:
    """A parsed but not yet validated interval value from a source: `wh` may be negative or
    implausible; VEE decides. `raw` is the payload as received (kept for quarantine)."""

    facility_id: int
    meter_id: str
    interval_start: dt.datetime      # aware UTC, on a :00/:30 boundary (sources check this)
    wh: int
    flags: int = 0
    source: str = ""
    raw: str = ""

    @property
    def ts(self) -> int:
        return int(self.interval_start.timestamp())


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """Something kept out of the clean stream, with why. `interval_start` is None when the record
    was too broken to tell; `raw` is the payload as received ('' for a gap, which has none)."""

    meter_id: str
    interval_start: dt.datetime | None
    raw: str
    reason: str
    detail: str
    source: str = ""

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise MeterDataError(f"unknown quarantine reason {self.reason!r}")

    @property
    def excluded_reading(self) -> bool:
        """True when a received value was left out (sets quality flag 4 on its hour)."""
        return self.reason not in ("gap_unfilled", "register_baseline")


@dataclass(frozen=True)
class MeterSpec:
    """What VEE needs to know about a meter: its facility and its maximum power (kW)."""

    facility_id: int
    max_kw: int

    @property
    def max_interval_wh(self) -> int:
        """Upper plausibility bound over 30 minutes: max_kw x 0.5 h x 1000 Wh/kWh."""
        return self.max_kw * 500
