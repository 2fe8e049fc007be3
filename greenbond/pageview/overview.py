"""The bond's overview (the public app's home page): its terms and state as the chain records
them, the coupon schedule, the facilities it finances with the allocation in force, and its
documents, each checked against the keccak256 the chain records (`documents_dir`: the only
folder a document is ever read from)."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from eth_utils import keccak

from greenbond.chain import CallFailed, call, call_many, rpc
from greenbond.config import DAY_COUNTS, REPO_ROOT
from greenbond.pageview.session import PageSettings, guarded, local_date, local_time, session
from greenbond.pageview.share import Allocation, allocation_in_force, allocation_text


COUPON_STATES = ("scheduled", "funded", "paying", "paid", "late")
BOND_STATES = ("active", "matured", "redeemed")
KINDS = ("building", "solar")
DAY_COUNT_NAMES = {v: k for k, v in DAY_COUNTS.items()}


@dataclass
class CouponRow:
    number: int
    payment_date: dt.date
    record_date: dt.date
    per_unit: int
    total: int | None          # units at the record date x per unit; None before the record date
    status: str


@dataclass
class DocumentRow:
    name: str
    uri: str
    chain_hash: str
    file_hash: str             # "" when the file could not be hashed
    check: str                 # "matches", "DIFFERS", "file missing", "not a repository file"

    @property
    def ok(self) -> bool:
        return self.check == "matches"


@dataclass
class FacilityRow:
    facility_id: int
    name: str
    kind: str
    active: bool
    allocated_proceeds: int      # of this bond's allocation version in force now; 0: none (not financed)
    financed_cost: int           # the facility's financed cost in that version; 0: none
    share_of_issue: float        # allocated / the issue volume
    metadata_uri: str
    allocation: str              # the version in force in words, or "not financed by this bond"
    allocations: list[Allocation] = field(default_factory=list)   # every version, oldest first

    @property
    def financed(self) -> bool:
        return self.allocated_proceeds > 0

    @property
    def share(self) -> Fraction:
        """The bond's share of the facility's impact now: allocated / financed cost."""
        return Fraction(self.allocated_proceeds, self.financed_cost) if self.financed_cost else Fraction(0)


@dataclass
class BondOverview:
    name: str
    symbol: str
    isin: str
    isin_placeholder: bool
    issuer: str
    currency: str
    issue_volume: int
    denomination: int
    max_units: int
    coupon_rate_ppm: int
    coupon_frequency: int
    day_count: str
    issue_date: dt.date
    maturity_date: dt.date
    status: str
    outstanding_units: int
    next_coupon: dt.date | None
    days_to_next_coupon: int | None
    coupons: list[CouponRow]
    documents: list[DocumentRow]
    facilities: list[FacilityRow]
    use_of_proceeds: str
    chain_id: int
    block: int
    block_time: str
    addresses: dict[str, str]

    @property
    def coupon_rate_text(self) -> str:
        return f"{self.coupon_rate_ppm / 10_000:.3f}% a year"


@guarded
def bond_overview(settings: PageSettings, now: int | None = None) -> BondOverview:
    s = session(settings.rpc_url, settings.deployments_dir)
    bond, sched, oracle, tz = s.suite.bond, s.suite.schedule, s.suite.oracle, s.tz
    first = call_many(s.w3, [
        call(bond, "name"), call(bond, "symbol"), call(bond, "isin"), call(bond, "denomination"),
        call(bond, "issueVolume"), call(bond, "couponRate"), call(bond, "couponFrequency"), call(bond, "issueDate"),
        call(bond, "maturityDate"), call(bond, "dayCountBasis"), call(bond, "totalSupply"), call(bond, "maxSupply"),
        call(sched, "couponCount"), call(sched, "bondStatus"), call(bond, "getAllDocuments"),
        call(oracle, "facilityCount") if oracle is not None else rpc("eth_chainId"),
        rpc("eth_getBlockByNumber", "latest", False),
    ])
    (name, symbol, isin, denomination, volume, rate, freq, issue, maturity, basis, supply, max_units,
     ncoupons, bstatus, doc_names, nfac, block) = first
    nfac = nfac if oracle is not None else 0
    block_no, block_ts = int(block["number"], 16), int(block["timestamp"], 16)
    now = int(time.time()) if now is None else now
    items = []
    for i in range(ncoupons):
        items += [call(sched, "couponDate", i), call(sched, "recordDate", i), call(sched, "couponPerUnit", i),
                  call(sched, "couponTotal", i), call(sched, "couponStatus", i)]
    for d in doc_names:
        items.append(call(bond, "getDocument", d))
    for f in range(1, nfac + 1):
        items += [call(oracle, "facility", f), call(oracle, "allocations", f, bond.address)]
    res = call_many(s.w3, items, block=block_no)
    coupons = []
    for i in range(ncoupons):
        date, record, per_unit, total, status = res[5 * i: 5 * i + 5]
        coupons.append(CouponRow(i + 1, local_date(date, tz), local_date(record, tz), per_unit,
                                 total if not isinstance(total, CallFailed) else None, COUPON_STATES[status]))
    k = 5 * ncoupons
    documents = [_document_row(d, res[k + j]) for j, d in enumerate(doc_names)]
    k += len(doc_names)
    facilities = []
    for j in range(nfac):
        f, versions = res[k + 2 * j: k + 2 * j + 2]
        kind, active, _max, _start, _mhash, fname, uri = f
        versions = [Allocation(*v) for v in versions]
        now_alloc = allocation_in_force(versions, block_ts)
        allocated = now_alloc.allocated_proceeds if now_alloc else 0
        cost = now_alloc.financed_cost if now_alloc and allocated else 0
        facilities.append(FacilityRow(
            j + 1, fname, KINDS[kind], active, allocated, cost, allocated / volume if volume else 0.0, uri,
            allocation_text(versions, block_ts, s.terms.currency, tz), versions,
        ))
    upcoming = [c for c, raw in zip(coupons, range(ncoupons)) if s.terms.timestamp(c.payment_date) > now]
    today = local_date(now, tz)
    nxt = upcoming[0].payment_date if upcoming else None
    return BondOverview(
        name=name, symbol=symbol, isin=isin, isin_placeholder=_is_placeholder_isin(isin), issuer=s.terms.issuer,
        currency=s.terms.currency, issue_volume=volume, denomination=denomination, max_units=max_units,
        coupon_rate_ppm=rate, coupon_frequency=freq, day_count=DAY_COUNT_NAMES.get(basis, str(basis)),
        issue_date=local_date(issue, tz), maturity_date=local_date(maturity, tz), status=BOND_STATES[bstatus],
        outstanding_units=supply, next_coupon=nxt, days_to_next_coupon=(nxt - today).days if nxt else None,
        coupons=coupons, documents=documents, facilities=facilities, use_of_proceeds=s.terms.use_of_proceeds,
        chain_id=s.suite.deployment.chain_id, block=block_no, block_time=local_time(block_ts, tz),
        addresses={n: r.address for n, r in s.suite.deployment.contracts.items()},
    )


def _is_placeholder_isin(isin: str) -> bool:
    """A real ISIN is 12 characters: 2 letters, 9 alphanumerics, a check digit."""
    import re

    return "PLACEHOLDER" in isin.upper() or not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", isin)


def documents_dir() -> Path:
    """The only folder the public page reads documents from (GREENBOND_DOCUMENTS_DIR, default
    docs/documents): a document URI on chain can never make the page read or serve another file
    of the server (a key, a database) even if it points there."""
    return Path(os.environ.get("GREENBOND_DOCUMENTS_DIR") or REPO_ROOT / "docs" / "documents").resolve()


def document_path(uri: str) -> Path | None:
    """The file behind a document URI ("docs/documents/x.md", relative to the repository) when it
    lies inside `documents_dir()`; None for a URL, a file elsewhere, or a missing file."""
    if "://" in uri:
        return None
    path = (REPO_ROOT / uri).resolve()
    if not path.is_relative_to(documents_dir()) or not path.is_file():
        return None
    return path


def document_bytes(uri: str) -> bytes | None:
    """A document's bytes for the page's download link, only when its keccak256 is what the chain
    records is checked by the caller (DocumentRow.ok)."""
    path = document_path(uri)
    return path.read_bytes() if path is not None else None


def _document_row(name32: bytes, got) -> DocumentRow:
    name = bytes(name32).rstrip(b"\0").decode("ascii", "replace")
    if isinstance(got, CallFailed):
        return DocumentRow(name, "", "", "", f"unreadable on chain ({got.message})")
    uri, digest, _ts = got
    chain_hash = "0x" + bytes(digest).hex()
    if "://" in uri:
        return DocumentRow(name, uri, chain_hash, "", "not a repository file")
    path = document_path(uri)
    if path is None:
        return DocumentRow(name, uri, chain_hash, "", "file missing")
    file_hash = "0x" + keccak(path.read_bytes()).hex()
    return DocumentRow(name, uri, chain_hash, file_hash, "matches" if file_hash == chain_hash else "DIFFERS")


def format_yen(amount: int, currency: str = "JPY") -> str:
    return f"{currency} {amount:,}"
