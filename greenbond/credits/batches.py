"""Carbon credit batches over web3, through the one chain layer (greenbond.chain).

A batch is planned from the chain alone: the oracle's ReportAccepted events of the facility give
every report and which ones corrections superseded, so the reports in force over the period are
known without asking the feeder; one JSON-RPC batch then reads their factor years and quality
flags. The plan is refused, before any transaction, when:
  - the period's coverage (hours with a report in force / hours in the period) is below the
    minimum (the contract's, 90% by default: CalTRACK's data sufficiency rule);
  - its reports mix methodology versions or grid factor years (a batch carries one of each:
    split the period where the factor year changes);
  - the feeder's database (when given) holds unresolved quarantine entries of the facility in
    the period: readings kept out that nobody looked at;
  - the net CO2, less the facility's shortfall, is under one kilogram.
Proposing sends proposeBatch, then the reports in chunks (addReports; a progress callback sees
each chunk), then sealBatch. An interrupted proposal is resumed: a draft of the same facility and
period is found on chain and continued from its cursor, so nothing is sent twice. Lowering
corrections not yet reviewed are reviewed first (anyone may).

Verifying a certificate walks down: the certificate and its CreditsRetired event; the batch
(issued) and the reports it took (its ReportsCredited events), whose push tree must give the
batch's reports root and whose CO2 must add up to the batch's; one report's proof checked by the
contract (verifyBatchReport); then that report's raw readings, as the operator publishes them,
checked against the oracle (verifyReading).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from greenbond.chain import CallFailed, call, call_many, iter_events
from greenbond.chain.tx import Signer, transact
from greenbond.merkle import PushTree, report_leaf

HOUR = 3600
MG_PER_KG = 10**6
TREE_DEPTH = 14
# Reports per addReports transaction: about 29,000 gas each (oracle read, mark, tree push,
# event; 500 reports measured at 14.6M gas on Anvil, docs/credits.md), under a 30M block gas limit.
DEFAULT_CHUNK = 500
STATUS = ("none", "draft", "sealed", "approved", "issued", "cancelled")
ZERO32 = b"\0" * 32

Progress = Callable[[int, int], None]


class CreditsError(ValueError):
    """A credits command that cannot go on; the message is one sentence for the operator."""


@dataclass(frozen=True)
class InForce:
    index: int
    period_start: int
    co2_mg: int
    readings_root: bytes
    methodology_version: int


@dataclass
class BatchPlan:
    facility_id: int
    period_start: int
    period_end: int
    indexes: list[int]
    co2_mg: int
    estimated_hours: int
    methodology_version: int
    factor_year: int
    shortfall_mg: int
    min_coverage_ppm: int
    unreviewed_lowerings: list[int] = field(default_factory=list)

    @property
    def hours_in_period(self) -> int:
        return (self.period_end - self.period_start) // HOUR

    @property
    def coverage_ppm(self) -> int:
        return len(self.indexes) * 10**6 // self.hours_in_period

    @property
    def deducted_mg(self) -> int:
        return min(self.shortfall_mg, max(self.co2_mg, 0))

    @property
    def quantity_kg(self) -> int:
        """floor((net CO2 - deduction) / 1 kg): what sealBatch will set."""
        return (self.co2_mg - self.deducted_mg) // MG_PER_KG if self.co2_mg > 0 else 0

    def to_json(self) -> dict:
        out = asdict(self)
        out.update(hours=len(self.indexes), hours_in_period=self.hours_in_period, coverage_ppm=self.coverage_ppm,
                   deducted_mg=self.deducted_mg, quantity_kg=self.quantity_kg)
        return out


def utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def percent(ppm: int) -> str:
    return f"{ppm / 10_000:.1f}%"


def credits_of(suite):
    if suite.credits is None:
        raise CreditsError("this deployment has no CarbonCredits contract: run `greenbond deploy` again to add it")
    return suite.credits


def _latest(w3) -> tuple[int, int]:
    block = w3.eth.get_block("latest")
    return block["number"], block["timestamp"]


def reports_in_force(suite, facility_id: int, start: int, end: int, *, to_block: int | None = None) -> list[InForce]:
    """The reports in force for the hours [start, end) of a facility, in hour order, from the
    oracle's ReportAccepted events (a correction names the report it supersedes)."""
    oracle = suite.oracle
    to_block = suite.w3.eth.block_number if to_block is None else to_block
    reports: dict[int, InForce] = {}
    superseded: set[int] = set()
    for ev in iter_events(oracle.events.ReportAccepted, suite.start_block(), to_block,
                          argument_filters={"facilityId": facility_id}):
        a = ev["args"]
        if a["supersedes"]:
            superseded.add(a["supersedes"] - 1)
        reports[a["index"]] = InForce(a["index"], a["periodStart"], a["co2AvoidedMg"], bytes(a["readingsRoot"]),
                                      a["methodologyVersion"])
    return sorted((r for i, r in reports.items() if i not in superseded and start <= r.period_start < end),
                  key=lambda r: r.period_start)


def lowering_corrections(suite, facility_id: int) -> list[int]:
    """Indexes of the facility's corrections that lowered their hour's CO2 below the report they
    superseded (what the oracle's loweredCorrections counts), in order."""
    co2: dict[int, int] = {}
    out = []
    for ev in iter_events(suite.oracle.events.ReportAccepted, suite.start_block(), suite.w3.eth.block_number,
                          argument_filters={"facilityId": facility_id}):
        a = ev["args"]
        co2[a["index"]] = a["co2AvoidedMg"]
        if a["supersedes"] and a["co2AvoidedMg"] < co2[a["supersedes"] - 1]:
            out.append(a["index"])
    return out


def reviewed_corrections(suite, facility_id: int) -> set[int]:
    credits = credits_of(suite)
    return {ev["args"]["correctionIndex"] for ev in iter_events(
        credits.events.CorrectionReviewed, _deploy_block(suite), suite.w3.eth.block_number,
        argument_filters={"facilityId": facility_id})}


def _deploy_block(suite) -> int:
    rec = suite.deployment.contracts.get("CarbonCredits")
    return rec.block if rec else suite.start_block()


def unresolved_quarantine(store, facility_id: int, start: int, end: int) -> list:
    """The feeder's quarantine entries of the facility that no operator acknowledged, in the
    period (or without a time: a row that could not even be read may be in it)."""
    rows = store.quarantine(facility_id=facility_id, acknowledged=False, limit=100_000)
    return [r for r in rows if r.interval_start is None or start <= r.interval_start < end]


def plan_batch(suite, facility_id: int, start: int, end: int, *, min_coverage_ppm: int | None = None,
               store=None) -> BatchPlan:
    """What a batch over [start, end) would take and credit, checked as the contract will check
    it (and against the feeder's quarantine when `store` is given); raises CreditsError."""
    credits = credits_of(suite)
    w3 = suite.w3
    if start % HOUR or end % HOUR or start >= end:
        raise CreditsError(f"the period must be whole hours with its start before its end ({utc(start)} to {utc(end)})")
    if (end - start) // HOUR > 1 << TREE_DEPTH:
        raise CreditsError(f"a batch covers at most {1 << TREE_DEPTH:,} hours; this period has {(end - start) // HOUR:,}")
    block, now = _latest(w3)
    if end > now:
        raise CreditsError(f"the period ends {utc(end)}, after the chain's clock ({utc(now)}): only closed hours are credited")
    facility, contract_min, book = call_many(w3, [call(suite.oracle, "facility", facility_id),
                                                  call(credits, "minCoveragePpm"),
                                                  call(credits, "facilityBook", facility_id)], block=block)
    if isinstance(facility, CallFailed):
        raise CreditsError(f"the oracle has no facility {facility_id}")
    shortfall, _reviewed, credited_until, held = book
    if start < credited_until:
        raise CreditsError(f"facility {facility_id} is credited until {utc(credited_until)}: a new batch starts "
                           "there or later")
    threshold = max(contract_min, min_coverage_ppm or 0)
    found = reports_in_force(suite, facility_id, start, end, to_block=block)
    hours = (end - start) // HOUR
    if not found:
        raise CreditsError(f"facility {facility_id} has no report in force between {utc(start)} and {utc(end)}")
    coverage = len(found) * 10**6 // hours
    if len(found) * 10**6 < threshold * hours:
        raise CreditsError(f"coverage {percent(coverage)} ({len(found):,} of {hours:,} hours) is below the "
                           f"{percent(threshold)} minimum (CalTRACK's data sufficiency rule): fill the gaps first "
                           "or choose another period")
    stored = call_many(w3, [call(suite.oracle, "report", facility_id, r.index) for r in found], block=block)
    kinds = {}
    estimated = 0
    for r, s in zip(found, stored):
        kinds.setdefault((s[7], s[8]), r.period_start)        # methodologyVersion, factorYear
        estimated += s[4] & 1
    if len(kinds) > 1:
        (a, a_from), (b, b_from) = sorted(kinds.items(), key=lambda kv: kv[1])[:2]
        raise CreditsError(f"the period's reports use methodology v{a[0]} factor year {a[1]} and v{b[0]} factor year "
                           f"{b[1]} (from {utc(b_from)}): a batch carries one; propose one batch up to {utc(b_from)} "
                           "and another from there")
    if store is not None:
        open_rows = unresolved_quarantine(store, facility_id, start, end)
        if open_rows:
            first = open_rows[0]
            when = utc(first.interval_start) if first.interval_start is not None else "no time"
            raise CreditsError(f"{len(open_rows):,} unresolved quarantine entries of facility {facility_id} in the "
                               f"period (first: meter {first.meter_id} at {when}, {first.reason}): acknowledge or "
                               "resolve them (`greenbond feeder quarantine`) first")
    ((methodology, factor_year),) = kinds
    lowering = lowering_corrections(suite, facility_id)
    unreviewed = sorted(set(lowering) - reviewed_corrections(suite, facility_id)) if lowering else []
    plan = BatchPlan(facility_id, start, end, [r.index for r in found], sum(r.co2_mg for r in found), estimated,
                     methodology, factor_year, shortfall, threshold, unreviewed)
    if plan.quantity_kg == 0:
        raise CreditsError(f"the period's net CO2 avoided is {plan.co2_mg:,} mg (less {plan.deducted_mg:,} mg owed by "
                           "earlier batches): under one kilogram, nothing to credit")
    return plan


def _send(suite, fn, signer: Signer) -> dict:
    return transact(suite.w3, fn, signer)


def _batch_rows(suite) -> list[tuple]:
    credits = credits_of(suite)
    n = credits.functions.batchCount().call()
    return call_many(suite.w3, [call(credits, "batch", i) for i in range(1, n + 1)]) if n else []


def find_draft(suite, facility_id: int, start: int, end: int) -> tuple[int, int] | None:
    """(batch id, cursor) of a draft of the same facility and period, or None."""
    for i, b in enumerate(_batch_rows(suite), start=1):
        if b[0] == facility_id and b[1] == 1 and (b[4], b[5]) == (start, end):
            return i, b[6]
    return None


def review_corrections(suite, signer: Signer, facility_id: int, indexes: list[int] | None = None) -> list[int]:
    """Reviews the facility's lowering corrections not yet reviewed; returns them."""
    credits = credits_of(suite)
    if indexes is None:
        indexes = sorted(set(lowering_corrections(suite, facility_id)) - reviewed_corrections(suite, facility_id))
    for i in range(0, len(indexes), 200):
        _send(suite, credits.functions.reviewCorrections(facility_id, indexes[i:i + 200]), signer)
    return indexes


def propose_batch(suite, signer: Signer, plan: BatchPlan, *, external_ref: str = "", chunk: int = DEFAULT_CHUNK,
                  progress: Progress | None = None) -> int:
    """Proposes (or resumes), fills and seals the batch of `plan`; returns its id."""
    credits = credits_of(suite)
    if plan.unreviewed_lowerings:
        review_corrections(suite, signer, plan.facility_id, plan.unreviewed_lowerings)
    draft = find_draft(suite, plan.facility_id, plan.period_start, plan.period_end)
    if draft is None:
        receipt = _send(suite, credits.functions.proposeBatch(
            plan.facility_id, plan.period_start, plan.period_end, plan.methodology_version, plan.factor_year,
            external_ref), signer)
        batch_id = credits.events.BatchProposed().process_receipt(receipt, errors=DISCARD)[0]["args"]["batchId"]
        cursor = plan.period_start
    else:
        batch_id, cursor = draft
    starts = {r.index: r.period_start for r in reports_in_force(suite, plan.facility_id, plan.period_start,
                                                                plan.period_end)}
    todo = [i for i in plan.indexes if starts.get(i, -1) >= cursor]
    done = len(plan.indexes) - len(todo)
    if progress:
        progress(done, len(plan.indexes))
    for k in range(0, len(todo), chunk):
        part = todo[k:k + chunk]
        _send(suite, credits.functions.addReports(batch_id, part), signer)
        done += len(part)
        if progress:
            progress(done, len(plan.indexes))
    _send(suite, credits.functions.sealBatch(batch_id), signer)
    return batch_id


def document_hash(path: str | Path) -> bytes:
    """keccak256 of a document file's bytes (a verification report, a resolution)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CreditsError(f"cannot read the document {path}: {exc.strerror}") from None
    if not data:
        raise CreditsError(f"the document {path} is empty")
    return keccak(data)


def approve_batch(suite, signer: Signer, batch_id: int, document: str | Path) -> bytes:
    digest = document_hash(document)
    _send(suite, credits_of(suite).functions.approveBatch(batch_id, digest), signer)
    return digest


def issue_batch(suite, signer: Signer, batch_id: int, to: str) -> None:
    _send(suite, credits_of(suite).functions.issueBatch(batch_id, Web3.to_checksum_address(to)), signer)


def cancel_batch(suite, signer: Signer, batch_id: int, document: str | Path | None) -> None:
    digest = document_hash(document) if document else ZERO32
    _send(suite, credits_of(suite).functions.cancelBatch(batch_id, digest), signer)


def resolve_hold(suite, signer: Signer, facility_id: int, document: str | Path) -> bytes:
    digest = document_hash(document)
    _send(suite, credits_of(suite).functions.resolveHold(facility_id, digest), signer)
    return digest


def retire_credits(suite, signer: Signer, batch_id: int, amount_kg: int, beneficiary: str, reason: str,
                   consumption: tuple[int, int]) -> int:
    """Retires `amount_kg` of the signer's credits of a batch; returns the certificate id."""
    credits = credits_of(suite)
    if not beneficiary.strip():
        raise CreditsError("--beneficiary must name who claims the reduction")
    receipt = _send(suite, credits.functions.retire(batch_id, amount_kg, beneficiary, reason, *consumption), signer)
    return credits.events.CreditsRetired().process_receipt(receipt, errors=DISCARD)[0]["args"]["certificateId"]


BATCH_FIELDS = ("facility_id", "status", "methodology_version", "factor_year", "period_start", "period_end", "cursor",
                "hours_credited", "estimated_hours", "co2_mg", "deducted_mg", "quantity_kg", "first_serial",
                "proposer", "verifier", "verification_doc_hash", "reports_root", "external_ref")


def batch_info(suite, batch_id: int) -> dict:
    credits = credits_of(suite)
    got, retired = call_many(suite.w3, [call(credits, "batch", batch_id), call(credits, "retiredOf", batch_id)])
    if isinstance(got, CallFailed):
        raise CreditsError(f"there is no batch {batch_id} (batches: {credits.functions.batchCount().call()})")
    out = dict(zip(BATCH_FIELDS, got))
    out["status"] = STATUS[out["status"]]
    out["proposer"], out["verifier"] = (Web3.to_checksum_address(out[k]) for k in ("proposer", "verifier"))
    for k in ("verification_doc_hash", "reports_root"):
        out[k] = "0x" + bytes(out[k]).hex()
    out["batch_id"] = batch_id
    out["retired_kg"] = retired
    issued = out["status"] == "issued"
    out["outstanding_kg"] = out["quantity_kg"] - retired if issued else 0
    out["serials"] = [out["first_serial"], out["first_serial"] + out["quantity_kg"] - 1] if issued else None
    out["contract"] = credits.address
    return out


CERT_FIELDS = ("batch_id", "amount_kg", "retired_at", "consumption_start", "consumption_end", "retiree", "beneficiary",
               "reason")


def certificate_info(suite, certificate_id: int) -> dict:
    credits = credits_of(suite)
    (got,) = call_many(suite.w3, [call(credits, "certificate", certificate_id)])
    if isinstance(got, CallFailed):
        raise CreditsError(f"there is no certificate {certificate_id} "
                           f"(certificates: {credits.functions.certificateCount().call()})")
    out = dict(zip(CERT_FIELDS, got))
    out["retiree"] = Web3.to_checksum_address(out["retiree"])
    out["certificate_id"] = certificate_id
    out["contract"] = credits.address
    return out


def batch_reports(suite, batch_id: int) -> list[int]:
    """The oracle report indexes a batch took, in order, from its ReportsCredited events."""
    credits = credits_of(suite)
    out: list[int] = []
    for ev in iter_events(credits.events.ReportsCredited, _deploy_block(suite), suite.w3.eth.block_number,
                          argument_filters={"batchId": batch_id}):
        out.extend(ev["args"]["reportIndexes"])
    return out


@dataclass
class Check:
    step: str
    ok: bool
    detail: str


def verify_certificate(suite, certificate_id: int, *, published_dir: str | Path | None, rpc_url: str,
                       deployments_dir: Path, hour: int | None = None) -> list[Check]:
    """Checks a retirement certificate down to one meter reading (see the module's docstring).
    `hour` picks the batch's report by its hour's start (default: the batch's first report)."""
    credits = credits_of(suite)
    checks: list[Check] = []
    cert = certificate_info(suite, certificate_id)
    events = [ev for ev in iter_events(credits.events.CreditsRetired, _deploy_block(suite), suite.w3.eth.block_number,
                                       argument_filters={"certificateId": certificate_id})]
    ok = len(events) == 1 and events[0]["args"]["amountKg"] == cert["amount_kg"]
    where = f"block {events[0]['blockNumber']}" if events else "no event"
    checks.append(Check("certificate", ok, f"#{certificate_id}: {cert['amount_kg']:,} kg of batch {cert['batch_id']} "
                                           f"retired by {cert['retiree']} for {cert['beneficiary']!r} "
                                           f"(CreditsRetired, {where})"))
    b = batch_info(suite, cert["batch_id"])
    checks.append(Check("batch", b["status"] == "issued",
                        f"batch {b['batch_id']} is {b['status']}: facility {b['facility_id']}, {utc(b['period_start'])} "
                        f"to {utc(b['period_end'])}, {b['quantity_kg']:,} kg, serials {b['serials']}, verified by "
                        f"{b['verifier']} (document {b['verification_doc_hash'][:18]}...)"))
    indexes = batch_reports(suite, b["batch_id"])
    f = b["facility_id"]
    stored = call_many(suite.w3, [call(suite.oracle, "report", f, i) for i in indexes])
    leaves, co2 = [], 0
    for i, s in zip(indexes, stored):
        leaves.append(report_leaf(f, i, s[0], bytes(s[12]), s[6]))
        co2 += s[6]
    tree = PushTree(leaves, TREE_DEPTH)
    root_ok = "0x" + tree.root.hex() == b["reports_root"] and len(indexes) == b["hours_credited"]
    checks.append(Check("reports", root_ok, f"{len(indexes):,} reports taken; their tree's root "
                                            f"0x{tree.root.hex()[:16]}... {'is' if root_ok else 'is NOT'} the batch's"))
    sum_ok = co2 == b["co2_mg"] and (co2 - b["deducted_mg"]) // MG_PER_KG == b["quantity_kg"]
    checks.append(Check("quantity", sum_ok, f"their CO2 adds up to {co2:,} mg; less {b['deducted_mg']:,} mg deducted, "
                                            f"floor to kg = {(co2 - b['deducted_mg']) // MG_PER_KG:,} kg "
                                            f"(the batch says {b['quantity_kg']:,})"))
    if not indexes:
        return checks
    pick = 0
    if hour is not None:
        starts = [s[0] for s in stored]
        if hour not in starts:
            raise CreditsError(f"batch {b['batch_id']} took no report for the hour starting {utc(hour)}")
        pick = starts.index(hour)
    index, s = indexes[pick], stored[pick]
    proof = tree.proof(pick)
    on_chain = credits.functions.verifyBatchReport(b["batch_id"], index, s[0], bytes(s[12]), s[6], proof).call()
    checks.append(Check("report", bool(on_chain), f"report #{index} of facility {f} (hour {utc(s[0])}, {s[6]:,} mg, "
                                                  f"readings root 0x{bytes(s[12]).hex()[:16]}...): verifyBatchReport "
                                                  f"says {bool(on_chain)}"))
    checks.append(_reading_check(f, index, published_dir, rpc_url, deployments_dir))
    return checks


def _reading_check(facility_id: int, index: int, published_dir, rpc_url: str, deployments_dir: Path) -> Check:
    """One published reading of the report, checked on chain with verifyReading."""
    from greenbond.pageview.session import PageError, PageSettings
    from greenbond.pageview.verify import verify_report

    if not published_dir:
        return Check("reading", False, "no published readings given (--published DIR): the report's readings "
                                       "cannot be checked")
    settings = PageSettings(rpc_url=rpc_url, deployments_dir=str(deployments_dir), published_dir=str(published_dir))
    try:
        result = verify_report(settings, facility_id, index, only=0)
    except PageError as exc:
        return Check("reading", False, str(exc))
    checked = [c for c in result.readings if c.on_chain is not None]
    if not checked:
        return Check("reading", False, "no reading was checked")
    c = checked[0]
    ok = bool(c.on_chain) and result.file_ok
    detail = (f"meter {c.meter_id} at {c.interval_start}: {c.wh:,} Wh; verifyReading says {c.on_chain}; the published "
              f"file {'matches' if result.file_ok else 'does NOT match'} the root on chain")
    return Check("reading", ok, detail)


