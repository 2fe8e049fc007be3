"""The `greenbond register` command: its arguments, `run_register` (connect, build and check,
write), where the CSV and HTML go (`output_paths`) and how they are written (atomically, mode
0600: a register holds personal details).

greenbond.cli reaches this module through the package (greenbond.register re-exports
`add_arguments`, `command` and `USER_ERRORS`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, BondTerms, ConfigError, load_terms
from greenbond.deployments import default_deployments_dir
from greenbond.files import write_text_atomic
from greenbond.register.build import AtSpec, Progress, Register, _quiet, build_register, load_private_key, parse_at
from greenbond.register.errors import RegisterError
from greenbond.register.render import render_csv, render_html

DEFAULT_OUT_DIR = REPO_ROOT / "reports" / "register"
INDEX_ENV = "GREENBOND_INDEX"
DEFAULT_INDEX = ".demo/events.sqlite"   # the data folder, as the feeder's database


def default_index_path() -> Path:
    """Where the event index is kept: GREENBOND_INDEX, else .demo/events.sqlite."""
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


# --------------------------------------------------------------------------- output files


def write_atomic(path: Path, text: str, mode: int = 0o600) -> Path:
    """Writes `text` atomically (greenbond.files); mode 0600 by default: a register holds
    personal details."""
    return write_text_atomic(path, text, mode)


def output_paths(out: str | Path | None, label: str) -> tuple[Path, Path]:
    """Where the CSV and HTML go: `out` is a directory (existing, or ending in a slash), a file
    stem, or a .csv/.html file name whose stem is used; None means reports/register/."""
    if out is None:
        base = DEFAULT_OUT_DIR / f"register-{label}"
    else:
        text = str(out)
        out = Path(out)
        if out.is_dir() or text.endswith(("/", os.sep)):
            base = out / f"register-{label}"
        elif out.suffix.lower() in (".csv", ".html", ".htm"):
            base = out.with_suffix("")
        else:
            base = out
    return base.with_name(base.name + ".csv"), base.with_name(base.name + ".html")


def _check_writable(directory: Path) -> None:
    """The register's folder can be written (or created): said before minutes of chain reads."""
    probe = Path(directory).resolve()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise RegisterError(f"cannot write the register to {directory}: {probe} is not a writable folder")


def write_register(reg: Register, out: str | Path | None = None) -> tuple[Path, Path]:
    csv_path, html_path = output_paths(out, reg.label)
    write_atomic(csv_path, render_csv(reg))
    write_atomic(html_path, render_html(reg))
    return csv_path, html_path


# --------------------------------------------------------------------------- build, check, write


def run_register(
    rpc_url: str,
    at: AtSpec | str,
    *,
    config: Path | None = None,
    terms: BondTerms | None = None,
    issuer_key: Path | None = None,
    no_details: bool = False,
    deployments_dir: Path | None = None,
    out: str | Path | None = None,
    chunk: int | None = None,
    progress: Progress = _quiet,
    warn: Progress = _quiet,
    index_path: Path | None = None,
) -> tuple[Register, Path, Path]:
    """Connects, builds, checks and writes the register; returns it with the CSV and HTML paths.
    `index_path` is the event index file to read events through (None: every event from the node)."""
    from greenbond.chain import ChainError, connect
    from greenbond.chain.index import EventIndex

    if isinstance(at, str):
        try:
            at = parse_at(at)
        except ValueError as exc:
            raise RegisterError(f"bad --at: {exc}") from None
    if terms is None:
        terms = load_terms(config or DEFAULT_BOND_CONFIG)
    key, key_note = None, ""
    if no_details:
        key_note = "Personal details not included: the register was asked for without them (--no-details)."
    else:
        key, path = load_private_key(issuer_key, required=issuer_key is not None)
        if key is None:
            key_note = (
                f"Personal details not included: no issuer private key at {path} "
                "(give one with --issuer-key or GREENBOND_ISSUER_KEY)."
            )
    _check_writable(output_paths(out, "check")[0].parent)   # before the chain is read, not after
    index = None
    try:
        w3 = connect(rpc_url)
        index = EventIndex(index_path) if index_path is not None else None
        reg = build_register(
            w3, terms, at,
            deployments_dir=deployments_dir, private_key=key, key_note=key_note, chunk=chunk,
            progress=progress, warn=warn, index=index,
        )
    except ChainError as exc:
        raise RegisterError(str(exc)) from None
    finally:
        if index is not None:
            index.close()
    try:
        csv_path, html_path = write_register(reg, out)
    except OSError as exc:
        raise RegisterError(f"cannot write the register to {exc.filename or out}: {exc.strerror or exc}") from None
    if key is None:
        warn(key_note)
    return reg, csv_path, html_path


# --------------------------------------------------------------------------- command line


def _at_arg(text: str) -> AtSpec:
    try:
        return parse_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from greenbond.chain import DEFAULT_LOG_CHUNK, default_rpc_url
    from greenbond.cli import int_at_least

    parser.add_argument(
        "--at", type=_at_arg, default=AtSpec("latest"), metavar="WHEN",
        help="YYYY-MM-DD (00:00 of that date in the bond's time zone), a block number, or 'latest' (default)",
    )
    parser.add_argument("--rpc", default=default_rpc_url(),
                        help="JSON-RPC URL of the node (default GREENBOND_RPC_URL, else the demo chain %(default)s)")
    parser.add_argument("--config", type=Path, default=DEFAULT_BOND_CONFIG, help="bond terms (TOML); gives the time zone")
    parser.add_argument(
        "--issuer-key", type=Path, default=None,
        help="issuer private key file to open holders' details (default: $GREENBOND_ISSUER_KEY or .demo/keys/issuer.key if present)",
    )
    parser.add_argument("--no-details", action="store_true", help="leave personal details out even if a key is available")
    parser.add_argument("--deployments-dir", "--deployments", dest="deployments", type=Path, default=default_deployments_dir(),
                        help="directory of <chainId>.json (default GREENBOND_DEPLOYMENTS, else %(default)s)")
    parser.add_argument(
        "--out", default=None,
        help="output directory, or file stem for <stem>.csv and <stem>.html (default reports/register/register-<label>)",
    )
    parser.add_argument("--chunk", type=int_at_least(1, "blocks per log query"), default=DEFAULT_LOG_CHUNK, help=f"blocks per log query (default {DEFAULT_LOG_CHUNK})")
    parser.add_argument("--index", type=Path, default=None,
                        help=f"the event index (SQLite) the events are read through and kept in: only blocks after "
                             f"its last are read from the node (default {INDEX_ENV}, else {DEFAULT_INDEX})")
    parser.add_argument("--no-index", action="store_true",
                        help="read every event from the node and keep nothing (a cold read)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def command(args: argparse.Namespace) -> int:
    """The `register` subcommand; user errors are raised as RegisterError for the entry point."""

    def err(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    reg, csv_path, html_path = run_register(
        args.rpc,
        args.at,
        config=args.config,
        issuer_key=args.issuer_key,
        no_details=args.no_details,
        deployments_dir=args.deployments,
        out=args.out,
        chunk=args.chunk,
        progress=_quiet if args.quiet else err,
        warn=lambda msg: err(f"warning: {msg}"),
        index_path=None if args.no_index else (args.index or default_index_path()),
    )
    print(
        f"Register of {reg.bond_name} at {reg.at.text} (block {reg.target_block}): {len(reg.holders)} holders, "
        f"{reg.total_units:,} units, {reg.currency} {reg.total_face:,}"
    )
    print(f"  {_display(csv_path)}")
    print(f"  {_display(html_path)}")
    return 0


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


USER_ERRORS: tuple[type[BaseException], ...] = (RegisterError, ConfigError)
