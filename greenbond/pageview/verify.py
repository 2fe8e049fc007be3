"""Verify a reading: an hour's raw readings, as the operator publishes them
(greenbond.published) or as a visitor uploads a day file, checked against the report on chain:
each reading with the oracle's verifyReading and a Merkle proof, the readings' root, and the
signers recovered from the transaction that carried the report. Also the pickers the page
offers (facilities, their hours with a report in force). The feeder's private database is
never read."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from eth_utils import to_checksum_address

from greenbond.chain import CallFailed, call, call_many
from greenbond.meters.model import Reading
from greenbond.pageview.reports import HOUR, effective_reports
from greenbond.pageview.session import PageError, PageSettings, Session, _sentence, guarded, local_time, session


class ReadingSource(Protocol):
    def readings(self, facility_id: int, period_start: int) -> list[Reading]: ...


def published_readings(settings: PageSettings):
    """The operator's published readings (greenbond.published.PublishedReadings) at
    settings.published_dir: what Verify checks, never the feeder's private database."""
    from greenbond.published import PublishedReadings

    return PublishedReadings(settings.published_dir)


def parse_day_file(file_bytes: bytes, name: str = "the uploaded file"):
    """A day file a visitor uploads -> greenbond.published.DayFile (its `hours` list the hours it
    holds: `.period_start`, `.readings`); a file that is not one is a PageError sentence."""
    from greenbond.published import PublishedError, load_day_file

    try:
        return load_day_file(file_bytes, name)
    except PublishedError as exc:
        raise PageError(_sentence(exc)) from None


@dataclass
class HourOption:
    facility_id: int
    index: int
    period_start: int
    label: str


@guarded
def report_hours(settings: PageSettings, facility_id: int, limit: int = 24 * 14) -> list[HourOption]:
    """The facility's reports in force, newest first (at most `limit`)."""
    s = session(settings.rpc_url, settings.deployments_dir)
    if s.reports is None:
        return []
    logs = [l for l in effective_reports(s.reports.refresh()) if l.facility_id == facility_id]
    logs.sort(key=lambda l: l.period_start, reverse=True)
    return [HourOption(l.facility_id, l.index, l.period_start,
                       f"{local_time(l.period_start, s.tz)} (report #{l.index})") for l in logs[:limit]]


@guarded
def facility_names(settings: PageSettings) -> dict[int, str]:
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        return {}
    n = call_many(s.w3, [call(oracle, "facilityCount")])[0]
    res = call_many(s.w3, [call(oracle, "facility", f) for f in range(1, n + 1)])
    return {f: r[5] for f, r in zip(range(1, n + 1), res)}   # Facility.name


@dataclass
class ReadingCheck:
    position: int
    meter_id: str
    interval_start: str
    wh: int
    flags: int
    tampered: bool
    on_chain: bool | None         # verifyReading's answer; None when not checked


@dataclass
class SignerCheck:
    address: str
    in_signer_set: bool


@dataclass
class VerifyResult:
    facility_id: int
    facility: str
    index: int
    period_start: int
    hour_text: str
    actual_wh: int
    benchmark_wh: int
    reading_count: int
    energy_reduction_j: int
    co2_avoided_mg: int
    methodology_version: int
    factor_year: int
    signer_set_version: int
    superseded: bool
    chain_root: str
    local_root: str
    readings: list[ReadingCheck]
    signers: list[SignerCheck]
    threshold: int
    digest: str
    digest_matches_chain: bool
    tx_hash: str
    block: int
    problems: list[str] = field(default_factory=list)
    # where the readings came from: the operator's published day file, or a visitor's upload
    source: str = "published"        # "published" | "uploaded" | "other" (a ReadingSource given by the caller)
    published_file: str = ""         # "facility-1/2024-01-05.json" (published), the upload's name (uploaded)
    published_path: str = ""         # the published file on the server (for a download button); "" for an upload
    published_sha256: str = ""       # sha256 of the file's bytes as read
    index_sha256: str = ""           # what the published index.json says the file's sha256 is ("" when unknown)
    published_root: str = ""         # the root the file says its readings hash to
    quality_flags: int = 0           # the report's qualityFlags (1 estimated, 2 low coverage, 4 excluded)

    @property
    def roots_match(self) -> bool:
        return self.chain_root == self.local_root

    @property
    def checked(self) -> list[ReadingCheck]:
        return [r for r in self.readings if r.on_chain is not None]

    @property
    def all_verified(self) -> bool:
        return bool(self.checked) and all(r.on_chain for r in self.checked)

    @property
    def signatures_ok(self) -> bool:
        return self.digest_matches_chain and sum(s.in_signer_set for s in self.signers) >= self.threshold

    @property
    def file_matches_index(self) -> bool | None:
        """The file is byte for byte the one the operator's index lists (None: no index to compare)."""
        return None if not self.index_sha256 else self.index_sha256 == self.published_sha256

    @property
    def file_ok(self) -> bool:
        """The file is the indexed one (when there is an index), its readings hash to the root it
        gives, and that root is the one on chain."""
        return (self.file_matches_index is not False and self.published_root == self.local_root
                and self.published_root == self.chain_root)


@guarded
def verify_report(settings: PageSettings, facility_id: int, index: int, *, only: int | None = None,
                  tamper: tuple[int, int] | None = None, source: ReadingSource | None = None) -> VerifyResult:
    """Checks the hour's raw readings, as the operator PUBLISHES them (settings.published_dir,
    greenbond.published: a day file per facility, its sha256 in the facility's index), against
    report `index` of `facility_id`: each (or only position `only`) with the oracle's
    verifyReading and a proof from the tree of the published readings; `tamper=(position, wh)`
    changes one reading's value first, so the check fails. A published file that changed after
    it was indexed, or whose readings do not hash to the root it gives, is checked all the same
    and said in `problems` (its readings then fail on chain). Recovers the signers from the
    submitReports transaction that carried the report. The feeder's private database is never
    read (a `source` given by the caller is used instead of the published files)."""
    from greenbond.published import PublishedError

    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle.")
    stored, fac = call_many(s.w3, [call(oracle, "report", facility_id, index), call(oracle, "facility", facility_id)])
    if isinstance(stored, CallFailed):
        raise PageError(f"Facility {facility_id} has no report #{index} on chain.")
    period_start = stored[0]
    if source is not None:
        readings = list(source.readings(facility_id, period_start))
        if not readings:
            raise PageError(f"There are no readings for facility {facility_id} in the hour starting "
                            f"{local_time(period_start, s.tz)}.")
        return _verify_readings(s, facility_id, index, stored, fac, readings, only=only, tamper=tamper,
                                problems=[], provenance={"source": "other"})
    try:
        hour = published_readings(settings).hour(facility_id, period_start, strict=False)
    except PublishedError as exc:
        raise PageError(_sentence(exc)) from None
    problems = [_sentence(p) for p in hour.problems()]
    problems += _chain_problems(s, oracle, hour, f"the published file {hour.file}", settings.published_dir)
    return _verify_readings(s, facility_id, index, stored, fac, list(hour.readings), only=only, tamper=tamper,
                            problems=problems, provenance={
                                "source": "published", "published_file": hour.file, "published_path": hour.path,
                                "published_sha256": hour.sha256, "index_sha256": hour.index_sha256,
                                "published_root": hour.readings_root})


@guarded
def verify_uploaded(settings: PageSettings, file_bytes: bytes, facility_id: int | None = None,
                    period_start: int | None = None, *, name: str = "the uploaded file", only: int | None = None,
                    tamper: tuple[int, int] | None = None) -> VerifyResult:
    """Checks a day file a visitor uploads (e.g. one downloaded from the page earlier, or from
    the operator) against the chain: the hour `period_start` (default: the file's first) of
    `facility_id` (default: the file's), against the report in force for that hour. Also says
    whether the file is byte for byte the one the operator publishes now (`file_matches_index`,
    None when the page has no published index for it). Nothing of the file is stored."""
    from greenbond.published import PublishedError

    day = parse_day_file(file_bytes, name)
    if facility_id is not None and int(facility_id) != day.facility_id:
        raise PageError(f"{name[0].upper() + name[1:]} holds readings of facility {day.facility_id}, "
                        f"not of facility {facility_id}.")
    if not day.hours:
        raise PageError(f"{name[0].upper() + name[1:]} lists no hours.")
    hour = day.hours[0] if period_start is None else day.hour(int(period_start))
    s = session(settings.rpc_url, settings.deployments_dir)
    oracle = s.suite.oracle
    if oracle is None:
        raise PageError("This deployment has no ImpactOracle.")
    if hour is None:
        raise PageError(f"{name[0].upper() + name[1:]} has no readings for the hour starting "
                        f"{local_time(int(period_start), s.tz)}.")
    fid, start = day.facility_id, hour.period_start
    log = next((l for l in effective_reports(s.reports.refresh())
                if l.facility_id == fid and l.period_start == start), None)
    if log is None:
        raise PageError(f"Facility {fid} has no report on chain for the hour starting {local_time(start, s.tz)}.")
    stored, fac = call_many(s.w3, [call(oracle, "report", fid, log.index), call(oracle, "facility", fid)])
    if isinstance(stored, CallFailed):
        raise PageError(f"Facility {fid} has no report #{log.index} on chain.")
    hour.file = name
    problems = []
    if not hour.root_matches:
        problems.append(_sentence(hour.problems()[-1]))
    problems += _chain_problems(s, oracle, hour, name, None)
    index_sha = ""
    try:
        _day, entry = published_readings(settings).locate(fid, start)
        index_sha = str(entry.get("sha256") or "")
    except PublishedError:
        pass
    if index_sha and index_sha != day.sha256:
        problems.append(f"{name[0].upper() + name[1:]} is not byte for byte the file the operator publishes for "
                        f"this day (sha256 {day.sha256}, published {index_sha}).")
    return _verify_readings(s, fid, log.index, stored, fac, list(hour.readings), only=only, tamper=tamper,
                            problems=problems, provenance={
                                "source": "uploaded", "published_file": name, "published_sha256": day.sha256,
                                "index_sha256": index_sha, "published_root": hour.readings_root})


def published_bytes(settings: PageSettings, result: VerifyResult) -> bytes | None:
    """The published day file a VerifyResult used, for the page's download button; None for an
    upload or a file outside settings.published_dir."""
    if result.source != "published" or not result.published_path:
        return None
    path = Path(result.published_path).resolve()
    if not path.is_relative_to(Path(settings.published_dir).resolve()) or not path.is_file():
        return None
    return path.read_bytes()


def _chain_problems(s: Session, oracle, hour, what: str, directory: str | None) -> list[str]:
    """A file published for another chain or oracle than the page's (its roots mean nothing here)."""
    want_id, want_oracle = s.w3.eth.chain_id, oracle.address.lower()
    if hour.chain_id is None and hour.oracle is None:
        return []
    if hour.chain_id == want_id and (hour.oracle or "").lower() == want_oracle:
        return []
    where = f" (GREENBOND_PUBLISHED_DIR={directory})" if directory else ""
    return [f"{what[0].upper() + what[1:]} was published for chain {hour.chain_id}, oracle {hour.oracle}, not for this "
            f"chain {want_id}, oracle {oracle.address}{where}."]


def _verify_readings(s: Session, facility_id: int, index: int, stored, fac, readings: list[Reading], *,
                     only: int | None, tamper: tuple[int, int] | None, problems: list[str],
                     provenance: dict) -> VerifyResult:
    """The checks of verify_report on given readings: verifyReading of each (or `only`) with a
    proof from their tree, the root of the readings, and the signers of the report."""
    from greenbond.merkle import MerkleTree
    from greenbond.oracle.signing import REPORT_FIELDS, HourlyReport, report_digest

    oracle = s.suite.oracle
    (period_start, actual, benchmark, count, qflags, energy_j, co2_mg, mversion, fyear, sversion,
     supersedes, superseded_by, root) = stored
    chain_root = "0x" + bytes(root).hex()
    if not readings:
        raise PageError(f"There are no readings for facility {facility_id} in the hour starting "
                        f"{local_time(period_start, s.tz)}.")
    tree = MerkleTree.of_readings(readings)
    checked = list(range(len(readings))) if only is None else [only]
    if tamper is not None:
        pos, wh = tamper
        if not 0 <= pos < len(readings):
            raise PageError(f"There is no reading #{pos + 1} in this hour (it has {len(readings)}).")
        readings[pos] = dataclasses.replace(readings[pos], wh=int(wh))
    for pos in checked:
        if not 0 <= pos < len(readings):
            raise PageError(f"There is no reading #{pos + 1} in this hour (it has {len(readings)}).")
    local_root = "0x" + MerkleTree.of_readings(readings).root.hex()
    answers = call_many(s.w3, [
        call(oracle, "verifyReading", facility_id, index, readings[p].leaf_values(), tree.proof(p)) for p in checked
    ])
    rows = []
    for p, r in enumerate(readings):
        ans = answers[checked.index(p)] if p in checked else None
        rows.append(ReadingCheck(p, r.meter_id, local_time(r.ts, s.tz), r.wh, r.flags,
                                 tamper is not None and tamper[0] == p,
                                 None if ans is None else (ans is True)))
    # signers: from the transaction that carried the report
    log = next((l for l in s.reports.refresh() if l.facility_id == facility_id and l.index == index), None)
    problems = list(problems)
    signers: list[SignerCheck] = []
    digest_hex, digest_ok, tx_hash, block = "", False, "", 0
    members, threshold = call_many(s.w3, [call(oracle, "signerSet", sversion)])[0]
    members_l = {a.lower() for a in members}
    if log is None:
        problems.append("the ReportAccepted event of this report was not found")
    else:
        tx_hash, block = log.tx_hash, log.block
        tx = s.w3.eth.get_transaction(tx_hash)
        fn, args = oracle.decode_function_input(tx["input"])
        found = None
        for rep, sigs in zip(args["reports"], args["signatures"]):
            rep = dict(rep) if isinstance(rep, dict) else dict(zip([n for n, _ in REPORT_FIELDS], rep))
            if rep["facilityId"] == facility_id and rep["periodStart"] == period_start and rep["supersedes"] == supersedes:
                found = (rep, sigs)
        if found is None:
            problems.append(f"transaction {tx_hash} does not carry this report")
        else:
            rep, sigs = found
            hr = HourlyReport.from_abi(rep)
            digest = report_digest(hr, s.w3.eth.chain_id, oracle.address)
            digest_hex = "0x" + digest.hex()
            onchain_digest = call_many(s.w3, [call(oracle, "reportDigest", hr.as_tuple())])[0]
            digest_ok = bytes(onchain_digest) == digest
            for sig in sigs:
                sig = dict(sig) if isinstance(sig, dict) else {"r": sig[0], "vs": sig[1]}
                addr = recover_compact(digest, bytes(sig["r"]), bytes(sig["vs"]))
                signers.append(SignerCheck(addr, addr.lower() in members_l))
    return VerifyResult(
        facility_id=facility_id, facility=fac[5] if not isinstance(fac, CallFailed) else str(facility_id),
        index=index, period_start=period_start,
        hour_text=f"{local_time(period_start, s.tz)} to {local_time(period_start + HOUR, s.tz)}",
        actual_wh=actual, benchmark_wh=benchmark, reading_count=count, energy_reduction_j=energy_j,
        co2_avoided_mg=co2_mg, methodology_version=mversion, factor_year=fyear, signer_set_version=sversion,
        superseded=bool(superseded_by), chain_root=chain_root, local_root=local_root, readings=rows,
        signers=signers, threshold=threshold, digest=digest_hex, digest_matches_chain=digest_ok,
        tx_hash=tx_hash, block=block, problems=problems, quality_flags=qflags, **provenance,
    )


def recover_compact(digest: bytes, r: bytes, vs: bytes) -> str:
    """The signer of an EIP-2098 compact signature (r, vs) over `digest` (ECDSA.recover)."""
    from eth_keys import keys

    vs_int = int.from_bytes(vs, "big")
    s_int = vs_int & ((1 << 255) - 1)
    v = vs_int >> 255
    pub = keys.Signature(vrs=(v, int.from_bytes(r, "big"), s_int)).recover_public_key_from_msg_hash(digest)
    return to_checksum_address(pub.to_canonical_address())
