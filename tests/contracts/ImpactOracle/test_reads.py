"""Reads: reports, totals (MJ and g truncated toward zero), the bond's attributable totals,
staleness against the heartbeat as chain time moves, the Chainlink-style feed (the feed bond's
attributable CO2), and reading proofs against the Merkle roots."""

import pytest
from brownie import chain

from oracle_kit import (
    BOND, BUILDING, GRAMS_V1, HEARTBEAT, HOUR, PEF, SOLAR, b32, hour_readings, merkle_proof, merkle_root, plain,
    reading_leaf, reading_leaf_eth_abi, tdiv,
)


# ---------------------------------------------------------------- reports


def test_no_reports_yet(oracle, kit, revert_with):
    assert oracle.reportCount(BUILDING) == 0 and oracle.reportCount(SOLAR) == 0
    assert oracle.reportCount(99) == 0
    assert oracle.lastPeriodEnd(BUILDING) == kit.start
    for fid in (BUILDING, 99):
        with revert_with("OracleUnknownReport", fid, 0):
            oracle.report(fid, 0)
        with revert_with("OracleUnknownReport", fid, 0):
            oracle.latestReport(fid)
    assert plain(oracle.facilityTotals(BUILDING)) == (0, 0, 0, 0)
    assert plain(oracle.bondTotals(BOND)) == (0, 0, 0, 0)
    assert plain(oracle.coverage(BUILDING))[0::2] == (0, 0)


def test_report_count_report_and_latest(kit, oracle, revert_with):
    kit.submit(kit.report(hour=0, actual=1), kit.report(hour=1, actual=2))
    kit.submit(kit.report(hour=4, actual=3))
    assert oracle.reportCount(BUILDING) == 3
    assert [oracle.report(BUILDING, i)["actualWh"] for i in range(3)] == [1, 2, 3]
    index, latest = oracle.latestReport(BUILDING)
    assert index == 2 and plain(latest) == plain(oracle.report(BUILDING, 2))
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(5)
    for i in (3, 4, 2**256 - 1):
        with revert_with("OracleUnknownReport", BUILDING, i):
            oracle.report(BUILDING, i)
    with revert_with("OracleUnknownReport", BUILDING, 3):
        oracle.verifyReading(BUILDING, 3, (BUILDING, b32("M"), kit.hour(0), 1, 0), [])


# ---------------------------------------------------------------- totals


def test_totals_scaled_with_truncation(kit, oracle):
    # 201 Wh: 1,961,760 J (1 MJ) and 92,862 mg (92 g) per facility; the bond is financing only
    # the building (all of it), so its totals are the building's, never the sum
    kit.submit(kit.report(BUILDING, hour=0, actual=200, benchmark=401), kit.report(SOLAR, hour=0, actual=201))
    j, mg = 201 * PEF, 201 * GRAMS_V1
    assert plain(oracle.facilityTotals(BUILDING)) == (1, 92, j, mg)
    assert plain(oracle.facilityTotals(SOLAR)) == (1, 92, j, mg)
    assert plain(oracle.attributedTotals(BUILDING, BOND)) == (1, 92, j, mg)
    assert plain(oracle.attributedTotals(SOLAR, BOND)) == (0, 0, 0, 0)
    assert plain(oracle.bondTotals(BOND)) == (1, 92, j, mg)


def test_totals_below_one_unit(kit, oracle):
    kit.submit(kit.report(SOLAR, hour=0, actual=1), kit.report(BUILDING, hour=0, actual=599_999))
    assert plain(oracle.facilityTotals(SOLAR)) == (0, 0, PEF, GRAMS_V1)
    assert plain(oracle.bondTotals(BOND)) == (0, 0, PEF, GRAMS_V1)


def test_negative_totals_truncate_toward_zero(kit, oracle):
    kit.submit(kit.report(BUILDING, hour=0, actual=123_458, benchmark=1))  # -123,457 Wh
    j, mg = -123_457 * PEF, -123_457 * GRAMS_V1
    assert (tdiv(j, 10**6), tdiv(mg, 1000)) == (-1204, -57037)
    assert plain(oracle.facilityTotals(BUILDING)) == (-1204, -57037, j, mg)
    assert plain(oracle.bondTotals(BOND)) == (-1204, -57037, j, mg)
    assert oracle.latestRoundData()[1] == -57037


def test_bond_totals_sum_attributed_shares(kit, oracle, admin, start):
    oracle.addFacility(0, "Annex", "u", b"\0" * 32, 10**6, start, {"from": admin})
    oracle.setAllocation(3, BOND, 1, 3, start, {"from": admin})  # a third of the annex
    kit.submit(
        kit.report(BUILDING, hour=0, actual=100_000, benchmark=350_001),
        kit.report(SOLAR, hour=0, actual=77_777),
        kit.report(3, hour=0, actual=600_000, benchmark=500_000),
        kit.report(SOLAR, hour=1, actual=3),
    )
    per = {f: plain(oracle.facilityTotals(f)) for f in (1, 2, 3)}
    assert per[1][2:] == (250_001 * PEF, 250_001 * GRAMS_V1)
    assert per[2][2:] == (77_780 * PEF, 77_780 * GRAMS_V1)
    assert per[3][2:] == (-100_000 * PEF, -100_000 * GRAMS_V1)
    # the building wholly, a third of the annex (truncated toward zero), none of the solar plant
    j = per[1][2] + tdiv(per[3][2], 3)
    mg = per[1][3] + tdiv(per[3][3], 3)
    assert plain(oracle.attributedTotals(3, BOND))[2:] == (tdiv(per[3][2], 3), tdiv(per[3][3], 3))
    assert plain(oracle.bondTotals(BOND)) == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg)
    for p in per.values():
        assert p[:2] == (tdiv(p[2], 10**6), tdiv(p[3], 1000))


# ---------------------------------------------------------------- staleness


def _age(oracle, facility):
    age, stale = oracle.staleness(facility)
    return int(age), stale


def test_staleness_follows_chain_time(kit, oracle, admin):
    now = chain[-1].timestamp
    assert _age(oracle, BUILDING) == (now - kit.start, True)
    # report the hour that closed most recently: the covered time reaches the current hour's start
    chain.sleep(HOUR - now % HOUR + 60)
    chain.mine()
    current = chain[-1].timestamp // HOUR * HOUR
    kit.submit(kit.report(period_start=current - HOUR))
    assert oracle.lastPeriodEnd(BUILDING) == current
    age, stale = _age(oracle, BUILDING)
    assert age == chain[-1].timestamp - current and stale is False
    # just under the heartbeat, then just over it
    chain.sleep(HEARTBEAT - age - 5)
    chain.mine()
    age, stale = _age(oracle, BUILDING)
    assert age == chain[-1].timestamp - current and age <= HEARTBEAT and stale is False
    chain.sleep(HEARTBEAT + 1 - age)
    chain.mine()
    age, stale = _age(oracle, BUILDING)
    assert age == chain[-1].timestamp - current and age > HEARTBEAT and stale is True
    # the other facility has its own clock
    assert _age(oracle, SOLAR) == (chain[-1].timestamp - kit.start, True)
    # a longer heartbeat makes it fresh again, a zero heartbeat stale at any age above zero
    oracle.setHeartbeat(HEARTBEAT * 10, {"from": admin})
    assert _age(oracle, BUILDING)[1] is False
    oracle.setHeartbeat(0, {"from": admin})
    assert _age(oracle, BUILDING)[1] is True
    # catching up makes it fresh
    oracle.setHeartbeat(HEARTBEAT, {"from": admin})
    latest = chain[-1].timestamp // HOUR * HOUR
    kit.submit(*[kit.report(period_start=h) for h in range(current, latest, HOUR)])
    age, stale = _age(oracle, BUILDING)
    assert age == chain[-1].timestamp - latest and age < HOUR and stale is False


def test_staleness_before_reporting_starts(kit, oracle, admin):
    future = (chain[-1].timestamp // HOUR + 10) * HOUR
    oracle.addFacility(1, "Future plant", "u", b"\0" * 32, 1000, future, {"from": admin})
    assert _age(oracle, 3) == (0, False)
    assert oracle.lastPeriodEnd(3) == future


def test_staleness_unknown_facility(oracle, revert_with):
    with revert_with("OracleUnknownFacility", 3):
        oracle.staleness(3)


# ---------------------------------------------------------------- feed


def test_feed_metadata(oracle):
    assert oracle.decimals() == 0
    assert oracle.description() == "Green bond: cumulative CO2 avoided (g)"
    assert oracle.version() == 1


def test_feed_before_any_round(oracle, revert_with):
    with revert_with("OracleInvalidInput", "roundId"):
        oracle.latestRoundData()
    for rid in (0, 1):
        with revert_with("OracleInvalidInput", "roundId"):
            oracle.getRoundData(rid)


def test_feed_rounds(kit, oracle, revert_with):
    tx1 = kit.submit(kit.report(hour=0, actual=123_456))
    g1 = (600_000 - 123_456) * GRAMS_V1 // 1000
    assert plain(oracle.latestRoundData()) == (1, g1, kit.hour(0), tx1.timestamp, 1)
    assert plain(oracle.getRoundData(1)) == (1, g1, kit.hour(0), tx1.timestamp, 1)
    assert oracle.latestRoundData()[1] == oracle.bondTotals(BOND)[1]

    chain.sleep(100)
    chain.mine()
    tx2 = kit.submit(kit.report(SOLAR, hour=7, actual=999), kit.report(BUILDING, hour=2, actual=0))
    g2 = ((600_000 - 123_456) + 600_000) * GRAMS_V1 // 1000  # the solar plant is not the bond's
    # startedAt is the latest hour in the round, not the last one in the batch
    assert plain(oracle.latestRoundData()) == (2, g2, kit.hour(7), tx2.timestamp, 2)
    assert plain(oracle.getRoundData(2)) == (2, g2, kit.hour(7), tx2.timestamp, 2)
    assert tx2.timestamp >= tx1.timestamp + 100
    assert oracle.latestRoundData()[1] == oracle.bondTotals(BOND)[1]
    # only the latest round is kept
    for rid in (0, 1, 3, 2**80 - 1):
        with revert_with("OracleInvalidInput", "roundId"):
            oracle.getRoundData(rid)

    # a correction is a round too; a rejected submission is not
    tx3 = kit.submit(kit.report(hour=0, actual=600_000, supersedes=1))
    g3 = 600_000 * GRAMS_V1 // 1000
    assert plain(oracle.latestRoundData()) == (3, g3, kit.hour(0), tx3.timestamp, 3)
    with revert_with("OracleHourAlreadyReported", BUILDING, kit.hour(2)):
        kit.submit(kit.report(hour=2))
    assert plain(oracle.latestRoundData()) == (3, g3, kit.hour(0), tx3.timestamp, 3)


# ---------------------------------------------------------------- readings and proofs


def test_merkle_helper_matches_openzeppelin():
    """greenbond.merkle against the root and proof from @openzeppelin/merkle-tree 1.0.8 (StandardMerkleTree.of, same leaf types)."""
    values = [(1, b32(f"KYOSO-MAIN-{i}"), 1702479600 + i * 1800, 100000 + 7 * i, i % 2) for i in range(5)]
    assert merkle_root(values).hex() == "6ffe3002099809c0e0885070e3967b12bde32f59551d4ef19522372d18807b5c"
    assert [p.hex() for p in merkle_proof(values, 3)] == [
        "5d9f489576041f5450e8081e19d214ade942f3fc9a661cc2242f92599dd06b70",
        "56d919bba0f7a507d743a1eca211a354fdaabf87e71f03a0647eab4aad13a49e",
    ]


@pytest.mark.parametrize(
    "reading",
    [(1, b32("KYOSO-MAIN-A"), 1702479600, 100_000, 0), (2**32 - 1, b"\xff" * 32, 2**64 - 1, 2**64 - 1, 255),
     (0, b"\0" * 32, 0, 0, 0), (2, b32("SOLAR-PV-1"), 1702481400, 3, 1)],
)
def test_reading_leaf_matches_python(oracle, reading):
    assert bytes(oracle.readingLeaf(reading)) == reading_leaf(reading) == reading_leaf_eth_abi(reading)


@pytest.fixture
def proven(kit):
    """Building hour 0 (index 0) and hour 1 (index 1), each with the root of four real readings."""
    sets = [hour_readings(BUILDING, kit.hour(h), wh=(100_000 + h, 110_000 + h)) for h in range(2)]
    kit.submit(*[kit.report(hour=h, readings=4, root=merkle_root(sets[h])) for h in range(2)])
    return sets


def test_verify_real_readings(oracle, proven):
    for index, readings in enumerate(proven):
        assert oracle.report(BUILDING, index)["readingsRoot"] == "0x" + merkle_root(readings).hex()
        for i, reading in enumerate(readings):
            assert oracle.verifyReading(BUILDING, index, reading, merkle_proof(readings, i)) is True


def _with(reading, **changes):
    fields = dict(zip(("facilityId", "meterId", "intervalStart", "wh", "flags"), reading))
    fields.update(changes)
    return tuple(fields.values())


def test_tampered_readings_fail(kit, oracle, proven):
    readings = proven[0]
    reading, proof = readings[1], merkle_proof(readings, 1)
    assert oracle.verifyReading(BUILDING, 0, reading, proof) is True
    tampered = [
        _with(reading, wh=reading[3] + 1),
        _with(reading, wh=0),
        _with(reading, flags=1),
        _with(reading, meterId=b32("KYOSO-MAIN-C")),
        _with(reading, intervalStart=reading[2] + 1),          # inside the hour, not the reading
        _with(reading, intervalStart=kit.hour(1)),             # the next hour
        _with(reading, intervalStart=kit.hour(0) - 1800),      # the hour before
        _with(reading, facilityId=SOLAR),
    ]
    for bad in tampered:
        assert oracle.verifyReading(BUILDING, 0, bad, proof) is False, bad
    # a reading of facility 1 checked against the solar plant's report
    kit.submit(kit.report(SOLAR, hour=0, root=merkle_root(readings)))
    assert oracle.verifyReading(SOLAR, 0, reading, proof) is False
    assert oracle.verifyReading(SOLAR, 0, _with(reading, facilityId=SOLAR), proof) is False


def test_wrong_proof_or_index_fails(kit, oracle, proven):
    readings = proven[0]
    reading = readings[0]
    assert oracle.verifyReading(BUILDING, 0, reading, merkle_proof(readings, 2)) is False
    assert oracle.verifyReading(BUILDING, 0, reading, []) is False
    assert oracle.verifyReading(BUILDING, 0, reading, merkle_proof(readings, 0)[:1]) is False
    # index 1 covers another hour
    assert oracle.verifyReading(BUILDING, 1, reading, merkle_proof(readings, 0)) is False
    # a correction of the same hour with another root: the old readings are not under it
    fixed = hour_readings(BUILDING, kit.hour(0), wh=(100_500, 110_500))
    kit.submit(kit.report(hour=0, root=merkle_root(fixed), supersedes=1))
    assert oracle.verifyReading(BUILDING, 2, reading, merkle_proof(readings, 0)) is False
    assert oracle.verifyReading(BUILDING, 2, fixed[0], merkle_proof(fixed, 0)) is True
    # the superseded report still proves its own readings
    assert oracle.verifyReading(BUILDING, 0, reading, merkle_proof(readings, 0)) is True


def test_single_reading_tree(kit, oracle):
    reading = (SOLAR, b32("SOLAR-PV-1"), kit.hour(0) + 1800, 42_000, 1)
    kit.submit(kit.report(SOLAR, hour=0, actual=42_000, readings=1, root=merkle_root([reading])))
    assert merkle_root([reading]) == reading_leaf(reading)
    assert oracle.verifyReading(SOLAR, 0, reading, []) is True
    assert oracle.verifyReading(SOLAR, 0, _with(reading, wh=42_001), []) is False
