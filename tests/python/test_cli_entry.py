"""The installed `greenbond` command (pyproject.toml, installed editable by `make setup`): one
entry point listing every subcommand, a version, and the commands with their own parser
(demo, backoffice) reached with every argument, --help included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from greenbond import __version__
from greenbond.cli import PASSTHROUGH, SUBCOMMANDS

EXE = shutil.which("greenbond", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def greenbond():
    assert EXE, "the greenbond command is not installed in this venv: run `make setup` (pip install -e .)"

    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        full_env = {k: v for k, v in os.environ.items() if k != "GREENBOND_RPC_URL"} | (env or {})
        return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, cwd="/", env=full_env)
    return run


def test_version(greenbond):
    out = greenbond("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"greenbond {__version__}"


def test_help_lists_every_command(greenbond):
    out = greenbond("--help")
    assert out.returncode == 0
    for name in [*SUBCOMMANDS, *PASSTHROUGH]:
        assert f"    {name}" in out.stdout, name


@pytest.mark.parametrize("name, words", [("backoffice", "usage: greenbond backoffice"), ("demo", "--no-serve")])
def test_commands_with_their_own_parser_get_every_argument(greenbond, name, words):
    out = greenbond(name, "--help")
    assert out.returncode == 0 and words in out.stdout


def test_unknown_command_is_a_usage_error(greenbond):
    out = greenbond("deploy-everything")
    assert out.returncode == 2 and "invalid choice" in out.stderr and "Traceback" not in out.stderr


# ---------------------------------------------------------------- user mistakes are one line (issue 14's list)


@pytest.mark.parametrize("args, words", [
    (["feeder", "run", "--batch-size", "0"], "argument --batch-size: 0 must be at least 1"),
    (["feeder", "run", "--batch-size", "x"], "argument --batch-size: 'x' is not a whole number"),
    (["feeder", "run", "--gas-price", "-1"], "argument --gas-price: -1 must not be negative"),
    (["feeder", "run", "--facilities", "/nonexistent/facilities.toml", "--rpc", "http://127.0.0.1:9"],
     "error: cannot read the facility file /nonexistent/facilities.toml: No such file or directory"),
    (["feeder", "run", "--methodology", "/nonexistent/v1.toml", "--rpc", "http://127.0.0.1:9"],
     "error: cannot read the methodology file /nonexistent/v1.toml: No such file or directory"),
    (["register", "--out", "/etc/hostname/sub/", "--rpc", "http://127.0.0.1:9"],
     "error: cannot write the register to /etc/hostname/sub: /etc/hostname is not a writable folder"),
    (["dvp", "offer", "--to", "0x12ab", "--units", "1", "--price", "1"],
     "argument --to: '0x12ab' is not an address (0x and 40 hex digits) nor 'any'"),
    (["dvp", "offer", "--to", "any", "--units", "0", "--price", "1"], "argument --units: 0 must be at least 1"),
    (["offering", "settle", "--batch", "0"], "argument --batch: 0 must be at least 1"),
    (["feeder", "run", "--db", "/sys/greenbond-feeder.sqlite", "--rpc", "http://127.0.0.1:9"],
     "error: cannot write beside the feeder database /sys/greenbond-feeder.sqlite"),
    (["deploy", "--config", "/nonexistent/bond.toml", "--rpc", "http://127.0.0.1:9"],
     "error: bond config: file: /nonexistent/bond.toml does not exist"),
])
def test_user_mistakes_are_one_line(greenbond, args, words):
    out = greenbond(*args)
    lines = out.stderr.strip().splitlines()
    assert out.returncode in (1, 2) and lines and words in lines[-1], out.stderr[-1500:]
    assert "Traceback" not in out.stderr
    if out.returncode == 1:          # a mistake found by the command: one line; 2: argparse's usage, then one line
        assert len(lines) == 1, lines


@pytest.mark.parametrize("args", [["register", "--out", "/tmp/"], ["offering", "status"], ["dvp", "list"]])
def test_every_command_honours_GREENBOND_RPC_URL(greenbond, args):
    """As the apps do: the node named by the environment, not the demo chain's default. (The
    feeder takes the same default; its commands wait for a node that is down, issue 17.)"""
    url = "http://127.0.0.1:9"       # nothing listens on the discard port
    out = greenbond(*args, env={"GREENBOND_RPC_URL": url})
    assert out.returncode == 1 and "127.0.0.1:9" in out.stderr and "8546" not in out.stderr, out.stderr[-800:]


def test_a_time_without_an_offset_is_in_the_bonds_time_zone_everywhere():
    """offering/dvp read "2023-12-14T09:00" as the feeder does: the bond's zone (Asia/Tokyo), not UTC."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from greenbond.offering_cli import bond_timezone, parse_time

    assert bond_timezone() == ZoneInfo("Asia/Tokyo")
    jst_nine = int(dt.datetime(2023, 12, 14, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp())
    assert parse_time("2023-12-14T09:00", now=0) == jst_nine
    assert parse_time("2023-12-14T00:00Z", now=0) == jst_nine          # an offset given is kept
    assert parse_time("2023-12-14T09:00+09:00", now=0) == jst_nine
    assert parse_time("+2h", now=100) == 7_300 and parse_time("1702512000", now=0) == 1_702_512_000


def test_our_warnings_are_one_line():
    """An issuer key file others can read is a warning, on one line like the errors, not Python's
    two-line file:line format."""
    import warnings

    from greenbond.cli import _one_line_warnings
    from greenbond.holders import IssuerKeyPermissionWarning

    saved = warnings.formatwarning
    try:
        _one_line_warnings()
        ours = warnings.formatwarning("issuer private key /k has mode 0644;\n it should be 0600",
                                      IssuerKeyPermissionWarning, "/x/holders.py", 276)
        theirs = warnings.formatwarning("someone else's", DeprecationWarning, "/x/lib.py", 9)
    finally:
        warnings.formatwarning = saved
    assert ours == "warning: issuer private key /k has mode 0644; it should be 0600\n"
    assert "DeprecationWarning: someone else's" in theirs     # other libraries keep Python's format


@pytest.mark.parametrize("args", [["deploy"], ["register"], ["offering", "status"], ["dvp", "list"],
                                  ["feeder", "status"], ["feeder", "run"]])
def test_every_command_reads_the_same_environment(monkeypatch, tmp_path, args):
    """One spelling everywhere: --deployments-dir (default GREENBOND_DEPLOYMENTS), the node from
    GREENBOND_RPC_URL, and the feeder's database from GREENBOND_FEEDER_DB."""
    import importlib

    import greenbond.feeder.cli
    from greenbond import cli

    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(tmp_path / "dep"))
    monkeypatch.setenv("GREENBOND_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GREENBOND_FEEDER_DB", str(tmp_path / "f.sqlite"))
    importlib.reload(greenbond.feeder.cli)            # its --db default is read at import
    try:
        ns = cli.build_parser().parse_args(args)
    finally:
        monkeypatch.undo()
        importlib.reload(greenbond.feeder.cli)
    deployments = getattr(ns, "deployments_dir", None) or getattr(ns, "deployments", None)
    assert str(deployments) == str(tmp_path / "dep")
    assert ns.rpc == "http://127.0.0.1:9"
    if args[0] == "feeder":
        assert str(ns.db) == str(tmp_path / "f.sqlite")
