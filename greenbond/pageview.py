"""The investor page's data layer: everything the Streamlit pages in app/ show, read from the
chain (and the operator's published readings, greenbond/published.py: Verify never reads the
feeder's private database) and returned as plain dataclasses and DataFrames.

The pages only parse input, call the functions here and render; they never compute money or
impact. Reads are few and batched:
- contract views go out as JSON-RPC batches of eth_call (`call_many`): one HTTP request for a
  whole table (every coupon, every facility, the last 24 reports of each facility);
- event logs are read once, in block ranges, and cached incrementally per session (`LogCache`):
  a later read asks only for the blocks after the last one read (and re-reads from the start if
  the chain was reset under it); ReportAccepted logs are decoded by hand, not one by one
  through web3's event machinery, so a year of hourly reports decodes in milliseconds;
- every JSON-RPC call is counted (greenbond.chain.connect(counting=True), `rpc_stats`) so a page
  can say, and the benchmark can report, how many calls a render made.

The transport (the counted connection, `call_many`, `LogCache`) is greenbond.chain's.

The bond's impact is its share of each facility it finances (ImpactOracle allocations:
allocated proceeds / financed cost per allocation period), never a sum of facilities: the
since-issuance figures are the oracle's bondTotals(bond) and attributedTotals(facility, bond);
the last-24-hours figure applies the same rule to the window's reports (`attributed_share`).
Coverage (hours reported of hours elapsed, estimated hours, the missing hours as gaps) comes from
coverage, bondCoverage and reportedHoursWord.

Errors the user can meet (node down, no deployment on the chain, a malformed or unknown address,
no readings for an hour) are PageError with a sentence for a person.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import os
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Protocol, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from eth_utils import is_checksum_address, keccak, to_checksum_address
from web3 import Web3

from greenbond.chain import (DEFAULT_RPC_URL, CallFailed, ChainError, LogCache, NodeUnreachable, Suite, call, call_many,
                             rpc, rpc_delta, rpc_stats)  # noqa: F401 -- rpc_stats, rpc_delta: pv.rpc_stats for the pages
from greenbond.chain import connect as chain_connect
from greenbond.config import DAY_COUNTS, DEFAULT_BOND_CONFIG, REPO_ROOT, BondTerms, ConfigError, load_terms
from greenbond.deployments import DEPLOYMENTS_DIR
from greenbond.meters.model import Reading

DEFAULT_PUBLISHED_DIR = REPO_ROOT / ".demo" / "published"   # `python -m greenbond feeder publish --out`
HOUR = 3600
DAY = 86_400
COUPON_STATES = ("scheduled", "funded", "paying", "paid", "late")
BOND_STATES = ("active", "matured", "redeemed")
PAYMENTS = ("none", "on chain", "off chain")
KINDS = ("building", "solar")
DAY_COUNT_NAMES = {v: k for k, v in DAY_COUNTS.items()}
REPORT_ACCEPTED_TOPIC = "0x" + keccak(
    text="ReportAccepted(uint32,uint256,uint64,int64,int64,bytes32,uint32,uint32)"
).hex()
GRID_FACTOR_TOPIC = "0x" + keccak(text="GridFactorRecorded(uint32,uint16,uint32,bool,string)").hex()
ALLOCATION_RECORDED_TOPIC = "0x" + keccak(
    text="AllocationRecorded(uint32,address,uint256,uint64,uint256,uint256)"
).hex()
COUPON_PAID_TOPIC = "0x" + keccak(text="CouponPaid(uint256,address,uint256,uint256,address,address)").hex()


class PageError(RuntimeError):
    """Something stops a page; the message is a sentence for a person."""


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class PageSettings:
    """What the public page reads, from the server's environment. No feeder database: the page
    verifies against the operator's published readings, never its private store."""

    rpc_url: str = DEFAULT_RPC_URL
    deployments_dir: str = str(DEPLOYMENTS_DIR)
    published_dir: str = str(DEFAULT_PUBLISHED_DIR)   # the operator's published readings (Verify reads only these)


def settings_from_env(env: dict | None = None) -> PageSettings:
    """GREENBOND_RPC_URL, GREENBOND_DEPLOYMENTS and GREENBOND_PUBLISHED_DIR, or the defaults."""
    env = os.environ if env is None else env
    return PageSettings(
        rpc_url=env.get("GREENBOND_RPC_URL") or DEFAULT_RPC_URL,
        deployments_dir=env.get("GREENBOND_DEPLOYMENTS") or str(DEPLOYMENTS_DIR),
        published_dir=env.get("GREENBOND_PUBLISHED_DIR") or str(DEFAULT_PUBLISHED_DIR),
    )


# ---------------------------------------------------------------- the connection


def _connection_error(url: str, exc: BaseException) -> PageError:
    reason = exc.reason if isinstance(exc, NodeUnreachable) else type(exc).__name__
    return PageError(
        f"The RPC node at {url} is unreachable ({reason}). Start it (`make demo` serves the demo "
        "chain) or set GREENBOND_RPC_URL where the page is served."
    )


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """greenbond.chain.connect, counted (`greenbond.chain.rpc_stats`: the page's footer), with the
    page's sentences: a PageError for something that is not an RPC URL or a node that does not answer."""
    try:
        return chain_connect(rpc_url, timeout, counting=True)
    except NodeUnreachable as exc:
        raise _connection_error(exc.url, exc) from None
    except ChainError as exc:
        raise PageError(_sentence(exc)) from None
    except Exception as exc:  # noqa: BLE001 -- requests, web3 and ValueError all mean "not answering"
        raise _connection_error((rpc_url or "").strip(), exc) from None


# ---------------------------------------------------------------- report logs, decoded by hand


@dataclass(frozen=True, slots=True)
class ReportLog:
    """One ReportAccepted event."""

    facility_id: int
    index: int
    period_start: int
    energy_reduction_j: int
    co2_avoided_mg: int
    readings_root: str
    methodology_version: int
    supersedes: int
    block: int
    tx_hash: str


def _word_int(data: str, i: int, signed: bool = False) -> int:
    v = int(data[2 + 64 * i: 2 + 64 * (i + 1)], 16)
    return v - (1 << 256) if signed and v >> 255 else v


_SIGN = 1 << 255
_WRAP = 1 << 256


def decode_report_accepted(log: dict) -> ReportLog:
    """ReportAccepted(facilityId indexed, index indexed, periodStart indexed, energyReductionJ,
    co2AvoidedMg, readingsRoot, methodologyVersion, supersedes), decoded by hand: the topics and
    32-byte words are parsed straight from their hex (no ABI machinery), a year of hourly reports
    in a few tens of milliseconds."""
    t, data = log["topics"], log["data"]
    e, c = int(data[2:66], 16), int(data[66:130], 16)
    return ReportLog(
        int(t[1], 16), int(t[2], 16), int(t[3], 16),
        e - _WRAP if e >= _SIGN else e, c - _WRAP if c >= _SIGN else c,
        "0x" + data[130:194], int(data[194:258], 16), int(data[258:322], 16),
        int(log["blockNumber"], 16), log["transactionHash"],
    )


@dataclass(frozen=True, slots=True)
class AllocationLog:
    """One AllocationRecorded event: a version of a bond's allocation to a facility."""

    facility_id: int
    bond: str                    # checksummed
    version: int
    effective_from: int
    allocated_proceeds: int
    financed_cost: int
    block: int


def decode_allocation_recorded(log: dict) -> AllocationLog:
    """AllocationRecorded(facilityId indexed, bond indexed, version, effectiveFrom,
    allocatedProceeds, financedCost), decoded by hand like ReportAccepted."""
    t, data = log["topics"], log["data"]
    return AllocationLog(
        int(t[1], 16), to_checksum_address("0x" + t[2][-40:]), _word_int(data, 0), _word_int(data, 1),
        _word_int(data, 2), _word_int(data, 3), int(log["blockNumber"], 16),
    )


class ReportTable:
    """The ReportAccepted logs of a LogCache as numpy columns (facility, index, period start,
    energy, CO2, supersedes), extended with only the logs added since the last call and rebuilt
    when the cache was reset; `effective` is the mask of the reports in force (not superseded)."""

    COLUMNS = ("facility_id", "index", "period_start", "energy_j", "co2_mg", "supersedes")

    def __init__(self):
        self._lock = threading.Lock()
        self._items: list | None = None
        self.n = 0
        self.cols = {c: np.zeros(0, dtype=np.int64) for c in self.COLUMNS}
        self.effective = np.zeros(0, dtype=bool)

    def update(self, items: list) -> "ReportTable":
        with self._lock:
            if items is not self._items or len(items) < self.n:
                self._items, self.n = items, 0
                self.cols = {c: np.zeros(0, dtype=np.int64) for c in self.COLUMNS}
            new = items[self.n:]
            if new or self.effective.shape[0] != self.n:
                if new:
                    add = np.array([(l.facility_id, l.index, l.period_start, l.energy_reduction_j, l.co2_avoided_mg,
                                     l.supersedes) for l in new], dtype=np.int64).reshape(-1, len(self.COLUMNS))
                    self.cols = {c: np.concatenate([self.cols[c], add[:, k]]) for k, c in enumerate(self.COLUMNS)}
                    self.n = len(items)
                f, i, sup = self.cols["facility_id"], self.cols["index"], self.cols["supersedes"]
                key = (f << 32) | i
                gone = (f[sup > 0] << 32) | (sup[sup > 0] - 1)
                self.effective = ~np.isin(key, gone) if gone.size else np.ones(self.n, dtype=bool)
            return self


# ---------------------------------------------------------------- the session


@dataclass
class Session:
    url: str
    w3: Web3
    suite: Suite
    terms: BondTerms
    deployments_dir: Path
    reports: LogCache | None
    factors: LogCache | None
    report_table: ReportTable = field(default_factory=ReportTable)
    allocation_logs: LogCache | None = None    # AllocationRecorded of every bond: the facilities' allocation periods

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.terms.timezone)


_SESSIONS: dict[tuple[str, str], Session] = {}
_SESSIONS_LOCK = threading.Lock()


def _terms_for(deployment) -> BondTerms:
    path = REPO_ROOT / deployment.bond_config if deployment.bond_config else DEFAULT_BOND_CONFIG
    try:
        return load_terms(path)
    except ConfigError as exc:
        raise PageError(f"The bond's terms could not be read: {exc}.") from None


def session(rpc_url: str, deployments_dir: str | Path | None = None) -> Session:
    """The connection, contract handles and log caches for one RPC URL (kept for the process)."""
    directory = Path(deployments_dir or DEPLOYMENTS_DIR)
    key = (rpc_url, str(directory))
    with _SESSIONS_LOCK:
        s = _SESSIONS.get(key)
    if s is not None:
        return s
    w3 = connect(rpc_url)
    try:
        suite = _open_suite(w3, directory)
    except ChainError as exc:
        msg = str(exc)
        raise PageError(msg[0].upper() + msg[1:] + ("" if msg.endswith(".") else ".")) from None
    except Exception as exc:  # noqa: BLE001
        raise _connection_error(rpc_url, exc) from None
    terms = _terms_for(suite.deployment)
    oracle = suite.oracle
    start = suite.start_block()
    if oracle is not None:
        ostart = suite.deployment.contracts["ImpactOracle"].block
        reports = LogCache(w3, oracle.address, REPORT_ACCEPTED_TOPIC, ostart, decode_report_accepted)
        event = oracle.events.GridFactorRecorded()
        factors = LogCache(w3, oracle.address, GRID_FACTOR_TOPIC, ostart, lambda l: _web3_log(event, l))
        allocation_logs = LogCache(w3, oracle.address, ALLOCATION_RECORDED_TOPIC, ostart, decode_allocation_recorded)
    else:
        reports = factors = allocation_logs = None
    s = Session(rpc_url, w3, suite, terms, directory, reports, factors, allocation_logs=allocation_logs)
    with _SESSIONS_LOCK:
        _SESSIONS[key] = s
    return s


def _open_suite(w3: Web3, directory: Path) -> Suite:
    """greenbond.chain.open_suite with its checks (the chain id, code at every address, the
    bond's settlement token) in one JSON-RPC batch instead of one request each."""
    from greenbond.chain import load_abi
    from greenbond.deployments import DeploymentError, load_deployment

    chain_id = w3.eth.chain_id
    try:
        dep = load_deployment(chain_id, directory)
    except DeploymentError as exc:
        raise ChainError(str(exc)) from None
    if dep is None or "GreenBond" not in dep.contracts:
        raise ChainError(f"no deployment on this chain (chain id {chain_id}): run `make demo` or scripts/deploy.py")
    names = list(dep.contracts)

    def handle(name: str, address: str | None = None):
        rec = dep.contracts.get(name)
        if address is None and rec is None:
            return None
        return w3.eth.contract(address=Web3.to_checksum_address(address or rec.address), abi=load_abi(name))

    bond = handle("GreenBond")
    res = call_many(w3, [rpc("eth_getCode", dep.contracts[n].address, "latest") for n in names] + [call(bond, "currency")])
    for name, code in zip(names, res):
        if isinstance(code, CallFailed) or code in (None, "0x", "0x0", ""):
            raise ChainError(
                f"deployments/{chain_id}.json names {name} at {dep.contracts[name].address}, but the chain holds no code "
                "there: the chain was reset; deploy again"
            )
    if isinstance(res[-1], CallFailed):
        raise ChainError(f"the bond at {bond.address} does not answer currency(): {res[-1].message}")
    return Suite(w3=w3, deployment=dep, bond=bond, registry=handle("HolderRegistry"),
                 schedule=handle("CouponSchedule"), settlement=handle("SettlementToken", res[-1]),
                 oracle=handle("ImpactOracle"))


def forget_sessions() -> None:
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def _web3_log(event, raw: dict) -> dict:
    from hexbytes import HexBytes

    log = {
        "address": to_checksum_address(raw["address"]),
        "topics": [HexBytes(t) for t in raw["topics"]],
        "data": HexBytes(raw["data"]),
        "blockNumber": int(raw["blockNumber"], 16),
        "transactionHash": HexBytes(raw["transactionHash"]),
        "transactionIndex": int(raw["transactionIndex"], 16),
        "blockHash": HexBytes(raw["blockHash"]),
        "logIndex": int(raw["logIndex"], 16),
        "removed": False,
    }
    return dict(event.process_log(log)["args"])


def guarded(fn):
    """Turns a node that stops answering mid-read into a PageError (and drops its session)."""

    @functools.wraps(fn)
    def wrapper(settings: PageSettings, *args, **kwargs):
        try:
            return fn(settings, *args, **kwargs)
        except PageError:
            raise
        except ChainError as exc:
            raise PageError(str(exc)) from None
        except (OSError, ConnectionError) as exc:
            forget_sessions()
            raise _connection_error(settings.rpc_url, exc) from None
        except Exception as exc:  # noqa: BLE001
            if "Connection" in type(exc).__name__ or "Timeout" in type(exc).__name__:
                forget_sessions()
                raise _connection_error(settings.rpc_url, exc) from None
            raise

    return wrapper


def _chain_now(w3: Web3) -> tuple[int, int]:
    block = w3.eth.get_block("latest")
    return block["number"], block["timestamp"]


def local_date(ts: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def local_time(ts: int, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------- the bond's share and coverage


@dataclass(frozen=True)
class Allocation:
    """One version of a bond's allocation to a facility (ImpactOracle.allocations): from the hour
    starting at `effective_from` on, the bond's share of the facility's impact is
    allocated_proceeds / financed_cost."""

    effective_from: int
    allocated_proceeds: int
    financed_cost: int

    @property
    def share(self) -> Fraction:
        return Fraction(self.allocated_proceeds, self.financed_cost) if self.financed_cost else Fraction(0)

    @property
    def share_text(self) -> str:
        """The share as a percentage, e.g. "100%", "33.33%"."""
        return f"{float(self.share) * 100:.4g}%"


def allocation_in_force(versions: Sequence[Allocation], at: int) -> Allocation | None:
    """The version that applies to the hour starting at `at`: the last one with effective_from
    <= at (versions come oldest first, effective_from non-decreasing; of several with the same
    effective_from the last applies), None before the first."""
    found = None
    for a in versions:
        if a.effective_from <= at:
            found = a
    return found


def financed_by(versions: Sequence[Allocation]) -> bool:
    """True when some version allocates a non-zero amount: the facilities bondCoverage sums over."""
    return any(a.allocated_proceeds for a in versions)


def allocation_text(versions: Sequence[Allocation], at: int, currency: str, tz: ZoneInfo) -> str:
    """The allocation in force at `at` in words, for a table cell: "100% (allocated / financed cost
    currency)", or why there is none."""
    now = allocation_in_force(versions, at)
    if now is not None and now.allocated_proceeds:
        return f"{now.share_text} ({now.allocated_proceeds:,} / {now.financed_cost:,} {currency})"
    later = next((a for a in versions if a.effective_from > at and a.allocated_proceeds), None)
    if later is not None:
        return (f"not financed by this bond yet: {later.share_text} from {local_time(later.effective_from, tz)}")
    if financed_by(versions):
        return "not financed by this bond now (an earlier allocation counts for the hours it covered)"
    return "not financed by this bond"


def mul_div_toward_zero(value: int, numerator: int, denominator: int) -> int:
    """value x numerator / denominator, truncated toward zero (Solidity's signed division), for a
    non-negative numerator and a positive denominator."""
    q = abs(value) * numerator // denominator
    return q if value >= 0 else -q


def allocation_period_starts(reporting_start: int, logs: Iterable[AllocationLog]) -> list[int]:
    """A facility's allocation periods as the oracle keeps them: period 0 starts at its
    reportingStart, and every allocation version of ANY bond whose effectiveFrom is after the
    newest period's start opens a new period there. `logs` are the facility's AllocationRecorded
    events in chain order."""
    starts = [reporting_start]
    for log in logs:
        if log.effective_from > starts[-1]:
            starts.append(log.effective_from)
    return starts


def attributed_share(hours: Iterable[tuple[int, int, int]], period_starts: Sequence[int],
                     versions: Sequence[Allocation]) -> tuple[int, int]:
    """The part of a facility's figures attributable to one bond, by the oracle's rule.

    `hours` are (period_start, energy J, CO2 mg) of reports in force of the facility. The rule
    (ImpactOracle.attributedTotals):
    1. the hours are grouped by the facility's allocation period (`allocation_period_starts`: a
       period begins at the facility's reportingStart and at every allocation version's
       effectiveFrom, of any bond);
    2. each period's exact sums (J and mg, integers) are multiplied by allocatedProceeds /
       financedCost of the bond's version in force at the period's start (the last version with
       effectiveFrom <= that start) and truncated toward zero, like Solidity's signed division; a
       period with no version in force, or a zero allocation, gives nothing;
    3. the periods' results are added up.
    Over every reported hour this is attributedTotals(facility, bond) (J, mg) exactly. Over the
    hours of a window (the last 24 hours) it is the bond's share of that window: each period's
    hours in the window, truncated per period in the same way. Returns (J, mg)."""
    sums: dict[int, list[int]] = {}
    for period_start, energy_j, co2_mg in hours:
        p = bisect_right(period_starts, period_start) - 1
        if p < 0:
            continue          # before the facility's reportingStart: the oracle accepts no such hour
        acc = sums.setdefault(p, [0, 0])
        acc[0] += energy_j
        acc[1] += co2_mg
    energy, co2 = 0, 0
    for p, (pj, pmg) in sums.items():
        a = allocation_in_force(versions, period_starts[p])
        if a is None or a.allocated_proceeds == 0:
            continue
        energy += mul_div_toward_zero(pj, a.allocated_proceeds, a.financed_cost)
        co2 += mul_div_toward_zero(pmg, a.allocated_proceeds, a.financed_cost)
    return energy, co2


@dataclass(frozen=True)
class Gap:
    """A run of consecutive hours with no report, [start, end)."""

    facility_id: int
    start: int
    end: int

    @property
    def hours(self) -> int:
        return (self.end - self.start) // HOUR


@dataclass
class Coverage:
    """ImpactOracle.coverage (a facility) or bondCoverage (the facilities a bond finances): hours
    with a report in force, closed hours since the reporting start, reported hours whose readings
    were partly estimated; and the missing hours as runs (`gaps`, from reportedHoursWord)."""

    hours_reported: int
    hours_elapsed: int
    estimated_hours: int
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing_hours(self) -> int:
        return max(0, self.hours_elapsed - self.hours_reported)

    @property
    def complete(self) -> bool:
        return self.missing_hours == 0

    @property
    def percent_text(self) -> str:
        """Hours reported / hours elapsed in percent with one decimal, rounded DOWN: 100.0% only
        when no hour is missing."""
        if self.hours_elapsed == 0:
            return "no hour elapsed"
        tenths = self.hours_reported * 1000 // self.hours_elapsed
        return f"{tenths // 10}.{tenths % 10}%"

    @property
    def counts_text(self) -> str:
        return f"{self.hours_reported:,} h reported of {self.hours_elapsed:,} h elapsed"

    @property
    def estimated_text(self) -> str:
        return f"{self.estimated_hours:,} hour{'' if self.estimated_hours == 1 else 's'} estimated"

    @property
    def missing_text(self) -> str:
        if self.complete:
            return "no hour missing"
        n = len(self.gaps)
        runs = f" in {n:,} gap{'' if n == 1 else 's'}" if n else ""
        return f"{self.missing_hours:,} hour{'' if self.missing_hours == 1 else 's'} missing{runs}"

    @property
    def text(self) -> str:
        """e.g. "99.9% (1,234 h reported of 1,235 h elapsed), 3 hours estimated, 1 hour missing in 1 gap"."""
        return f"{self.percent_text} ({self.counts_text}), {self.estimated_text}, {self.missing_text}"


def gaps_from_words(facility_id: int, reporting_start: int, hours_elapsed: int, words: Sequence[int]) -> list[Gap]:
    """The runs of unreported hours among the first `hours_elapsed` hours of a facility, from its
    reportedHoursWord bitmaps (bit b of word w: the hour reportingStart + (256 w + b) h)."""
    if hours_elapsed <= 0:
        return []
    bits = np.zeros(len(words) * 256, dtype=np.uint8)
    for w, value in enumerate(words):
        if value:
            raw = np.frombuffer(int(value).to_bytes(32, "little"), dtype=np.uint8)
            bits[256 * w: 256 * (w + 1)] = np.unpackbits(raw, bitorder="little")
    missing = np.ones(hours_elapsed, dtype=np.int8)
    n = min(hours_elapsed, bits.size)
    missing[:n] = 1 - bits[:n]
    edges = np.diff(np.concatenate(([0], missing, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [Gap(facility_id, reporting_start + int(a) * HOUR, reporting_start + int(b) * HOUR)
            for a, b in zip(starts, ends)]


def reported_in_words(hours_elapsed: int, words: Sequence[int]) -> int:
    """How many of the first `hours_elapsed` hours the bitmaps mark reported."""
    total = 0
    for w, value in enumerate(words):
        lo = 256 * w
        if lo >= hours_elapsed:
            break
        keep = min(256, hours_elapsed - lo)
        total += bin(int(value) & ((1 << keep) - 1)).count("1")
    return total


# ---------------------------------------------------------------- the bond (home page)


@dataclass
class CouponRow:
    number: int
    payment_date: dt.date
    record_date: dt.date
    per_unit: int
    total: int | None          # units at the record date x per unit; None before the record date
    status: str


@dataclass
class DocumentRow:
    name: str
    uri: str
    chain_hash: str
    file_hash: str             # "" when the file could not be hashed
    check: str                 # "matches", "DIFFERS", "file missing", "not a repository file"

    @property
    def ok(self) -> bool:
        return self.check == "matches"


@dataclass
class FacilityRow:
    facility_id: int
    name: str
    kind: str
    active: bool
    allocated_proceeds: int      # of this bond's allocation version in force now; 0: none (not financed)
    financed_cost: int           # the facility's financed cost in that version; 0: none
    share_of_issue: float        # allocated / the issue volume
    metadata_uri: str
    allocation: str              # the version in force in words, or "not financed by this bond"
    allocations: list[Allocation] = field(default_factory=list)   # every version, oldest first

    @property
    def financed(self) -> bool:
        return self.allocated_proceeds > 0

    @property
    def share(self) -> Fraction:
        """The bond's share of the facility's impact now: allocated / financed cost."""
        return Fraction(self.allocated_proceeds, self.financed_cost) if self.financed_cost else Fraction(0)


@dataclass
class BondOverview:
    name: str
    symbol: str
    isin: str
    isin_placeholder: bool
    issuer: str
    currency: str
    issue_volume: int
    denomination: int
    max_units: int
    coupon_rate_ppm: int
    coupon_frequency: int
    day_count: str
    issue_date: dt.date
    maturity_date: dt.date
    status: str
    outstanding_units: int
    next_coupon: dt.date | None
    days_to_next_coupon: int | None
    coupons: list[CouponRow]
    documents: list[DocumentRow]
    facilities: list[FacilityRow]
    use_of_proceeds: str
    chain_id: int
    block: int
    block_time: str
    addresses: dict[str, str]

    @property
    def coupon_rate_text(self) -> str:
        return f"{self.coupon_rate_ppm / 10_000:.3f}% a year"


@guarded
def bond_overview(settings: PageSettings, now: int | None = None) -> BondOverview:
    s = session(settings.rpc_url, settings.deployments_dir)
    bond, sched, oracle, tz = s.suite.bond, s.suite.schedule, s.suite.oracle, s.tz
    first = call_many(s.w3, [
        call(bond, "name"), call(bond, "symbol"), call(bond, "isin"), call(bond, "denomination"),
        call(bond, "issueVolume"), call(bond, "couponRate"), call(bond, "couponFrequency"), call(bond, "issueDate"),
        call(bond, "maturityDate"), call(bond, "dayCountBasis"), call(bond, "totalSupply"), call(bond, "maxSupply"),
        call(sched, "couponCount"), call(sched, "bondStatus"), call(bond, "getAllDocuments"),
        call(oracle, "facilityCount") if oracle is not None else rpc("eth_chainId"),
        rpc("eth_getBlockByNumber", "latest", False),
    ])
    (name, symbol, isin, denomination, volume, rate, freq, issue, maturity, basis, supply, max_units,
     ncoupons, bstatus, doc_names, nfac, block) = first
    nfac = nfac if oracle is not None else 0
    block_no, block_ts = int(block["number"], 16), int(block["timestamp"], 16)
    now = int(time.time()) if now is None else now
    items = []
    for i in range(ncoupons):
        items += [call(sched, "couponDate", i), call(sched, "recordDate", i), call(sched, "couponPerUnit", i),
                  call(sched, "couponTotal", i), call(sched, "couponStatus", i)]
    for d in doc_names:
        items.append(call(bond, "getDocument", d))
    for f in range(1, nfac + 1):
        items += [call(oracle, "facility", f), call(oracle, "allocations", f, bond.address)]
    res = call_many(s.w3, items, block=block_no)
    coupons = []
    for i in range(ncoupons):
        date, record, per_unit, total, status = res[5 * i: 5 * i + 5]
        coupons.append(CouponRow(i + 1, local_date(date, tz), local_date(record, tz), per_unit,
                                 total if not isinstance(total, CallFailed) else None, COUPON_STATES[status]))
    k = 5 * ncoupons
    documents = [_document_row(d, res[k + j]) for j, d in enumerate(doc_names)]
    k += len(doc_names)
    facilities = []
    for j in range(nfac):
        f, versions = res[k + 2 * j: k + 2 * j + 2]
        kind, active, _max, _start, _mhash, fname, uri = f
        versions = [Allocation(*v) for v in versions]
        now_alloc = allocation_in_force(versions, block_ts)
        allocated = now_alloc.allocated_proceeds if now_alloc else 0
        cost = now_alloc.financed_cost if now_alloc and allocated else 0
        facilities.append(FacilityRow(
            j + 1, fname, KINDS[kind], active, allocated, cost, allocated / volume if volume else 0.0, uri,
            allocation_text(versions, block_ts, s.terms.currency, tz), versions,
        ))
    upcoming = [c for c, raw in zip(coupons, range(ncoupons)) if s.terms.timestamp(c.payment_date) > now]
    today = local_date(now, tz)
    nxt = upcoming[0].payment_date if upcoming else None
    return BondOverview(
        name=name, symbol=symbol, isin=isin, isin_placeholder=_is_placeholder_isin(isin), issuer=s.terms.issuer,
        currency=s.terms.currency, issue_volume=volume, denomination=denomination, max_units=max_units,
        coupon_rate_ppm=rate, coupon_frequency=freq, day_count=DAY_COUNT_NAMES.get(basis, str(basis)),
        issue_date=local_date(issue, tz), maturity_date=local_date(maturity, tz), status=BOND_STATES[bstatus],
        outstanding_units=supply, next_coupon=nxt, days_to_next_coupon=(nxt - today).days if nxt else None,
        coupons=coupons, documents=documents, facilities=facilities, use_of_proceeds=s.terms.use_of_proceeds,
        chain_id=s.suite.deployment.chain_id, block=block_no, block_time=local_time(block_ts, tz),
        addresses={n: r.address for n, r in s.suite.deployment.contracts.items()},
    )


def _is_placeholder_isin(isin: str) -> bool:
    """A real ISIN is 12 characters: 2 letters, 9 alphanumerics, a check digit."""
    import re

    return "PLACEHOLDER" in isin.upper() or not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", isin)


def documents_dir() -> Path:
    """The only folder the public page reads documents from (GREENBOND_DOCUMENTS_DIR, default
    docs/documents): a document URI on chain can never make the page read or serve another file
    of the server (a key, a database) even if it points there."""
    return Path(os.environ.get("GREENBOND_DOCUMENTS_DIR") or REPO_ROOT / "docs" / "documents").resolve()


def document_path(uri: str) -> Path | None:
    """The file behind a document URI ("docs/documents/x.md", relative to the repository) when it
    lies inside `documents_dir()`; None for a URL, a file elsewhere, or a missing file."""
    if "://" in uri:
        return None
    path = (REPO_ROOT / uri).resolve()
    if not path.is_relative_to(documents_dir()) or not path.is_file():
        return None
    return path


def document_bytes(uri: str) -> bytes | None:
    """A document's bytes for the page's download link, only when its keccak256 is what the chain
    records is checked by the caller (DocumentRow.ok)."""
    path = document_path(uri)
    return path.read_bytes() if path is not None else None


def _document_row(name32: bytes, got) -> DocumentRow:
    name = bytes(name32).rstrip(b"\0").decode("ascii", "replace")
    if isinstance(got, CallFailed):
        return DocumentRow(name, "", "", "", f"unreadable on chain ({got.message})")
    uri, digest, _ts = got
    chain_hash = "0x" + bytes(digest).hex()
    if "://" in uri:
        return DocumentRow(name, uri, chain_hash, "", "not a repository file")
    path = document_path(uri)
    if path is None:
        return DocumentRow(name, uri, chain_hash, "", "file missing")
    file_hash = "0x" + keccak(path.read_bytes()).hex()
    return DocumentRow(name, uri, chain_hash, file_hash, "matches" if file_hash == chain_hash else "DIFFERS")


# ---------------------------------------------------------------- impact


@dataclass
class FactorRow:
    methodology_version: int
    fiscal_year: int
    grams_per_kwh: int
    final: bool
    source: str


@dataclass
class MethodologyRow:
    version: int
    benchmark_model: str
    benchmark_model_version: int
    primary_energy_factor_kj_per_kwh: int
    source_uri: str
    source_hash: str
    created: str
    in_force: bool
    factors: list[FactorRow]


@dataclass
class Freshness:
    """The age of a facility's LATEST reported hour. Hours before it may still be missing (any
    closed hour can be reported late): `coverage` says how many."""

    facility_id: int
    name: str
    last_period_end: int         # 0: nothing reported yet
    last_hour: str               # the latest reported hour, local time
    age_s: int | None
    heartbeat_s: int
    stale: bool
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))

    @property
    def age_text(self) -> str:
        if self.age_s is None:
            return "no report yet"
        h, rem = divmod(max(0, self.age_s), 3600)
        return f"{h} h {rem // 60:02d} min"

    @property
    def earlier_text(self) -> str:
        """What freshness does not say: whether the hours before the latest reported one are all there."""
        c = self.coverage
        if c.complete:
            return "all reported"
        return f"{c.missing_text} (coverage {c.percent_text})"

    @property
    def note(self) -> str:
        """A sentence: freshness is about the latest reported hour only."""
        if self.age_s is None:
            return f"{self.name}: no hour reported yet."
        text = f"{self.name}: the latest reported hour ended {self.age_text} ago"
        if self.coverage.complete:
            return text + "; every earlier hour is reported."
        return (text + f"; this says nothing about earlier hours, and some are missing: {self.coverage.missing_text} "
                f"(coverage {self.coverage.percent_text}).")


@dataclass
class FacilityImpact:
    facility_id: int
    name: str
    kind: str
    report_count: int
    energy_reduction_j: int      # the whole facility since its reporting start: facilityTotals (corrections applied)
    co2_avoided_mg: int
    last24_energy_j: int         # the whole facility, last 24 reported hours
    last24_co2_mg: int
    attributed_energy_j: int = 0          # the bond's share since issuance: attributedTotals(facility, bond)
    attributed_co2_mg: int = 0
    attributed_last24_energy_j: int = 0   # the bond's share of the last 24 hours (attributed_share)
    attributed_last24_co2_mg: int = 0
    allocations: list[Allocation] = field(default_factory=list)   # the bond's versions, oldest first
    allocation: str = "not financed by this bond"                 # the version in force, in words
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))
    reporting_start: int = 0
    window_hours_reported: int = 0        # hours of the last-24-hours window with a report in force

    @property
    def financed(self) -> bool:
        """A non-zero allocation of the bond in some version (what bondCoverage counts)."""
        return financed_by(self.allocations)

    @property
    def short(self) -> str:
        return short_name(self.name)


@dataclass
class ImpactView:
    bond: str                    # the bond's address: every "bond's share" figure is for it
    energy_reduction_j: int      # bondTotals(bond): the bond's share since issuance
    co2_avoided_mg: int
    last24_energy_j: int         # the bond's share of the last 24 hours (attributed_share, per facility)
    last24_co2_mg: int
    window_start: int            # the last 24 reported hours: [window_start, window_end)
    window_end: int
    window_text: str
    facilities: list[FacilityImpact]
    hourly: pd.DataFrame         # the window: facility, hour (local wall clock), actual_kwh, benchmark_kwh, energy_mj, co2_kg
    daily: pd.DataFrame          # facility, short (name), day, energy_mj, co2_t (each facility's own figures)
    monthly: pd.DataFrame        # facility, short (name), month, energy_mj, co2_t (each facility's own figures)
    methodologies: list[MethodologyRow]
    freshness: list[Freshness]
    heartbeat_s: int
    report_count: int            # effective hourly reports (corrections applied)
    timezone: str
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0))   # bondCoverage, gaps of its facilities
    currency: str = "JPY"
    block: int = 0               # the block every view was read at
    block_time: int = 0
    problems: list[str] = field(default_factory=list)
    _effective: list = field(default_factory=list, repr=False)   # the ReportLogs in force, for the CSV
    _names: dict = field(default_factory=dict, repr=False)
    _settings: PageSettings | None = field(default=None, repr=False)   # where the CSV reads the reports' Wh and flags

    @property
    def csv(self) -> str:
        """Every effective hourly report, and a row per missing hour, as CSV (columns: see
        `impact_csv`), generated when asked for (the page's download button calls it on click,
        not on render): the reports' Wh and quality flags are read then, in batches, at `block`."""
        figures = report_figures(self._settings, self._effective, self.block) if self._settings else None
        return impact_csv(self._effective, self._names, ZoneInfo(self.timezone), figures=figures, gaps=self.gaps)

    @property
    def energy_mj(self) -> float:
        return self.energy_reduction_j / 1e6

    @property
    def co2_t(self) -> float:
        return self.co2_avoided_mg / 1e9

    @property
    def last24_energy_mj(self) -> float:
        return self.last24_energy_j / 1e6

    @property
    def last24_co2_t(self) -> float:
        return self.last24_co2_mg / 1e9

    @property
    def any_stale(self) -> bool:
        return any(f.stale for f in self.freshness)

    @property
    def financed(self) -> list[FacilityImpact]:
        """The facilities the bond's figures cover (a non-zero allocation in some version)."""
        return [f for f in self.facilities if f.financed]

    @property
    def not_financed(self) -> list[FacilityImpact]:
        return [f for f in self.facilities if not f.financed]

    @property
    def gaps(self) -> list[Gap]:
        """Missing hours of every facility, oldest first."""
        return sorted((g for f in self.facilities for g in f.coverage.gaps), key=lambda g: (g.start, g.facility_id))

    @property
    def window_hours(self) -> int:
        """Hours the last-24-hours window holds for the bond's facilities (24 each)."""
        return 24 * len(self.financed) if self.window_end else 0

    @property
    def window_hours_reported(self) -> int:
        return sum(f.window_hours_reported for f in self.financed)

    @property
    def window_note(self) -> str:
        """Whether the last-24-hours figures of the bond have every hour of the window."""
        if not self.window_end:
            return "no reports yet"
        have, want = self.window_hours_reported, self.window_hours
        if have == want:
            return f"all {want:,} hours of the window reported"
        return f"{have:,} of {want:,} hours of the window reported: {want - have:,} missing"

    @property
    def share_text(self) -> str:
        """The facilities in the bond's figures and each one's share, e.g. "Kyoso-to 100%"."""
        parts = []
        for f in self.financed:
            a = allocation_in_force(f.allocations, self.block_time)
            parts.append(f"{f.short} {a.share_text}" if a is not None and a.allocated_proceeds else
                         f"{f.short} (earlier allocation versions)")
        return ", ".join(parts)

    @property
    def covers_text(self) -> str:
        """What every "since issuance" figure of the bond covers, in one sentence."""
        n = len(self.financed)
        c = self.coverage
        text = (f"The bond's share (allocated / financed cost) of {n} facilit{'y' if n == 1 else 'ies'}"
                f"{f' ({self.share_text})' if n else ''}; coverage {c.percent_text} ({c.counts_text}), "
                f"{c.estimated_text}")
        text += "." if c.complete else f"; {c.missing_text} (see Coverage)."
        if self.not_financed:
            text += (" Not in these figures: " + ", ".join(f.short for f in self.not_financed)
                     + " (not financed by this bond; shown on its own below).")
        return text


def effective_reports(logs: Iterable[ReportLog]) -> list[ReportLog]:
    """The reports in force: every report except those a later correction superseded."""
    logs = list(logs)
    superseded = {(l.facility_id, l.supersedes - 1) for l in logs if l.supersedes}
    return [l for l in logs if (l.facility_id, l.index) not in superseded]


def _frame(logs: Sequence[ReportLog]) -> pd.DataFrame:
    return pd.DataFrame({
        "facility_id": [l.facility_id for l in logs],
        "period_start": [l.period_start for l in logs],
        "energy_j": [l.energy_reduction_j for l in logs],
        "co2_mg": [l.co2_avoided_mg for l in logs],
    })


def short_name(name: str) -> str:
    """A facility's name up to its first comma or parenthesis: a chart legend's label."""
    return name.split(",")[0].split(" (")[0].strip() or name


def _rollups(frame: pd.DataFrame, names: dict[int, str], offset_s: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if frame.empty:
        empty = pd.DataFrame(columns=["facility", "short", "day", "energy_mj", "co2_t"])
        return empty, empty.rename(columns={"day": "month"})
    local_day = (frame["period_start"] + offset_s) // DAY
    day = pd.to_datetime(local_day * DAY, unit="s")
    g = frame.assign(day=day).groupby(["facility_id", "day"], as_index=False)[["energy_j", "co2_mg"]].sum()
    short = {f: short_name(n) for f, n in names.items()}
    daily = pd.DataFrame({
        "facility": g["facility_id"].map(names), "short": g["facility_id"].map(short), "day": g["day"],
        "energy_mj": g["energy_j"] / 1e6, "co2_t": g["co2_mg"] / 1e9,
    })
    m = g.assign(month=g["day"].dt.to_period("M").dt.to_timestamp()).groupby(
        ["facility_id", "month"], as_index=False)[["energy_j", "co2_mg"]].sum()
    monthly = pd.DataFrame({
        "facility": m["facility_id"].map(names), "short": m["facility_id"].map(short), "month": m["month"],
        "energy_mj": m["energy_j"] / 1e6, "co2_t": m["co2_mg"] / 1e9,
    })
    return daily, monthly


@guarded
def impact_view(settings: PageSettings, now: int | None = None) -> ImpactView:
    """The Impact page. The bond's figures (since issuance, last 24 hours, coverage) are its share
    of the facilities it finances, never a sum of facilities: bondTotals(bond), attributed_share
    over the window's reports, bondCoverage(bond); each facility is shown whole (facilityTotals)
    and with the part attributable to the bond (attributedTotals). Every view is read at one
    block; the missing hours come from reportedHoursWord, read only for a facility whose coverage
    says some hour is missing."""
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle, tz = s.suite.oracle, s.tz
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle, so there are no impact figures to show.")
    bond = s.suite.bond.address
    nfac, nmeth, heartbeat, block = call_many(s.w3, [
        call(oracle, "facilityCount"), call(oracle, "methodologyCount"), call(oracle, "heartbeat"),
        rpc("eth_getBlockByNumber", "latest", False),
    ])
    latest, block_ts = int(block["number"], 16), int(block["timestamp"], 16)
    logs = s.reports.refresh(latest)
    factor_logs = s.factors.refresh(latest)
    allocation_logs = s.allocation_logs.refresh(latest)
    per = 7
    items = [call(oracle, "bondTotals", bond), call(oracle, "bondCoverage", bond)]
    for f in range(1, nfac + 1):
        items += [call(oracle, "facility", f), call(oracle, "facilityTotals", f), call(oracle, "lastPeriodEnd", f),
                  call(oracle, "reportCount", f), call(oracle, "attributedTotals", f, bond),
                  call(oracle, "allocations", f, bond), call(oracle, "coverage", f)]
    for v in range(1, nmeth + 1):
        items.append(call(oracle, "methodology", v))
    res = call_many(s.w3, items, block=latest)
    totals, bond_cov = res[0], res[1]
    res = res[2:]
    facilities, names, lpe = [], {}, {}
    for j in range(nfac):
        f, ftot, last_end, count, atot, versions, cov = res[per * j: per * j + per]
        versions = [Allocation(*v) for v in versions]
        names[j + 1] = f[5]
        lpe[j + 1] = last_end
        facilities.append(FacilityImpact(
            j + 1, f[5], KINDS[f[0]], count, ftot[2], ftot[3], 0, 0,
            attributed_energy_j=atot[2], attributed_co2_mg=atot[3], allocations=versions,
            allocation=allocation_text(versions, block_ts, s.terms.currency, tz),
            coverage=Coverage(*cov), reporting_start=f[3],
        ))
    methodologies = []
    for v in range(1, nmeth + 1):
        m = res[per * nfac + v - 1]
        model_id, model_version, pef, created, uri, shash = m
        factors = [FactorRow(int(x["version"]), int(x["year"]), int(x["gramsPerKWh"]), bool(x["isFinal"]), x["source"])
                   for x in factor_logs if int(x["version"]) == v]
        methodologies.append(MethodologyRow(
            v, bytes(model_id).rstrip(b"\0").decode("ascii", "replace"), model_version, pef, uri,
            "0x" + bytes(shash).hex(), local_time(created, tz) if created else "", v == nmeth,
            sorted(factors, key=lambda x: x.fiscal_year),
        ))

    table = s.report_table.update(logs)
    eff = table.effective
    cols = {c: v[eff] for c, v in table.cols.items()}
    eff_pos = np.flatnonzero(eff)
    # lastPeriodEnd is the facility's reportingStart before its first report
    window_end = max((lpe[fi.facility_id] for fi in facilities if fi.coverage.hours_reported), default=0)
    window_start = window_end - 24 * HOUR
    ps = cols["period_start"]
    win = np.flatnonzero((ps >= window_start) & (ps < window_end))
    in_window = [logs[k] for k in eff_pos[win]]
    # one more batch: the window's stored reports (Wh for the chart) and, for each facility with a
    # missing hour, its reported-hours bitmaps up to the hours elapsed
    items = [call(oracle, "report", l.facility_id, l.index) for l in in_window]
    word_reads = []
    for fi in facilities:
        if not fi.coverage.complete:
            n_words = -(-fi.coverage.hours_elapsed // 256)
            word_reads.append((fi, len(items), n_words))
            items += [call(oracle, "reportedHoursWord", fi.facility_id, w) for w in range(n_words)]
    res = call_many(s.w3, items, block=latest)
    stored = res[:len(in_window)]
    problems = []
    for fi, at, n_words in word_reads:
        words = res[at: at + n_words]
        fi.coverage.gaps = gaps_from_words(fi.facility_id, fi.reporting_start, fi.coverage.hours_elapsed, words)
        marked = reported_in_words(fi.coverage.hours_elapsed, words)
        if marked != fi.coverage.hours_reported:
            problems.append(f"{fi.name}: the chain's bitmap of reported hours marks {marked:,} hours, its coverage "
                            f"counts {fi.coverage.hours_reported:,}.")
    hourly = pd.DataFrame({
        "facility": [names.get(l.facility_id, str(l.facility_id)) for l in in_window],
        "facility_id": [l.facility_id for l in in_window],
        # wall-clock time in the bond's time zone, without a zone: charts show it as is
        "hour": pd.to_datetime([l.period_start for l in in_window], unit="s", utc=True)
                  .tz_convert(s.terms.timezone).tz_localize(None),
        "actual_kwh": [r[1] / 1000 for r in stored],
        "benchmark_kwh": [r[2] / 1000 for r in stored],
        "energy_mj": [l.energy_reduction_j / 1e6 for l in in_window],
        "co2_kg": [l.co2_avoided_mg / 1e6 for l in in_window],
    })
    by_facility: dict[int, list[AllocationLog]] = {}
    for a in allocation_logs:
        by_facility.setdefault(a.facility_id, []).append(a)
    bond_last24_j = bond_last24_mg = 0
    for fi in facilities:
        mine = [l for l in in_window if l.facility_id == fi.facility_id]
        fi.window_hours_reported = len({l.period_start for l in mine})
        fi.last24_energy_j = sum(l.energy_reduction_j for l in mine)
        fi.last24_co2_mg = sum(l.co2_avoided_mg for l in mine)
        starts = allocation_period_starts(fi.reporting_start, by_facility.get(fi.facility_id, []))
        fi.attributed_last24_energy_j, fi.attributed_last24_co2_mg = attributed_share(
            ((l.period_start, l.energy_reduction_j, l.co2_avoided_mg) for l in mine), starts, fi.allocations)
        bond_last24_j += fi.attributed_last24_energy_j
        bond_last24_mg += fi.attributed_last24_co2_mg
    bond_coverage = Coverage(*bond_cov, gaps=sorted((g for fi in facilities if fi.financed for g in fi.coverage.gaps),
                                                    key=lambda g: (g.start, g.facility_id)))
    offset = s.terms.utc_offset_seconds
    frame = pd.DataFrame({k: cols[k] for k in ("facility_id", "period_start", "energy_j", "co2_mg")})
    daily, monthly = _rollups(frame, names, offset)
    now = int(time.time()) if now is None else now
    freshness = []
    for fi in facilities:
        end = lpe[fi.facility_id]
        reported = fi.coverage.hours_reported > 0
        age = now - end if reported else None
        freshness.append(Freshness(fi.facility_id, fi.name, end if reported else 0,
                                   local_time(end - HOUR, tz) if reported else "",
                                   age, heartbeat, age is None or age > heartbeat, fi.coverage))
    return ImpactView(
        bond=bond, energy_reduction_j=totals[2], co2_avoided_mg=totals[3],
        last24_energy_j=bond_last24_j, last24_co2_mg=bond_last24_mg,
        window_start=window_start, window_end=window_end,
        window_text=(f"{local_time(window_start, tz)} to {local_time(window_end, tz)}" if window_end else "no reports yet"),
        facilities=facilities, hourly=hourly, daily=daily, monthly=monthly, methodologies=methodologies,
        freshness=freshness, heartbeat_s=heartbeat, report_count=int(eff_pos.size), timezone=s.terms.timezone,
        coverage=bond_coverage, currency=s.terms.currency, block=latest, block_time=block_ts, problems=problems,
        _effective=[logs[k] for k in eff_pos], _names=dict(names), _settings=settings,
    )


CSV_COLUMNS = (
    "facility_id", "facility", "report_index", "hour_start_utc", "hour_start_local",
    "energy_reduction_j", "energy_reduction_mj", "co2_avoided_mg", "co2_avoided_t",
    "methodology_version", "readings_root", "supersedes_index", "tx_hash",
    "actual_kwh", "benchmark_kwh", "reading_count", "quality_flags", "quality", "coverage",
)
QUALITY_NAMES = ((1, "estimated"), (2, "low_coverage"), (4, "quarantine_excluded"))   # HourlyReport.qualityFlags bits


def quality_text(flags: int) -> str:
    """qualityFlags as names joined by '|' ('' for none): estimated (some readings of the hour were
    estimated), low_coverage (fewer than 90% of the expected readings were measured),
    quarantine_excluded (a received value was kept out by validation)."""
    names = [n for bit, n in QUALITY_NAMES if flags & bit]
    rest = flags & ~sum(bit for bit, _ in QUALITY_NAMES)
    return "|".join(names + ([f"bits_{rest:#x}"] if rest else []))


def _kwh(wh: int) -> str:
    """Wh as kWh with three decimals, exactly (no float rounding)."""
    sign = "-" if wh < 0 else ""
    return f"{sign}{abs(wh) // 1000}.{abs(wh) % 1000:03d}"


def report_figures(settings: PageSettings, logs: Sequence[ReportLog], block: int | str = "latest") -> dict:
    """(facility, index) -> (actualWh, benchmarkWh, readingCount, qualityFlags) of each report,
    read with ImpactOracle.report in JSON-RPC batches (1,000 calls a request) at `block`; a report
    that cannot be read (e.g. the chain was reset) is left out."""
    if not logs:
        return {}
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        return {}
    try:
        res = call_many(s.w3, [call(oracle, "report", l.facility_id, l.index) for l in logs], block=block or "latest")
    except ChainError as exc:   # a batch the node refuses: a page sentence, as before the batch moved to greenbond.chain
        raise PageError(str(exc)) from None
    return {(l.facility_id, l.index): (r[1], r[2], r[3], r[4]) for l, r in zip(logs, res) if not isinstance(r, CallFailed)}


def impact_csv(logs: Sequence[ReportLog], names: dict[int, str], tz: ZoneInfo, *,
               figures: dict | None = None, gaps: Iterable[Gap] = ()) -> str:
    """The hourly CSV: a row per report in force (coverage "reported") and a row per hour without
    one since each facility's reporting start (coverage "missing", only the facility and the hour
    filled), in time order. Columns (CSV_COLUMNS):
      facility_id, facility; report_index (on chain); hour_start_utc, hour_start_local (the bond's
      time zone); energy_reduction_j/_mj, co2_avoided_mg/_t (the facility's whole figure, not the
      bond's share); methodology_version; readings_root (the Merkle root the published readings
      hash to); supersedes_index (the report this corrects, if any); tx_hash;
      actual_kwh, benchmark_kwh (the report's actualWh / benchmarkWh in kWh, exact to the Wh);
      reading_count (readings under the root); quality_flags (the report's qualityFlags: 1
      estimated readings, 2 low coverage, 4 a value kept out by validation) and quality (the
      same as names); coverage ("reported" or "missing").
    `figures` ((facility, index) -> (actualWh, benchmarkWh, readingCount, qualityFlags), see
    `report_figures`) fills the Wh and flags columns; without it they are empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    rows = []
    for l in logs:
        fig = (figures or {}).get((l.facility_id, l.index))
        extra = ([_kwh(fig[0]), _kwh(fig[1]), fig[2], fig[3], quality_text(fig[3])] if fig is not None
                 else ["", "", "", "", ""])
        rows.append((l.period_start, l.facility_id, 0, l, extra))
    for g in gaps:
        for t in range(g.start, g.end, HOUR):
            rows.append((t, g.facility_id, 1, None, None))
    rows.sort(key=lambda r: r[:3])
    for t, fid, _missing, l, extra in rows:
        utc = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        when = [utc.strftime("%Y-%m-%dT%H:%MZ"), utc.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
        if l is None:
            w.writerow([fid, names.get(fid, ""), "", *when, *[""] * 8, *[""] * 5, "missing"])
            continue
        w.writerow([fid, names.get(fid, ""), l.index, *when, l.energy_reduction_j,
                    f"{l.energy_reduction_j / 1e6:.6f}", l.co2_avoided_mg, f"{l.co2_avoided_mg / 1e9:.9f}",
                    l.methodology_version, l.readings_root, l.supersedes - 1 if l.supersedes else "", l.tx_hash,
                    *extra, "reported"])
    return buf.getvalue()


# ---------------------------------------------------------------- verify a reading


class ReadingSource(Protocol):
    def readings(self, facility_id: int, period_start: int) -> list[Reading]: ...


def published_readings(settings: PageSettings):
    """The operator's published readings (greenbond.published.PublishedReadings) at
    settings.published_dir: what Verify checks, never the feeder's private database."""
    from greenbond.published import PublishedReadings

    return PublishedReadings(settings.published_dir)


def _sentence(exc: BaseException) -> str:
    msg = str(exc).strip()
    return (msg[0].upper() + msg[1:] + ("" if msg.endswith(".") else ".")) if msg else type(exc).__name__


def parse_day_file(file_bytes: bytes, name: str = "the uploaded file"):
    """A day file a visitor uploads -> greenbond.published.DayFile (its `hours` list the hours it
    holds: `.period_start`, `.readings`); a file that is not one is a PageError sentence."""
    from greenbond.published import PublishedError, load_day_file

    try:
        return load_day_file(file_bytes, name)
    except PublishedError as exc:
        raise PageError(_sentence(exc)) from None


@dataclass
class HourOption:
    facility_id: int
    index: int
    period_start: int
    label: str


@guarded
def report_hours(settings: PageSettings, facility_id: int, limit: int = 24 * 14) -> list[HourOption]:
    """The facility's reports in force, newest first (at most `limit`)."""
    s = session(settings.rpc_url, settings.deployments_dir)
    if s.reports is None:
        return []
    logs = [l for l in effective_reports(s.reports.refresh()) if l.facility_id == facility_id]
    logs.sort(key=lambda l: l.period_start, reverse=True)
    return [HourOption(l.facility_id, l.index, l.period_start,
                       f"{local_time(l.period_start, s.tz)} (report #{l.index})") for l in logs[:limit]]


@guarded
def facility_names(settings: PageSettings) -> dict[int, str]:
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        return {}
    n = call_many(s.w3, [call(oracle, "facilityCount")])[0]
    res = call_many(s.w3, [call(oracle, "facility", f) for f in range(1, n + 1)])
    return {f: r[5] for f, r in zip(range(1, n + 1), res)}   # Facility.name


@dataclass
class ReadingCheck:
    position: int
    meter_id: str
    interval_start: str
    wh: int
    flags: int
    tampered: bool
    on_chain: bool | None         # verifyReading's answer; None when not checked


@dataclass
class SignerCheck:
    address: str
    in_signer_set: bool


@dataclass
class VerifyResult:
    facility_id: int
    facility: str
    index: int
    period_start: int
    hour_text: str
    actual_wh: int
    benchmark_wh: int
    reading_count: int
    energy_reduction_j: int
    co2_avoided_mg: int
    methodology_version: int
    factor_year: int
    signer_set_version: int
    superseded: bool
    chain_root: str
    local_root: str
    readings: list[ReadingCheck]
    signers: list[SignerCheck]
    threshold: int
    digest: str
    digest_matches_chain: bool
    tx_hash: str
    block: int
    problems: list[str] = field(default_factory=list)
    # where the readings came from: the operator's published day file, or a visitor's upload
    source: str = "published"        # "published" | "uploaded" | "other" (a ReadingSource given by the caller)
    published_file: str = ""         # "facility-1/2024-01-05.json" (published), the upload's name (uploaded)
    published_path: str = ""         # the published file on the server (for a download button); "" for an upload
    published_sha256: str = ""       # sha256 of the file's bytes as read
    index_sha256: str = ""           # what the published index.json says the file's sha256 is ("" when unknown)
    published_root: str = ""         # the root the file says its readings hash to
    quality_flags: int = 0           # the report's qualityFlags (1 estimated, 2 low coverage, 4 excluded)

    @property
    def roots_match(self) -> bool:
        return self.chain_root == self.local_root

    @property
    def checked(self) -> list[ReadingCheck]:
        return [r for r in self.readings if r.on_chain is not None]

    @property
    def all_verified(self) -> bool:
        return bool(self.checked) and all(r.on_chain for r in self.checked)

    @property
    def signatures_ok(self) -> bool:
        return self.digest_matches_chain and sum(s.in_signer_set for s in self.signers) >= self.threshold

    @property
    def file_matches_index(self) -> bool | None:
        """The file is byte for byte the one the operator's index lists (None: no index to compare)."""
        return None if not self.index_sha256 else self.index_sha256 == self.published_sha256

    @property
    def file_ok(self) -> bool:
        """The file is the indexed one (when there is an index), its readings hash to the root it
        gives, and that root is the one on chain."""
        return (self.file_matches_index is not False and self.published_root == self.local_root
                and self.published_root == self.chain_root)


@guarded
def verify_report(settings: PageSettings, facility_id: int, index: int, *, only: int | None = None,
                  tamper: tuple[int, int] | None = None, source: ReadingSource | None = None) -> VerifyResult:
    """Checks the hour's raw readings, as the operator PUBLISHES them (settings.published_dir,
    greenbond.published: a day file per facility, its sha256 in the facility's index), against
    report `index` of `facility_id`: each (or only position `only`) with the oracle's
    verifyReading and a proof from the tree of the published readings; `tamper=(position, wh)`
    changes one reading's value first, so the check fails. A published file that changed after
    it was indexed, or whose readings do not hash to the root it gives, is checked all the same
    and said in `problems` (its readings then fail on chain). Recovers the signers from the
    submitReports transaction that carried the report. The feeder's private database is never
    read (a `source` given by the caller is used instead of the published files)."""
    from greenbond.published import PublishedError

    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle.")
    stored, fac = call_many(s.w3, [call(oracle, "report", facility_id, index), call(oracle, "facility", facility_id)])
    if isinstance(stored, CallFailed):
        raise PageError(f"Facility {facility_id} has no report #{index} on chain.")
    period_start = stored[0]
    if source is not None:
        readings = list(source.readings(facility_id, period_start))
        if not readings:
            raise PageError(f"There are no readings for facility {facility_id} in the hour starting "
                            f"{local_time(period_start, s.tz)}.")
        return _verify_readings(s, facility_id, index, stored, fac, readings, only=only, tamper=tamper,
                                problems=[], provenance={"source": "other"})
    try:
        hour = published_readings(settings).hour(facility_id, period_start, strict=False)
    except PublishedError as exc:
        raise PageError(_sentence(exc)) from None
    problems = [_sentence(p) for p in hour.problems()]
    problems += _chain_problems(s, oracle, hour, f"the published file {hour.file}", settings.published_dir)
    return _verify_readings(s, facility_id, index, stored, fac, list(hour.readings), only=only, tamper=tamper,
                            problems=problems, provenance={
                                "source": "published", "published_file": hour.file, "published_path": hour.path,
                                "published_sha256": hour.sha256, "index_sha256": hour.index_sha256,
                                "published_root": hour.readings_root})


@guarded
def verify_uploaded(settings: PageSettings, file_bytes: bytes, facility_id: int | None = None,
                    period_start: int | None = None, *, name: str = "the uploaded file", only: int | None = None,
                    tamper: tuple[int, int] | None = None) -> VerifyResult:
    """Checks a day file a visitor uploads (e.g. one downloaded from the page earlier, or from
    the operator) against the chain: the hour `period_start` (default: the file's first) of
    `facility_id` (default: the file's), against the report in force for that hour. Also says
    whether the file is byte for byte the one the operator publishes now (`file_matches_index`,
    None when the page has no published index for it). Nothing of the file is stored."""
    from greenbond.published import PublishedError

    day = parse_day_file(file_bytes, name)
    if facility_id is not None and int(facility_id) != day.facility_id:
        raise PageError(f"{name[0].upper() + name[1:]} holds readings of facility {day.facility_id}, "
                        f"not of facility {facility_id}.")
    if not day.hours:
        raise PageError(f"{name[0].upper() + name[1:]} lists no hours.")
    hour = day.hours[0] if period_start is None else day.hour(int(period_start))
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle.")
    if hour is None:
        raise PageError(f"{name[0].upper() + name[1:]} has no readings for the hour starting "
                        f"{local_time(int(period_start), s.tz)}.")
    fid, start = day.facility_id, hour.period_start
    log = next((l for l in effective_reports(s.reports.refresh())
                if l.facility_id == fid and l.period_start == start), None)
    if log is None:
        raise PageError(f"Facility {fid} has no report on chain for the hour starting {local_time(start, s.tz)}.")
    stored, fac = call_many(s.w3, [call(oracle, "report", fid, log.index), call(oracle, "facility", fid)])
    if isinstance(stored, CallFailed):
        raise PageError(f"Facility {fid} has no report #{log.index} on chain.")
    hour.file = name
    problems = []
    if not hour.root_matches:
        problems.append(_sentence(hour.problems()[-1]))
    problems += _chain_problems(s, oracle, hour, name, None)
    index_sha = ""
    try:
        _day, entry = published_readings(settings).locate(fid, start)
        index_sha = str(entry.get("sha256") or "")
    except PublishedError:
        pass
    if index_sha and index_sha != day.sha256:
        problems.append(f"{name[0].upper() + name[1:]} is not byte for byte the file the operator publishes for "
                        f"this day (sha256 {day.sha256}, published {index_sha}).")
    return _verify_readings(s, fid, log.index, stored, fac, list(hour.readings), only=only, tamper=tamper,
                            problems=problems, provenance={
                                "source": "uploaded", "published_file": name, "published_sha256": day.sha256,
                                "index_sha256": index_sha, "published_root": hour.readings_root})


def published_bytes(settings: PageSettings, result: VerifyResult) -> bytes | None:
    """The published day file a VerifyResult used, for the page's download button; None for an
    upload or a file outside settings.published_dir."""
    if result.source != "published" or not result.published_path:
        return None
    path = Path(result.published_path).resolve()
    if not path.is_relative_to(Path(settings.published_dir).resolve()) or not path.is_file():
        return None
    return path.read_bytes()


def _chain_problems(s: Session, oracle, hour, what: str, directory: str | None) -> list[str]:
    """A file published for another chain or oracle than the page's (its roots mean nothing here)."""
    want_id, want_oracle = s.w3.eth.chain_id, oracle.address.lower()
    if hour.chain_id is None and hour.oracle is None:
        return []
    if hour.chain_id == want_id and (hour.oracle or "").lower() == want_oracle:
        return []
    where = f" (GREENBOND_PUBLISHED_DIR={directory})" if directory else ""
    return [f"{what[0].upper() + what[1:]} was published for chain {hour.chain_id}, oracle {hour.oracle}, not for this "
            f"chain {want_id}, oracle {oracle.address}{where}."]


def _verify_readings(s: Session, facility_id: int, index: int, stored, fac, readings: list[Reading], *,
                     only: int | None, tamper: tuple[int, int] | None, problems: list[str],
                     provenance: dict) -> VerifyResult:
    """The checks of verify_report on given readings: verifyReading of each (or `only`) with a
    proof from their tree, the root of the readings, and the signers of the report."""
    from greenbond.merkle import MerkleTree
    from greenbond.oracle.signing import HourlyReport, report_digest

    oracle = s.suite.oracle
    (period_start, actual, benchmark, count, qflags, energy_j, co2_mg, mversion, fyear, sversion,
     supersedes, superseded_by, root) = stored
    chain_root = "0x" + bytes(root).hex()
    if not readings:
        raise PageError(f"There are no readings for facility {facility_id} in the hour starting "
                        f"{local_time(period_start, s.tz)}.")
    tree = MerkleTree.of_readings(readings)
    checked = list(range(len(readings))) if only is None else [only]
    if tamper is not None:
        pos, wh = tamper
        if not 0 <= pos < len(readings):
            raise PageError(f"There is no reading #{pos + 1} in this hour (it has {len(readings)}).")
        readings[pos] = dataclasses.replace(readings[pos], wh=int(wh))
    for pos in checked:
        if not 0 <= pos < len(readings):
            raise PageError(f"There is no reading #{pos + 1} in this hour (it has {len(readings)}).")
    local_root = "0x" + MerkleTree.of_readings(readings).root.hex()
    answers = call_many(s.w3, [
        call(oracle, "verifyReading", facility_id, index, readings[p].leaf_values(), tree.proof(p)) for p in checked
    ])
    rows = []
    for p, r in enumerate(readings):
        ans = answers[checked.index(p)] if p in checked else None
        rows.append(ReadingCheck(p, r.meter_id, local_time(r.ts, s.tz), r.wh, r.flags,
                                 tamper is not None and tamper[0] == p,
                                 None if ans is None else (ans is True)))
    # signers: from the transaction that carried the report
    log = next((l for l in s.reports.refresh() if l.facility_id == facility_id and l.index == index), None)
    problems = list(problems)
    signers: list[SignerCheck] = []
    digest_hex, digest_ok, tx_hash, block = "", False, "", 0
    members, threshold = call_many(s.w3, [call(oracle, "signerSet", sversion)])[0]
    members_l = {a.lower() for a in members}
    if log is None:
        problems.append("the ReportAccepted event of this report was not found")
    else:
        tx_hash, block = log.tx_hash, log.block
        tx = s.w3.eth.get_transaction(tx_hash)
        fn, args = oracle.decode_function_input(tx["input"])
        found = None
        for rep, sigs in zip(args["reports"], args["signatures"]):
            rep = dict(rep) if isinstance(rep, dict) else dict(zip([n for n, _ in _REPORT_FIELDS], rep))
            if rep["facilityId"] == facility_id and rep["periodStart"] == period_start and rep["supersedes"] == supersedes:
                found = (rep, sigs)
        if found is None:
            problems.append(f"transaction {tx_hash} does not carry this report")
        else:
            rep, sigs = found
            hr = HourlyReport(**{n: (bytes(rep[n]) if n == "readingsRoot" else int(rep[n])) for n, _ in _REPORT_FIELDS})
            digest = report_digest(hr, s.w3.eth.chain_id, oracle.address)
            digest_hex = "0x" + digest.hex()
            onchain_digest = call_many(s.w3, [call(oracle, "reportDigest", hr.as_tuple())])[0]
            digest_ok = bytes(onchain_digest) == digest
            for sig in sigs:
                sig = dict(sig) if isinstance(sig, dict) else {"r": sig[0], "vs": sig[1]}
                addr = recover_compact(digest, bytes(sig["r"]), bytes(sig["vs"]))
                signers.append(SignerCheck(addr, addr.lower() in members_l))
    return VerifyResult(
        facility_id=facility_id, facility=fac[5] if not isinstance(fac, CallFailed) else str(facility_id),
        index=index, period_start=period_start,
        hour_text=f"{local_time(period_start, s.tz)} to {local_time(period_start + HOUR, s.tz)}",
        actual_wh=actual, benchmark_wh=benchmark, reading_count=count, energy_reduction_j=energy_j,
        co2_avoided_mg=co2_mg, methodology_version=mversion, factor_year=fyear, signer_set_version=sversion,
        superseded=bool(superseded_by), chain_root=chain_root, local_root=local_root, readings=rows,
        signers=signers, threshold=threshold, digest=digest_hex, digest_matches_chain=digest_ok,
        tx_hash=tx_hash, block=block, problems=problems, quality_flags=qflags, **provenance,
    )


_REPORT_FIELDS = (
    ("facilityId", 0), ("periodStart", 0), ("actualWh", 0), ("benchmarkWh", 0), ("readingCount", 0),
    ("qualityFlags", 0), ("readingsRoot", 0), ("methodologyVersion", 0), ("factorYear", 0),
    ("signerSetVersion", 0), ("supersedes", 0),
)


def recover_compact(digest: bytes, r: bytes, vs: bytes) -> str:
    """The signer of an EIP-2098 compact signature (r, vs) over `digest` (ECDSA.recover)."""
    from eth_keys import keys

    vs_int = int.from_bytes(vs, "big")
    s_int = vs_int & ((1 << 255) - 1)
    v = vs_int >> 255
    pub = keys.Signature(vrs=(v, int.from_bytes(r, "big"), s_int)).recover_public_key_from_msg_hash(digest)
    return to_checksum_address(pub.to_canonical_address())


# ---------------------------------------------------------------- my holding


def parse_address(text: str) -> str:
    """A wallet address from user input, checksummed; PageError with a sentence otherwise."""
    import re

    value = (text or "").strip()
    if not value:
        raise PageError("Enter a wallet address (0x followed by 40 hexadecimal digits).")
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise PageError(f"{value!r} is not a wallet address: an address is 0x followed by 40 hexadecimal digits.")
    digits = value[2:]
    if not (digits.islower() or digits.isupper() or digits.isdigit()) and not is_checksum_address(value):
        raise PageError(f"{value} has a wrong checksum (the mix of capital letters): check for a typing mistake.")
    return to_checksum_address(value)


@dataclass
class HolderCoupon:
    number: int
    payment_date: dt.date
    units_at_record: int
    amount: int
    payment: str                  # none / on chain / off chain
    coupon_status: str
    state: str                    # received, paid off chain, claimable, not yet due, not funded, nothing owed, ...


@dataclass
class Holding:
    address: str
    units: int
    face_value: int
    eligible: bool
    registered: bool
    investor_id: str
    currency: str
    coupons: list[HolderCoupon]
    received_on_chain: int        # from CouponPaid events to this holder
    paid_off_chain: int
    claimable: int
    redemption_amount: int        # units x redemption per unit
    redemption_date: dt.date
    frozen: bool

    @property
    def claimable_coupons(self) -> list[HolderCoupon]:
        return [c for c in self.coupons if c.state == "claimable"]


@guarded
def holding(settings: PageSettings, address_text: str, now: int | None = None) -> Holding:
    address = parse_address(address_text)
    s = session(settings.rpc_url, settings.deployments_dir)
    bond, reg, sched, tz = s.suite.bond, s.suite.registry, s.suite.schedule, s.tz
    units, face, eligible, iid, ncoupons, per_unit_redeem, rdate, frozen, latest = call_many(s.w3, [
        call(bond, "balanceOf", address), call(bond, "principalOf", address), call(reg, "isEligible", address),
        call(reg, "investorOf", address), call(sched, "couponCount"), call(sched, "redemptionPerUnit"),
        call(sched, "redemptionDate"), call(bond, "isFrozen", address), rpc("eth_blockNumber"),
    ])
    latest = int(latest, 16)
    items = []
    for i in range(ncoupons):
        items += [call(sched, "couponDate", i), call(sched, "couponOf", address, i), call(sched, "couponPerUnit", i),
                  call(sched, "paymentOf", address, i), call(sched, "couponStatus", i)]
    res = call_many(s.w3, items, block=latest)
    paid_logs = s.w3.provider.make_request("eth_getLogs", [{
        "address": sched.address, "fromBlock": hex(s.suite.start_block()), "toBlock": hex(latest),
        "topics": [COUPON_PAID_TOPIC, None, "0x" + "00" * 12 + address[2:].lower()],
    }])
    if paid_logs.get("error"):
        raise PageError(f"The node refused the coupon payment logs: {paid_logs['error']}.")
    received: dict[int, int] = {}
    for l in paid_logs["result"]:
        received[int(l["topics"][1], 16)] = received.get(int(l["topics"][1], 16), 0) + _word_int(l["data"], 1)
    now = int(time.time()) if now is None else now
    coupons, claimable, offchain = [], 0, 0
    for i in range(ncoupons):
        date, owed, per_unit, payment, status = res[5 * i: 5 * i + 5]
        owed = 0 if isinstance(owed, CallFailed) else owed
        units_at = owed // per_unit if per_unit else 0
        st = COUPON_STATES[status]
        if payment == 1:
            state = "received"
        elif payment == 2:
            state, offchain = "paid off chain", offchain + owed
        elif owed == 0:
            state = "nothing owed" if date <= now or st != "scheduled" else "not yet due"
        elif st == "paying":
            state, claimable = "claimable", claimable + owed
        elif st == "funded":
            state = "funded, not yet due"
        elif st == "late":
            state = "late: not funded"
        else:
            state = "not yet due"
        coupons.append(HolderCoupon(i + 1, local_date(date, tz), units_at, received.get(i, owed), PAYMENTS[payment], st, state))
    has_history = any(c.state in ("received", "paid off chain", "claimable") for c in coupons)
    if units == 0 and not has_history and not eligible:
        raise PageError(f"{address} is not a holder of this bond: it holds no units, has no coupons and is not registered.")
    registered = int.from_bytes(bytes(iid), "big") != 0
    return Holding(
        address=address, units=units, face_value=face, eligible=eligible, registered=registered,
        investor_id="0x" + bytes(iid).hex() if registered else "", currency=s.terms.currency, coupons=coupons,
        received_on_chain=sum(received.values()), paid_off_chain=offchain, claimable=claimable,
        redemption_amount=units * per_unit_redeem, redemption_date=local_date(rdate, tz), frozen=frozen,
    )


@dataclass(frozen=True)
class HoldingOutlook:
    """What a holding means beside the bond's figures: the next coupon it would receive if still
    held at that coupon's record date, and its pro-rata part of the bond's attributable impact."""

    next_coupon_date: dt.date | None
    next_record_date: dt.date | None
    next_coupon_amount: int          # units now x per unit of the next coupon; 0 when none is left
    units: int
    outstanding_units: int
    energy_reduction_j: int          # units / outstanding x the bond's share since issuance, toward zero
    co2_avoided_mg: int
    last24_energy_j: int
    last24_co2_mg: int

    @property
    def share_ppm(self) -> int:
        return self.units * 1_000_000 // self.outstanding_units if self.outstanding_units else 0


def holding_outlook(h: Holding, bond: BondOverview, impact: ImpactView) -> HoldingOutlook:
    """Pro rata to the units held NOW (units / units outstanding): the page says so. A holding's
    part of a past hour would need its units at that hour; this figure is an attribution of the
    bond's totals to today's holders, not a record of who held when."""
    upcoming = [c for c in bond.coupons if bond.next_coupon and c.payment_date >= bond.next_coupon]
    nxt = upcoming[0] if upcoming else None
    out = bond.outstanding_units

    def part(value: int) -> int:
        return mul_div_toward_zero(value, h.units, out) if out else 0

    return HoldingOutlook(
        next_coupon_date=nxt.payment_date if nxt else None, next_record_date=nxt.record_date if nxt else None,
        next_coupon_amount=h.units * nxt.per_unit if nxt else 0, units=h.units, outstanding_units=out,
        energy_reduction_j=part(impact.energy_reduction_j), co2_avoided_mg=part(impact.co2_avoided_mg),
        last24_energy_j=part(impact.last24_energy_j), last24_co2_mg=part(impact.last24_co2_mg),
    )


# ---------------------------------------------------------------- amounts


def format_yen(amount: int, currency: str = "JPY") -> str:
    return f"{currency} {amount:,}"


# ---------------------------------------------------------------- primary offering and DvP


@dataclass(frozen=True)
class MarketView:
    """The primary offering's outcome and the live secondary (DvP) offers, or None for each when
    the contract is not deployed on this chain."""

    offering: dict | None      # greenbond.offering.offering_status(...) + cash raised
    trades: list[dict] | None  # live DvP trades (open or waiting for approval)


@guarded
def market_view(settings: PageSettings) -> MarketView:
    from greenbond.offering import handles, list_trades, offering_status

    s = session(settings.rpc_url, settings.deployments_dir)
    h = handles(s.w3, s.suite)
    offering = None
    if h.offering is not None:
        offering = offering_status(s.w3, h.offering)
        offering["cash_raised"] = h.offering.functions.cashRaised().call()
        offering["units_settled"] = h.offering.functions.unitsSettled().call()
    trades = list_trades(s.w3, h.dvp, only_live=True) if h.dvp is not None else None
    for tr in trades or []:
        tr["expires"] = local_time(tr["expiry"], ZoneInfo(s.terms.timezone))
    return MarketView(offering=offering, trades=trades)
