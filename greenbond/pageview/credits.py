"""Carbon credits on the Impact page: the batches issued from the facilities' reports (contracts/
CarbonCredits.sol), what has been retired, and the bond's "of which credited": the CO2 of the
credited hours attributable to the bond by the oracle's own rule (each allocation period's sum
times allocated proceeds / financed cost, truncated), computed from the hours each batch took
(its ReportsCredited events) and the CO2 those reports carried. Those tonnes are claimed by the
credits' holders, not by the bond's investors. Read at one block, in one JSON-RPC batch plus the
credits' events."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3 import Web3

from greenbond.chain import call, call_many, iter_events
from greenbond.pageview.session import PageSettings, local_time, session
from greenbond.pageview.share import Allocation, allocation_period_starts, attributed_share

STATUS = ("none", "draft", "sealed", "approved", "issued", "cancelled")


@dataclass
class BatchRow:
    batch_id: int
    facility_id: int
    facility: str
    period: str                 # local times of the monitoring period
    status: str
    hours: int
    quantity_kg: int
    retired_kg: int
    serials: str
    verifier: str
    verification_doc_hash: str
    reports_root: str
    external_ref: str


@dataclass
class CreditsView:
    contract: str
    batches: list[BatchRow]
    certificates: int
    credited_co2_mg: int        # CO2 the issued batches took, all facilities (whole facilities)
    bond_credited_co2_mg: int   # of which attributable to the bond
    block: int
    by_facility: dict[int, int] = field(default_factory=dict)   # facility -> credited CO2 (mg), issued batches

    @property
    def issued_kg(self) -> int:
        return sum(b.quantity_kg for b in self.batches if b.status == "issued")

    @property
    def retired_kg(self) -> int:
        return sum(b.retired_kg for b in self.batches)


def credits_view(settings: PageSettings) -> CreditsView | None:
    """The credits of the deployment, or None when it has no CarbonCredits contract."""
    s = session(settings.rpc_url, settings.deployments_dir)
    credits, oracle = s.suite.credits, s.suite.oracle
    if credits is None or oracle is None:
        return None
    latest = s.w3.eth.block_number
    n, certs = call_many(s.w3, [call(credits, "batchCount"), call(credits, "certificateCount")], block=latest)
    rows = call_many(s.w3, [call(credits, "batch", i) for i in range(1, n + 1)]
                     + [call(credits, "retiredOf", i) for i in range(1, n + 1)], block=latest) if n else []
    batches, retired = rows[:n], rows[n:]
    facilities = sorted({b[0] for b in batches})
    info = call_many(s.w3, [call(oracle, "facility", f) for f in facilities]
                     + [call(oracle, "allocations", f, s.suite.bond.address) for f in facilities], block=latest)
    names = {f: info[k][5] for k, f in enumerate(facilities)}
    starts = {f: info[k][3] for k, f in enumerate(facilities)}
    versions = {f: [Allocation(*v) for v in info[len(facilities) + k]] for k, f in enumerate(facilities)}
    out = []
    for i, (b, r) in enumerate(zip(batches, retired), start=1):
        issued = b[1] == 4
        out.append(BatchRow(
            i, b[0], names[b[0]], f"{local_time(b[4], s.tz)} to {local_time(b[5], s.tz)}", STATUS[b[1]], b[7], b[11], r,
            f"{b[12]:,}-{b[12] + b[11] - 1:,}" if issued else "", Web3.to_checksum_address(b[14]),
            "0x" + bytes(b[15]).hex(),
            "0x" + bytes(b[16]).hex(), b[17],
        ))
    # the hours the issued batches took, with the CO2 each report carried
    issued_ids = {r.batch_id for r in out if r.status == "issued"}
    taken: dict[int, list[int]] = {}
    if issued_ids:
        rec = s.suite.deployment.contracts.get("CarbonCredits")
        for ev in iter_events(credits.events.ReportsCredited, rec.block if rec else 0, latest):
            bid = ev["args"]["batchId"]
            if bid in issued_ids:
                taken.setdefault(batches[bid - 1][0], []).extend(ev["args"]["reportIndexes"])
    logs = {(l.facility_id, l.index): l for l in s.reports.refresh(latest)} if taken else {}
    by_facility, bond_mg = {}, 0
    alloc_logs = s.allocation_logs.refresh(latest) if taken else []
    for f, indexes in taken.items():
        hours = [(logs[(f, i)].period_start, 0, logs[(f, i)].co2_avoided_mg) for i in indexes]
        by_facility[f] = sum(h[2] for h in hours)
        period_starts = allocation_period_starts(starts[f], [a for a in alloc_logs if a.facility_id == f])
        bond_mg += attributed_share(hours, period_starts, versions[f])[1]
    return CreditsView(credits.address, out, certs, sum(by_facility.values()), bond_mg, latest, by_facility)
