"""Local dev nodes: Anvil (or Ganache) whose chain persists in a file, for the demo and the
tests: start one on a port (`free_port` finds one), wait until it answers, stop its whole process
group (Anvil writes its state on SIGINT and every few seconds while running); and the dev
chain's clock (`advance_to`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a node or an app of our own)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def advance_to(w3, timestamp: int) -> bool:
    """The dev chain's clock (Anvil, Ganache): mines one block at `timestamp` when the latest block
    is older; never moves the clock back. Returns whether a block was mined. Raises
    LocalChainError when the node did not move (not a dev chain)."""
    if w3.eth.get_block("latest")["timestamp"] >= timestamp:
        return False
    w3.provider.make_request("evm_mine", [int(timestamp)])
    if w3.eth.get_block("latest")["timestamp"] < timestamp:
        raise LocalChainError(f"the node did not move its clock to {timestamp} (evm_mine): is it a dev chain?")
    return True


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
        if self.process is not None:
            stop_process_group(self.process, signal.SIGINT)


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count: they hold no
    port and no file). Reads /proc where there is one, else asks the kernel."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def stop_process_group(process: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 20.0) -> None:
    """Stops a node started in its own session and returns only when every process of that session
    has ended. npm's `anvil` is a Node wrapper that forwards the signal to the real binary and exits
    at once, while the binary is still writing its state file and holding the port: waiting for the
    wrapper alone let a restart on the same port attach to the dying node."""
    if process.poll() is None:
        process.send_signal(sig)
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    killed = False
    while _group_alive(process.pid):
        if time.monotonic() > deadline:
            if killed:
                raise LocalChainError(f"the node's processes (group {process.pid}) did not end after SIGKILL")
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed, deadline = True, time.monotonic() + timeout
        time.sleep(0.05)  # polling a condition (the group has ended), not synchronising on time
    process.wait()


def _executable(name: str, npm_package: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise LocalChainError(f"{name} is not on PATH: run `make setup` (it comes from npm {npm_package})")
    return exe


def start_anvil(
    state_file: Path | None = None,
    *,
    port: int | None = None,
    genesis_timestamp: int | None = None,
    log_file: Path | None = None,
    chain_id: int = 31337,
    gas_limit: int = 30_000_000,
    ready_timeout: float = 30.0,
    extra_args: Sequence[str] = (),
) -> AnvilProcess:
    """Starts Anvil (berlin, no base fee, gas price 0 accepted, 10 dev accounts) on `port` (a free
    one when None), or attaches to a node already serving there. With `state_file` the chain
    persists in it (the demo); without, it lives in memory (tests, benchmarks). The genesis
    timestamp only applies to a new chain: a resumed chain continues from its saved blocks.
    `extra_args` go to Anvil as given (e.g. `--prune-history 8`: a node without archive state)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    if is_serving(url):
        return AnvilProcess(url=url, process=None)
    exe = _executable("anvil", "@foundry-rs/anvil")
    cmd = [
        exe,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--hardfork", "berlin",
        "--gas-limit", str(gas_limit),
        "--gas-price", "0",
        "--accounts", "10",
    ]
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        # Anvil writes the whole state each time: every 30 s bounds what a crash loses without
        # stalling a busy chain. Historical states are not kept across restarts (they made the
        # file grow by megabytes a minute); the register falls back to the latest block then.
        cmd += ["--state", str(state_file), "--state-interval", "30"]
    else:
        cmd += ["--silent"]
    if genesis_timestamp is not None and (state_file is None or not state_file.exists()):
        cmd += ["--timestamp", str(genesis_timestamp)]
    cmd += list(extra_args)
    return _launch("anvil", cmd, url, log_file, ready_timeout)


def _launch(name: str, cmd: list[str], url: str, log_file: Path | None, ready_timeout: float) -> AnvilProcess:
    """Starts a node in its own session (so Ctrl-C in the terminal reaches only us, and we stop
    it cleanly) and waits until it answers on `url`."""
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if log_file:
        log.close()   # the child holds its own descriptor
    wait_until_serving(url, proc, name, ready_timeout, log_file)
    return AnvilProcess(url=url, process=proc)


def wait_until_serving(url: str, proc: subprocess.Popen, name: str, timeout: float, log_file: Path | None = None) -> None:
    """Waits until the node `proc` answers on `url`; stops it and raises if it exits or does not
    answer within `timeout` seconds."""
    where = f"; see {log_file}" if log_file else ""
    deadline = time.monotonic() + timeout
    while not is_serving(url):
        if proc.poll() is not None:
            raise LocalChainError(f"{name} exited with code {proc.returncode}{where}")
        if time.monotonic() > deadline:
            stop_process_group(proc, signal.SIGKILL)
            raise LocalChainError(f"{name} did not answer within {timeout:.0f} s{where}")
        time.sleep(0.1)  # polling for readiness (a condition), not synchronising on time


DEV_MNEMONIC = "test test test test test test test test test test test junk"  # Anvil's default accounts


def start_ganache(
    db_dir: Path,
    *,
    port: int,
    genesis_timestamp: int | None,
    log_file: Path,
    ready_timeout: float = 60.0,
) -> AnvilProcess:
    """Starts Ganache (berlin, gas price 0, Anvil's dev accounts, chain id 1337) keeping its chain
    in `db_dir`, or attaches to a node already serving on `port`."""
    import datetime as dt

    url = f"http://127.0.0.1:{port}"
    if is_serving(url):
        return AnvilProcess(url=url, process=None)
    exe = _executable("ganache", "ganache")
    fresh = not db_dir.exists()
    db_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        "--server.port", str(port),
        "--chain.chainId", "1337",
        "--chain.hardfork", "berlin",
        "--miner.blockGasLimit", "30000000",
        "--miner.defaultGasPrice", "0",
        "--wallet.mnemonic", DEV_MNEMONIC,
        "--wallet.totalAccounts", "10",
        "--database.dbPath", str(db_dir),
        "--logging.quiet",
    ]
    if genesis_timestamp is not None and fresh:
        cmd += ["--chain.time", dt.datetime.fromtimestamp(genesis_timestamp, dt.timezone.utc).isoformat()]
    return _launch("ganache", cmd, url, log_file, ready_timeout)
