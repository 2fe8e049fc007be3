"""The feeder's HTTP endpoints for its operator: `/metrics` (Prometheus), `/healthz` and `/readyz`.

`/healthz` answers 200 only when everything a report needs holds, else 503, with a JSON body
saying which check failed:

- `database`: the feeder's SQLite file takes a write lock (BEGIN IMMEDIATE, rolled back) within
  the timeout: not full, not read-only, not held by something else;
- `node`: the JSON-RPC node answers `eth_getBlockByNumber(latest)` within the timeout;
- `facilities`: every facility's last confirmed hour ended within the oracle's heartbeat, by the
  chain's clock (the latest block's timestamp: dev chains move their clock).

`/readyz` answers 200 once the feeder has connected to the chain and started its source (the
MQTT subscription included), 503 before: for start-up probes. `/metrics` adds, at each scrape,
gauges read from the database (another connection, read-only): the last confirmed hour and its
staleness per facility, open quarantine entries by reason, and the outbox by state.

Each request is answered on its own thread (ThreadingHTTPServer); the checks never use the
feeder's own database connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOUR = 3600


class HealthState:
    """What the checks read: set by the feeder as it runs."""

    def __init__(self, db_path: str | Path, rpc_url: str, facility_ids: list[int], timeout: float = 2.0):
        self.db_path, self.rpc_url, self.facility_ids, self.timeout = Path(db_path), rpc_url, facility_ids, timeout
        self.heartbeat_s: int | None = None     # the oracle's, once connected
        self.ready = threading.Event()

    # ------------------------------------------------------------ checks

    def check_database(self) -> str | None:
        try:
            con = sqlite3.connect(self.db_path, timeout=self.timeout, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
            finally:
                con.close()
        except sqlite3.Error as exc:
            return f"not writable: {exc}"
        return None

    def chain_time(self) -> tuple[int | None, str | None]:
        import requests

        try:
            r = requests.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                                                  "params": ["latest", False]}, timeout=self.timeout)
            return int(r.json()["result"]["timestamp"], 16), None
        except Exception as exc:  # noqa: BLE001 - any failure is the node's
            return None, f"no answer within {self.timeout:g} s ({type(exc).__name__})"

    def confirmed(self) -> dict:
        """The feeder database's status (read-only, another connection)."""
        from greenbond.feeder.store import FeederStore

        with FeederStore(self.db_path, readonly=True, timeout=self.timeout) as store:
            return store.status()

    def health(self) -> tuple[bool, dict]:
        checks: dict = {}
        db_error = self.check_database()
        checks["database"] = db_error or "ok"
        now, node_error = self.chain_time()
        checks["node"] = node_error or "ok"
        facilities = {}
        try:
            status = self.confirmed()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            status, checks["database"] = None, f"unreadable: {exc}"
        if status is not None:
            for fid in self.facility_ids:
                last = (status["facilities"].get(fid) or {}).get("last_confirmed_hour")
                staleness = None if last is None or now is None else max(0, now - (last + HOUR))
                ok = (staleness is not None and self.heartbeat_s is not None and staleness <= self.heartbeat_s)
                facilities[str(fid)] = {"last_confirmed_hour": last, "staleness_s": staleness,
                                        "heartbeat_s": self.heartbeat_s, "ok": ok}
        checks["facilities"] = facilities
        healthy = (checks["database"] == "ok" and checks["node"] == "ok" and bool(facilities)
                   and all(f["ok"] for f in facilities.values()))
        return healthy, {"status": "ok" if healthy else "unhealthy", "checks": checks}


def refresh_gauges(metrics, state: HealthState) -> None:
    """Sets the gauges read from the database and the chain's clock (at each scrape)."""
    status = state.confirmed()
    now, _ = state.chain_time()
    for fid in state.facility_ids:
        last = (status["facilities"].get(fid) or {}).get("last_confirmed_hour")
        if last is not None:
            metrics.last_confirmed_hour.labels(str(fid)).set(last)
            if now is not None:
                metrics.staleness.labels(str(fid)).set(max(0, now - (last + HOUR)))
    for reason, counts in status["quarantine"].items():
        metrics.quarantine_open.labels(reason).set(counts["open"])
    for outbox_state, n in status["outbox"].items():
        metrics.outbox.labels(outbox_state).set(n)


def serve(state: HealthState, metrics, addr: str, port: int) -> ThreadingHTTPServer:
    """Starts the endpoints on addr:port in a daemon thread; returns the server (`shutdown()`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?")[0]
            if path == "/healthz":
                ok, body = state.health()
                self._send(200 if ok else 503, "application/json", json.dumps(body, indent=1).encode())
            elif path == "/readyz":
                ready = state.ready.is_set()
                self._send(200 if ready else 503, "application/json",
                           json.dumps({"status": "ready" if ready else "starting"}).encode())
            elif path == "/metrics" and metrics is not None:
                from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

                try:
                    refresh_gauges(metrics, state)
                except Exception:  # noqa: BLE001 - the counters are still worth serving
                    pass
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            else:
                self._send(404, "text/plain", b"not found: /metrics, /healthz, /readyz\n")

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:   # no access log on stderr (the feeder's log is JSON)
            pass

    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="feeder-http", daemon=True).start()
    return server
