// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IImpactOracle} from "../interfaces/IImpactOracle.sol";

/// @title ImpactOracle
/// @notice The on-chain end of the green tracking hub. The issuer (`DEFAULT_ADMIN_ROLE`) registers
///         facilities, appends methodology versions and sets the signer set; a transmitter
///         (`TRANSMITTER_ROLE`) submits hourly reports signed by at least k of the n signers.
///         Checks run in a fixed order (signer set, methodology, facility, period, bounds,
///         signatures), then state changes, then the event. Energy and CO2 are derived on chain
///         from the signed Wh figures and the methodology, exactly (joules, milligrams).
///         Any closed hour without a report can be reported, in any order (the hour's first
///         readings root, stored per hour, says it is reported), so late data and outages are
///         filled, never lost.
///         A bond's impact is its allocated share of each facility: each facility's totals are
///         kept per allocation period (a period starts at every allocation version's
///         effectiveFrom), so a share applies exactly to the hours it covers and an allocation
///         never rewrites reported history. Also a Chainlink-style feed of the feed bond's
///         attributable CO2 avoided (grams).
contract ImpactOracle is IImpactOracle, AccessControl, EIP712 {
    /// @notice Role of the accounts allowed to send reports.
    bytes32 public constant TRANSMITTER_ROLE = keccak256("TRANSMITTER_ROLE");

    /// @notice The EIP-712 type of a signed report.
    bytes32 public constant HOURLY_REPORT_TYPEHASH = keccak256(
        "HourlyReport(uint32 facilityId,uint64 periodStart,uint64 actualWh,uint64 benchmarkWh,uint16 readingCount,"
        "uint16 qualityFlags,bytes32 readingsRoot,uint32 methodologyVersion,uint16 factorYear,uint32 signerSetVersion,"
        "uint32 supersedes)"
    );

    uint64 private constant HOUR = 3600;
    /// @dev Bound on a facility's hourly energy (1 GWh): with any uint32 factor the derived
    ///      joules and milligrams then fit in int64.
    uint64 public constant MAX_WH_PER_HOUR = 1e9;
    /// @dev Bound on allocation periods per facility (stored as uint16).
    uint256 private constant MAX_PERIODS = type(uint16).max;

    /// @dev One slot: what a report reads and writes of its facility.
    struct FacilityState {
        uint40 lastPeriodEnd;       // end of the latest hour reported
        uint32 reportCount;         // reports stored, corrections included
        uint32 hoursReported;       // distinct hours with a report in force
        uint32 estimatedHours;      // of those, hours whose report in force flags estimated readings
        uint16 periodCount;         // allocation periods; period 0 starts at reportingStart
        uint40 latestPeriodStart;   // start of the newest allocation period
        uint32 loweredCorrections;  // corrections that lowered their hour's CO2 (credits review them)
    }

    struct Totals {
        int128 energyJ;
        int128 co2Mg;
    }

    /// @dev One slot per report: the signed figures. The root is a second slot: per hour for the
    ///      hour's first report (it also marks the hour reported), per index for a correction;
    ///      the correction links are written only for corrections. Energy and CO2 are derived
    ///      when read.
    struct PackedReport {
        uint40 periodStart;
        uint64 actualWh;
        uint64 benchmarkWh;
        uint16 readingCount;
        uint16 qualityFlags;
        uint16 methodologyVersion;
        uint16 factorYear;
        uint16 signerSetVersion;
    }

    struct Links {
        uint32 supersedes;      // 1 + index of the corrected report
        uint32 supersededBy;    // 1 + index of the correction
    }

    /// @dev The latest round only (one slot, overwritten): consumers read latestRoundData. Its
    ///      answer is computed when read: totals change only in a round (allocations apply to
    ///      unreported hours only), so the current totals are the latest round's.
    struct Round {
        uint40 startedAt;       // start of the latest hour reported in the round
        uint40 updatedAt;       // block time of the round
        uint48 roundId;
    }

    mapping(uint32 => Facility) private _facilities;
    uint32 private _facilityCount;

    mapping(uint32 => Methodology) private _methodologies;
    mapping(uint32 => mapping(uint16 => GridFactor)) private _gridFactors;
    uint32 private _methodologyCount;

    mapping(uint32 => address[]) private _signers;
    mapping(uint32 => uint8) private _thresholds;
    mapping(uint32 => mapping(address => uint256)) private _signerIndex; // 1-based
    uint32 private _signerSetVersion;

    mapping(uint32 => FacilityState) private _state;
    mapping(uint32 => mapping(uint256 => PackedReport)) private _reports;
    /// @dev facility => report index => readings root, for corrections only
    mapping(uint32 => mapping(uint256 => bytes32)) private _correctionRoots;
    /// @dev facility => hour's periodStart => readings root of the hour's first report (zero: unreported)
    mapping(uint32 => mapping(uint64 => bytes32)) private _hourRoots;
    mapping(uint32 => mapping(uint256 => Links)) private _links;
    /// @dev facility => allocation period => its start (period 0: reportingStart, not stored)
    mapping(uint32 => mapping(uint256 => uint40)) private _periodStarts;
    /// @dev facility => allocation period => the exact totals of its hours
    mapping(uint32 => mapping(uint256 => Totals)) private _periodTotals;
    /// @dev facility => bond => allocation versions, effectiveFrom non-decreasing
    mapping(uint32 => mapping(address => Allocation[])) private _allocations;

    uint32 private _heartbeat;
    Round private _round;
    address private immutable _feedBond;

    /// @param admin the issuer: DEFAULT_ADMIN_ROLE
    /// @param heartbeat_ expected maximum age of the last covered hour, seconds
    /// @param feedBond_ the bond whose attributable CO2 the Chainlink-style feed answers
    constructor(address admin, uint32 heartbeat_, address feedBond_) EIP712("GreenBondImpactOracle", "1") {
        if (admin == address(0)) revert OracleInvalidInput("admin");
        if (feedBond_ == address(0)) revert OracleInvalidInput("feedBond");
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _heartbeat = heartbeat_;
        _feedBond = feedBond_;
        emit HeartbeatSet(heartbeat_);
        emit FeedBondSet(feedBond_);
    }

    // ------------------------------------------------------------------ administration

    /// @notice Registers a facility the hub reports for; returns its id (issuer). It contributes
    ///         to a bond's impact only through that bond's allocations (`setAllocation`).
    function addFacility(
        FacilityKind kind,
        string calldata name,
        string calldata metadataURI,
        bytes32 metadataHash,
        uint64 maxWhPerHour,
        uint64 reportingStart
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint32 id) {
        if (bytes(name).length == 0) revert OracleInvalidInput("name");
        if (maxWhPerHour == 0 || maxWhPerHour > MAX_WH_PER_HOUR) revert OracleInvalidInput("maxWhPerHour");
        if (reportingStart % HOUR != 0) revert OraclePeriodNotAligned(reportingStart);
        if (reportingStart > type(uint40).max) revert OracleInvalidInput("reportingStart");
        id = ++_facilityCount;
        _facilities[id] = Facility(kind, true, maxWhPerHour, reportingStart, metadataHash, name, metadataURI);
        FacilityState storage st = _state[id];
        st.lastPeriodEnd = uint40(reportingStart);
        st.periodCount = 1;
        st.latestPeriodStart = uint40(reportingStart);
        emit FacilityAdded(id, kind, name, reportingStart);
        emit FacilityUpdated(id, metadataURI, metadataHash, maxWhPerHour, true);
    }

    /// @notice Updates a facility's metadata, bound and active flag (issuer).
    function updateFacility(uint32 id, string calldata metadataURI, bytes32 metadataHash, uint64 maxWhPerHour, bool active)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        Facility storage f = _facility(id);
        if (maxWhPerHour == 0 || maxWhPerHour > MAX_WH_PER_HOUR) revert OracleInvalidInput("maxWhPerHour");
        f.metadataURI = metadataURI;
        f.metadataHash = metadataHash;
        f.maxWhPerHour = maxWhPerHour;
        f.active = active;
        emit FacilityUpdated(id, metadataURI, metadataHash, maxWhPerHour, active);
    }

    /// @notice Appends an allocation version of `bond` to a facility (issuer): from the hour
    ///         `effectiveFrom` on, the bond's share of the facility's impact is
    ///         allocatedProceeds / financedCost. History is never rewritten: `effectiveFrom` may not
    ///         be before the end of the latest reported hour of the facility nor before its
    ///         newest allocation period, so no reported hour changes its share. Versions with the
    ///         same `effectiveFrom` follow each other; the last one applies.
    function setAllocation(
        uint32 facilityId,
        address bond,
        uint256 allocatedProceeds,
        uint256 financedCost,
        uint64 effectiveFrom
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _facility(facilityId);
        if (bond == address(0)) revert OracleInvalidInput("bond");
        if (financedCost == 0 || allocatedProceeds > financedCost || financedCost > type(uint104).max) {
            revert OracleBadAllocation(allocatedProceeds, financedCost);
        }
        if (effectiveFrom % HOUR != 0) revert OraclePeriodNotAligned(effectiveFrom);
        FacilityState storage st = _state[facilityId];
        uint64 earliest = st.lastPeriodEnd > st.latestPeriodStart ? st.lastPeriodEnd : st.latestPeriodStart;
        if (effectiveFrom < earliest) revert OracleAllocationBackdated(facilityId, effectiveFrom, earliest);
        if (effectiveFrom > type(uint40).max) revert OracleInvalidInput("effectiveFrom");
        if (effectiveFrom > st.latestPeriodStart) {
            if (st.periodCount == MAX_PERIODS) revert OracleInvalidInput("periods");
            _periodStarts[facilityId][st.periodCount] = uint40(effectiveFrom);
            st.periodCount += 1;
            st.latestPeriodStart = uint40(effectiveFrom);
        }
        _allocations[facilityId][bond].push(
            Allocation(uint40(effectiveFrom), uint104(allocatedProceeds), uint104(financedCost))
        );
        uint256 version = _allocations[facilityId][bond].length - 1;
        emit AllocationRecorded(facilityId, bond, version, effectiveFrom, allocatedProceeds, financedCost);
    }

    /// @notice Appends a methodology version with its grid factors; never overwrites (issuer).
    ///         A restated factor is published as a new version.
    function addMethodology(
        bytes32 benchmarkModelId,
        uint32 benchmarkModelVersion,
        uint32 primaryEnergyFactor,
        string calldata sourceURI,
        bytes32 sourceHash,
        FactorInput[] calldata factors
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint32 newVersion) {
        if (factors.length == 0) revert OracleInvalidInput("factors");
        if (primaryEnergyFactor == 0) revert OracleInvalidInput("primaryEnergyFactor");
        if (benchmarkModelId == bytes32(0)) revert OracleInvalidInput("benchmarkModelId");
        if (_methodologyCount == type(uint16).max) revert OracleInvalidInput("methodologyVersion"); // stored as uint16
        newVersion = ++_methodologyCount;
        _methodologies[newVersion] = Methodology(
            benchmarkModelId, benchmarkModelVersion, primaryEnergyFactor, uint64(block.timestamp), sourceURI, sourceHash
        );
        emit MethodologyAdded(newVersion, benchmarkModelId, benchmarkModelVersion, primaryEnergyFactor, sourceURI, sourceHash);
        for (uint256 i = 0; i < factors.length; ++i) {
            FactorInput calldata fi = factors[i];
            GridFactor storage g = _gridFactors[newVersion][fi.year];
            if (g.exists || fi.gramsPerKWh == 0) revert OracleInvalidInput("factors");
            g.gramsPerKWh = fi.gramsPerKWh;
            g.isFinal = fi.isFinal;
            g.exists = true;
            g.source = fi.source;
            emit GridFactorRecorded(newVersion, fi.year, fi.gramsPerKWh, fi.isFinal, fi.source);
        }
    }

    /// @notice Replaces the signer set with a new version; reports must name it (issuer).
    function setSigners(address[] calldata signers, uint8 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = signers.length;
        if (threshold == 0 || threshold > n || n > 255) revert OracleBadSignerSet();
        if (_signerSetVersion == type(uint16).max) revert OracleBadSignerSet(); // stored as uint16
        uint32 setVersion = ++_signerSetVersion;
        for (uint256 i = 0; i < n; ++i) {
            address s = signers[i];
            if (s == address(0) || _signerIndex[setVersion][s] != 0) revert OracleBadSignerSet();
            _signerIndex[setVersion][s] = i + 1;
        }
        _signers[setVersion] = signers;
        _thresholds[setVersion] = threshold;
        emit SignerSetChanged(setVersion, signers, threshold);
    }

    /// @notice Sets the heartbeat used by `staleness` (issuer).
    function setHeartbeat(uint32 heartbeat_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _heartbeat = heartbeat_;
        emit HeartbeatSet(heartbeat_);
    }

    // ------------------------------------------------------------------ reports

    /// @inheritdoc IImpactOracle
    function submitReports(HourlyReport[] calldata reports, Signature[][] calldata signatures)
        external
        onlyRole(TRANSMITTER_ROLE)
    {
        if (reports.length != signatures.length) revert OracleLengthMismatch(reports.length, signatures.length);
        if (reports.length == 0) revert OracleInvalidInput("reports");
        // slither-disable-next-line uninitialized-local
        uint64 latestStart;
        for (uint256 i = 0; i < reports.length; ++i) {
            _accept(reports[i], signatures[i]);
            if (reports[i].periodStart > latestStart) latestStart = reports[i].periodStart;
        }
        _round = Round(uint40(latestStart), uint40(block.timestamp), _round.roundId + 1);
    }

    /// @inheritdoc IImpactOracle
    function reportDigest(HourlyReport calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    HOURLY_REPORT_TYPEHASH,
                    r.facilityId,
                    r.periodStart,
                    r.actualWh,
                    r.benchmarkWh,
                    r.readingCount,
                    r.qualityFlags,
                    r.readingsRoot,
                    r.methodologyVersion,
                    r.factorYear,
                    r.signerSetVersion,
                    r.supersedes
                )
            )
        );
    }

    function _accept(HourlyReport calldata r, Signature[] calldata sigs) private {
        (int256 reductionWh, uint32 primaryEnergyFactor, uint32 gramsPerKWh) = _validate(r);
        // signatures last among the checks: the most expensive
        _checkSignatures(reportDigest(r), sigs, r.signerSetVersion);
        _store(
            r,
            SafeCast.toInt64(reductionWh * int256(uint256(primaryEnergyFactor))),
            SafeCast.toInt64(reductionWh * int256(uint256(gramsPerKWh)))
        );
    }

    /// @dev Checks in a fixed order; returns the hour's reduction in Wh and the factors to convert it.
    function _validate(HourlyReport calldata r)
        private
        view
        returns (int256 reductionWh, uint32 primaryEnergyFactor, uint32 gramsPerKWh)
    {
        // 1. signer set
        uint32 setVersion = _signerSetVersion;
        if (r.signerSetVersion != setVersion || setVersion == 0) revert OracleWrongSignerSet(r.signerSetVersion, setVersion);
        // 2. methodology and its factor for the year
        primaryEnergyFactor = _methodologies[r.methodologyVersion].primaryEnergyFactor;
        // slither-disable-next-line incorrect-equality
        if (primaryEnergyFactor == 0) revert OracleUnknownMethodology(r.methodologyVersion);
        GridFactor storage g = _gridFactors[r.methodologyVersion][r.factorYear];
        if (!g.exists) revert OracleUnknownFactorYear(r.methodologyVersion, r.factorYear);
        gramsPerKWh = g.gramsPerKWh;
        // 3. facility
        Facility storage f = _facility(r.facilityId);
        if (!f.active) revert OracleFacilityInactive(r.facilityId);
        // 4. period: aligned, closed, not yet reported (or a valid correction of the same hour)
        if (r.periodStart % HOUR != 0) revert OraclePeriodNotAligned(r.periodStart);
        if (r.periodStart + HOUR > block.timestamp) revert OraclePeriodNotClosed(r.periodStart, block.timestamp);
        if (r.periodStart < f.reportingStart) revert OraclePeriodBeforeStart(r.periodStart, f.reportingStart);
        FacilityState storage st = _state[r.facilityId];
        if (r.supersedes == 0) {
            if (_hourRoots[r.facilityId][r.periodStart] != 0) revert OracleHourAlreadyReported(r.facilityId, r.periodStart);
        } else {
            if (r.supersedes > st.reportCount) revert OracleBadCorrection(r.facilityId, r.supersedes);
            uint256 target = r.supersedes - 1;
            if (_links[r.facilityId][target].supersededBy != 0 || _reports[r.facilityId][target].periodStart != r.periodStart) {
                revert OracleBadCorrection(r.facilityId, r.supersedes);
            }
        }
        // 5. bounds
        if (r.actualWh > f.maxWhPerHour) revert OracleOutOfBounds("actualWh", r.actualWh, f.maxWhPerHour);
        if (r.benchmarkWh > f.maxWhPerHour) revert OracleOutOfBounds("benchmarkWh", r.benchmarkWh, f.maxWhPerHour);
        if (r.readingCount == 0) revert OracleOutOfBounds("readingCount", 0, 1);
        if (r.readingsRoot == bytes32(0)) revert OracleInvalidInput("readingsRoot");
        if (f.kind == FacilityKind.BuildingEfficiency) {
            reductionWh = int256(uint256(r.benchmarkWh)) - int256(uint256(r.actualWh));
        } else {
            if (r.benchmarkWh != 0) revert OracleOutOfBounds("benchmarkWh", r.benchmarkWh, 0);
            reductionWh = int256(uint256(r.actualWh));
        }
    }

    /// @dev Stores the report, marks its hour reported and moves its allocation period's totals
    ///      (a correction replaces what it supersedes).
    function _store(HourlyReport calldata r, int64 energyJ, int64 co2Mg) private {
        FacilityState storage st = _state[r.facilityId];
        uint32 index = st.reportCount;
        _reports[r.facilityId][index] = PackedReport({
            periodStart: uint40(r.periodStart),
            actualWh: r.actualWh,
            benchmarkWh: r.benchmarkWh,
            readingCount: r.readingCount,
            qualityFlags: r.qualityFlags,
            methodologyVersion: uint16(r.methodologyVersion),
            factorYear: r.factorYear,
            signerSetVersion: uint16(r.signerSetVersion)
        });
        st.reportCount = index + 1;
        int128 dJ = energyJ;
        int128 dMg = co2Mg;
        if (r.supersedes == 0) {
            _markReported(r, st);
        } else {
            (int64 oldJ, int64 oldMg) = _supersede(r, st, index);
            dJ -= oldJ;
            dMg -= oldMg;
            if (co2Mg < oldMg) st.loweredCorrections += 1;
        }
        Totals storage pt = _periodTotals[r.facilityId][_periodOf(r.facilityId, st, r.periodStart)];
        pt.energyJ += dJ;
        pt.co2Mg += dMg;
        emit ReportAccepted(r.facilityId, index, r.periodStart, energyJ, co2Mg, r.readingsRoot, r.methodologyVersion, r.supersedes);
    }

    /// @dev A new hour: its root (which marks it reported), the coverage counters and the latest
    ///      reported hour.
    function _markReported(HourlyReport calldata r, FacilityState storage st) private {
        _hourRoots[r.facilityId][r.periodStart] = r.readingsRoot;
        st.hoursReported += 1;
        if (r.qualityFlags & 1 != 0) st.estimatedHours += 1;
        uint64 end = r.periodStart + HOUR;
        if (end > st.lastPeriodEnd) st.lastPeriodEnd = uint40(end);
    }

    /// @dev A correction: links it to the report it supersedes (stored as `index`), moves the
    ///      estimated-hours count, and returns the superseded figures.
    function _supersede(HourlyReport calldata r, FacilityState storage st, uint32 index)
        private
        returns (int64 oldJ, int64 oldMg)
    {
        uint256 target = r.supersedes - 1;
        _correctionRoots[r.facilityId][index] = r.readingsRoot;
        _links[r.facilityId][index].supersedes = r.supersedes;
        _links[r.facilityId][target].supersededBy = index + 1;
        PackedReport memory old = _reports[r.facilityId][target];
        (oldJ, oldMg) = _derived(r.facilityId, old);
        bool estimated = r.qualityFlags & 1 != 0;
        bool wasEstimated = old.qualityFlags & 1 != 0;
        if (estimated && !wasEstimated) st.estimatedHours += 1;
        if (!estimated && wasEstimated) st.estimatedHours -= 1;
    }

    /// @dev Energy (J) and CO2 (mg) of a stored report from its Wh figures and its methodology.
    function _derived(uint32 facilityId, PackedReport memory p) private view returns (int64 energyJ, int64 co2Mg) {
        int256 reductionWh = _facilities[facilityId].kind == FacilityKind.BuildingEfficiency
            ? int256(uint256(p.benchmarkWh)) - int256(uint256(p.actualWh))
            : int256(uint256(p.actualWh));
        energyJ = SafeCast.toInt64(reductionWh * int256(uint256(_methodologies[p.methodologyVersion].primaryEnergyFactor)));
        co2Mg = SafeCast.toInt64(reductionWh * int256(uint256(_gridFactors[p.methodologyVersion][p.factorYear].gramsPerKWh)));
    }

    function _checkSignatures(bytes32 digest, Signature[] calldata sigs, uint32 setVersion) private view {
        uint256 threshold = _thresholds[setVersion];
        if (sigs.length < threshold) revert OracleTooFewSignatures(sigs.length, threshold);
        // slither-disable-next-line uninitialized-local
        uint256 seen;
        for (uint256 i = 0; i < sigs.length; ++i) {
            address signer = ECDSA.recover(digest, sigs[i].r, sigs[i].vs);
            uint256 idx = _signerIndex[setVersion][signer];
            if (idx == 0) revert OracleNotASigner(signer);
            uint256 bit = 1 << idx;
            if (seen & bit != 0) revert OracleDuplicateSigner(signer);
            seen |= bit;
        }
    }

    // ------------------------------------------------------------------ reads

    /// @inheritdoc IImpactOracle
    function facilityCount() external view returns (uint32) {
        return _facilityCount;
    }

    /// @inheritdoc IImpactOracle
    function facility(uint32 id) external view returns (Facility memory) {
        return _facility(id);
    }

    /// @inheritdoc IImpactOracle
    function methodologyCount() external view returns (uint32) {
        return _methodologyCount;
    }

    /// @inheritdoc IImpactOracle
    function methodology(uint32 methodologyVersion) external view returns (Methodology memory) {
        if (methodologyVersion == 0 || methodologyVersion > _methodologyCount) {
            revert OracleUnknownMethodology(methodologyVersion);
        }
        return _methodologies[methodologyVersion];
    }

    /// @inheritdoc IImpactOracle
    function gridFactor(uint32 methodologyVersion, uint16 year) external view returns (GridFactor memory) {
        GridFactor memory g = _gridFactors[methodologyVersion][year];
        if (!g.exists) revert OracleUnknownFactorYear(methodologyVersion, year);
        return g;
    }

    /// @inheritdoc IImpactOracle
    function signerSetVersion() external view returns (uint32) {
        return _signerSetVersion;
    }

    /// @inheritdoc IImpactOracle
    function signerSet(uint32 setVersion) external view returns (address[] memory, uint8) {
        return (_signers[setVersion], _thresholds[setVersion]);
    }

    /// @inheritdoc IImpactOracle
    function reportCount(uint32 facilityId) external view returns (uint256) {
        return _state[facilityId].reportCount;
    }

    /// @inheritdoc IImpactOracle
    function report(uint32 facilityId, uint256 index) public view returns (StoredReport memory out) {
        if (index >= _state[facilityId].reportCount) revert OracleUnknownReport(facilityId, index);
        PackedReport memory p = _reports[facilityId][index];
        Links memory l = _links[facilityId][index];
        (int64 energyJ, int64 co2Mg) = _derived(facilityId, p);
        out = StoredReport({
            periodStart: p.periodStart,
            actualWh: p.actualWh,
            benchmarkWh: p.benchmarkWh,
            readingCount: p.readingCount,
            qualityFlags: p.qualityFlags,
            energyReductionJ: energyJ,
            co2AvoidedMg: co2Mg,
            methodologyVersion: p.methodologyVersion,
            factorYear: p.factorYear,
            signerSetVersion: p.signerSetVersion,
            supersedes: l.supersedes,
            supersededBy: l.supersededBy,
            readingsRoot: _rootOf(facilityId, index, p.periodStart, l.supersedes)
        });
    }

    /// @inheritdoc IImpactOracle
    function latestReport(uint32 facilityId) external view returns (uint256 index, StoredReport memory) {
        uint256 n = _state[facilityId].reportCount;
        if (n == 0) revert OracleUnknownReport(facilityId, 0);
        index = n - 1;
        return (index, report(facilityId, index));
    }

    /// @inheritdoc IImpactOracle
    function lastPeriodEnd(uint32 facilityId) external view returns (uint64) {
        _facility(facilityId);
        return _state[facilityId].lastPeriodEnd;
    }

    /// @inheritdoc IImpactOracle
    function isReported(uint32 facilityId, uint64 periodStart) external view returns (bool) {
        _facility(facilityId);
        return _hourRoots[facilityId][periodStart] != 0;
    }

    /// @inheritdoc IImpactOracle
    function firstRoot(uint32 facilityId, uint64 periodStart) external view returns (bytes32) {
        _facility(facilityId);
        return _hourRoots[facilityId][periodStart];
    }

    /// @inheritdoc IImpactOracle
    function reportedHoursWord(uint32 facilityId, uint256 word) external view returns (uint256 bits) {
        Facility storage f = _facility(facilityId);
        if (word > type(uint64).max / (256 * HOUR)) return 0;
        uint64 first = f.reportingStart + uint64(word) * 256 * HOUR;
        for (uint256 b = 0; b < 256; ++b) {
            if (_hourRoots[facilityId][first + uint64(b) * HOUR] != 0) bits |= 1 << b;
        }
    }

    /// @inheritdoc IImpactOracle
    function coverage(uint32 facilityId)
        public
        view
        returns (uint256 hoursReported, uint256 hoursElapsed, uint256 estimatedHours)
    {
        Facility storage f = _facility(facilityId);
        FacilityState storage st = _state[facilityId];
        hoursElapsed = block.timestamp > f.reportingStart ? (block.timestamp - f.reportingStart) / HOUR : 0;
        return (st.hoursReported, hoursElapsed, st.estimatedHours);
    }

    /// @inheritdoc IImpactOracle
    function loweredCorrections(uint32 facilityId) external view returns (uint256) {
        return _state[facilityId].loweredCorrections;
    }

    /// @inheritdoc IImpactOracle
    function facilityTotals(uint32 facilityId) external view returns (int256, int256, int256, int256) {
        _facility(facilityId);
        uint256 n = _state[facilityId].periodCount;
        // slither-disable-next-line uninitialized-local
        int256 j;
        // slither-disable-next-line uninitialized-local
        int256 mg;
        for (uint256 p = 0; p < n; ++p) {
            Totals storage t = _periodTotals[facilityId][p];
            j += t.energyJ;
            mg += t.co2Mg;
        }
        return _scaled(j, mg);
    }

    /// @inheritdoc IImpactOracle
    function allocations(uint32 facilityId, address bond) external view returns (Allocation[] memory) {
        _facility(facilityId);
        return _allocations[facilityId][bond];
    }

    /// @inheritdoc IImpactOracle
    function attributedTotals(uint32 facilityId, address bond) external view returns (int256, int256, int256, int256) {
        _facility(facilityId);
        (int256 j, int256 mg) = _attributed(facilityId, bond);
        return _scaled(j, mg);
    }

    /// @inheritdoc IImpactOracle
    function bondTotals(address bond) external view returns (int256, int256, int256, int256) {
        (int256 j, int256 mg) = _bondTotals(bond);
        return _scaled(j, mg);
    }

    /// @inheritdoc IImpactOracle
    function bondCoverage(address bond)
        external
        view
        returns (uint256 hoursReported, uint256 hoursElapsed, uint256 estimatedHours)
    {
        uint32 n = _facilityCount;
        for (uint32 id = 1; id <= n; ++id) {
            if (!_financedBy(id, bond)) continue;
            (uint256 r, uint256 e, uint256 est) = coverage(id);
            hoursReported += r;
            hoursElapsed += e;
            estimatedHours += est;
        }
    }

    /// @inheritdoc IImpactOracle
    function feedBond() external view returns (address) {
        return _feedBond;
    }

    /// @inheritdoc IImpactOracle
    function staleness(uint32 facilityId) external view returns (uint256 age, bool stale) {
        _facility(facilityId);
        uint64 end = _state[facilityId].lastPeriodEnd;
        age = block.timestamp > end ? block.timestamp - end : 0;
        stale = age > _heartbeat;
    }

    /// @inheritdoc IImpactOracle
    function heartbeat() external view returns (uint32) {
        return _heartbeat;
    }

    /// @inheritdoc IImpactOracle
    function verifyReading(uint32 facilityId, uint256 reportIndex, Reading calldata reading, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (reportIndex >= _state[facilityId].reportCount) revert OracleUnknownReport(facilityId, reportIndex);
        uint64 start = _reports[facilityId][reportIndex].periodStart;
        if (reading.facilityId != facilityId) return false;
        if (reading.intervalStart < start || reading.intervalStart >= start + HOUR) return false;
        bytes32 root = _rootOf(facilityId, reportIndex, start, _links[facilityId][reportIndex].supersedes);
        return MerkleProof.verifyCalldata(proof, root, readingLeaf(reading));
    }

    /// @inheritdoc IImpactOracle
    function readingLeaf(Reading calldata reading) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(reading.facilityId, reading.meterId, reading.intervalStart, reading.wh, reading.flags))
            )
        );
    }

    // ------------------------------------------------------------------ Chainlink-style feed

    /// @notice The feed's answer has no decimals: grams of CO2.
    function decimals() external pure returns (uint8) {
        return 0;
    }

    /// @notice What the feed reports.
    function description() external pure returns (string memory) {
        return "Green bond: cumulative CO2 avoided (g)";
    }

    /// @notice Feed version.
    function version() external pure returns (uint256 feedVersion) {
        return 1;
    }

    /// @notice AggregatorV3Interface: the feed bond's attributable CO2 avoided (grams) after
    ///         round `roundId`. Only the latest round is kept (one slot per submission,
    ///         overwritten), so earlier rounds revert; history is in the ReportAccepted events.
    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round memory rd = _round;
        // slither-disable-next-line incorrect-equality
        if (roundId == 0 || roundId != rd.roundId) revert OracleInvalidInput("roundId");
        (, int256 mg) = _bondTotals(_feedBond);
        return (roundId, mg / 1000, rd.startedAt, rd.updatedAt, roundId);
    }

    /// @notice AggregatorV3Interface: the latest round; consumers should check `updatedAt`.
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(_round.roundId);
    }

    // ------------------------------------------------------------------ internals

    function _facility(uint32 id) private view returns (Facility storage f) {
        if (id == 0 || id > _facilityCount) revert OracleUnknownFacility(id);
        f = _facilities[id];
    }

    function _scaled(int256 j, int256 mg) private pure returns (int256, int256, int256, int256) {
        return (j / 1e6, mg / 1000, j, mg);
    }

    /// @dev A report's readings root: per hour for an hour's first report, per index for a correction.
    function _rootOf(uint32 facilityId, uint256 index, uint64 periodStart, uint32 supersedes)
        private
        view
        returns (bytes32)
    {
        return supersedes == 0 ? _hourRoots[facilityId][periodStart] : _correctionRoots[facilityId][index];
    }

    /// @dev The allocation period holding the hour at `periodStart`: the newest one in the usual
    ///      case (no storage read), else a binary search over the period starts.
    function _periodOf(uint32 facilityId, FacilityState storage st, uint64 periodStart) private view returns (uint256) {
        uint256 n = st.periodCount;
        if (periodStart >= st.latestPeriodStart) return n - 1;
        uint256 lo = 0; // period 0 starts at reportingStart <= periodStart
        uint256 hi = n - 1; // starts after periodStart
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            if (_periodStarts[facilityId][mid] <= periodStart) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    /// @dev Sum over every facility of the share attributable to `bond`.
    function _bondTotals(address bond) private view returns (int256 j, int256 mg) {
        uint32 n = _facilityCount;
        for (uint32 id = 1; id <= n; ++id) {
            (int256 fj, int256 fmg) = _attributed(id, bond);
            j += fj;
            mg += fmg;
        }
    }

    /// @dev For each allocation period of the facility, its totals times the bond's allocation
    ///      in force at the period's start (allocated / financed cost), truncated toward zero.
    function _attributed(uint32 facilityId, address bond) private view returns (int256 j, int256 mg) {
        Allocation[] storage versions = _allocations[facilityId][bond];
        uint256 nv = versions.length;
        if (nv == 0) return (0, 0);
        uint256 np = _state[facilityId].periodCount;
        uint256 inForce = 0; // versions with effectiveFrom <= the period's start
        for (uint256 p = 0; p < np; ++p) {
            uint256 start = p == 0 ? _facilities[facilityId].reportingStart : _periodStarts[facilityId][p];
            while (inForce < nv && versions[inForce].effectiveFrom <= start) ++inForce;
            if (inForce == 0) continue;
            Allocation storage a = versions[inForce - 1];
            if (a.allocatedProceeds == 0) continue;
            Totals storage t = _periodTotals[facilityId][p];
            j += int256(t.energyJ) * int256(uint256(a.allocatedProceeds)) / int256(uint256(a.financedCost));
            mg += int256(t.co2Mg) * int256(uint256(a.allocatedProceeds)) / int256(uint256(a.financedCost));
        }
    }

    /// @dev True when `bond` has a non-zero allocation to the facility in any version.
    function _financedBy(uint32 facilityId, address bond) private view returns (bool) {
        Allocation[] storage versions = _allocations[facilityId][bond];
        for (uint256 v = 0; v < versions.length; ++v) {
            if (versions[v].allocatedProceeds != 0) return true;
        }
        return false;
    }
}
