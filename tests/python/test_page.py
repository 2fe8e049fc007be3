"""The investor page (app/) with streamlit.testing.v1.AppTest against a demo-like chain: a private
Anvil on a free port, the suite deployed with greenbond.deploy.deploy_suite (Brownie, in a
subprocess), five investors, coupons paid up to the present, and 72 hours of signed hourly impact
reports with their raw readings in a readings store (tests.helpers.pageview_fixture), one hour of the
building left out (a gap). Each page must render without an exception and show the numbers the
contracts hold; error pages show sentences.

The bond's figures are its share of the facilities it finances: the building (allocated
10,000,000,000 of a financed cost of 10,000,000,000) and not the demo solar plant (no allocation).
Coverage and gaps are checked against an independent count of the ReportAccepted events.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from app.i18n import Formats
from greenbond import pageview as pv
from tests.helpers.pageview_fixture import DemoLikeChain, free_port

APP = Path(__file__).resolve().parents[2] / "app"
HOURS = 72
HOUR = 3600
TIMEOUT = 120
BUILDING, SOLAR = 1, 2
MISSING_BACK = 40     # the building's hour present - 40 h is never reported: a gap outside the last 24 hours


def missing_hour(chain) -> int:
    return chain.present - MISSING_BACK * HOUR


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chain = DemoLikeChain.build(tmp_path_factory.mktemp("page-chain"))
    try:
        chain.report_hours(chain.present - HOURS * 3600, chain.present, skip=[(BUILDING, missing_hour(chain))])
        yield chain
    finally:
        chain.stop()


@pytest.fixture()
def env(demo, monkeypatch):
    monkeypatch.setenv("GREENBOND_RPC_URL", demo.anvil.url)
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(demo.deployments_dir))
    monkeypatch.setenv("GREENBOND_PUBLISHED_DIR", str(demo.published_dir))
    return demo


def page(name: str) -> AppTest:
    path = APP / "views" / name
    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return found[0]


def mj(joules: int) -> str:
    """Energy as the English page writes it: whole MJ, truncated toward zero."""
    return f"{joules // 10**6:,} MJ"


def tonnes(mg: int, decimals: int) -> str:
    """CO2 as the English page writes it: t-CO2 truncated (never rounded up) at `decimals`."""
    units = mg * 10**decimals // 10**9
    whole, frac = divmod(units, 10**decimals)
    return f"{whole:,}" + (f".{frac:0{decimals}d}" if decimals else "") + " t-CO2"


def radio(at: AppTest, label: str):
    found = [r for r in at.radio if r.label == label]
    assert found, f"no radio {label!r}: {[r.label for r in at.radio]}"
    return found[0]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def table_with(at: AppTest, column: str):
    """The first table (st.dataframe or st.table) whose columns include `column`."""
    for t in [*at.dataframe, *at.table]:
        if column in t.value.columns:
            return t.value
    raise AssertionError(f"no table with a column {column!r}: {[list(t.value.columns) for t in at.table]}")


# ---------------------------------------------------------------- independent counts from the events


def in_force(d) -> list[dict]:
    """The reports in force on chain: every ReportAccepted event (web3, from block 0) except those
    a correction superseded; each with its stored report's quality flags."""
    oracle = d.contract("ImpactOracle")
    events = [dict(e["args"]) for e in oracle.events.ReportAccepted().get_logs(from_block=0)]
    gone = {(e["facilityId"], e["supersedes"] - 1) for e in events if e["supersedes"]}
    out = [e for e in events if (e["facilityId"], e["index"]) not in gone]
    for e in out:
        e["qualityFlags"] = oracle.functions.report(e["facilityId"], e["index"]).call()[4]
    return out


def independent_coverage(d, facility: int, events: list[dict]) -> dict:
    """Hours reported, elapsed, estimated and the missing hour runs of a facility, counted from
    the events and the latest block's clock (not from the oracle's coverage views)."""
    start = d.contract("ImpactOracle").functions.facility(facility).call()[3]
    now = d.w3.eth.get_block("latest")["timestamp"]
    elapsed = (now - start) // HOUR
    hours = {e["periodStart"] for e in events if e["facilityId"] == facility}
    estimated = sum(1 for e in events if e["facilityId"] == facility and e["qualityFlags"] & 1)
    runs, run = [], None
    for h in range(elapsed):
        t = start + h * HOUR
        if t in hours:
            run = None
        elif run is not None and run[1] == t:
            run[1] = t + HOUR
        else:
            run = [t, t + HOUR]
            runs.append(run)
    return {"reported": len(hours), "elapsed": elapsed, "estimated": estimated, "gaps": [tuple(r) for r in runs]}


def allocation_share(d, facility: int, events: list[dict], window=None) -> tuple[int, int]:
    """The bond's share of a facility's reports in force (all, or those in [window)), by the
    oracle's rule recomputed here: per allocation period (the periods start at the facility's
    reportingStart and at every AllocationRecorded effectiveFrom after it), the period's sums x
    allocated / financed cost of the bond's version in force at the period's start, truncated
    toward zero."""
    oracle = d.contract("ImpactOracle")
    bond = d.contracts["GreenBond"]
    start = oracle.functions.facility(facility).call()[3]
    starts = [start]
    for e in oracle.events.AllocationRecorded().get_logs(from_block=0):
        if e["args"]["facilityId"] == facility and e["args"]["effectiveFrom"] > starts[-1]:
            starts.append(e["args"]["effectiveFrom"])
    versions = oracle.functions.allocations(facility, bond).call()
    j = mg = 0
    for k, p0 in enumerate(starts):
        p1 = starts[k + 1] if k + 1 < len(starts) else 2 ** 64
        mine = [e for e in events if e["facilityId"] == facility and p0 <= e["periodStart"] < p1
                and (window is None or window[0] <= e["periodStart"] < window[1])]
        force = [v for v in versions if v[0] <= p0]
        if not force or force[-1][1] == 0:
            continue
        _eff, alloc, cost = force[-1]
        pj, pmg = sum(e["energyReductionJ"] for e in mine), sum(e["co2AvoidedMg"] for e in mine)
        j += (abs(pj) * alloc // cost) * (1 if pj >= 0 else -1)
        mg += (abs(pmg) * alloc // cost) * (1 if pmg >= 0 else -1)
    return j, mg


# ---------------------------------------------------------------- the bond


def landing(lang: str | None = None) -> AppTest:
    """The app as a visitor opens it: app/main.py, whose default page is the overview."""
    at = AppTest.from_file(str(APP / "main.py"), default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_landing_page_answers_the_three_questions(env):
    """What the bond is, what the money did (the bond's share, with coverage and freshness), how
    to check it: each figure equal to the contracts' values."""
    d = env
    bond, oracle = d.contract("GreenBond"), d.contract("ImpactOracle")
    at = landing()
    assert metric(at, "Amount issued") == "JPY 10 bn" and bond.functions.issueVolume().call() == 10**10
    assert metric(at, "Coupon rate") == "0.598%" and metric(at, "Status") == "active"
    assert metric(at, "Next coupon") == "14 Dec 2026" or d.present > 1797174000
    _mj, _g, joules, mg = oracle.functions.bondTotals(d.contracts["GreenBond"]).call()
    assert metric(at, "Energy reduction since issuance") == mj(joules)
    assert metric(at, "CO2 avoided since issuance") == tonnes(mg, 1)
    reported, elapsed, _est = oracle.functions.bondCoverage(d.contracts["GreenBond"]).call()
    tenths = reported * 1000 // elapsed
    assert metric(at, "Coverage") == f"{tenths // 10}.{tenths % 10}%"
    latest = [m for m in at.metric if m.label == "Latest reported hour ended"][0]
    assert latest.value.endswith(" min ago") and latest.delta.endswith(" JST") and "–" in latest.delta
    assert "hours are missing" in texts(at.warning)              # the hole and the hours before the 72
    assert "Not in these figures: Demo rooftop solar plant" in texts(at.caption)
    links = [e.proto.label for e in at.get("page_link")]
    assert "Check a reading" in links and "All figures and charts" in links


def test_landing_page_in_japanese(env):
    at = landing("ja")
    assert metric(at, "発行額") == "100億円"
    assert metric(at, "利率") == "0.598%" and metric(at, "状態") == "有効"
    assert metric(at, "次回利払日").endswith("日")
    assert metric(at, "エネルギー削減量（発行以来）").endswith(" MJ")
    assert "計測値を検証する" in [e.proto.label for e in at.get("page_link")]


def test_bond_page_shows_the_contracts_values(env):
    d = env
    bond, sched, oracle = d.contract("GreenBond"), d.contract("CouponSchedule"), d.contract("ImpactOracle")
    at = page("bond.py")
    assert metric(at, "Outstanding units") == f"{bond.functions.totalSupply().call():,}"
    assert metric(at, "Amount issued") == f"JPY {bond.functions.issueVolume().call():,}"
    assert metric(at, "Denomination") == f"JPY {bond.functions.denomination().call():,}"
    assert bond.functions.couponRate().call() == 5_980 and metric(at, "Coupon rate") == "0.598%"
    assert metric(at, "Status") == "active"
    assert metric(at, "Issue date") == "14 Dec 2023" and metric(at, "Maturity date") == "14 Dec 2028"
    assert metric(at, "Next coupon") == "14 Dec 2026" or d.present > 1797174000
    md = texts(at.markdown)
    assert "PLACEHOLDER-JP-ISIN" in md and "placeholder" in md and "Hitachi, Ltd." in md
    schedule = at.dataframe[0].value
    assert len(schedule) == sched.functions.couponCount().call()
    states = ("scheduled", "funded", "paying", "paid", "late")
    assert list(schedule["state"]) == [states[sched.functions.couponStatus(i).call()] for i in range(len(schedule))]
    assert list(schedule["per unit"]) == [f"JPY {sched.functions.couponPerUnit(i).call():,}" for i in range(len(schedule))]
    docs = table_with(at, "hash on chain")
    assert list(docs["check"]) == ["matches", "matches"]
    for name, chain_hash in zip(docs["document"], docs["hash on chain"]):
        assert chain_hash == "0x" + bytes(bond.functions.getDocument(name.encode().ljust(32, b"\0")).call()[1]).hex()
    assert len(at.success) == 2 and not at.error
    facilities = table_with(at, "allocated")
    bond_address = d.contracts["GreenBond"]
    for f, row in zip(range(1, oracle.functions.facilityCount().call() + 1), facilities.itertuples(index=False)):
        versions = oracle.functions.allocations(f, bond_address).call()
        row = dict(zip(facilities.columns, row))
        if versions and versions[-1][1]:
            assert row["allocated"] == f"JPY {versions[-1][1]:,}" and row["financed cost"] == f"JPY {versions[-1][2]:,}"
            assert row["bond's share of its impact"] == "100%"
        else:
            assert row["allocated"] == "not financed by this bond" and row["bond's share of its impact"] == "none"
    assert list(facilities["allocated"]) == ["JPY 10,000,000,000", "not financed by this bond"]
    assert "JSON-RPC calls" in texts(at.caption)


# ---------------------------------------------------------------- impact


def test_impact_page_shows_totals_windows_and_freshness(env):
    d = env
    oracle = d.contract("ImpactOracle")
    bond = d.contracts["GreenBond"]
    at = page("impact.py")
    _mj, _g, joules, mg = oracle.functions.bondTotals(bond).call()
    assert metric(at, "Energy reduction since issuance") == mj(joules)
    assert metric(at, "CO2 avoided since issuance") == tonnes(mg, 1)
    end = max(oracle.functions.lastPeriodEnd(f).call() for f in (1, 2))
    figs = [f for fs in d.reports.values() for f in fs if end - 24 * 3600 <= f.period_start < end]
    assert len(figs) == 48
    building = [f for f in figs if f.facility_id == BUILDING]     # share 1: the bond's last 24 h are the building's
    assert metric(at, "Energy reduction, last 24 h") == mj(sum(f.energy_reduction_j for f in building))
    assert metric(at, "CO2 avoided, last 24 h") == tonnes(sum(f.co2_avoided_mg for f in building), 3)
    per_facility = table_with(at, "energy since issuance, bond's part")
    for f, row in zip((1, 2), per_facility.to_dict("records")):
        totals = oracle.functions.facilityTotals(f).call()
        attributed = oracle.functions.attributedTotals(f, bond).call()
        assert row["reports"] == f"{oracle.functions.reportCount(f).call():,}"
        assert row["energy since issuance, facility"] == mj(totals[2])
        assert row["CO2 since issuance, facility"] == tonnes(totals[3], 3)
        if f == BUILDING:
            assert row["energy since issuance, bond's part"] == mj(attributed[2])
            assert row["CO2 since issuance, bond's part"] == tonnes(attributed[3], 3)
            assert row["bond's share (allocated / financed cost)"] == "100% (10,000,000,000 / 10,000,000,000 JPY)"
        else:
            assert attributed == [0, 0, 0, 0] and totals[2] > 0
            assert row["energy since issuance, bond's part"] == "not financed by this bond"
            assert row["bond's share (allocated / financed cost)"] == "not financed by this bond"
    factors = table_with(at, "g-CO2/kWh")
    assert set(factors["status"]) == {"provisional"} and "FY2026" in set(factors["fiscal year"])
    assert "(in force)" in texts(at.markdown)
    fresh = table_with(at, "latest reported hour")
    assert list(fresh["state"]) == ["fresh", "fresh"] and not at.warning
    assert all("missing" in e for e in fresh["earlier hours"])      # the hours before the 72 are not reported
    assert "It says nothing about earlier hours" in texts(at.caption)
    assert len(at.get("vega_lite_chart")) == 4 or len(at.get("arrow_vega_lite_chart")) == 4
    assert "How the bond's share is computed" in [e.label for e in at.expander]
    assert "JSON-RPC calls" in texts(at.caption)


def test_bond_figures_exclude_the_unfinanced_solar_plant(env):
    """(a) The since-issuance figures are the building's attributable share (allocated 1e10 of a
    financed cost of 1e10: all of it), recomputed here from the events; the solar plant's own
    figures are on the page, in no figure of the bond."""
    d = env
    oracle = d.contract("ImpactOracle")
    bond = d.contracts["GreenBond"]
    events = in_force(d)
    share = allocation_share(d, BUILDING, events)
    building = (sum(e["energyReductionJ"] for e in events if e["facilityId"] == BUILDING),
                sum(e["co2AvoidedMg"] for e in events if e["facilityId"] == BUILDING))
    solar = (sum(e["energyReductionJ"] for e in events if e["facilityId"] == SOLAR),
             sum(e["co2AvoidedMg"] for e in events if e["facilityId"] == SOLAR))
    assert share == building and solar[0] > 0 and solar[1] > 0
    assert allocation_share(d, SOLAR, events) == (0, 0)
    v = pv.impact_view(pv.settings_from_env())
    assert (v.energy_reduction_j, v.co2_avoided_mg) == share == tuple(oracle.functions.bondTotals(bond).call()[2:])
    assert v.energy_reduction_j != building[0] + solar[0]
    assert [f.facility_id for f in v.financed] == [BUILDING] and [f.facility_id for f in v.not_financed] == [SOLAR]
    by_id = {f.facility_id: f for f in v.facilities}
    assert (by_id[SOLAR].energy_reduction_j, by_id[SOLAR].attributed_energy_j) == (solar[0], 0)
    assert by_id[SOLAR].allocation == "not financed by this bond"
    window = (v.window_start, v.window_end)
    assert (v.last24_energy_j, v.last24_co2_mg) == allocation_share(d, BUILDING, events, window)
    assert by_id[SOLAR].last24_energy_j > 0 and by_id[SOLAR].attributed_last24_energy_j == 0
    at = page("impact.py")
    covers = texts(at.caption)
    assert "Covers: the bond's share of Kyoso-to 100%; coverage " in covers
    assert "Not in these figures: Demo rooftop solar plant (not financed by this bond" in covers


def test_coverage_is_an_independent_count_of_the_reports(env):
    """(b) Coverage per facility and for the bond equals a count of the events in force against
    the latest block's clock; the page shows the bond's."""
    d = env
    events = in_force(d)
    v = pv.impact_view(pv.settings_from_env())
    for f in v.facilities:
        mine = independent_coverage(d, f.facility_id, events)
        c = f.coverage
        assert (c.hours_reported, c.hours_elapsed, c.estimated_hours) == (mine["reported"], mine["elapsed"], mine["estimated"])
        assert [(g.start, g.end) for g in c.gaps] == mine["gaps"]
        assert c.missing_hours == sum((b - a) // HOUR for a, b in mine["gaps"])
    building = independent_coverage(d, BUILDING, events)
    assert building["reported"] == HOURS - 1
    c = v.coverage        # bondCoverage: the building only
    assert (c.hours_reported, c.hours_elapsed, c.estimated_hours) == (building["reported"], building["elapsed"],
                                                                      building["estimated"])
    tenths = c.hours_reported * 1000 // c.hours_elapsed
    at = page("impact.py")
    assert metric(at, "Coverage") == f"{tenths // 10}.{tenths % 10}%"
    assert metric(at, "Hours reported") == f"{building['reported']:,}"
    assert metric(at, "Hours elapsed") == f"{building['elapsed']:,}"
    assert metric(at, "Hours estimated") == f"{building['estimated']:,}"
    assert metric(at, "Hours missing") == f"{building['elapsed'] - building['reported']:,}"
    assert (f"coverage {c.percent_text} ({building['reported']:,} h of {building['elapsed']:,} h reported), "
            f"{building['estimated']:,} h estimated, {building['elapsed'] - building['reported']:,} h missing"
            ) in texts(at.caption)


def test_a_missing_hour_shows_as_a_gap(env):
    """(c) The building's hour left out is a gap of one hour on the page, not a blank: in the
    missing-hours table, in the counts and in the freshness table's 'earlier hours'."""
    d = env
    hole = missing_hour(d)
    oracle = d.contract("ImpactOracle")
    assert not oracle.functions.isReported(BUILDING, hole).call() and oracle.functions.isReported(SOLAR, hole).call()
    v = pv.impact_view(pv.settings_from_env())
    building = next(f for f in v.facilities if f.facility_id == BUILDING)
    assert pv.Gap(BUILDING, hole, hole + HOUR) in building.coverage.gaps
    assert len(building.coverage.gaps) == 2        # before the first reported hour, and the hole
    at = page("impact.py")
    gaps = table_with(at, "missing from")
    tz = ZoneInfo(d.terms.timezone)
    rows = gaps.to_dict("records")
    en = Formats("en")
    assert {"facility": "Kyoso-to", "missing from": en.time(hole, tz),
            "missing until": en.time(hole + HOUR, tz), "Hours missing": "1"} in rows
    assert sum(1 for r in rows if r["facility"] == "Demo rooftop solar plant") == 1
    cov = table_with(at, "Hours missing")
    row = cov[cov["facility"] == "Kyoso-to"].iloc[0]
    assert row["gaps"] == "2" and row["Coverage"] != "100.0%"
    assert f"Missing hours ({len(v.gaps)} gaps" in texts(at.markdown)
    fresh = table_with(at, "earlier hours")
    assert fresh.iloc[0]["earlier hours"].endswith(f"{building.coverage.missing_hours:,} h missing")


def test_impact_csv_has_every_report(env):
    v = pv.impact_view(pv.settings_from_env())
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(v.csv)))
    assert sum(r["coverage"] == "reported" for r in rows) == 2 * HOURS - 1
    # one row per closed hour since each facility's reporting start: a gap is a row, never a blank
    assert len(rows) == sum(f.coverage.hours_elapsed for f in v.facilities)
    assert sum(r["coverage"] == "missing" for r in rows) == sum(f.coverage.missing_hours for f in v.facilities)
    assert v.report_count == 2 * HOURS - 1
    assert sum(v.daily["energy_mj"]) == pytest.approx(sum(f.energy_reduction_j for f in v.facilities) / 1e6)


def test_impact_warns_when_data_is_stale(env):
    v = pv.impact_view(pv.settings_from_env(), now=env.present + 3 * 3600 + 1)
    assert all(f.stale for f in v.freshness) and v.any_stale
    assert all("this says nothing about earlier hours, and some are missing" in f.note for f in v.freshness)


# ---------------------------------------------------------------- verify


def test_verify_page_checks_a_real_hour(env):
    at = page("verify.py")
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
    md = texts(at.markdown)
    assert "Published file `facility-1/" in md and "the same" in md and "DIFFERENT" not in md
    assert "The file is byte for byte the one the operator's index lists." in texts(at.caption)


def test_verify_page_fails_for_a_tampered_value(env):
    at = page("verify.py")
    at.checkbox[0].check().run()
    at.number_input[1].set_value(123).run()
    assert not at.exception
    assert "Check failed: reading #1" in texts(at.error)
    readings = at.dataframe[0].value
    assert readings["verifyReading"].iloc[0] == "FALSE" and readings["Wh"].iloc[0] == "123"
    assert "DIFFERENT" in texts(at.markdown)


def test_verify_one_reading_of_the_solar_plant(env):
    at = page("verify.py")
    at.selectbox[0].set_value(2).run()
    radio(at, "Check").set_value("one").run()
    at.number_input[0].set_value(2).run()
    assert "Verified: the reading" in texts(at.success)
    assert list(at.dataframe[0].value["verifyReading"]) == ["", "true"]


# ---------------------------------------------------------------- my holding


def test_holding_page_shows_units_coupons_and_claimable(env):
    d = env
    bond, sched, reg = d.contract("GreenBond"), d.contract("CouponSchedule"), d.contract("HolderRegistry")
    wallet = d.accounts[3]   # the investor who leaves later coupons unclaimed
    at = page("holding.py")
    at.text_input(key="address").input(wallet).run()
    assert not at.exception and not at.error, texts(at.error)
    units = bond.functions.balanceOf(wallet).call()
    assert metric(at, "Units") == f"{units:,}"
    assert metric(at, "Face value") == f"JPY {bond.functions.principalOf(wallet).call():,}"
    assert metric(at, "Eligible to hold") == ("yes" if reg.functions.isEligible(wallet).call() else "no")
    assert f"Redemption: JPY {units * sched.functions.redemptionPerUnit().call():,} at par" in texts(at.caption)
    n = sched.functions.couponCount().call()
    claimable = sum(sched.functions.couponOf(wallet, i).call() for i in range(n)
                    if sched.functions.couponStatus(i).call() == 2 and sched.functions.paymentOf(wallet, i).call() == 0)
    assert claimable > 0 and metric(at, "Claimable now") == f"JPY {claimable:,}"
    paid = sched.events.CouponPaid().get_logs(from_block=0, argument_filters={"holder": wallet})
    assert metric(at, "Coupons received") == f"JPY {sum(e['args']['amount'] for e in paid):,}"
    table = at.dataframe[0].value
    assert list(table["paid"])[:1] == ["on chain"] and "claimable" in set(table["for this wallet"])


def test_holding_page_off_chain_investor(env):
    d = env
    at = page("holding.py")
    at.text_input(key="address").input(d.accounts[5].lower()).run()
    sched = d.contract("CouponSchedule")
    paid = sched.events.CouponPaid().get_logs(from_block=0, argument_filters={"holder": d.accounts[5]})
    assert not paid and metric(at, "Coupons received") != "JPY 0"   # every coupon of this investor was paid off chain
    assert "off chain" in set(at.dataframe[0].value["paid"])


@pytest.mark.parametrize("text, words", [
    ("0x123", "is not a wallet address"),
    ("hello", "is not a wallet address"),
    ("0x976EA74026E726554dB657fA54763abd0C3a0aA9", "wrong checksum"),
])
def test_holding_page_bad_address_is_a_sentence(env, text, words):
    at = page("holding.py")
    at.text_input(key="address").input(text).run()
    assert not at.exception and words in texts(at.error)


def test_holding_page_not_a_holder(env):
    at = page("holding.py")
    at.text_input(key="address").input(env.accounts[9]).run()
    assert not at.exception and "is not a holder of this bond" in texts(at.error)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["bond.py", "impact.py", "verify.py"])
def test_node_down_is_a_sentence(monkeypatch, name):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("GREENBOND_RPC_URL", url)
    at = page(name)
    err = texts(at.error)
    assert "is unreachable" in err and "Traceback" not in err
    assert url not in err and "(server setting)" in err       # the server's node is not the visitor's business


def test_no_deployment_is_a_sentence(env, monkeypatch, tmp_path):
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(tmp_path))
    at = page("bond.py")
    assert "no deployment on this chain" in texts(at.error).lower()


def test_no_published_readings_is_a_sentence(env, monkeypatch, tmp_path):
    monkeypatch.setenv("GREENBOND_PUBLISHED_DIR", str(tmp_path))
    at = page("verify.py")
    err = texts(at.error)
    assert "published" in err and "Traceback" not in err and str(tmp_path) not in err


def test_rpc_calls_are_counted_and_batched(env):
    pv.forget_sessions()
    before = pv.rpc_stats()
    pv.impact_view(pv.settings_from_env())
    d = pv.rpc_delta(before)
    assert d["by_method"].get("eth_getLogs", 0) <= 4
    assert d["requests"] < 20 and d["calls"] > d["requests"]



def test_bond_page_says_when_there_is_no_offering(env):
    """The test chain issues units directly (no Offering, no DvP): the page says so in sentences."""
    at = page("bond.py")
    assert "No on-chain offering on this chain" in texts(at.info)
    assert "No DvP contract on this chain" in texts(at.caption)
