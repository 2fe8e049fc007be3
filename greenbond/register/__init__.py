"""The bond register at a point in time, rebuilt from the chain and checked against it.

`python -m greenbond register --at 2024-06-14` (or `--at 1234`, a block number, or `--at
latest`) reads the bond's Transfer events from its deploy block up to the target block, in
block ranges, and rebuilds who held how many units and when each holder received them. Every
holder's rebuilt units are then compared with the chain itself: `balanceOf` at the target block
(a historical eth_call) always, `totalSupply` likewise, and `balanceOfAt(holder, T)` when the
target instant T is one of the bond's record dates. Any disagreement stops the command with an
error naming the holder; a register that does not agree with the chain is never written.

A date means 00:00 of that date in the bond's time zone (from the bond config), and the register
"at" that instant is the state after the last block strictly before it: the same instant a
record date fixes, so `--at <record date>` gives the list of holders a coupon is paid to.

Each holder's sealed details (HolderRegistry.holderOf at the target block) are opened with the
issuer's private key; without a key the register is written without personal details, and both
output files and stderr say so. For each coupon whose record date is at or before the target
time the register lists, per holder, the units at the record date, the amount owed and whether
it was paid on chain, paid off chain (with the payment reference) or is unpaid, judged from the
schedule's CouponPaid / CouponPaidOffchain events up to the target block.

Outputs: a CSV (one row per holder) and a standalone HTML document, written atomically (temp
file + rename) to `reports/register/register-<label>.csv|.html` unless `--out` says otherwise.

The package, by what each part does:

    build    the data classes (AtSpec, Register, HolderRow, CouponEntry, ...), parsing --at,
             rebuilding holdings from transfers, and build_register, which does the chain reads
    check    the consistency checks against the chain (mismatches, balances, record dates)
    render   the CSV, and the HTML from the Jinja2 template templates/register.html.j2
    cli      the command's arguments, run_register, output paths and atomic writes
    errors   RegisterError

The pure parts (parsing --at, rebuilding holdings from transfers, the checks, rendering) take
plain data and are unit-tested without a chain; `build_register` does the chain reads. The
names other modules and tests use are re-exported here: import them from `greenbond.register`.
"""

from __future__ import annotations

from greenbond.register.build import (
    NO_KEY_NOTE,
    PAID_OFF_CHAIN,
    PAID_ON_CHAIN,
    UNPAID,
    ZERO_ADDRESS,
    AtSpec,
    CouponEntry,
    HolderRow,
    Holdings,
    Progress,
    Register,
    Target,
    TransferRecord,
    build_register,
    format_payment_ref,
    has_state_at,
    load_private_key,
    parse_at,
    rebuild_holdings,
    resolve_target,
)
from greenbond.register.check import mismatches
from greenbond.register.cli import (
    DEFAULT_OUT_DIR,
    USER_ERRORS,
    add_arguments,
    command,
    output_paths,
    run_register,
    write_atomic,
    write_register,
)
from greenbond.register.errors import RegisterError
from greenbond.register.render import CSV_COLUMNS, render_csv, render_html

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_OUT_DIR",
    "NO_KEY_NOTE",
    "PAID_OFF_CHAIN",
    "PAID_ON_CHAIN",
    "UNPAID",
    "USER_ERRORS",
    "ZERO_ADDRESS",
    "AtSpec",
    "CouponEntry",
    "HolderRow",
    "Holdings",
    "Progress",
    "Register",
    "RegisterError",
    "Target",
    "TransferRecord",
    "add_arguments",
    "build_register",
    "command",
    "format_payment_ref",
    "has_state_at",
    "load_private_key",
    "mismatches",
    "output_paths",
    "parse_at",
    "rebuild_holdings",
    "render_csv",
    "render_html",
    "resolve_target",
    "run_register",
    "write_atomic",
    "write_register",
]
