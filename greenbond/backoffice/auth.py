"""Back office accounts, logins, lockout and sessions.

Accounts live in a JSON file (default `.demo/backoffice/accounts.json`, mode 0600, rewritten
atomically)::

    {"kind": "greenbond-backoffice-accounts", "version": 1,
     "accounts": {"alice": {"role": "agent", "address": "0x...", "hash": "$argon2id$v=19$m=65536,t=3,p=4$..."}}}

Passwords are kept only as argon2id hashes (argon2-cffi's PasswordHasher, RFC 9106 parameters);
a hash made with older parameters is replaced at the next successful login. Each account acts for
one on-chain role (`ROLES`) of one address; the pages check that role on chain before acting.

Failed logins and sessions live in a small SQLite file beside the accounts file
(`accounts.state.sqlite`), so they hold across the server's processes and restarts:

* `MAX_FAILURES` failed logins for a user name lock it for `LOCK_SECONDS` (the correct password is
  refused while locked). Unknown names are counted and locked the same way and are checked against
  a dummy hash, so neither the answer nor its timing tells whether a name exists.
* A session is a random 256-bit token; only its SHA-256 is stored. It ends after `IDLE_SECONDS`
  without use, `ABSOLUTE_SECONDS` after login, at logout, or when the account changes.

The clock is injectable (`clock=`), so tests move time instead of sleeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from greenbond.backoffice.audit import UNKNOWN_USER, AuditLog, default_audit_path
from greenbond.config import REPO_ROOT

DEFAULT_ACCOUNTS = REPO_ROOT / ".demo" / "backoffice" / "accounts.json"
ACCOUNTS_ENV = "GREENBOND_BACKOFFICE_ACCOUNTS"
ACCOUNTS_KIND = "greenbond-backoffice-accounts"
ACCOUNTS_VERSION = 1

# role -> what it acts for on chain (contract, role constant)
ROLES: dict[str, tuple[str, str]] = {
    "issuer": ("GreenBond", "DEFAULT_ADMIN_ROLE"),      # the issuer: admin of the bond
    "agent": ("HolderRegistry", "REGISTRAR_ROLE"),     # registers holders (HolderRegistry.registerHolder)
}

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 8 * 3600
MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class AuthError(ValueError):
    """An account cannot be created, read or changed; the message is a sentence for a person."""


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    address: str


@dataclass(frozen=True)
class Session:
    """A logged-in user. `token` is what the page keeps; the store keeps only its hash."""

    token: str
    username: str
    role: str
    address: str
    created: float
    last_seen: float


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str                      # a sentence for the login form
    session: Session | None = None
    locked_until: float | None = None


@dataclass(frozen=True)
class Policy:
    max_failures: int = MAX_FAILURES
    lock_seconds: int = LOCK_SECONDS
    idle_seconds: int = IDLE_SECONDS
    absolute_seconds: int = ABSOLUTE_SECONDS


WRONG = "Wrong user name or password."


def default_accounts_path(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(ACCOUNTS_ENV) or DEFAULT_ACCOUNTS)


def state_path(accounts_path: str | Path) -> Path:
    """accounts.json -> accounts.state.sqlite, beside it."""
    p = Path(accounts_path)
    return p.with_name(p.stem + ".state.sqlite")


def check_username(username: str) -> str:
    name = (username or "").strip()
    if not USERNAME.fullmatch(name):
        raise AuthError("A user name is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
                        "starting with a letter or digit.")
    return name


def check_address(address: str) -> str:
    from eth_utils import to_checksum_address

    text = (address or "").strip()
    if not ADDRESS.fullmatch(text):
        raise AuthError(f"{text!r} is not an address (0x and 40 hex digits).")
    return to_checksum_address(text)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_DUMMY: dict[tuple, str] = {}


class AuthStore:
    """The accounts file and its state database. Cheap to create: a page makes one per render."""

    def __init__(self, accounts_path: str | Path | None = None, *, clock: Callable[[], float] | None = None,
                 policy: Policy | None = None, hasher: PasswordHasher | None = None, audit: AuditLog | None = None):
        self.path = Path(accounts_path) if accounts_path is not None else default_accounts_path()
        self.clock = clock or time.time
        self.policy = policy or Policy()
        self.hasher = hasher or PasswordHasher(type=Type.ID)
        self.audit = audit or AuditLog(default_audit_path(self.path), clock=self.clock)

    # ---------------------------------------------------------------- the accounts file

    def _read(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AuthError(f"The accounts file {self.path} cannot be read ({exc.strerror}).") from None
        try:
            doc = json.loads(text)
        except ValueError:
            raise AuthError(f"The accounts file {self.path} is not JSON.") from None
        if not isinstance(doc, dict) or doc.get("kind") != ACCOUNTS_KIND or doc.get("version") != ACCOUNTS_VERSION:
            raise AuthError(f"{self.path} is not a back office accounts file (kind {ACCOUNTS_KIND!r}, version 1).")
        accounts = doc.get("accounts")
        if not isinstance(accounts, dict) or not all(
                isinstance(a, dict) and {"role", "address", "hash"} <= set(a) for a in accounts.values()):
            raise AuthError(f"The accounts file {self.path} is damaged (each account needs role, address and hash).")
        return accounts

    def _write(self, accounts: dict) -> None:
        doc = {"kind": ACCOUNTS_KIND, "version": ACCOUNTS_VERSION, "accounts": dict(sorted(accounts.items()))}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(doc, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def _accounts_for_update(self) -> Iterator[dict]:
        """The accounts, locked against other writers; written back when the block ends cleanly."""
        import fcntl

        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            accounts = self._read()
            before = json.dumps(accounts, sort_keys=True)
            yield accounts
            if json.dumps(accounts, sort_keys=True) != before:
                self._write(accounts)
        finally:
            os.close(fd)

    def accounts(self) -> list[Account]:
        return [Account(name, a["role"], a["address"]) for name, a in sorted(self._read().items())]

    def account(self, username: str) -> Account | None:
        a = self._read().get(username)
        return Account(username, a["role"], a["address"]) if a else None

    def has_accounts(self) -> bool:
        """Whether at least one account can log in: the condition for serving beyond loopback."""
        try:
            return bool(self._read())
        except AuthError:
            return False

    def add(self, username: str, password: str, role: str, address: str, *, replace: bool = False) -> Account:
        """Creates an account (or, with `replace`, sets a new password, role and address)."""
        name = check_username(username)
        if role not in ROLES:
            raise AuthError(f"Unknown role {role!r}: one of {', '.join(ROLES)}.")
        addr = check_address(address)
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise AuthError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
        with self._accounts_for_update() as accounts:
            if name in accounts and not replace:
                raise AuthError(f"The account {name!r} exists already.")
            accounts[name] = {"role": role, "address": addr, "hash": self.hasher.hash(password)}
        self.unlock(name)
        self._end_sessions(name)
        return Account(name, role, addr)

    def remove(self, username: str) -> None:
        with self._accounts_for_update() as accounts:
            if accounts.pop(username, None) is None:
                raise AuthError(f"There is no account {username!r}.")
        self._end_sessions(username)

    # ---------------------------------------------------------------- the state database

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        path = state_path(self.path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        new = not path.exists()
        con = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            if new:
                os.chmod(path, 0o600)
            con.execute("CREATE TABLE IF NOT EXISTS failures (username TEXT PRIMARY KEY, count INTEGER NOT NULL, "
                        "first_at REAL NOT NULL, locked_until REAL)")
            con.execute("CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, "
                        "created REAL NOT NULL, last_seen REAL NOT NULL)")
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def locked_until(self, username: str) -> float | None:
        """When the lock on `username` ends, or None when it is not locked now."""
        with self._db() as con:
            row = con.execute("SELECT locked_until FROM failures WHERE username = ?", (username,)).fetchone()
        return row[0] if row and row[0] and row[0] > self.clock() else None

    def unlock(self, username: str) -> bool:
        """Clears the failures and the lock of `username`; whether there was anything to clear."""
        with self._db() as con:
            return con.execute("DELETE FROM failures WHERE username = ?", (username,)).rowcount > 0

    def _fail(self, username: str, now: float) -> tuple[int, float | None]:
        """Counts a failure; (failures so far, locked until or None)."""
        p = self.policy
        with self._db() as con:
            row = con.execute("SELECT count, first_at, locked_until FROM failures WHERE username = ?",
                              (username,)).fetchone()
            count, first_at = (row[0], row[1]) if row else (0, now)
            if row and (row[2] or now - first_at > p.lock_seconds):   # an ended lock or old failures start afresh
                count, first_at = 0, now
            count += 1
            until = now + p.lock_seconds if count >= p.max_failures else None
            con.execute("INSERT OR REPLACE INTO failures (username, count, first_at, locked_until) VALUES (?, ?, ?, ?)",
                        (username, count, first_at, until))
        return count, until

    # ---------------------------------------------------------------- login and sessions

    def _dummy_hash(self) -> str:
        key = (self.hasher.time_cost, self.hasher.memory_cost, self.hasher.parallelism, self.hasher.type)
        if key not in _DUMMY:
            _DUMMY[key] = self.hasher.hash(secrets.token_hex(16))
        return _DUMMY[key]

    def login(self, username: str, password: str) -> LoginResult:
        """Checks a password. Every outcome is written to the audit log: login, login_failed, locked."""
        now = self.clock()
        name = (username or "").strip()
        known = USERNAME.fullmatch(name) is not None
        record = self._read().get(name) if known else None
        audit_name = name if record else UNKNOWN_USER      # a mistyped password in the name field stays out of the log
        until = self.locked_until(name) if known else None
        if until is not None:
            self.audit.record(audit_name, record["role"] if record else "", "login_failed", reason="locked",
                              locked_until=_iso(until))
            return LoginResult(False, _locked_message(until, now), locked_until=until)
        ok = False
        try:
            ok = self.hasher.verify(record["hash"] if record else self._dummy_hash(), password or "") and record is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            count, until = self._fail(name, now) if known else (0, None)
            if until is not None:
                self.audit.record(audit_name, record["role"] if record else "", "locked", failures=count,
                                  locked_until=_iso(until))
                return LoginResult(False, _locked_message(until, now), locked_until=until)
            self.audit.record(audit_name, record["role"] if record else "", "login_failed", reason="wrong password",
                              failures=count)
            return LoginResult(False, WRONG)
        if self.hasher.check_needs_rehash(record["hash"]):
            with self._accounts_for_update() as accounts:
                if name in accounts and accounts[name]["hash"] == record["hash"]:
                    accounts[name]["hash"] = self.hasher.hash(password)
        token = secrets.token_urlsafe(32)
        with self._db() as con:
            con.execute("DELETE FROM failures WHERE username = ?", (name,))
            con.execute("DELETE FROM sessions WHERE last_seen < ? OR created < ?",
                        (now - self.policy.idle_seconds, now - self.policy.absolute_seconds))
            con.execute("INSERT INTO sessions (token_hash, username, created, last_seen) VALUES (?, ?, ?, ?)",
                        (_token_hash(token), name, now, now))
        self.audit.record(name, record["role"], "login")
        return LoginResult(True, f"Logged in as {name}.",
                           Session(token, name, record["role"], record["address"], now, now))

    def session(self, token: str | None) -> Session | None:
        """The session of `token` if it is still valid (and marks it used), else None.

        Expired sessions are deleted and their ending written to the audit log."""
        if not token:
            return None
        now = self.clock()
        with self._db() as con:
            row = con.execute("SELECT username, created, last_seen FROM sessions WHERE token_hash = ?",
                              (_token_hash(token),)).fetchone()
            if row is None:
                return None
            name, created, last_seen = row
            p = self.policy
            if now - last_seen > p.idle_seconds or now - created > p.absolute_seconds:
                con.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
                expired = True
            else:
                con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _token_hash(token)))
                expired = False
        account = self.account(name)
        if expired or account is None:
            if expired:
                self.audit.record(name, account.role if account else "", "session_expired")
            return None
        return Session(token, name, account.role, account.address, created, now)

    def logout(self, token: str | None) -> None:
        if not token:
            return
        with self._db() as con:
            row = con.execute("SELECT username FROM sessions WHERE token_hash = ?", (_token_hash(token),)).fetchone()
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
        if row:
            account = self.account(row[0])
            self.audit.record(row[0], account.role if account else "", "logout")

    def _end_sessions(self, username: str) -> None:
        with self._db() as con:
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _locked_message(until: float, now: float) -> str:
    minutes = max(1, int((until - now + 59) // 60))
    return (f"Too many failed logins: this account is locked for {minutes} more minute{'s' if minutes != 1 else ''} "
            "(an administrator can unlock it with `python -m greenbond.backoffice accounts unlock`).")
