"""The investor page (app/) with streamlit.testing.v1.AppTest against a demo-like chain: a private
Anvil on a free port, the suite deployed with greenbond.deploy.deploy_suite (Brownie, in a
subprocess), five investors, coupons paid up to the present, and 72 hours of signed hourly impact
reports with their raw readings in a readings store (greenbond.pageview_fixture). Each page must
render without an exception and show the numbers the contracts hold; error pages show sentences.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from greenbond import pageview as pv
from greenbond.pageview_fixture import DemoLikeChain, free_port

APP = Path(__file__).resolve().parents[2] / "app"
HOURS = 72
TIMEOUT = 120


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chain = DemoLikeChain.build(tmp_path_factory.mktemp("page-chain"))
    try:
        chain.report_hours(chain.present - HOURS * 3600, chain.present)
        yield chain
    finally:
        chain.stop()


@pytest.fixture()
def env(demo, monkeypatch):
    monkeypatch.setenv("GREENBOND_RPC_URL", demo.anvil.url)
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(demo.deployments_dir))
    monkeypatch.setenv("GREENBOND_FEEDER_DB", str(demo.readings_db))
    monkeypatch.setenv("GREENBOND_ISSUER_KEY", str(demo.issuer_key))
    return demo


def page(name: str) -> AppTest:
    path = APP / name if name == "Bond.py" else APP / "pages" / name
    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return found[0]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# ---------------------------------------------------------------- the bond


def test_bond_page_shows_the_contracts_values(env):
    d = env
    bond, sched, oracle = d.contract("GreenBond"), d.contract("CouponSchedule"), d.contract("ImpactOracle")
    at = page("Bond.py")
    assert metric(at, "Outstanding units") == f"{bond.functions.totalSupply().call():,}"
    assert metric(at, "Amount issued (JPY)") == f"{bond.functions.issueVolume().call():,}"
    assert metric(at, "Denomination (JPY)") == f"{bond.functions.denomination().call():,}"
    assert metric(at, "Coupon rate") == f"{bond.functions.couponRate().call() / 10_000:.3f}% a year"
    assert metric(at, "Status") == "active"
    assert metric(at, "Issue date") == "2023-12-14" and metric(at, "Maturity date") == "2028-12-14"
    assert metric(at, "Next coupon") == "2026-12-14" or d.present > 1797174000
    md = texts(at.markdown)
    assert "PLACEHOLDER-JP-ISIN" in md and "placeholder" in md and "Hitachi, Ltd." in md
    schedule = at.dataframe[0].value
    assert len(schedule) == sched.functions.couponCount().call()
    states = ("scheduled", "funded", "paying", "paid", "late")
    assert list(schedule["state"]) == [states[sched.functions.couponStatus(i).call()] for i in range(len(schedule))]
    assert list(schedule["per unit (JPY)"]) == [f"{sched.functions.couponPerUnit(i).call():,}" for i in range(len(schedule))]
    docs = at.dataframe[1].value
    assert list(docs["check"]) == ["matches", "matches"]
    for name, chain_hash in zip(docs["document"], docs["hash on chain"]):
        assert chain_hash == "0x" + bytes(bond.functions.getDocument(name.encode().ljust(32, b"\0")).call()[1]).hex()
    assert len(at.success) == 2 and not at.error
    facilities = at.dataframe[2].value
    assert list(facilities["allocated (JPY)"]) == [
        oracle.functions.facility(f).call()[4] for f in range(1, oracle.functions.facilityCount().call() + 1)
    ]
    assert "JSON-RPC calls" in texts(at.caption)


# ---------------------------------------------------------------- impact


def test_impact_page_shows_totals_windows_and_freshness(env):
    d = env
    oracle = d.contract("ImpactOracle")
    at = page("1_Impact.py")
    _mj, _g, joules, mg = oracle.functions.bondTotals().call()
    assert metric(at, "Energy reduction since issuance (MJ)") == f"{joules / 1e6:,.0f}"
    assert metric(at, "CO2 avoided since issuance (t-CO2)") == f"{mg / 1e9:,.1f}"
    end = max(oracle.functions.lastPeriodEnd(f).call() for f in (1, 2))
    figs = [f for fs in d.reports.values() for f in fs if end - 24 * 3600 <= f.period_start < end]
    assert len(figs) == 48
    assert metric(at, "Energy reduction, last 24 h (MJ)") == f"{sum(f.energy_reduction_j for f in figs) / 1e6:,.1f}"
    assert metric(at, "CO2 avoided, last 24 h (t-CO2)") == f"{sum(f.co2_avoided_mg for f in figs) / 1e9:,.3f}"
    per_facility = at.table[0].value
    for f, row in zip((1, 2), per_facility.itertuples(index=False)):
        totals = oracle.functions.facilityTotals(f).call()
        assert row[2] == oracle.functions.reportCount(f).call() == HOURS
        assert row[3] == round(totals[2] / 1e6, 3) and row[4] == round(totals[3] / 1e9, 6)
    factors = at.table[1].value
    assert set(factors["status"]) == {"provisional"} and "FY2026" in set(factors["fiscal year"])
    assert "(in force)" in texts(at.markdown)
    fresh = at.table[2].value
    assert list(fresh["state"]) == ["fresh", "fresh"] and not at.warning
    assert len(at.get("vega_lite_chart")) == 4 or len(at.get("arrow_vega_lite_chart")) == 4
    assert "JSON-RPC calls" in texts(at.caption)


def test_impact_csv_has_every_report(env):
    v = pv.impact_view(pv.settings_from_env())
    lines = v.csv.strip().splitlines()
    assert len(lines) == 1 + 2 * HOURS and lines[0].startswith("facility_id,facility,report_index")
    assert v.report_count == 2 * HOURS
    assert sum(v.daily["energy_mj"]) == pytest.approx(v.energy_mj)


def test_impact_warns_when_data_is_stale(env):
    v = pv.impact_view(pv.settings_from_env(), now=env.present + 3 * 3600 + 1)
    assert all(f.stale for f in v.freshness) and v.any_stale


# ---------------------------------------------------------------- verify


def test_verify_page_checks_a_real_hour(env):
    at = page("2_Verify.py")
    assert not at.error, texts(at.error)
    ok = texts(at.success)
    assert "Verified: every one of the 4 readings" in ok and "Signed by 2 members of signer set v1" in ok
    readings = at.dataframe[0].value
    assert list(readings["verifyReading"]) == ["true"] * 4
    signers = at.dataframe[1].value
    from greenbond.oracle.setup import dev_signer_keys

    assert set(signers["signer (recovered)"]) <= {k.address for k in dev_signer_keys()}
    assert list(signers["in signer set"]) == ["yes", "yes"]
    assert "Transaction:" in texts(at.markdown)


def test_verify_page_fails_for_a_tampered_value(env):
    at = page("2_Verify.py")
    at.checkbox[0].check().run()
    at.number_input[1].set_value(123).run()
    assert not at.exception
    assert "Check failed: reading #1" in texts(at.error)
    readings = at.dataframe[0].value
    assert readings["verifyReading"].iloc[0] == "FALSE" and readings["Wh"].iloc[0] == 123
    assert "DIFFERENT" in texts(at.markdown)


def test_verify_one_reading_of_the_solar_plant(env):
    at = page("2_Verify.py")
    at.selectbox[0].set_value(2).run()
    at.radio[0].set_value("one reading").run()
    at.number_input[0].set_value(2).run()
    assert "Verified: the reading" in texts(at.success)
    assert list(at.dataframe[0].value["verifyReading"]) == ["", "true"]


# ---------------------------------------------------------------- my holding


def test_holding_page_shows_units_coupons_and_claimable(env):
    d = env
    bond, sched, reg = d.contract("GreenBond"), d.contract("CouponSchedule"), d.contract("HolderRegistry")
    wallet = d.accounts[3]   # the investor who leaves later coupons unclaimed
    at = page("3_My_holding.py")
    at.text_input(key="address").input(wallet).run()
    assert not at.exception and not at.error, texts(at.error)
    units = bond.functions.balanceOf(wallet).call()
    assert metric(at, "Units") == f"{units:,}"
    assert metric(at, "Face value (JPY)") == f"{bond.functions.principalOf(wallet).call():,}"
    assert metric(at, "Eligible to hold") == ("yes" if reg.functions.isEligible(wallet).call() else "no")
    assert metric(at, "Redemption amount (JPY)") == f"{units * sched.functions.redemptionPerUnit().call():,}"
    n = sched.functions.couponCount().call()
    claimable = sum(sched.functions.couponOf(wallet, i).call() for i in range(n)
                    if sched.functions.couponStatus(i).call() == 2 and sched.functions.paymentOf(wallet, i).call() == 0)
    assert claimable > 0 and metric(at, "Claimable now (JPY)") == f"{claimable:,}"
    paid = sched.events.CouponPaid().get_logs(from_block=0, argument_filters={"holder": wallet})
    assert metric(at, "Coupons received on chain (JPY)") == f"{sum(e['args']['amount'] for e in paid):,}"
    table = at.dataframe[0].value
    assert list(table["paid"])[:1] == ["on chain"] and "claimable" in set(table["for this wallet"])


def test_holding_page_off_chain_investor(env):
    d = env
    at = page("3_My_holding.py")
    at.text_input(key="address").input(d.accounts[5].lower()).run()
    assert metric(at, "Coupons paid off chain (JPY)") != "0" and metric(at, "Coupons received on chain (JPY)") == "0"


@pytest.mark.parametrize("text, words", [
    ("0x123", "is not a wallet address"),
    ("hello", "is not a wallet address"),
    ("0x976EA74026E726554dB657fA54763abd0C3a0aA9", "wrong checksum"),
])
def test_holding_page_bad_address_is_a_sentence(env, text, words):
    at = page("3_My_holding.py")
    at.text_input(key="address").input(text).run()
    assert not at.exception and words in texts(at.error)


def test_holding_page_not_a_holder(env):
    at = page("3_My_holding.py")
    at.text_input(key="address").input(env.accounts[9]).run()
    assert not at.exception and "is not a holder of this bond" in texts(at.error)


# ---------------------------------------------------------------- issuer


def test_issuer_page_register_latest_and_at_a_date(env):
    d = env
    bond = d.contract("GreenBond")
    at = page("4_Issuer.py")
    assert not at.error, texts(at.error)
    at.checkbox[0].check().run()
    table = at.dataframe[0].value
    assert {w: u for w, u in zip(table["wallet"], table["units"])} == {
        a: bond.functions.balanceOf(a).call() for a in d.accounts[1:6]
    }
    assert "Sakura Life Insurance Co. (fictitious)" in set(table["name"])
    assert metric(at, "Units") == "10,000"
    import datetime as dt

    at.checkbox[0].uncheck().run()
    at.date_input[0].set_value(dt.date(2024, 6, 13)).run()   # the first record date: before the trades' effects
    table = at.dataframe[0].value
    record = d.terms.record_timestamps[0]
    assert {w: u for w, u in zip(table["wallet"], table["units"])} == {
        a: bond.functions.balanceOfAt(a, record).call() for a in d.accounts[1:6]
    }


def test_issuer_page_without_key_says_so(env, monkeypatch):
    monkeypatch.setenv("GREENBOND_ISSUER_KEY", str(env.issuer_key.parent / "missing.key"))
    at = page("4_Issuer.py")
    assert "Personal details not included" in texts(at.info)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["Bond.py", "1_Impact.py", "2_Verify.py", "4_Issuer.py"])
def test_node_down_is_a_sentence(monkeypatch, name):
    monkeypatch.setenv("GREENBOND_RPC_URL", f"http://127.0.0.1:{free_port()}")
    at = page(name)
    err = texts(at.error)
    assert "is unreachable" in err and "Traceback" not in err


def test_no_deployment_is_a_sentence(env, monkeypatch, tmp_path):
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(tmp_path))
    at = page("Bond.py")
    assert "no deployment on this chain" in texts(at.error).lower()


def test_missing_feeder_db_is_a_sentence(env, monkeypatch, tmp_path):
    monkeypatch.setenv("GREENBOND_FEEDER_DB", str(tmp_path / "nothing.sqlite"))
    at = page("2_Verify.py")
    assert "There is no feeder database at" in texts(at.error)


def test_rpc_calls_are_counted_and_batched(env):
    pv.forget_sessions()
    before = pv.rpc_stats()
    pv.impact_view(pv.settings_from_env())
    d = pv.rpc_delta(before)
    assert d["by_method"].get("eth_getLogs", 0) <= 4
    assert d["requests"] < 20 and d["calls"] > d["requests"]



def test_bond_page_says_when_there_is_no_offering(env):
    """The test chain issues units directly (no Offering, no DvP): the page says so in sentences."""
    at = page("Bond.py")
    assert "No on-chain offering on this chain" in texts(at.info)
    assert "No DvP contract on this chain" in texts(at.caption)
