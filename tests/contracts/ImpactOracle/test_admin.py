"""Administration: constructor, facilities, allocation, append-only methodology versions, signer
sets, heartbeat, and access control of every state-changing function."""

import pytest
from brownie import ZERO_ADDRESS, ImpactOracle, chain

from oracle_kit import (
    BOND, BUILDING_COST, OTHER_BOND, BUILDING, BUILDING_MAX_WH, GRAMS_V1, HEARTBEAT, HOUR, MODEL_ID, PEF, SOLAR, SOLAR_MAX_WH, THRESHOLD, deploy_oracle, plain,
)

FACTORS_V2 = [(2024, 450, True, "MoE retailer factor FY2024 (final)"), (2025, 470, False, "MoE provisional FY2025")]


# ---------------------------------------------------------------- constructor


def test_constructor_sets_admin_heartbeat_and_feed_bond(admin, transmitter):
    o = ImpactOracle.deploy(admin, 5400, BOND, {"from": admin})
    assert o.hasRole(o.DEFAULT_ADMIN_ROLE(), admin)
    assert not o.hasRole(o.DEFAULT_ADMIN_ROLE(), transmitter)
    assert o.heartbeat() == 5400
    assert o.facilityCount() == 0
    assert o.methodologyCount() == 0
    assert o.signerSetVersion() == 0
    assert signer_set(o, 0) == ([], 0)
    assert o.tx.events["HeartbeatSet"]["heartbeat"] == 5400
    assert o.feedBond() == BOND
    assert o.tx.events["FeedBondSet"]["bond"] == BOND


def test_constructor_rejects_zero_admin_or_bond(admin, revert_with):
    with revert_with("OracleInvalidInput", "admin"):
        ImpactOracle.deploy(ZERO_ADDRESS, HEARTBEAT, BOND, {"from": admin})
    with revert_with("OracleInvalidInput", "feedBond"):
        ImpactOracle.deploy(admin, HEARTBEAT, ZERO_ADDRESS, {"from": admin})


# ---------------------------------------------------------------- facilities


@pytest.fixture
def bare(admin):
    return deploy_oracle(admin)


def test_add_facility_both_kinds_ids_and_events(bare, admin, start):
    tx = bare.addFacility(0, "Kyoso-to", "ipfs://kyoso", b"\x11" * 32, BUILDING_MAX_WH, start, {"from": admin})
    assert tx.return_value == 1
    assert tx.events["FacilityAdded"] == {"facilityId": 1, "kind": 0, "name": "Kyoso-to", "reportingStart": start}
    assert tx.events["FacilityUpdated"] == {
        "facilityId": 1, "metadataURI": "ipfs://kyoso", "metadataHash": "0x" + "11" * 32,
        "maxWhPerHour": BUILDING_MAX_WH, "active": True,
    }
    tx = bare.addFacility(1, "Solar", "ipfs://solar", b"\x22" * 32, SOLAR_MAX_WH, start + HOUR, {"from": admin})
    assert tx.return_value == 2
    assert tx.events["FacilityAdded"]["kind"] == 1
    assert tx.events["FacilityAdded"]["facilityId"] == 2
    tx = bare.addFacility(0, "Third", "", b"\0" * 32, 1, 0, {"from": admin})
    assert tx.return_value == 3
    assert bare.facilityCount() == 3

    f = bare.facility(1)
    assert f["kind"] == 0 and f["active"] is True
    assert f["maxWhPerHour"] == BUILDING_MAX_WH and f["reportingStart"] == start
    assert f["metadataHash"] == "0x" + "11" * 32
    assert f["name"] == "Kyoso-to" and f["metadataURI"] == "ipfs://kyoso"
    f = bare.facility(2)
    assert (f["kind"], f["name"], f["reportingStart"], f["maxWhPerHour"]) == (1, "Solar", start + HOUR, SOLAR_MAX_WH)
    # the last covered hour starts at the reporting start; nothing is reported yet
    assert bare.lastPeriodEnd(1) == start
    assert bare.lastPeriodEnd(2) == start + HOUR
    assert bare.reportCount(1) == 0
    # a new facility finances no bond until an allocation says so
    assert plain(bare.allocations(1, BOND)) == ()
    assert plain(bare.attributedTotals(1, BOND)) == (0, 0, 0, 0)


def test_add_facility_rejects_empty_name(bare, admin, start, revert_with):
    with revert_with("OracleInvalidInput", "name"):
        bare.addFacility(0, "", "ipfs://x", b"\0" * 32, 1000, start, {"from": admin})
    assert bare.facilityCount() == 0


def test_add_facility_rejects_zero_max(bare, admin, start, revert_with):
    with revert_with("OracleInvalidInput", "maxWhPerHour"):
        bare.addFacility(1, "Solar", "ipfs://x", b"\0" * 32, 0, start, {"from": admin})
    assert bare.facilityCount() == 0


def test_add_facility_bounds_max_so_derived_figures_fit_int64(bare, admin, start, revert_with):
    # 1 GWh an hour is the most a facility may report: with any uint32 factor the joules and
    # milligrams derived from it fit in int64
    bound = bare.MAX_WH_PER_HOUR()
    assert bound == 10**9 and bound * (2**32 - 1) < 2**63
    with revert_with("OracleInvalidInput", "maxWhPerHour"):
        bare.addFacility(0, "Too big", "ipfs://x", b"\0" * 32, bound + 1, start, {"from": admin})
    bare.addFacility(0, "At the bound", "ipfs://x", b"\0" * 32, bound, start, {"from": admin})
    with revert_with("OracleInvalidInput", "maxWhPerHour"):
        bare.updateFacility(1, "ipfs://y", b"\0" * 32, bound + 1, True, {"from": admin})


@pytest.mark.parametrize("offset", [1, 1800, HOUR - 1])
def test_add_facility_rejects_unaligned_start(bare, admin, start, revert_with, offset):
    with revert_with("OraclePeriodNotAligned", start + offset):
        bare.addFacility(0, "Kyoso-to", "ipfs://x", b"\0" * 32, 1000, start + offset, {"from": admin})
    assert bare.facilityCount() == 0


@pytest.mark.parametrize("fid", [0, 3, 2**32 - 1])
def test_unknown_facility_reads_revert(oracle, revert_with, fid):
    for fn in (oracle.facility, oracle.lastPeriodEnd, oracle.facilityTotals, oracle.staleness, oracle.coverage):
        with revert_with("OracleUnknownFacility", fid):
            fn(fid)
    for fn, args in ((oracle.allocations, (BOND,)), (oracle.attributedTotals, (BOND,)),
                     (oracle.firstRoot, (0,)), (oracle.isReported, (0,)), (oracle.reportedHoursWord, (0,))):
        with revert_with("OracleUnknownFacility", fid):
            fn(fid, *args)


def test_update_facility(oracle, admin, start):
    tx = oracle.updateFacility(BUILDING, "ipfs://v2", b"\x33" * 32, 2_000_000, False, {"from": admin})
    assert tx.events["FacilityUpdated"] == {
        "facilityId": BUILDING, "metadataURI": "ipfs://v2", "metadataHash": "0x" + "33" * 32,
        "maxWhPerHour": 2_000_000, "active": False,
    }
    f = oracle.facility(BUILDING)
    assert (f["metadataURI"], f["metadataHash"], f["maxWhPerHour"], f["active"]) == (
        "ipfs://v2", "0x" + "33" * 32, 2_000_000, False)
    # what updateFacility does not touch
    assert (f["kind"], f["name"], f["reportingStart"]) == (0, "Kyoso-to", start)
    assert oracle.facility(SOLAR)["active"] is True
    oracle.updateFacility(BUILDING, "ipfs://v3", b"\0" * 32, 1, True, {"from": admin})
    assert oracle.facility(BUILDING)["active"] is True and oracle.facility(BUILDING)["maxWhPerHour"] == 1


def test_update_facility_rejects(oracle, admin, revert_with):
    with revert_with("OracleUnknownFacility", 3):
        oracle.updateFacility(3, "ipfs://x", b"\0" * 32, 1, True, {"from": admin})
    with revert_with("OracleUnknownFacility", 0):
        oracle.updateFacility(0, "ipfs://x", b"\0" * 32, 1, True, {"from": admin})
    with revert_with("OracleInvalidInput", "maxWhPerHour"):
        oracle.updateFacility(BUILDING, "ipfs://x", b"\0" * 32, 0, True, {"from": admin})
    assert oracle.facility(BUILDING)["maxWhPerHour"] == BUILDING_MAX_WH


def test_set_allocation_appends_versions(oracle, admin, start):
    tx = oracle.setAllocation(SOLAR, OTHER_BOND, 12_345, 50_000, start + 10 * HOUR, {"from": admin})
    assert tx.events["AllocationRecorded"] == {
        "facilityId": SOLAR, "bond": OTHER_BOND, "version": 0, "effectiveFrom": start + 10 * HOUR,
        "allocatedProceeds": 12_345, "financedCost": 50_000,
    }
    # a later allocation report: a new version from a later hour; the first stays as it was
    tx = oracle.setAllocation(SOLAR, OTHER_BOND, 20_000, 50_000, start + 20 * HOUR, {"from": admin})
    assert tx.events["AllocationRecorded"]["version"] == 1
    assert plain(oracle.allocations(SOLAR, OTHER_BOND)) == (
        (start + 10 * HOUR, 12_345, 50_000), (start + 20 * HOUR, 20_000, 50_000))
    # per bond: the fixture's bond is untouched
    assert plain(oracle.allocations(SOLAR, BOND)) == ()
    assert plain(oracle.allocations(BUILDING, BOND)) == ((start, BUILDING_COST, BUILDING_COST),)
    # a second version at the same hour follows the first (the last one applies: test_allocation.py)
    oracle.setAllocation(SOLAR, OTHER_BOND, 0, 50_000, start + 20 * HOUR, {"from": admin})
    assert plain(oracle.allocations(SOLAR, OTHER_BOND))[2] == (start + 20 * HOUR, 0, 50_000)


def test_set_allocation_rejects(oracle, admin, start, revert_with):
    with revert_with("OracleUnknownFacility", 3):
        oracle.setAllocation(3, BOND, 1, 1, start, {"from": admin})
    with revert_with("OracleInvalidInput", "bond"):
        oracle.setAllocation(SOLAR, ZERO_ADDRESS, 1, 1, start, {"from": admin})
    with revert_with("OracleBadAllocation", 1, 0):
        oracle.setAllocation(SOLAR, BOND, 1, 0, start, {"from": admin})
    with revert_with("OracleBadAllocation", 2, 1):
        oracle.setAllocation(SOLAR, BOND, 2, 1, start, {"from": admin})  # a share above 1
    with revert_with("OracleBadAllocation", 0, 2**104):
        oracle.setAllocation(SOLAR, BOND, 0, 2**104, start, {"from": admin})
    with revert_with("OraclePeriodNotAligned", start + 1):
        oracle.setAllocation(SOLAR, BOND, 1, 1, start + 1, {"from": admin})
    with revert_with("OracleAllocationBackdated", SOLAR, start - HOUR, start):
        oracle.setAllocation(SOLAR, BOND, 1, 1, start - HOUR, {"from": admin})
    oracle.setAllocation(SOLAR, BOND, 1, 2, start + 5 * HOUR, {"from": admin})
    # not before the newest allocation period of the facility (whatever bond opened it)
    with revert_with("OracleAllocationBackdated", SOLAR, start + 4 * HOUR, start + 5 * HOUR):
        oracle.setAllocation(SOLAR, OTHER_BOND, 1, 2, start + 4 * HOUR, {"from": admin})
    assert plain(oracle.allocations(SOLAR, BOND)) == ((start + 5 * HOUR, 1, 2),)
    assert plain(oracle.allocations(SOLAR, OTHER_BOND)) == ()


def test_allocation_never_rewrites_reported_hours(oracle, kit, admin, start, revert_with):
    """An allocation may not start before the end of the latest reported hour: no figure
    already reported changes its share."""
    kit.submit(kit.report(SOLAR, 3))
    with revert_with("OracleAllocationBackdated", SOLAR, start + 3 * HOUR, start + 4 * HOUR):
        oracle.setAllocation(SOLAR, BOND, 1, 1, start + 3 * HOUR, {"from": admin})
    with revert_with("OracleAllocationBackdated", SOLAR, start, start + 4 * HOUR):
        oracle.setAllocation(SOLAR, BOND, 1, 1, start, {"from": admin})
    oracle.setAllocation(SOLAR, BOND, 1, 1, start + 4 * HOUR, {"from": admin})
    # hours 0..2 are still unreported; filled later they fall in the period before the
    # allocation, so the bond still gets nothing from them
    kit.submit(kit.report(SOLAR, 0))
    assert plain(oracle.attributedTotals(SOLAR, BOND)) == (0, 0, 0, 0)
    kit.submit(kit.report(SOLAR, 4, actual=1000))
    assert plain(oracle.attributedTotals(SOLAR, BOND))[2:] == (1000 * PEF, 1000 * GRAMS_V1)


# ---------------------------------------------------------------- methodology


def test_methodology_v1_from_config(oracle, v1_args):
    assert oracle.methodologyCount() == 1
    m = oracle.methodology(1)
    assert m["benchmarkModelId"] == "0x" + MODEL_ID.hex()
    assert m["benchmarkModelVersion"] == 1
    assert m["primaryEnergyFactor"] == PEF
    assert m["sourceURI"] == "config/methodology/v1.toml"
    assert m["sourceHash"] == "0x" + v1_args[4].hex()
    for year in range(2023, 2029):
        g = oracle.gridFactor(1, year)
        assert (g["gramsPerKWh"], g["isFinal"], g["exists"]) == (GRAMS_V1, False, True)
        assert g["source"].startswith("MoE national average FY2018")


def test_add_methodology_appends_versions(oracle, admin, revert_with):
    before = [tuple(oracle.gridFactor(1, y)) for y in range(2023, 2029)]
    m1 = tuple(oracle.methodology(1))
    tx = oracle.addMethodology(MODEL_ID, 2, 9_000, "config/methodology/v2.toml", b"\x44" * 32, FACTORS_V2,
                               {"from": admin})
    assert tx.return_value == 2
    assert oracle.methodologyCount() == 2
    assert tx.events["MethodologyAdded"] == {
        "version": 2, "benchmarkModelId": "0x" + MODEL_ID.hex(), "benchmarkModelVersion": 2,
        "primaryEnergyFactor": 9_000, "sourceURI": "config/methodology/v2.toml", "sourceHash": "0x" + "44" * 32,
    }
    recorded = [dict(e) for e in tx.events["GridFactorRecorded"]]
    assert recorded == [
        {"version": 2, "year": y, "gramsPerKWh": g, "isFinal": fin, "source": s} for y, g, fin, s in FACTORS_V2
    ]
    m2 = oracle.methodology(2)
    assert m2["createdAt"] == chain[tx.block_number].timestamp
    assert (m2["primaryEnergyFactor"], m2["benchmarkModelVersion"]) == (9_000, 2)
    # the restated factor is a new version; version 1 is unchanged
    assert tuple(oracle.gridFactor(2, 2024)) == (450, True, True, FACTORS_V2[0][3])
    assert tuple(oracle.gridFactor(2, 2025)) == (470, False, True, FACTORS_V2[1][3])
    assert [tuple(oracle.gridFactor(1, y)) for y in range(2023, 2029)] == before
    assert tuple(oracle.methodology(1)) == m1
    # a year version 2 does not list is unknown in version 2, even if version 1 has it
    with revert_with("OracleUnknownFactorYear", 2, 2023):
        oracle.gridFactor(2, 2023)
    tx = oracle.addMethodology(MODEL_ID, 3, PEF, "v3", b"\0" * 32, [(2030, 1, False, "")], {"from": admin})
    assert tx.return_value == 3 and oracle.methodologyCount() == 3


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1])
def test_unknown_methodology_reads(oracle, revert_with, version):
    with revert_with("OracleUnknownMethodology", version):
        oracle.methodology(version)
    with revert_with("OracleUnknownFactorYear", version, 2024):
        oracle.gridFactor(version, 2024)


def test_unknown_factor_year_read(oracle, revert_with):
    with revert_with("OracleUnknownFactorYear", 1, 2022):
        oracle.gridFactor(1, 2022)


@pytest.mark.parametrize(
    "args,field",
    [
        ((MODEL_ID, 1, PEF, "u", b"\0" * 32, []), "factors"),
        ((MODEL_ID, 1, 0, "u", b"\0" * 32, FACTORS_V2), "primaryEnergyFactor"),
        ((b"\0" * 32, 1, PEF, "u", b"\0" * 32, FACTORS_V2), "benchmarkModelId"),
        ((MODEL_ID, 1, PEF, "u", b"\0" * 32, FACTORS_V2 + [(2024, 451, True, "again")]), "factors"),
        ((MODEL_ID, 1, PEF, "u", b"\0" * 32, [(2024, 450, True, "a"), (2025, 0, False, "zero")]), "factors"),
        ((MODEL_ID, 1, PEF, "u", b"\0" * 32, [(2024, 0, True, "zero")]), "factors"),
    ],
    ids=["empty-factors", "zero-pef", "zero-model-id", "duplicate-year", "zero-factor-late", "zero-factor"],
)
def test_add_methodology_rejects(oracle, admin, revert_with, args, field):
    with revert_with("OracleInvalidInput", field):
        oracle.addMethodology(*args, {"from": admin})
    assert oracle.methodologyCount() == 1
    with revert_with("OracleUnknownMethodology", 2):
        oracle.methodology(2)
    with revert_with("OracleUnknownFactorYear", 2, 2024):
        oracle.gridFactor(2, 2024)


# ---------------------------------------------------------------- signer sets


def test_signer_set_v1(oracle, signer_keys):
    assert oracle.signerSetVersion() == 1
    assert signer_set(oracle, 1) == (_lower(k.address for k in signer_keys), THRESHOLD)


def test_set_signers_new_version(oracle, admin, signer_keys, outsider_keys):
    new = [outsider_keys[0].address, signer_keys[0].address]
    tx = oracle.setSigners(new, 1, {"from": admin})
    assert tx.events["SignerSetChanged"] == {"version": 2, "signers": new, "threshold": 1}
    assert oracle.signerSetVersion() == 2
    assert signer_set(oracle, 2) == (_lower(new), 1)
    assert signer_set(oracle, 1) == (_lower(k.address for k in signer_keys), THRESHOLD)
    # the same set again is still a new version
    oracle.setSigners(new, 2, {"from": admin})
    assert oracle.signerSetVersion() == 3
    assert signer_set(oracle, 3) == (_lower(new), 2)
    assert signer_set(oracle, 4) == ([], 0)


def signer_set(o, version):
    """signerSet(version) as ([lower-case addresses], threshold)."""
    signers, threshold = o.signerSet(version)
    return [str(a).lower() for a in signers], int(threshold)


def _lower(addresses):
    return [str(a).lower() for a in addresses]


def _addr(i):
    return "0x" + (0x1000 + i).to_bytes(20, "big").hex()


@pytest.mark.parametrize(
    "signers,threshold",
    [
        ([_addr(1), _addr(2)], 0),
        ([_addr(1), _addr(2)], 3),
        ([], 0),
        ([], 1),
        ([_addr(1), ZERO_ADDRESS], 1),
        ([ZERO_ADDRESS], 1),
        ([_addr(1), _addr(2), _addr(1)], 2),
        ([_addr(i) for i in range(256)], 1),
        ([_addr(i) for i in range(256)], 255),
    ],
    ids=["threshold-0", "threshold-above-n", "empty-0", "empty-1", "zero-address", "only-zero", "duplicate",
         "256-signers", "256-signers-255"],
)
def test_set_signers_rejects(oracle, admin, signer_keys, revert_with, signers, threshold):
    with revert_with("OracleBadSignerSet"):
        oracle.setSigners(signers, threshold, {"from": admin})
    assert oracle.signerSetVersion() == 1
    assert signer_set(oracle, 2) == ([], 0)
    assert signer_set(oracle, 1) == (_lower(k.address for k in signer_keys), THRESHOLD)


def test_set_signers_threshold_equal_n(oracle, admin):
    oracle.setSigners([_addr(1), _addr(2), _addr(3)], 3, {"from": admin})
    assert signer_set(oracle, 2) == ([_addr(1), _addr(2), _addr(3)], 3)


def test_set_heartbeat(oracle, admin):
    assert oracle.heartbeat() == HEARTBEAT
    tx = oracle.setHeartbeat(60, {"from": admin})
    assert tx.events["HeartbeatSet"] == {"heartbeat": 60}
    assert oracle.heartbeat() == 60
    oracle.setHeartbeat(0, {"from": admin})
    assert oracle.heartbeat() == 0


# ---------------------------------------------------------------- access control

ADMIN_ONLY = [
    ("addFacility", lambda k: (0, "X", "u", b"\0" * 32, 1, k.start)),
    ("updateFacility", lambda k: (BUILDING, "u", b"\0" * 32, 1, False)),
    ("setAllocation", lambda k: (BUILDING, BOND, 1, 1, k.start + HOUR)),
    ("addMethodology", lambda k: (MODEL_ID, 2, PEF, "u", b"\0" * 32, FACTORS_V2)),
    ("setSigners", lambda k: ([k.outsiders[0].address], 1)),
    ("setHeartbeat", lambda k: (1,)),
    ("grantRole", lambda k: (k.oracle.TRANSMITTER_ROLE(), k.outsiders[0].address)),
    ("revokeRole", lambda k: (k.oracle.TRANSMITTER_ROLE(), k.transmitter)),
]


@pytest.mark.parametrize("name,args", ADMIN_ONLY, ids=[n for n, _ in ADMIN_ONLY])
@pytest.mark.parametrize("caller", ["transmitter", "outsider"])
def test_admin_only(kit, oracle, request, revert_with, name, args, caller):
    account = request.getfixturevalue(caller)
    before = kit.snapshot()
    with revert_with("AccessControlUnauthorizedAccount", account, oracle.DEFAULT_ADMIN_ROLE()):
        getattr(oracle, name)(*args(kit), {"from": account})
    assert kit.snapshot() == before
    assert oracle.heartbeat() == HEARTBEAT and oracle.signerSetVersion() == 1 and oracle.methodologyCount() == 1


@pytest.mark.parametrize("caller", ["admin", "outsider", "alice"])
def test_only_transmitter_submits(kit, oracle, request, revert_with, caller):
    account = request.getfixturevalue(caller)
    r = kit.report(hour=0)
    with revert_with("AccessControlUnauthorizedAccount", account, oracle.TRANSMITTER_ROLE()):
        kit.submit(r, sender=account)
    assert oracle.reportCount(BUILDING) == 0
    kit.submit(r)
    assert oracle.reportCount(BUILDING) == 1


def test_transmitter_role_granted_and_revoked(kit, oracle, admin, alice, revert_with):
    role = oracle.TRANSMITTER_ROLE()
    oracle.grantRole(role, alice, {"from": admin})
    kit.submit(kit.report(hour=0), sender=alice)
    oracle.revokeRole(role, kit.transmitter, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", kit.transmitter, role):
        kit.submit(kit.report(hour=1))
    assert oracle.reportCount(BUILDING) == 1
