"""Structured logs: one JSON object per line. Every record carries `event` (a short machine name:
'sent', 'confirmed', 'resent', 'rpc_unavailable', ...) and the fields given in `extra`. Only
ids, hashes, counts and times are logged: never key material, never personal data."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import TextIO

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or "message",
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "event":
                out[key] = value
        if record.exc_info and record.levelno >= logging.ERROR:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, default=str)


def setup_logging(stream: TextIO | None = None, level: int = logging.INFO, path: str | None = None) -> None:
    """JSON lines to `stream` (stderr by default) and, if given, appended to `path`; each line is
    flushed as it is written (a supervisor or a test reads the log while the feeder runs)."""
    root = logging.getLogger("greenbond")
    for handler in list(root.handlers):
        if getattr(handler, "_greenbond_feeder", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if path:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(JsonFormatter())
        handler._greenbond_feeder = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
