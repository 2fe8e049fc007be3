"""Load test: `python -m bench.load [--holders N --transfers N --days N --out PATH]`
(defaults 1,000 / 10,000 / 365 / reports/load.json), `make load`.

On an Anvil of its own (berlin, free port, gas price 0; bench.schedule.start_node),
one after the other and each timed, with the gas of its blocks summed:

1. deploy: the suite (greenbond.deploy.deploy_suite through Brownie, in this process), for the
   schedule bench's bond (the default terms issued on the JST day after the chain's clock,
   monthly coupons, record date a day before each);
2. issue: N holders registered (details sealed to a fresh issuer key; 50 registrations a block)
   and minted 10 to 16 units each (batchMint, 100 holders a transaction); holder wallets are
   plain addresses that Anvil impersonates;
3. transfers: the schedule bench's deterministic plan of one-unit transfers among the holders,
   half before coupon #1's record date and half after it (10 to a block), so the coupon is owed
   on the record-date balances, not on the final ones;
4. coupon: on coupon #1's payment date the paying agent funds it (fundCoupon) and pushes it to
   every holder (distributeCoupon, 100 holders a transaction);
5. reports: `--days` days of hourly reports of the two default facilities (config/facilities),
   from their reporting start, through the feeder itself (greenbond.feeder.service.Feeder: meter
   simulator -> VEE -> hourly figures -> SQLite store -> 2-of-3 signatures -> outbox ->
   `submitReports` transactions, `--feeder-batch` reports each), with the dev keys.

Then nothing lost, checked against an independent recomputation (never against what the code
under test recorded for itself):

* bond: every holder's balance and totalSupply against a Python replay of the issue and the
  transfer plan; every holder's balance at the record date (balanceOfAt) against the replay of
  the transfers before it;
* coupon: the per-unit amount recomputed from the bond's terms (the contract's documented
  rule); each holder's settlement-token receipt equal to units at the record date x that
  amount; the agent paid exactly their sum when funding; the schedule keeps nothing;
* reports: the ReportAccepted events (read straight from the node's logs) number days x 24 per
  facility, one per (facility, hour), no hour missing, report indexes 0..n-1; each event's
  energy (J), CO2 (mg) and readings root equal the hour recomputed from the simulator's
  readings through greenbond.meters.vee and greenbond.impact directly (not through the feeder
  or its store); the oracle's views (reportCount, lastPeriodEnd, facilityTotals, bondTotals,
  latestRoundData, see interfaces/IImpactOracle.sol) equal the recomputed counts and sums.

The report (parameters, per-phase seconds and gas, transaction counts, environment and every
check with expected, actual and pass) is written atomically to `--out`; a table is printed;
the exit status is 1 when any check fails (2 when the run itself fails). The pure helpers
(replay, coupon amounts, event decoding, check evaluation, the report) are unit-tested in
tests/python/test_loadtest.py, which also runs a small load test end to end.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from bench.gas import compiler_info, format_table, git_commit, summarize, utc_now
from bench.schedule import (
    BATCH,
    SEED,
    BenchError,
    apply_transfers,
    chunks,
    holder_units,
    plan_transfers,
)
from greenbond.config import REPO_ROOT, add_months
from greenbond.files import write_json_atomic
from greenbond.feeder.transmit import DEFAULT_BATCH_SIZE

SCHEMA_VERSION = 1
REPORT_PATH = REPO_ROOT / "reports" / "load.json"

HOLDERS = 1_000
TRANSFERS = 10_000
DAYS = 365
FEEDER_BATCH = DEFAULT_BATCH_SIZE   # reports a transaction: the feeder's default
PUSH_BATCH = BATCH         # holders a distributeCoupon transaction
COUPON = 0                 # the coupon paid: #1
FEEDER_SEED = 0            # the meter simulator's seed
HOUR = 3_600
DAY = 86_400
PPM = 1_000_000
MISMATCHES_SHOWN = 5

REPORT_ACCEPTED = "ReportAccepted(uint32,uint256,uint64,int64,int64,bytes32,uint32,uint32)"


class LoadTestError(RuntimeError):
    """The load test could not run to the end; the message says why."""


# ------------------------------------------------------------------ pure helpers


def replay(units: Sequence[int], plan: Sequence[tuple[int, int]], before_record: int) -> tuple[list[int], list[int]]:
    """The register recomputed in Python: holder i is minted `units[i]`, then the one-unit
    transfers of `plan` (sender, receiver) are made in order, the first `before_record` of them
    before the record date. Returns (units at the record date, units after every transfer)."""
    if not 0 <= before_record <= len(plan):
        raise ValueError(f"before_record must be between 0 and {len(plan)}, got {before_record}")
    at_record = apply_transfers(units, plan[:before_record])
    return at_record, apply_transfers(at_record, plan[before_record:])


def is_regular_period(previous, date, frequency: int) -> bool:
    """Whether the coupon period (previous, date] is one regular period of 12/frequency months:
    one date is the other moved by the step, either way (month ends clamp)."""
    step = 12 // frequency
    return add_months(previous, step) == date or add_months(date, -step) == previous


def coupon_per_unit(terms, i: int) -> int:
    """Coupon `i` per unit in the settlement token's smallest unit, from the bond's terms alone,
    by the rule CouponSchedule documents: a regular period pays denomination x rate / 1e6 /
    frequency; an irregular one (ACT/365F only) denomination x rate x whole days / 1e6 / 365;
    each truncated."""
    if not 0 <= i < len(terms.coupon_dates):
        raise ValueError(f"the bond has {len(terms.coupon_dates)} coupons, there is no #{i + 1}")
    previous = terms.issue_date if i == 0 else terms.coupon_dates[i - 1]
    date = terms.coupon_dates[i]
    if is_regular_period(previous, date, terms.coupon_frequency):
        return terms.denomination * terms.coupon_rate_ppm // (PPM * terms.coupon_frequency)
    if terms.day_count != "ACT/365F":
        raise ValueError(f"an irregular period needs ACT/365F, the bond has {terms.day_count}")
    days = (terms.timestamp(date) - terms.timestamp(previous)) // DAY
    return terms.denomination * terms.coupon_rate_ppm * days // (PPM * 365)


def expected_payouts(units_at_record: Sequence[int], per_unit: int) -> list[int]:
    """What each holder is owed for a coupon: its units at the record date x the per-unit amount."""
    if per_unit < 0 or any(u < 0 for u in units_at_record):
        raise ValueError("units and the per-unit amount must be non-negative")
    return [u * per_unit for u in units_at_record]


def expected_hours(facilities: Iterable, start: int, end: int) -> set[tuple[int, int]]:
    """Every (facility id, hour start) in [start, end) that a facility reports: from its
    `reporting_start` on."""
    if start % HOUR or end % HOUR:
        raise ValueError("start and end must be whole hours")
    out = set()
    for f in facilities:
        first = max(start, int(f.reporting_start.timestamp()))
        first += -first % HOUR
        out.update((f.facility_id, h) for h in range(first, end, HOUR))
    return out


def trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as Solidity's `/` on signed integers."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def check(name: str, what: str, expected: Any, actual: Any, **detail) -> dict[str, Any]:
    """One check: passes when `actual == expected`."""
    return {"name": name, "what": what, "expected": expected, "actual": actual, "pass": actual == expected, **detail}


def check_each(name: str, what: str, expected: Sequence, actual: Sequence, labels: Sequence[str] | None = None) -> dict:
    """Item-by-item equality of two lists (e.g. a balance per holder): expected is the number of
    items, actual the number that match; the first mismatches are listed."""
    labels = list(labels) if labels is not None else [str(i) for i in range(len(expected))]
    if len(labels) != len(expected):
        raise ValueError("one label per expected item")
    mismatches = [{"item": labels[k], "expected": e, "actual": a}
                  for k, (e, a) in enumerate(zip(expected, actual)) if e != a]
    matched = min(len(expected), len(actual)) - len(mismatches)
    out = check(name, what, len(expected), matched, mismatches=len(mismatches) + abs(len(expected) - len(actual)))
    out["pass"] = out["pass"] and len(actual) == len(expected)
    if mismatches:
        out["first_mismatches"] = mismatches[:MISMATCHES_SHOWN]
    if len(actual) != len(expected):
        out["lengths"] = {"expected": len(expected), "actual": len(actual)}
    return out


def decode_report_accepted(log: Mapping) -> dict[str, Any]:
    """A raw ReportAccepted log (eth_getLogs JSON: hex topics and data) as a dict: facilityId,
    index, periodStart (the indexed topics), energyReductionJ, co2AvoidedMg, readingsRoot (hex),
    methodologyVersion, supersedes, block."""
    from eth_abi import decode

    topics = log["topics"]
    if len(topics) != 4:
        raise ValueError(f"a ReportAccepted log has 4 topics, this one {len(topics)}")
    raw = bytes.fromhex(log["data"][2:])
    energy, co2, root, methodology, supersedes = decode(["int64", "int64", "bytes32", "uint32", "uint32"], raw)
    block = log.get("blockNumber")
    return {
        "facilityId": int(topics[1], 16), "index": int(topics[2], 16), "periodStart": int(topics[3], 16),
        "energyReductionJ": energy, "co2AvoidedMg": co2, "readingsRoot": "0x" + root.hex(),
        "methodologyVersion": methodology, "supersedes": supersedes,
        "block": int(block, 16) if isinstance(block, str) else block,
    }


@dataclass(frozen=True)
class Hour:
    """One recomputed hour: what the chain must show for it."""
    energy_j: int
    co2_mg: int
    root: str     # 0x-hex of the readings' Merkle root


def report_checks(events: Sequence[Mapping], hours: set[tuple[int, int]],
                  recomputed: Mapping[tuple[int, int], Hour]) -> list[dict]:
    """The ReportAccepted events (decoded) against the hours that must be reported and their
    recomputed figures: the count, one event per (facility, hour), no hour missing, report
    indexes 0..n-1 per facility, and each event's figures."""
    out = [check("report_events", "ReportAccepted events, one per facility-hour", len(hours), len(events))]
    counts = Counter((e["facilityId"], e["periodStart"]) for e in events)
    dupes = {k: n for k, n in counts.items() if n > 1}
    unexpected = sorted(set(counts) - hours)
    missing = sorted(hours - set(counts))
    out.append(check("report_hours_once", "facility-hours with more than one event, or not expected at all",
                     0, len(dupes) + len(unexpected),
                     **({"first_duplicates": [list(k) for k in sorted(dupes)[:MISMATCHES_SHOWN]]} if dupes else {}),
                     **({"first_unexpected": [list(k) for k in unexpected[:MISMATCHES_SHOWN]]} if unexpected else {})))
    out.append(check("report_hours_no_gaps", "facility-hours of the period with no event (gaps)", 0, len(missing),
                     **({"first_missing": [list(k) for k in missing[:MISMATCHES_SHOWN]]} if missing else {})))
    by_facility: dict[int, list[int]] = {}
    for e in events:
        by_facility.setdefault(e["facilityId"], []).append(e["index"])
    for fid in sorted({f for f, _ in hours} | set(by_facility)):
        got = sorted(by_facility.get(fid, []))
        n = sum(1 for f, _ in hours if f == fid)
        out.append(check(f"report_indexes_facility_{fid}", f"facility {fid}: the events' report indexes are 0..{n - 1}",
                         True, got == list(range(n)), events=len(got)))
    keyed = sorted(events, key=lambda e: (e["facilityId"], e["periodStart"], e["index"]))
    expected, actual, labels = [], [], []
    for e in keyed:
        key = (e["facilityId"], e["periodStart"])
        h = recomputed.get(key)
        labels.append(f"facility {key[0]} hour {key[1]}")
        expected.append([h.energy_j, h.co2_mg, h.root] if h else None)
        actual.append([e["energyReductionJ"], e["co2AvoidedMg"], e["readingsRoot"]])
    out.append(check_each("report_figures", "each event's energy (J), CO2 (mg) and readings root equal the "
                          "recomputed hour", expected, actual, labels))
    return out


def totals_checks(recomputed: Mapping[tuple[int, int], Hour], facility_totals: Mapping[int, Sequence[int]],
                  bond_totals: Sequence[int], feed_answer: int, report_counts: Mapping[int, int],
                  last_period_ends: Mapping[int, int], hours: set[tuple[int, int]],
                  shares: Mapping[int, tuple[int, int]] | None = None,
                  coverage: Mapping[int, Sequence[int]] | None = None) -> list[dict]:
    """The oracle's views against sums of the recomputed hours. facility_totals and bond_totals
    are the (MJ, g, J, mg) tuples of facilityTotals / bondTotals(bond); feed_answer is
    latestRoundData's answer (grams, the bond's CO2 total mg / 1000 truncated). shares: the
    bond's (allocated, financed cost) of each facility, one allocation from the reporting start
    (a facility missing from it is not financed by the bond): the bond's totals are each
    facility's times its share, truncated toward zero. coverage: coverage(f) per facility."""
    shares = shares if shares is not None else {fid: (1, 1) for fid in facility_totals}
    out = []
    sums: dict[int, list[int]] = {}
    for (fid, _), h in recomputed.items():
        s = sums.setdefault(fid, [0, 0])
        s[0] += h.energy_j
        s[1] += h.co2_mg
    for fid in sorted(facility_totals):
        j, mg = sums.get(fid, [0, 0])
        t = facility_totals[fid]
        mine = sorted(p for f, p in hours if f == fid)
        out += [
            check(f"oracle_count_facility_{fid}", f"facility {fid}: reportCount", len(mine), report_counts[fid]),
            check(f"oracle_last_period_end_facility_{fid}", f"facility {fid}: lastPeriodEnd (end of the last hour)",
                  (mine[-1] + HOUR) if mine else None, last_period_ends[fid]),
            check(f"oracle_energy_j_facility_{fid}", f"facility {fid}: facilityTotals energy (J) = sum of the hours", j, t[2]),
            check(f"oracle_co2_mg_facility_{fid}", f"facility {fid}: facilityTotals CO2 (mg) = sum of the hours", mg, t[3]),
            check(f"oracle_energy_mj_facility_{fid}", f"facility {fid}: facilityTotals energy (MJ, truncated)",
                  trunc_div(j, 1_000_000), t[0]),
            check(f"oracle_co2_g_facility_{fid}", f"facility {fid}: facilityTotals CO2 (g, truncated)", trunc_div(mg, 1000), t[1]),
        ]
        if coverage is not None:
            out.append(check(f"oracle_coverage_facility_{fid}", f"facility {fid}: coverage hours reported = hours sent",
                             len(mine), int(coverage[fid][0])))
    j = mg = 0
    for fid, (fj, fmg) in sums.items():
        allocated, cost = shares.get(fid, (0, 1))
        j += trunc_div(fj * allocated, cost)
        mg += trunc_div(fmg * allocated, cost)
    out += [
        check("oracle_bond_energy_j", "bondTotals energy (J) = each facility's times the bond's share", j, bond_totals[2]),
        check("oracle_bond_co2_mg", "bondTotals CO2 (mg) = each facility's times the bond's share", mg, bond_totals[3]),
        check("oracle_feed_answer_g", "latestRoundData answer (g CO2) = bond total mg / 1000", trunc_div(mg, 1000), feed_answer),
    ]
    return out


def per(total: int, n: int) -> float | None:
    """total / n to one decimal, None when n is 0."""
    return round(total / n, 1) if n else None


def failed_checks(report: Mapping) -> list[dict]:
    return [c for c in report["checks"] if not c["pass"]]


def build_report(params: dict, phases: dict, checks: list[dict], environment: dict, seconds: float) -> dict:
    """The load.json document."""
    names = [c["name"] for c in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"check names repeat: {sorted(n for n, k in Counter(names).items() if k > 1)}")
    passed = sum(1 for c in checks if c["pass"])
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": utc_now(),
        "parameters": params,
        "phases": phases,
        "checks_passed": passed,
        "checks_failed": len(checks) - passed,
        "all_checks_pass": passed == len(checks),
        "checks": checks,
        "environment": environment,
        "seconds": round(seconds, 1),
    }


def _n(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _short(value) -> str:
    text = _n(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
    return text if len(text) <= 28 else text[:25] + "..."


def render_report(report: Mapping) -> str:
    """The printed summary: phases (seconds, transactions, gas) and checks."""
    p = report["parameters"]
    env = report["environment"]
    ph = report["phases"]
    rows = []
    for name, unit_key, unit in (("deploy", None, ""), ("issue", "gas_per_holder", "holder"),
                                 ("transfers", "gas_per_transfer", "transfer"), ("coupon", "gas_per_holder", "holder"),
                                 ("reports", "gas_per_report", "report")):
        if name not in ph:
            continue
        x = ph[name]
        rows.append([name, f"{x['seconds']:.1f}", _n(x["transactions"]), _n(x["gas"]),
                     f"{_n(x[unit_key])} / {unit}" if unit_key else "-", _n(x.get("gas_per_tx"))])
    if "checks" in ph:
        rows.append(["checks", f"{ph['checks']['seconds']:.1f}", "-", "-", "-", "-"])
    lines = [
        f"Load test: {p['holders']:,} holders, {p['transfers']:,} transfers, coupon #{p['coupon'] + 1} pushed to all, "
        f"{p['days']:,} days of hourly reports x {p['facilities']} facilities",
        f"{env.get('client_version')} (hardfork {env.get('hardfork') or 'unknown'}), solc {env.get('solc_version')}, "
        f"commit {(env.get('git_commit') or 'unknown')[:10]}{' (dirty)' if env.get('git_dirty') else ''}",
        "",
        format_table(["phase", "seconds", "transactions", "gas", "gas per unit", "gas per tx"], rows, "lrrrrr"),
    ]
    if "reports" in ph:
        r = ph["reports"]
        lines.append(f"\nreports: {r['reports']:,} in {r['transactions']:,} transaction(s); computed and signed in "
                     f"{r['compute_and_sign_seconds']:.1f} s, sent in {r['transmit_seconds']:.1f} s")
    crow = [[c["name"], _short(c["expected"]), _short(c["actual"]), "pass" if c["pass"] else "FAIL"]
            for c in report["checks"]]
    lines += ["", format_table(["check", "expected", "actual", "result"], crow, "lrrl"), ""]
    if report["all_checks_pass"]:
        lines.append(f"all {report['checks_passed']} checks pass: nothing lost")
    else:
        bad = ", ".join(c["name"] for c in failed_checks(report))
        lines.append(f"{report['checks_failed']} of {len(report['checks'])} checks FAILED: {bad}")
    lines.append(f"total {report['seconds']:.0f} s")
    return "\n".join(lines)


# ------------------------------------------------------------------ chain plumbing


def block_totals(node, first: int, last: int) -> tuple[int, int]:
    """(gas used, transactions) summed over blocks first..last (inclusive) from their headers:
    every transaction of a phase, whoever sent it."""
    if last < first:
        return 0, 0
    blocks = node.many([("eth_getBlockByNumber", [hex(n), False]) for n in range(first, last + 1)])
    return sum(int(b["gasUsed"], 16) for b in blocks), sum(len(b["transactions"]) for b in blocks)


class _Phase:
    """Times a phase and sums the gas and transactions of the blocks it mined."""

    def __init__(self, node, w3, name: str, log):
        self.node, self.w3, self.name, self.log = node, w3, name, log

    def __enter__(self):
        self.first = self.w3.eth.block_number + 1
        self.t0 = time.perf_counter()
        self.log(f"{self.name}: started")
        return self

    def __exit__(self, kind, *_):
        self.seconds = time.perf_counter() - self.t0
        if kind is None:
            self.last = self.w3.eth.block_number
            self.gas, self.transactions = block_totals(self.node, self.first, self.last)
            self.log(f"{self.name}: {self.seconds:.1f} s, {self.transactions:,} transactions, {self.gas:,} gas")
        return False

    def figures(self, **extra) -> dict:
        return {"seconds": round(self.seconds, 2), "gas": self.gas, "transactions": self.transactions,
                "gas_per_tx": per(self.gas, self.transactions), "blocks": [self.first, self.last], **extra}


class _FeederWatch(logging.Handler):
    """Follows the feeder's structured log: counts its events, prints sending progress every
    10% of the reports and any warning or error as it happens."""

    def __init__(self, total: int, log):
        super().__init__(logging.INFO)
        self.total, self.log = total, log
        self.events: Counter = Counter()
        self.confirmed = 0
        self._next = 10

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None) or "other"
        self.events[event] += 1
        if event == "confirmed":
            self.confirmed += int(getattr(record, "reports", 0))
            reached = _decile(self.confirmed, self.total)
            if reached >= self._next:
                self.log(f"reports: {self.confirmed:,} of {self.total:,} confirmed on chain ({reached}%)")
                self._next = reached + 10
        elif record.levelno >= logging.WARNING and event != "dev_keys":
            self.log(f"feeder {record.levelname.lower()}: {record.getMessage()} ({event})")


def _decile(done: int, total: int) -> int:
    """The last whole 10% that `done` of `total` has reached (0 to 100)."""
    return 10 * (done * 10 // total) if total > 0 else 0


def _progress(log, what: str) -> Callable[[int, int], None]:
    """A progress callback (done, total) that logs once each time a further 10% is reached."""
    step = [10]

    def progress(done: int, total: int) -> None:
        reached = _decile(done, total)
        if reached >= step[0]:
            log(f"{what}: {done:,} of {total:,} hours ({reached}%)")
            step[0] = reached + 10
    return progress


def recompute_hours(facilities, methodology, start: int, end: int, seed: int) -> dict[tuple[int, int], Hour]:
    """(facility, hour start) -> Hour for every hour in [start, end) from a facility's reporting
    start on, recomputed from the meter simulator's readings through VEE and greenbond.impact's
    hourly aggregation directly: the feeder, its store and its signer are not involved."""
    from greenbond.impact.facilities import all_meter_specs
    from greenbond.impact.hourly import HourlyAggregator, HourlyFigure
    from greenbond.meters.model import from_unix
    from greenbond.meters.simulator import simulate
    from greenbond.meters.vee import Vee

    starts = {f.facility_id: int(f.reporting_start.timestamp()) for f in facilities}
    s, e = from_unix(start), from_unix(end)
    vee = Vee(all_meter_specs(facilities), s, e)
    agg = HourlyAggregator(facilities, methodology)
    out = {}
    for fig in agg.run(vee.run(simulate(facilities, s, e, seed=seed))):
        if isinstance(fig, HourlyFigure) and start <= fig.period_start < end and fig.period_start >= starts[fig.facility_id]:
            out[(fig.facility_id, fig.period_start)] = Hour(fig.energy_reduction_j, fig.co2_avoided_mg,
                                                            "0x" + bytes(fig.readings_root).hex())
    return out


def report_logs(node, oracle_address: str) -> list[dict]:
    """Every ReportAccepted log of the oracle, from the node (eth_getLogs), decoded."""
    from eth_utils import keccak

    topic = "0x" + keccak(text=REPORT_ACCEPTED).hex()
    logs = node.call("eth_getLogs", [{"address": oracle_address, "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": [topic]}])
    return [decode_report_accepted(lg) for lg in logs]


# ------------------------------------------------------------------ the run


def _validate(holders: int, transfers: int, days: int, feeder_batch: int, push_batch: int) -> list[int]:
    if holders < 2:
        raise LoadTestError("--holders must be at least 2 (transfers need a sender and a receiver)")
    units = [holder_units(i) for i in range(holders)]
    if transfers < 0 or transfers > sum(units):
        raise LoadTestError(f"--transfers must be between 0 and {sum(units):,} (the units {holders:,} holders get)")
    if days < 1:
        raise LoadTestError("--days must be at least 1")
    if feeder_batch < 1 or push_batch < 1:
        raise LoadTestError("batch sizes must be at least 1")
    return units


def run_load_test(path: str | Path = REPORT_PATH, *, holders: int = HOLDERS, transfers: int = TRANSFERS,
                  days: int = DAYS, feeder_batch: int = FEEDER_BATCH, push_batch: int = PUSH_BATCH,
                  seed: int = SEED, feeder_seed: int = FEEDER_SEED, quiet: bool = False) -> dict:
    """Runs the load test (module doc) on a fresh Anvil, writes the report to `path` atomically,
    prints the table; returns the report (whether or not every check passed)."""

    from greenbond.impact.facilities import load_facilities
    from greenbond.impact.methodology import load_methodology
    from bench.schedule import (ISSUE_UNITS, BondUnderTest, bench_holders, client_info,
                                          deploy_suites, goto, private_chain, send_transfers, write_bench_bond)

    units = _validate(holders, transfers, days, feeder_batch, push_batch)
    t_start = time.perf_counter()

    def log(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - t_start:7.1f} s] {message}", file=sys.stderr, flush=True)

    facilities = load_facilities()
    methodology = load_methodology()
    report_start = min(int(f.reporting_start.timestamp()) for f in facilities)
    report_start -= report_start % HOUR
    report_end = report_start + days * DAY
    hours = expected_hours(facilities, report_start, report_end)
    plan = plan_transfers(units, transfers, seed)
    before_record = len(plan) // 2
    phases: dict[str, dict] = {}

    with private_chain("load-test-") as (tmp, url, w3, node):
        now = w3.eth.get_block("latest")["timestamp"]
        if report_end > now - now % HOUR:
            raise LoadTestError(f"--days {days}: the chain's clock ({now}) has not closed every hour up to "
                                f"{report_end}; ask for fewer days")
        log(f"anvil at {url}; {holders:,} holders, {transfers:,} transfers, {days} days x {len(facilities)} facilities")
        _, terms = write_bench_bond(tmp / "load-bond.toml", now, units=max(ISSUE_UNITS, sum(units)))
        deployments = tmp / "deployments"

        # 1. deploy, then issue
        with _Phase(node, w3, "deploy", log) as ph:
            agent, build = deploy_suites(url, terms, [deployments], log)
        phases["deploy"] = ph.figures()
        wallets, blobs, ids, expires = bench_holders(tmp / "keys" / "issuer.key", holders, terms)
        b = BondUnderTest(w3, node, deployments, wallets, agent)
        with _Phase(node, w3, "issue", log) as ph:
            gas = b.register_and_mint(blobs, ids, expires)
        phases["issue"] = ph.figures(
            holders=holders, units=sum(units), gas_per_holder=per(ph.gas, holders),
            by_function={k: {"transactions": len(v), "gas": sum(v), "gas_per_tx": per(sum(v), len(v))}
                         for k, v in gas.items()})
        record, pay_date = terms.record_timestamps[COUPON], terms.coupon_timestamps[COUPON]
        if w3.eth.get_block("latest")["timestamp"] >= record:
            raise LoadTestError("the issue ran past coupon #1's record date")

        # 2. transfers: half before the record date, half after
        with _Phase(node, w3, "transfers", log) as ph:
            gas = send_transfers(b, node, plan[:before_record], "before the record date", log)
            goto(node, w3, record + HOUR)
            gas += send_transfers(b, node, plan[before_record:], "after the record date", log)
        phases["transfers"] = ph.figures(
            transfers=len(plan), before_record_date=before_record, after_record_date=len(plan) - before_record,
            gas_per_transfer=per(sum(gas), len(gas)), transfers_per_second=per(len(plan), ph.seconds),
            transfer_gas={k: v for k, v in summarize(gas).items() if k != "samples"} if gas else None)

        # 3. the coupon, pushed to every holder
        goto(node, w3, pay_date + HOUR)
        token_before = b.balances(b.settlement, wallets + [agent, b.schedule.address])
        with _Phase(node, w3, "coupon", log) as ph:
            float_gas = b.fund_agent()
            agent_before = b.balances(b.settlement, [agent])[0]
            fund_gas = b.tx(b.schedule.functions.fundCoupon(COUPON))
            agent_paid = agent_before - b.balances(b.settlement, [agent])[0]
            push_gas = [b.push(COUPON, batch) for batch in chunks(wallets, push_batch)]
            log(f"coupon #{COUPON + 1} funded and pushed to {holders:,} holders in {len(push_gas)} transactions")
        phases["coupon"] = ph.figures(
            holders=holders, push_batch=push_batch, gas_per_holder=per(fund_gas + sum(push_gas), holders),
            by_function={
                "settlement mint + approve (the agent's float)": {"transactions": 2, "gas": sum(float_gas)},
                "fundCoupon": {"transactions": 1, "gas": fund_gas},
                "distributeCoupon": {"transactions": len(push_gas), "gas": sum(push_gas),
                                     "gas_per_tx": per(sum(push_gas), len(push_gas))},
            },
            note="gas_per_holder is (fundCoupon + every distributeCoupon) / holders; the agent's float is not counted")
        token_after = b.balances(b.settlement, wallets + [agent, b.schedule.address])

        # 4. a year of hourly reports through the feeder
        phases["reports"] = _send_reports(url, node, w3, tmp, deployments, report_start, report_end, len(hours),
                                          feeder_batch, feeder_seed, log)

        # 5. nothing lost
        t0 = time.perf_counter()
        log("checks: reading the chain and recomputing")
        checks = _bond_checks(b, terms, units, plan, before_record, record, token_before, token_after, agent_paid)
        checks += _report_checks(node, b.suite.oracle, facilities, methodology, hours, report_start, report_end,
                                 feeder_seed, log)
        phases["checks"] = {"seconds": round(time.perf_counter() - t0, 2)}
        commit, dirty = git_commit()
        environment = {
            "network": "anvil started by the load test (private, free port, automine)",
            "chain_id": w3.eth.chain_id,
            **client_info(w3),
            **compiler_info(build),
            "git_commit": commit,
            "git_dirty": dirty,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    params = {
        "holders": holders, "transfers": transfers, "days": days, "facilities": len(facilities),
        "facility_hours": len(hours), "coupon": COUPON, "push_batch": push_batch, "feeder_batch": feeder_batch,
        "transfer_seed": seed, "simulator_seed": feeder_seed,
        "feeder_keys": "the dev keys: signer set 2-of-3 (greenbond.oracle.setup), Anvil's first account transmits",
        "units_per_holder": "10 to 16 (10 + i mod 7)",
        "reports_from": report_start, "reports_to": report_end,
        "bond": {"issue_date": terms.issue_date.isoformat(), "coupon_date": terms.coupon_dates[COUPON].isoformat(),
                 "record_date_unix": record, "denomination": terms.denomination,
                 "coupon_rate_ppm": terms.coupon_rate_ppm, "coupon_frequency": terms.coupon_frequency},
        "method": ("seconds are wall time of each phase as the harness drives it (JSON-RPC to a local Anvil that "
                   "mines each request at once; registrations 50 and transfers 10 to a block); gas and transactions "
                   "are summed from the headers of the blocks each phase mined (receipt gasUsed, berlin refunds "
                   "included); checks compare the chain with a Python replay of the plan and a recomputation of "
                   "the hours from the simulator, never with the feeder's own records"),
    }
    report = build_report(params, phases, checks, environment, time.perf_counter() - t_start)
    write_json_atomic(path, report)
    print(render_report(report))
    print(f"\nwrote {path}")
    return report


def _send_reports(url: str, node, w3, tmp: Path, deployments: Path, start: int, end: int, total: int,
                  batch: int, seed: int, log) -> dict:
    """The feeder over [start, end): compute, store and sign every hour (Feeder.backfill without
    sending), then send the outbox (Feeder.transmit). Timed apart; gas from the blocks."""
    from greenbond.feeder.service import Feeder

    watch = _FeederWatch(total, log)
    logger = logging.getLogger("greenbond.feeder")
    saved = (logger.level, logger.propagate)
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    feeder = Feeder(rpc_url=url, db_path=tmp / "feeder.sqlite", source="simulator", seed=seed,
                    deployments_dir=deployments, batch_size=batch, gas_price=0, receipt_timeout=120.0, env={})
    try:
        with _Phase(node, w3, "reports", log) as ph:
            t0 = time.perf_counter()
            computed = feeder.backfill(start, end, _progress(log, "reports: computed and signed"), transmit=False)
            compute_seconds = time.perf_counter() - t0
            log(f"reports: {computed['hours_new']:,} hours computed and signed in {compute_seconds:.1f} s; sending")
            t1 = time.perf_counter()
            outcome = feeder.transmit()
            transmit_seconds = time.perf_counter() - t1
        outbox = feeder.store.status()["outbox"]
    finally:
        feeder.close()
        logger.removeHandler(watch)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    if outcome != "idle":
        log(f"reports: the feeder stopped with {outcome!r} before its outbox was empty")
    return ph.figures(
        reports=total, gas_per_report=per(ph.gas, total), reports_per_tx=per(total, ph.transactions),
        compute_and_sign_seconds=round(compute_seconds, 2), transmit_seconds=round(transmit_seconds, 2),
        reports_per_second_sent=per(total, transmit_seconds),
        readings=computed["readings"], quarantined=computed["quarantined"],
        feeder_outcome=outcome, feeder_outbox=outbox,
        feeder_events={k: v for k, v in sorted(watch.events.items())},
    )


def _bond_checks(b, terms, units, plan, before_record, record, token_before, token_after, agent_paid) -> list[dict]:
    """Bond and coupon figures on chain against the Python replay (see module doc)."""
    holders = b.holders
    n = len(holders)
    at_record, final = replay(units, plan, before_record)
    labels = [f"holder {i} {w}" for i, w in enumerate(holders)]
    per_unit = coupon_per_unit(terms, COUPON)
    owed = expected_payouts(at_record, per_unit)
    received = [a - c for a, c in zip(token_after[:n], token_before[:n])]
    schedule_after = token_after[n + 1]
    at_record_chain = [int(x, 16) for x in b.node.many([
        ("eth_call", [{"to": b.bond.address, "data": b.data(b.bond, "balanceOfAt", w, record)}, "latest"])
        for w in holders])]
    return [
        check_each("bond_balances", "each holder's balanceOf = replay of the issue and every transfer",
                   final, b.balances(b.bond, holders), labels),
        check("bond_total_supply", "totalSupply = units minted (transfers move, never make or lose units)",
              sum(final), b.bond.functions.totalSupply().call()),
        check_each("bond_balances_at_record_date", "each holder's balanceOfAt(record date) = replay of the "
                   "transfers before it", at_record, at_record_chain, labels),
        check("coupon_per_unit", "couponPerUnit = recomputed from the terms (regular period: denomination x "
              "rate / 1e6 / frequency)", per_unit, b.schedule.functions.couponPerUnit(COUPON).call()),
        check_each("coupon_payouts", "each holder received units at the record date x coupon per unit",
                   owed, received, labels),
        check("coupon_paid_total", "settlement tokens received by all holders = sum owed", sum(owed), sum(received)),
        check("coupon_funded", "what the paying agent paid into the schedule = sum owed", sum(owed), agent_paid),
        check("coupon_schedule_left", "settlement tokens left in the schedule after paying everyone (owed: none)",
              0, schedule_after),
    ]


def _report_checks(node, oracle, facilities, methodology, hours, start, end, seed, log) -> list[dict]:
    """Events and oracle views against the recomputed hours (see module doc)."""
    t0 = time.perf_counter()
    events = report_logs(node, oracle.address)
    log(f"checks: {len(events):,} ReportAccepted events read in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    recomputed = recompute_hours(facilities, methodology, start, end, seed)
    log(f"checks: {len(recomputed):,} hours recomputed from the simulator in {time.perf_counter() - t0:.1f} s")
    f = oracle.functions
    ids = sorted({fid for fid, _ in hours})
    out = [check("recomputed_hours", "hours the independent recomputation produced = facility-hours of the period",
                 len(hours), len(set(recomputed) & hours))]
    out += report_checks(events, hours, recomputed)
    round_data = f.latestRoundData().call()
    bond = f.feedBond().call()
    shares = {}
    for fid in ids:
        versions = f.allocations(fid, bond).call()
        if len(versions) > 1:
            raise RuntimeError(f"facility {fid} has {len(versions)} allocation versions; the load test expects one")
        if versions:
            shares[fid] = (int(versions[0][1]), int(versions[0][2]))
    out += totals_checks(
        {k: v for k, v in recomputed.items() if k in hours},
        {fid: f.facilityTotals(fid).call() for fid in ids}, f.bondTotals(bond).call(), round_data[1],
        {fid: f.reportCount(fid).call() for fid in ids}, {fid: f.lastPeriodEnd(fid).call() for fid in ids}, hours,
        shares, {fid: f.coverage(fid).call() for fid in ids})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--holders", type=int, default=HOLDERS, help=f"holders issued to (default {HOLDERS:,})")
    parser.add_argument("--transfers", type=int, default=TRANSFERS, help=f"one-unit transfers (default {TRANSFERS:,})")
    parser.add_argument("--days", type=int, default=DAYS, help=f"days of hourly reports per facility (default {DAYS})")
    parser.add_argument("--out", type=Path, default=REPORT_PATH, help="report path (default reports/load.json)")
    parser.add_argument("--feeder-batch", type=int, default=FEEDER_BATCH,
                        help=f"reports per submitReports transaction (default {FEEDER_BATCH})")
    parser.add_argument("--push-batch", type=int, default=PUSH_BATCH,
                        help=f"holders per distributeCoupon transaction (default {PUSH_BATCH})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    from greenbond.chain.localnode import LocalChainError

    try:
        report = run_load_test(args.out, holders=args.holders, transfers=args.transfers, days=args.days,
                               feeder_batch=args.feeder_batch, push_batch=args.push_batch, quiet=args.quiet)
    except (LoadTestError, BenchError, LocalChainError) as exc:
        print(f"error: the load test did not finish: {exc}", file=sys.stderr)
        return 2
    return 0 if report["all_checks_pass"] else 1


__all__ = ["run_load_test", "replay", "coupon_per_unit", "expected_payouts", "expected_hours", "check", "check_each",
           "report_checks", "totals_checks", "decode_report_accepted", "build_report", "render_report", "REPORT_PATH"]

if __name__ == "__main__":
    sys.exit(main())
