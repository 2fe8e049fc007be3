"""The back office's audit log: who opened personal details, who exported them, who logged in.

One JSON object a line, appended with O_APPEND under an exclusive lock and fsync'd before the
call returns, so an entry that a page reported as written survives a crash and concurrent
sessions never interleave lines. The process never rewrites or truncates the file (the log is
append-only by construction; protecting it from root is the operating system's job).

An entry is {"at": UTC ISO 8601, "user", "role", "action", "details": {...}}. Details describe the
event (the register's date or block, how many holders were shown, a wallet that was registered,
a transaction hash) and never contain personal data: `record` refuses keys it does not know, so a
caller cannot slip a name or an address into the log by accident.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

ACTIONS = (
    "login", "login_failed", "locked", "logout", "session_expired",
    "open_personal_details", "export_register_csv", "register_holder", "register_holder_failed",
    "view_audit_log",
)
# The detail keys an entry may carry: descriptions of the event, never a holder's details.
DETAIL_KEYS = frozenset({
    "at", "block", "holders", "personal_details", "reason", "failures", "locked_until", "wallet", "tx",
    "chain_id", "role_on_chain", "entries",
})
UNKNOWN_USER = "<unknown>"


class AuditError(RuntimeError):
    """The audit log cannot be written or read; the message is a sentence for a person."""


@dataclass(frozen=True)
class AuditEntry:
    at: str
    user: str
    role: str
    action: str
    details: dict


def _utc_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class AuditLog:
    """An append-only JSON-lines file. `clock` (unix seconds) is injectable for tests."""

    def __init__(self, path: str | Path, clock: Callable[[], float] | None = None):
        import time

        self.path = Path(path)
        self._clock = clock or time.time

    def record(self, user: str, role: str, action: str, **details) -> AuditEntry:
        """Appends one entry and fsyncs it; raises AuditError when it cannot be written, so a
        caller that must not show personal details without an audit trail can stop first."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        unknown = set(details) - DETAIL_KEYS
        if unknown:
            raise ValueError(f"audit details {sorted(unknown)} are not allowed (no personal data in the log)")
        entry = AuditEntry(_utc_iso(self._clock()), user, role, action, details)
        line = json.dumps({"at": entry.at, "user": user, "role": role, "action": action, "details": details},
                          ensure_ascii=False, sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)        # closing releases the lock
        except OSError as exc:
            raise AuditError(f"The audit log {self.path} cannot be written ({exc.strerror}).") from None
        return entry

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """The entries, oldest first (the last `limit` of them); a damaged line is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(f"The audit log {self.path} cannot be read ({exc.strerror}).") from None
        out = []
        for raw in text.splitlines():
            try:
                d = json.loads(raw)
                out.append(AuditEntry(d["at"], d["user"], d["role"], d["action"], d.get("details", {})))
            except (ValueError, KeyError, TypeError):
                continue
        return out[-limit:] if limit else out

    def actions(self) -> list[str]:
        return [e.action for e in self.entries()]


def default_audit_path(accounts_path: str | Path) -> Path:
    """The audit log lives beside the accounts file: accounts.json -> audit.jsonl."""
    return Path(accounts_path).with_name("audit.jsonl")


def summarize(entries: Iterable[AuditEntry]) -> list[dict]:
    """Rows for a table: one per entry, details flattened to `key=value` text."""
    return [{"at (UTC)": e.at, "user": e.user, "role": e.role, "action": e.action,
             "details": ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))} for e in entries]
