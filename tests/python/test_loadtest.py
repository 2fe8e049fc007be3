"""The load test (bench/load.py): its pure helpers without a chain, and one small run end
to end on an Anvil of its own (20 holders, 100 transfers, 2 days of reports), as a separate
process, so its exit status is what is checked.

Run the chain test inside a private network namespace on a shared machine:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_loadtest.py'
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

from bench.load import (
    HOUR,
    REPORT_ACCEPTED,
    Hour,
    build_report,
    check,
    check_each,
    coupon_per_unit,
    decode_report_accepted,
    expected_hours,
    expected_payouts,
    failed_checks,
    main,
    render_report,
    replay,
    report_checks,
    totals_checks,
    trunc_div,
)
from bench.schedule import apply_transfers, bench_bond_toml, holder_units, plan_transfers
from greenbond.config import load_terms
from greenbond.impact.facilities import load_facilities

ROOT = Path(__file__).resolve().parents[2]
ANVIL = shutil.which("anvil") or (ROOT / "node_modules" / ".bin" / "anvil").exists()


# ------------------------------------------------------------------ replay and coupon amounts


def test_replay_splits_the_plan_at_the_record_date():
    units = [10, 11, 12]
    plan = [(0, 1), (0, 2), (1, 2), (2, 0)]
    at_record, final = replay(units, plan, 2)
    assert at_record == [8, 12, 13]
    assert final == [9, 11, 13]
    assert sum(final) == sum(at_record) == sum(units)
    assert replay(units, plan, 0) == (units, final)
    assert replay(units, plan, len(plan)) == (final, final)


def test_replay_matches_the_schedule_bench_plan_and_rejects_a_bad_split():
    units = [holder_units(i) for i in range(30)]
    plan = plan_transfers(units, 200, seed=4)
    at_record, final = replay(units, plan, 77)
    assert at_record == apply_transfers(units, plan[:77])
    assert final == apply_transfers(units, plan)
    with pytest.raises(ValueError):
        replay(units, plan, 201)
    with pytest.raises(ValueError):
        replay([0, 1], [(0, 1)], 1)  # overdraws holder 0


def _terms(tmp_path, issue: dt.date):
    path = tmp_path / "bond.toml"
    path.write_text(bench_bond_toml(issue), encoding="utf-8")
    return load_terms(path)


def test_coupon_per_unit_regular_month(tmp_path):
    terms = _terms(tmp_path, dt.date(2026, 11, 26))
    # 1,000,000 yen x 0.598% / 12, truncated
    assert coupon_per_unit(terms, 0) == 1_000_000 * 5_980 // (1_000_000 * 12) == 498
    assert all(coupon_per_unit(terms, i) == 498 for i in range(len(terms.coupon_dates)))
    with pytest.raises(ValueError):
        coupon_per_unit(terms, len(terms.coupon_dates))


def test_coupon_per_unit_month_ends_are_regular(tmp_path):
    terms = _terms(tmp_path, dt.date(2027, 1, 31))  # coupons on 28 Feb, 31 Mar, 30 Apr, ...
    assert terms.coupon_dates[0] == dt.date(2027, 2, 28)
    assert [coupon_per_unit(terms, i) for i in range(3)] == [498, 498, 498]


def test_coupon_per_unit_irregular_first_period_is_act_365(tmp_path):
    from dataclasses import replace

    terms = _terms(tmp_path, dt.date(2026, 11, 26))
    short = replace(terms, issue_date=dt.date(2026, 12, 10))  # 16 days to 26 Dec
    assert coupon_per_unit(short, 0) == 1_000_000 * 5_980 * 16 // (1_000_000 * 365) == 262
    assert coupon_per_unit(short, 1) == 498


def test_expected_payouts_are_units_times_the_amount():
    assert expected_payouts([0, 3, 16], 498) == [0, 1_494, 7_968]
    with pytest.raises(ValueError):
        expected_payouts([-1], 498)


def test_expected_hours_start_at_each_facility_reporting_start():
    facilities = load_facilities()
    start = int(facilities[0].reporting_start.timestamp())
    hours = expected_hours(facilities, start, start + 2 * 86_400)
    assert len(hours) == 2 * 24 * len(facilities)
    assert {h for _, h in hours} == set(range(start, start + 2 * 86_400, HOUR))
    # an hour before the reporting start is not expected
    assert len(expected_hours(facilities, start - HOUR, start + HOUR)) == len(facilities)
    with pytest.raises(ValueError):
        expected_hours(facilities, start + 1, start + HOUR)


def test_trunc_div_rounds_toward_zero_like_solidity():
    assert trunc_div(1_999, 1_000) == 1
    assert trunc_div(-1_999, 1_000) == -1
    assert trunc_div(-2_000, 1_000) == -2


# ------------------------------------------------------------------ checks


def test_check_fails_when_a_number_is_off():
    assert check("x", "what", 127_986, 127_986)["pass"] is True
    bad = check("x", "what", 127_986, 127_985)
    assert bad["pass"] is False and bad["expected"] == 127_986 and bad["actual"] == 127_985


def test_check_each_counts_and_shows_mismatches():
    ok = check_each("balances", "what", [10, 11, 12], [10, 11, 12])
    assert ok["pass"] and ok["expected"] == ok["actual"] == 3 and ok["mismatches"] == 0
    bad = check_each("balances", "what", [10, 11, 12], [10, 12, 12], ["a", "b", "c"])
    assert not bad["pass"] and bad["actual"] == 2 and bad["mismatches"] == 1
    assert bad["first_mismatches"] == [{"item": "b", "expected": 11, "actual": 12}]
    short = check_each("balances", "what", [10, 11, 12], [10, 11])
    assert not short["pass"] and short["lengths"] == {"expected": 3, "actual": 2}


def _log(fid, index, start, energy, co2, root=b"\x11" * 32, block=7):
    topic = "0x" + keccak(text=REPORT_ACCEPTED).hex()
    return {"topics": [topic, f"0x{fid:064x}", f"0x{index:064x}", f"0x{start:064x}"],
            "data": "0x" + encode(["int64", "int64", "bytes32", "uint32", "uint32"], [energy, co2, root, 1, 0]).hex(),
            "blockNumber": hex(block)}


def test_decode_report_accepted_reads_topics_and_data():
    e = decode_report_accepted(_log(2, 5, 1_702_479_600, -1_234, 56_789))
    assert e == {"facilityId": 2, "index": 5, "periodStart": 1_702_479_600, "energyReductionJ": -1_234,
                 "co2AvoidedMg": 56_789, "readingsRoot": "0x" + "11" * 32, "methodologyVersion": 1,
                 "supersedes": 0, "block": 7}
    with pytest.raises(ValueError):
        decode_report_accepted({"topics": [], "data": "0x"})


T0 = 1_702_479_600  # a whole hour


def _scenario():
    hours = {(f, T0 + k * HOUR) for f in (1, 2) for k in range(3)}
    recomputed = {(f, h): Hour(1_000 * f + (h - T0) // HOUR, 10 * f, "0x" + "11" * 32) for f, h in hours}
    events = [decode_report_accepted(_log(f, (h - T0) // HOUR, h, recomputed[(f, h)].energy_j, recomputed[(f, h)].co2_mg))
              for f, h in sorted(hours)]
    return hours, recomputed, events


def _by_name(checks):
    return {c["name"]: c for c in checks}


def test_report_checks_pass_on_a_complete_exact_stream():
    hours, recomputed, events = _scenario()
    checks = report_checks(events, hours, recomputed)
    assert all(c["pass"] for c in checks), [c for c in checks if not c["pass"]]


def test_report_checks_catch_a_missing_a_duplicated_and_a_wrong_hour():
    hours, recomputed, events = _scenario()
    c = _by_name(report_checks(events[1:], hours, recomputed))
    assert not c["report_events"]["pass"] and not c["report_hours_no_gaps"]["pass"]
    assert c["report_hours_no_gaps"]["actual"] == 1 and c["report_hours_no_gaps"]["first_missing"] == [[1, T0]]
    assert not c["report_indexes_facility_1"]["pass"] and c["report_indexes_facility_2"]["pass"]

    c = _by_name(report_checks(events + [events[0]], hours, recomputed))
    assert not c["report_hours_once"]["pass"] and c["report_hours_once"]["first_duplicates"] == [[1, T0]]

    wrong = [dict(e) for e in events]
    wrong[4]["co2AvoidedMg"] += 1  # one milligram off in one hour
    c = _by_name(report_checks(wrong, hours, recomputed))
    assert not c["report_figures"]["pass"] and c["report_figures"]["mismatches"] == 1
    assert c["report_events"]["pass"] and c["report_hours_no_gaps"]["pass"]


def test_totals_checks_compare_oracle_views_with_sums():
    hours, recomputed, _ = _scenario()
    j1, j2 = 1_000 * 3 + 3, 2_000 * 3 + 3
    mg1, mg2 = 30, 60
    ok = dict(facility_totals={1: (j1 // 10**6, mg1 // 1000, j1, mg1), 2: (j2 // 10**6, mg2 // 1000, j2, mg2)},
              bond_totals=(0, 0, j1 + j2, mg1 + mg2), feed_answer=0, report_counts={1: 3, 2: 3},
              last_period_ends={1: T0 + 3 * HOUR, 2: T0 + 3 * HOUR})
    assert all(c["pass"] for c in totals_checks(recomputed, hours=hours, **ok))
    off = dict(ok, bond_totals=(0, 0, j1 + j2, mg1 + mg2 - 1))
    failed = [c["name"] for c in totals_checks(recomputed, hours=hours, **off) if not c["pass"]]
    assert failed == ["oracle_bond_co2_mg"]
    off = dict(ok, last_period_ends={1: T0 + 2 * HOUR, 2: T0 + 3 * HOUR})
    failed = [c["name"] for c in totals_checks(recomputed, hours=hours, **off) if not c["pass"]]
    assert failed == ["oracle_last_period_end_facility_1"]


def test_totals_checks_take_the_bonds_share_of_each_facility():
    """The bond's totals are each facility's times allocated / financed cost, truncated toward
    zero; a facility with no allocation adds nothing (the demo solar plant)."""
    hours, recomputed, _ = _scenario()
    j1, j2 = 1_000 * 3 + 3, 2_000 * 3 + 3
    mg1, mg2 = 30, 60
    base = dict(facility_totals={1: (j1 // 10**6, mg1 // 1000, j1, mg1), 2: (j2 // 10**6, mg2 // 1000, j2, mg2)},
                feed_answer=0, report_counts={1: 3, 2: 3}, last_period_ends={1: T0 + 3 * HOUR, 2: T0 + 3 * HOUR},
                coverage={1: (3, 10, 0), 2: (3, 10, 0)})
    shares = {1: (1, 3)}                                   # a third of facility 1, none of facility 2
    bond = (0, 0, j1 // 3, mg1 // 3)
    checks = totals_checks(recomputed, hours=hours, bond_totals=bond, shares=shares, **base)
    assert all(c["pass"] for c in checks)
    # the old sum over both facilities is now a failure
    wrong = (0, 0, j1 + j2, mg1 + mg2)
    failed = [c["name"] for c in totals_checks(recomputed, hours=hours, bond_totals=wrong, shares=shares, **base)
              if not c["pass"]]
    assert failed == ["oracle_bond_energy_j", "oracle_bond_co2_mg"]
    # coverage must count the hours sent
    off = dict(base, coverage={1: (2, 10, 0), 2: (3, 10, 0)})
    failed = [c["name"] for c in totals_checks(recomputed, hours=hours, bond_totals=bond, shares=shares, **off)
              if not c["pass"]]
    assert failed == ["oracle_coverage_facility_1"]


def _report(checks):
    phase = {"seconds": 1.0, "gas": 100, "transactions": 2, "gas_per_tx": 50.0}
    phases = {"deploy": phase, "issue": dict(phase, gas_per_holder=50.0), "transfers": dict(phase, gas_per_transfer=50.0),
              "coupon": dict(phase, gas_per_holder=50.0),
              "reports": dict(phase, gas_per_report=25.0, reports=4, compute_and_sign_seconds=0.5, transmit_seconds=0.5),
              "checks": {"seconds": 0.1}}
    params = {"holders": 2, "transfers": 1, "coupon": 0, "days": 1, "facilities": 2}
    return build_report(params, phases, checks, {"client_version": "anvil/test", "git_commit": "abc"}, 5.0)


def test_report_counts_checks_and_the_table_names_failures():
    good = _report([check("a", "a", 1, 1), check("b", "b", 2, 2)])
    assert good["all_checks_pass"] and good["checks_passed"] == 2 and not failed_checks(good)
    assert "all 2 checks pass" in render_report(good)
    bad = _report([check("a", "a", 1, 1), check("b", "b", 2, 3)])
    assert not bad["all_checks_pass"] and bad["checks_failed"] == 1
    assert [c["name"] for c in failed_checks(bad)] == ["b"]
    text = render_report(bad)
    assert "1 of 2 checks FAILED: b" in text and "FAIL" in text
    json.dumps(bad)  # serialisable as is
    with pytest.raises(ValueError):
        _report([check("a", "a", 1, 1), check("a", "a", 1, 1)])


def test_main_exits_1_when_a_check_fails(monkeypatch):
    import bench.load as lt

    reports = iter([_report([check("a", "a", 1, 1)]), _report([check("a", "a", 1, 1), check("b", "b", 2, 3)])])
    monkeypatch.setattr(lt, "run_load_test", lambda *a, **k: next(reports))
    assert main(["--holders", "2", "--transfers", "1", "--days", "1"]) == 0
    assert main(["--holders", "2", "--transfers", "1", "--days", "1"]) == 1


def test_main_refuses_impossible_parameters(capsys):
    assert main(["--holders", "1", "--out", "/nonexistent/x.json"]) == 2
    assert "--holders" in capsys.readouterr().err
    assert main(["--holders", "2", "--transfers", "1000", "--out", "/nonexistent/x.json"]) == 2
    assert "--transfers" in capsys.readouterr().err


# ------------------------------------------------------------------ end to end


@pytest.mark.skipif(not ANVIL, reason="anvil is not installed (npm ci)")
def test_small_load_test_end_to_end(tmp_path):
    out = tmp_path / "reports" / "load.json"
    from tests.helpers.devchain import child_env

    run = subprocess.run([sys.executable, "-m", "bench.load", "--holders", "20", "--transfers", "100",
                          "--days", "2", "--out", str(out)], cwd=ROOT, env=child_env(), capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["all_checks_pass"] and report["checks_failed"] == 0
    assert all(c["pass"] for c in report["checks"])
    names = {c["name"] for c in report["checks"]}
    assert {"bond_balances", "bond_total_supply", "coupon_payouts", "coupon_schedule_left", "report_events",
            "report_hours_no_gaps", "report_figures", "oracle_bond_co2_mg", "oracle_feed_answer_g"} <= names
    c = {c["name"]: c for c in report["checks"]}
    assert c["bond_balances"]["actual"] == 20 and c["coupon_payouts"]["actual"] == 20
    assert c["report_events"]["actual"] == 2 * 24 * 2
    p = report["parameters"]
    assert (p["holders"], p["transfers"], p["days"], p["facility_hours"]) == (20, 100, 2, 96)
    ph = report["phases"]
    assert ph["transfers"]["transactions"] == 100
    assert ph["reports"]["reports"] == 96 and ph["reports"]["transactions"] >= 1
    assert all(ph[k]["gas"] > 0 for k in ("deploy", "issue", "transfers", "coupon", "reports"))
    assert report["environment"]["hardfork"].lower() == "berlin"
    assert "all" in run.stdout and "checks pass" in run.stdout
    assert not list(out.parent.glob("*.tmp"))
