"""`greenbond <subcommand>` (or `python -m greenbond`): the one command-line entry point of the
off-chain side (pyproject.toml installs the `greenbond` command).

Each subcommand lives in its own module, which provides `add_arguments(parser)`,
`command(args) -> int` and `USER_ERRORS` (the exception types that are a user's mistake or a
state of the world to report in one line, never with a traceback). Adding one (feeder,
offering, ...) is one entry in `SUBCOMMANDS`.

Exit codes: 0 success, 1 a user error (one line on stderr, starting "error: "), 2 usage
(argparse), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "deploy": ("greenbond.deploy_cli", "deploy (or reuse) the bond suite on any node over web3; records deployments/<chainId>.json"),
    "register": ("greenbond.register", "the bond register at a date, a block or now, checked against the chain (CSV + HTML)"),
    "feeder": ("greenbond.feeder.cli", "the oracle feeder: meter readings to k-of-n signed hourly reports on the ImpactOracle"),
    "offering": ("greenbond.offering_cli", "the primary offering: open, subscribe, allot, settle, cancel, status"),
    "dvp": ("greenbond.dvp_cli", "delivery versus payment of bond units: offer, accept, cancel, expire, approve, list"),
    "credits": ("greenbond.credits.cli", "carbon credits from proven avoided CO2: propose, approve, issue, retire, show, verify"),
}
# name -> (module with main(argv) -> int, one-line help): commands with their own parser, run as they are
PASSTHROUGH: dict[str, tuple[str, str]] = {
    "demo": ("greenbond.demo", "the bond's whole life on a local chain, the feeder, the investor page and the back office"),
    "backoffice": ("greenbond.backoffice.accounts", "the issuer back office: accounts (add, list, unlock, remove) and serve"),
}


def int_at_least(minimum: int, unit: str = ""):
    """An argparse type for a whole number >= `minimum` (a count of 0 can loop forever, a negative
    price means nothing): the mistake is argparse's one-line usage error, never a traceback."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{unit and f' ({unit})'}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must not be negative" if minimum == 0 else
                                             f"{value} must be at least {minimum}{unit and f' ({unit})'}")
        return value

    parse.__name__ = f"int>={minimum}"   # argparse names the type in some messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    from greenbond import __version__

    parser = argparse.ArgumentParser(prog="greenbond", description="The digital green bond's off-chain tools.")
    parser.add_argument("--version", action="version", version=f"greenbond {__version__}")
    sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    for name, (module_name, help_text) in PASSTHROUGH.items():
        p = sub.add_parser(name, help=help_text, add_help=False, description=help_text)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(_passthrough=module_name)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or help_text).strip()
        p = sub.add_parser(
            name, help=help_text, description=doc.split("\n\n")[0],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _one_line_warnings() -> None:
    """Our own warnings (an issuer key file readable by others, ...) are one line on stderr,
    "warning: ...", like the errors; other libraries' keep Python's format."""
    import warnings

    default = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None):
        if category.__module__.startswith("greenbond"):
            return f"warning: {' '.join(str(message).split())}\n"
        return default(message, category, filename, lineno, line)

    warnings.formatwarning = formatwarning


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _one_line_warnings()
    if argv and argv[0] in PASSTHROUGH:   # its own parser sees every argument, --help included
        return int(importlib.import_module(PASSTHROUGH[argv[0]][0]).main(argv[1:]) or 0)
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    module = args._module
    try:
        return int(module.command(args) or 0)
    except getattr(module, "USER_ERRORS", ()) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
