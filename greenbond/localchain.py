"""A local Anvil whose chain persists in a file, for the demo: start it, wait until it answers,
stop it (Anvil writes its state on SIGINT and every few seconds while running)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


class LocalChainError(RuntimeError):
    pass


def rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    """One JSON-RPC call; raises LocalChainError for an unreachable node or an RPC error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.load(resp)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        raise LocalChainError(f"no node answers at {url} ({exc})") from None
    if "error" in reply:
        raise LocalChainError(f"{method} failed: {reply['error']}")
    return reply["result"]


def is_serving(url: str) -> bool:
    try:
        rpc(url, "eth_chainId", timeout=0.5)
        return True
    except LocalChainError:
        return False


@dataclass
class AnvilProcess:
    url: str
    process: subprocess.Popen | None  # None when we attached to a node already running

    def stop(self) -> None:
        """Stops the node if we started it; SIGINT makes Anvil write its state file first."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_anvil(
    state_file: Path,
    *,
    port: int,
    genesis_timestamp: int | None,
    log_file: Path,
    chain_id: int = 31337,
    ready_timeout: float = 30.0,
) -> AnvilProcess:
    """Starts Anvil (berlin, no base fee, gas price 0 accepted) keeping its chain in `state_file`,
    or attaches to a node already serving on `port`. The genesis timestamp only applies to a
    new chain: a resumed chain continues from its saved blocks."""
    url = f"http://127.0.0.1:{port}"
    if is_serving(url):
        return AnvilProcess(url=url, process=None)
    exe = shutil.which("anvil")
    if exe is None:
        raise LocalChainError("anvil is not on PATH: run `make setup` (it comes from npm @foundry-rs/anvil)")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--hardfork", "berlin",
        "--gas-limit", "30000000",
        "--gas-price", "0",
        "--accounts", "10",
        "--state", str(state_file),
        "--state-interval", "5",
        "--preserve-historical-states",  # so the register can read old blocks after a restart
    ]
    if genesis_timestamp is not None and not state_file.exists():
        cmd += ["--timestamp", str(genesis_timestamp)]
    log = open(log_file, "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + ready_timeout
    while not is_serving(url):
        if proc.poll() is not None:
            raise LocalChainError(f"anvil exited with code {proc.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            proc.kill()
            raise LocalChainError(f"anvil did not answer within {ready_timeout:.0f} s; see {log_file}")
        time.sleep(0.1)  # polling for readiness (a condition), not synchronising on time
    return AnvilProcess(url=url, process=proc)
