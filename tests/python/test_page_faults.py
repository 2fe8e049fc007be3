"""The investor page's data layer (greenbond/pageview/) survives a chain reorganisation and the
RPC node restarting, in one process, with its cached session.

A private Anvil keeps its chain in a state file (greenbond.chain.localnode.start_anvil, as `make demo`
does), with the suite deployed (tests/python/feeder_chain.py). The feeder computes and signs
hourly reports for a few days into its store without sending them; each test submits the hours
it chooses, in transactions it controls, so that it knows which reports a reorganisation takes
away. After every change the page's figures must equal an independent sum over the canonical
chain's ReportAccepted events (read with web3, not through the page's log cache): the bond's
figures are its share of the building (the solar plant has no allocation), recomputed here by the
oracle's rule; coverage and the missing hours are counted from the events and the block's clock:
- `anvil_reorg` replaces the blocks of two report transactions with blocks holding another one:
  those reports vanish from the page and the new ones appear;
- `evm_snapshot`/`evm_revert`: the chain gets shorter, then longer than it was with other blocks;
- a reorganisation landing in the middle of the page's read of the logs: the next read is right;
- the node stops (the page says so in a sentence) and starts again from its state file on the
  same port: the page reads the same figures without a restart of its process;
- the same through the Streamlit Impact page (streamlit.testing.v1.AppTest);
- an hour left out is a gap, and reported late (the oracle takes any unreported closed hour) the
  gap is gone.

Run inside a private network namespace:
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie -q tests/python/test_page_faults.py'
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from greenbond import pageview as pv
from greenbond.impact.facilities import load_facilities

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

START = int(load_facilities()[0].reporting_start.timestamp())   # 2023-12-14 00:00 JST
SEED = 5
HOUR = 3600
DAY = 86_400
APP = Path(__file__).resolve().parents[2] / "app"


def day(n: int) -> int:
    return START + n * DAY


def hours(start: int, n: int) -> list[tuple[int, int]]:
    """(facility, period_start) of both facilities for n hours from `start`, in submission order."""
    return [(f, start + h * HOUR) for h in range(n) for f in (1, 2)]


class PageChain:
    """The chain, the feeder's signed reports, and the means to submit them, stop and restart."""

    def __init__(self, directory: Path):
        from feeder_chain import Chain

        from greenbond.feeder.service import Feeder
        from greenbond.feeder.store import FeederStore

        self.chain = Chain(directory, genesis=START + 10 * DAY)
        try:
            feeder = Feeder(rpc_url=self.chain.url, db_path=directory / "feeder.sqlite",
                            deployments_dir=self.chain.deployments, seed=SEED)
            try:
                assert feeder.backfill(day(0), day(4), transmit=False)["hours_new"] == 4 * 48
            finally:
                feeder.close()
            self.store = FeederStore(directory / "feeder.sqlite", readonly=True)
        except BaseException:
            self.chain.stop()
            raise
        self.url = self.chain.url
        self.settings = pv.PageSettings(rpc_url=self.url, deployments_dir=str(self.chain.deployments))

    # -- reports

    def raw_submit(self, keys: list[tuple[int, int]], nonce: int) -> bytes:
        """A signed submitReports transaction of the stored reports of `keys` (the transmitter's)."""
        from eth_account import Account

        from greenbond.feeder.keys import DEV_TRANSMITTER_KEY
        from greenbond.feeder.store import report_from_json, signatures_from_json
        from greenbond.feeder.transmit import encode_submit_reports

        entries = [self.store.entry(f, s) for f, s in keys]
        data = encode_submit_reports([report_from_json(e.report).as_tuple() for e in entries],
                                     [signatures_from_json(e.signatures) for e in entries])
        tx = {"to": self.chain.oracle_address, "data": data, "value": 0, "nonce": nonce, "gas": 8_000_000,
              "gasPrice": 0, "chainId": 31337}
        return bytes(Account.sign_transaction(tx, DEV_TRANSMITTER_KEY).raw_transaction)

    def nonce(self) -> int:
        from eth_account import Account

        from greenbond.feeder.keys import DEV_TRANSMITTER_KEY

        return self.chain.w3().eth.get_transaction_count(Account.from_key(DEV_TRANSMITTER_KEY).address, "pending")

    def submit(self, keys: list[tuple[int, int]]) -> int:
        """Submits the reports in one transaction, mined at once; returns its nonce."""
        w3 = self.chain.w3()
        nonce = self.nonce()
        tx_hash = w3.eth.send_raw_transaction(self.raw_submit(keys, nonce))
        assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)["status"] == 1
        return nonce

    # -- the node

    def stop_node(self) -> None:
        """SIGINT: Anvil writes its state file and exits."""
        self.chain.node.stop()

    def start_node(self) -> None:
        """Anvil again on the same port, from its state file."""
        from greenbond.chain.localnode import start_anvil

        self.chain.node = start_anvil(self.chain.workdir / "anvil-state.json", port=self.chain.port,
                                      genesis_timestamp=None, log_file=self.chain.workdir / "anvil.log")


@pytest.fixture(scope="module")
def pc(tmp_path_factory):
    c = PageChain(tmp_path_factory.mktemp("page-faults"))
    yield c
    c.store.close()
    c.chain.stop()
    pv.forget_sessions()


# ---------------------------------------------------------------- the independent sums


def canonical(pc: PageChain) -> list[dict]:
    """The reports in force on the canonical chain: every ReportAccepted event (web3 get_logs
    from block 0) except those a correction superseded."""
    events = pc.chain.accepted()
    superseded = {(e["facilityId"], e["supersedes"] - 1) for e in events if e["supersedes"]}
    return [e for e in events if (e["facilityId"], e["index"]) not in superseded]


def _tx(h: str) -> str:
    return h.lower().removeprefix("0x")


def csv_rows(view: pv.ImpactView) -> list[tuple]:
    return sorted((int(r["facility_id"]), int(r["report_index"]), int(r["energy_reduction_j"]),
                   int(r["co2_avoided_mg"]), _tx(r["tx_hash"])) for r in csv.DictReader(io.StringIO(view.csv))
                  if r["coverage"] == "reported")


def bond_share(pc: PageChain, eff: list[dict], facility: int, window: tuple[int, int] | None = None) -> tuple[int, int]:
    """The bond's share of a facility's reports in force (all, or those in [window)), by the
    oracle's rule recomputed from the chain's own records: per allocation period (a period starts
    at the facility's reportingStart and at every AllocationRecorded effectiveFrom after it), the
    period's sums x allocated / financed cost of the bond's version in force at its start,
    truncated toward zero."""
    oracle = pc.chain.oracle()
    bond = oracle.functions.feedBond().call()
    starts = [oracle.functions.facility(facility).call()[3]]
    for e in oracle.events.AllocationRecorded().get_logs(from_block=0):
        if e["args"]["facilityId"] == facility and e["args"]["effectiveFrom"] > starts[-1]:
            starts.append(e["args"]["effectiveFrom"])
    versions = oracle.functions.allocations(facility, bond).call()
    j = mg = 0
    for k, p0 in enumerate(starts):
        p1 = starts[k + 1] if k + 1 < len(starts) else 2 ** 64
        force = [v for v in versions if v[0] <= p0]
        if not force or force[-1][1] == 0:
            continue
        _eff, alloc, cost = force[-1]
        mine = [e for e in eff if e["facilityId"] == facility and p0 <= e["periodStart"] < p1
                and (window is None or window[0] <= e["periodStart"] < window[1])]
        pj, pmg = sum(e["energyReductionJ"] for e in mine), sum(e["co2AvoidedMg"] for e in mine)
        j += (abs(pj) * alloc // cost) * (1 if pj >= 0 else -1)
        mg += (abs(pmg) * alloc // cost) * (1 if pmg >= 0 else -1)
    return j, mg


def hours_count(pc: PageChain, eff: list[dict], facility: int, block: int) -> tuple[int, int, list[tuple[int, int]]]:
    """(hours reported, hours elapsed, missing hour runs) of a facility, from the events in force
    and the clock of `block`."""
    start = pc.chain.oracle().functions.facility(facility).call()[3]
    elapsed = (pc.chain.w3().eth.get_block(block)["timestamp"] - start) // HOUR
    reported = {e["periodStart"] for e in eff if e["facilityId"] == facility}
    runs: list[list[int]] = []
    for h in range(elapsed):
        t = start + h * HOUR
        if t in reported:
            continue
        if runs and runs[-1][1] == t:
            runs[-1][1] = t + HOUR
        else:
            runs.append([t, t + HOUR])
    return len(reported), elapsed, [tuple(r) for r in runs]


def assert_view_is_the_chain(view: pv.ImpactView, pc: PageChain) -> None:
    eff = canonical(pc)
    oracle = pc.chain.oracle()
    assert view.bond == oracle.functions.feedBond().call()
    assert view.report_count == len(eff)
    assert csv_rows(view) == sorted((e["facilityId"], e["index"], e["energyReductionJ"], e["co2AvoidedMg"], _tx(e["tx"]))
                                    for e in eff)
    all_j, all_mg = sum(e["energyReductionJ"] for e in eff), sum(e["co2AvoidedMg"] for e in eff)
    # the bond's figures: its share of the building only (the solar plant is not financed by it)
    assert (view.energy_reduction_j, view.co2_avoided_mg) == bond_share(pc, eff, 1)
    assert bond_share(pc, eff, 2) == (0, 0)
    assert (view.energy_reduction_j, view.co2_avoided_mg) == (
        sum(e["energyReductionJ"] for e in eff if e["facilityId"] == 1),
        sum(e["co2AvoidedMg"] for e in eff if e["facilityId"] == 1))                  # share 1
    assert view.daily["energy_mj"].sum() == pytest.approx(all_j / 1e6, rel=1e-12, abs=1e-6)
    assert view.monthly["co2_t"].sum() == pytest.approx(all_mg / 1e9, rel=1e-12, abs=1e-9)
    end = max(oracle.functions.lastPeriodEnd(f).call() for f in (1, 2))
    window = [e for e in eff if end - 24 * HOUR <= e["periodStart"] < end]
    assert (view.window_start, view.window_end) == (end - 24 * HOUR, end)
    assert (view.last24_energy_j, view.last24_co2_mg) == bond_share(pc, eff, 1, (end - 24 * HOUR, end))
    assert len(view.hourly) == len(window)
    for fi in view.facilities:
        mine = [e for e in window if e["facilityId"] == fi.facility_id]
        assert fi.report_count == oracle.functions.reportCount(fi.facility_id).call()
        assert (fi.energy_reduction_j, fi.co2_avoided_mg) == (
            sum(e["energyReductionJ"] for e in eff if e["facilityId"] == fi.facility_id),
            sum(e["co2AvoidedMg"] for e in eff if e["facilityId"] == fi.facility_id))
        assert (fi.attributed_energy_j, fi.attributed_co2_mg) == bond_share(pc, eff, fi.facility_id)
        assert (fi.last24_energy_j, fi.last24_co2_mg) == (sum(e["energyReductionJ"] for e in mine),
                                                          sum(e["co2AvoidedMg"] for e in mine))
        reported, elapsed, runs = hours_count(pc, eff, fi.facility_id, view.block)
        assert (fi.coverage.hours_reported, fi.coverage.hours_elapsed) == (reported, elapsed)
        assert [(g.start, g.end) for g in fi.coverage.gaps] == runs
        assert fi.window_hours_reported == len({e["periodStart"] for e in mine})
    reported, elapsed, runs = hours_count(pc, eff, 1, view.block)
    assert (view.coverage.hours_reported, view.coverage.hours_elapsed) == (reported, elapsed)   # bondCoverage
    assert [(g.start, g.end) for g in view.coverage.gaps] == runs
    assert not view.problems


def assert_overview_is_the_chain(o: pv.BondOverview, pc: PageChain) -> None:
    """The Bond overview reads the canonical chain's latest block (views, no logs)."""
    latest = pc.chain.w3().eth.get_block("latest")
    bond = pc.chain.contract("GreenBond", o.addresses["GreenBond"])
    assert o.block == latest["number"]
    assert o.outstanding_units == bond.functions.totalSupply().call()
    oracle = pc.chain.oracle()
    for f in o.facilities:
        versions = oracle.functions.allocations(f.facility_id, bond.address).call()
        in_force = [v for v in versions if v[0] <= latest["timestamp"]]
        allocated, cost = (in_force[-1][1], in_force[-1][2]) if in_force and in_force[-1][1] else (0, 0)
        assert (f.allocated_proceeds, f.financed_cost) == (allocated, cost)
    assert [f.financed for f in o.facilities] == [True, False]
    assert o.facilities[1].allocation == "not financed by this bond"


def figures(view: pv.ImpactView) -> tuple:
    return (view.report_count, view.energy_reduction_j, view.co2_avoided_mg, view.last24_energy_j,
            view.last24_co2_mg, view.window_start, view.window_end, view.csv, view.coverage,
            [(f.attributed_energy_j, f.coverage) for f in view.facilities])


# ---------------------------------------------------------------- reorganisations


def test_page_follows_an_anvil_reorg(pc):
    """Three report transactions; `anvil_reorg` replaces the blocks of the last two with blocks
    holding another transaction (hours never on chain before). The same cached session shows the
    canonical chain: the 24 vanished reports are gone, the 6 new ones are there."""
    pv.forget_sessions()
    pc.submit(hours(day(0), 6))
    second = pc.submit(hours(day(0) + 6 * HOUR, 6))
    pc.submit(hours(day(0) + 12 * HOUR, 6))
    before = pv.impact_view(pc.settings)
    assert_view_is_the_chain(before, pc)
    assert before.report_count == 36
    assert_overview_is_the_chain(pv.bond_overview(pc.settings), pc)
    session = pv.session(pc.url, pc.settings.deployments_dir)
    stale = {r[4] for r in csv_rows(before)}

    appear = hours(day(1), 3)
    tip = pc.chain.w3().eth.get_block("latest")
    pc.chain.rpc("anvil_reorg", [2, [["0x" + pc.raw_submit(appear, second).hex(), 1]]])
    assert pc.chain.w3().eth.get_block("latest")["hash"] != tip["hash"]

    after = pv.impact_view(pc.settings)
    assert pv.session(pc.url, pc.settings.deployments_dir) is session
    assert_view_is_the_chain(after, pc)
    assert after.report_count == 12 + 6
    hours_shown = {(r[0], r[1]) for r in csv_rows(after)}
    assert len(hours_shown) == 18
    assert {_tx(e["tx"]) for e in canonical(pc)} - stale            # a transaction the page had not seen
    assert after.window_end == day(1) + 3 * HOUR
    assert_overview_is_the_chain(pv.bond_overview(pc.settings), pc)


def test_page_follows_snapshot_reverts(pc):
    """`evm_revert` makes the chain shorter than the page read it (its last block is gone), and
    then, after another revert, longer than it was with different blocks (its last block number
    exists with another hash): each time the figures are the canonical chain's."""
    snap = pc.chain.rpc("evm_snapshot")
    pc.submit(hours(day(2), 6))
    pc.submit(hours(day(2) + 6 * HOUR, 6))
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    with_day2 = v.report_count

    assert pc.chain.rpc("evm_revert", [snap]) is True               # shorter
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    assert v.report_count == with_day2 - 24

    snap = pc.chain.rpc("evm_snapshot")
    for k in range(3):
        pc.submit(hours(day(2) + 4 * k * HOUR, 4))
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    tip = pc.chain.w3().eth.block_number

    assert pc.chain.rpc("evm_revert", [snap]) is True
    for k in range(4):                                               # longer, other blocks
        pc.submit(hours(day(3) + 2 * k * HOUR, 2))
    assert pc.chain.w3().eth.block_number > tip
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    assert v.report_count == with_day2 - 24 + 16
    assert v.window_end == day(3) + 8 * HOUR


def test_page_recovers_from_a_reorg_in_the_middle_of_its_read(pc, monkeypatch):
    """A reorganisation lands while the page is reading the logs (right after eth_getLogs
    answered, injected through the session's provider): that read may show the old branch, but
    the next read in the same session shows the canonical chain. (The cache keeps the hash of the
    last block it read from before reading its logs, so the change shows at the next read.)"""
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    session = pv.session(pc.url, pc.settings.deployments_dir)
    old = hours(day(3) + 12 * HOUR, 2)
    nonce = pc.submit(old)
    other = pc.raw_submit(hours(day(3) + 14 * HOUR, 2), nonce)      # the other branch: other hours, same nonce
    provider = session.w3.provider
    make_request = provider.make_request
    armed = [True]

    def reorg_after_get_logs(method, params):
        response = make_request(method, params)
        if method == "eth_getLogs" and armed:
            armed.clear()
            pc.chain.rpc("anvil_reorg", [1, [["0x" + other.hex(), 0]]])
        return response

    monkeypatch.setattr(provider, "make_request", reorg_after_get_logs)
    pv.impact_view(pc.settings)                # read across the reorganisation: may be the old branch
    assert not armed
    v = pv.impact_view(pc.settings)
    assert pv.session(pc.url, pc.settings.deployments_dir) is session
    assert_view_is_the_chain(v, pc)
    assert v.window_end == day(3) + 16 * HOUR                       # the other branch's hours (the old: + 14 h)


# ---------------------------------------------------------------- the node restarts


def test_page_survives_the_node_restarting(pc):
    """The node restarts while the page is idle: the same cached session reads the same figures.
    The node is down while the page reads: every page function raises a PageError sentence.
    It comes back on the same port from its state file: the page reads the same figures again,
    without a restart of the page's process."""
    pc.submit(hours(day(3) + 18 * HOUR, 6))
    first = pv.impact_view(pc.settings)
    assert_view_is_the_chain(first, pc)
    overview = pv.bond_overview(pc.settings)
    session = pv.session(pc.url, pc.settings.deployments_dir)
    names = pv.facility_names(pc.settings)

    pc.stop_node()
    pc.start_node()
    again = pv.impact_view(pc.settings)
    assert pv.session(pc.url, pc.settings.deployments_dir) is session
    assert figures(again) == figures(first)
    assert pv.bond_overview(pc.settings) == overview

    pc.stop_node()
    for call in (lambda: pv.impact_view(pc.settings), lambda: pv.bond_overview(pc.settings),
                 lambda: pv.facility_names(pc.settings), lambda: pv.report_hours(pc.settings, 1)):
        with pytest.raises(pv.PageError) as err:
            call()
        message = str(err.value)
        assert f"The RPC node at {pc.url} is unreachable" in message and "Traceback" not in message

    pc.start_node()
    back = pv.impact_view(pc.settings)
    assert figures(back) == figures(first)
    assert_view_is_the_chain(back, pc)
    assert pv.bond_overview(pc.settings) == overview
    assert pv.facility_names(pc.settings) == names


def test_impact_page_survives_the_node_restarting(pc, monkeypatch):
    """The Streamlit Impact page (AppTest, in this process): figures, then a sentence while the
    node is down, then the same figures when it is back. The page caches chain reads for a TTL;
    the caches are cleared between runs as its 'Reload from the chain' button does."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GREENBOND_RPC_URL", pc.url)
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", pc.settings.deployments_dir)

    def run(at):
        st.cache_data.clear()
        st.cache_resource.clear()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return {m.label: m.value for m in at.metric}, "\n".join(str(e.value) for e in at.error)

    at = AppTest.from_file(str(APP / "views" / "impact.py"), default_timeout=120)
    shown, errors = run(at)
    assert not errors
    oracle = pc.chain.oracle()
    _mj, _g, joules, _mg = oracle.functions.bondTotals(oracle.functions.feedBond().call()).call()
    assert shown["Energy reduction since issuance"] == f"{joules // 10**6:,} MJ"

    pc.stop_node()
    try:
        down, errors = run(at)
        assert "is unreachable" in errors and "Traceback" not in errors
        assert "Energy reduction since issuance" not in down
    finally:
        pc.start_node()
    back, errors = run(at)
    assert not errors and back == shown


# ---------------------------------------------------------------- a gap, filled late


def test_a_missing_hour_is_a_gap_until_it_is_reported_late(pc):
    """The building's hours day 2, 00:00-04:00 are sent but for 01:00 (the solar plant's all
    four): the page shows that hour as a one-hour gap of the building (in its coverage and the
    bond's), and the bond's coverage counts it missing. Sent late, after later hours, the oracle
    takes it, and the gap is gone with the coverage one hour higher; every figure equals the
    independent count each time."""
    hole = day(2) + HOUR
    keys = [(f, day(2) + h * HOUR) for h in range(4) for f in (1, 2) if (f, day(2) + h * HOUR) != (1, hole)]
    pc.submit(keys)
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    building = next(f for f in v.facilities if f.facility_id == 1)
    solar = next(f for f in v.facilities if f.facility_id == 2)
    assert pv.Gap(1, hole, hole + HOUR) in building.coverage.gaps and pv.Gap(1, hole, hole + HOUR) in v.coverage.gaps
    assert not any(g.start <= hole < g.end for g in solar.coverage.gaps)
    before = v.coverage.hours_reported

    pc.submit([(1, hole)])
    v = pv.impact_view(pc.settings)
    assert_view_is_the_chain(v, pc)
    building = next(f for f in v.facilities if f.facility_id == 1)
    assert not any(g.start <= hole < g.end for g in building.coverage.gaps)
    assert v.coverage.hours_reported == before + 1
