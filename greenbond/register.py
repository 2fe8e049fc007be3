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

The pure parts (parsing --at, rebuilding holdings from transfers, rendering) take plain data and
are unit-tested without a chain; `build_register` does the chain reads.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import io
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from greenbond.files import write_text_atomic
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, BondTerms, ConfigError, load_terms

ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_OUT_DIR = REPO_ROOT / "reports" / "register"
NO_KEY_NOTE = (
    "Personal details not included: no issuer private key was available to open the holders' "
    "sealed details (give one with --issuer-key or GREENBOND_ISSUER_KEY)."
)

PAID_ON_CHAIN = "paid on chain"
PAID_OFF_CHAIN = "paid off chain"
UNPAID = "unpaid"

CSV_COLUMNS = (
    "wallet",
    "investor_id",
    "name",
    "postal_address",
    "email",
    "tax_category",
    "units",
    "face_amount",
    "acquisition_dates",
    "coupons_paid",
    "coupons_unpaid",
)


class RegisterError(RuntimeError):
    """The register cannot be produced; the message is a sentence for a person."""


# --------------------------------------------------------------------------- --at


@dataclass(frozen=True)
class AtSpec:
    """What `--at` asked for: kind is "date", "block" or "latest"."""

    kind: str
    date: dt.date | None = None
    block: int | None = None

    @property
    def text(self) -> str:
        if self.kind == "date":
            return self.date.isoformat()
        if self.kind == "block":
            return f"block {self.block}"
        return "latest"


def parse_at(text: str) -> AtSpec:
    """`YYYY-MM-DD`, a block number (decimal digits) or `latest`; ValueError with a sentence otherwise."""
    value = (text or "").strip()
    if value.lower() == "latest":
        return AtSpec("latest")
    if re.fullmatch(r"\d+", value):
        return AtSpec("block", block=int(value))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return AtSpec("date", date=dt.date.fromisoformat(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a real calendar date") from None
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD), a block number or 'latest'")


# --------------------------------------------------------------------------- pure reconstruction


@dataclass(frozen=True)
class TransferRecord:
    """One Transfer event, with the timestamp of its block."""

    block: int
    log_index: int
    timestamp: int
    sender: str
    receiver: str
    value: int


@dataclass
class Holdings:
    """What a sequence of transfers adds up to."""

    units: dict[str, int] = field(default_factory=dict)                             # every wallet seen, zero included
    acquisitions: dict[str, list[tuple[dt.date, int]]] = field(default_factory=dict)  # per day, units received
    supply: int = 0
    transfers: int = 0


def rebuild_holdings(transfers: Iterable[TransferRecord], timezone: str, before: int | None = None) -> Holdings:
    """Units per wallet and acquisition days (in `timezone`) from transfers in chain order.

    With `before` (unix seconds), only transfers in blocks whose timestamp is strictly before it
    count: the balances a record date at `before` fixes. A transfer that takes a wallet below
    zero means the events are incomplete or out of order; that is a RegisterError.
    """
    tz = ZoneInfo(timezone)
    out = Holdings()
    last = None
    for t in transfers:
        key = (t.block, t.log_index)
        if last is not None and key <= last:
            raise RegisterError(f"transfer events out of chain order at block {t.block} (log {t.log_index})")
        last = key
        if before is not None and t.timestamp >= before:
            continue
        out.transfers += 1
        sender, receiver = t.sender, t.receiver
        if t.value < 0:
            raise RegisterError(f"a negative transfer at block {t.block}")
        if sender.lower() == ZERO_ADDRESS:
            out.supply += t.value
        else:
            have = out.units.get(sender, 0)
            if have < t.value:
                raise RegisterError(
                    f"holder {sender} sends {t.value} units at block {t.block} but holds only {have} "
                    "by the events read: the event history is incomplete"
                )
            out.units[sender] = have - t.value
        if receiver.lower() == ZERO_ADDRESS:
            out.supply -= t.value
        else:
            out.units[receiver] = out.units.get(receiver, 0) + t.value
            if t.value:
                day = dt.datetime.fromtimestamp(t.timestamp, tz).date()
                acq = out.acquisitions.setdefault(receiver, [])
                if acq and acq[-1][0] == day:
                    acq[-1] = (day, acq[-1][1] + t.value)
                else:
                    acq.append((day, t.value))
    return out


def mismatches(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    """Sentences naming each wallet whose rebuilt units (`expected`) differ from the chain's."""
    out = []
    for wallet in sorted(set(expected) | set(actual), key=str.lower):
        a, b = expected.get(wallet, 0), actual.get(wallet, 0)
        if a != b:
            out.append(f"holder {wallet}: rebuilt {a} units, the chain says {b}")
    return out


def format_payment_ref(ref: bytes) -> str:
    """A bytes32 payment reference as text when it is printable ASCII padded with zeros, else 0x hex."""
    raw = bytes(ref)
    text = raw.rstrip(b"\0")
    if text and all(32 <= c < 127 for c in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


# --------------------------------------------------------------------------- the register


@dataclass
class CouponEntry:
    index: int               # 0-based coupon index on the schedule
    payment_date: dt.date
    record_date: dt.date
    record_timestamp: int
    units: int               # units at the record date
    per_unit: int
    amount: int              # owed: units x per_unit
    state: str               # PAID_ON_CHAIN, PAID_OFF_CHAIN or UNPAID
    paid_amount: int = 0
    payment_ref: str = ""
    due: bool = False        # the payment date is at or before the register's time

    @property
    def number(self) -> int:
        return self.index + 1

    def describe(self, currency: str) -> str:
        head = f"#{self.number} {self.payment_date.isoformat()}: {self.units} units, {currency} {self.amount}"
        if self.state == PAID_ON_CHAIN:
            return f"{head} paid on chain"
        if self.state == PAID_OFF_CHAIN:
            return f"{head} paid off chain (ref {self.payment_ref})"
        return f"{head} unpaid" + ("" if self.due else " (not yet due)")


@dataclass
class HolderRow:
    wallet: str
    investor_id: str          # 0x hex, empty when the wallet is not registered at the target block
    units: int
    face_amount: int
    acquisitions: list[tuple[dt.date, int]]
    coupons: list[CouponEntry]
    name: str = ""
    postal_address: str = ""
    email: str = ""
    tax_category: str = ""
    note: str = ""            # e.g. "not registered at this point"

    @property
    def acquisition_text(self) -> str:
        return "; ".join(f"{d.isoformat()} (+{u})" for d, u in self.acquisitions)

    def coupons_text(self, currency: str, paid: bool) -> str:
        chosen = [c for c in self.coupons if (c.state != UNPAID) == paid]
        return "; ".join(c.describe(currency) for c in chosen)


@dataclass
class Register:
    bond_name: str
    symbol: str
    isin: str
    currency: str
    denomination: int
    timezone: str
    chain_id: int
    at: AtSpec
    label: str
    target_block: int
    block_timestamp: int
    at_timestamp: int | None          # the instant asked for (a date); None for a block or latest
    start_block: int
    rows: list[HolderRow]
    personal_details: bool
    checks: list[str]
    transfers_read: int
    generated_at: dt.datetime
    key_note: str = ""
    state_block: int | None = None    # where holderOf and the coupon terms were read (target, or latest on fallback)

    @property
    def holders(self) -> list[HolderRow]:
        return [r for r in self.rows if r.units > 0]

    @property
    def total_units(self) -> int:
        return sum(r.units for r in self.rows)

    @property
    def total_face(self) -> int:
        return self.total_units * self.denomination

    def local(self, ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    @property
    def at_description(self) -> str:
        if self.at_timestamp is not None:
            return (
                f"{self.local(self.at_timestamp)} (00:00 of {self.at.date.isoformat()} in {self.timezone}): "
                f"the state after block {self.target_block}, the last block before that instant"
            )
        what = "the latest block" if self.at.kind == "latest" else f"block {self.target_block}"
        return f"after {what} (block {self.target_block}, mined {self.local(self.block_timestamp)})"


# --------------------------------------------------------------------------- rendering


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(reg: Register) -> str:
    buf = io.StringIO()
    if not reg.personal_details:
        buf.write("# " + (reg.key_note or NO_KEY_NOTE).replace("\n", " ") + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reg.rows:
        writer.writerow(
            [
                r.wallet,
                r.investor_id,
                _csv_text(r.name),
                _csv_text(r.postal_address),
                _csv_text(r.email),
                r.tax_category,
                r.units,
                r.face_amount,
                r.acquisition_text,
                r.coupons_text(reg.currency, paid=True),
                r.coupons_text(reg.currency, paid=False),
            ]
        )
    return buf.getvalue()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1a1a1a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin-top: .5rem; font-size: .85rem; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #eef3ee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, span.mono { font-family: ui-monospace, monospace; font-size: .8rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
p.warning { background: #fff4d6; border: 1px solid #e0b84c; padding: .5rem .8rem; }
.paid-on-chain { color: #1d6b2f; } .paid-off-chain { color: #1d4f8f; } .unpaid { color: #a33; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
"""


def render_html(reg: Register) -> str:
    title = f"Bond register: {reg.bond_name} at {reg.at.text}"
    cur = reg.currency
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        '<dl class="facts">',
        f"<dt>Bond</dt><dd>{_e(reg.bond_name)} ({_e(reg.symbol)})</dd>",
        f"<dt>ISIN</dt><dd>{_e(reg.isin)}</dd>",
        f"<dt>At</dt><dd>{_e(reg.at_description)}</dd>",
        f"<dt>Block</dt><dd>{_e(reg.target_block)} (mined {_e(reg.local(reg.block_timestamp))}), chain id {_e(reg.chain_id)}</dd>",
        f"<dt>Holders</dt><dd>{_e(_n(len(reg.holders)))}</dd>",
        f"<dt>Units</dt><dd>{_e(_n(reg.total_units))}</dd>",
        f"<dt>Face amount</dt><dd>{_e(cur)} {_e(_n(reg.total_face))} ({_e(_n(reg.denomination))} a unit)</dd>",
        "</dl>",
    ]
    if not reg.personal_details:
        parts.append(f'<p class="warning">{_e(reg.key_note or NO_KEY_NOTE)}</p>')
    parts += [
        "<h2>Holders</h2>",
        "<table>",
        "<thead><tr><th>Wallet</th><th>Investor id</th><th>Name</th><th>Postal address</th><th>Email</th>"
        "<th>Tax category</th><th>Units</th><th>Face amount</th><th>Acquired</th><th>Coupons paid</th>"
        "<th>Coupons unpaid</th></tr></thead>",
        "<tbody>",
    ]
    for r in reg.rows:
        paid = [c for c in r.coupons if c.state != UNPAID]
        unpaid = [c for c in r.coupons if c.state == UNPAID]
        name = _e(r.name) if r.name else (f"<em>{_e(r.note)}</em>" if r.note else "")
        parts.append(
            "<tr>"
            f'<td class="mono">{_e(r.wallet)}</td>'
            f'<td class="mono">{_e(r.investor_id)}</td>'
            f"<td>{name}</td>"
            f"<td><pre>{_e(r.postal_address)}</pre></td>"
            f"<td>{_e(r.email)}</td>"
            f"<td>{_e(r.tax_category)}</td>"
            f'<td class="num">{_e(_n(r.units))}</td>'
            f'<td class="num">{_e(_n(r.face_amount))}</td>'
            f"<td>{'<br>'.join(_e(f'{d.isoformat()} (+{_n(u)})') for d, u in r.acquisitions)}</td>"
            f"<td>{'<br>'.join(_e(c.describe(cur)) for c in paid)}</td>"
            f"<td>{'<br>'.join(_e(c.describe(cur)) for c in unpaid)}</td>"
            "</tr>"
        )
    parts += [
        "</tbody>",
        f'<tfoot><tr><th colspan="6">Total: {_e(_n(len(reg.holders)))} holders</th>'
        f'<td class="num">{_e(_n(reg.total_units))}</td><td class="num">{_e(_n(reg.total_face))}</td>'
        '<td colspan="3"></td></tr></tfoot>',
        "</table>",
    ]
    coupon_rows = [(r, c) for r in reg.rows for c in r.coupons]
    if coupon_rows:
        parts += [
            f"<h2>Coupons with a record date at or before this point</h2>",
            "<table>",
            "<thead><tr><th>Coupon</th><th>Payment date</th><th>Record date</th><th>Wallet</th>"
            f"<th>Units at record</th><th>Per unit ({_e(cur)})</th><th>Owed ({_e(cur)})</th><th>State</th>"
            "<th>Payment reference</th></tr></thead>",
            "<tbody>",
        ]
        for r, c in sorted(coupon_rows, key=lambda rc: (rc[1].index, rc[0].wallet.lower())):
            css = c.state.replace(" ", "-")
            state = c.state if c.state != UNPAID or c.due else f"{c.state} (not yet due)"
            parts.append(
                "<tr>"
                f'<td class="num">#{_e(c.number)}</td><td>{_e(c.payment_date.isoformat())}</td>'
                f"<td>{_e(c.record_date.isoformat())}</td>"
                f'<td class="mono">{_e(r.wallet)}</td><td class="num">{_e(_n(c.units))}</td>'
                f'<td class="num">{_e(_n(c.per_unit))}</td><td class="num">{_e(_n(c.amount))}</td>'
                f'<td class="{_e(css)}">{_e(state)}</td><td class="mono">{_e(c.payment_ref)}</td>'
                "</tr>"
            )
        parts += ["</tbody>", "</table>"]
    parts += [
        "<h2>How this register was produced and checked</h2>",
        "<ul>",
        f"<li>Rebuilt from the bond's {_e(_n(reg.transfers_read))} Transfer events in blocks "
        f"{_e(reg.start_block)} to {_e(reg.target_block)} (from the bond's deploy block), read in block ranges.</li>",
        "<li>Acquisition dates are the days, in the bond's time zone "
        f"({_e(reg.timezone)}), on which each holder received units (mint or transfer).</li>",
    ]
    parts += [f"<li>{_e(line)}</li>" for line in reg.checks]
    if reg.personal_details:
        parts.append(
            "<li>Personal details are each holder's sealed record in the HolderRegistry at block "
            f"{_e(reg.state_block if reg.state_block is not None else reg.target_block)}, opened with the issuer's private key; they are not on chain in readable form.</li>"
        )
    parts += [
        "<li>Coupon states come from the CouponSchedule's CouponPaid and CouponPaidOffchain events up to "
        f"block {_e(reg.target_block)}; amounts owed are units at the record date times the coupon per unit.</li>",
        f"<li>Generated {_e(reg.generated_at.strftime('%Y-%m-%d %H:%M:%S %Z'))} by "
        "<code>python -m greenbond register</code>.</li>",
        "</ul>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


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


# --------------------------------------------------------------------------- chain reads


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Target:
    block: int
    block_timestamp: int
    at_timestamp: int | None   # the instant a date names
    label: str

    @property
    def time(self) -> int:
        """The register's time: the instant asked for, or the block's timestamp."""
        return self.at_timestamp if self.at_timestamp is not None else self.block_timestamp


def resolve_target(w3, at: AtSpec, terms: BondTerms, start_block: int, latest: int) -> Target:
    """The block (and instant) `at` names, or a RegisterError saying why there is none."""
    from greenbond.chain import ChainError, block_before

    latest_ts = w3.eth.get_block(latest)["timestamp"]
    tz = ZoneInfo(terms.timezone)

    def local(ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")

    if at.kind == "latest":
        return Target(latest, latest_ts, None, f"block-{latest}")
    if at.kind == "block":
        if at.block > latest:
            raise RegisterError(f"block {at.block} does not exist yet: the chain's latest block is {latest}")
        if at.block < start_block:
            raise RegisterError(f"block {at.block} is before the bond was deployed (block {start_block})")
        return Target(at.block, w3.eth.get_block(at.block)["timestamp"], None, f"block-{at.block}")
    instant = terms.timestamp(at.date)
    if instant > latest_ts:
        raise RegisterError(
            f"the chain has not reached {at.date.isoformat()} 00:00 {terms.timezone} yet (its latest block, "
            f"{latest}, was mined {local(latest_ts)}), so the register at that date is not fixed; "
            "use --at latest for the register now"
        )
    try:
        block = block_before(w3, instant, latest)
    except ChainError:
        raise RegisterError(
            f"{at.date.isoformat()} is before the chain starts (its first block was mined "
            f"{local(w3.eth.get_block(0)['timestamp'])})"
        ) from None
    if block < start_block:
        deployed = w3.eth.get_block(start_block)["timestamp"]
        raise RegisterError(
            f"{at.date.isoformat()} is before the bond was deployed (block {start_block}, mined {local(deployed)}): "
            "there was no register yet"
        )
    return Target(block, w3.eth.get_block(block)["timestamp"], instant, at.date.isoformat())


def _scan(event, start: int, end: int, chunk: int, what: str, progress: Progress) -> list:
    """Logs of `event` from `start` to `end`, read window by window with greenbond.chain.iter_events,
    reporting the blocks scanned when the range spans more than one window."""
    from greenbond.chain import iter_events

    logs = []
    total = end - start + 1
    windows = max(1, -(-total // chunk))
    step = max(1, windows // 20)  # at most about 20 progress lines
    for k, lo in enumerate(range(start, end + 1, chunk)):
        hi = min(end, lo + chunk - 1)
        logs.extend(iter_events(event, lo, hi, chunk=chunk))
        if windows > 1 and ((k + 1) % step == 0 or hi == end):
            progress(f"{what}: scanned blocks {start}-{hi} of {start}-{end} ({100 * (hi - start + 1) // total}%)")
    return logs


def _call(fn, block, what: str):
    try:
        return fn.call(block_identifier=block)
    except Exception as exc:  # noqa: BLE001 -- web3 raises many types; each becomes a sentence
        raise RegisterError(f"the node could not answer {what} at block {block}: {type(exc).__name__}: {exc}") from None


def has_state_at(contract, block: int, latest: int) -> bool:
    """Whether the node answers calls at `block` (it holds that block's state). A call that
    fails there but succeeds at `latest` means the state is gone; failing at both is an error."""
    if block == latest:
        return True
    try:
        contract.functions.totalSupply().call(block_identifier=block)
        return True
    except Exception:  # noqa: BLE001 -- nodes word "no state" differently (Anvil, Geth, Ganache)
        pass
    _call(contract.functions.totalSupply(), latest, "totalSupply()")
    return False


def load_private_key(path: Path | None, required: bool):
    """The issuer's private key from `path`, or (not `required`) None when the file is absent."""
    from greenbond.holders import IssuerKeyError, default_issuer_key_path, load_issuer_private_key

    path = Path(path) if path is not None else default_issuer_key_path()
    if not path.exists():
        if required:
            raise RegisterError(f"the issuer key file {path} does not exist")
        return None, path
    try:
        return load_issuer_private_key(path), path
    except IssuerKeyError as exc:
        raise RegisterError(str(exc)) from None


def build_register(
    w3,
    terms: BondTerms,
    at: AtSpec,
    *,
    deployments_dir: Path | None = None,
    private_key=None,
    key_note: str = "",
    chunk: int | None = None,
    progress: Progress = _quiet,
    warn: Progress = _quiet,
    now: dt.datetime | None = None,
) -> Register:
    """Rebuilds and checks the register at `at` on the chain behind `w3` (see the module doc).

    `private_key` is the issuer's nacl PrivateKey, or None to leave personal details out.
    """
    from web3 import Web3

    from greenbond.chain import DEFAULT_LOG_CHUNK, open_suite
    from greenbond.holders import HolderDecryptionError, unseal

    chunk = chunk or DEFAULT_LOG_CHUNK
    if chunk < 1:
        raise RegisterError("the block range size (--chunk) must be at least 1")
    suite = open_suite(w3, deployments_dir) if deployments_dir is not None else open_suite(w3)
    bond, registry, schedule = suite.bond, suite.registry, suite.schedule
    start = suite.start_block()
    latest = w3.eth.block_number  # pinned: every "now" read below uses this block

    isin = _call(bond.functions.isin(), latest, "the bond's ISIN")
    if isin != terms.isin:
        raise RegisterError(
            f"the bond deployed on this chain has ISIN {isin!r}, but the bond config describes {terms.isin!r}: "
            "pass the config it was deployed with (--config)"
        )
    target = resolve_target(w3, at, terms, start, latest)
    tb = target.block

    # ---- can the node answer calls at the target block? (an Anvil restarted from a state file,
    # or a pruning node, keeps only recent state)
    historical = has_state_at(bond, tb, latest)
    state_block = tb if historical else latest
    scan_to = tb if historical else latest
    fallback_note = ""
    if not historical:
        fallback_note = (
            f"The node keeps no state for block {tb} (it cannot answer calls there; an Anvil restarted from a "
            f"state file keeps only its latest state), so the events were also read up to the latest block, "
            f"{latest}, and checked against the chain there; personal details and coupon terms are as recorded "
            f"at block {latest}."
        )
        warn(fallback_note)

    # ---- transfers, with their blocks' timestamps
    progress(f"reading Transfer events of {bond.address} in blocks {start}-{scan_to} ...")
    timestamps: dict[int, int] = {}

    def block_ts(n: int) -> int:
        if n not in timestamps:
            timestamps[n] = w3.eth.get_block(n)["timestamp"]
        return timestamps[n]

    all_transfers = [
        TransferRecord(
            block=log["blockNumber"],
            log_index=log["logIndex"],
            timestamp=block_ts(log["blockNumber"]),
            sender=Web3.to_checksum_address(log["args"]["from"]),
            receiver=Web3.to_checksum_address(log["args"]["to"]),
            value=int(log["args"]["value"]),
        )
        for log in _scan(bond.events.Transfer, start, scan_to, chunk, "Transfer events", progress)
    ]
    all_transfers.sort(key=lambda t: (t.block, t.log_index))
    transfers = [t for t in all_transfers if t.block <= tb]
    holdings = rebuild_holdings(transfers, terms.timezone)

    # ---- cross-checks against the chain
    checks: list[str] = []
    if fallback_note:
        checks.append(fallback_note)
    checked = holdings if historical else rebuild_holdings(all_transfers, terms.timezone)
    check_wallets = sorted(checked.units, key=str.lower)
    onchain = {w: _call(bond.functions.balanceOf(w), state_block, f"balanceOf({w})") for w in check_wallets}
    wrong = mismatches(checked.units, onchain)
    if wrong:
        raise RegisterError(
            f"the rebuilt register disagrees with balanceOf at block {state_block}: " + "; ".join(wrong)
            + ". Nothing was written."
        )
    supply = _call(bond.functions.totalSupply(), state_block, "totalSupply()")
    if supply != checked.supply or supply != sum(checked.units.values()):
        raise RegisterError(
            f"the rebuilt register holds {sum(checked.units.values())} units (minted less burnt: {checked.supply}), "
            f"but totalSupply at block {state_block} is {supply}. Nothing was written."
        )
    wallets = sorted(holdings.units, key=str.lower)
    if historical:
        checks.append(
            f"Every one of the {len(wallets)} wallets that ever held units agrees with balanceOf at block {tb} "
            f"(a historical call), and the total agrees with totalSupply ({supply} units)."
        )
    else:
        checks.append(
            f"The same events rebuilt to block {latest} agree with balanceOf there for every one of the "
            f"{len(check_wallets)} wallets that ever held units, and with totalSupply ({supply} units); "
            f"the register at block {tb} is that history cut at block {tb}."
        )
    record_dates = [int(r) for r in _call(bond.functions.recordDates(), latest, "recordDates()")]
    if target.at_timestamp is not None and target.at_timestamp in record_dates:
        t = target.at_timestamp
        at_record = {w: _call(bond.functions.balanceOfAt(w, t), latest, f"balanceOfAt({w}, {t})") for w in wallets}
        wrong = mismatches(holdings.units, at_record)
        if wrong:
            raise RegisterError(
                f"the rebuilt register disagrees with balanceOfAt at record date {at.date.isoformat()}: "
                + "; ".join(wrong) + ". Nothing was written."
            )
        checks.append(
            f"{at.date.isoformat()} is a record date: every holder's units also agree with balanceOfAt(holder, {t}), "
            "the balance the bond fixed for that record date."
        )

    # ---- coupons whose record date is at or before the register's time
    coupons_by_wallet: dict[str, list[CouponEntry]] = {}
    if schedule is not None:
        tz = ZoneInfo(terms.timezone)
        count = _call(schedule.functions.couponCount(), state_block, "couponCount()")
        schedule_start = suite.deployment.contracts["CouponSchedule"].block
        due_coupons = []
        for i in range(count):
            rec = _call(schedule.functions.recordDate(i), state_block, f"recordDate({i})")
            if rec > target.time:
                break
            due_coupons.append(
                (
                    i,
                    rec,
                    _call(schedule.functions.couponDate(i), state_block, f"couponDate({i})"),
                    _call(schedule.functions.couponPerUnit(i), state_block, f"couponPerUnit({i})"),
                )
            )
        paid: dict[tuple[int, str], tuple[str, int, str, int]] = {}
        if due_coupons:
            lo = max(start, schedule_start)
            for log in _scan(schedule.events.CouponPaid, lo, tb, chunk, "CouponPaid events", progress):
                a = log["args"]
                paid[(int(a["index"]), Web3.to_checksum_address(a["holder"]))] = (PAID_ON_CHAIN, int(a["amount"]), "", int(a["units"]))
            for log in _scan(schedule.events.CouponPaidOffchain, lo, tb, chunk, "CouponPaidOffchain events", progress):
                a = log["args"]
                paid[(int(a["index"]), Web3.to_checksum_address(a["holder"]))] = (
                    PAID_OFF_CHAIN, 0, format_payment_ref(a["paymentRef"]), int(a["units"]),
                )
        checked = 0
        for i, rec, pay, per_unit in due_coupons:
            units_at = rebuild_holdings(transfers, terms.timezone, before=rec).units
            chain_at = {
                w: _call(bond.functions.balanceOfAt(w, rec), latest, f"balanceOfAt({w}, {rec})") for w in units_at
            }
            wrong = mismatches(units_at, chain_at)
            if wrong:
                raise RegisterError(
                    f"units at the record date of coupon #{i + 1} disagree with balanceOfAt: " + "; ".join(wrong)
                    + ". Nothing was written."
                )
            checked += len(units_at)
            for w, u in units_at.items():
                if u == 0 and (i, w) not in paid:
                    continue
                state, amount, ref, paid_units = paid.get((i, w), (UNPAID, 0, "", u))
                if paid_units != u:
                    raise RegisterError(
                        f"holder {w} was paid coupon #{i + 1} for {paid_units} units but held {u} at its record date"
                    )
                coupons_by_wallet.setdefault(w, []).append(
                    CouponEntry(
                        index=i,
                        payment_date=dt.datetime.fromtimestamp(pay, tz).date(),
                        record_date=dt.datetime.fromtimestamp(rec, tz).date(),
                        record_timestamp=rec,
                        units=u,
                        per_unit=per_unit,
                        amount=u * per_unit,
                        state=state,
                        paid_amount=amount,
                        payment_ref=ref,
                        due=pay <= target.time,
                    )
                )
        if due_coupons:
            checks.append(
                f"Units at the record {'date' if len(due_coupons) == 1 else 'dates'} of coupon"
                f"{'' if len(due_coupons) == 1 else 's'} {', '.join('#' + str(c[0] + 1) for c in due_coupons)} were rebuilt "
                f"from the same events and agree with balanceOfAt for all {checked} wallet and record date pairs."
            )

    # ---- rows and personal details
    rows: list[HolderRow] = []
    for w in wallets:
        units = holdings.units[w]
        coupons = coupons_by_wallet.get(w, [])
        if units == 0 and not coupons:
            continue
        holder = _call(registry.functions.holderOf(w), state_block, f"holderOf({w})")
        investor, _country, expires, _registered, _updated, blob = holder
        row = HolderRow(
            wallet=w,
            investor_id="0x" + bytes(investor).hex() if expires else "",
            units=units,
            face_amount=units * terms.denomination,
            acquisitions=list(holdings.acquisitions.get(w, [])),
            coupons=coupons,
        )
        if not expires:
            row.note = "not registered at this point"
        elif private_key is not None:
            try:
                details = unseal(bytes(blob), private_key)
            except HolderDecryptionError as exc:
                raise RegisterError(f"cannot open the sealed details of holder {w}: {exc}") from None
            row.name, row.postal_address, row.email, row.tax_category = (
                details.name, details.address, details.email, details.tax_category,
            )
        rows.append(row)
    rows.sort(key=lambda r: (-r.units, r.wallet.lower()))

    return Register(
        bond_name=_call(bond.functions.name(), latest, "name()"),
        symbol=_call(bond.functions.symbol(), latest, "symbol()"),
        isin=isin,
        currency=terms.currency,
        denomination=terms.denomination,
        timezone=terms.timezone,
        chain_id=w3.eth.chain_id,
        at=at,
        label=target.label,
        target_block=tb,
        block_timestamp=target.block_timestamp,
        at_timestamp=target.at_timestamp,
        start_block=start,
        rows=rows,
        personal_details=private_key is not None,
        checks=checks,
        transfers_read=len(transfers),
        generated_at=now or dt.datetime.now(ZoneInfo(terms.timezone)),
        key_note="" if private_key is not None else (key_note or NO_KEY_NOTE),
        state_block=state_block,
    )


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
) -> tuple[Register, Path, Path]:
    """Connects, builds, checks and writes the register; returns it with the CSV and HTML paths."""
    from greenbond.chain import ChainError, connect

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
    try:
        w3 = connect(rpc_url)
        reg = build_register(
            w3, terms, at,
            deployments_dir=deployments_dir, private_key=key, key_note=key_note, chunk=chunk,
            progress=progress, warn=warn,
        )
    except ChainError as exc:
        raise RegisterError(str(exc)) from None
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
    parser.add_argument("--deployments", type=Path, default=None, help="directory of deployments/<chainId>.json (default deployments/)")
    parser.add_argument(
        "--out", default=None,
        help="output directory, or file stem for <stem>.csv and <stem>.html (default reports/register/register-<label>)",
    )
    parser.add_argument("--chunk", type=int_at_least(1, "blocks per log query"), default=DEFAULT_LOG_CHUNK, help=f"blocks per log query (default {DEFAULT_LOG_CHUNK})")
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
