"""The coupon benchmark's pure helpers (bench/schedule.py), without a chain."""

import datetime as dt

import pytest

from bench.schedule import (
    FLAT_TOLERANCE,
    apply_transfers,
    batch_summary,
    bench_bond_toml,
    build_report,
    chunks,
    compare,
    float_summary,
    holder_units,
    plan_transfers,
    render_report,
    transfer_data,
)
from greenbond.config import load_terms


def test_chunks_cut_in_order_with_a_short_tail():
    assert chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert chunks([], 3) == []
    with pytest.raises(ValueError):
        chunks([1], 0)


def test_holder_units_vary_between_10_and_16():
    assert {holder_units(i) for i in range(100)} == set(range(10, 17))


def test_plan_transfers_never_overdraws_and_conserves_units():
    units = [holder_units(i) for i in range(50)]
    plan = plan_transfers(units, 500, seed=3)
    assert len(plan) == 500
    assert all(s != r and 0 <= s < 50 and 0 <= r < 50 for s, r in plan)
    after = apply_transfers(units, plan)  # raises on an overdraft
    assert sum(after) == sum(units) and min(after) >= 0


def test_plan_transfers_is_deterministic_and_seeded():
    units = [10, 0, 20]
    assert plan_transfers(units, 20, seed=1) == plan_transfers(units, 20, seed=1)
    assert plan_transfers(units, 20, seed=1) != plan_transfers(units, 20, seed=2)


def test_plan_transfers_is_valid_in_any_order():
    units = [3, 0, 1, 2]
    plan = plan_transfers(units, 6, seed=5)
    apply_transfers(units, list(reversed(plan)))
    apply_transfers(units, sorted(plan))
    sends = [sum(1 for s, _ in plan if s == i) for i in range(4)]
    assert all(sent <= u for sent, u in zip(sends, units))


def test_plan_transfers_rejects_impossible_markets():
    with pytest.raises(ValueError):
        plan_transfers([5], 1)
    with pytest.raises(ValueError):
        plan_transfers([0, 0], 1)
    with pytest.raises(ValueError):
        plan_transfers([1, 1], 3)  # more transfers than units to send
    assert plan_transfers([0, 0], 0) == []


def test_apply_transfers_rejects_an_overdraft():
    with pytest.raises(ValueError):
        apply_transfers([0, 1], [(0, 1)])


def test_compare_flat_within_tolerance_both_ways():
    assert compare(100_000, 101_999)["verdict"] == "flat"
    assert compare(100_000, 98_001)["verdict"] == "flat"
    assert compare(100_000, 102_000)["verdict"] == "flat"  # exactly 2% still counts as flat
    assert compare(100_000, 102_001)["verdict"] == "grows"
    assert compare(100_000, 97_000)["verdict"] == "falls"
    c = compare(200, 210)
    assert c["ratio"] == 1.05 and c["change_pct"] == 5.0 and c["base"] == 200 and c["other"] == 210
    assert FLAT_TOLERANCE == 0.02
    with pytest.raises(ValueError):
        compare(0, 1)


def test_batch_summary_divides_by_the_batch_size():
    s = batch_summary([4_550_000, 4_560_000, 4_570_000], 100)
    assert s["batch_size"] == 100 and s["batches"] == 3
    assert s["batch_gas"]["median"] == 4_560_000
    assert s["per_holder"] == {"min": 45_500.0, "median": 45_600.0, "max": 45_700.0}
    with pytest.raises(ValueError):
        batch_summary([1], 0)


def test_float_summary_rounds_seconds():
    assert float_summary([3.14159, 1.0, 2.5]) == {"min": 1.0, "median": 2.5, "max": 3.142, "samples": [3.142, 1.0, 2.5]}
    with pytest.raises(ValueError):
        float_summary([])


def test_transfer_data_is_the_erc20_abi_encoding():
    to = "0x" + "Ab" * 20
    data = transfer_data(to, 1)
    assert data == "0xa9059cbb" + "00" * 12 + "ab" * 20 + "00" * 31 + "01"
    assert len(data) == 2 + 8 + 128
    with pytest.raises(ValueError):
        transfer_data("0x1234", 1)


def test_bench_bond_toml_loads_as_monthly_terms(tmp_path):
    path = tmp_path / "bond.toml"
    path.write_text(bench_bond_toml(dt.date(2031, 1, 31)), encoding="utf-8")
    terms = load_terms(path)
    assert terms.coupon_frequency == 12 and terms.record_days == 1
    assert len(terms.coupon_dates) == 12
    assert terms.coupon_dates[0] == dt.date(2031, 2, 28) and terms.coupon_dates[-1] == dt.date(2032, 1, 31)
    assert terms.units == 100_000 and terms.documents == ()


def _fake_gas(claim_large=116_005, push_large=49_657.2):
    def push(per_holder, size, n=3):
        return batch_summary([round(per_holder * size)] * n, size)

    small = {"holders": 10, "fund_coupon": {"min": 132_174, "median": 132_343, "max": 132_450, "samples": [132_174, 132_343, 132_450]},
             "claim_coupon": {"min": 116_005, "median": 116_005, "max": 116_005, "samples": [116_005] * 5},
             "push": {"closing_batch_10": push(49_657.2, 10)}}
    large = {"holders": 1000, "fund_coupon": dict(small["fund_coupon"]),
             "claim_coupon": {"min": claim_large, "median": claim_large, "max": claim_large, "samples": [claim_large] * 5},
             "push": {"batch_100": {**push(45_498, 100), "by_coupon": [[4_549_800] * 9] * 3},
                      "batch_10": push(50_617.2, 10),
                      "closing_batch_10": push(push_large, 10)}}
    return {"10": small, "1000": large}


def _register():
    return {"holders": 1000, "transfers": 10_000, "start_block": 15, "target_block": 11_000, "coupons_due": 5,
            "seconds": {"min": 40.0, "median": 41.0, "max": 42.0, "samples": [40.0, 41.0, 42.0]},
            "rpc_calls": {"total": 31_000, "by_method": {"eth_call": 7_000, "eth_getBlockByNumber": 10_000}}}


def test_build_report_flat_when_nothing_grows():
    report = build_report(_fake_gas(), _register(), {"generated_at": "2031-01-01T00:00:00Z", "chain_id": 31337})
    assert report["schema_version"] == 1 and report["generated_at"] == "2031-01-01T00:00:00Z"
    assert report["per_holder_cost_grows_with_holders"] is False and report["grows"] == []
    by_name = {c["name"]: c for c in report["comparisons"]}
    assert by_name["claim_coupon"]["verdict"] == "flat"
    assert by_name["push_closing_batch_10"]["verdict"] == "flat"
    assert by_name["push_batch_100_first_vs_last"]["verdict"] == "flat"
    # informational only: batches of 100 share the fixed cost among more holders
    assert by_name["push_batch_100_vs_batch_10"]["verdict"] == "falls" and not by_name["push_batch_100_vs_batch_10"]["decides"]
    text = render_report(report)
    assert "does not grow" in text and "register --at latest: 1,000 holders, 10,000 transfers" in text
    assert "distributeCoupon / holder, batch 100" in text


def test_build_report_flags_growth_in_a_deciding_comparison():
    report = build_report(_fake_gas(claim_large=120_000, push_large=52_000.0), None, {})
    assert report["per_holder_cost_grows_with_holders"] is True
    assert set(report["grows"]) == {"claim_coupon", "push_closing_batch_10"}
    assert report["register"] is None
    assert "WARNING" in render_report(report)


def test_claims_by_payees_holding_the_settlement_token_are_compared_and_shown():
    gas = _fake_gas()
    gas["10"]["claim_coupon_holding"] = {"min": 86_700, "median": 86_721, "max": 86_800, "samples": [86_721] * 5}
    gas["1000"]["claim_coupon_holding"] = {"min": 95_000, "median": 95_000, "max": 95_000, "samples": [95_000] * 5}
    report = build_report(gas, None, {})
    by_name = {c["name"]: c for c in report["comparisons"]}
    assert by_name["claim_coupon_holding"]["verdict"] == "grows" and by_name["claim_coupon_holding"]["decides"]
    assert report["grows"] == ["claim_coupon_holding"]
    text = render_report(report)
    assert "claimCoupon, payee already holding it" in text and "86,721" in text
    assert "claimCoupon, payee's first settlement token" in text


def test_build_report_needs_two_sizes_and_the_closing_batch():
    gas = _fake_gas()
    with pytest.raises(ValueError):
        build_report({"10": gas["10"]}, None, {})
    del gas["1000"]["push"]["closing_batch_10"]
    with pytest.raises(ValueError):
        build_report(gas, None, {})


def test_count_rpc_counts_what_leaves_not_what_the_cache_answers(monkeypatch):
    """The register's RPC count is taken where requests leave web3: the chain id, asked before
    every eth_call and cached by greenbond.chain.connect, is sent once or twice, not per call."""
    import json

    from web3 import Web3
    from web3._utils.http_session_manager import HTTPSessionManager

    from bench.schedule import HTTP_REQUESTS, count_rpc

    def node(self, endpoint_uri, data, **kwargs):
        req = json.loads(data)
        result = {"eth_chainId": "0x7a69", "eth_blockNumber": "0x5"}[req["method"]]
        return json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode()

    monkeypatch.setattr(HTTPSessionManager, "make_post_request", node)
    from greenbond.chain.connection import remember_chain_id

    provider = Web3.HTTPProvider("http://127.0.0.1:1")
    remember_chain_id(provider)     # what greenbond.chain.connect and the contract tests' Brownie provider do
    w3 = Web3(provider)
    with count_rpc() as counter:
        assert [w3.eth.chain_id for _ in range(10)] == [31337] * 10
        assert [w3.eth.block_number for _ in range(3)] == [5] * 3
    assert counter["eth_blockNumber"] == 3                # never cached: blocks stay fresh
    assert 1 <= counter["eth_chainId"] <= 2               # web3 7 sends it once more while filling its cache
    assert counter[HTTP_REQUESTS] == counter["eth_blockNumber"] + counter["eth_chainId"]   # one call a request
