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
///         Also a Chainlink-style feed of the bond's total CO2 avoided (grams).
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

    struct FacilityState {
        uint64 lastPeriodEnd;
        uint32 reportCount;
    }

    struct Totals {
        int128 energyJ;
        int128 co2Mg;
    }

    /// @dev One slot per report: the signed figures. The root is a second slot; the correction
    ///      links are written only for corrections. Energy and CO2 are derived when read.
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

    /// @dev The latest round only (one slot, overwritten): consumers read latestRoundData.
    struct Round {
        int128 answer;          // bond total CO2 avoided, grams
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
    mapping(uint32 => mapping(uint256 => bytes32)) private _roots;
    mapping(uint32 => mapping(uint256 => Links)) private _links;
    mapping(uint32 => Totals) private _facilityTotals;
    Totals private _bondTotals;

    uint32 private _heartbeat;
    Round private _round;

    /// @param admin the issuer: DEFAULT_ADMIN_ROLE
    /// @param heartbeat_ expected maximum age of the last covered hour, seconds
    constructor(address admin, uint32 heartbeat_) EIP712("GreenBondImpactOracle", "1") {
        if (admin == address(0)) revert OracleInvalidInput("admin");
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _heartbeat = heartbeat_;
        emit HeartbeatSet(heartbeat_);
    }

    // ------------------------------------------------------------------ administration

    /// @notice Registers a facility the proceeds financed; returns its id (issuer).
    function addFacility(
        FacilityKind kind,
        string calldata name,
        string calldata metadataURI,
        bytes32 metadataHash,
        uint256 allocatedProceeds,
        uint64 maxWhPerHour,
        uint64 reportingStart
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint32 id) {
        if (bytes(name).length == 0) revert OracleInvalidInput("name");
        if (maxWhPerHour == 0 || maxWhPerHour > MAX_WH_PER_HOUR) revert OracleInvalidInput("maxWhPerHour");
        if (reportingStart % HOUR != 0) revert OraclePeriodNotAligned(reportingStart);
        id = ++_facilityCount;
        _facilities[id] = Facility(kind, true, maxWhPerHour, reportingStart, allocatedProceeds, metadataHash, name, metadataURI);
        _state[id].lastPeriodEnd = reportingStart;
        emit FacilityAdded(id, kind, name, allocatedProceeds);
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

    /// @notice Sets the proceeds allocated to a facility (issuer).
    function setAllocation(uint32 id, uint256 allocatedProceeds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _facility(id).allocatedProceeds = allocatedProceeds;
        emit AllocationSet(id, allocatedProceeds);
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
        _round = Round(_bondTotals.co2Mg / 1000, uint40(latestStart), uint40(block.timestamp), _round.roundId + 1);
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
        // 4. period: aligned, closed, forward only (or a valid correction of the same hour)
        if (r.periodStart % HOUR != 0) revert OraclePeriodNotAligned(r.periodStart);
        if (r.periodStart + HOUR > block.timestamp) revert OraclePeriodNotClosed(r.periodStart, block.timestamp);
        if (r.periodStart < f.reportingStart) revert OraclePeriodBeforeStart(r.periodStart, f.reportingStart);
        FacilityState storage st = _state[r.facilityId];
        if (r.supersedes == 0) {
            if (r.periodStart < st.lastPeriodEnd) revert OracleStaleReport(r.facilityId, r.periodStart, st.lastPeriodEnd);
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

    /// @dev Stores the report and moves the totals (a correction replaces what it supersedes).
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
        _roots[r.facilityId][index] = r.readingsRoot;
        st.reportCount = index + 1;
        int128 dJ = energyJ;
        int128 dMg = co2Mg;
        if (r.supersedes == 0) {
            st.lastPeriodEnd = r.periodStart + HOUR;
        } else {
            uint256 target = r.supersedes - 1;
            _links[r.facilityId][index].supersedes = r.supersedes;
            _links[r.facilityId][target].supersededBy = index + 1;
            (int64 oldJ, int64 oldMg) = _derived(r.facilityId, _reports[r.facilityId][target]);
            dJ -= oldJ;
            dMg -= oldMg;
        }
        Totals storage ft = _facilityTotals[r.facilityId];
        ft.energyJ += dJ;
        ft.co2Mg += dMg;
        _bondTotals.energyJ += dJ;
        _bondTotals.co2Mg += dMg;
        emit ReportAccepted(r.facilityId, index, r.periodStart, energyJ, co2Mg, r.readingsRoot, r.methodologyVersion, r.supersedes);
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
            readingsRoot: _roots[facilityId][index]
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
    function facilityTotals(uint32 facilityId) external view returns (int256, int256, int256, int256) {
        _facility(facilityId);
        return _scaled(_facilityTotals[facilityId]);
    }

    /// @inheritdoc IImpactOracle
    function bondTotals() external view returns (int256, int256, int256, int256) {
        return _scaled(_bondTotals);
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
        return MerkleProof.verifyCalldata(proof, _roots[facilityId][reportIndex], readingLeaf(reading));
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

    /// @notice AggregatorV3Interface: the bond's cumulative CO2 avoided after round `roundId`.
    ///         Only the latest round is kept (one slot per submission, overwritten), so earlier
    ///         rounds revert; history is in the ReportAccepted events.
    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round memory rd = _round;
        // slither-disable-next-line incorrect-equality
        if (roundId == 0 || roundId != rd.roundId) revert OracleInvalidInput("roundId");
        return (roundId, rd.answer, rd.startedAt, rd.updatedAt, roundId);
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

    function _scaled(Totals storage t) private view returns (int256, int256, int256, int256) {
        return (t.energyJ / 1e6, t.co2Mg / 1000, t.energyJ, t.co2Mg);
    }
}
