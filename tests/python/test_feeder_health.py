"""The feeder tells its operator how it is doing: /healthz, /readyz and /metrics of `feeder run`
(an OS process, the simulator source) on a local Anvil reached through a TCP proxy we cut.

- /healthz answers 200 once every facility's last confirmed hour is within the oracle's
  heartbeat, 503 with the failing check named when the node stops answering, 200 again when it
  is back; 503 when the chain's clock moves past the heartbeat before the feeder reports;
- the staleness gauge in /metrics follows the chain's clock;
- /readyz answers 200 once the feeder is connected.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest

from feeder_chain import FeederProcess, TcpProxy, module_chain
from greenbond.chain.localnode import free_port

pytestmark = pytest.mark.skipif(__import__("shutil").which("anvil") is None and not (
    __import__("pathlib").Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-health")


def get(url: str) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def until(url: str, code: int, timeout: float) -> str:
    """Polls `url` until it answers `code`; returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        got, body = get(url)
        if got == code:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} answered {got}, not {code}, for {timeout:g} s: {body[:500]}")
        time.sleep(0.1)


def staleness(base: str, facility: int) -> float:
    _, text = get(f"{base}/metrics")
    m = re.search(rf'^greenbond_feeder_staleness_seconds{{facility="{facility}"}} ([0-9.e+]+)$', text, re.M)
    assert m, text[-2000:]
    return float(m.group(1))


def simulator_csv(path, start: int, end: int, seed: int = 3):
    """The simulator's readings of [start, end) as a meter file."""
    from greenbond.impact.facilities import load_facilities
    from greenbond.meters.model import from_unix
    from greenbond.meters.simulator import simulate

    lines = ["meter_id,interval_start,wh"]
    lines += [f"{r.meter_id},{r.interval_start.isoformat()},{r.wh}"
              for r in simulate(load_facilities(), from_unix(start), from_unix(end), seed=seed)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_healthz_follows_the_node_and_the_clock(chain, tmp_path):
    """The feeder reads a file covering every hour up to the chain's clock, then has nothing new:
    fresh, until the clock moves past the heartbeat."""
    from feeder_chain import day

    now = chain.w3().eth.get_block("latest")["timestamp"]
    meters = simulator_csv(tmp_path / "meters.csv", day(0), now - now % 3600)
    proxy = TcpProxy(chain.port)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    p = FeederProcess(["run", "--rpc", proxy.url, "--db", str(tmp_path / "feeder.sqlite"), "--deployments",
                       str(chain.deployments), "--source", f"csv:{meters}", "--poll", "0.5", "--no-progress",
                       "--metrics-port", str(port)], tmp_path / "feeder.log")
    try:
        until(f"{base}/readyz", 200, 120)
        body = json.loads(until(f"{base}/healthz", 200, 180))        # the file sent: every facility fresh
        assert body["status"] == "ok" and body["checks"]["node"] == "ok" and body["checks"]["database"] == "ok"
        assert set(body["checks"]["facilities"]) == {"1", "2"}
        heartbeat = body["checks"]["facilities"]["1"]["heartbeat_s"]
        before = staleness(base, 1)
        _, text = get(f"{base}/metrics")                               # readings received, by source
        lines = meters.read_text(encoding="utf-8").count("\n") - 1
        assert f'greenbond_feeder_readings_received_total{{source="csv"}} {float(lines)}' in text, text[-1500:]
        assert re.search(r'^greenbond_feeder_outbox\{state="confirmed"\} [1-9]', text, re.M)
        assert 0 <= before <= heartbeat

        proxy.cut()                                                    # the node stops answering
        body = json.loads(until(f"{base}/healthz", 503, 60))
        assert body["status"] == "unhealthy" and body["checks"]["node"].startswith("no answer within")
        proxy.restore()
        until(f"{base}/healthz", 200, 60)

        # the chain's clock moves past the heartbeat and the file has nothing newer: stale
        chain.w3().provider.make_request("evm_increaseTime", [heartbeat + 3600])
        chain.w3().provider.make_request("evm_mine", [])
        body = json.loads(until(f"{base}/healthz", 503, 60))
        assert body["checks"]["node"] == "ok"
        assert not body["checks"]["facilities"]["1"]["ok"] and body["checks"]["facilities"]["1"]["staleness_s"] > heartbeat
        assert staleness(base, 1) >= before + heartbeat + 3600 - 5     # the gauge moved with the clock
    finally:
        p.proc.terminate()
        p.wait()
        proxy.cut()
    assert get(f"{base}/healthz")[0] is None                          # stopped: nothing listens


def test_status_gives_up_on_a_silent_node_in_one_line_and_offline_reads_the_database(tmp_path):
    import subprocess
    import sys

    from feeder_chain import REPO_ROOT, env
    from greenbond.feeder.store import FeederStore

    db = tmp_path / "feeder.sqlite"
    FeederStore(db).close()
    dead = f"http://127.0.0.1:{free_port()}"
    p = subprocess.run([sys.executable, "-m", "greenbond", "feeder", "status", "--rpc", dead, "--db", str(db),
                        "--connect-timeout", "1"], cwd=REPO_ROOT, env=env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1
    errors = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"the RPC node at {dead} is unreachable" in errors[0], p.stderr[-2000:]
    p = subprocess.run([sys.executable, "-m", "greenbond", "feeder", "status", "--offline", "--db", str(db)],
                       cwd=REPO_ROOT, env=env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "facility" in p.stdout, p.stderr[-2000:]
