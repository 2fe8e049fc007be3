"""The feeder's log and progress output as an operator sees it.

On a pseudo-terminal (100 columns, as a person's terminal): readable log lines, no JSON unless
asked, and a progress bar that no log line overwrites (nor is overwritten by): the output is
played on a minimal terminal model (carriage return, line feed, characters overwrite) and every
log line on the final screen is whole. Elsewhere (a pipe, a file): JSON lines, no bar.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

from feeder_chain import REPO_ROOT, day, env, iso, module_chain
from greenbond.feeder.logs import setup_logging

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (debug|info|warning|error) [a-z_]+: ")

pytestmark = pytest.mark.skipif(__import__("shutil").which("anvil") is None and not (
    REPO_ROOT / "node_modules" / ".bin" / "anvil").exists(), reason="anvil is not installed (npm ci)")


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-logs")


def on_pty(args: list[str], timeout: float = 120) -> tuple[int, str]:
    """Runs `python -m greenbond feeder ARGS` with stdin, stdout and stderr on a 100x24 pty."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    p = subprocess.Popen([sys.executable, "-m", "greenbond", "feeder", *args], stdin=slave, stdout=slave,
                         stderr=slave, cwd=REPO_ROOT, env=env(), close_fds=True)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            p.kill()
            raise AssertionError(f"no output for {timeout} s: {out[-2000:]!r}")
        try:
            chunk = os.read(master, 65536)
        except OSError:          # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=60), out.decode("utf-8", errors="replace")


def screen(output: str) -> list[str]:
    """The lines a terminal shows at the end: \\r returns to column 0, \\n starts a line, a
    character overwrites what is under the cursor."""
    lines, row, col = [[]], 0, 0
    for ch in output:
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append([])
        else:
            line = lines[row]
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return ["".join(line).rstrip() for line in lines]


def test_on_a_terminal_logs_are_text_and_the_bar_never_overwrites_them(chain, tmp_path):
    args = ["backfill", "--rpc", chain.url, "--db", str(tmp_path / "f.sqlite"), "--deployments",
            str(chain.deployments), "--from", iso(day(0)), "--to", iso(day(3)), "--batch-size", "24"]
    rc, out = on_pty(args)
    assert rc == 0, out[-3000:]
    assert '{"ts"' not in out                               # no JSON on a terminal
    assert re.search(r"backfill:\s+\d+%\|", out), out[-2000:]   # the bar was drawn
    shown = screen(out)
    logs = [line for line in shown if LOG_LINE.match(line)]
    assert len(logs) >= 10, shown
    for line in shown:
        if "info" in line or "warning" in line:
            # a log line is whole: it starts at column 0 with its time, and no bar is mixed in
            assert LOG_LINE.match(line) or line.startswith("backfill 20"), line
            assert "%|" not in line and "h/s]" not in line, line
    assert any(line.startswith("backfill 20") and "144 new hours" in line for line in shown)

    # asked for JSON, a terminal gets JSON lines
    rc, out = on_pty(args[:1] + ["--log-format", "json"] + args[1:])
    assert rc == 0
    events = [json.loads(line) for line in screen(out) if line.startswith('{"ts"')]
    assert events and all("event" in e for e in events)


def test_elsewhere_json_lines_and_no_bar(chain, tmp_path):
    p = subprocess.run([sys.executable, "-m", "greenbond", "feeder", "backfill", "--rpc", chain.url, "--db",
                        str(tmp_path / "f.sqlite"), "--deployments", str(chain.deployments), "--from", iso(day(3)),
                        "--to", iso(day(4)), "--log-level", "warning"],
                       cwd=REPO_ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] in ("warning", "error") for line in lines)   # --log-level
    assert "%|" not in p.stderr


def test_formats_by_stream_and_option():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    log = logging.getLogger("greenbond.feeder.test")
    for stream, fmt, text in ((Tty(), "auto", True), (io.StringIO(), "auto", False), (Tty(), "json", False),
                              (io.StringIO(), "text", True)):
        setup_logging(stream, log_format=fmt)
        log.info("hello", extra={"event": "greeting", "count": 2})
        line = stream.getvalue().strip()
        if text:
            assert re.match(r"^\d\d:\d\d:\d\d info greeting: hello \(count=2\)$", line), line
        else:
            assert json.loads(line)["event"] == "greeting" and json.loads(line)["count"] == 2
    setup_logging(io.StringIO())
