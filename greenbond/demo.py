"""`make demo`: a local chain with the default bond deployed, investors registered, the issue
allotted, and a summary of what was done.

Run again, it resumes the same chain (Anvil keeps it in .demo/anvil-state.json) and does only
what is missing. Investors' personal details are sealed to a demo issuer key kept in
.demo/keys/ (ignored by git); nothing personal is printed or sent in plaintext.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import threading
import time
import datetime as dt
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, ConfigError, load_terms
from greenbond.deployments import DeploymentError, default_deployments_dir
from greenbond.holders import ISSUER_KEY_ENV, generate_issuer_key, load_investor_id_salt, load_issuer_public_key
from greenbond.feeder.service import FeederError
from greenbond.feeder.store import StoreError
from greenbond.chain.localnode import LocalChainError, rpc, start_anvil, start_ganache
from greenbond.demo_story import DEMO_INVESTORS

DEMO_DIR_ENV = "GREENBOND_DEMO_DIR"
DEMO_DIR = Path(os.environ.get(DEMO_DIR_ENV) or REPO_ROOT / ".demo")   # --state-dir
DEMO_PORT = 8546


_OUT = sys.stdout


def _say(msg: str = "") -> None:
    print(msg, file=_OUT, flush=True)


PAGE_PORT = 8501
BACKOFFICE_PORT = 8502
PUBLISHED_DIR = DEMO_DIR / "published"   # the page's default GREENBOND_PUBLISHED_DIR
DEPLOYMENTS_DIR = default_deployments_dir()   # --deployments-dir (GREENBOND_DEPLOYMENTS), given to the children too
PUBLISH_EVERY_S = 300
MQTT_PORT = 1883   # --mqtt-port: the demo's local broker with --meters mqtt


def run(config_path: Path, serve: bool, chain_kind: str = "anvil", rpc_url: str | None = None,
        with_feeder: bool = True, meters: str = "simulator", mqtt_port: int = MQTT_PORT) -> int:
    """The whole demo. `rpc_url` attaches to an existing node with an existing deployment
    (nothing is deployed or started); otherwise a local Anvil (or Ganache) is started or resumed."""
    terms = load_terms(config_path)  # validated before anything starts
    if sum(i.units for i in DEMO_INVESTORS) > terms.units:
        raise ConfigError("issue_volume", f"the demo allots {sum(i.units for i in DEMO_INVESTORS)} units; the bond has {terms.units}")
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    node = None
    processes: list[subprocess.Popen] = []
    stop = threading.Event()
    feeder_thread = None
    try:
        if rpc_url is None:
            genesis = terms.timestamp(terms.issue_date) - 86_400  # the day before the issue date
            if chain_kind == "ganache":
                _say(f"Starting Ganache on port {DEMO_PORT} (chain in {_display(DEMO_DIR / 'ganache-db')}) ...")
                node = start_ganache(DEMO_DIR / "ganache-db", port=DEMO_PORT, genesis_timestamp=genesis,
                                     log_file=DEMO_DIR / "ganache.log")
            else:
                _say(f"Starting Anvil on port {DEMO_PORT} (chain in {_display(DEMO_DIR / 'anvil-state.json')}) ...")
                node = start_anvil(DEMO_DIR / "anvil-state.json", port=DEMO_PORT, genesis_timestamp=genesis,
                                   log_file=DEMO_DIR / "anvil.log")
            if node.process is None:
                _say(f"  a node is already serving at {node.url}; using it")
            rpc_url = node.url
            _run_on_chain(terms, config_path, rpc_url)
        else:
            _say(f"Using the node at {rpc_url} and its recorded deployment (nothing is deployed).")
            _check_existing(rpc_url)

        feeder = _open_feeder(rpc_url) if with_feeder else None
        if not serve:
            if feeder is not None:
                _backfill_impact(feeder, stop)
                _publish_readings(since=None)
                _credit_demo(rpc_url, feeder)
            return 0
        # the page first: the bond, its holders and its documents are on chain already; the impact
        # backfill (years of hours) runs behind it, and the page's coverage figures show how far
        # it has got (hours reported of hours elapsed, per facility and for the bond)
        processes.append(_start_page(rpc_url))
        backoffice, user, password = _start_backoffice(rpc_url)
        processes.append(backoffice)
        _say(f"\nInvestor page (public):  http://localhost:{PAGE_PORT}   (chain: {rpc_url})")
        _say(f"Issuer back office:      http://127.0.0.1:{BACKOFFICE_PORT}   (this machine only)")
        _say(f"  log in as {user} with password {password}")
        _say("  (a demo account for this local chain only, with a new password on every start; the audit log is "
             f"{_display(DEMO_DIR / 'backoffice' / 'audit.jsonl')})")
        if feeder is not None:
            _say("  The page's impact figures fill in while the feeder catches up: each says what share of the hours it covers.")
            feeder_thread = threading.Thread(target=_feed, args=(feeder, rpc_url, stop, meters, mqtt_port),
                                             name="feeder", daemon=True)
            feeder_thread.start()
        _say("Press Ctrl-C to stop the page, the feeder and the chain (the chain is saved).")
        try:
            while all(p.poll() is None for p in processes) and (node is None or node.process is None or node.process.poll() is None):
                stop.wait(1.0)
            _say("\nA process of the demo stopped; stopping the others.")
        except KeyboardInterrupt:
            _say("\nStopping ...")
    finally:
        _hold_signals()
        stop.set()
        for p in processes:
            _terminate(p)
        if feeder_thread is not None:
            feeder_thread.join(timeout=30)
        if node is not None:
            node.stop()
    return 0


def _hold_signals() -> None:
    """From here on a second Ctrl-C (or `kill`) is ignored: it would cut the clean-up short and
    leave the chain, the page and the back office running, holding their ports."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _check_existing(rpc_url: str) -> None:
    from greenbond.chain import ChainError, connect, open_suite

    try:
        suite = open_suite(connect(rpc_url), DEPLOYMENTS_DIR)
    except ChainError as exc:
        raise LocalChainError(str(exc)) from None

    for name, rec in suite.deployment.contracts.items():  # the offering and DvP too
        _say(f"  {name:<16} {rec.address}")




def _open_feeder(rpc_url: str):
    """The demo's feeder (simulated meters, the dev signer keys), logging to .demo/feeder.log."""
    import logging

    from greenbond.feeder.service import Feeder

    logger = logging.getLogger("greenbond")
    logger.addHandler(logging.FileHandler(DEMO_DIR / "feeder.log"))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return Feeder(rpc_url=rpc_url, db_path=DEMO_DIR / "feeder.sqlite", seed=0, deployments_dir=DEPLOYMENTS_DIR)


def _feed(feeder, rpc_url: str, stop: threading.Event, meters: str = "simulator", mqtt_port: int = MQTT_PORT) -> None:
    """Behind the page: the backfill to the present, the readings published for Verify, then
    every hour as it closes (with the chain's clock kept moving and the readings re-published).
    With `meters` "mqtt" the live hours come from a local Mosquitto, published by a stand-in
    meter gateway, as a building's would."""
    broker = None
    try:
        _backfill_impact(feeder, stop)
        if stop.is_set():
            return
        _publish_readings(since=None)
        _credit_demo(rpc_url, feeder)
        threading.Thread(target=_keep_publishing, args=(stop,), name="publish", daemon=True).start()
        threading.Thread(target=_keep_clock, args=(rpc_url, stop), name="clock", daemon=True).start()
        if meters == "mqtt":
            broker = _start_gateway(feeder, stop, mqtt_port)
        _say(f"\nThe feeder keeps reporting each hour as it closes (log: {_display(DEMO_DIR / 'feeder.log')}); its readings are "
             f"published for Verify in {_display(PUBLISHED_DIR)} every {PUBLISH_EVERY_S // 60} minutes.")
        feeder.run_forever(stop)
    except Exception as exc:  # noqa: BLE001 -- the page and back office keep serving; the log has the details
        print(f"the feeder stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        if broker is not None:
            broker.stop()


def _credit_demo(rpc_url: str, feeder) -> None:
    """Carbon credits from the reported past (greenbond.credits.demo): a batch of the building's
    latest complete fiscal year, approved by the verifier (account 7), issued and partly retired."""
    from greenbond.chain import connect, open_suite
    from greenbond.credits.demo import run as credit_story
    from greenbond.deploy import DEV_VERIFIER_ACCOUNT

    w3 = connect(rpc_url)
    _say("\nCarbon credits: the building's latest complete fiscal year, from its reports in force:")
    credit_story(open_suite(w3, DEPLOYMENTS_DIR), feeder.store, verifier=w3.eth.accounts[DEV_VERIFIER_ACCOUNT],
                 log=_say)


def _start_gateway(feeder, stop: threading.Event, port: int):
    """A local Mosquitto (sessions kept in .demo/mosquitto), a stand-in gateway publishing the
    simulator's readings of each half hour the chain's clock closes, and the feeder switched to
    the broker: from the hour after the backfill on, every reading travels over MQTT."""
    from greenbond.meters.gateway import LocalBroker, run_gateway

    broker = LocalBroker(DEMO_DIR / "mosquitto", port)
    now = feeder.chain_now()
    feeder.use_source(f"mqtt://127.0.0.1:{port}", {"client_id": "greenbond-demo-feeder"})
    threading.Thread(target=run_gateway, args=(port, feeder.facilities, feeder.chain_now, now - now % 3600, stop),
                     name="gateway", daemon=True).start()
    _say(f"  Live meter readings: a stand-in gateway publishes them to the MQTT broker at 127.0.0.1:{port} "
         f"(log: {_display(broker.log_path)}); the feeder subscribes.")
    return broker


BACKFILL_CHUNK_S = 30 * 86_400   # the backfill computes, signs and sends a month at a time


def _backfill_impact(feeder, stop: threading.Event) -> None:
    """Runs the feeder over simulated meter data from the facilities' reporting start to the
    chain's present, a month at a time (computed, signed and sent before the next), so the page
    fills in from the first month while the rest follows; one progress bar of the facility-hours
    on chain."""
    from tqdm import tqdm

    start = int(min(f.reporting_start for f in feeder.facilities).timestamp())
    now = feeder.chain_now()
    end = now - now % 3600
    total = sum(max(0, end - max(start, int(f.reporting_start.timestamp()))) // 3600 for f in feeder.facilities)
    _say("\nImpact: simulated meter readings -> validation -> hourly figures -> 2-of-3 signed reports -> ImpactOracle")
    bar = tqdm(total=total, unit="h", desc="  facility-hours on chain", file=_OUT, leave=True, mininterval=0.5)
    sums = {"hours_new": 0, "readings": 0, "quarantined": 0}
    result = "idle"
    try:
        for a in range(start, end, BACKFILL_CHUNK_S):
            if stop.is_set():
                break
            out = feeder.backfill(a, min(end, a + BACKFILL_CHUNK_S), transmit=True, stop_event=stop, use_cursor=False)
            for k in sums:
                sums[k] += int(out.get(k) or 0)
            result = out.get("transmit", result)
            bar.n = min(total, feeder.store.status()["outbox"].get("confirmed", 0))
            bar.refresh()
    finally:
        bar.close()
    _say(f"  {sums['hours_new']:,} new facility-hours ({sums['readings']:,} readings, {sums['quarantined']:,} quarantined);"
         f" sending: {result}")


def _start_page(rpc_url: str) -> subprocess.Popen:
    # the public app reads the chain and the published readings; it is given no key and no database
    env = {k: v for k, v in os.environ.items() if k not in ("GREENBOND_ISSUER_KEY", "GREENBOND_AGENT_KEY")}
    env.update(GREENBOND_RPC_URL=rpc_url, GREENBOND_PUBLISHED_DIR=str(PUBLISHED_DIR),
               GREENBOND_DEPLOYMENTS=str(DEPLOYMENTS_DIR), PYTHONPATH=str(REPO_ROOT))
    # app/serve.py imports the page's heavy modules before the first visitor arrives
    cmd = [
        sys.executable, "-m", "app.serve",
        "--server.port", str(PAGE_PORT), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    log = open(DEMO_DIR / "page.log", "ab")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True)


def _publish_readings(since) -> None:
    """The operator's publication of the readings behind each confirmed hour (greenbond.published):
    what the investor page's Verify reads, never the feeder's database itself."""
    from greenbond.feeder.store import FeederStore
    from greenbond.published import publish

    store = FeederStore(DEMO_DIR / "feeder.sqlite", readonly=True)
    try:
        summary = publish(store, PUBLISHED_DIR, since=since)
    finally:
        store.close()
    if since is None:
        _say(f"  readings published for Verify: {summary.text}")


def _keep_clock(rpc_url: str, stop: threading.Event, every_s: int = 60) -> None:
    """A local chain's clock moves only when a block is mined, and the feeder reports an hour once
    the chain's clock has passed it: with no other transaction the demo would wait forever for the
    next hour to close (its page then rightly shows the data as stale). So an empty block is mined
    whenever the latest one is older than a minute, which carries the chain's clock with the wall clock."""
    while not stop.wait(every_s):
        try:
            latest = int(rpc(rpc_url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
            if time.time() - latest > every_s:
                rpc(rpc_url, "evm_mine")
        except LocalChainError:
            continue   # the node is restarting: the next round tries again


def _keep_publishing(stop: threading.Event) -> None:
    """Re-publishes the last two local days every few minutes, while the feeder reports new hours."""
    while not stop.wait(PUBLISH_EVERY_S):
        yesterday = dt.datetime.now(dt.timezone.utc).astimezone(ZoneInfo("Asia/Tokyo")).date() - dt.timedelta(days=1)
        try:
            _publish_readings(since=yesterday)
        except Exception as exc:  # noqa: BLE001 -- the demo keeps serving; the next round retries
            print(f"publishing the readings failed: {exc}", file=sys.stderr)


def _start_backoffice(rpc_url: str) -> tuple[subprocess.Popen, str, str]:
    """The issuer back office on 127.0.0.1 only, with a demo account for the local chain whose
    password is new on every start (printed once, stored only as an argon2id hash)."""
    from greenbond.backoffice.accounts import ensure_demo_account

    accounts = DEMO_DIR / "backoffice" / "accounts.json"
    chain_id = int(rpc(rpc_url, "eth_chainId"), 16)
    try:
        user, password = ensure_demo_account(accounts, chain_id=chain_id)
    except ValueError as exc:   # not a local dev chain: no demo password guards real data
        user, password = "(none)", f"(none: {exc}; add an account with `python -m greenbond.backoffice accounts add`)"
    env = dict(os.environ, GREENBOND_RPC_URL=rpc_url, GREENBOND_BACKOFFICE_ACCOUNTS=str(accounts),
               GREENBOND_DEPLOYMENTS=str(DEPLOYMENTS_DIR), PYTHONPATH=str(REPO_ROOT))
    env.setdefault(ISSUER_KEY_ENV, str(_issuer_key_path()))
    cmd = [sys.executable, "-m", "greenbond.backoffice", "serve", "--address", "127.0.0.1",
           "--port", str(BACKOFFICE_PORT), "--accounts", str(accounts)]
    log = open(DEMO_DIR / "backoffice.log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True)
    return proc, user, password


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _issuer_key_path() -> Path:
    """The demo issuer's key: GREENBOND_ISSUER_KEY, else keys/issuer.key in the demo's folder."""
    return Path(os.environ.get(ISSUER_KEY_ENV) or DEMO_DIR / "keys" / "issuer.key")


def _run_on_chain(terms, config_path: Path, rpc_url: str) -> None:
    """Deploys (or reuses) the suite over web3 and tells the demo's story (greenbond.demo_story)
    on the chain at `rpc_url`; prints the summary."""
    import time

    from greenbond import demo_story as story
    from greenbond.chain import connect
    from greenbond.chain.tx import Signer
    from greenbond.deploy import deploy_suite, describe_bond
    from greenbond.deployments import load_deployment

    w3 = connect(rpc_url)
    accounts = list(w3.eth.accounts)
    issuer = accounts[0]
    _say(f"Connected to chain {w3.eth.chain_id}, block {w3.eth.block_number}; issuer (account 0) {issuer}")

    _say("\nDeploying (reusing what this chain already holds):")
    suite = deploy_suite(
        w3, Signer(issuer), terms,
        network_name="anvil", development=True,
        bond_config=os.path.relpath(config_path, REPO_ROOT), log=_say, directory=DEPLOYMENTS_DIR,
    )

    key_path = _issuer_key_path()
    if not key_path.exists():
        generate_issuer_key(key_path)
        _say(f"\nGenerated the demo issuer key pair in {_display(key_path.parent)}/ (ignored by git)")
    public_key = load_issuer_public_key(key_path)
    salt = load_investor_id_salt(key_path)

    _say("\nRegistering investors (details sealed to the issuer's public key):")
    story.register_investors(w3, suite, terms, accounts, public_key, salt, log=_say)
    story.issue_through_offering(w3, suite, terms, accounts, directory=DEPLOYMENTS_DIR, log=_say)
    story.run_lifecycle(w3, suite, terms, accounts, present=int(time.time()), log=_say)
    story.open_secondary_offer(w3, suite, terms, accounts, directory=DEPLOYMENTS_DIR, log=_say)

    _say("\nHoldings now (units, face amount, coupons received on chain):")
    for row in story.holdings(suite, accounts):
        note = f" (+{row['offchain']} coupons paid by bank transfer)" if row["offchain"] else ""
        _say(
            f"  investor {row['investor']} {row['wallet']}  {row['units']:>6,} units  "
            f"{terms.currency} {row['principal']:>15,}  coupons {terms.currency} {row['received']:>12,}{note}"
        )

    _say("\nThe bond, as the chain reports it:")
    for line in describe_bond(suite.bond, terms):
        _say(line)
    _say("\nAddresses:")
    for name, rec in load_deployment(w3.eth.chain_id, DEPLOYMENTS_DIR).contracts.items():  # the offering and DvP too
        _say(f"  {name:<16} {rec.address}")
    _say(f"  recorded in {_display(DEPLOYMENTS_DIR / f'{w3.eth.chain_id}.json')}")


def main(argv: list[str] | None = None) -> int:
    global DEMO_DIR, PUBLISHED_DIR, DEPLOYMENTS_DIR, DEMO_PORT, PAGE_PORT, BACKOFFICE_PORT
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_BOND_CONFIG, help="bond terms (TOML)")
    parser.add_argument("--no-serve", action="store_true",
                        help="stop after the summary and the impact backfill instead of serving the page")
    parser.add_argument("--chain", choices=("anvil", "ganache"), default="anvil",
                        help="the local node to start or resume on --port (default anvil)")
    parser.add_argument("--port", type=int, default=DEMO_PORT,
                        help=f"the local chain's port (default {DEMO_PORT}); the feeder and the apps use it")
    parser.add_argument("--app-port", type=int, default=PAGE_PORT, help=f"the investor page's port (default {PAGE_PORT})")
    parser.add_argument("--backoffice-port", type=int, default=BACKOFFICE_PORT,
                        help=f"the back office's port (default {BACKOFFICE_PORT})")
    parser.add_argument("--state-dir", type=Path, default=DEMO_DIR,
                        help=f"where the demo keeps its chain, keys, feeder database and logs (default .demo; ${DEMO_DIR_ENV})")
    parser.add_argument("--deployments-dir", type=Path, default=DEPLOYMENTS_DIR,
                        help="where the deployment is recorded (default deployments/; $GREENBOND_DEPLOYMENTS)")
    parser.add_argument("--rpc", metavar="URL",
                        help="use an existing node and its recorded deployment instead of a local chain")
    parser.add_argument("--no-feeder", action="store_true", help="skip the impact feeder")
    parser.add_argument("--meters", choices=("simulator", "mqtt"), default="simulator",
                        help="where the live hours' readings come from: the simulator in the feeder (default), or a "
                             "local Mosquitto (Debian's mosquitto) that a stand-in gateway publishes them to")
    parser.add_argument("--mqtt-port", type=int, default=MQTT_PORT,
                        help=f"the local broker's port with --meters mqtt (default {MQTT_PORT})")
    args = parser.parse_args(argv)
    DEMO_DIR = args.state_dir.resolve()
    PUBLISHED_DIR = DEMO_DIR / "published"
    DEPLOYMENTS_DIR = args.deployments_dir.resolve()
    DEMO_PORT, PAGE_PORT, BACKOFFICE_PORT = args.port, args.app_port, args.backoffice_port

    def _terminate_like_ctrl_c(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate_like_ctrl_c)  # `kill` stops it as cleanly as Ctrl-C
    try:
        return run(args.config.resolve(), serve=not args.no_serve, chain_kind=args.chain, rpc_url=args.rpc,
                   with_feeder=not args.no_feeder, meters=args.meters, mqtt_port=args.mqtt_port)
    except (ConfigError, DeploymentError, LocalChainError, FeederError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the chain is saved and the next `make demo` resumes it", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
