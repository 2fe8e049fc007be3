"""A bond's impact is its share of each facility, and every hour can be reported once, in any order.

The oracle keeps each facility's totals per allocation period (a period starts at reportingStart
and at every allocation version's effectiveFrom, whatever bond it is for) and attributes to a
bond, per period, the period's exact totals times allocatedProceeds / financedCost of the bond's
version in force, truncated toward zero. Here that is recomputed independently from what anyone
can read (every report with its hour and figures, every allocation version) after random
scenarios: hours in random order and batches, corrections, gaps filled after later allocations,
two bonds sharing facilities, a facility with no allocation and a zero allocation.
"""

import random

import pytest

from oracle_kit import BACK_HOURS, BOND, BUILDING, HOUR, OTHER_BOND, SOLAR, plain, tdiv

ANNEX = 3
BONDS = (BOND, OTHER_BOND)


def in_force(oracle, facility):
    """The reports in force of a facility: {period_start: (energy J, co2 mg, quality flags)}."""
    out = {}
    for i in range(oracle.reportCount(facility)):
        r = oracle.report(facility, i)
        if r["supersededBy"] == 0:
            out[int(r["periodStart"])] = (int(r["energyReductionJ"]), int(r["co2AvoidedMg"]), int(r["qualityFlags"]))
    return out


def expected_attributed(oracle, facility, bond, start):
    """The rule, recomputed: hours grouped by the facility's allocation periods (reportingStart
    and every version's effectiveFrom over both bonds); per period, its sums times the bond's
    version in force (the last one with effectiveFrom <= the period's start), truncated toward
    zero."""
    versions = {b: [tuple(int(x) for x in v) for v in oracle.allocations(facility, b)] for b in BONDS}
    starts = sorted({start} | {v[0] for vs in versions.values() for v in vs})
    j = mg = 0
    reports = in_force(oracle, facility)
    for p, p_start in enumerate(starts):
        p_end = starts[p + 1] if p + 1 < len(starts) else float("inf")
        hours = [h for h in reports if p_start <= h < p_end]
        applying = [v for v in versions[bond] if v[0] <= p_start]
        if not applying or not hours:
            continue
        _, allocated, cost = applying[-1]
        pj = sum(reports[h][0] for h in hours)
        pmg = sum(reports[h][1] for h in hours)
        j += tdiv(pj * allocated, cost)
        mg += tdiv(pmg * allocated, cost)
    return j, mg


def check_everything(oracle, start, reported):
    """Compare every total and coverage figure with the recomputation from the reports."""
    for bond in BONDS:
        tj = tmg = 0
        for f in (BUILDING, SOLAR, ANNEX):
            j, mg = expected_attributed(oracle, f, bond, start)
            assert plain(oracle.attributedTotals(f, bond)) == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg), (f, bond)
            tj, tmg = tj + j, tmg + mg
        assert plain(oracle.bondTotals(bond)) == (tdiv(tj, 10**6), tdiv(tmg, 1000), tj, tmg), bond
    assert oracle.latestRoundData()[1] == tdiv(plain(oracle.bondTotals(BOND))[3], 1000)
    for f in (BUILDING, SOLAR, ANNEX):
        reports = in_force(oracle, f)
        assert set(reports) == {start + h * HOUR for h in reported[f]}
        j = sum(r[0] for r in reports.values())
        mg = sum(r[1] for r in reports.values())
        assert plain(oracle.facilityTotals(f))[2:] == (j, mg)
        hours_reported, _, estimated = plain(oracle.coverage(f))
        assert hours_reported == len(reports)
        assert estimated == sum(1 for r in reports.values() if r[2] & 1)
        word = oracle.reportedHoursWord(f, 0)
        assert word == sum(1 << h for h in reported[f])


def random_report(kit, rng, facility, hour, **kw):
    if facility == SOLAR:
        return kit.report(SOLAR, hour, actual=rng.randrange(0, 500_000), flags=rng.choice((0, 0, 1)), **kw)
    bound = 10**6 if facility == ANNEX else 3_000_000
    return kit.report(facility, hour, actual=rng.randrange(0, bound), benchmark=rng.randrange(0, bound),
                      flags=rng.choice((0, 0, 1, 3)), **kw)


def send_in_random_batches(kit, rng, reports):
    rng.shuffle(reports)
    while reports:
        n = rng.randint(1, 6)
        kit.submit(*reports[:n])
        reports = reports[n:]


def correct_some(kit, oracle, rng, reported, n):
    corrections = []
    for _ in range(n):
        f = rng.choice((BUILDING, SOLAR, ANNEX))
        if not reported[f]:
            continue
        hour = rng.choice(sorted(reported[f]))
        index = next(i for i in range(oracle.reportCount(f))
                     if oracle.report(f, i)["periodStart"] == kit.hour(hour) and oracle.report(f, i)["supersededBy"] == 0)
        if any(c.facilityId == f and c.periodStart == kit.hour(hour) for c in corrections):
            continue
        corrections.append(random_report(kit, rng, f, hour, supersedes=index + 1))
    if corrections:
        kit.submit(*corrections)


@pytest.mark.long
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_attributed_totals_match_an_independent_recomputation(kit, oracle, admin, start, seed):
    rng = random.Random(seed)
    oracle.addFacility(0, "Annex", "u", b"\0" * 32, 10**6, start, {"from": admin})
    # allocations before any report: the annex a third to BOND from the start and two thirds
    # to OTHER_BOND from hour 12; the solar plant to OTHER_BOND from hour 5; BOND a zero
    # allocation to the solar plant from hour 20 (still nothing)
    oracle.setAllocation(ANNEX, BOND, 1_000, 3_000, start, {"from": admin})
    oracle.setAllocation(ANNEX, OTHER_BOND, 2_000, 3_000, kit.hour(12), {"from": admin})
    oracle.setAllocation(SOLAR, OTHER_BOND, 7, 9, kit.hour(5), {"from": admin})
    oracle.setAllocation(SOLAR, BOND, 0, 9, kit.hour(20), {"from": admin})
    reported = {f: set() for f in (BUILDING, SOLAR, ANNEX)}
    # phase A: a random half of hours 0..29 of each facility, in random order and batches
    reports = []
    for f in reported:
        for h in rng.sample(range(30), 15):
            reports.append(random_report(kit, rng, f, h))
            reported[f].add(h)
    send_in_random_batches(kit, rng, reports)
    correct_some(kit, oracle, rng, reported, 4)
    check_everything(oracle, start, reported)
    # a later allocation report: new versions from hour 30 on (no reported hour is at or after 30)
    oracle.setAllocation(BUILDING, BOND, 6_000_000_000, 10**10, kit.hour(30), {"from": admin})
    oracle.setAllocation(BUILDING, OTHER_BOND, 4_000_000_000, 10**10, kit.hour(30), {"from": admin})
    oracle.setAllocation(ANNEX, BOND, 500, 3_000, kit.hour(36), {"from": admin})
    # phase B: the gaps of 0..29 (they fall in the earlier periods) and hours 30..47, mixed
    reports = []
    for f in reported:
        for h in rng.sample(range(48), 30):
            if h not in reported[f]:
                reports.append(random_report(kit, rng, f, h))
                reported[f].add(h)
    send_in_random_batches(kit, rng, reports)
    correct_some(kit, oracle, rng, reported, 6)
    check_everything(oracle, start, reported)


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_a_facility_with_no_allocation_adds_nothing(kit, oracle):
    kit.submit(*[kit.report(SOLAR, h, actual=400_000) for h in range(5)])
    assert plain(oracle.facilityTotals(SOLAR))[2] > 0
    assert plain(oracle.attributedTotals(SOLAR, BOND)) == (0, 0, 0, 0)
    assert plain(oracle.bondTotals(BOND)) == (0, 0, 0, 0)
    assert plain(oracle.bondCoverage(BOND))[0] == 0  # and its hours are not the bond's coverage


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_half_share_worked_example(kit, oracle, admin, start):
    """The README's example: half of the building's cost financed from hour 10; hours before
    count wholly (the fixture's version), hours after by half, truncated toward zero."""
    oracle.setAllocation(BUILDING, BOND, 5 * 10**9, 10**10, kit.hour(10), {"from": admin})
    kit.submit(kit.report(hour=9, actual=0, benchmark=1), kit.report(hour=10, actual=0, benchmark=3))
    # hour 9: 1 Wh -> 9,760 J, 462 mg; hour 10: 3 Wh -> 29,280 J, 1,386 mg, of which half
    assert plain(oracle.attributedTotals(BUILDING, BOND))[2:] == (9_760 + 14_640, 462 + 693)
    assert plain(oracle.facilityTotals(BUILDING))[2:] == (9_760 + 29_280, 462 + 1_386)


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_coverage_and_bond_coverage(kit, oracle, admin, start):
    from brownie import chain

    kit.submit(kit.report(hour=0, flags=1), kit.report(hour=2), kit.report(SOLAR, 0))
    elapsed = (chain[-1].timestamp - start) // HOUR
    assert plain(oracle.coverage(BUILDING)) == (2, elapsed, 1)
    assert plain(oracle.coverage(SOLAR)) == (1, elapsed, 0)
    # the bond: only the building (the solar plant has no allocation to it)
    assert plain(oracle.bondCoverage(BOND)) == (2, elapsed, 1)
    # a zero allocation does not make a facility the bond's
    oracle.setAllocation(SOLAR, BOND, 0, 1, kit.hour(3), {"from": admin})
    assert plain(oracle.bondCoverage(BOND)) == (2, elapsed, 1)
    oracle.setAllocation(SOLAR, BOND, 1, 2, kit.hour(4), {"from": admin})
    assert plain(oracle.bondCoverage(BOND)) == (3, 2 * elapsed, 1)
    # before a facility's reporting starts nothing has elapsed
    future = oracle.addFacility(0, "Future", "u", b"\0" * 32, 10, kit.hour(BACK_HOURS + 10), {"from": admin}).return_value
    assert plain(oracle.coverage(future)) == (0, 0, 0)
    assert not oracle.isReported(future, kit.hour(0))           # before its start
    assert not oracle.isReported(BUILDING, kit.hour(0) + 1)  # not an hour's start



