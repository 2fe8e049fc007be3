"""`make bench`'s last step: one table of every measured figure against its goal, read from the
reports the benchmark parts wrote (reports/bench*.json). A missing report is shown as missing."""

from __future__ import annotations

import json
import sys

from greenbond.config import REPO_ROOT

REPORTS = REPO_ROOT / "reports"


def _load(name: str) -> dict | None:
    path = REPORTS / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _get(data: dict | None, *keys):
    for k in keys:
        if not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data


def rows() -> list[tuple[str, str, str, str]]:
    """(figure, measured, goal, verdict) for every goal the issues set."""
    out = []

    def add(name, value, goal, ok, fmt="{:,}"):
        shown = "missing" if value is None else fmt.format(value)
        verdict = "missing" if value is None else ("ok" if ok(value) else "MISSED")
        out.append((name, shown, goal, verdict))

    gas = _load("bench.json")
    add("compliant transfer / plain ERC-20 transfer", _get(gas, "budget", "ratio"), "<= 1.25x",
        lambda v: v <= 1.25, "{:.3f}x")
    after_record = next((m["gas"]["median"] for m in _get(gas, "measurements") or []
                         if m.get("name") == "transfer_first_after_record_date"), None)
    add("first transfer after a record date (gas)", after_record, "<= 90,000", lambda v: v <= 90_000)
    impact = _load("bench_impact.json")
    add("gas per hourly report, 3 signatures, 1 per tx", _get(impact, "gas", "readings", "96", "single_report_tx_gas"),
        "< 150,000", lambda v: v < 150_000)
    add("gas per hourly report in a 24-report tx", _get(impact, "gas", "readings", "96", "batch_24_gas_per_report"),
        "(lower)", lambda v: True)
    add("report gas independent of readings", _get(impact, "gas", "report_gas_independent_of_readings"), "yes",
        lambda v: v is True, "{}")
    add("naive per-reading storage / batched report (96 readings)",
        _get(impact, "gas", "readings", "96", "naive_to_batched_report_ratio"), "(higher)", lambda v: True, "{:.1f}x")
    add("readings per minute (ingest, VEE, hourly, Merkle)", _get(impact, "throughput", "readings_per_minute"),
        ">= 1,000,000", lambda v: v >= 1_000_000)
    add("feeder to Anvil: reports/s sent, a year of 2 facilities (median of 3)",
        _get(impact, "feeder_to_anvil", "reports_per_s_sent", "median"), ">= 1,000", lambda v: v >= 1_000)
    add("feeder to Anvil: a year of 2 facilities computed, signed and sent (s)",
        _get(impact, "feeder_to_anvil", "total_s", "median"), "< 20", lambda v: v < 20, "{:.1f}")
    add("  the former way: eth_estimateGas every 24-report batch, reports/s",
        _get(impact, "feeder_to_anvil", "baseline", "reports_per_s_sent"), "(baseline)", lambda v: True)
    add("peak RSS, one-year backfill of two facilities (MB)", _get(impact, "memory", "long", "max_rss_mb"),
        "< 300, flat", lambda v: v < 300 and bool(_get(impact, "memory", "flat")), "{:.1f}")
    page = _load("bench_page.json")
    add("Impact page, first complete render (s)", _get(page, "first_render_seconds"), "< 1.5",
        lambda v: v < 1.5, "{:.2f}")
    add("  baseline: a bare Streamlit page (title, sentence, caption), first render (s)",
        _get(page, "bare_streamlit_page", "first_render_seconds"), "(baseline)", lambda v: True, "{:.2f}")
    add("Impact page, RPC calls on first render", _get(page, "first_render_rpc_calls"), "batched", lambda v: True)
    offering = _load("bench_offering.json")
    floor_new = _get(offering, "floor", "new_holder")
    add(f"offering: gas per settled investor, batch of 100 (floor {floor_new or 0:,.0f})",
        _get(offering, "per_settled_investor", "100"), "vs floor", lambda v: True, "{:,.0f}")
    add("DvP: gas of a trade, offer + accept", _get(offering, "per_trade", "offer_plus_accept"),
        f"vs floor {_get(offering, 'floor', 'existing_holders') or 0:,}", lambda v: True)
    sched = _load("bench_schedule.json")
    flat = _get(sched, "per_holder_cost_grows_with_holders") is False
    add("claimCoupon gas, one holder, payee already holding the settlement token (1,000 holders)",
        _get(sched, "gas", "1000", "claim_coupon_holding", "median"), "<= 90,000, flat", lambda v: flat and v <= 90_000)
    add("  the same, the payee's first settlement token (its new balance slot: +17,100)",
        _get(sched, "gas", "1000", "claim_coupon", "median"), "<= 90,000, flat", lambda v: flat and v <= 90_000)
    add("registerHolder gas, sealed details (median of 1,000)",
        _get(sched, "gas", "1000", "register_holder", "median"), "<= 150,000", lambda v: v <= 150_000)
    add("coupon push gas per holder, batches of 100, 1,000 holders",
        _get(sched, "gas", "1000", "push", "batch_100", "per_holder", "median"), "flat in holders",
        lambda v: flat, "{:,.0f}")
    add("register at latest: 1,000 holders, 10,000 transfers, cold (s)", _get(sched, "register", "seconds", "median"),
        "< 10", lambda v: v < 10, "{:.2f}")
    add("  the same through a warm event index (s)", _get(sched, "register", "warm", "seconds", "median"),
        "< 2", lambda v: v < 2, "{:.2f}")
    return out


def main() -> int:
    table = rows()
    widths = [max(len(r[i]) for r in table + [("figure", "measured", "goal", "verdict")]) for i in range(4)]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format("figure", "measured", "goal", "verdict"))
    print(line.format(*("-" * w for w in widths)))
    for r in table:
        print(line.format(*r))
    missed = [r[0] for r in table if r[3] == "MISSED"]
    if missed:
        print(f"\n{len(missed)} goal(s) missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
