"""Gas benchmark of the bond: `make bench` (`brownie run scripts/bench.py`) writes reports/bench.json.

One run on a local development chain deploys a HolderRegistry, a GreenBond (terms relative to
the chain's clock: twelve monthly coupons, record dates one day before each) and, as the
baseline, contracts/dev/PlainERC20.sol. It then measures `tx.gas_used` of each scenario in
`SCENARIOS` `REPEATS` times, with fresh wallets wherever the wallets' state changes the cost.

Scenarios before any record date (the bond's lazy snapshots are idle):
  transfer_existing, transfer_new_holder, mint_existing, mint_new_holder,
  forced_transfer_existing and plain_transfer (the same wallets, amounts and balances as
  transfer_existing, on the plain token).
Scenarios after a record date (one round per record date: the clock is moved just past record
date k, then):
  transfer_first_after_record_date   first transaction after the date, between holders whose
                                     balances were never snapshotted: it advances the
                                     record-date counter and writes both lazy snapshots;
  transfer_pending_snapshots         same, but the counter was already advanced by another
                                     transaction: only the two snapshot writes;
  transfer_existing_after_record_date  the same pair again, now in step: the steady state once
                                     record dates have passed;
  transfer_new_holder_after_record_date  an in-step holder to a registered wallet with balance 0.

Budget: median(transfer_existing) / median(plain_transfer) must be at most `GOAL_RATIO`; a
breach is printed as a WARNING (the run does not fail: budget checks read the report, see
tests/python/test_bench_report.py).

The pure helpers (statistics, ratios, the report, the table, the atomic write) need no chain
and are unit-tested in tests/python/test_bench.py; Brownie is imported only inside `run`.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from greenbond.files import write_json_atomic
from typing import Any, Iterable, Sequence

from greenbond.config import REPO_ROOT

SCHEMA_VERSION = 1
GOAL_RATIO = 1.25   # issue 15 (1.5 before it)
# ERC-3643 T-REX's published gas for a compliant transfer (the figure the project compares with).
TREX_TRANSFER_GAS = 155_742
REPEATS = 5
REPORT_PATH = REPO_ROOT / "reports" / "bench.json"
BUILD_JSON = REPO_ROOT / "build" / "contracts" / "GreenBond.json"

COMPLIANT = "transfer_existing"
PLAIN = "plain_transfer"
STEADY_AFTER_RECORD = "transfer_existing_after_record_date"

# name -> description, in report and table order
SCENARIOS: dict[str, str] = {
    "transfer_existing": (
        "GreenBond transfer of 1 unit between two existing holders (sender 100, receiver 50 units; "
        "sender not frozen, receiver eligible), before any record date: the steady state"
    ),
    "transfer_new_holder": (
        "GreenBond transfer of 1 unit from an existing holder to a registered wallet with balance 0, "
        "before any record date"
    ),
    "transfer_first_after_record_date": (
        "first transaction after a record date: transfer of 1 unit between two existing holders never "
        "snapshotted; advances the record-date counter and writes both lazy balance snapshots "
        "(record dates are uint64s packed four to a slot: passing the 4th date reads two slots, +2,000 gas)"
    ),
    "transfer_pending_snapshots": (
        "transfer of 1 unit between two existing holders after a record date that another transaction "
        "already passed: writes both wallets' lazy snapshots, not the counter"
    ),
    "transfer_first_after_later_record_date": (
        "first transaction after a later record date: transfer of 1 unit between two holders already "
        "snapshotted at an earlier one (the pair of transfer_first_after_record_date); advances the counter and "
        "writes both lazy snapshots, whose wallets' Account slots are no longer empty: a payment date's recurring cost"
    ),
    "transfer_existing_after_record_date": (
        "the same pair's next transfer after that record date (both wallets' snapshots in step): "
        "steady state once record dates have passed"
    ),
    "transfer_new_holder_after_record_date": (
        "transfer of 1 unit after a record date from an existing holder whose snapshot is in step "
        "to a registered wallet with balance 0"
    ),
    "mint_existing": "agent mint of 1 unit to an existing holder, before any record date",
    "mint_new_holder": "agent mint of 1 unit to a registered wallet with balance 0, before any record date",
    "forced_transfer_existing": (
        "agent forcedTransfer of 1 unit between two existing holders (no frozen units), "
        "before any record date"
    ),
    "plain_transfer": (
        "baseline: transfer of 1 unit on contracts/dev/PlainERC20.sol (OpenZeppelin ERC20) with the "
        "same wallets and balances as transfer_existing"
    ),
}

REQUIRED_KEYS = (
    "schema_version",
    "generated_at",
    "network",
    "chain_id",
    "client_version",
    "solc_version",
    "evm_version",
    "optimizer_runs",
    "git_commit",
    "repeats",
    "measurements",
    "ratios",
    "budget",
)


# ------------------------------------------------------------------ pure helpers


def median(values: Sequence[int]) -> int | float:
    """The median; an int whenever it is a whole number (always, for an odd count)."""
    if not values:
        raise ValueError("median of no samples")
    m = statistics.median(values)
    return int(m) if float(m).is_integer() else float(m)


def summarize(samples: Iterable[int]) -> dict[str, Any]:
    """{min, median, max, samples} of gas samples (each an int >= 0)."""
    samples = list(samples)
    if not samples:
        raise ValueError("no samples")
    for s in samples:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"gas samples must be non-negative ints, got {s!r}")
    return {"min": min(samples), "median": median(samples), "max": max(samples), "samples": samples}


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    samples: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "gas": summarize(self.samples)}


def ratio(numerator: float, denominator: float, digits: int = 4) -> float:
    """numerator / denominator, rounded to `digits` decimals."""
    if denominator <= 0:
        raise ValueError(f"ratio to a non-positive denominator {denominator}")
    return round(numerator / denominator, digits)


def budget(value: float, goal: float = GOAL_RATIO) -> dict[str, Any]:
    return {"goal_ratio": goal, "ratio": value, "within_goal": value <= goal}


def compiler_info(build: dict) -> dict[str, Any]:
    """solc version, EVM version and optimizer runs from a Brownie build artifact."""
    compiler = build.get("compiler") or {}
    optimizer = compiler.get("optimizer") or {}
    return {
        "solc_version": compiler.get("version"),
        "evm_version": compiler.get("evm_version"),
        "optimizer_enabled": optimizer.get("enabled"),
        "optimizer_runs": optimizer.get("runs"),
    }


def git_commit(repo: Path = REPO_ROOT) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether tracked files differ from it), or (None, None) outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo, capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_report(measurements: Sequence[Measurement], meta: dict[str, Any], goal: float = GOAL_RATIO) -> dict:
    """The bench.json document. `meta` holds the chain, compiler and git fields."""
    by_name = {m.name: m for m in measurements}
    if len(by_name) != len(measurements):
        raise ValueError("two measurements share a name")
    for needed in (COMPLIANT, PLAIN):
        if needed not in by_name:
            raise ValueError(f"missing measurement {needed}")
    compliant = median(by_name[COMPLIANT].samples)
    plain = median(by_name[PLAIN].samples)
    ratios = {
        "transfer_vs_plain": ratio(compliant, plain),
        "transfer_vs_trex": ratio(compliant, TREX_TRANSFER_GAS),
        "plain_vs_trex": ratio(plain, TREX_TRANSFER_GAS),
    }
    if STEADY_AFTER_RECORD in by_name:
        ratios["transfer_after_record_date_vs_plain"] = ratio(median(by_name[STEADY_AFTER_RECORD].samples), plain)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": meta.get("generated_at") or utc_now(),
        **{k: v for k, v in meta.items() if k != "generated_at"},
        "measurements": [m.as_dict() for m in measurements],
        "ratios": ratios,
        "reference": {
            "trex_transfer_gas": TREX_TRANSFER_GAS,
            "ratio_basis": f"median {COMPLIANT} / median {PLAIN}",
        },
        "budget": budget(ratios["transfer_vs_plain"], goal),
    }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """Rows as aligned text columns; `align` has one 'l' or 'r' per column (default: first left)."""
    width = len(headers)
    if align is None:
        align = "l" + "r" * (width - 1)
    if len(align) != width or set(align) - {"l", "r"}:
        raise ValueError(f"align must have {width} of 'l'/'r', got {align!r}")
    cells = [[str(h) for h in headers]]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row {row!r} has {len(row)} cells, expected {width}")
        cells.append(["" if c is None else str(c) for c in row])
    widths = [max(len(r[i]) for r in cells) for i in range(width)]

    def line(r: list[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _gas(value: int | float) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def render_report(report: dict) -> str:
    """The human-readable summary `run` prints: the table, the ratios and the budget verdict."""
    plain = next(m["gas"]["median"] for m in report["measurements"] if m["name"] == PLAIN)
    rows = [
        [
            m["name"],
            _gas(m["gas"]["min"]),
            _gas(m["gas"]["median"]),
            _gas(m["gas"]["max"]),
            len(m["gas"]["samples"]),
            f"{m['gas']['median'] / plain:.3f}x",
        ]
        for m in report["measurements"]
    ]
    table = format_table(["measurement", "min", "median", "max", "n", "vs plain"], rows)
    r = report["ratios"]
    b = report["budget"]
    ratio_lines = [
        ("compliant transfer / plain ERC20 transfer", f"{r['transfer_vs_plain']:.3f}x  (goal <= {b['goal_ratio']}x)"),
        (f"compliant transfer / T-REX ({TREX_TRANSFER_GAS:,} gas)", f"{r['transfer_vs_trex']:.3f}x"),
    ]
    if "transfer_after_record_date_vs_plain" in r:
        ratio_lines.append(
            ("steady transfer after a record date / plain", f"{r['transfer_after_record_date_vs_plain']:.3f}x")
        )
    label_width = max(len(label) for label, _ in ratio_lines)
    lines = [
        f"GreenBond gas benchmark  chain {report.get('chain_id')}  {report.get('client_version')} "
        f"(hardfork {report.get('hardfork') or 'unknown'})  "
        f"solc {report.get('solc_version')} evm {report.get('evm_version')} runs {report.get('optimizer_runs')}",
        "",
        table,
        "",
        *(f"{label.ljust(label_width)} : {value}" for label, value in ratio_lines),
    ]
    if b["within_goal"]:
        lines.append(f"budget: OK ({b['ratio']:.3f}x <= {b['goal_ratio']}x)")
    else:
        lines.append(
            f"WARNING: compliant transfer is {b['ratio']:.3f}x the plain ERC20 transfer, "
            f"over the goal of {b['goal_ratio']}x"
        )
    return "\n".join(lines)


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Writes `data` as JSON atomically (greenbond.files): readers see the old file or the new one."""
    return write_json_atomic(path, data)


# ------------------------------------------------------------------ on chain

DAY = 86_400
MONTH = 30 * DAY
DENOMINATION = 1_000_000
UNITS = 10_000
SENDER_UNITS = 100
RECEIVER_UNITS = 50
AMOUNT = 1


def relative_terms(currency: str, start: int, months: int = 12, record_offset: int = DAY) -> tuple:
    """IGreenBond.Terms of a bond issued at `start` with monthly coupons (as in the contract tests)."""
    coupon_dates = [start + MONTH * (i + 1) for i in range(months)]
    return (
        "Bench Green Bond", "BGB", "PLACEHOLDER-BENCH", currency, DENOMINATION, DENOMINATION * UNITS,
        5_980, 1, 12, 0, start, coupon_dates[-1], record_offset, coupon_dates,
    )


def _client_version(web3) -> str:
    """web3.clientVersion (web3.py 6 spells it client_version)."""
    value = getattr(web3, "client_version", None)
    return value if value is not None else web3.clientVersion


def _hardfork(web3) -> str | None:
    """The node's hardfork when it says (Anvil's anvil_nodeInfo), else None."""
    try:
        info = web3.provider.make_request("anvil_nodeInfo", [])
        result = info.get("result") or {}
        return result.get("hardFork") or result.get("hardfork")
    except Exception:  # noqa: BLE001 - optional metadata only
        return None


def run(repeats: int = REPEATS, out: str | Path = REPORT_PATH, quiet: bool = True) -> dict:
    """Measures every scenario on the connected Brownie network, writes `out`, prints the table."""
    import brownie
    from brownie import accounts, chain, network, web3
    from brownie._config import CONFIG
    from brownie.network import rpc

    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    if rpc.is_active() and not rpc.is_child():
        # The bench moves the clock months forward: never do that to someone else's chain
        # (a `make demo` Anvil, another session's tests).
        raise SystemExit(
            "bench: a node was already listening where Brownie launches its development chain, so "
            "Brownie attached to it instead of starting a fresh one. The bench moves the chain's clock "
            "months ahead; stop that node (or use another network) and run again."
        )
    if not rpc.is_active():
        raise SystemExit("bench: needs a local development chain (chain.sleep), not a live network")

    project = brownie.project.get_loaded_projects()[0]
    saved_silent = CONFIG.argv.get("silent")
    if quiet:
        CONFIG.argv["silent"] = True  # account.transfer reads it; contract calls get silent=
    try:
        with warnings.catch_warnings():
            # Brownie 1.22's own chain.sleep/mine call rpc.* and warn about it on every call
            warnings.filterwarnings("ignore", message=r"rpc\.\w+ should not be called directly", category=FutureWarning)
            measurements = _measure(project, accounts, chain, web3, repeats, quiet)
    finally:
        CONFIG.argv["silent"] = saved_silent

    commit, dirty = git_commit()
    build = json.loads(BUILD_JSON.read_text(encoding="utf-8")) if BUILD_JSON.is_file() else project.GreenBond._build
    meta = {
        "generated_at": utc_now(),
        "network": network.show_active(),
        "chain_id": chain.id,
        "client_version": _client_version(web3),
        "hardfork": _hardfork(web3),
        **compiler_info(build),
        "git_commit": commit,
        "git_dirty": dirty,
        "repeats": repeats,
    }
    report = build_report(measurements, meta)
    atomic_write_json(out, report)
    print(render_report(report))
    print(f"\nwrote {out}")
    return report


def _measure(project, accounts, chain, web3, repeats: int, quiet: bool) -> list[Measurement]:
    admin = accounts[0]
    tx = {"from": admin}
    q = {"silent": quiet}  # contract calls take `silent` themselves, ignoring --silent

    settlement = project.SettlementToken.deploy("JPY Deposit Token (bench)", "JPYB", admin, tx, **q)
    registry = project.HolderRegistry.deploy(admin, tx, **q)
    bond = project.GreenBond.deploy(relative_terms(settlement.address, chain.time()), registry, admin, tx, **q)
    registry.addCachingToken(bond, tx, **q)   # as greenbond.deploy does
    plain = project.PlainERC20.deploy(10**9, tx, **q)
    record_dates = bond.recordDates()
    if len(record_dates) < 2 * repeats:
        raise ValueError(f"the bench bond has {len(record_dates)} record dates, fewer than 2 x {repeats} repeats")

    # Deterministic wallets: the same addresses every run, so calldata costs repeat exactly.
    wallets = []
    for i in range(repeats * 9):
        w = accounts.add("0x" + bytes(web3.keccak(text=f"greenbond bench wallet {i}")).hex())
        admin.transfer(w, 10**17)
        wallets.append(w)
    pool = iter(wallets)

    def take(n):
        return [next(pool) for _ in range(n)]

    pairs = list(zip(take(repeats), take(repeats)))            # before record dates
    new_holders = take(repeats)                                 # transfer_new_holder receivers
    mint_new = take(repeats)                                    # mint_new_holder receivers
    rounds = [
        {"first": tuple(take(2)), "pending": tuple(take(2)), "new": take(1)[0]} for _ in range(repeats)
    ]

    expires = chain.time() + 10 * 365 * DAY
    for i, w in enumerate(wallets):
        registry.registerHolder(w, "0x" + f"{i + 1:064x}", 392, expires, "0x" + "ab" * 48, tx, **q)

    senders = [s for s, _ in pairs] + [r["first"][0] for r in rounds] + [r["pending"][0] for r in rounds]
    receivers = [r for _, r in pairs] + [r["first"][1] for r in rounds] + [r["pending"][1] for r in rounds]
    bond.batchMint(senders + receivers, [SENDER_UNITS] * len(senders) + [RECEIVER_UNITS] * len(receivers), tx, **q)
    for s, r in pairs:
        plain.transfer(s, SENDER_UNITS, tx, **q)
        plain.transfer(r, RECEIVER_UNITS, tx, **q)

    samples: dict[str, list[int]] = {name: [] for name in SCENARIOS}

    def record(name, receipt):
        if receipt.status != 1:
            raise RuntimeError(f"{name}: transaction reverted")
        samples[name].append(receipt.gas_used)
        return receipt

    # ---- before any record date
    assert chain.time() < record_dates[0], "bench setup ran past the first record date"
    for s, r in pairs:
        record("transfer_existing", bond.transfer(r, AMOUNT, {"from": s}, **q))
    for s, r in pairs:
        record("plain_transfer", plain.transfer(r, AMOUNT, {"from": s}, **q))
    for (s, _), n in zip(pairs, new_holders):
        record("transfer_new_holder", bond.transfer(n, AMOUNT, {"from": s}, **q))
    for _, r in pairs:
        record("mint_existing", bond.mint(r, AMOUNT, tx, **q))
    for n in mint_new:
        record("mint_new_holder", bond.mint(n, AMOUNT, tx, **q))
    for s, r in pairs:
        record("forced_transfer_existing", bond.forcedTransfer(s, r, AMOUNT, tx, **q))
    assert chain.time() < record_dates[0], "the measurements before record dates ran past the first one"

    # ---- one round per record date
    for k, rnd in enumerate(rounds):
        rd = record_dates[k]
        chain.sleep(rd - chain.time() + 3600)
        chain.mine()
        assert rd < chain.time() < (record_dates[k + 1] if k + 1 < len(record_dates) else 2**64)
        s, r = rnd["first"]
        receipt = record("transfer_first_after_record_date", bond.transfer(r, AMOUNT, {"from": s}, **q))
        if "RecordDateReached" not in receipt.events:
            raise RuntimeError("the first transfer after a record date did not pass it")
        s, r = rnd["pending"]
        receipt = record("transfer_pending_snapshots", bond.transfer(r, AMOUNT, {"from": s}, **q))
        if "RecordDateReached" in receipt.events:
            raise RuntimeError("transfer_pending_snapshots passed a record date itself")
        record(STEADY_AFTER_RECORD, bond.transfer(r, AMOUNT, {"from": s}, **q))
        record("transfer_new_holder_after_record_date", bond.transfer(rnd["new"], AMOUNT, {"from": s}, **q))
        # the lazy snapshots really were written: balances at the record date are the minted ones
        if bond.balanceOfAt(s, rd) != SENDER_UNITS or bond.balanceOfAt(r, rd) != RECEIVER_UNITS:
            raise RuntimeError(f"record date {k + 1}: snapshot balances are wrong")

    # ---- one more round per pair that passed a record date first: the next record dates
    for k, rnd in enumerate(rounds):
        rd = record_dates[repeats + k]
        chain.sleep(rd - chain.time() + 3600)
        chain.mine()
        s, r = rnd["first"]
        receipt = record("transfer_first_after_later_record_date", bond.transfer(r, AMOUNT, {"from": s}, **q))
        if "RecordDateReached" not in receipt.events:
            raise RuntimeError("the first transfer after a later record date did not pass it")
        if bond.balanceOfAt(r, rd) != RECEIVER_UNITS + AMOUNT:
            raise RuntimeError(f"record date {repeats + k + 1}: the receiver's snapshot balance is wrong")

    for name, values in samples.items():
        if len(values) != repeats:
            raise RuntimeError(f"{name}: {len(values)} samples, expected {repeats}")
    return [Measurement(name, SCENARIOS[name], tuple(samples[name])) for name in SCENARIOS]
