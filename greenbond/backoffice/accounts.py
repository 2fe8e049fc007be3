"""`python -m greenbond.backoffice`: manage back office accounts and serve the back office.

    accounts add USER --role agent|issuer --address 0x... [--accounts FILE] [--password-stdin]
    accounts list [--accounts FILE]
    accounts unlock USER [--accounts FILE]
    accounts remove USER [--accounts FILE]
    serve [--address 127.0.0.1] [--port 8502] [--accounts FILE]

A password is typed at a prompt (twice) or read from the first line of stdin with
--password-stdin; never from the command line, where `ps` and the shell history would keep it.

`serve` binds to 127.0.0.1 unless told otherwise, and refuses (exit 2) any address that is not a
loopback address while the accounts file is missing or holds no account: a back office reachable
from the network must never be up before a login can protect it. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import secrets
import sys
from pathlib import Path

from greenbond.backoffice.auth import (ACCOUNTS_ENV, DEFAULT_ACCOUNTS, MIN_PASSWORD_LENGTH, ROLES, AuthError,
                                       AuthStore, check_address, default_accounts_path)
from greenbond.config import REPO_ROOT

DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8502
APP = REPO_ROOT / "backoffice" / "Home.py"
DEMO_USER = "demo-agent"
DEV_CHAIN_IDS = frozenset({31337, 1337})
# Anvil's first account: deployer, issuer and registrar of the local demo chain (public dev key)
DEMO_AGENT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


class CommandError(RuntimeError):
    """Ends a command with a one-line message and exit code 2."""


def is_loopback(address: str) -> bool:
    """Whether binding to `address` keeps the server off the network (127.0.0.0/8, ::1, localhost)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(address: str, accounts_path: Path) -> None:
    """Refuses a non-loopback bind while no account exists (see the module doc)."""
    if is_loopback(address):
        return
    if not AuthStore(accounts_path).has_accounts():
        raise CommandError(
            f"refusing to serve the back office on {address}: no accounts in {accounts_path}; create one with "
            "`python -m greenbond.backoffice accounts add USER --role ROLE --address 0x...` or bind to 127.0.0.1")


def streamlit_command(address: str, port: int) -> list[str]:
    """The Streamlit command line: headless, no usage statistics, no file watcher, no error details
    (tracebacks and exception messages go to the server's console only), XSRF protection on."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", address, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--server.enableXsrfProtection", "true",
            "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal"]


def serve(address: str, port: int, accounts_path: Path) -> None:
    """Replaces this process with Streamlit serving backoffice/ (so stopping it stops the server)."""
    check_bind(address, accounts_path)
    if not 0 < port < 65536:
        raise CommandError(f"--port {port} is not a TCP port")
    env = dict(os.environ, **{ACCOUNTS_ENV: str(accounts_path)})
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if not AuthStore(accounts_path).has_accounts():
        print(f"note: no accounts in {accounts_path} yet: nobody can log in until one is added", file=sys.stderr)
    print(f"Back office at http://{address}:{port} (accounts {accounts_path})", file=sys.stderr, flush=True)
    cmd = streamlit_command(address, port)
    os.chdir(REPO_ROOT)
    os.execve(cmd[0], cmd, env)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password: give it on stdin with --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise CommandError("the two passwords differ")
    return first


def ensure_demo_account(accounts_path: str | Path | None = None, *, chain_id: int = 31337,
                        address: str = DEMO_AGENT_ADDRESS) -> tuple[str, str]:
    """For `make demo` only: the `demo-agent` account with a fresh random password, bound to the
    local chain's agent (Anvil's first account, the registrar of the demo). Refused for any chain
    that is not a local dev chain, so a demo password never guards real personal data. Returns
    (user name, password); the password exists nowhere else, so the caller prints it once."""
    if int(chain_id) not in DEV_CHAIN_IDS:
        raise AuthError(f"the demo account is only for a local chain (31337 or 1337), not chain {chain_id}")
    password = secrets.token_urlsafe(15)
    AuthStore(accounts_path or DEFAULT_ACCOUNTS).add(DEMO_USER, password, "agent", address, replace=True)
    return DEMO_USER, password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenbond backoffice",
                                     description="The issuer back office: accounts and server.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    accounts_help = f"the accounts file (default ${ACCOUNTS_ENV} or {DEFAULT_ACCOUNTS.relative_to(REPO_ROOT)})"

    acc = sub.add_parser("accounts", help="add, list, unlock or remove accounts")
    asub = acc.add_subparsers(dest="action", required=True)
    add = asub.add_parser("add", help="create an account (the password is prompted for)")
    add.add_argument("user")
    add.add_argument("--role", required=True, choices=sorted(ROLES),
                     help="issuer: GreenBond DEFAULT_ADMIN_ROLE; agent: HolderRegistry REGISTRAR_ROLE")
    add.add_argument("--address", required=True, help="the on-chain address the account acts for")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    add.add_argument("--replace", action="store_true", help="replace an existing account's password, role, address")
    for name, hlp in (("list", "list accounts and locks"), ("unlock", "clear failed logins and a lock"),
                      ("remove", "delete an account and end its sessions")):
        p = asub.add_parser(name, help=hlp)
        if name != "list":
            p.add_argument("user")
    for p in asub.choices.values():
        p.add_argument("--accounts", type=Path, default=None, help=accounts_help)

    srv = sub.add_parser("serve", help="serve the back office with Streamlit")
    srv.add_argument("--address", default=DEFAULT_ADDRESS, help="interface to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=DEFAULT_PORT)
    srv.add_argument("--accounts", type=Path, default=None, help=accounts_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = args.accounts or default_accounts_path()
    try:
        if args.cmd == "serve":
            serve(args.address, args.port, path)
            return 0   # not reached: serve execs Streamlit
        store = AuthStore(path)
        if args.action == "add":
            check_address(args.address)          # before asking for a password
            if args.role not in ROLES:
                raise CommandError(f"unknown role {args.role!r}")
            password = read_password(args.password_stdin)
            if len(password) < MIN_PASSWORD_LENGTH:
                raise CommandError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
            acc = store.add(args.user, password, args.role, args.address, replace=args.replace)
            contract, role = ROLES[acc.role]
            print(f"{acc.username}: {acc.role} ({contract} {role}) for {acc.address} in {path}")
        elif args.action == "list":
            accounts = store.accounts()
            if not accounts:
                print(f"no accounts in {path}")
            for acc in accounts:
                until = store.locked_until(acc.username)
                lock = "  LOCKED" if until else ""
                print(f"{acc.username:<24} {acc.role:<7} {acc.address}{lock}")
        elif args.action == "unlock":
            if store.account(args.user) is None:
                raise CommandError(f"there is no account {args.user!r} in {path}")
            print(f"{args.user}: {'unlocked' if store.unlock(args.user) else 'was not locked'}")
        elif args.action == "remove":
            store.remove(args.user)
            print(f"{args.user}: removed, sessions ended")
    except (CommandError, AuthError) as exc:
        msg = str(exc)
        print(f"error: {msg[0].lower() + msg[1:] if msg else msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
