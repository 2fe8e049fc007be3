"""Atomic file writes: a temporary file beside the target, fsynced, then renamed over it, so a
reader (or a crash) sees the old file or the new one, never half of one. Used for deployments,
registers and benchmark reports."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def default_file_mode() -> int:
    """What an ordinary `open(..., "w")` would give under the current umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> Path:
    """Writes `text` to `path` atomically; `mode` defaults to the umask's usual file mode (pass
    0o600 for files with personal data). The temporary file ends in .tmp and is removed if
    anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """`data` as indented JSON (and a final newline), written atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")
