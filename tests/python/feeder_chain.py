"""Helpers for the feeder's chain tests: an Anvil of our own on a free port whose clock starts
just after the facilities' reporting start, the suite deployed on it with deploy_suite through
Brownie (in a subprocess, into a temporary deployments folder), the feeder as a separate OS
process, a TCP proxy that can cut the feeder off the node, and an independent recomputation of
the hourly figures through greenbond.impact (not through the feeder).

Run these tests in a private network namespace (several agents run chains on this machine):
    unshare -n sh -c 'ip link set lo up; .venv/bin/python -m pytest -p no:pytest-brownie tests/python/...'
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from greenbond.config import REPO_ROOT
from tests.helpers.devchain import DevChain, child_env, free_port
from tests.helpers.pageview_fixture import wait_for  # noqa: F401 (re-exported to the feeder tests)

HOUR = 3600
DAY = 86_400


env = child_env


class LogEvents:
    """Log records of a greenbond logger in this process (`with LogEvents("greenbond.feeder.transmit")
    as log:`), by event: `log.named("reorg_detected")`."""

    def __init__(self, logger_name: str):
        import logging

        self.records: list = []
        self.logger = logging.getLogger(logger_name)
        self.handler = logging.Handler(logging.INFO)
        self.handler.emit = self.records.append

    def __enter__(self):
        import logging

        self._level = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self._level)

    def named(self, name: str) -> list:
        return [r for r in self.records if getattr(r, "event", None) == name]


def reporting_start() -> int:
    """The facilities' reporting start (2023-12-14 00:00 JST), unix seconds."""
    from greenbond.impact.facilities import load_facilities

    return int(load_facilities()[0].reporting_start.timestamp())


def day(n: int) -> int:
    """Unix seconds of the start of day `n` of reporting."""
    return reporting_start() + n * DAY


def iso(ts: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()


def module_chain(tmp_path_factory, name: str):
    """A Chain for a test module whose clock starts 10 days after the reporting start (a
    generator for a module-scoped fixture: yields the chain, stops it after the module)."""
    c = Chain(tmp_path_factory.mktemp(name), genesis=day(10))
    yield c
    c.stop()


class Chain(DevChain):
    """An Anvil with the suite deployed (tests.helpers.devchain)."""

    def accepted(self) -> list:
        """Every ReportAccepted event: dicts with facilityId, index, periodStart, supersedes, block, tx."""
        logs = self.oracle().events.ReportAccepted.get_logs(from_block=0, to_block="latest")
        return [dict(l["args"], block=l["blockNumber"], tx=l["transactionHash"].hex()) for l in logs]


class FeederProcess:
    """`python -m greenbond feeder ...` as a separate OS process, its JSON log in a file."""

    def __init__(self, args: list[str], log_path: Path, env: dict | None = None):
        self.log_path = log_path
        self.stdout_path = log_path.with_suffix(".out")
        self.stderr_path = log_path.with_suffix(".err")
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        log_args = ["--log-file", str(log_path)] if args[0] != "quarantine" else []
        self.proc = subprocess.Popen([sys.executable, "-m", "greenbond", "feeder", *args, *log_args],
                                     cwd=REPO_ROOT, env={**child_env(), **(env or {})}, stdout=self._out,
                                     stderr=self._err,
                                     start_new_session=True)

    def events(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        out = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def wait_event(self, name: str, timeout: float = 120, count: int = 1) -> dict:
        def seen():
            got = [e for e in self.events() if e.get("event") == name]
            if len(got) >= count:
                return got[count - 1]
            if self.proc.poll() is not None:
                raise AssertionError(f"the feeder exited ({self.proc.returncode}) before logging {name!r}:\n"
                                     f"{self.errors()[-3000:]}")
            return None

        return wait_for(seen, timeout, f"the feeder to log {name!r}")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait(self, timeout: float = 300) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError("the feeder did not finish in time")
        self._out.close()
        self._err.close()
        return rc

    def output(self) -> str:
        """What it printed on stdout."""
        return self.stdout_path.read_text(errors="replace")

    def errors(self) -> str:
        """Its stderr: the JSON log lines and any 'error: ...' sentence."""
        return self.stderr_path.read_text(errors="replace")


class TcpProxy:
    """A TCP proxy we control between the feeder and the node: `cut()` closes the listener and
    every connection (the node looks down), `restore()` listens again on the same port.
    `hold_after(marker, n)`: once n requests containing `marker` went through, nothing more from
    the client is forwarded (`holding` is set) until `release()`: the client waits on its request,
    so a test can act at a chosen point of a fast client's work, by count, not by timing."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = None
        self._stop = threading.Event()
        self.holding = threading.Event()
        self._marker: bytes | None = None
        self._marker_left = 0
        self.restore()

    def hold_after(self, marker: bytes, count: int) -> None:
        with self._lock:
            self._marker, self._marker_left = marker, count

    def release(self) -> None:
        with self._lock:
            self._marker = None
        self.holding.clear()

    def _saw(self, data: bytes) -> None:
        with self._lock:
            if self._marker is not None and self._marker in data:
                self._marker_left -= 1
                if self._marker_left <= 0:
                    self._marker = None
                    self.holding.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        self._stop = threading.Event()
        threading.Thread(target=self._accept, args=(s, self._stop), daemon=True).start()

    def cut(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, stop), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                ready, _, _ = select.select([b] if self.holding.is_set() else [a, b], [], [], 0.05)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is a:
                        self._saw(data)
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass


def recompute(start: int, end: int, seed: int) -> dict:
    """(facility, period_start) -> HourlyFigure, from the simulator through greenbond.impact."""
    from greenbond.impact.facilities import all_meter_specs, load_facilities
    from greenbond.impact.hourly import HourlyAggregator, HourlyFigure
    from greenbond.impact.methodology import load_methodology
    from greenbond.meters.model import from_unix
    from greenbond.meters.simulator import simulate
    from greenbond.meters.vee import Vee

    facilities = load_facilities()
    s, e = from_unix(start), from_unix(end)
    vee = Vee(all_meter_specs(facilities), s, e)
    agg = HourlyAggregator(facilities, load_methodology())
    return {(f.facility_id, f.period_start): f for f in agg.run(vee.run(simulate(facilities, s, e, seed=seed)))
            if isinstance(f, HourlyFigure)}


def check_exactly_once(chain: Chain, start: int, end: int, seed: int) -> int:
    """Every hour of both facilities in [start, end) is on chain exactly once (one ReportAccepted
    per (facility, hour)) and equals the independent recomputation. Returns the hours checked."""
    events = [e for e in chain.accepted() if start <= e["periodStart"] < end]
    counts = Counter((e["facilityId"], e["periodStart"]) for e in events)
    expected = recompute(start, end, seed)
    assert set(counts) == set(expected), (
        f"missing on chain: {sorted(set(expected) - set(counts))[:5]}, unexpected: {sorted(set(counts) - set(expected))[:5]}")
    dupes = {k: n for k, n in counts.items() if n != 1}
    assert not dupes, f"hours reported more than once: {dupes}"
    oracle = chain.oracle()
    for e in events:
        fig = expected[(e["facilityId"], e["periodStart"])]
        stored = oracle.functions.report(e["facilityId"], e["index"]).call()
        assert stored[0] == fig.period_start
        assert stored[1] == fig.actual_wh and stored[2] == fig.benchmark_wh
        assert stored[3] == fig.reading_count and stored[4] == fig.quality_flags
        assert bytes(stored[12]) == fig.readings_root
        assert stored[5] == fig.energy_reduction_j and stored[6] == fig.co2_avoided_mg
        assert stored[11] == 0  # not superseded
    return len(events)


def confirmed_are_on_chain(chain: Chain, db) -> int:
    """Every original report the store says confirmed is on chain as that very report: its hour
    is reported with the report's readings root (the feeder's `confirmed` never claims more than
    the chain shows). Returns how many were checked."""
    import json
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT facility_id, period_start, report FROM outbox"
                           " WHERE status = 'confirmed' AND supersedes = 0").fetchall()
    finally:
        con.close()
    f = chain.oracle().functions
    for fid, start, report in rows:
        root = json.loads(report)["readingsRoot"]
        on_chain = "0x" + bytes(f.firstRoot(fid, start).call()).hex()
        assert on_chain == root, f"facility {fid} hour {iso(start)}: store says confirmed, chain has {on_chain}"
    return len(rows)
