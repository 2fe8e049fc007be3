"""A batch's life: proposed for a facility and a period, built only from the oracle's reports in
force (every reported hour of the period, in hour order), sealed with its quantity, approved by a
verifier who is not its proposer, issued by an issuer who is not its verifier; its reports under a
Merkle root the contract computes, which the package's PushTree reproduces."""

import brownie
from brownie import chain

from credits_kit import DEPTH, DOC, MG_PER_KG, co2_mg
from greenbond.merkle import PushTree, verify
from oracle_kit import BUILDING, HOUR, SOLAR

HOUR_MG = co2_mg()  # 92,400,000 mg: 200 kWh avoided at 462 g/kWh


def test_a_batch_from_proposal_to_issue(ck, credits, oracle, admin, verifier, alice):
    indexes = ck.report_hours(range(10))
    tx = credits.proposeBatch(BUILDING, ck.kit.hour(0), ck.kit.hour(10), 1, 2024, "", {"from": admin})
    b = tx.events["BatchProposed"]["batchId"]
    assert b == 1 and credits.batchCount() == 1
    assert credits.batch(b)["status"] == 1  # Draft
    # the period is now the facility's: the next batch starts after it
    assert credits.facilityBook(BUILDING)["creditedUntil"] == ck.kit.hour(10)

    tx = credits.addReports(b, indexes[:4], {"from": admin})
    tx2 = credits.addReports(b, indexes[4:], {"from": admin})
    assert tx.events["ReportsCredited"]["co2Mg"] == 4 * HOUR_MG
    assert list(tx2.events["ReportsCredited"]["reportIndexes"]) == indexes[4:]
    assert all(credits.isCredited(BUILDING, ck.kit.hour(h)) for h in range(10))
    assert not credits.isCredited(BUILDING, ck.kit.hour(10))
    assert credits.creditedMg(BUILDING) == 10 * HOUR_MG

    tx = credits.sealBatch(b, {"from": admin})
    e = tx.events["BatchSealed"]
    assert (e["hoursCredited"], e["co2Mg"], e["deductedMg"], e["quantityKg"]) == (10, 10 * HOUR_MG, 0, 924)
    tree = ck.tree(BUILDING, indexes)
    assert e["reportsRoot"] == "0x" + tree.root.hex()

    tx = credits.approveBatch(b, DOC, {"from": verifier})
    assert tx.events["BatchApproved"]["verifier"] == verifier
    tx = credits.issueBatch(b, alice, {"from": admin})
    e = tx.events["BatchIssued"]
    assert (e["to"], e["quantityKg"], e["firstSerial"], e["lastSerial"]) == (alice, 924, 1, 924)
    assert tx.events["TransferSingle"]["value"] == 924
    assert credits.balanceOf(alice, b) == 924

    got = credits.batch(b)
    assert got["status"] == 4 and got["facilityId"] == BUILDING
    assert (got["periodStart"], got["periodEnd"]) == (ck.kit.hour(0), ck.kit.hour(10))
    assert (got["methodologyVersion"], got["factorYear"], got["hoursCredited"], got["estimatedHours"]) == (1, 2024, 10, 0)
    assert (got["quantityKg"], got["firstSerial"], got["proposer"], got["verifier"]) == (924, 1, admin, verifier)
    assert got["verificationDocHash"] == "0x" + DOC.hex()

    # the next batch's serials follow on
    ck.report_hours(range(10, 12))
    b2 = ck.propose(10, 12)
    ck.add(b2, [10, 11])
    credits.sealBatch(b2, {"from": admin})
    credits.approveBatch(b2, DOC, {"from": verifier})
    tx = credits.issueBatch(b2, alice, {"from": admin})
    assert (tx.events["BatchIssued"]["firstSerial"], tx.events["BatchIssued"]["lastSerial"]) == (925, 925 + 184 - 1)


def test_every_report_is_provable_under_the_batch_root(ck, credits, oracle, alice):
    indexes = ck.report_hours(range(5))
    b = ck.issued(0, 5, alice)
    tree = ck.tree(BUILDING, indexes)
    root = bytes(credits.batch(b)["reportsRoot"])
    assert root == tree.root
    for k, i in enumerate(indexes):
        r = oracle.report(BUILDING, i)
        proof = tree.proof(k)
        assert len(proof) == DEPTH
        assert verify(root, tree.levels[0][k], proof)
        assert credits.verifyBatchReport(b, i, r["periodStart"], r["readingsRoot"], r["co2AvoidedMg"], proof)
        # any other figure is not under the root
        assert not credits.verifyBatchReport(b, i, r["periodStart"], r["readingsRoot"], r["co2AvoidedMg"] + 1, proof)
        assert not credits.verifyBatchReport(b, i + 1, r["periodStart"], r["readingsRoot"], r["co2AvoidedMg"], proof)


def test_the_push_tree_matches_the_contract_for_any_count(ck, credits, admin):
    """Roots after 1, 2, 3 and 8 leaves: every shape of the right edge of the tree."""
    indexes = ck.report_hours(range(8))
    b = ck.propose(0, 8)
    done = 0
    for n in (1, 2, 3, 8):
        credits.addReports(b, indexes[done:n], {"from": admin})
        done = n
        assert bytes(credits.batch(b)["reportsRoot"]) == ck.tree(BUILDING, indexes[:n]).root
    empty = ck.propose(8, 9, facility=SOLAR)
    assert bytes(credits.batch(empty)["reportsRoot"]) == PushTree([], DEPTH).root


def test_quantity_is_rounded_down_to_whole_kilograms(ck, credits, admin, verifier):
    """1 kWh avoided an hour = 462,000 mg; 3 hours = 1,386,000 mg -> 1 kg; the 386 g left over
    is not credited (and not carried to another batch)."""
    indexes = ck.report_hours(range(3), actual=599_000)
    b = ck.propose(0, 3)
    ck.add(b, indexes)
    e = credits.sealBatch(b, {"from": admin}).events["BatchSealed"]
    assert (e["co2Mg"], e["quantityKg"]) == (1_386_000, 1)
    # 2 hours = 924,000 mg: under a kilogram, nothing to issue
    ck.report_hours(range(3, 5), actual=599_000)
    b2 = ck.propose(3, 5)
    ck.add(b2, [3, 4])
    with brownie.reverts():
        credits.sealBatch(b2, {"from": admin})


def test_net_co2_counts_hours_that_added_emissions(ck, credits, admin, revert_with):
    """An hour above the benchmark (negative avoided CO2) is in the batch and lowers it: no
    cherry-picking the good hours, since every reported hour of the period must be taken."""
    good = ck.report_hours(range(2))                      # +92.4 kg each
    bad = ck.report_hours([2], actual=700_000)            # -46.2 kg
    b = ck.propose(0, 3)
    with revert_with("CreditsHourSkipped", BUILDING, ck.kit.hour(0)):
        credits.addReports(b, bad, {"from": admin})
    ck.add(b, good)
    with revert_with("CreditsHourSkipped", BUILDING, ck.kit.hour(2)):
        credits.sealBatch(b, {"from": admin})
    ck.add(b, bad)
    e = credits.sealBatch(b, {"from": admin}).events["BatchSealed"]
    assert e["co2Mg"] == 2 * HOUR_MG - 100_000 * 462
    assert e["quantityKg"] == (2 * HOUR_MG - 100_000 * 462) // MG_PER_KG


def test_nothing_to_issue_when_the_period_added_emissions(ck, credits, admin, revert_with):
    indexes = ck.report_hours(range(3), actual=700_000)
    b = ck.propose(0, 3)
    ck.add(b, indexes)
    with revert_with("CreditsNothingToIssue", -3 * 100_000 * 462, 0):
        credits.sealBatch(b, {"from": admin})


def test_only_reports_in_force(ck, credits, admin, revert_with):
    indexes = ck.report_hours(range(3))
    corr = ck.kit.report(hour=1, actual=450_000, supersedes=indexes[1] + 1)
    ck.kit.submit(corr)
    correction = indexes[-1] + 1
    b = ck.propose(0, 3)
    # the correction lowered its hour: reviewed before any hour is taken (it was not credited)
    with revert_with("CreditsUnreviewedCorrections", BUILDING, 1, 0):
        credits.addReports(b, [indexes[0]], {"from": admin})
    tx = credits.reviewCorrections(BUILDING, [correction], {"from": admin})
    assert tx.events["CorrectionReviewed"]["credited"] is False and "IssuanceHeld" not in tx.events
    with revert_with("CreditsReportNotInForce", BUILDING, indexes[1]):
        credits.addReports(b, indexes, {"from": admin})
    credits.addReports(b, [indexes[0], correction, indexes[2]], {"from": admin})
    e = credits.sealBatch(b, {"from": admin}).events["BatchSealed"]
    assert e["co2Mg"] == 2 * HOUR_MG + 150_000 * 462 and e["deductedMg"] == 0


def test_reports_in_hour_order_within_the_period(ck, credits, admin, revert_with):
    indexes = ck.report_hours(range(6))
    b = ck.propose(1, 4)
    with revert_with("CreditsReportOutOfOrder", indexes[0], ck.kit.hour(0), ck.kit.hour(1), ck.kit.hour(4)):
        credits.addReports(b, [indexes[0]], {"from": admin})
    with revert_with("CreditsReportOutOfOrder", indexes[4], ck.kit.hour(4), ck.kit.hour(1), ck.kit.hour(4)):
        credits.addReports(b, [indexes[4]], {"from": admin})
    credits.addReports(b, [indexes[1], indexes[2]], {"from": admin})
    # the same report again, or an earlier one, is behind the cursor
    with revert_with("CreditsReportOutOfOrder", indexes[2], ck.kit.hour(2), ck.kit.hour(3), ck.kit.hour(4)):
        credits.addReports(b, [indexes[2]], {"from": admin})
    with revert_with("CreditsReportOutOfOrder", indexes[1], ck.kit.hour(1), ck.kit.hour(4), ck.kit.hour(4)):
        credits.addReports(b, [indexes[3], indexes[1]], {"from": admin})


def test_one_methodology_and_factor_year_a_batch(ck, credits, admin, revert_with):
    indexes = ck.report_hours(range(2))
    with revert_with("OracleUnknownFactorYear", 1, 1999):
        ck.propose(0, 2, year=1999)
    b = ck.propose(0, 2, year=2025)
    with revert_with("CreditsReportMismatch", indexes[0], 1, 2024):
        credits.addReports(b, indexes, {"from": admin})


def test_coverage_below_the_minimum_is_refused(ck, credits, admin, revert_with):
    """9 of 10 hours is 90%: enough; 8 of 10 is not."""
    indexes = ck.report_hours([0, 1, 2, 3, 5, 6, 7, 8])
    b = ck.propose(0, 10)
    ck.add(b, indexes)
    with revert_with("CreditsCoverageTooLow", 8, 10, 900_000):
        credits.sealBatch(b, {"from": admin})
    credits.cancelBatch(b, DOC, {"from": admin})
    more = ck.report_hours([9])
    b = ck.propose(0, 10)
    ck.add(b, indexes + more)
    assert credits.sealBatch(b, {"from": admin}).events["BatchSealed"]["hoursCredited"] == 9


def test_bad_periods(ck, credits, admin, revert_with):
    h0, now = ck.kit.hour(0), chain.time()
    with revert_with("CreditsBadPeriod", h0 + 1, h0 + HOUR):
        credits.proposeBatch(BUILDING, h0 + 1, h0 + HOUR, 1, 2024, "", {"from": admin})
    with revert_with("CreditsBadPeriod", h0, h0):
        credits.proposeBatch(BUILDING, h0, h0, 1, 2024, "", {"from": admin})
    future = (now // HOUR + 2) * HOUR
    with revert_with("CreditsBadPeriod", h0, future):
        credits.proposeBatch(BUILDING, h0, future, 1, 2024, "", {"from": admin})
    too_long = h0 + (2**DEPTH + 1) * HOUR
    with revert_with("CreditsBadPeriod", h0 - 2 * HOUR * 2**DEPTH, too_long - 2 * HOUR * 2**DEPTH):
        credits.proposeBatch(BUILDING, h0 - 2 * HOUR * 2**DEPTH, too_long - 2 * HOUR * 2**DEPTH, 1, 2024, "",
                             {"from": admin})
    with revert_with("OracleUnknownFacility", 9):
        credits.proposeBatch(9, h0, h0 + HOUR, 1, 2024, "", {"from": admin})


def test_no_hour_is_credited_twice(ck, credits, admin, verifier, alice, revert_with):
    ck.report_hours(range(6))
    ck.issued(0, 4, alice)
    # any period reaching back into the credited one is refused at once
    with revert_with("CreditsPeriodOverlaps", BUILDING, ck.kit.hour(3), ck.kit.hour(4)):
        ck.propose(3, 6)
    with revert_with("CreditsPeriodOverlaps", BUILDING, ck.kit.hour(0), ck.kit.hour(4)):
        ck.propose(0, 6)
    # another facility's hours are its own
    ck.report_hours(range(4), facility=SOLAR, actual=300_000)
    ck.propose(0, 4, facility=SOLAR)
    b = ck.propose(4, 6)
    with revert_with("CreditsBadPeriod", ck.kit.hour(4), ck.kit.hour(4)):
        ck.propose(4, 4)
    assert credits.batch(b)["status"] == 1


def test_a_cancelled_batch_frees_its_hours(ck, credits, admin, verifier, alice, revert_with):
    indexes = ck.report_hours(range(4))
    b = ck.propose(0, 4)
    ck.add(b, indexes)
    credits.sealBatch(b, {"from": admin})
    tx = credits.cancelBatch(b, DOC, {"from": verifier})  # the verifier rejects it
    assert tx.events["BatchCancelled"]["by"] == verifier
    assert credits.batch(b)["status"] == 5
    assert not any(credits.isCredited(BUILDING, ck.kit.hour(h)) for h in range(4))
    assert credits.creditedMg(BUILDING) == 0
    assert credits.facilityBook(BUILDING)["creditedUntil"] == ck.kit.hour(0)
    with revert_with("CreditsWrongStatus", b, 5):
        credits.approveBatch(b, DOC, {"from": verifier})
    b2 = ck.issued(0, 4, alice)
    with revert_with("CreditsWrongStatus", b2, 4):
        credits.cancelBatch(b2, DOC, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", alice, credits.VERIFIER_ROLE()):
        credits.cancelBatch(b2, DOC, {"from": alice})


def test_status_order_is_enforced(ck, credits, admin, verifier, alice, revert_with):
    indexes = ck.report_hours(range(2))
    b = ck.propose(0, 2)
    with revert_with("CreditsWrongStatus", b, 1):
        credits.approveBatch(b, DOC, {"from": verifier})
    with revert_with("CreditsWrongStatus", b, 1):
        credits.issueBatch(b, alice, {"from": admin})
    ck.add(b, indexes)
    credits.sealBatch(b, {"from": admin})
    with revert_with("CreditsWrongStatus", b, 2):
        credits.addReports(b, indexes, {"from": admin})
    with revert_with("CreditsWrongStatus", b, 2):
        credits.issueBatch(b, alice, {"from": admin})
    with revert_with("CreditsInvalidInput", b"verificationDocHash".ljust(32, b"\0")):
        credits.approveBatch(b, b"\0" * 32, {"from": verifier})
    credits.approveBatch(b, DOC, {"from": verifier})
    with revert_with("CreditsWrongStatus", b, 3):
        credits.approveBatch(b, DOC, {"from": verifier})
    credits.issueBatch(b, alice, {"from": admin})
    with revert_with("CreditsWrongStatus", b, 4):
        credits.issueBatch(b, alice, {"from": admin})
    with revert_with("CreditsUnknownBatch", 7):
        credits.batch(7)


def test_external_registry_reference(ck, credits, admin, alice, revert_with):
    ck.report_hours(range(2))
    b = ck.propose(0, 2, ref="J-Credit JCS-0001")
    assert credits.batch(b)["externalRef"] == "J-Credit JCS-0001"
    tx = credits.setExternalRef(b, "J-Credit JCS-0002", {"from": admin})
    assert tx.events["ExternalRefSet"]["externalRef"] == "J-Credit JCS-0002"
    assert credits.batch(b)["externalRef"] == "J-Credit JCS-0002"
