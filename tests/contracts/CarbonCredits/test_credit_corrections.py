"""Corrections on the oracle after credits: a correction that lowers a credited hour holds the
facility's issuance until the verifier resolves it, and the CO2 over-credited comes out of the
facility's next batch. Every lowering must be reviewed (by anyone) before the facility's next
report is taken or batch sealed, approved or issued; raising corrections need no review."""

from credits_kit import DOC, co2_mg
from oracle_kit import BUILDING, SOLAR

HOUR_MG = co2_mg()


def _lower(ck, hour, actual=450_000):
    """Corrects the report in force for `hour` down to `actual` Wh; returns the correction's index."""
    (index,) = ck.in_force(hour, hour + 1)
    ck.kit.submit(ck.kit.report(hour=hour, actual=actual, supersedes=index + 1))
    return ck.oracle.reportCount(BUILDING) - 1


def test_the_oracle_counts_lowering_corrections_only(ck, oracle):
    ck.report_hours(range(3))
    assert oracle.loweredCorrections(BUILDING) == 0
    _lower(ck, 0)                      # 200 -> 150 kWh avoided
    assert oracle.loweredCorrections(BUILDING) == 1
    _lower(ck, 1, actual=300_000)      # 200 -> 300 kWh: a raise
    _lower(ck, 2, actual=400_000)      # the same figure: not lower
    assert oracle.loweredCorrections(BUILDING) == 1
    assert oracle.loweredCorrections(SOLAR) == 0


def test_a_lowered_credited_hour_holds_issuance_until_resolved(ck, credits, admin, verifier, alice, revert_with):
    ck.report_hours(range(8))
    ck.issued(0, 4, alice)
    b = ck.propose(4, 8)
    ck.add(b, ck.in_force(4, 8))
    correction = _lower(ck, 2)         # a credited hour: 50 kWh less = 23.1 kg
    shortfall = HOUR_MG - co2_mg(actual=450_000)

    with revert_with("CreditsUnreviewedCorrections", BUILDING, 1, 0):
        credits.sealBatch(b, {"from": admin})
    tx = credits.reviewCorrections(BUILDING, [correction], {"from": alice})  # anyone may review
    e = tx.events["CorrectionReviewed"]
    assert (e["correctionIndex"], e["creditedMg"], e["newMg"], e["credited"]) == (
        correction, HOUR_MG, co2_mg(actual=450_000), True)
    assert tx.events["IssuanceHeld"]["shortfallMg"] == shortfall
    book = credits.facilityBook(BUILDING)
    assert (book["shortfallMg"], book["reviewedLowerings"], book["held"]) == (shortfall, 1, True)
    with revert_with("CreditsAlreadyReviewed", BUILDING, correction):
        credits.reviewCorrections(BUILDING, [correction], {"from": alice})

    with revert_with("CreditsIssuanceHeld", BUILDING):
        credits.sealBatch(b, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", admin, credits.VERIFIER_ROLE()):
        credits.resolveHold(BUILDING, DOC, {"from": admin})
    tx = credits.resolveHold(BUILDING, DOC, {"from": verifier})
    assert tx.events["HoldResolved"]["shortfallMg"] == shortfall
    with revert_with("CreditsNotHeld", BUILDING):
        credits.resolveHold(BUILDING, DOC, {"from": verifier})

    # the next batch makes good what was over-credited
    e = credits.sealBatch(b, {"from": admin}).events["BatchSealed"]
    assert (e["co2Mg"], e["deductedMg"]) == (4 * HOUR_MG, shortfall)
    assert e["quantityKg"] == (4 * HOUR_MG - shortfall) // 10**6
    assert credits.facilityBook(BUILDING)["shortfallMg"] == 0


def test_a_hold_after_approval_stops_the_mint(ck, credits, admin, verifier, alice, revert_with):
    ck.report_hours(range(4))
    b = ck.propose(0, 4)
    ck.add(b, ck.in_force(0, 4))
    credits.sealBatch(b, {"from": admin})
    credits.approveBatch(b, DOC, {"from": verifier})
    correction = _lower(ck, 1)
    with revert_with("CreditsUnreviewedCorrections", BUILDING, 1, 0):
        credits.issueBatch(b, alice, {"from": admin})
    credits.reviewCorrections(BUILDING, [correction], {"from": admin})
    with revert_with("CreditsIssuanceHeld", BUILDING):
        credits.issueBatch(b, alice, {"from": admin})
    credits.resolveHold(BUILDING, DOC, {"from": verifier})
    credits.issueBatch(b, alice, {"from": admin})
    # this batch was sealed before the correction: the shortfall waits for the next one
    assert credits.facilityBook(BUILDING)["shortfallMg"] == HOUR_MG - co2_mg(actual=450_000)


def test_review_accepts_only_lowering_corrections(ck, credits, admin, revert_with):
    indexes = ck.report_hours(range(2))
    with revert_with("CreditsNotALowering", BUILDING, indexes[0]):
        credits.reviewCorrections(BUILDING, [indexes[0]], {"from": admin})
    ck.kit.submit(ck.kit.report(hour=1, actual=300_000, supersedes=indexes[1] + 1))
    with revert_with("CreditsNotALowering", BUILDING, indexes[1] + 1):
        credits.reviewCorrections(BUILDING, [indexes[1] + 1], {"from": admin})
    with revert_with("OracleUnknownReport", BUILDING, 99):
        credits.reviewCorrections(BUILDING, [99], {"from": admin})


def test_a_cancelled_batch_gives_its_deduction_back(ck, credits, admin, verifier, alice):
    ck.report_hours(range(8))
    ck.issued(0, 4, alice)
    credits.reviewCorrections(BUILDING, [_lower(ck, 0)], {"from": admin})
    credits.resolveHold(BUILDING, DOC, {"from": verifier})
    shortfall = credits.facilityBook(BUILDING)["shortfallMg"]
    b = ck.propose(4, 8)
    ck.add(b, ck.in_force(4, 8))
    credits.sealBatch(b, {"from": admin})
    assert credits.facilityBook(BUILDING)["shortfallMg"] == 0
    credits.cancelBatch(b, DOC, {"from": admin})
    assert credits.facilityBook(BUILDING)["shortfallMg"] == shortfall
