"""The benchmark's pure helpers (bench/gas.py), without a chain."""

import json
import os
import stat

import pytest

from bench import gas
from bench.gas import (
    GOAL_RATIO,
    TREX_TRANSFER_GAS,
    Measurement,
    atomic_write_json,
    budget,
    build_report,
    compiler_info,
    format_table,
    median,
    ratio,
    render_report,
    summarize,
)


# ------------------------------------------------------------------ statistics


def test_median_odd_is_the_middle_int():
    assert median([5, 1, 3]) == 3
    assert isinstance(median([5, 1, 3]), int)


def test_median_even_averages_the_middle_pair():
    assert median([1, 2, 3, 4]) == 2.5
    assert median([2, 4]) == 3 and isinstance(median([2, 4]), int)


def test_median_of_nothing_fails():
    with pytest.raises(ValueError):
        median([])


def test_summarize_keeps_samples_in_order():
    s = summarize([48_400, 48_317, 48_329])
    assert s == {"min": 48_317, "median": 48_329, "max": 48_400, "samples": [48_400, 48_317, 48_329]}


def test_summarize_accepts_any_iterable_once():
    assert summarize(iter([7]))["samples"] == [7]


@pytest.mark.parametrize("bad", [[], [1, -1], [1.5], [True], ["100"]])
def test_summarize_rejects_bad_samples(bad):
    with pytest.raises(ValueError):
        summarize(bad)


def test_ratio_rounds_and_refuses_zero():
    assert ratio(48_317, 34_423) == 1.4036
    assert ratio(1, 3, digits=2) == 0.33
    with pytest.raises(ValueError):
        ratio(1, 0)


def test_budget_boundary_is_inclusive():
    assert GOAL_RATIO == 1.25                       # issue 15's goal
    assert budget(1.25) == {"goal_ratio": GOAL_RATIO, "ratio": 1.25, "within_goal": True}
    assert budget(1.2501)["within_goal"] is False
    assert budget(2.0, goal=2.5)["within_goal"] is True


# ------------------------------------------------------------------ report


def measurements(compliant=(48_317,) * 5, plain=(34_423,) * 5):
    return [
        Measurement("transfer_existing", "compliant", tuple(compliant)),
        Measurement("mint_existing", "mint", (45_000, 45_100, 45_050)),
        Measurement("plain_transfer", "plain", tuple(plain)),
    ]


META = {
    "generated_at": "2026-01-01T00:00:00Z",
    "network": "development",
    "chain_id": 31337,
    "client_version": "anvil/v1.7.1",
    "solc_version": "0.8.30+commit.73712a01",
    "evm_version": "berlin",
    "optimizer_runs": 200,
    "git_commit": "0" * 40,
    "repeats": 5,
}


def test_build_report_fields_and_ratios():
    report = build_report(measurements(), META)
    for key in gas.REQUIRED_KEYS:
        assert key in report, key
    assert report["schema_version"] == gas.SCHEMA_VERSION
    assert report["generated_at"] == META["generated_at"]
    assert [m["name"] for m in report["measurements"]] == ["transfer_existing", "mint_existing", "plain_transfer"]
    assert report["measurements"][1]["gas"]["median"] == 45_050
    assert report["ratios"]["transfer_vs_plain"] == round(48_317 / 34_423, 4)
    assert report["ratios"]["transfer_vs_trex"] == round(48_317 / TREX_TRANSFER_GAS, 4)
    # 48,317 / 34,423 = 1.40x: over issue 15's 1.25x
    assert report["budget"] == {"goal_ratio": 1.25, "ratio": report["ratios"]["transfer_vs_plain"], "within_goal": False}
    json.dumps(report)  # serialisable as is


def test_build_report_over_budget():
    report = build_report(measurements(compliant=(60_000,)), META)
    assert report["budget"]["within_goal"] is False


def test_build_report_needs_both_transfers_and_unique_names():
    with pytest.raises(ValueError, match="plain_transfer"):
        build_report(measurements()[:2], META)
    with pytest.raises(ValueError, match="share a name"):
        build_report(measurements() + [Measurement("plain_transfer", "again", (1,))], META)


def test_build_report_stamps_time_when_meta_has_none():
    meta = {k: v for k, v in META.items() if k != "generated_at"}
    stamp = build_report(measurements(), meta)["generated_at"]
    assert stamp.endswith("Z") and "T" in stamp


def test_compiler_info_reads_brownie_build():
    build = {"compiler": {"evm_version": "berlin", "optimizer": {"enabled": True, "runs": 200}, "version": "0.8.30"}}
    assert compiler_info(build) == {
        "solc_version": "0.8.30",
        "evm_version": "berlin",
        "optimizer_enabled": True,
        "optimizer_runs": 200,
    }
    assert compiler_info({})["solc_version"] is None


def test_every_scenario_has_a_description():
    assert gas.COMPLIANT in gas.SCENARIOS and gas.PLAIN in gas.SCENARIOS
    assert all(d.strip() for d in gas.SCENARIOS.values())


# ------------------------------------------------------------------ table


def test_format_table_aligns_columns():
    text = format_table(["name", "gas"], [["a", "1,000"], ["longer name", "7"]])
    lines = text.splitlines()
    assert lines == [
        "name           gas",
        "-----------  -----",
        "a            1,000",
        "longer name      7",
    ]
    # right-aligned numbers end in the same column
    assert len({len(line) for line in lines}) == 1


def test_format_table_custom_alignment_and_empty_cells():
    text = format_table(["x", "y"], [[None, "b"]], align="rl")
    assert text.splitlines() == ["x  y", "-  -", "   b"]


def test_format_table_rejects_ragged_rows_and_bad_alignment():
    with pytest.raises(ValueError):
        format_table(["a", "b"], [["only one"]])
    with pytest.raises(ValueError):
        format_table(["a", "b"], [], align="lx")


def test_render_report_prints_table_ratios_and_verdict():
    ok = render_report(build_report(measurements(compliant=(43_000,)), META))
    assert "transfer_existing" in ok and "43,000" in ok and "1.249x" in ok
    assert "budget: OK" in ok and "WARNING" not in ok
    over = render_report(build_report(measurements(), META))
    assert "WARNING" in over and "1.404x" in over and "over the goal of 1.25x" in over


# ------------------------------------------------------------------ atomic write


def test_atomic_write_json_round_trips_and_leaves_no_temp(tmp_path):
    target = tmp_path / "reports" / "bench.json"
    atomic_write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["bench.json"]


def test_atomic_write_json_is_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_json(tmp_path / "r.json", [])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_atomic_write_json_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "bench.json"
    atomic_write_json(target, {"old": True})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]


def test_atomic_write_json_temp_files_match_gitignore(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    import greenbond.files

    monkeypatch.setattr(greenbond.files.os, "replace", spy)
    atomic_write_json(tmp_path / "bench.json", {})
    assert seen and seen[0].endswith(".tmp")  # reports/*.tmp is ignored and cleaned
