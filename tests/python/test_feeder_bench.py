"""The impact benchmark runs end to end (small sizes) and writes its report atomically.
Needs Anvil; run inside a private network namespace (see test_feeder_chain.py)."""

import json

from bench.feeder import run_impact_bench


def test_impact_bench_small(tmp_path):
    path = tmp_path / "bench_impact.json"
    data = run_impact_bench(path, memory_days=(2, 4), throughput_readings=3_000, feeder_days=(2, 2, 1))
    assert json.loads(path.read_text()) == data
    assert not list(tmp_path.glob("*.tmp"))
    gas = data["gas"]
    assert gas["report_gas_independent_of_readings"]
    g96 = gas["readings"]["96"]
    assert g96["batch_24_gas_per_report"] < g96["single_report_tx_gas"]
    assert g96["naive_store_readings_gas"] > 10 * g96["single_report_tx_gas"]
    assert data["memory"]["long"]["hours"] == 4 * 24 * 2 and data["memory"]["under_goal"]
    assert data["throughput"]["readings_per_minute"] > 0
    feeder = data["feeder_to_anvil"]
    assert feeder["reports"] == 2 * 24 * 2 and feeder["all_confirmed"] and len(feeder["runs"]) == 2
    assert feeder["reports_per_s_sent"]["min"] <= feeder["reports_per_s_sent"]["median"] <= feeder["reports_per_s_sent"]["max"]
    baseline = feeder["baseline"]
    assert baseline["reports"] == 48 and baseline["all_confirmed"] and baseline["transactions"] == 2   # 24 a batch


def test_memory_run_measures_the_child_not_its_parent():
    """Linux keeps ru_maxrss across exec: a child started by a big process (pytest late in a full
    run) reported the parent's peak (a full make test-python: 'under_goal' false for a 4-day run of 73 MB)."""
    import numpy as np

    from bench.feeder import memory_run

    ballast = np.ones(50_000_000)   # 400 MB resident in this process
    try:
        assert memory_run(1)["max_rss_mb"] < 250
    finally:
        del ballast
