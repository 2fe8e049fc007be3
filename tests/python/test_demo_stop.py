"""`make demo` stops everything it started, even when Ctrl-C is pressed again while it stops: the
second interrupt used to cut the clean-up short and leave the chain and the back office running
(found stopping a demo with two signals: the next demo could not bind the back office's port)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feeder_chain import REPO_ROOT, env
from greenbond.chain.localnode import free_port

pytestmark = pytest.mark.skipif(not (REPO_ROOT / "node_modules" / ".bin" / "anvil").exists(),
                                reason="anvil is not installed (npm ci)")


def test_a_second_interrupt_does_not_leave_processes_behind(tmp_path):
    ports = [free_port() for _ in range(3)]
    out = tmp_path / "demo.out"
    with open(out, "wb") as log:
        p = subprocess.Popen([sys.executable, "-m", "greenbond.demo", "--no-feeder", "--port", str(ports[0]),
                              "--app-port", str(ports[1]), "--backoffice-port", str(ports[2]),
                              "--state-dir", str(tmp_path / "state"), "--deployments-dir", str(tmp_path / "dep")],
                             cwd=REPO_ROOT, env=env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while b"Press Ctrl-C" not in out.read_bytes():
            assert p.poll() is None, out.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the demo did not come up"
            time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        while b"Stopping" not in out.read_bytes() and p.poll() is None:
            time.sleep(0.01)
        p.send_signal(signal.SIGINT)                     # impatient: Ctrl-C again while it stops
        p.wait(timeout=120)
        # the chain, the page and the back office run in sessions of their own: nothing may still
        # listen on their ports once the demo has exited
        listening = [port for port in ports if _listening(port)]
        assert not listening, f"still listening after the demo exited: {listening}"
    finally:
        for port in ports:                                # whatever happened, leave nothing running
            for pid in _pids_on(port):
                os.kill(pid, signal.SIGKILL)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _pids_on(port: int) -> list[int]:
    """Processes whose command line names the port (the demo passes every port on them)."""
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if str(port).encode() in args:
            out.append(int(cmdline.parent.name))
    return out
