"""Reading the register from the chain: the data classes, parsing `--at`, rebuilding holdings
from Transfer events, and `build_register`, which does every chain read (the target block, the
events in block ranges, the historical calls the checks in check.py compare with, the coupon
terms and payments, each holder's sealed details) and returns a checked `Register`.

A date means 00:00 of that date in the bond's time zone (from the bond config), and the register
"at" that instant is the state after the last block strictly before it: the same instant a
record date fixes. Without the issuer's private key the register has no personal details and
says so (`key_note`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from greenbond.config import BondTerms
from greenbond.register.check import (
    balances_agreement,
    check_balances,
    check_coupon_units,
    check_paid_units,
    check_record_date,
    check_supply,
    coupon_units_agreement,
)
from greenbond.register.errors import RegisterError

ZERO_ADDRESS = "0x" + "00" * 20
NO_KEY_NOTE = (
    "Personal details not included: no issuer private key was available to open the holders' "
    "sealed details (give one with --issuer-key or GREENBOND_ISSUER_KEY)."
)

PAID_ON_CHAIN = "paid on chain"
PAID_OFF_CHAIN = "paid off chain"
UNPAID = "unpaid"


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


def _indexed(index, w3, event, start: int, end: int, latest: int, chunk: int, what: str,
             progress: Progress) -> list:
    """Logs of `event` from `start` to `end` through the event index: synced up to `latest` (only
    the blocks after its tip are read, rolled back first if the chain changed under it), then read
    from the file, decoded, each with its block's `timestamp`."""
    from greenbond.chain.logs import EventDecoder

    decoder = EventDecoder(event.abi)
    chain_id = w3.eth.chain_id
    before = index.tip(chain_id, event.address, decoder.topic0)

    def step(done: int, to: int) -> None:
        if to - (before or start) > chunk:
            progress(f"{what}: indexed blocks up to {done} of {to}")

    with index.locked():   # no other process changes the stream between the sync and the read
        done = index.sync(w3, chain_id, event.address, decoder.topic0, start, latest, chunk=chunk, progress=step)
        raws = index.logs(chain_id, event.address, decoder.topic0, start, end)
    if done["rolled_back"]:
        progress(f"{what}: the chain changed since the index read it; "
                 f"{done['rolled_back']} logs dropped and read again")
    out = []
    for raw in raws:
        log = decoder.decode(raw)
        log["timestamp"] = raw["timestamp"]
        out.append(log)
    return out


def _call(fn, block, what: str):
    try:
        return fn.call(block_identifier=block)
    except Exception as exc:  # noqa: BLE001 -- web3 raises many types; each becomes a sentence
        raise RegisterError(f"the node could not answer {what} at block {block}: {type(exc).__name__}: {exc}") from None


def _calls(w3, contract, name: str, args_list: list[tuple], block: int, what: Callable[[tuple], str]) -> list:
    """`name(*args)` for every args in `args_list`, at `block`, in JSON-RPC batches of up to a
    thousand calls (greenbond.chain.batch): one call per holder and field cost 8,045 requests and
    most of 99 s for a register of 1,000 holders."""
    from greenbond.chain import ChainError
    from greenbond.chain.batch import CallFailed, call, call_many

    try:
        results = call_many(w3, [call(contract, name, *args) for args in args_list], block)
    except (ChainError, OSError, ValueError) as exc:
        raise RegisterError(f"the node could not answer {len(args_list)} {name} calls at block {block}: {exc}") from None
    for args, result in zip(args_list, results):
        if isinstance(result, CallFailed):
            raise RegisterError(f"the node could not answer {what(args)} at block {block}: {result.message}")
    return results


def _block_timestamps(w3, numbers: Iterable[int]) -> dict[int, int]:
    """The timestamps of blocks `numbers`, read in JSON-RPC batches (one header a block)."""
    from greenbond.chain import ChainError
    from greenbond.chain.batch import CallFailed, call_many, rpc

    wanted = sorted(set(numbers))
    try:
        headers = call_many(w3, [rpc("eth_getBlockByNumber", hex(n), False) for n in wanted])
    except (ChainError, OSError, ValueError) as exc:
        raise RegisterError(f"the node could not give the headers of {len(wanted)} blocks: {exc}") from None
    out = {}
    for n, header in zip(wanted, headers):
        if isinstance(header, CallFailed) or not header:
            raise RegisterError(f"the node could not give the header of block {n}")
        out[n] = int(header["timestamp"], 16)
    return out


def _sealed_details(events, registry, suite, start: int, state_block: int) -> dict[str, bytes]:
    """Each wallet's sealed details as of `state_block`: the bytes of its last HolderRegistered or
    HolderUpdated event at or before it (the registry keeps only their keccak256, checked by the
    caller against the record at that block)."""
    try:
        lo = suite.deployment.contracts["HolderRegistry"].block
    except (KeyError, AttributeError):
        lo = start
    logs = (events(registry.events.HolderRegistered, lo, state_block, "HolderRegistered events")
            + events(registry.events.HolderUpdated, lo, state_block, "HolderUpdated events"))
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    return {log["args"]["wallet"]: bytes(log["args"]["encryptedInfo"]) for log in logs}


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
    index=None,
) -> Register:
    """Rebuilds and checks the register at `at` on the chain behind `w3` (see greenbond.register).

    `private_key` is the issuer's nacl PrivateKey, or None to leave personal details out.
    `index` is an EventIndex (greenbond.chain.index) to take the events from, synced first; None
    reads every event from the node.
    """
    from eth_utils import keccak

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

    def events(event, lo: int, hi: int, what: str) -> list:
        """`event`'s logs in blocks lo..hi: through the index when there is one, else from the node."""
        if index is not None:
            return _indexed(index, w3, event, lo, hi, latest, chunk, what, progress)
        return _scan(event, lo, hi, chunk, what, progress)

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
    transfer_logs = events(bond.events.Transfer, start, scan_to, "Transfer events")
    if index is not None:
        timestamps = {log["blockNumber"]: log["timestamp"] for log in transfer_logs}
    else:
        timestamps = _block_timestamps(w3, (log["blockNumber"] for log in transfer_logs))
    all_transfers = [
        TransferRecord(
            block=log["blockNumber"],
            log_index=log["logIndex"],
            timestamp=timestamps[log["blockNumber"]],
            sender=log["args"]["from"],     # iter_events gives addresses checksummed
            receiver=log["args"]["to"],
            value=int(log["args"]["value"]),
        )
        for log in transfer_logs
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
    onchain = dict(zip(check_wallets, _calls(w3, bond, "balanceOf", [(w,) for w in check_wallets], state_block,
                                             lambda a: f"balanceOf({a[0]})")))
    check_balances(checked.units, onchain, state_block)
    supply = _call(bond.functions.totalSupply(), state_block, "totalSupply()")
    check_supply(checked.units, checked.supply, supply, state_block)
    wallets = sorted(holdings.units, key=str.lower)
    checks.append(
        balances_agreement(
            historical=historical, target_block=tb, checked_block=state_block, wallets=len(check_wallets), supply=supply,
        )
    )
    record_dates = [int(r) for r in _call(bond.functions.recordDates(), latest, "recordDates()")]
    if target.at_timestamp is not None and target.at_timestamp in record_dates:
        t = target.at_timestamp
        at_record = dict(zip(wallets, _calls(w3, bond, "balanceOfAt", [(w, t) for w in wallets], latest,
                                             lambda a: f"balanceOfAt({a[0]}, {a[1]})")))
        checks.append(check_record_date(holdings.units, at_record, at.date, t))

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
            for log in events(schedule.events.CouponPaid, lo, tb, "CouponPaid events"):
                a = log["args"]
                paid[(int(a["index"]), a["holder"])] = (PAID_ON_CHAIN, int(a["amount"]), "", int(a["units"]))
            for log in events(schedule.events.CouponPaidOffchain, lo, tb, "CouponPaidOffchain events"):
                a = log["args"]
                paid[(int(a["index"]), a["holder"])] = (
                    PAID_OFF_CHAIN, 0, format_payment_ref(a["paymentRef"]), int(a["units"]),
                )
        pairs = 0
        for i, rec, pay, per_unit in due_coupons:
            units_at = rebuild_holdings(transfers, terms.timezone, before=rec).units
            chain_at = dict(zip(units_at, _calls(w3, bond, "balanceOfAt", [(w, rec) for w in units_at], latest,
                                                 lambda a: f"balanceOfAt({a[0]}, {a[1]})")))
            check_coupon_units(i + 1, units_at, chain_at)
            pairs += len(units_at)
            for w, u in units_at.items():
                if u == 0 and (i, w) not in paid:
                    continue
                state, amount, ref, paid_units = paid.get((i, w), (UNPAID, 0, "", u))
                check_paid_units(w, i + 1, paid_units, u)
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
            checks.append(coupon_units_agreement([c[0] + 1 for c in due_coupons], pairs))

    # ---- rows and personal details
    rows: list[HolderRow] = []
    listed = [w for w in wallets if holdings.units[w] or coupons_by_wallet.get(w)]
    holders = _calls(w3, registry, "holderOf", [(w,) for w in listed], state_block, lambda a: f"holderOf({a[0]})")
    sealed = _sealed_details(events, registry, suite, start, state_block) if private_key is not None else {}
    for w, holder in zip(listed, holders):
        units = holdings.units[w]
        coupons = coupons_by_wallet.get(w, [])
        investor, _country, expires, _registered, _updated, details_hash = holder
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
            blob = sealed.get(w)
            if blob is None or keccak(blob) != bytes(details_hash):
                raise RegisterError(
                    f"the sealed details of holder {w} in the registry's events do not match the keccak256 its record "
                    f"keeps at block {state_block}" + ("" if blob is not None else " (no HolderRegistered or "
                                                       "HolderUpdated event for the wallet)"))
            try:
                details = unseal(blob, private_key)
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


