"""Hourly reports: k-of-n acceptance, the figures derived on chain, and every rejection (each
with its custom error, and each leaving the oracle exactly as it was)."""

import pytest
from brownie import chain
from brownie.exceptions import VirtualMachineError

from oracle_kit import (
    BOND, BUILDING, BUILDING_MAX_WH, GRAMS_V1, HOUR, MODEL_ID, PEF, ROOT, SOLAR, SOLAR_MAX_WH, THRESHOLD, deploy_oracle,
    plain,
)


@pytest.fixture
def rejects(kit, revert_with):
    """`with rejects("OracleX", *args):` asserts that custom error and that nothing changed."""

    class _Rejects:
        def __init__(self, name, *args):
            self.name, self.args = name, args

        def __enter__(self):
            self.before = kit.snapshot()
            self.ctx = revert_with(self.name, *self.args)
            return self.ctx.__enter__()

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert kit.snapshot() == self.before
            return handled

    return _Rejects


def stored(oracle, facility, index):
    return dict(oracle.report(facility, index))


# ---------------------------------------------------------------- acceptance


@pytest.mark.parametrize("which", [(0, 1, 2), (3, 1, 0), (1, 2, 3), (0, 1, 2, 3), (3, 2, 1, 0)],
                         ids=["k-first", "k-reordered", "k-last", "all-n", "all-n-reversed"])
def test_accepted_with_k_or_all_n_signatures(kit, oracle, which):
    r = kit.report(hour=0, flags=5)
    tx = kit.submit(r, keys=[kit.signers[i] for i in which])
    assert oracle.reportCount(BUILDING) == 1
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(1)
    s = stored(oracle, BUILDING, 0)
    assert s == {
        "periodStart": kit.hour(0), "actualWh": 400_000, "benchmarkWh": 600_000, "readingCount": 4,
        "qualityFlags": 5, "energyReductionJ": 200_000 * PEF, "co2AvoidedMg": 200_000 * GRAMS_V1,
        "methodologyVersion": 1, "factorYear": 2024, "signerSetVersion": 1, "supersedes": 0, "supersededBy": 0,
        "readingsRoot": "0x" + ROOT.hex(),
    }
    assert dict(tx.events["ReportAccepted"]) == {
        "facilityId": BUILDING, "index": 0, "periodStart": kit.hour(0), "energyReductionJ": 200_000 * PEF,
        "co2AvoidedMg": 200_000 * GRAMS_V1, "readingsRoot": "0x" + ROOT.hex(), "methodologyVersion": 1,
        "supersedes": 0,
    }
    index, latest = oracle.latestReport(BUILDING)
    assert index == 0 and dict(latest) == s


@pytest.mark.parametrize(
    "actual,benchmark",
    [(400_000, 600_000), (0, BUILDING_MAX_WH), (BUILDING_MAX_WH, BUILDING_MAX_WH), (123_457, 123_458), (0, 0),
     (700_000, 500_000), (BUILDING_MAX_WH, 0)],
    ids=["typical", "max-reduction", "equal-at-max", "one-wh", "zero", "negative", "max-negative"],
)
def test_building_figures_exact(kit, oracle, actual, benchmark):
    kit.submit(kit.report(hour=3, actual=actual, benchmark=benchmark))
    reduction = benchmark - actual
    s = oracle.report(BUILDING, 0)
    assert s["energyReductionJ"] == reduction * 9760
    assert s["co2AvoidedMg"] == reduction * 462
    assert plain(oracle.facilityTotals(BUILDING))[2:] == (reduction * 9760, reduction * 462)


@pytest.mark.parametrize("generation", [0, 1, 300_000, SOLAR_MAX_WH])
def test_solar_reduction_is_generation(kit, oracle, generation):
    tx = kit.submit(kit.report(SOLAR, hour=0, actual=generation, benchmark=0))
    s = oracle.report(SOLAR, 0)
    assert (s["actualWh"], s["benchmarkWh"]) == (generation, 0)
    assert s["energyReductionJ"] == generation * PEF
    assert s["co2AvoidedMg"] == generation * GRAMS_V1
    assert tx.events["ReportAccepted"]["co2AvoidedMg"] == generation * GRAMS_V1
    assert oracle.reportCount(BUILDING) == 0


@pytest.mark.parametrize("benchmark", [1, 300_000])
def test_solar_benchmark_must_be_zero(kit, rejects, benchmark):
    with rejects("OracleOutOfBounds", "benchmarkWh", benchmark, 0):
        kit.submit(kit.report(SOLAR, hour=0, actual=300_000, benchmark=benchmark))


def test_methodology_version_and_year_choose_the_factors(kit, oracle, admin):
    oracle.addMethodology(MODEL_ID, 2, 8_640, "v2", b"\x44" * 32,
                          [(2024, 450, True, "final FY2024"), (2025, 431, False, "provisional FY2025")], {"from": admin})
    kit.submit(
        kit.report(hour=0, methodology=1, year=2024),
        kit.report(hour=1, methodology=2, year=2024),
        kit.report(hour=2, methodology=2, year=2025),
        kit.report(hour=3, methodology=1, year=2028),
    )
    want = [(9760, 462), (8640, 450), (8640, 431), (9760, 462)]
    for i, (pef, grams) in enumerate(want):
        s = oracle.report(BUILDING, i)
        assert (s["energyReductionJ"], s["co2AvoidedMg"]) == (200_000 * pef, 200_000 * grams)
        assert s["methodologyVersion"] == (1 if i in (0, 3) else 2)
    assert plain(oracle.facilityTotals(BUILDING))[2:] == (
        200_000 * (9760 * 2 + 8640 * 2), 200_000 * (462 * 2 + 450 + 431))


def test_gaps_are_filled_later(kit, oracle):
    """A transmitter that sends a later hour first does not make the earlier ones unsubmittable:
    hour 0, then 10, then 11, then the gap 1..9 in any order."""
    kit.submit(kit.report(hour=0))
    kit.submit(kit.report(hour=10))
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(11)
    kit.submit(kit.report(hour=11))
    assert plain(oracle.coverage(BUILDING))[0] == 3
    assert [oracle.isReported(BUILDING, kit.hour(h)) for h in range(12)] == [True] + [False] * 9 + [True, True]
    kit.submit(kit.report(hour=9), kit.report(hour=1))
    kit.submit(*[kit.report(hour=h) for h in (5, 2, 8, 3, 7, 4, 6)])
    assert [oracle.report(BUILDING, i)["periodStart"] for i in range(12)] == [
        kit.hour(h) for h in (0, 10, 11, 9, 1, 5, 2, 8, 3, 7, 4, 6)]
    assert all(oracle.isReported(BUILDING, kit.hour(h)) for h in range(12))
    assert not oracle.isReported(BUILDING, kit.hour(12))
    assert oracle.reportedHoursWord(BUILDING, 0) == 2**12 - 1
    assert oracle.reportedHoursWord(BUILDING, 1) == 0
    assert oracle.firstRoot(BUILDING, kit.hour(9)) == "0x" + ROOT.hex()
    assert oracle.firstRoot(BUILDING, kit.hour(12)) == "0x" + "00" * 32
    # the latest reported hour did not move back
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(11) + HOUR
    assert plain(oracle.facilityTotals(BUILDING))[2:] == (12 * 200_000 * PEF, 12 * 200_000 * GRAMS_V1)


def test_facilities_are_independent(kit, oracle):
    kit.submit(kit.report(BUILDING, hour=20))
    kit.submit(kit.report(SOLAR, hour=2, actual=1000))
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(21)
    assert oracle.lastPeriodEnd(SOLAR) == kit.hour(3)


# ---------------------------------------------------------------- batches


def test_several_hours_in_one_transaction(kit, oracle):
    reports = [kit.report(hour=h, actual=100_000 * (h + 1)) for h in range(4)]
    tx = kit.submit(*reports)
    assert oracle.reportCount(BUILDING) == 4
    assert oracle.lastPeriodEnd(BUILDING) == kit.hour(4)
    events = tx.events["ReportAccepted"]
    assert [e["index"] for e in events] == [0, 1, 2, 3]
    assert [e["periodStart"] for e in events] == [kit.hour(h) for h in range(4)]
    assert [oracle.report(BUILDING, i)["actualWh"] for i in range(4)] == [100_000, 200_000, 300_000, 400_000]
    want = sum(600_000 - 100_000 * (h + 1) for h in range(4))
    assert plain(oracle.facilityTotals(BUILDING))[2:] == (want * PEF, want * GRAMS_V1)


def test_batch_over_two_facilities(kit, oracle):
    kit.submit(kit.report(SOLAR, hour=5, actual=10), kit.report(BUILDING, hour=1), kit.report(SOLAR, hour=6, actual=20))
    assert oracle.reportCount(SOLAR) == 2 and oracle.reportCount(BUILDING) == 1
    assert plain(oracle.facilityTotals(SOLAR))[3] == 30 * GRAMS_V1
    assert plain(oracle.bondTotals(BOND))[3] == 200_000 * GRAMS_V1  # the solar plant is not the bond's


def test_batch_in_any_order(kit, oracle):
    kit.submit(*[kit.report(hour=h) for h in (2, 1, 0)])
    assert [oracle.report(BUILDING, i)["periodStart"] for i in range(3)] == [kit.hour(h) for h in (2, 1, 0)]


@pytest.mark.parametrize("hours,twice", [((2, 2), 2), ((0, 1, 1), 1), ((3, 0, 3), 3)],
                         ids=["same-hour-twice", "repeat-at-end", "repeat-after-earlier"])
def test_batch_with_an_hour_twice(kit, rejects, hours, twice):
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(twice)):
        kit.submit(*[kit.report(hour=h) for h in hours])


@pytest.mark.parametrize("bad_at", [0, 1, 2])
def test_a_bad_report_reverts_the_whole_batch(kit, oracle, rejects, bad_at):
    kit.submit(kit.report(SOLAR, hour=0, actual=5))
    reports = [kit.report(hour=h) for h in range(3)]
    reports[bad_at] = kit.report(hour=bad_at, actual=BUILDING_MAX_WH + 1)
    with rejects("OracleOutOfBounds", "actualWh", BUILDING_MAX_WH + 1, BUILDING_MAX_WH):
        kit.submit(*reports)
    assert oracle.reportCount(BUILDING) == 0
    assert oracle.latestRoundData()[0] == 1


def test_a_badly_signed_report_reverts_the_whole_batch(kit, rejects):
    reports = [kit.report(hour=h) for h in range(3)]
    sigs = [kit.sign(r) for r in reports]
    sigs[2] = sigs[2][:2]
    with rejects("OracleTooFewSignatures", 2, THRESHOLD):
        kit.submit(*reports, sigs=sigs)


def test_length_mismatch(kit, rejects):
    reports = [kit.report(hour=0), kit.report(hour=1)]
    with rejects("OracleLengthMismatch", 2, 1):
        kit.submit(*reports, sigs=[kit.sign(reports[0])])
    with rejects("OracleLengthMismatch", 1, 2):
        kit.submit(reports[0], sigs=[kit.sign(reports[0]), kit.sign(reports[1])])
    with rejects("OracleLengthMismatch", 0, 1):
        kit.submit(sigs=[kit.sign(reports[0])])


def test_empty_batch(kit, rejects):
    with rejects("OracleInvalidInput", "reports"):
        kit.submit()


# ---------------------------------------------------------------- replay, domain, signatures


def test_replay_rejected(kit, oracle, rejects):
    r = kit.report(hour=0)
    sigs = [kit.sign(r)]
    kit.submit(r, sigs=sigs)
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(0)):
        kit.submit(r, sigs=sigs)
    # also once later hours are in
    kit.submit(kit.report(hour=1))
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(0)):
        kit.submit(r, sigs=sigs)
    # and in the same batch as itself
    r2 = kit.report(hour=2)
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(2)):
        kit.submit(r2, r2)
    # other figures for a reported hour are a correction, never a second report
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(1)):
        kit.submit(kit.report(hour=1, actual=1))


def test_signed_for_another_chain(kit, rejects, recover):
    r = kit.report(hour=0)
    sigs = kit.sign(r, chain_id=kit.chain_id + 1)
    with rejects("OracleNotASigner", recover(kit.digest(r), sigs[0])):
        kit.submit(r, sigs=[sigs])
    assert recover(kit.digest(r), kit.sign(r)[0]) == kit.signers[0].address


def test_signed_for_another_contract(kit, oracle, admin, rejects, recover, signer_keys, start):
    twin = deploy_oracle(admin)  # same configuration, another address
    twin.addFacility(0, "Kyoso-to", "", b"\0" * 32, BUILDING_MAX_WH, start, {"from": admin})
    twin.addMethodology(MODEL_ID, 1, PEF, "", b"\0" * 32, [(2024, 462, False, "")], {"from": admin})
    twin.setSigners([k.address for k in signer_keys], THRESHOLD, {"from": admin})
    twin.grantRole(twin.TRANSMITTER_ROLE(), kit.transmitter, {"from": admin})
    r = kit.report(hour=0)
    sigs = kit.sign(r, contract=twin.address)
    twin.submitReports([r.as_tuple()], [sigs], {"from": kit.transmitter})  # valid where it was meant
    with rejects("OracleNotASigner", recover(kit.digest(r), sigs[0])):
        kit.submit(r, sigs=[sigs])


def test_signature_over_other_figures(kit, rejects, recover):
    r = kit.report(hour=0)
    tampered = kit.report(hour=0, actual=300_000)
    sigs = kit.sign(r)
    with rejects("OracleNotASigner", recover(kit.digest(tampered), sigs[0])):
        kit.submit(tampered, sigs=[sigs])


@pytest.mark.parametrize("count", [0, 1, 2])
def test_below_quorum(kit, rejects, count):
    r = kit.report(hour=0)
    with rejects("OracleTooFewSignatures", count, THRESHOLD):
        kit.submit(r, keys=kit.signers[:count])


def test_quorum_counts_signatures_before_checking_them(kit, rejects):
    r = kit.report(hour=0)
    with rejects("OracleTooFewSignatures", 2, THRESHOLD):
        kit.submit(r, keys=kit.outsiders[:2])


@pytest.mark.parametrize("which,dup", [((0, 1, 0), 0), ((0, 0, 1), 0), ((2, 1, 2, 0), 2), ((3, 3, 3), 3)])
def test_duplicate_signer(kit, rejects, which, dup):
    r = kit.report(hour=0)
    with rejects("OracleDuplicateSigner", kit.signers[dup].address):
        kit.submit(r, keys=[kit.signers[i] for i in which])


@pytest.mark.parametrize("position", [0, 1, 2, 3])
def test_signer_not_in_set(kit, rejects, position):
    keys = list(kit.signers[:THRESHOLD])
    keys.insert(position, kit.outsiders[1])
    with rejects("OracleNotASigner", kit.outsiders[1].address):
        kit.submit(kit.report(hour=0), keys=keys)


def test_invalid_signature_bytes(kit, rejects):
    r = kit.report(hour=0)
    sigs = kit.sign(r)
    sigs[1] = (b"\0" * 32, sigs[1][1])
    with rejects("ECDSAInvalidSignature"):
        kit.submit(r, sigs=[sigs])


# ---------------------------------------------------------------- signer set versions


@pytest.mark.parametrize("given", [0, 2, 7])
def test_wrong_signer_set_version(kit, rejects, given):
    r = kit.report(hour=0, signer_set=given)
    with rejects("OracleWrongSignerSet", given, 1):
        kit.submit(r)


def test_no_signer_set_yet(admin, kit, revert_with, start):
    o = deploy_oracle(admin)
    o.addFacility(0, "Kyoso-to", "", b"\0" * 32, BUILDING_MAX_WH, start, {"from": admin})
    o.addMethodology(MODEL_ID, 1, PEF, "", b"\0" * 32, [(2024, 462, False, "")], {"from": admin})
    o.grantRole(o.TRANSMITTER_ROLE(), kit.transmitter, {"from": admin})
    r = kit.report(hour=0, signer_set=0)
    with revert_with("OracleWrongSignerSet", 0, 0):
        o.submitReports([r.as_tuple()], [kit.sign(r, contract=o.address)], {"from": kit.transmitter})
    assert o.reportCount(BUILDING) == 0


def test_new_signer_set_rejects_old_version(kit, oracle, admin, rejects):
    old = kit.report(hour=0, signer_set=1)
    old_sigs = kit.sign(old)
    new_keys = [kit.outsiders[0], kit.outsiders[1], kit.signers[0]]
    oracle.setSigners([k.address for k in new_keys], 2, {"from": admin})
    assert oracle.signerSetVersion() == 2
    # signed by the old set, naming the old version
    with rejects("OracleWrongSignerSet", 1, 2):
        kit.submit(old, sigs=[old_sigs])
    # naming the new version but signed by old signers who left
    r = kit.report(hour=0, signer_set=2)
    with rejects("OracleNotASigner", kit.signers[1].address):
        kit.submit(r, keys=[kit.signers[0], kit.signers[1]])
    with rejects("OracleTooFewSignatures", 1, 2):
        kit.submit(r, keys=[kit.outsiders[0]])
    # the new set's threshold and members
    kit.submit(r, keys=[kit.outsiders[1], kit.signers[0]])
    assert oracle.report(BUILDING, 0)["signerSetVersion"] == 2
    # a report accepted under version 1 keeps its version after the change
    oracle.setSigners([k.address for k in kit.signers], THRESHOLD, {"from": admin})
    kit.submit(kit.report(hour=1, signer_set=3))
    assert [oracle.report(BUILDING, i)["signerSetVersion"] for i in range(2)] == [2, 3]


def test_report_under_v1_keeps_its_version(kit, oracle, admin):
    kit.submit(kit.report(hour=0))
    oracle.setSigners([k.address for k in kit.signers], 2, {"from": admin})
    kit.submit(kit.report(hour=1), keys=kit.signers[2:])
    assert [oracle.report(BUILDING, i)["signerSetVersion"] for i in range(2)] == [1, 2]


# ---------------------------------------------------------------- periods


def test_earlier_hours_once_each(kit, oracle, rejects):
    kit.submit(kit.report(hour=5))
    kit.submit(kit.report(hour=3))
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(3)):
        kit.submit(kit.report(hour=3, actual=1))
    with rejects("OracleHourAlreadyReported", BUILDING, kit.hour(5)):
        kit.submit(kit.report(hour=5, actual=1))
    kit.submit(kit.report(hour=0))
    kit.submit(kit.report(hour=6))
    assert [oracle.isReported(BUILDING, kit.hour(h)) for h in range(7)] == [True, False, False, True, False, True, True]


@pytest.mark.parametrize("offset", [1, 900, 1800, HOUR - 1])
def test_unaligned_period(kit, rejects, offset):
    start = kit.hour(2) + offset
    with rejects("OraclePeriodNotAligned", start):
        kit.submit(kit.report(period_start=start))


def test_unaligned_period_overlapping_the_last_hour(kit, rejects):
    kit.submit(kit.report(hour=2))
    with rejects("OraclePeriodNotAligned", kit.hour(2) + 1800):
        kit.submit(kit.report(period_start=kit.hour(2) + 1800))


def _not_closed(kit, period_start):
    before = kit.snapshot()
    with pytest.raises(VirtualMachineError) as exc:
        kit.submit(kit.report(period_start=period_start))
    name, args = exc.value.revert_msg.split(": ")
    given, now = (int(a) for a in args.split(", "))
    assert name == "OraclePeriodNotClosed" and given == period_start
    assert chain[-1].timestamp <= now < period_start + HOUR
    assert kit.snapshot() == before


def test_current_hour_not_closed(kit):
    # move to ten minutes into an hour, so that the hour cannot close before the transaction
    now = chain[-1].timestamp
    chain.sleep(HOUR - now % HOUR + 600)
    chain.mine()
    current = chain[-1].timestamp // HOUR * HOUR
    _not_closed(kit, current)
    # the previous hour is closed
    kit.submit(kit.report(period_start=current - HOUR))


@pytest.mark.parametrize("hours_ahead", [1, 2, 1000])
def test_future_hour_not_closed(kit, hours_ahead):
    _not_closed(kit, (chain[-1].timestamp // HOUR + hours_ahead) * HOUR)


def test_hour_closes_as_time_passes(kit, oracle):
    now = chain[-1].timestamp
    chain.sleep(HOUR - now % HOUR + 600)
    chain.mine()
    current = chain[-1].timestamp // HOUR * HOUR
    _not_closed(kit, current)
    chain.sleep(HOUR)
    chain.mine()
    kit.submit(kit.report(period_start=current))
    assert oracle.lastPeriodEnd(BUILDING) == current + HOUR


@pytest.mark.parametrize("hours_before", [1, 24])
def test_before_reporting_start(kit, rejects, hours_before):
    with rejects("OraclePeriodBeforeStart", kit.hour(-hours_before), kit.start):
        kit.submit(kit.report(hour=-hours_before))


def test_reporting_start_is_inclusive(kit, oracle):
    kit.submit(kit.report(period_start=kit.start))
    assert oracle.report(BUILDING, 0)["periodStart"] == kit.start


# ---------------------------------------------------------------- facility, methodology


def test_inactive_facility(kit, oracle, admin, rejects):
    oracle.updateFacility(BUILDING, "u", b"\0" * 32, BUILDING_MAX_WH, False, {"from": admin})
    with rejects("OracleFacilityInactive", BUILDING):
        kit.submit(kit.report(hour=0))
    kit.submit(kit.report(SOLAR, hour=0))  # the other facility is unaffected
    oracle.updateFacility(BUILDING, "u", b"\0" * 32, BUILDING_MAX_WH, True, {"from": admin})
    kit.submit(kit.report(hour=0))
    assert oracle.reportCount(BUILDING) == 1


@pytest.mark.parametrize("fid", [0, 3, 2**32 - 1])
def test_unknown_facility(kit, rejects, fid):
    with rejects("OracleUnknownFacility", fid):
        kit.submit(kit.report(fid, hour=0, benchmark=600_000))


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1])
def test_unknown_methodology(kit, rejects, version):
    with rejects("OracleUnknownMethodology", version):
        kit.submit(kit.report(hour=0, methodology=version))


@pytest.mark.parametrize("year", [0, 2022, 2029])
def test_unknown_factor_year(kit, rejects, year):
    with rejects("OracleUnknownFactorYear", 1, year):
        kit.submit(kit.report(hour=0, year=year))


def test_factor_year_of_another_version(kit, oracle, admin, rejects):
    oracle.addMethodology(MODEL_ID, 2, PEF, "v2", b"\0" * 32, [(2030, 400, False, "")], {"from": admin})
    with rejects("OracleUnknownFactorYear", 2, 2024):
        kit.submit(kit.report(hour=0, methodology=2, year=2024))
    with rejects("OracleUnknownFactorYear", 1, 2030):
        kit.submit(kit.report(hour=0, methodology=1, year=2030))
    kit.submit(kit.report(hour=0, methodology=2, year=2030))
    assert oracle.report(BUILDING, 0)["co2AvoidedMg"] == 200_000 * 400


# ---------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    "facility,field,kw,value,bound",
    [
        (BUILDING, "actualWh", "actual", BUILDING_MAX_WH + 1, BUILDING_MAX_WH),
        (BUILDING, "actualWh", "actual", 2**64 - 1, BUILDING_MAX_WH),
        (BUILDING, "benchmarkWh", "benchmark", BUILDING_MAX_WH + 1, BUILDING_MAX_WH),
        (BUILDING, "benchmarkWh", "benchmark", 2**64 - 1, BUILDING_MAX_WH),
        (SOLAR, "actualWh", "actual", SOLAR_MAX_WH + 1, SOLAR_MAX_WH),
        (SOLAR, "benchmarkWh", "benchmark", SOLAR_MAX_WH + 1, SOLAR_MAX_WH),
    ],
    ids=["building-actual", "building-actual-max-uint", "building-benchmark", "building-benchmark-max-uint",
         "solar-actual", "solar-benchmark"],
)
def test_out_of_bounds(kit, rejects, facility, field, kw, value, bound):
    with rejects("OracleOutOfBounds", field, value, bound):
        kit.submit(kit.report(facility, hour=0, **{kw: value}))


def test_bound_follows_update_facility(kit, oracle, admin, rejects):
    oracle.updateFacility(BUILDING, "u", b"\0" * 32, 500_000, True, {"from": admin})
    with rejects("OracleOutOfBounds", "benchmarkWh", 600_000, 500_000):
        kit.submit(kit.report(hour=0))
    kit.submit(kit.report(hour=0, actual=500_000, benchmark=500_000))


def test_zero_reading_count(kit, rejects):
    with rejects("OracleOutOfBounds", "readingCount", 0, 1):
        kit.submit(kit.report(hour=0, readings=0))


def test_zero_root(kit, rejects):
    with rejects("OracleInvalidInput", "readingsRoot"):
        kit.submit(kit.report(hour=0, root=b"\0" * 32))


def test_extreme_but_valid_fields(kit, oracle):
    kit.submit(kit.report(hour=0, readings=2**16 - 1, flags=2**16 - 1, root=b"\xff" * 32))
    s = oracle.report(BUILDING, 0)
    assert (s["readingCount"], s["qualityFlags"], s["readingsRoot"]) == (2**16 - 1, 2**16 - 1, "0x" + "ff" * 32)


# ---------------------------------------------------------------- order of the checks


@pytest.mark.parametrize(
    "kw,error",
    [
        (dict(signer_set=2, methodology=9, facility=9), ("OracleWrongSignerSet", 2, 1)),
        (dict(methodology=9, facility=9), ("OracleUnknownMethodology", 9)),
        (dict(year=1999, facility=9), ("OracleUnknownFactorYear", 1, 1999)),
        (dict(facility=9, hour=-5), ("OracleUnknownFacility", 9)),
        (dict(hour=-5, actual=BUILDING_MAX_WH + 1), ("OraclePeriodBeforeStart", "hour:-5", "start")),
        (dict(actual=BUILDING_MAX_WH + 1, readings=0), ("OracleOutOfBounds", "actualWh", BUILDING_MAX_WH + 1,
                                                        BUILDING_MAX_WH)),
        (dict(readings=0, root=b"\0" * 32), ("OracleOutOfBounds", "readingCount", 0, 1)),
    ],
    ids=["signer-set-first", "methodology", "factor-year", "facility", "period", "bounds", "reading-count"],
)
def test_checks_run_in_order_signatures_last(kit, rejects, kw, error):
    kw = dict(kw)
    facility = kw.pop("facility", BUILDING)
    kw.setdefault("hour", 0)
    r = kit.report(facility, benchmark=600_000, **kw)
    args = [kit.hour(-5) if a == "hour:-5" else kit.start if a == "start" else a for a in error[1:]]
    with rejects(error[0], *args):
        kit.submit(r, keys=kit.outsiders[:1])  # also too few and unknown signatures: checked last


def test_solar_benchmark_checked_after_reading_count(kit, rejects):
    with rejects("OracleOutOfBounds", "readingCount", 0, 1):
        kit.submit(kit.report(SOLAR, hour=0, benchmark=5, readings=0))

