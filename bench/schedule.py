"""Coupon payment benchmark: `run_schedule_bench()` writes reports/bench_schedule.json (atomically)
and prints a table; `python -m bench.schedule` does the same.

It starts its own Anvil (on a free port, berlin rules, gas price 0, no historical states: see
`start_node`) and deploys two suites with greenbond.deploy.deploy_suite (Brownie, in this process), each in
a deployments folder of its own: a bond with 10 holders and one with 1,000. The bond is the
default one made payable now: issued on the next JST midnight after the chain's clock, twelve
monthly coupons, record date one day before each (config written to a temporary TOML, so the
register command reads it the way it reads the default config). Holders are registered with
details sealed to a fresh issuer key, in bulk (JSON-RPC batches; Anvil automines), and minted
units. Holder wallets are plain addresses: Anvil impersonates them (no keys are made).

Measured with both bonds, on the same coupons (`gasUsed` of receipts; berlin refunds included):

* coupon #1: `fundCoupon`; `claimCoupon` by `CLAIMS` holders who receive the settlement token for
  the first time (as on a first coupon: the token's new balance slot costs the claim 17,100 gas
  more), then by `CLAIMS` holders who already hold some (given 1 unit of it just before: a
  payee's steady state); the others are pushed (not measured).
* coupons #2-#4 (`PUSH_COUPONS`): `fundCoupon`; then the whole coupon is pushed with
  `distributeCoupon`. With 1,000 holders: 9 batches of 100, then 10 batches of 10. With 10
  holders: one batch of all 10 (the "batch of 100" holds only 10). The batch that pays a
  coupon's last holder empties two storage slots (the coupon's `held` and the schedule's token
  balance) and gets a storage refund, so it is kept apart ("closing" batches): the
  10-holder batch is always one, so the like-for-like comparison is closing batch of 10 against
  closing batch of 10.

Verdicts compare medians (1,000 holders against 10) and call a change within `FLAT_TOLERANCE`
(2%) flat: claimCoupon, the closing batch of 10 per holder, fundCoupon, and, within the
1,000-holder bond, the first against the last batch of 100 of each coupon (does the cost per
holder grow as more holders have been paid). The literal "batch of 100 with 1,000 holders against
the batch of 10 with 10" is reported too; it falls because the batch's fixed cost (21,000 base,
first touches of the schedule, bond and token) is shared by ten times as many holders.

Then the register: 10,000 one-unit transfers among the 1,000 holders (half before the record date
of coupon #5, half after; sent from the impersonated holders, `TRANSFERS_PER_BLOCK` to a block), and the `register` command
(`python -m greenbond register --at latest` with the issuer key and the bond config, run through
greenbond.cli.main in this process) is timed `REGISTER_RUNS` times, counting its JSON-RPC calls.

The pure helpers (transfer plan, batching, comparisons, the report and the table, the TOML) are
unit-tested without a chain in tests/python/test_schedule_bench.py; statistics, the atomic
writer, the table layout and the build and git metadata come from bench.gas.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from bench.gas import (
    atomic_write_json,
    compiler_info,
    format_table,
    git_commit,
    median,
    summarize,
    utc_now,
)
from greenbond.config import REPO_ROOT, add_months, load_terms

SCHEMA_VERSION = 1
REPORT_PATH = REPO_ROOT / "reports" / "bench_schedule.json"

HOLDER_COUNTS = (10, 1_000)
CLAIMS = 5                 # claimCoupon samples per bond (coupon #1)
PUSH_COUPONS = 3           # coupons #2-#4 are pushed and measured
BATCH = 100                # the issue's batch size
SMALL_BATCH = 10           # like-for-like with the 10-holder bond
FLAT_TOLERANCE = 0.02
TRANSFERS = 10_000
REGISTER_RUNS = 3
SEED = 2023_12_14
MONTHS = 12
DAY = 86_400
HOUR = 3_600
ISSUE_UNITS = 100_000      # bench bond: 100,000 units of 1,000,000 yen, room for 1,000 holders
JAPAN = 392
TX_GAS = 1_000_000
BATCH_GAS = 12_000_000
REGISTER_PER_BLOCK = 50    # registerHolder transactions a block
TRANSFERS_PER_BLOCK = 10   # transfers a block
RPC_BATCH = 250            # JSON-RPC requests per HTTP request when sending in bulk


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ pure helpers


def chunks(items: Sequence, size: int) -> list[list]:
    """`items` cut into consecutive lists of at most `size`."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def holder_units(i: int) -> int:
    """Units minted to holder `i`: 10 to 16, so balances differ."""
    return 10 + i % 7


def plan_transfers(units: Sequence[int], count: int, seed: int = SEED) -> list[tuple[int, int]]:
    """`count` one-unit transfers (sender index, receiver index) among the holders whose starting
    units are `units`. Each holder sends at most the units it started with, so the transfers are
    valid in any order (several go in one block); nobody sends to itself. Deterministic."""
    if any(u < 0 for u in units):
        raise ValueError("units must be non-negative")
    if count and len(units) < 2:
        raise ValueError("transfers need at least two holders")
    if count > sum(units):
        raise ValueError(f"{count} transfers need at least {count} units in the market, there are {sum(units)}")
    rng = random.Random(seed)
    left = list(units)
    n = len(left)
    plan = []
    for _ in range(count):
        s = rng.randrange(n)
        while left[s] == 0:
            s = rng.randrange(n)
        r = rng.randrange(n - 1)
        r = r + 1 if r >= s else r
        left[s] -= 1
        plan.append((s, r))
    return plan


def apply_transfers(units: Sequence[int], plan: Iterable[tuple[int, int]]) -> list[int]:
    """Units after one-unit transfers `plan` (for checking the chain against the plan)."""
    out = list(units)
    for s, r in plan:
        out[s] -= 1
        out[r] += 1
        if out[s] < 0:
            raise ValueError(f"transfer from holder {s} overdraws it")
    return out


TRANSFER_SELECTOR = "a9059cbb"  # transfer(address,uint256)


def transfer_data(to: str, amount: int) -> str:
    """Calldata of ERC-20 transfer(to, amount), encoded by hand (10,000 of them are sent)."""
    if not (to.startswith("0x") and len(to) == 42) or not 0 <= amount < 2**256:
        raise ValueError("bad transfer arguments")
    return "0x" + TRANSFER_SELECTOR + to[2:].lower().rjust(64, "0") + f"{amount:064x}"


def compare(base: float, other: float, tolerance: float = FLAT_TOLERANCE) -> dict[str, Any]:
    """How `other` relates to `base`: ratio, change in percent and a verdict, "flat" within
    `tolerance` (a fraction), else "grows" or "falls"."""
    if base <= 0:
        raise ValueError(f"cannot compare with a non-positive base {base}")
    change = other / base - 1
    verdict = "flat" if abs(change) <= tolerance + 1e-12 else ("grows" if change > 0 else "falls")
    return {"base": base, "other": other, "ratio": round(other / base, 4), "change_pct": round(100 * change, 2),
            "verdict": verdict}


def batch_summary(gas: Sequence[int], size: int) -> dict[str, Any]:
    """Gas of batches of `size` holders: the batches' own figures and per holder (gas / size)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    s = summarize(gas)
    return {
        "batch_size": size,
        "batches": len(s["samples"]),
        "batch_gas": s,
        "per_holder": {k: round(s[k] / size, 1) for k in ("min", "median", "max")},
    }


def float_summary(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """{min, median, max, samples} of seconds (floats)."""
    if not values:
        raise ValueError("no samples")
    return {"min": round(min(values), digits), "median": round(float(median(values)), digits),
            "max": round(max(values), digits), "samples": [round(v, digits) for v in values]}


def bench_bond_toml(issue: dt.date, months: int = MONTHS, units: int = ISSUE_UNITS, record_days: int = 1) -> str:
    """The bench bond's config: the default bond's terms, issued on `issue`, maturing `months`
    months later, monthly coupons (the schedule follows from issue and maturity), no documents."""
    maturity = add_months(issue, months)
    return "\n".join([
        "# Written by bench.schedule: the default bond, payable now, with monthly coupons.",
        "[bond]",
        'name = "Schedule Bench Green Bond"',
        'symbol = "SBGB"',
        'isin = "PLACEHOLDER-SCHEDULE-BENCH"',
        'issuer = "Bench Issuer (fictitious)"',
        'currency = "JPY"',
        "denomination = 1_000_000",
        f"issue_volume = {units * 1_000_000}",
        'coupon_type = "fixed"',
        "coupon_rate_ppm = 5_980",
        "coupon_frequency = 12",
        'day_count = "ACT/365F"',
        f"issue_date = {issue.isoformat()}",
        f"maturity_date = {maturity.isoformat()}",
        'timezone = "Asia/Tokyo"',
        f"record_days = {record_days}",
        'redemption = "par"',
        'use_of_proceeds = "Benchmark only."',
        "",
    ])


def comparisons(gas: dict[str, dict], tolerance: float = FLAT_TOLERANCE) -> list[dict[str, Any]]:
    """The verdicts from the per-bond figures (keys: holder counts as strings; see build_report)."""
    counts = sorted(gas, key=int)
    small, large = counts[0], counts[-1]
    s, l = gas[small], gas[large]
    out = []

    def add(name, what, base, other, decides, base_label, other_label):
        c = compare(base, other, tolerance)
        out.append({"name": name, "what": what, "base_label": base_label, "other_label": other_label,
                    "decides": decides, **c})

    hs, hl = f"{int(small):,} holders", f"{int(large):,} holders"
    add("claim_coupon", "claimCoupon, one holder (median gas)",
        s["claim_coupon"]["median"], l["claim_coupon"]["median"], True, hs, hl)
    if "claim_coupon_holding" in s and "claim_coupon_holding" in l:
        add("claim_coupon_holding", "claimCoupon, payee already holding the settlement token (median gas)",
            s["claim_coupon_holding"]["median"], l["claim_coupon_holding"]["median"], True, hs, hl)
    sp, lp = s["push"], l["push"]
    add("push_closing_batch_10", "distributeCoupon per holder, closing batch of 10 (median)",
        sp["closing_batch_10"]["per_holder"]["median"], lp["closing_batch_10"]["per_holder"]["median"], True, hs, hl)
    if "batch_100" in lp and lp["batch_100"].get("by_coupon"):
        by_coupon = lp["batch_100"]["by_coupon"]
        first = median([c[0] for c in by_coupon]) / BATCH
        last = median([c[-1] for c in by_coupon]) / BATCH
        add("push_batch_100_first_vs_last", f"distributeCoupon per holder, first vs last batch of 100 of a coupon ({hl})",
            first, last, True, "first batch", "last batch")
    add("fund_coupon", "fundCoupon (median gas)", s["fund_coupon"]["median"], l["fund_coupon"]["median"], True, hs, hl)
    if "batch_100" in lp:
        add("push_batch_100_vs_batch_10", "distributeCoupon per holder: batches of 100 (1,000) vs the batch of all 10",
            sp["closing_batch_10"]["per_holder"]["median"], lp["batch_100"]["per_holder"]["median"], False, hs, hl)
    if "batch_10" in lp:
        add("push_open_vs_closing_batch_10", f"distributeCoupon per holder, batch of 10 that does not vs does close the coupon ({hl})",
            lp["closing_batch_10"]["per_holder"]["median"], lp["batch_10"]["per_holder"]["median"], False,
            "closing", "not closing")
    return out


def build_report(gas: dict[str, dict], register: dict | None, meta: dict, tolerance: float = FLAT_TOLERANCE) -> dict:
    """The bench_schedule.json document. `gas` maps a holder count (str) to
    {"holders", "fund_coupon": summarize, "claim_coupon": summarize, "push": {name: batch_summary
    (+ "by_coupon" for batch_100)}}; `register` is the register timing or None."""
    if len(gas) < 2:
        raise ValueError("the report compares at least two holder counts")
    for key, g in gas.items():
        for needed in ("fund_coupon", "claim_coupon", "push"):
            if needed not in g:
                raise ValueError(f"holders {key}: missing {needed}")
        if "closing_batch_10" not in g["push"]:
            raise ValueError(f"holders {key}: missing the closing batch of 10")
    comps = comparisons(gas, tolerance)
    grows = [c["name"] for c in comps if c["decides"] and c["verdict"] == "grows"]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": meta.get("generated_at") or utc_now(),
        **{k: v for k, v in meta.items() if k != "generated_at"},
        "flat_tolerance": tolerance,
        "gas": gas,
        "comparisons": comps,
        "per_holder_cost_grows_with_holders": bool(grows),
        "grows": grows,
        "register": register,
    }


def _g(value) -> str:
    return f"{value:,.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def render_report(report: dict) -> str:
    """The printed summary: gas table, verdicts, register timing."""
    rows = []
    for key in sorted(report["gas"], key=int):
        g = report["gas"][key]
        n = f"{int(key):,}"
        measured = [("fundCoupon", g["fund_coupon"]), ("claimCoupon, payee's first settlement token", g["claim_coupon"])]
        if "claim_coupon_holding" in g:
            measured.append(("claimCoupon, payee already holding it", g["claim_coupon_holding"]))
        for label, s in measured:
            rows.append([label, n, _g(s["min"]), _g(s["median"]), _g(s["max"]), len(s["samples"])])
        for name, p in g["push"].items():
            label = {
                "batch_100": "distributeCoupon / holder, batch 100",
                "batch_10": "distributeCoupon / holder, batch 10",
                "closing_batch_10": "distributeCoupon / holder, closing batch 10",
            }.get(name, f"distributeCoupon / holder, {name}")
            ph = p["per_holder"]
            rows.append([label, n, _g(ph["min"]), _g(ph["median"]), _g(ph["max"]), p["batches"]])
    lines = [
        f"Coupon payment gas  chain {report.get('chain_id')}  {report.get('client_version')} "
        f"(hardfork {report.get('hardfork') or 'unknown'})  solc {report.get('solc_version')} "
        f"evm {report.get('evm_version')} runs {report.get('optimizer_runs')}",
        "",
        format_table(["measurement", "holders", "min", "median", "max", "n"], rows, "lrrrrr"),
        "",
    ]
    crow = [
        [c["what"], _g(c["base"]), _g(c["other"]), f"{c['change_pct']:+.2f}%", c["verdict"] + ("" if c["decides"] else " (info)")]
        for c in report["comparisons"]
    ]
    lines.append(format_table(["comparison (base -> other)", "base", "other", "change", "verdict"], crow, "lrrrl"))
    tol = report["flat_tolerance"]
    if report["per_holder_cost_grows_with_holders"]:
        lines.append(f"\nWARNING: cost grows with the number of holders (beyond {tol:.0%}): {', '.join(report['grows'])}")
    else:
        lines.append(f"\nper-holder cost does not grow with the number of holders (all verdicts within {tol:.0%} or lower)")
    r = report.get("register")
    if r:
        s = r["seconds"]
        calls = r.get("rpc_calls") or {}
        top = ", ".join(f"{m} {n:,}" for m, n in sorted(calls.get("by_method", {}).items(), key=lambda kv: -kv[1])[:4])
        lines += [
            "",
            f"register --at latest: {r['holders']:,} holders, {r['transfers']:,} transfers, blocks {r['start_block']:,}-"
            f"{r['target_block']:,}, {r['coupons_due']} coupons due",
            f"  wall time {s['median']:.2f} s median (min {s['min']:.2f}, max {s['max']:.2f}, {len(s['samples'])} runs)"
            + (f"; {calls['total']:,} JSON-RPC calls a run ({top})" if calls else "")
            + (f" in {calls['http_requests']:,} HTTP requests" if calls.get("http_requests") else ""),
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------ chain plumbing


HTTP_REQUESTS = "(http requests)"


@contextlib.contextmanager
def count_rpc() -> Iterator[Counter]:
    """Counts the JSON-RPC calls web3 sends over HTTP while the block runs, by method (each call of
    a batch counted; the HTTP requests themselves under "(http requests)"): counted where the
    request leaves, so calls web3 answers from its request cache (the chain id, see
    greenbond.chain.connect) are not counted."""
    import json as _json

    from web3._utils.http_session_manager import HTTPSessionManager

    counter: Counter = Counter()
    original = HTTPSessionManager.make_post_request

    def counting(self, endpoint_uri, data, **kwargs):
        payload = _json.loads(data) if isinstance(data, (bytes, str)) else data
        counter[HTTP_REQUESTS] += 1
        for call in payload if isinstance(payload, list) else [payload]:
            counter[str(call.get("method"))] += 1
        return original(self, endpoint_uri, data, **kwargs)

    HTTPSessionManager.make_post_request = counting
    try:
        yield counter
    finally:
        HTTPSessionManager.make_post_request = original


class Node:
    """Raw JSON-RPC to the bench's Anvil: single calls, and many calls in batched HTTP requests."""

    def __init__(self, url: str):
        import requests

        self.url = url
        self.session = requests.Session()

    def call(self, method: str, params: list | None = None):
        resp = self.session.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
                                 timeout=600)
        resp.raise_for_status()
        reply = resp.json()
        if "error" in reply:
            raise BenchError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def many(self, calls: Sequence[tuple[str, list]]) -> list:
        results = []
        for part in chunks(calls, RPC_BATCH):
            body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(part)]
            resp = self.session.post(self.url, json=body, timeout=600)
            resp.raise_for_status()
            by_id = {r["id"]: r for r in resp.json()}
            for i, (m, _) in enumerate(part):
                r = by_id[i]
                if "error" in r:
                    raise BenchError(f"{m} failed: {r['error']}")
                results.append(r["result"])
        return results

    def send_all(self, txs: Sequence[dict], what: str, per_block: int = 1, timeout: float = 600) -> list[dict]:
        """Sends transactions (from unlocked or impersonated accounts) one request each, in order,
        `per_block` to a block (automine off meanwhile; 1: Anvil automines each on arrival).
        (A JSON-RPC batch would be faster, but Anvil serves a batch's requests concurrently, so
        one sender's transactions arrive out of nonce order and a few can stay in the pool.)
        Returns the receipts, all checked."""
        hashes = []
        if per_block > 1:
            self.call("evm_setAutomine", [False])
        try:
            for part in chunks(txs, per_block):
                for t in part:
                    hashes.append(self.call("eth_sendTransaction", [{"gasPrice": "0x0", "gas": hex(TX_GAS), **t}]))
                if per_block > 1:
                    self.call("evm_mine", [])
        finally:
            if per_block > 1:
                self.call("evm_setAutomine", [True])
        return self.receipts(hashes, what, timeout)

    def receipts(self, hashes: Sequence[str], what: str, timeout: float = 600) -> list[dict]:
        found: dict[str, dict] = {}
        deadline = time.monotonic() + timeout
        while True:
            missing = [h for h in hashes if h not in found]
            if not missing:
                break
            for h, r in zip(missing, self.many([("eth_getTransactionReceipt", [h]) for h in missing])):
                if r is not None:
                    found[h] = r
            if len(found) < len(hashes):
                if time.monotonic() > deadline:
                    raise BenchError(f"{what}: {len(hashes) - len(found)} transactions not mined after {timeout:.0f} s")
                time.sleep(0.2)  # polling for receipts (a condition), not synchronising on time
        out = [found[h] for h in hashes]
        bad = [h for h, r in zip(hashes, out) if int(r["status"], 16) != 1]
        if bad:
            raise BenchError(f"{what}: {len(bad)} of {len(hashes)} transactions reverted (first {bad[0]})")
        return out


def start_node(workdir: Path, ready_timeout: float = 30.0):
    """Anvil on a free port (greenbond.chain.localnode.start_anvil without a state file: berlin,
    gas price 0 accepted, 30M gas blocks, Anvil's dev accounts). Anvil keeps a state per block (a
    few MB each with a thousand holders; `--prune-history` kept them all in memory and 5,000
    one-transfer blocks outgrew 20 GB), so bulk sends go several to a block."""
    from greenbond.chain.localnode import start_anvil
    from tests.helpers.devchain import child_env

    os.environ["PATH"] = child_env()["PATH"]   # anvil from node_modules/.bin
    return start_anvil(log_file=workdir / "anvil.log", ready_timeout=ready_timeout)


@contextlib.contextmanager
def private_chain(prefix: str) -> Iterator[tuple[Path, str, Any, "Node"]]:
    """A temporary folder and an Anvil of its own (`start_node`) that impersonates any address;
    yields (folder, url, web3, Node) and stops the node and removes the folder at the end."""
    from web3 import Web3

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_name:
        tmp = Path(tmp_name)
        node_proc = start_node(tmp)
        try:
            url = node_proc.url
            w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
            node = Node(url)
            node.call("anvil_autoImpersonateAccount", [True])
            yield tmp, url, w3, node
        finally:
            node_proc.stop()


def _wallet(i: int) -> str:
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"greenbond schedule bench holder {i}")[-20:])


def deploy_suites(url: str, terms, directories: Sequence[Path], log) -> tuple[str, dict]:
    """Deploys one suite per directory with greenbond.deploy.deploy_suite over web3; returns the
    deployer's address (Anvil's first account: issuer and paying agent) and the CouponSchedule's
    build artifact (the one deployed)."""
    from web3 import Web3

    from greenbond.chain.tx import Signer, load_build
    from greenbond.deploy import deploy_suite

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 600}))
    deployer = Signer(w3.eth.accounts[0])
    for d in directories:
        t0 = time.perf_counter()
        deploy_suite(w3, deployer, terms, network_name="schedule-bench", development=True, log=lambda _m: None,
                     directory=d)
        log(f"deployed a suite into {d.name} ({time.perf_counter() - t0:.1f} s)")
    return deployer.address, load_build("CouponSchedule")


class BondUnderTest:
    """One deployed suite and its holders."""

    def __init__(self, w3, node: Node, directory: Path, holders: list[str], agent: str):
        from greenbond.chain import open_suite

        self.w3, self.node, self.directory, self.holders, self.agent = w3, node, directory, holders, agent
        self.suite = open_suite(w3, directory)
        self.bond, self.registry, self.schedule = self.suite.bond, self.suite.registry, self.suite.schedule
        self.settlement = self.suite.settlement

    def tx(self, fn, sender: str | None = None, gas: int = TX_GAS) -> int:
        """Sends one transaction, waits for it; returns its gasUsed."""
        h = fn.transact({"from": sender or self.agent, "gas": gas, "gasPrice": 0})
        r = self.w3.eth.wait_for_transaction_receipt(h, timeout=300)
        if r["status"] != 1:
            raise BenchError(f"{fn.fn_name} reverted ({h.hex()})")
        return int(r["gasUsed"])

    def data(self, contract, fn: str, *args) -> str:
        return contract.encode_abi(fn, args=list(args))

    def populate(self, blobs: list[bytes], ids: list[bytes], expires: int) -> None:
        """Registers the holders (sealed details) and mints their units, in bulk; gives the
        paying agent settlement tokens for the coupons; keeps the gas of each registration."""
        self.registration_gas = self.register_and_mint(blobs, ids, expires)["registerHolder"]
        self.fund_agent()

    def register_and_mint(self, blobs: list[bytes], ids: list[bytes], expires: int) -> dict[str, list[int]]:
        """Registers the holders (sealed details, `REGISTER_PER_BLOCK` to a block) and mints
        `holder_units(i)` units to holder i (`batchMint`, `BATCH` holders a transaction).
        Returns the gasUsed of every transaction, by function name."""
        reg = self.registry.address
        registered = self.node.send_all([
            {"from": self.agent, "to": reg, "data": self.data(self.registry, "registerHolder", w, ids[i], JAPAN, expires, blobs[i])}
            for i, w in enumerate(self.holders)
        ], "registerHolder", per_block=REGISTER_PER_BLOCK)
        units = [holder_units(i) for i in range(len(self.holders))]
        minted = self.node.send_all([
            {"from": self.agent, "to": self.bond.address, "gas": hex(BATCH_GAS),
             "data": self.data(self.bond, "batchMint", ws, us)}
            for ws, us in zip(chunks(self.holders, BATCH), chunks(units, BATCH))
        ], "batchMint")
        return {"registerHolder": [int(r["gasUsed"], 16) for r in registered],
                "batchMint": [int(r["gasUsed"], 16) for r in minted]}

    def fund_agent(self) -> list[int]:
        """Mints settlement tokens to the paying agent and approves the schedule for them (what
        fundCoupon pulls); returns the two transactions' gasUsed."""
        return [self.tx(self.settlement.functions.mint(self.agent, 10**18)),
                self.tx(self.settlement.functions.approve(self.schedule.address, 2**256 - 1))]

    def balances(self, token, wallets: Sequence[str]) -> list[int]:
        """`token.balanceOf(w)` for every wallet at the latest block, in batched JSON-RPC calls."""
        return [int(x, 16) for x in self.node.many([
            ("eth_call", [{"to": token.address, "data": self.data(token, "balanceOf", w)}, "latest"]) for w in wallets
        ])]

    def push(self, i: int, holders: Sequence[str]) -> int:
        return self.tx(self.schedule.functions.distributeCoupon(i, list(holders)), gas=BATCH_GAS)


def goto(node: Node, w3, ts: int) -> None:
    """Mines a block at `ts` (never moves the clock back): greenbond.chain.localnode.advance_to."""
    from greenbond.chain.localnode import advance_to

    advance_to(w3, ts)


def _measure_coupons(bonds: dict[str, BondUnderTest], node: Node, w3, log) -> dict[str, dict]:
    any_bond = next(iter(bonds.values()))
    sched = any_bond.schedule.functions
    dates = [sched.couponDate(i).call() for i in range(1 + PUSH_COUPONS)]
    fund = {k: [] for k in bonds}
    claims = {k: [] for k in bonds}
    claims_holding = {k: [] for k in bonds}
    pushes: dict[str, dict[str, list]] = {k: {"batch_100": [], "batch_10": [], "closing_batch_10": []} for k in bonds}
    by_coupon: dict[str, list[list[int]]] = {k: [] for k in bonds}

    # coupon #1: fund, claims, push the rest (not measured)
    goto(node, w3, dates[0] + HOUR)
    for key, b in bonds.items():
        fund[key].append(b.tx(b.schedule.functions.fundCoupon(0)))
        for w in b.holders[:CLAIMS]:
            claims[key].append(b.tx(b.schedule.functions.claimCoupon(0), sender=w))
        holding = b.holders[CLAIMS:2 * CLAIMS]
        for w in holding:
            b.tx(b.settlement.functions.mint(w, 1))
        for w in holding:
            claims_holding[key].append(b.tx(b.schedule.functions.claimCoupon(0), sender=w))
        for batch in chunks(b.holders[2 * CLAIMS:], BATCH):
            b.push(0, batch)
        log(f"coupon #1, {key} holders: funded, {2 * CLAIMS} claims, the rest pushed")

    # coupons #2..: fund; push in batches of 100 then of 10 (the last batch closes the coupon)
    for i in range(1, 1 + PUSH_COUPONS):
        goto(node, w3, dates[i] + HOUR)
        for key, b in bonds.items():
            fund[key].append(b.tx(b.schedule.functions.fundCoupon(i)))
            n = len(b.holders)
            if n <= SMALL_BATCH:
                pushes[key]["closing_batch_10"].append(b.push(i, b.holders))
            else:
                split = n - BATCH  # the last 100 go in batches of 10
                coupon_100 = [b.push(i, batch) for batch in chunks(b.holders[:split], BATCH)]
                pushes[key]["batch_100"] += coupon_100
                by_coupon[key].append(coupon_100)
                small = chunks(b.holders[split:], SMALL_BATCH)
                for batch in small[:-1]:
                    pushes[key]["batch_10"].append(b.push(i, batch))
                pushes[key]["closing_batch_10"].append(b.push(i, small[-1]))
            if b.schedule.functions.couponHeld(i).call() != 0:
                raise BenchError(f"coupon #{i + 1} of the {key}-holder bond is not fully paid")
            log(f"coupon #{i + 1}, {key} holders: funded and pushed")

    out = {}
    for key, b in bonds.items():
        push = {}
        if pushes[key]["batch_100"]:
            push["batch_100"] = {**batch_summary(pushes[key]["batch_100"], BATCH), "by_coupon": by_coupon[key]}
        if pushes[key]["batch_10"]:
            push["batch_10"] = batch_summary(pushes[key]["batch_10"], SMALL_BATCH)
        push["closing_batch_10"] = batch_summary(pushes[key]["closing_batch_10"], min(SMALL_BATCH, len(b.holders)))
        out[key] = {
            "holders": len(b.holders),
            "fund_coupon": summarize(fund[key]),
            "claim_coupon": summarize(claims[key]),
            "claim_coupon_holding": summarize(claims_holding[key]),
            "push": push,
        }
    return out


def _transfers(b: BondUnderTest, node: Node, w3, count: int, log) -> int:
    """`count` one-unit transfers among the holders, half before the next record date and half
    after it; checks every balance against the plan. Returns the number of blocks they took."""
    units = [holder_units(i) for i in range(len(b.holders))]
    plan = plan_transfers(units, count)
    start = w3.eth.block_number
    now = w3.eth.get_block("latest")["timestamp"]
    rec = next(r for r in b.bond.functions.recordDates().call() if r > now)
    half = len(plan) // 2
    for part, label in ((plan[:half], "first half"), (plan[half:], "second half")):
        send_transfers(b, node, part, label, log)
        if label == "first half":
            goto(node, w3, rec + HOUR)
    expected = apply_transfers(units, plan)
    got = b.balances(b.bond, b.holders)
    if got != expected:
        raise BenchError("balances after the transfers differ from the plan")
    return w3.eth.block_number - start


def send_transfers(b: BondUnderTest, node: Node, plan: Sequence[tuple[int, int]], label: str, log) -> list[int]:
    """Sends the one-unit transfers of `plan` (sender index, receiver index into `b.holders`)
    from the impersonated holders, `TRANSFERS_PER_BLOCK` to a block; returns each one's gasUsed."""
    t0 = time.perf_counter()
    receipts = node.send_all([
        {"from": b.holders[s], "to": b.bond.address, "gas": hex(300_000), "data": transfer_data(b.holders[r], 1)}
        for s, r in plan
    ], "transfer", per_block=TRANSFERS_PER_BLOCK)
    log(f"{len(plan):,} transfers ({label}) in {time.perf_counter() - t0:.1f} s")
    return [int(r["gasUsed"], 16) for r in receipts]


def _time_register(url: str, config: Path, key: Path, deployments: Path, out_dir: Path, runs: int, log,
                   index: Path | None = None, label: str = "cold") -> dict:
    """`runs` timed runs of the register command at the latest block: with `index` None every
    event is read from the node (`--no-index`: cold), else through that event index file."""
    from greenbond import cli

    seconds, calls, summary = [], None, ""
    for k in range(runs):
        out = out_dir / f"{label}-{k + 1}"
        argv = ["register", "--rpc", url, "--at", "latest", "--config", str(config), "--issuer-key", str(key),
                "--deployments", str(deployments), "--out", str(out) + "/", "--quiet"]
        argv += ["--no-index"] if index is None else ["--index", str(index)]
        buf = io.StringIO()
        with count_rpc() as counter, contextlib.redirect_stdout(buf):
            t0 = time.perf_counter()
            rc = cli.main(argv)
            seconds.append(time.perf_counter() - t0)
        if rc != 0:
            raise BenchError(f"the register command failed with exit code {rc}")
        requests = counter.pop(HTTP_REQUESTS, 0)
        calls = {"total": sum(counter.values()), "http_requests": requests, "by_method": dict(counter.most_common())}
        summary = buf.getvalue().strip().splitlines()[0]
        log(f"register run {k + 1} ({label}): {seconds[-1]:.2f} s, {calls['total']:,} RPC calls in {requests:,} "
            f"HTTP requests {calls['by_method']}")
    return {"seconds": float_summary(seconds), "rpc_calls": calls, "command_output": summary,
            "command": "python -m greenbond register --at latest --config <bench bond> --issuer-key <key> "
                       "--deployments <dir> --out <tmp>/ --quiet "
                       + ("--no-index" if index is None else "--index <tmp>/events.sqlite")
                       + " (greenbond.cli.main, in process)"}


# ------------------------------------------------------------------ the run


def client_info(w3) -> dict:
    """The node's client version and hardfork (for reports)."""
    from bench.gas import _client_version, _hardfork

    return {"client_version": _client_version(w3), "hardfork": _hardfork(w3)}


def write_bench_bond(path: Path, chain_now: int, units: int = ISSUE_UNITS):
    """Writes the bench bond's config (`bench_bond_toml`) to `path`, issued on the JST day after
    the chain's clock `chain_now`; returns (path, its terms as load_terms reads them)."""
    tz = dt.timezone(dt.timedelta(hours=9))
    issue = dt.datetime.fromtimestamp(chain_now, tz).date() + dt.timedelta(days=1)
    path.write_text(bench_bond_toml(issue, units=units), encoding="utf-8")
    return path, load_terms(path)


def bench_holders(key_path: Path, count: int, terms) -> tuple[list[str], list[bytes], list[bytes], int]:
    """`count` fictitious holders for the bench bond: a fresh issuer key at `key_path`, and the
    holders' wallets (`_wallet(i)`, no keys: Anvil impersonates them), details sealed to the key,
    salted investor ids, and the registration expiry (a year after maturity)."""
    from greenbond.holders import (HolderDetails, generate_issuer_key, investor_id, load_investor_id_salt,
                                   load_issuer_public_key, seal)

    generate_issuer_key(key_path)
    public_key, salt = load_issuer_public_key(key_path), load_investor_id_salt(key_path)
    wallets = [_wallet(i) for i in range(count)]
    tax = ("individual", "corporation", "non-resident")
    blobs = [seal(HolderDetails(f"Bench Holder {i + 1:04d} (fictitious)", f"{i + 1}-1 Marunouchi\nTokyo",
                                f"holder{i + 1}@example.jp", tax[i % 3]), public_key) for i in range(count)]
    ids = [investor_id(f"BENCH-{i + 1:04d}", salt) for i in range(count)]
    expires = terms.timestamp(terms.maturity_date) + 365 * DAY
    return wallets, blobs, ids, expires


def run_schedule_bench(path: str | Path = REPORT_PATH, *, holder_counts: Sequence[int] = HOLDER_COUNTS,
                       transfers: int = TRANSFERS, register_runs: int = REGISTER_RUNS, quiet: bool = False) -> dict:
    """Starts Anvil, measures, writes `path` atomically, prints the table; returns the report."""
    holder_counts = sorted(holder_counts)
    if len(holder_counts) < 2 or holder_counts[0] < 2:
        raise ValueError("need at least two holder counts, each of at least 2")
    if holder_counts[-1] > SMALL_BATCH and (holder_counts[-1] - BATCH) % BATCH:
        raise ValueError(f"the largest holder count must be a multiple of {BATCH}")
    t_start = time.perf_counter()
    log = (lambda _m: None) if quiet else (lambda m: print(f"[{time.perf_counter() - t_start:6.1f} s] {m}", file=sys.stderr, flush=True))
    with private_chain("schedule-bench-") as (tmp, url, w3, node):
        config, terms = write_bench_bond(tmp / "bench-bond.toml", w3.eth.get_block("latest")["timestamp"])
        dirs = {str(n): tmp / f"deployments-{n}" for n in holder_counts}
        agent, build = deploy_suites(url, terms, list(dirs.values()), log)

        key_path = tmp / "keys" / "issuer.key"
        largest = holder_counts[-1]
        wallets, blobs, ids, expires = bench_holders(key_path, largest, terms)
        bonds = {}
        for n in holder_counts:
            t0 = time.perf_counter()
            b = BondUnderTest(w3, node, dirs[str(n)], wallets[:n], agent)
            b.populate(blobs[:n], ids[:n], expires)
            bonds[str(n)] = b
            log(f"{n:,} holders registered (sealed details) and minted in {time.perf_counter() - t0:.1f} s")
        if w3.eth.get_block("latest")["timestamp"] >= terms.record_timestamps[0]:
            raise BenchError("setup ran past the first record date")

        gas = _measure_coupons(bonds, node, w3, log)
        for n, b in bonds.items():   # registerHolder with sealed details (issue 15's goal: at most 150,000)
            g = sorted(b.registration_gas)
            gas[n]["register_holder"] = {"min": g[0], "median": g[len(g) // 2], "max": g[-1], "count": len(g)}

        big = bonds[str(largest)]
        register = None
        if transfers and register_runs:
            t0 = time.perf_counter()
            blocks = _transfers(big, node, w3, transfers, log)
            setup_seconds = time.perf_counter() - t0
            latest = w3.eth.get_block("latest")
            records = big.bond.functions.recordDates().call()
            register = {
                "holders": largest,
                "transfers": transfers,
                "transfer_blocks": blocks,
                "transfers_sent_seconds": round(setup_seconds, 1),
                "start_block": big.suite.start_block(),
                "target_block": latest["number"],
                "coupons_due": sum(1 for r in records if r <= latest["timestamp"]),
                "runs": register_runs,
                **_time_register(url, config, key_path, dirs[str(largest)], tmp / "register-out", register_runs, log),
            }
            # through the event index: the first run builds it (every event read and kept), the
            # next ones read only the blocks after its tip (none here) and take events from the file
            index = tmp / "events.sqlite"
            register["index_build"] = _time_register(url, config, key_path, dirs[str(largest)], tmp / "register-out",
                                                     1, log, index=index, label="index-build")
            register["warm"] = _time_register(url, config, key_path, dirs[str(largest)], tmp / "register-out",
                                              register_runs, log, index=index, label="warm")
        commit, dirty = git_commit()
        per_unit = big.schedule.functions.couponPerUnit(1).call()
        meta = {
            "generated_at": utc_now(),
            "network": "anvil started by the bench (private, free port)",
            "chain_id": w3.eth.chain_id,
            **client_info(w3),
            **compiler_info(build),
            "git_commit": commit,
            "git_dirty": dirty,
            "bond": {
                "coupons": len(terms.coupon_dates),
                "coupon_frequency": terms.coupon_frequency,
                "record_offset_days": terms.record_days,
                "coupon_per_unit": per_unit,
                "units_per_holder": "10 to 16 (10 + i mod 7)",
                "issue_date": terms.issue_date.isoformat(),
            },
            "method": {
                "claims": CLAIMS,
                "push_coupons": PUSH_COUPONS,
                "batch": BATCH,
                "small_batch": SMALL_BATCH,
                "note": ("gas is receipt gasUsed (berlin, refunds included). Coupon #1: fundCoupon and claimCoupon "
                         "(by claimers receiving the settlement token for the first time, then by claimers already holding "
                         "some). Coupons #2-#4: fundCoupon, then "
                         "the whole coupon pushed: 1,000 holders in 9 batches of 100 then 10 of 10; 10 holders in one "
                         "batch of 10. The batch that pays a coupon's last holder empties two slots and gets a "
                         "storage refund, so closing batches are compared with closing batches. Transfers for the "
                         "register go 10 to a block (the register reads one block header per block with a transfer)."),
            },
        }
        report = build_report(gas, register, meta)
        report["seconds"] = round(time.perf_counter() - t_start, 1)
    atomic_write_json(path, report)
    print(render_report(report))
    print(f"\nwrote {path} ({report['seconds']:.0f} s)")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPORT_PATH, help="report path (default reports/bench_schedule.json)")
    parser.add_argument("--transfers", type=int, default=TRANSFERS, help="transfers before the register run (0: skip it)")
    parser.add_argument("--register-runs", type=int, default=REGISTER_RUNS, help="timed runs of the register command")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    run_schedule_bench(args.out, transfers=args.transfers, register_runs=args.register_runs, quiet=args.quiet)
    return 0


__all__ = ["run_schedule_bench", "build_report", "render_report", "plan_transfers", "compare", "REPORT_PATH"]

if __name__ == "__main__":
    sys.exit(main())
