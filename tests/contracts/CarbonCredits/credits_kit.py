"""Helpers of the CarbonCredits tests: reporting hours on the oracle and walking a batch through
propose, add, seal, approve and issue."""

from __future__ import annotations

from greenbond.merkle import PushTree, report_leaf
from oracle_kit import BUILDING, GRAMS_V1

MIN_COVERAGE_PPM = 900_000
DEPTH = 14
DOC = b"\x5d" * 32            # a verification document's hash
MG_PER_KG = 10**6


def co2_mg(actual=400_000, benchmark=600_000, grams=GRAMS_V1) -> int:
    """An hour's CO2 avoided, mg: (benchmark - actual) Wh x g/kWh."""
    return (benchmark - actual) * grams


class CreditsKit:
    def __init__(self, kit, credits, issuer, verifier):
        self.kit, self.credits, self.issuer, self.verifier = kit, credits, issuer, verifier
        self.oracle = kit.oracle

    def report_hours(self, hours, facility=BUILDING, **fields):
        """Reports each hour number of `hours` (relative to reportingStart); returns their indexes."""
        first = self.oracle.reportCount(facility)
        reports = [self.kit.report(facility=facility, hour=h, **fields) for h in hours]
        for i in range(0, len(reports), 50):
            self.kit.submit(*reports[i:i + 50])
        return list(range(first, first + len(reports)))

    def propose(self, first_hour, last_hour, facility=BUILDING, *, methodology=1, year=2024, ref="", sender=None):
        tx = self.credits.proposeBatch(facility, self.kit.hour(first_hour), self.kit.hour(last_hour), methodology, year,
                                       ref, {"from": sender or self.issuer})
        return tx.events["BatchProposed"]["batchId"]

    def add(self, batch_id, indexes, sender=None, chunk=200):
        for i in range(0, len(indexes), chunk):
            self.credits.addReports(batch_id, indexes[i:i + chunk], {"from": sender or self.issuer})

    def in_force(self, first_hour, last_hour, facility=BUILDING):
        """Indexes of the reports in force for the hours [first_hour, last_hour), in hour order."""
        lo, hi = self.kit.hour(first_hour), self.kit.hour(last_hour)
        found = []
        for i in range(self.oracle.reportCount(facility)):
            r = self.oracle.report(facility, i)
            if r["supersededBy"] == 0 and lo <= r["periodStart"] < hi:
                found.append((r["periodStart"], i))
        return [i for _, i in sorted(found)]

    def issued(self, first_hour, last_hour, to, facility=BUILDING):
        """A batch over [first_hour, last_hour) built from every report in force in it, sealed,
        approved and issued to `to`; returns its id."""
        indexes = self.in_force(first_hour, last_hour, facility)
        b = self.propose(first_hour, last_hour, facility)
        self.add(b, indexes)
        self.credits.sealBatch(b, {"from": self.issuer})
        self.credits.approveBatch(b, DOC, {"from": self.verifier})
        self.credits.issueBatch(b, to, {"from": self.issuer})
        return b

    def leaves(self, facility, indexes):
        out = []
        for i in indexes:
            r = self.oracle.report(facility, i)
            out.append(report_leaf(facility, i, r["periodStart"], bytes(r["readingsRoot"]), r["co2AvoidedMg"]))
        return out

    def tree(self, facility, indexes) -> PushTree:
        return PushTree(self.leaves(facility, indexes), DEPTH)
