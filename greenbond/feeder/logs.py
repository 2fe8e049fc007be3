"""Structured logs. Every record carries `event` (a short machine name: 'sent', 'confirmed',
'resent', 'rpc_unavailable', ...) and the fields given in `extra`. On stderr: one readable line
per record on a terminal, one JSON object per line otherwise (a supervisor, a file, a pipe), or as
`--log-format` says; `--log-file` is always JSON lines. Lines go through tqdm, so a progress bar on
the same terminal is cleared, the line written whole, and the bar drawn again below it: neither
overwrites the other. Only ids, hashes, counts and times are logged: never key material, never
personal data."""

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


class TextFormatter(logging.Formatter):
    """`09:30:01 warning rpc_unavailable: the RPC node does not answer; retrying (retry_in_s=2.0)`"""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD and k != "event")
        when = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{when} {record.levelname.lower()} {getattr(record, 'event', None) or 'message'}: {record.getMessage()}"
        if record.exc_info and record.levelno >= logging.ERROR:
            line += " [" + self.formatException(record.exc_info).splitlines()[-1] + "]"
        return line + (f" ({fields})" if fields else "")


class BarSafeHandler(logging.StreamHandler):
    """Writes each line with tqdm.write: a progress bar on the stream is cleared first and drawn
    again after the line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


LOG_FORMATS = ("auto", "json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def setup_logging(stream: TextIO | None = None, level: int | str = logging.INFO, path: str | None = None,
                  log_format: str = "auto") -> None:
    """Log lines to `stream` (stderr by default): readable text on a terminal, else JSON lines
    (`log_format` "auto"), or as `log_format` says; and JSON lines appended to `path` if given.
    Each line is flushed as it is written (a supervisor or a test reads the log while it runs)."""
    if isinstance(level, str):
        level = getattr(logging, level.upper())
    stream = stream or sys.stderr
    if log_format == "auto":
        log_format = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    root = logging.getLogger("greenbond")
    for handler in list(root.handlers):
        if getattr(handler, "_greenbond_feeder", False):
            root.removeHandler(handler)
    console = BarSafeHandler(stream)
    console.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    handlers: list[logging.Handler] = [console]
    if path:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
        handlers[-1].setFormatter(JsonFormatter())
    for handler in handlers:
        handler._greenbond_feeder = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
