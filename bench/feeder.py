"""The impact oracle's benchmark: `run_impact_bench() -> dict`, written to reports/bench_impact.json
(atomically: temp file + rename).

1. Gas per hourly report of the bond's building with 3 signatures (the dev signer set is 2-of-3;
   all three sign), on a fresh Anvil with the suite deployed: one report per transaction, and per
   report in a 24-report transaction, each for hours of 2 and of 96 readings (the chain stores the
   root and the count, so the cost must not depend on the number of readings), and a late hour
   (one before the latest reported, filling a gap: it must cost the same). Against it, the gas of storing the same readings one by one in storage
   (contracts/dev/NaiveReadingStore.sol, two slots each).
2. Peak memory (ru_maxrss) of a backfill of both default facilities through the whole pipeline
   (simulator -> VEE -> hourly figures -> SQLite store -> 2 signatures per hour -> outbox), no
   chain, in a fresh subprocess: one year, and one month to show it is flat in the period.
3. Readings per minute of the meter pipeline (bench.impact_throughput.measure_throughput).
4. The feeder to a local Anvil: a year of both facilities (17,520 hourly reports, 2 signatures each)
   computed and signed, then sent with the default batch size; seconds of each part and reports
   per second sent, median of 3 runs with min and max, each on a fresh chain. Beside it, the
   former way (eth_estimateGas for every 24-report batch), over 30 days: the same code with the
   gas limit estimated every time.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from greenbond.files import write_json_atomic

from greenbond.config import REPO_ROOT

REPORT_PATH = REPO_ROOT / "reports" / "bench_impact.json"
HOUR = 3600
DAY = 86_400
MEMORY_GOAL_MB = 300

MEMORY_SCRIPT = r"""
import datetime as dt, json, resource, sys, tempfile, time
from pathlib import Path
from greenbond.feeder.service import ChainContext, Pipeline
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import FeederStore
from greenbond.impact.facilities import load_facilities
from greenbond.impact.methodology import load_methodology
from greenbond.meters.model import jst
from greenbond.meters.simulator import simulate
from greenbond.oracle.setup import dev_signer_keys
def peak_rss_mb():
    # VmHWM is this process's own peak (a new address space since exec); ru_maxrss is not: Linux
    # keeps it across exec, so a child started by a big parent (pytest after hundreds of tests)
    # reported the parent's peak, not its own
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
days = int(sys.argv[1])
oracle = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
facilities, methodology = load_facilities(), load_methodology()
with tempfile.TemporaryDirectory() as tmp:
    store = FeederStore(Path(tmp) / "bench.sqlite")
    ctx = ChainContext(31337, oracle, 1, 1, 2, {})
    p = Pipeline(store, facilities, methodology, ctx, ReportSigner(dev_signer_keys(), 31337, oracle, 2))
    start = jst(2024, 4, 1)
    end = start + dt.timedelta(days=days)
    t0 = time.perf_counter()
    r = p.ingest(simulate(facilities, start, end, seed=1), start, end, cursor_key="bench")
    seconds = time.perf_counter() - t0
    size = (Path(tmp) / "bench.sqlite").stat().st_size + sum(
        f.stat().st_size for f in Path(tmp).glob("bench.sqlite-*"))
    store.close()
print(json.dumps({"days": days, "hours": r.hours_new, "readings": r.readings, "seconds": round(seconds, 2),
                  "max_rss_mb": peak_rss_mb(),
                  "db_bytes": size}))
"""


def memory_run(days: int) -> dict:
    """The pipeline over `days` days of both facilities in a fresh process; its peak RSS."""
    from tests.helpers.devchain import child_env

    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(days)], cwd=REPO_ROOT, env=child_env(),
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"memory run failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _hour_readings(facility_id: int, meters_prefix: str, period_start: int, n: int, wh: int):
    """n readings of one hour: n/2 meters x 2 half-hour intervals."""
    from greenbond.meters.model import Reading, from_unix

    return [Reading(facility_id, f"{meters_prefix}-{i // 2:03d}", from_unix(period_start + (i % 2) * 1800), wh, 0, "bench")
            for i in range(n)]


def gas_bench(workdir: Path) -> dict:
    """Gas of submitReports (3 signatures) for 2- and 96-reading hours, single and 24 per tx, and
    of NaiveReadingStore.storeReadings for the same readings."""
    from tests.helpers.devchain import DevChain
    from greenbond.feeder.signer import ReportSigner
    from greenbond.merkle import MerkleTree
    from greenbond.oracle.setup import dev_signer_keys
    from greenbond.oracle.signing import HourlyReport
    from greenbond.impact.facilities import load_facilities

    facilities = load_facilities()
    building = next(f for f in facilities if f.kind == "building" and f.allocated_proceeds)
    start = int(building.reporting_start.timestamp())
    chain = DevChain(workdir, genesis=start + 40 * DAY, naive=True)
    try:
        w3 = chain.w3()
        oracle = chain.oracle()
        naive = chain.contract("NaiveReadingStore", chain.info["NaiveReadingStore"])
        sender = w3.eth.accounts[0]
        chain_id = w3.eth.chain_id
        version = oracle.functions.signerSetVersion().call()
        signer = ReportSigner(dev_signer_keys(), chain_id, oracle.address, 3)
        methodology_version = oracle.functions.methodologyCount().call()
        hour = [start]

        def report(n_readings: int, period=None):
            if period is None:
                period = hour[0]
                hour[0] += HOUR
            readings = _hour_readings(building.facility_id, "BENCH", period, n_readings, 1000)
            actual = sum(x.wh for x in readings)
            r = HourlyReport(building.facility_id, period, actual, actual + 50_000, n_readings, 0,
                             MerkleTree.of_readings(readings).root, methodology_version, 2023, version, 0)
            return r, readings

        def submit(reports) -> int:
            tx = oracle.functions.submitReports([r.as_tuple() for r in reports],
                                                [signer.sign(r) for r in reports]).transact({"from": sender, "gasPrice": 0})
            receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=60)
            assert receipt["status"] == 1
            return int(receipt["gasUsed"])

        gap = hour[0]
        hour[0] += HOUR              # left out: sent late below
        submit([report(2)[0]])       # warm-up: the facility's totals become non-zero
        out = {"signatures_per_report": 3, "facility": building.name, "readings": {}}
        for n in (2, 96):
            single = submit([report(n)[0]])
            batch = submit([report(n)[0] for _ in range(24)])
            _, readings = report(n)
            tx = naive.functions.storeReadings([r.leaf_values() for r in readings]).transact({"from": sender, "gasPrice": 0})
            naive_gas = int(w3.eth.wait_for_transaction_receipt(tx, timeout=60)["gasUsed"])
            out["readings"][str(n)] = {
                "single_report_tx_gas": single,
                "batch_24_tx_gas": batch,
                "batch_24_gas_per_report": batch // 24,
                "naive_store_readings_gas": naive_gas,
                "naive_gas_per_reading": naive_gas // n,
                "naive_to_single_report_ratio": round(naive_gas / single, 2),
                "naive_to_batched_report_ratio": round(naive_gas / (batch / 24), 2),
            }
        out["late_hour_tx_gas"] = submit([report(96, period=gap)[0]])
        g2, g96 = out["readings"]["2"], out["readings"]["96"]
        out["report_gas_independent_of_readings"] = (
            abs(g2["single_report_tx_gas"] - g96["single_report_tx_gas"]) < 200
            and abs(g2["batch_24_gas_per_report"] - g96["batch_24_gas_per_report"]) < 200)
        out["note"] = ("tx gas includes the 21,000 base and calldata; a report's gas differs between 2 and 96 "
                       "readings only by the calldata of the readingCount value and the root's bytes")
        return out
    finally:
        chain.stop()


def _feeder_run(days: int, *, estimate_every_batch: bool = False) -> dict:
    """One backfill of `days` days of both facilities on a fresh Anvil: compute and sign, then send."""
    from greenbond.feeder.service import Feeder
    from greenbond.meters.model import jst
    from tests.helpers.devchain import DevChain

    start = jst(2024, 4, 1)
    with tempfile.TemporaryDirectory() as tmp:
        chain = DevChain(Path(tmp), int((start + dt.timedelta(days=days + 1)).timestamp()))
        try:
            kwargs = {"batch_size": 24} if estimate_every_batch else {}
            f = Feeder(rpc_url=chain.url, db_path=Path(tmp) / "feeder.sqlite", seed=1,
                       deployments_dir=chain.deployments, gas_price=0, receipt_timeout=120.0, env={}, **kwargs)
            try:
                f.connect()
                if estimate_every_batch:
                    t = f.transmitter
                    t._gas_limit = lambda entries, cap: (entries, *t._try_estimate(entries), False)
                t0 = time.perf_counter()
                computed = f.backfill(start, start + dt.timedelta(days=days), transmit=False)
                t1 = time.perf_counter()
                outcome = f.transmit()
                t2 = time.perf_counter()
                outbox = f.store.status()["outbox"]
                txs = [t for t in f.store.transactions() if t.status == "mined"]
            finally:
                f.close()
        finally:
            chain.stop()
    reports = computed["hours_new"]
    return {"reports": reports, "compute_and_sign_s": round(t1 - t0, 2), "send_s": round(t2 - t1, 2),
            "reports_per_s_sent": round(reports / (t2 - t1)), "total_s": round(t2 - t0, 2),
            "transactions": len(txs), "outcome": outcome, "all_confirmed": outbox.get("confirmed") == reports}


def _spread(runs: list[dict], key: str) -> dict:
    values = sorted(r[key] for r in runs)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1]}


def feeder_send_bench(days: int = 365, repeats: int = 3, baseline_days: int = 30) -> dict:
    runs = [_feeder_run(days) for _ in range(repeats)]
    baseline = _feeder_run(baseline_days, estimate_every_batch=True)
    return {
        "days": days, "facilities": 2, "reports": runs[0]["reports"], "repeats": repeats,
        "reports_per_s_sent": _spread(runs, "reports_per_s_sent"),
        "compute_and_sign_s": _spread(runs, "compute_and_sign_s"),
        "send_s": _spread(runs, "send_s"),
        "total_s": _spread(runs, "total_s"),
        "all_confirmed": all(r["all_confirmed"] for r in runs),
        "runs": runs,
        "baseline": {"what": f"eth_estimateGas for every 24-report batch (the former defaults), {baseline_days} days",
                     **baseline},
        "what": "greenbond.feeder on a fresh local Anvil (tests.helpers.devchain): simulator -> VEE -> hourly "
                "figures -> 2 signatures -> outbox (compute_and_sign_s), then submitReports batches of the default "
                "size until the outbox is empty (send_s); wall time on this machine",
    }


def run_impact_bench(path: Path = REPORT_PATH, *, memory_days: tuple[int, int] = (30, 365),
                     throughput_readings: int = 300_000, feeder_days: tuple[int, int, int] = (365, 3, 30)) -> dict:
    """Runs the four measurements (`feeder_days`: days, repeats, baseline days) and writes them to `path` atomically; returns the figures."""
    from bench.impact_throughput import measure_throughput

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        gas = gas_bench(Path(tmp))
    month, year = (memory_run(d) for d in memory_days)
    tp = measure_throughput(throughput_readings, traced_readings=0)
    feeder = feeder_send_bench(*feeder_days)
    data = {
        "generated": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "gas": gas,
        "memory": {
            "goal_mb": MEMORY_GOAL_MB,
            "short": month,
            "long": year,
            "flat": year["max_rss_mb"] < month["max_rss_mb"] * 1.25 + 10,
            "under_goal": year["max_rss_mb"] < MEMORY_GOAL_MB,
            "what": "peak RSS of a fresh process running simulator -> VEE -> hourly figures -> SQLite store -> "
                    "2 signatures per hour -> outbox for both default facilities, no chain",
        },
        "throughput": {"readings": tp.readings, "hours": tp.hours, "seconds": round(tp.seconds, 2),
                       "readings_per_minute": round(tp.readings_per_minute)},
        "feeder_to_anvil": feeder,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    write_json_atomic(Path(path), data)
    return data


if __name__ == "__main__":  # python -m bench.feeder
    print(json.dumps(run_impact_bench(), indent=2))
