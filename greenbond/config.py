"""Bond terms: load them from a TOML file and validate every field before anything is sent.

Dates are calendar dates in the bond's time zone (JST for the default bond); on chain they are
unix seconds at 00:00 of that date in that zone. Amounts are integers in the settlement
currency's smallest unit; the coupon rate is in parts per million a year.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from eth_utils import is_checksum_address

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BOND_CONFIG = REPO_ROOT / "config" / "bonds" / "hitachi-2023.toml"

COUPON_TYPES = {"zero": 0, "fixed": 1, "floating": 2}
DAY_COUNTS = {"ACT/365F": 0, "ACT/360": 1, "30/360": 2, "ACT/ACT": 3}
FREQUENCIES = (1, 2, 4, 12)
MAX_UNITS = 2**72 - 1   # the bond keeps frozen and escrowed units in 72 bits (BondTerms checks it)
BOND_KEYS = frozenset(
    {
        "name", "symbol", "isin", "issuer", "currency", "currency_address", "denomination",
        "issue_volume", "coupon_type", "coupon_rate_ppm", "coupon_frequency", "day_count",
        "issue_date", "maturity_date", "timezone", "record_days", "redemption",
        "use_of_proceeds", "coupon_dates", "chain_name", "call_notice_days",
    }
)
DAY = 86_400


class ConfigError(ValueError):
    """A bond term is missing or malformed. `field` names it, as in the config file."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(f"bond config: {field_name}: {message}")


@dataclass(frozen=True)
class Document:
    name: str          # ERC-1643 name, at most 32 bytes of ASCII
    uri: str           # repo-relative path or URL
    path: Path | None  # local file whose content is hashed, when the URI is a repo path


@dataclass(frozen=True)
class CreditTerms:
    """The [credits] table: how the CarbonCredits contract is deployed beside the bond."""
    holders: str = "registry"        # "registry": only the bond's eligible wallets; "open": anyone
    min_coverage_ppm: int = 900_000  # a batch must take at least this share of its period's hours
    uri: str = "https://example.invalid/greenbond/credits/{id}.json"

    @property
    def gated(self) -> bool:
        return self.holders == "registry"


CREDIT_KEYS = {"holders", "min_coverage_ppm", "uri"}


def _parse_credits(raw) -> CreditTerms:
    if not isinstance(raw, dict):
        raise ConfigError("credits", "must be a table")
    unknown = sorted(set(raw) - CREDIT_KEYS)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key in [credits] (known: {', '.join(sorted(CREDIT_KEYS))})")
    holders = raw.get("holders", CreditTerms.holders)
    if holders not in ("registry", "open"):
        raise ConfigError("credits.holders", f"must be \"registry\" or \"open\", got {holders!r}")
    coverage = raw.get("min_coverage_ppm", CreditTerms.min_coverage_ppm)
    if isinstance(coverage, bool) or not isinstance(coverage, int) or not 0 <= coverage <= 1_000_000:
        raise ConfigError("credits.min_coverage_ppm", f"must be an integer from 0 to 1000000, got {coverage!r}")
    uri = raw.get("uri", CreditTerms.uri)
    if not isinstance(uri, str):
        raise ConfigError("credits.uri", "must be a string")
    return CreditTerms(holders=holders, min_coverage_ppm=coverage, uri=uri)


@dataclass(frozen=True)
class BondTerms:
    name: str
    symbol: str
    isin: str
    issuer: str
    currency: str                   # ISO code of the settlement currency
    currency_address: str | None    # required on live networks
    denomination: int
    issue_volume: int
    coupon_type: str
    coupon_rate_ppm: int
    coupon_frequency: int
    day_count: str
    issue_date: dt.date
    maturity_date: dt.date
    timezone: str
    record_days: int
    redemption: str
    use_of_proceeds: str
    coupon_dates: tuple[dt.date, ...]
    documents: tuple[Document, ...] = field(default=())
    call_notice_days: int = 30
    credits: CreditTerms = field(default_factory=CreditTerms)

    @property
    def utc_offset_seconds(self) -> int:
        """The bond calendar's fixed offset from UTC (JST: 32400); validated to be constant."""
        offset = dt.datetime.combine(self.issue_date, dt.time(0), ZoneInfo(self.timezone)).utcoffset()
        return int(offset.total_seconds())

    @property
    def units(self) -> int:
        return self.issue_volume // self.denomination

    def timestamp(self, day: dt.date) -> int:
        """Unix seconds of 00:00 on `day` in the bond's time zone."""
        return int(dt.datetime.combine(day, dt.time(0), ZoneInfo(self.timezone)).timestamp())

    @property
    def coupon_timestamps(self) -> list[int]:
        return [self.timestamp(d) for d in self.coupon_dates]

    @property
    def record_timestamps(self) -> list[int]:
        return [t - self.record_days * DAY for t in self.coupon_timestamps]

    def contract_terms(self, currency_address: str) -> tuple:
        """The `IGreenBond.Terms` tuple for the constructor, in declaration order."""
        return (
            self.name,
            self.symbol,
            self.isin,
            currency_address,
            self.denomination,
            self.issue_volume,
            self.coupon_rate_ppm,
            COUPON_TYPES[self.coupon_type],
            self.coupon_frequency,
            DAY_COUNTS[self.day_count],
            self.timestamp(self.issue_date),
            self.timestamp(self.maturity_date),
            self.record_days * DAY,
            self.coupon_timestamps,
        )


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, clamped to the month's last day (unadjusted bond dates)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def regular_schedule(issue: dt.date, maturity: dt.date, frequency: int) -> list[dt.date]:
    """Coupon dates rolled back from maturity every 12/frequency months, all after issue."""
    step = 12 // frequency
    dates = []
    k = 0
    while True:
        d = add_months(maturity, -step * k)
        if d <= issue:
            break
        dates.append(d)
        k += 1
    return sorted(dates)


def _require(data: dict, key: str, kind: type | tuple[type, ...]):
    if key not in data:
        raise ConfigError(key, "missing")
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(key, f"must be {names}, got {value!r}")
    return value


def _non_empty(data: dict, key: str) -> str:
    value = _require(data, key, str).strip()
    if not value:
        raise ConfigError(key, "must not be empty")
    return value


def _positive_int(data: dict, key: str) -> int:
    value = _require(data, key, int)
    if value <= 0:
        raise ConfigError(key, f"must be a positive integer, got {value}")
    return value


def _is_address(value: str) -> bool:
    """0x and 40 hex digits; mixed case must carry a valid EIP-55 checksum."""
    if not (isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", value)):
        return False
    digits = value[2:]
    if digits.islower() or digits.isupper() or digits.isdigit():
        return True
    return is_checksum_address(value)


def parse_terms(raw: dict, base_dir: Path = REPO_ROOT) -> BondTerms:
    """Validates a parsed config (the TOML's tables) and returns the terms."""
    if "bond" not in raw or not isinstance(raw["bond"], dict):
        raise ConfigError("bond", "missing [bond] table")
    b = raw["bond"]
    unknown = sorted(set(b) - BOND_KEYS)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key in [bond] (known: {', '.join(sorted(BOND_KEYS))})")
    extra_tables = sorted(set(raw) - {"bond", "documents", "credits"})
    if extra_tables:
        raise ConfigError(extra_tables[0], "unknown table (known: bond, documents, credits)")
    name = _require(b, "name", str).strip()
    symbol = _require(b, "symbol", str).strip()
    isin = _require(b, "isin", str).strip()
    for key, value in (("name", name), ("symbol", symbol), ("isin", isin)):
        if not value:
            raise ConfigError(key, "must not be empty")
    currency = _require(b, "currency", str)
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
        raise ConfigError("currency", f"must be an ISO 4217 code such as JPY, got {currency!r}")
    currency_address = b.get("currency_address")
    if currency_address is not None and not _is_address(currency_address):
        raise ConfigError("currency_address", f"must be a 0x-prefixed 20-byte address, got {currency_address!r}")
    denomination = _positive_int(b, "denomination")
    issue_volume = _positive_int(b, "issue_volume")
    if issue_volume % denomination:
        raise ConfigError("issue_volume", f"{issue_volume} is not a whole number of units of {denomination}")
    if issue_volume // denomination > MAX_UNITS:
        raise ConfigError("issue_volume", "more units than the token can hold (2**72 - 1)")
    coupon_type = _require(b, "coupon_type", str)
    if coupon_type not in COUPON_TYPES:
        raise ConfigError("coupon_type", f"must be one of {sorted(COUPON_TYPES)}, got {coupon_type!r}")
    rate = _require(b, "coupon_rate_ppm", int)
    if not 0 <= rate <= 1_000_000:
        raise ConfigError("coupon_rate_ppm", f"must be between 0 and 1,000,000 (100%), got {rate}")
    if (coupon_type == "zero") != (rate == 0):
        raise ConfigError("coupon_rate_ppm", f"a {coupon_type} coupon cannot have rate {rate}")
    frequency = _require(b, "coupon_frequency", int)
    if frequency not in FREQUENCIES:
        raise ConfigError("coupon_frequency", f"must be one of {FREQUENCIES}, got {frequency}")
    day_count = _require(b, "day_count", str)
    if day_count not in DAY_COUNTS:
        raise ConfigError("day_count", f"must be one of {sorted(DAY_COUNTS)}, got {day_count!r}")
    issue_date = _require(b, "issue_date", dt.date)
    maturity_date = _require(b, "maturity_date", dt.date)
    if isinstance(issue_date, dt.datetime):
        raise ConfigError("issue_date", "must be a date without a time")
    if isinstance(maturity_date, dt.datetime):
        raise ConfigError("maturity_date", "must be a date without a time")
    if maturity_date <= issue_date:
        raise ConfigError("maturity_date", f"{maturity_date} is not after the issue date {issue_date}")
    timezone = _require(b, "timezone", str)
    if timezone not in available_timezones() or timezone in ("localtime", "posixrules", "Factory"):
        raise ConfigError("timezone", f"unknown time zone {timezone!r} (use an IANA name such as Asia/Tokyo)")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError("timezone", f"unknown time zone {timezone!r}") from None
    record_days = _require(b, "record_days", int)
    if record_days < 0:
        raise ConfigError("record_days", f"must be zero or more, got {record_days}")
    offsets = {
        dt.datetime.combine(d, dt.time(0), ZoneInfo(timezone)).utcoffset()
        for d in (issue_date, maturity_date, *[dt.date(y, m, 1) for y in range(issue_date.year, maturity_date.year + 1) for m in (1, 7)])
    }
    if len(offsets) > 1:
        raise ConfigError("timezone", f"{timezone} changes its UTC offset (daylight saving); the schedule needs a fixed offset")
    call_notice_days = b.get("call_notice_days", 30)
    if not isinstance(call_notice_days, int) or isinstance(call_notice_days, bool) or call_notice_days < 0:
        raise ConfigError("call_notice_days", f"must be a whole number of days, got {call_notice_days!r}")
    redemption = b.get("redemption", "par")
    if redemption != "par":
        raise ConfigError("redemption", f"only redemption at par is supported, got {redemption!r}")

    if coupon_type == "zero":
        coupon_dates: list[dt.date] = []
        if b.get("coupon_dates"):
            raise ConfigError("coupon_dates", "a zero-coupon bond has no coupon dates")
    elif "coupon_dates" in b:
        coupon_dates = _require(b, "coupon_dates", list)
        _check_coupon_dates(coupon_dates, issue_date, maturity_date, frequency)
    else:
        coupon_dates = regular_schedule(issue_date, maturity_date, frequency)
    gaps = [b2 - a for a, b2 in zip([issue_date, *coupon_dates], coupon_dates)]
    if gaps and min(gaps).days <= record_days:
        raise ConfigError("record_days", f"{record_days} days reaches back past the previous coupon date")

    raw_documents = raw.get("documents", [])
    if not isinstance(raw_documents, list):
        raise ConfigError("documents", "must be an array of tables ([[documents]])")
    documents = tuple(_parse_document(i, d, base_dir) for i, d in enumerate(raw_documents))
    names = [d.name for d in documents]
    if len(set(names)) != len(names):
        raise ConfigError("documents", "two documents share a name")

    return BondTerms(
        name=name,
        symbol=symbol,
        isin=isin,
        issuer=_non_empty(b, "issuer"),
        currency=currency,
        currency_address=currency_address,
        denomination=denomination,
        issue_volume=issue_volume,
        coupon_type=coupon_type,
        coupon_rate_ppm=rate,
        coupon_frequency=frequency,
        day_count=day_count,
        issue_date=issue_date,
        maturity_date=maturity_date,
        timezone=timezone,
        record_days=record_days,
        redemption=redemption,
        use_of_proceeds=_non_empty(b, "use_of_proceeds"),
        coupon_dates=tuple(coupon_dates),
        documents=documents,
        call_notice_days=call_notice_days,
        credits=_parse_credits(raw.get("credits", {})),
    )


def _check_coupon_dates(dates: list, issue: dt.date, maturity: dt.date, frequency: int) -> None:
    if not dates:
        raise ConfigError("coupon_dates", "must list at least one date")
    for i, d in enumerate(dates):
        if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
            raise ConfigError("coupon_dates", f"entry {i} is not a date: {d!r}")
    if dates != sorted(set(dates)):
        raise ConfigError("coupon_dates", "dates must be strictly increasing")
    if dates[0] <= issue:
        raise ConfigError("coupon_dates", f"first date {dates[0]} is not after the issue date {issue}")
    if dates[-1] != maturity:
        raise ConfigError("coupon_dates", f"last date {dates[-1]} is not the maturity date {maturity}")
    step = 12 // frequency
    # Coupon dates lie on one regular schedule, every `step` months rolled back from an anchor
    # (rolling from the anchor, not from the next date, keeps month-end schedules such as
    # 31 Aug / 29 Feb / 31 Aug intact). The anchor is maturity; or, for an irregular last
    # period, the date before it. The first period (from the issue date) may be short or long.
    def off_schedule(anchor: int) -> int | None:
        for i in range(anchor - 1, -1, -1):
            if add_months(dates[anchor], -step * (anchor - i)) != dates[i]:
                return i
        return None

    last = len(dates) - 1
    bad = off_schedule(last)
    if bad is not None:
        irregular_last_ok = (
            last >= 1
            and off_schedule(last - 1) is None
            and add_months(dates[last - 1], 2 * step) >= maturity
        )
        if not irregular_last_ok:
            raise ConfigError(
                "coupon_dates",
                f"{dates[bad]} and {dates[bad + 1]} are not {step} months apart on the schedule "
                f"rolled back from maturity (frequency {frequency}); expected "
                f"{add_months(maturity, -step * (last - bad))}",
            )
    if add_months(dates[0], -2 * step) >= issue:
        raise ConfigError("coupon_dates", f"the first period from {issue} to {dates[0]} is longer than two periods")


def _parse_document(i: int, raw: dict, base_dir: Path) -> Document:
    key = f"documents[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not name or not name.isascii() or len(name) > 32:
        raise ConfigError(f"{key}.name", "must be 1 to 32 ASCII characters")
    uri = raw.get("uri")
    if not isinstance(uri, str) or not uri:
        raise ConfigError(f"{key}.uri", "missing")
    path = None
    if "://" not in uri:
        path = (base_dir / uri).resolve()
        if Path(uri).is_absolute() or not path.is_relative_to(base_dir.resolve()):
            raise ConfigError(f"{key}.uri", f"must be a path inside the repository, got {uri!r}")
        if not path.is_file():
            raise ConfigError(f"{key}.uri", f"file not found: {path}")
    return Document(name=name, uri=uri, path=path)


def load_terms(path: str | Path = DEFAULT_BOND_CONFIG) -> BondTerms:
    """Reads and validates a bond config file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file", f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", f"{path} is not valid TOML: {exc}") from None
    return parse_terms(raw, base_dir=REPO_ROOT)
