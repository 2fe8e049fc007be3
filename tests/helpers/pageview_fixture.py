"""A demo-like chain for the investor page's tests and benchmark, on a private Anvil.

`DemoLikeChain.build(tmp_dir)` starts Anvil on a free port with its clock at the day before the
default bond's issue date, deploys the suite with `greenbond.deploy.deploy_suite` (web3, as
`greenbond deploy` does), and then tells the demo's own story (greenbond.demo_story, as
`make demo` does, with Anvil's unlocked accounts): registers the five investors (details sealed
to a fresh issuer key), issues the units on the issue date, trades before record dates, pays
every coupon that fell due before the present (one investor off chain, one pushed, the others
claim; investor 3 leaves its coupons after the first to claim) and brings the clock to the
present. Unlike the demo, the units are minted directly (batchMint): no Offering and no DvP, a
chain on which the pages say there is no on-chain offering. `report_hours` simulates meter readings
(greenbond.meters.simulator), computes the hourly figures (greenbond.impact.hourly), signs them
with the dev signer keys and submits them in batches; the figures, raw readings and signed
reports also go to a feeder database (greenbond.feeder.store.FeederStore), are marked confirmed
there from the ReportAccepted events of the transactions, and are published as the operator
publishes them (greenbond.published.publish into `chain.published_dir`, <dir>/published), which
is what the Verify page reads.

Nothing here is used by the page itself; it exists so the page can be tested on a real chain.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from web3 import Web3

from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, load_terms
from greenbond.chain.localnode import AnvilProcess, advance_to, free_port, start_anvil

from greenbond import demo_story as story
from greenbond.demo_story import DAY, HOUR

# (account index, customer id, name, units): the demo's five investors (fictitious)
INVESTORS = tuple((i.account_index, i.identifier, i.name, i.units) for i in story.DEMO_INVESTORS)
TRADES = story.DEMO_TRADES   # (coupon index, seller, buyer, units)
CLAIMABLE_INVESTOR = 3       # claims its first coupon only: the later ones stay claimable on the pages


def personal_details(account_index: int) -> tuple[str, str]:
    """A fictitious postal address and e-mail for a demo investor: distinctive strings a test can
    search every public page and download for (none may ever appear there)."""
    return (f"{account_index}-{account_index + 2}-{account_index + 7} Marunouchi, Chiyoda-ku, Tokyo 100-000{account_index}",
            f"ir-desk-{account_index}@investor{account_index}.example.jp")



class FixtureError(AssertionError):
    """The fixture could not build what a test needs (a test failure, not an error in the product)."""


def wait_for(condition, timeout: float, what: str, poll: float = 0.05):
    """Polls `condition` until it returns a true value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise FixtureError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)  # polling a condition, not synchronising on time


def deploy(w3: Web3, deployments_dir: Path, bond_config: Path = DEFAULT_BOND_CONFIG) -> dict:
    """Deploys the suite with greenbond.deploy.deploy_suite over web3, as `greenbond deploy` does;
    returns {contract name: address}."""
    from greenbond.chain.tx import Signer
    from greenbond.deploy import deploy_suite

    suite = deploy_suite(
        w3, Signer(w3.eth.accounts[0]), load_terms(bond_config), network_name="development", development=True,
        bond_config=os.path.relpath(bond_config, REPO_ROOT), log=lambda _m: None, directory=deployments_dir,
    )
    return {name: rec.address for name, rec in suite.deployment.contracts.items()}


# ---------------------------------------------------------------- the chain


@dataclass
class DemoLikeChain:
    anvil: AnvilProcess
    w3: Web3
    deployments_dir: Path
    readings_db: Path
    issuer_key: Path
    contracts: dict
    terms: object
    accounts: list[str]
    present: int
    reports: dict = field(default_factory=dict)    # facility id -> list of HourlyFigure submitted

    @classmethod
    def build(cls, directory: Path, *, present: int | None = None, lifecycle: bool = True,
              chain_id: int = 31337, gas_limit: int = 30_000_000) -> "DemoLikeChain":
        from greenbond.chain import open_suite
        from greenbond.holders import HolderDetails, generate_issuer_key, load_investor_id_salt, load_issuer_public_key

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        terms = load_terms(DEFAULT_BOND_CONFIG)
        present = present or (int(time.time()) // HOUR * HOUR)
        genesis = terms.timestamp(terms.issue_date) - DAY
        anvil = start_anvil(genesis_timestamp=genesis, chain_id=chain_id, gas_limit=gas_limit,
                            log_file=directory / "anvil.log")
        try:
            deployments_dir = directory / "deployments"
            w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 120}))
            contracts = deploy(w3, deployments_dir)
            key_path = directory / "keys" / "issuer.key"
            generate_issuer_key(key_path)
            self = cls(anvil=anvil, w3=w3, deployments_dir=deployments_dir, readings_db=directory / "feeder.sqlite",
                       issuer_key=key_path, contracts=contracts, terms=terms, accounts=list(w3.eth.accounts),
                       present=present)
            public_key, salt = load_issuer_public_key(key_path), load_investor_id_salt(key_path)
            suite = open_suite(w3, deployments_dir)
            story.register_investors(
                w3, suite, terms, self.accounts, public_key, salt,
                details=lambda inv: HolderDetails(inv.name, *personal_details(inv.account_index), "corporation"))
            story.issue_by_mint(w3, suite, terms, self.accounts)
            if lifecycle:
                story.run_lifecycle(w3, suite, terms, self.accounts, present, leave_claimable=CLAIMABLE_INVESTOR)
            return self
        except BaseException:
            anvil.stop()
            raise

    @property
    def published_dir(self) -> Path:
        """Where `report_hours` publishes the readings of the hours it reports (GREENBOND_PUBLISHED_DIR)."""
        return self.readings_db.parent / "published"

    # -- plumbing

    def contract(self, name: str):
        from greenbond.chain import load_abi

        abi_name = "SettlementToken" if name == "SettlementToken" else name
        return self.w3.eth.contract(address=self.contracts[name], abi=load_abi(abi_name))

    def send(self, fn, sender: str | None = None, gas: int | None = None):
        tx = {"from": sender or self.accounts[0], "gasPrice": 0}
        if gas:
            tx["gas"] = gas
        tx_hash = fn.transact(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise FixtureError(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def goto(self, ts: int) -> None:
        """Mines a block at `ts` when the chain's clock is before it."""
        advance_to(self.w3, ts)

    def stop(self) -> None:
        self.anvil.stop()

    # -- impact reports

    def report_hours(self, start: int, end: int, *, batch: int = 100, threshold: int | None = None,
                     signer_keys=None, store_readings: bool = True, seed: int = 7,
                     skip: Iterable[tuple[int, int]] = ()) -> int:
        """Simulates readings for [start, end) (hours), submits each facility's hourly reports
        signed by the dev signers (`threshold` of them), stores the raw readings; returns the count.
        The hours in `skip`, (facility id, period start) pairs, are left out (neither sent nor
        stored): missing hours, a gap on chain. With `store_readings`, the stored reports are
        then marked confirmed (block and report index from their ReportAccepted events) and the
        store's confirmed hours published to `published_dir` (greenbond.published.publish)."""
        from greenbond.impact.facilities import load_facilities
        from greenbond.impact.hourly import HourlyAggregator, hourly_report
        from greenbond.impact.methodology import load_methodology
        from greenbond.meters.model import UTC
        from greenbond.meters.simulator import simulate
        from greenbond.oracle.setup import DEV_THRESHOLD, dev_signer_keys
        from greenbond.oracle.signing import sign_report

        oracle = self.contract("ImpactOracle")
        keys = signer_keys or dev_signer_keys()
        threshold = threshold or DEV_THRESHOLD
        facilities = load_facilities()
        methodology = load_methodology()
        version = oracle.functions.methodologyCount().call()
        signer_set = oracle.functions.signerSetVersion().call()
        self.goto(end + 60)
        store = None
        if store_readings:
            from greenbond.feeder.store import FeederStore

            store = FeederStore(self.readings_db)
            store.bind_chain(self.w3.eth.chain_id, oracle.address)
        agg = HourlyAggregator(facilities, methodology)
        skip = set(skip)
        figures = [f for f in agg.run(simulate(facilities, dt.datetime.fromtimestamp(start, UTC),
                                                dt.datetime.fromtimestamp(end, UTC), seed=seed))
                   if hasattr(f, "readings_root") and (f.facility_id, f.period_start) not in skip]
        figures.sort(key=lambda f: (f.period_start, f.facility_id))
        chain_id = self.w3.eth.chain_id
        pending = []
        for fig in figures:
            rep = hourly_report(fig, version, signer_set)
            sigs = [sign_report(rep, k.key, chain_id, oracle.address) for k in keys[:threshold]]
            pending.append((rep.as_tuple(), sigs))
            if store is not None:
                with store.transaction() as cur:
                    store.add_hour(fig, version, rep, sigs, cur)
            self.reports.setdefault(fig.facility_id, []).append(fig)
        gas_cap = self.w3.eth.get_block("latest")["gasLimit"] - 100_000
        accepted: dict[int, dict[int, tuple[int, int]]] = {}   # facility -> period start -> (block, index)
        for k in range(0, len(pending), batch):
            chunk = pending[k:k + batch]
            gas = min(gas_cap, 1_000_000 + 120_000 * len(chunk))    # about 60,000 a report with one signature
            receipt = self.send(oracle.functions.submitReports([c[0] for c in chunk], [c[1] for c in chunk]), gas=gas)
            for ev in (oracle.events.ReportAccepted().process_receipt(receipt) if store is not None else ()):
                a = ev["args"]
                accepted.setdefault(a["facilityId"], {})[a["periodStart"]] = (receipt["blockNumber"], a["index"])
        if store is not None:
            from greenbond.published import publish

            for fid, found in accepted.items():
                store.confirm_on_chain(fid, found)
            publish(store, self.published_dir)
            store.close()
        return len(figures)


# ---------------------------------------------------------------- the page server and the browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class PageServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    start_seconds: float = 0.0     # from spawning the process to /_stcore/health answering

    def stop(self) -> None:
        from greenbond.chain.localnode import stop_process_group

        stop_process_group(self.process, signal.SIGTERM)


def start_page(env: dict, log_path: Path, port: int | None = None, timeout: float = 60,
               preload: bool = True) -> PageServer:
    """Serves app/main.py with Streamlit (headless) on a free port; returns once /_stcore/health
    answers. With `preload` the server is started through app.serve, which imports the pages'
    modules before serving (the server's own cold start); without, plain `streamlit run`."""
    port = port or free_port()
    launcher = ["app.serve"] if preload else ["streamlit", "run", str(REPO_ROOT / "app" / "main.py")]
    cmd = [sys.executable, "-m", *launcher,
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    return start_streamlit(cmd, f"http://127.0.0.1:{port}", env, log_path, timeout, "streamlit")


def start_streamlit(cmd: list[str], url: str, env: dict, log_path: Path, timeout: float = 60,
                    what: str = "streamlit") -> PageServer:
    """Runs a Streamlit server command (the investor page, the back office) in its own session
    with the repository on PYTHONPATH; returns once `url`/_stcore/health answers."""
    import urllib.request

    full_env = dict(os.environ, **env)
    full_env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    log = open(log_path, "ab")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise FixtureError(f"{what} exited with code {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, timeout, f"{what} at {url}")
    except BaseException:
        PageServer(url, proc, log_path).stop()
        raise
    return PageServer(url, proc, log_path, time.perf_counter() - t0)


def launch_chromium(playwright):
    """Debian's Chromium, headless (Playwright's own browser download is not used)."""
    if not Path(CHROMIUM).exists():
        raise FixtureError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_for_render(page, timeout_ms: int = 60_000, charts: int = 0) -> None:
    """Waits until the page script has finished (its footer caption is shown, Streamlit is no
    longer running) and at least `charts` Vega charts have drawn."""
    page.get_by_text("JSON-RPC").first.wait_for(timeout=timeout_ms)   # the footer, in either language
    page.wait_for_function(
        """(n) => !document.querySelector('[data-testid="stStatusWidget"] button, [data-testid="stStatusWidgetRunningIcon"]')
               && document.querySelectorAll('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks').length >= n""",
        arg=charts, timeout=timeout_ms,
    )
