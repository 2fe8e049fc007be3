"""The feeder corrects hours already on chain when their readings change (greenbond/feeder/
corrections.py), end to end on a private Anvil with the suite deployed (tests/python/feeder_chain.py),
the feeder run as separate OS processes (`python -m greenbond feeder ...`).

Two days are backfilled from a CSV file in which one reading is missing (VEE interpolates it).
Then the feeder runs again on a second file: the missing reading, late (a meter gateway catching
up), and the next interval's reading re-sent as an edited value. On chain afterwards: each of the
two hours has been superseded exactly once, its report in force equals an independent
recomputation (greenbond.impact, from the changed readings) with its Merkle root, every reading the
store holds for it verifies against that report, every other hour is untouched, and the
facility and bond totals are the sums of the reports in force.

Run inside a private network namespace:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_feeder_corrections_chain.py'
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
from collections import Counter
from pathlib import Path

import pytest

from feeder_chain import HOUR, FeederProcess, day, iso, module_chain

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

SEED = 11
M = "KYOSO-MAIN-A"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-corrections")


def write_csv(path: Path, readings) -> Path:
    lines = ["meter_id,interval_start,wh,flags"]
    lines += [f"{r.meter_id},{r.interval_start.isoformat()},{r.wh},{r.flags}" for r in readings]
    path.write_text("\n".join(lines) + "\n")
    return path


def recompute_csv(path: Path, start: int, end: int) -> dict:
    """(facility, hour) -> HourlyFigure of a CSV file through greenbond.meters and greenbond.impact."""
    from greenbond.impact.facilities import all_meter_specs, load_facilities
    from greenbond.impact.hourly import HourlyAggregator, HourlyFigure
    from greenbond.impact.methodology import load_methodology
    from greenbond.meters.csv_source import read_csv
    from greenbond.meters.model import from_unix
    from greenbond.meters.vee import Vee

    facilities = load_facilities()
    meters = all_meter_specs(facilities)
    vee = Vee(meters, from_unix(start), from_unix(end))
    agg = HourlyAggregator(facilities, load_methodology())
    return {(f.facility_id, f.period_start): f for f in agg.run(vee.run(read_csv(path, meters)))
            if isinstance(f, HourlyFigure)}


def stored_figures(stored) -> tuple:
    """The figures of an oracle StoredReport: (actual, benchmark, count, flags, energy J, CO2 mg, root)."""
    return (stored[1], stored[2], stored[3], stored[4], stored[5], stored[6], bytes(stored[12]))


def figures(fig) -> tuple:
    return (fig.actual_wh, fig.benchmark_wh, fig.reading_count, fig.quality_flags, fig.energy_reduction_j,
            fig.co2_avoided_mg, fig.readings_root)


def test_late_and_edited_readings_correct_hours_on_chain(chain, tmp_path):
    from greenbond.feeder.store import FeederStore
    from greenbond.impact.facilities import load_facilities
    from greenbond.impact.hourly import hour_of, hourly_figure
    from greenbond.impact.methodology import load_methodology
    from greenbond.merkle import MerkleTree
    from greenbond.meters.model import FLAG_EDITED, from_unix
    from greenbond.meters.simulator import simulate

    facilities = load_facilities()
    start, end = day(0), day(2)
    full = list(simulate(facilities, from_unix(start), from_unix(end), seed=SEED))
    h1, h2 = day(1) + 10 * HOUR, day(1) + 11 * HOUR            # 10:00 and 11:00 JST of the second day
    (late,) = [r for r in full if r.meter_id == M and r.ts == h1 + 1800]
    (resent,) = [r for r in full if r.meter_id == M and r.ts == h2]
    edited = dataclasses.replace(resent, wh=resent.wh + 7, flags=FLAG_EDITED)

    # 1. two days backfilled without the 10:30 reading of M
    first = write_csv(tmp_path / "first.csv", [r for r in full if r is not late])
    db = tmp_path / "feeder.sqlite"
    common = ["--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments)]
    p = FeederProcess(["backfill", *common, "--from", iso(start), "--to", iso(end), "--source", f"csv:{first}",
                       "--no-progress"], tmp_path / "backfill.log")
    assert p.wait() == 0, p.errors()[-3000:]
    originals = recompute_csv(first, start, end)
    assert len(originals) == 96 and originals[(1, h1)].quality_flags & 1     # 10:30 was estimated
    oracle = chain.oracle()
    f = oracle.functions
    before = chain.accepted()
    assert len(before) == 96
    for e in before:
        assert stored_figures(f.report(e["facilityId"], e["index"]).call()) == figures(
            originals[(e["facilityId"], e["periodStart"])])

    # 2. the feeder runs again on the late reading and the edited one
    second = write_csv(tmp_path / "late.csv", [late, edited])
    run = FeederProcess(["run", *common, "--source", f"csv:{second}", "--poll", "0.2"], tmp_path / "run.log")
    try:
        run.wait_event("confirmed")
    finally:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGTERM)
        rc = run.wait()
    assert rc == 0, run.errors()[-3000:]
    queued = [e for e in run.events() if e["event"] == "correction_queued"]
    assert sorted((e["facility_id"], e["period_start"]) for e in queued) == [(1, h1), (1, h2)]
    assert {e["period_start"]: e["old"]["readingsRoot"] for e in queued} == {
        h: "0x" + originals[(1, h)].readings_root.hex() for h in (h1, h2)}

    # 3. on chain: each hour superseded exactly once, by the independent recomputation
    methodology = load_methodology()
    changed = [edited if r is resent else r for r in full]
    want = {h: hourly_figure(facilities[0], methodology, h, [r for r in changed if r.facility_id == 1
                                                              and hour_of(r.ts) == h]) for h in (h1, h2)}
    events = chain.accepted()
    counts = Counter((e["facilityId"], e["periodStart"]) for e in events)
    assert counts == Counter({**{k: 1 for k in originals}, (1, h1): 2, (1, h2): 2})
    in_force = {}
    with FeederStore(db, readonly=True) as store:
        for h in (h1, h2):
            orig, corr = sorted((e for e in events if (e["facilityId"], e["periodStart"]) == (1, h)),
                                key=lambda e: e["index"])
            assert (orig["supersedes"], corr["supersedes"]) == (0, orig["index"] + 1)
            o, c = f.report(1, orig["index"]).call(), f.report(1, corr["index"]).call()
            assert (o[10], o[11]) == (0, corr["index"] + 1)          # superseded by the correction
            assert (c[10], c[11]) == (orig["index"] + 1, 0)          # in force
            assert stored_figures(o) == figures(originals[(1, h)])
            assert stored_figures(c) == figures(want[h])
            # the investor's Verify flow: every stored reading of the hour is under the root in force
            readings = store.readings(1, h)
            tree = MerkleTree.of_readings(readings)
            assert tree.root == want[h].readings_root
            assert all(f.verifyReading(1, corr["index"], r.leaf_values(), tree.proof(i)).call()
                       for i, r in enumerate(readings))
            in_force[h] = corr["index"]
        assert store.status()["corrections"] == {"pending": 0, "sent": 0, "confirmed": 2, "failed": 0, "due": 0}
        (displaced,) = [q for q in store.quarantine(reason="duplicate_conflict") if q.interval_start == h2]
        assert str(resent.wh) in displaced.raw
        late_index = [(r.meter_id, r.ts) for r in store.readings(1, h1)].index((M, h1 + 1800))

    # 4. totals: the sums of the reports in force, and of the independent figures
    superseded = {(e["facilityId"], e["supersedes"] - 1) for e in events if e["supersedes"]}
    live = [e for e in events if (e["facilityId"], e["index"]) not in superseded]
    assert len(live) == 96
    expect = {**{k: fig for k, fig in originals.items()}, (1, h1): want[h1], (1, h2): want[h2]}
    bond_j = bond_mg = 0
    for spec in facilities:
        fid = spec.facility_id
        on_chain = [f.report(fid, e["index"]).call() for e in live if e["facilityId"] == fid]
        j, mg = sum(r[5] for r in on_chain), sum(r[6] for r in on_chain)
        assert (j, mg) == (sum(x.energy_reduction_j for k, x in expect.items() if k[0] == fid),
                           sum(x.co2_avoided_mg for k, x in expect.items() if k[0] == fid))
        assert tuple(f.facilityTotals(fid).call()[2:]) == (j, mg)
        bond_j, bond_mg = bond_j + j, bond_mg + mg
    # the bond's share: the building wholly (10bn of 10bn), the solar plant not at all
    bond = f.feedBond().call()
    building_j, building_mg = (tuple(f.facilityTotals(spec.facility_id).call()[2:]) for spec in facilities
                               if spec.allocated_proceeds).__next__()
    assert tuple(f.bondTotals(bond).call()[2:]) == (building_j, building_mg) != (bond_j, bond_mg)

    # 5. `feeder verify` and `feeder status` see the report in force
    v = FeederProcess(["verify", *common, "--facility", "1", "--hour", iso(h1), "--reading", str(late_index),
                       "--json"], tmp_path / "verify.log")
    assert v.wait() == 0, v.errors()[-3000:]
    result = json.loads(v.output())
    assert result["verified"] and result["report_index"] == in_force[h1]
    assert result["reading"] == {"meter_id": M, "interval_start": h1 + 1800, "wh": late.wh, "flags": 0}
    s = FeederProcess(["status", "--db", str(db), "--offline"], tmp_path / "status.log")
    assert s.wait() == 0, s.errors()[-3000:]
    assert "corrections (in the outbox): 0 pending, 0 sent, 2 confirmed, 0 failed" in s.output()
