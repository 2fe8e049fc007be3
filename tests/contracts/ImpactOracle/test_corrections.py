"""Corrections: a report naming `supersedes = 1 + index` of an earlier report of the same hour
replaces its figures in the totals; both stay readable and linked; nothing else moves."""

import pytest

from oracle_kit import BOND, BUILDING, GRAMS_V1, MODEL_ID, PEF, SOLAR, THRESHOLD, plain, tdiv


def figures(reduction, pef=PEF, grams=GRAMS_V1):
    return reduction * pef, reduction * grams


@pytest.fixture
def two_hours(kit):
    """Building hours 0 (index 0, reduction 200 kWh) and 1 (index 1, reduction 100 kWh)."""
    kit.submit(kit.report(hour=0, actual=400_000), kit.report(hour=1, actual=500_000))
    return kit


def test_correction_accepted_and_linked(two_hours, oracle):
    kit = two_hours
    before0 = plain(oracle.report(BUILDING, 0))
    tx = kit.submit(kit.report(hour=0, actual=450_000, flags=1, root=b"\x09" * 32, supersedes=1))
    assert oracle.reportCount(BUILDING) == 3
    e = tx.events["ReportAccepted"]
    assert (e["index"], e["periodStart"], e["supersedes"]) == (2, kit.hour(0), 1)
    assert (e["energyReductionJ"], e["co2AvoidedMg"]) == figures(150_000)

    old, new = oracle.report(BUILDING, 0), oracle.report(BUILDING, 2)
    assert (old["supersedes"], old["supersededBy"]) == (0, 3)
    assert (new["supersedes"], new["supersededBy"]) == (1, 0)
    # the corrected report is still readable with its own figures; only the link changed
    assert plain(old)[:11] + plain(old)[12:] == before0[:11] + before0[12:]
    assert (old["actualWh"], old["energyReductionJ"]) == (400_000, 200_000 * PEF)
    assert (new["periodStart"], new["actualWh"], new["qualityFlags"], new["readingsRoot"]) == (
        kit.hour(0), 450_000, 1, "0x" + "09" * 32)
    assert (new["energyReductionJ"], new["co2AvoidedMg"]) == figures(150_000)
    assert oracle.report(BUILDING, 1)["supersededBy"] == 0
    # the correction does not move the last covered hour, nor the hour's first root
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(2)
    assert oracle.firstRoot(BUILDING, kit.hour(0)) == before0[12]
    assert oracle.isReported(BUILDING, kit.hour(0))
    index, latest = oracle.latestReport(BUILDING)
    assert index == 2 and plain(latest) == plain(new)


def test_totals_use_the_correction(two_hours, oracle):
    kit = two_hours
    kit.submit(kit.report(SOLAR, hour=0, actual=1_000))
    assert plain(oracle.facilityTotals(BUILDING))[2:] == figures(300_000)
    kit.submit(kit.report(hour=0, actual=450_000, supersedes=1))
    j, mg = figures(150_000 + 100_000)
    assert plain(oracle.facilityTotals(BUILDING)) == (j // 10**6, mg // 1000, j, mg)
    sj, smg = figures(1_000)
    assert plain(oracle.facilityTotals(SOLAR))[2:] == (sj, smg)
    assert plain(oracle.bondTotals(BOND))[2:] == (j, mg)  # the building's, not the solar plant's
    # the feed follows the corrected total
    assert oracle.latestRoundData()[1] == mg // 1000


def test_correction_of_a_correction(two_hours, oracle, revert_with):
    kit = two_hours
    kit.submit(kit.report(hour=1, actual=550_000, supersedes=2))  # index 2 corrects index 1
    kit.submit(kit.report(hour=1, actual=700_000, supersedes=3))  # index 3 corrects index 2
    assert [oracle.report(BUILDING, i)["supersededBy"] for i in range(4)] == [0, 3, 4, 0]
    assert [oracle.report(BUILDING, i)["supersedes"] for i in range(4)] == [0, 0, 2, 3]
    assert plain(oracle.facilityTotals(BUILDING))[2:] == figures(200_000 - 100_000)
    # the superseded links cannot be used again
    for target in (2, 3):
        with revert_with("OracleBadCorrection", BUILDING, target):
            kit.submit(kit.report(hour=1, supersedes=target))


def test_correction_can_turn_negative(two_hours, oracle):
    kit = two_hours
    kit.submit(kit.report(hour=1, actual=900_000, supersedes=2))
    assert oracle.report(BUILDING, 2)["energyReductionJ"] == -300_000 * PEF
    assert plain(oracle.facilityTotals(BUILDING))[2:] == figures(200_000 - 300_000)
    j, mg = figures(-100_000)
    assert plain(oracle.bondTotals(BOND)) == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg)


def test_correction_with_a_restated_factor(two_hours, oracle, admin):
    """A restated grid factor is a new methodology version; a correction applies it to an hour,
    and the totals subtract the old figures computed with the old version."""
    kit = two_hours
    oracle.addMethodology(MODEL_ID, 2, PEF, "v2", b"\0" * 32, [(2024, 450, True, "final")], {"from": admin})
    kit.submit(kit.report(hour=0, actual=400_000, methodology=2, supersedes=1))
    assert oracle.report(BUILDING, 0)["co2AvoidedMg"] == 200_000 * GRAMS_V1  # unchanged: version 1
    assert oracle.report(BUILDING, 2)["co2AvoidedMg"] == 200_000 * 450
    assert plain(oracle.facilityTotals(BUILDING))[3] == 200_000 * 450 + 100_000 * GRAMS_V1


def test_correction_moves_the_estimated_hours(two_hours, oracle):
    kit = two_hours
    assert plain(oracle.coverage(BUILDING))[0::2] == (2, 0)
    kit.submit(kit.report(hour=0, flags=1, supersedes=1))           # now estimated
    assert plain(oracle.coverage(BUILDING))[0::2] == (2, 1)
    kit.submit(kit.report(hour=0, flags=3, supersedes=3))           # still estimated
    assert plain(oracle.coverage(BUILDING))[0::2] == (2, 1)
    kit.submit(kit.report(hour=0, flags=0, supersedes=4))           # measured again
    assert plain(oracle.coverage(BUILDING))[0::2] == (2, 0)
    kit.submit(kit.report(hour=2, flags=1))
    assert plain(oracle.coverage(BUILDING))[0::2] == (3, 1)


def test_solar_correction(kit, oracle):
    kit.submit(kit.report(SOLAR, hour=0, actual=100))
    kit.submit(kit.report(SOLAR, hour=0, actual=250, supersedes=1))
    assert plain(oracle.facilityTotals(SOLAR))[2:] == figures(250)
    assert oracle.lastPeriodEnd(SOLAR) == kit.hour(1)


def test_correction_in_the_same_batch_as_its_target(kit, oracle):
    kit.submit(kit.report(hour=0), kit.report(hour=0, actual=300_000, supersedes=1), kit.report(hour=1))
    assert oracle.reportCount(BUILDING) == 3
    assert oracle.report(BUILDING, 0)["supersededBy"] == 2
    assert plain(oracle.facilityTotals(BUILDING))[2:] == figures(300_000 + 200_000)
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(2)


def test_correction_of_an_old_hour_after_later_hours(kit, oracle):
    kit.submit(*[kit.report(hour=h) for h in range(5)])
    kit.submit(kit.report(hour=1, actual=0, supersedes=2))
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(5)
    assert plain(oracle.facilityTotals(BUILDING))[2:] == figures(4 * 200_000 + 600_000)
    kit.submit(kit.report(hour=5))  # forward reporting carries on from the last hour
    assert oracle.reportCount(BUILDING) == 7


def test_correction_rejections(two_hours, oracle, revert_with):
    kit = two_hours
    kit.submit(kit.report(hour=0, actual=450_000, supersedes=1))  # index 2 supersedes index 0
    before = kit.snapshot()
    cases = [
        (dict(hour=0, supersedes=1), 1),      # already superseded
        (dict(hour=1, supersedes=1), 1),      # different hour (and superseded)
        (dict(hour=1, supersedes=3), 3),      # different hour: index 2 is hour 0
        (dict(hour=0, supersedes=2), 2),      # different hour: index 1 is hour 1
        (dict(hour=0, supersedes=4), 4),      # no index 3
        (dict(hour=0, supersedes=2**32 - 1), 2**32 - 1),
        (dict(hour=2, supersedes=3), 3),      # a future hour is no correction of index 2
    ]
    for kw, named in cases:
        with revert_with("OracleBadCorrection", BUILDING, named):
            kit.submit(kit.report(**kw))
    with revert_with("OracleBadCorrection", SOLAR, 1):  # links are per facility
        kit.submit(kit.report(SOLAR, hour=0, supersedes=1))
    assert kit.snapshot() == before


def test_correction_needs_the_quorum_and_a_closed_valid_report(two_hours, revert_with):
    kit = two_hours
    r = kit.report(hour=0, supersedes=1)
    with revert_with("OracleTooFewSignatures", THRESHOLD - 1, THRESHOLD):
        kit.submit(r, keys=kit.signers[: THRESHOLD - 1])
    with revert_with("OracleNotASigner", kit.outsiders[0].address):
        kit.submit(r, keys=[kit.signers[0], kit.signers[1], kit.outsiders[0]])
    with revert_with("OracleOutOfBounds", "readingCount", 0, 1):
        kit.submit(kit.report(hour=0, readings=0, supersedes=1))
    with revert_with("OraclePeriodBeforeStart", kit.hour(-1), kit.start):
        kit.submit(kit.report(hour=-1, supersedes=1))


def test_correction_replayed(two_hours, revert_with):
    kit = two_hours
    c = kit.report(hour=0, actual=450_000, supersedes=1)
    sigs = [kit.sign(c)]
    kit.submit(c, sigs=sigs)
    with revert_with("OracleBadCorrection", BUILDING, 1):
        kit.submit(c, sigs=sigs)


def test_correction_is_a_different_signed_message(two_hours, recover, revert_with):
    """Signatures over the original report do not authorise a correction with the same figures."""
    kit = two_hours
    original = kit.report(hour=0, actual=400_000)
    correction = kit.report(hour=0, actual=400_000, supersedes=1)
    sigs = kit.sign(original)
    with revert_with("OracleNotASigner", recover(kit.digest(correction), sigs[0])):
        kit.submit(correction, sigs=[sigs])
