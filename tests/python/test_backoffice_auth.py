"""The back office's accounts, logins, lockout, sessions, audit log and binding rule, without a
chain: greenbond.backoffice.auth / audit / accounts. Time is moved by a fake clock, not slept."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type

from greenbond.backoffice import accounts as cli
from greenbond.backoffice.audit import AuditLog
from greenbond.backoffice.auth import (ABSOLUTE_SECONDS, IDLE_SECONDS, LOCK_SECONDS, MAX_FAILURES, WRONG, AuthError,
                                       AuthStore, state_path)

REPO = Path(__file__).resolve().parents[2]
ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PASSWORD = "correct horse battery staple"
# low-cost argon2id for speed; one test checks that the default parameters replace it
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path, clock) -> AuthStore:
    s = AuthStore(tmp_path / "bo" / "accounts.json", clock=clock, hasher=FAST)
    s.add("alice", PASSWORD, "agent", ADDR.lower())
    return s


def test_password_is_an_argon2id_hash_never_plaintext(store):
    raw = store.path.read_bytes()
    assert PASSWORD.encode() not in raw
    doc = json.loads(raw)
    entry = doc["accounts"]["alice"]
    assert entry["hash"].startswith("$argon2id$")
    assert entry["address"] == ADDR                              # checksummed
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    for f in store.path.parent.iterdir():
        assert PASSWORD.encode() not in f.read_bytes(), f


def test_login_and_wrong_password(store):
    ok = store.login("alice", PASSWORD)
    assert ok.ok and ok.session.role == "agent" and ok.session.address == ADDR
    bad = store.login("alice", PASSWORD + "x")
    assert not bad.ok and bad.message == WRONG and bad.session is None
    actions = store.audit.actions()
    assert actions == ["login", "login_failed"]
    assert PASSWORD not in store.audit.path.read_text()


def test_unknown_user_gets_the_same_answer_and_is_not_named_in_the_log(store):
    res = store.login("mallory", PASSWORD)
    assert not res.ok and res.message == WRONG
    typed_password_as_name = store.login("hunter2-secret", "x")
    assert not typed_password_as_name.ok
    log = store.audit.path.read_text()
    assert "mallory" not in log and "hunter2" not in log
    assert [e.user for e in store.audit.entries()] == ["<unknown>", "<unknown>"]


def test_lockout_after_repeated_failures_and_unlock_after_the_lock_time(store, clock):
    for _ in range(MAX_FAILURES - 1):
        assert store.login("alice", "wrong password!").message == WRONG
    locked = store.login("alice", "wrong password!")
    assert not locked.ok and "locked" in locked.message
    assert store.audit.actions()[-1] == "locked"
    still = store.login("alice", PASSWORD)                      # the right password is refused while locked
    assert not still.ok and "locked" in still.message
    clock.advance(LOCK_SECONDS - 1)
    assert not store.login("alice", PASSWORD).ok
    clock.advance(2)
    assert store.login("alice", PASSWORD).ok
    assert store.locked_until("alice") is None


def test_unknown_users_lock_like_known_ones(store):
    for _ in range(MAX_FAILURES):
        res = store.login("nobody", "x")
    assert "locked" in res.message


def test_admin_unlock(store, capsys):
    for _ in range(MAX_FAILURES):
        store.login("alice", "nope")
    assert store.locked_until("alice")
    assert cli.main(["accounts", "unlock", "alice", "--accounts", str(store.path)]) == 0
    assert "unlocked" in capsys.readouterr().out
    assert store.login("alice", PASSWORD).ok


def test_session_idle_and_absolute_expiry(store, clock):
    token = store.login("alice", PASSWORD).session.token
    assert store.session(token).username == "alice"
    clock.advance(IDLE_SECONDS - 10)
    assert store.session(token) is not None                     # used: the idle timer restarts
    clock.advance(IDLE_SECONDS + 1)
    assert store.session(token) is None
    assert "session_expired" in store.audit.actions()
    token = store.login("alice", PASSWORD).session.token
    for _ in range(ABSOLUTE_SECONDS // (IDLE_SECONDS - 60) + 1):
        clock.advance(IDLE_SECONDS - 60)
        alive = store.session(token)
    assert alive is None                                        # 8 h after login, however busy


def test_sessions_store_only_a_hash_and_end_at_logout_or_account_change(store):
    token = store.login("alice", PASSWORD).session.token
    assert token.encode() not in state_path(store.path).read_bytes()
    store.logout(token)
    assert store.session(token) is None
    token = store.login("alice", PASSWORD).session.token
    store.add("alice", "another long password", "agent", ADDR, replace=True)
    assert store.session(token) is None
    assert store.session("made-up") is None and store.session(None) is None


def test_rehash_when_parameters_change(store, clock):
    old = json.loads(store.path.read_text())["accounts"]["alice"]["hash"]
    strong = AuthStore(store.path, clock=clock)                 # argon2-cffi's default (RFC 9106) parameters
    assert strong.login("alice", PASSWORD).ok
    new = json.loads(store.path.read_text())["accounts"]["alice"]["hash"]
    assert new != old and new.startswith("$argon2id$") and "m=65536" in new
    assert strong.login("alice", PASSWORD).ok


def test_bad_account_input_is_a_sentence(store):
    with pytest.raises(AuthError, match="exists already"):
        store.add("alice", PASSWORD, "agent", ADDR)
    with pytest.raises(AuthError, match="at least 12"):
        store.add("bob", "short", "agent", ADDR)
    with pytest.raises(AuthError, match="Unknown role"):
        store.add("bob", PASSWORD, "admin", ADDR)
    with pytest.raises(AuthError, match="not an address"):
        store.add("bob", PASSWORD, "agent", "0x1234")
    with pytest.raises(AuthError, match="user name"):
        store.add("Bob Smith", PASSWORD, "agent", ADDR)
    store.path.write_text("not json")
    with pytest.raises(AuthError, match="not JSON"):
        store.login("alice", PASSWORD)


def test_audit_log_refuses_personal_fields(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(ValueError, match="not allowed"):
        log.record("alice", "agent", "open_personal_details", name="Sakura Life")
    log.record("alice", "agent", "open_personal_details", at="latest", block=7, holders=5)
    (entry,) = log.entries()
    assert entry.details == {"at": "latest", "block": 7, "holders": 5} and entry.at.endswith("Z")


def test_cli_add_reads_the_password_from_stdin_not_argv(tmp_path, monkeypatch, capsys):
    path = tmp_path / "accounts.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["accounts", "add", "carol", "--role", "issuer", "--address", ADDR, "--password-stdin",
                     "--accounts", str(path)]) == 0
    assert "carol: issuer (GreenBond DEFAULT_ADMIN_ROLE)" in capsys.readouterr().out
    assert AuthStore(path).login("carol", PASSWORD).ok
    assert cli.main(["accounts", "list", "--accounts", str(path)]) == 0
    assert "carol" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["accounts", "add", "dave", "--role", "agent", "--address", ADDR, "--password-stdin",
                     "--accounts", str(path)]) == 2
    assert capsys.readouterr().err.startswith("error: a password has at least 12")


def _serve(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "greenbond.backoffice", "serve", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.10", "::"])
def test_serve_refuses_a_network_interface_without_accounts(tmp_path, address):
    proc = _serve("--address", address, "--port", "1", "--accounts", str(tmp_path / "none.json"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to serve the back office on"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_bind_rule(tmp_path):
    empty = tmp_path / "accounts.json"
    for loopback in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        cli.check_bind(loopback, empty)                         # loopback: always allowed
    with pytest.raises(cli.CommandError):
        cli.check_bind("0.0.0.0", empty)
    AuthStore(empty, hasher=FAST).add("alice", PASSWORD, "agent", ADDR)
    cli.check_bind("0.0.0.0", empty)                            # a login now protects it


def test_demo_account_only_for_a_local_chain(tmp_path):
    path = tmp_path / "accounts.json"
    user, password = cli.ensure_demo_account(path)
    assert user == "demo-agent" and len(password) >= 16
    assert AuthStore(path).login(user, password).ok
    again = cli.ensure_demo_account(path)[1]
    assert again != password and AuthStore(path).login(user, again).ok
    with pytest.raises(AuthError, match="local chain"):
        cli.ensure_demo_account(path, chain_id=1)
