// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IImpactOracle
/// @notice Hourly environmental impact of the bond's financed facilities: energy reduction and
///         CO2 avoided versus a benchmark, computed off chain by a versioned methodology from meter
///         readings, signed (EIP-712) by k of n data signers, and sent by an authorised transmitter.
///         Each report carries the Merkle root of its raw readings, so any reading can be checked.
///         Replay protection is per hour: a report is accepted for any closed hour of a facility
///         that has none yet (in any order, so gaps can be filled later), and a reported hour
///         changes only through a correction. A bond's impact is its share of each facility: the
///         facility's figures times allocated proceeds / financed cost (ICMA's "share
///         attributable"), by append-only allocation versions that apply from a given hour.
interface IImpactOracle {
    /// @notice What a facility is: its impact is measured differently.
    enum FacilityKind {
        BuildingEfficiency,   // reduction = benchmark - actual purchased electricity
        RenewableGeneration   // reduction = electricity generated (benchmark is zero)
    }

    struct Facility {
        FacilityKind kind;
        bool active;
        uint64 maxWhPerHour;       // bound on any hourly energy figure it reports
        uint64 reportingStart;     // no report may cover time before this
        bytes32 metadataHash;      // keccak256 of the metadata document
        string name;
        string metadataURI;
    }

    struct Methodology {
        bytes32 benchmarkModelId;      // e.g. "office-profile" (ASCII, right-padded)
        uint32 benchmarkModelVersion;
        uint32 primaryEnergyFactor;    // kJ of primary energy per kWh of electricity (9.76 MJ/kWh = 9760)
        uint64 createdAt;
        string sourceURI;              // the versioned factor/benchmark data file it was built from
        bytes32 sourceHash;            // keccak256 of that file
    }

    struct GridFactor {
        uint32 gramsPerKWh;            // g-CO2 per kWh
        bool isFinal;                  // false: provisional, to be restated by a later version
        bool exists;
        string source;                 // where the figure comes from
    }

    /// @notice A grid factor as given to addMethodology.
    struct FactorInput {
        uint16 year;                   // fiscal year the factor applies to
        uint32 gramsPerKWh;
        bool isFinal;
        string source;
    }

    /// @notice One facility's figures for one hour, as signed by the data signers.
    struct HourlyReport {
        uint32 facilityId;
        uint64 periodStart;            // unix seconds, a multiple of 3600; the hour [start, start+3600)
        uint64 actualWh;               // building: purchased electricity; renewable: generation
        uint64 benchmarkWh;            // building: benchmark consumption; renewable: 0
        uint16 readingCount;           // raw readings under readingsRoot
        uint16 qualityFlags;           // bit 0 estimated readings, 1 coverage < 90%, 2 quarantined excluded
        bytes32 readingsRoot;          // StandardMerkleTree root of the raw readings
        uint32 methodologyVersion;
        uint16 factorYear;             // the grid factor's (fiscal) year
        uint32 signerSetVersion;
        uint32 supersedes;             // 0, or 1 + the index of the report this one corrects
    }

    /// @notice The proceeds of one bond allocated to a facility, from an hour on (append-only).
    ///         The bond's share of the facility's impact is allocatedProceeds / financedCost.
    struct Allocation {
        uint40 effectiveFrom;          // unix seconds, a multiple of 3600: applies to hours from here
        uint104 allocatedProceeds;     // settlement units (yen) of the bond allocated to the facility
        uint104 financedCost;          // the facility's total financed cost, same units (> 0)
    }

    /// @notice An EIP-2098 compact signature.
    struct Signature {
        bytes32 r;
        bytes32 vs;
    }

    /// @notice A stored report: the signed figures plus what the chain derived from them.
    struct StoredReport {
        uint64 periodStart;
        uint64 actualWh;
        uint64 benchmarkWh;
        uint16 readingCount;
        uint16 qualityFlags;
        int64 energyReductionJ;        // primary energy, joules (exact)
        int64 co2AvoidedMg;            // milligrams (exact)
        uint16 methodologyVersion;
        uint16 factorYear;
        uint16 signerSetVersion;
        uint32 supersedes;             // 0, or 1 + index of the corrected report
        uint32 supersededBy;           // 0, or 1 + index of the correction
        bytes32 readingsRoot;
    }

    /// @notice A raw meter reading, the leaf of a report's Merkle tree.
    struct Reading {
        uint32 facilityId;
        bytes32 meterId;               // ASCII, right-padded
        uint64 intervalStart;          // unix seconds of the 30-minute interval's start
        uint64 wh;                     // energy over the interval
        uint8 flags;                   // bit 0 estimated ('E'), bit 1 edited
    }

    event FacilityAdded(uint32 indexed facilityId, FacilityKind kind, string name, uint64 reportingStart);
    event FacilityUpdated(uint32 indexed facilityId, string metadataURI, bytes32 metadataHash, uint64 maxWhPerHour, bool active);
    event AllocationRecorded(
        uint32 indexed facilityId,
        address indexed bond,
        uint256 version,
        uint64 effectiveFrom,
        uint256 allocatedProceeds,
        uint256 financedCost
    );
    event FeedBondSet(address indexed bond);
    event MethodologyAdded(uint32 indexed version, bytes32 benchmarkModelId, uint32 benchmarkModelVersion, uint32 primaryEnergyFactor, string sourceURI, bytes32 sourceHash);
    event GridFactorRecorded(uint32 indexed version, uint16 indexed year, uint32 gramsPerKWh, bool isFinal, string source);
    event SignerSetChanged(uint32 indexed version, address[] signers, uint8 threshold);
    event HeartbeatSet(uint32 heartbeat);
    event ReportAccepted(
        uint32 indexed facilityId,
        uint256 indexed index,
        uint64 indexed periodStart,
        int64 energyReductionJ,
        int64 co2AvoidedMg,
        bytes32 readingsRoot,
        uint32 methodologyVersion,
        uint32 supersedes
    );

    error OracleUnknownFacility(uint32 facilityId);
    error OracleFacilityInactive(uint32 facilityId);
    error OracleUnknownMethodology(uint32 version);
    error OracleUnknownFactorYear(uint32 version, uint16 year);
    error OracleWrongSignerSet(uint32 given, uint32 current);
    error OracleBadSignerSet();
    error OracleTooFewSignatures(uint256 given, uint256 threshold);
    error OracleNotASigner(address recovered);
    error OracleDuplicateSigner(address signer);
    error OraclePeriodNotAligned(uint64 periodStart);
    error OraclePeriodNotClosed(uint64 periodStart, uint256 nowTimestamp);
    error OraclePeriodBeforeStart(uint64 periodStart, uint64 reportingStart);
    error OracleHourAlreadyReported(uint32 facilityId, uint64 periodStart);
    error OracleAllocationBackdated(uint32 facilityId, uint64 effectiveFrom, uint64 earliestAllowed);
    error OracleBadAllocation(uint256 allocatedProceeds, uint256 financedCost);
    error OracleBadCorrection(uint32 facilityId, uint32 supersedes);
    error OracleOutOfBounds(bytes32 field, uint256 value, uint256 bound);
    error OracleLengthMismatch(uint256 reports, uint256 signatureSets);
    error OracleUnknownReport(uint32 facilityId, uint256 index);
    error OracleInvalidInput(bytes32 field);

    /// @notice Number of facilities (ids are 1..facilityCount).
    function facilityCount() external view returns (uint32);
    /// @notice Facility `id`.
    function facility(uint32 id) external view returns (Facility memory);
    /// @notice The newest methodology version (0 if none).
    function methodologyCount() external view returns (uint32);
    /// @notice Methodology `version`.
    function methodology(uint32 version) external view returns (Methodology memory);
    /// @notice The grid factor of `year` in methodology `version`.
    function gridFactor(uint32 version, uint16 year) external view returns (GridFactor memory);
    /// @notice The current signer set version.
    function signerSetVersion() external view returns (uint32);
    /// @notice Signers and threshold of signer set `version`.
    function signerSet(uint32 version) external view returns (address[] memory signers, uint8 threshold);

    /// @notice Accepts hourly reports, each with at least `threshold` signatures (transmitter).
    function submitReports(HourlyReport[] calldata reports, Signature[][] calldata signatures) external;
    /// @notice The EIP-712 digest signers sign for `report`.
    function reportDigest(HourlyReport calldata report) external view returns (bytes32);

    /// @notice Reports stored for a facility (corrections included).
    function reportCount(uint32 facilityId) external view returns (uint256);
    /// @notice Report `index` of a facility.
    function report(uint32 facilityId, uint256 index) external view returns (StoredReport memory);
    /// @notice The most recently stored report of a facility.
    function latestReport(uint32 facilityId) external view returns (uint256 index, StoredReport memory);
    /// @notice End of the latest hour reported for a facility (its reportingStart before any
    ///         report). Earlier hours may still be missing: see `coverage` and `isReported`.
    function lastPeriodEnd(uint32 facilityId) external view returns (uint64);
    /// @notice True when the hour starting at `periodStart` has a report in force.
    function isReported(uint32 facilityId, uint64 periodStart) external view returns (bool);
    /// @notice The readings root of the first report of the hour starting at `periodStart`
    ///         (zero while the hour is unreported): evidence that a given report is on chain.
    function firstRoot(uint32 facilityId, uint64 periodStart) external view returns (bytes32);
    /// @notice 256 hours of a facility as a bitmap: bit b of word w is set when the hour starting
    ///         at reportingStart + (256 w + b) * 3600 is reported (a view for finding gaps).
    function reportedHoursWord(uint32 facilityId, uint256 word) external view returns (uint256);
    /// @notice Hours with a report in force, closed hours since the facility's reportingStart, and
    ///         reported hours whose report in force flags estimated readings (quality bit 0).
    function coverage(uint32 facilityId)
        external
        view
        returns (uint256 hoursReported, uint256 hoursElapsed, uint256 estimatedHours);
    /// @notice Corrections of a facility that lowered their hour's CO2 below the report they
    ///         superseded: carbon credits review each one (a credited hour lowered holds issuance).
    function loweredCorrections(uint32 facilityId) external view returns (uint256);
    /// @notice A facility's cumulative totals, whatever financed it, corrections applied.
    function facilityTotals(uint32 facilityId)
        external
        view
        returns (int256 energyReductionMJ, int256 co2AvoidedG, int256 energyReductionJ, int256 co2AvoidedMg);
    /// @notice Every allocation version of `bond` to a facility, oldest first.
    function allocations(uint32 facilityId, address bond) external view returns (Allocation[] memory);
    /// @notice The share of a facility's cumulative totals attributable to `bond`: for each
    ///         allocation period, the period's exact totals times allocatedProceeds / financedCost,
    ///         truncated toward zero; then summed. Corrections applied.
    function attributedTotals(uint32 facilityId, address bond)
        external
        view
        returns (int256 energyReductionMJ, int256 co2AvoidedG, int256 energyReductionJ, int256 co2AvoidedMg);
    /// @notice The bond's impact: `attributedTotals` summed over every facility (MJ and g are the
    ///         J and mg sums divided by 10^6 and 10^3, truncated toward zero).
    function bondTotals(address bond)
        external
        view
        returns (int256 energyReductionMJ, int256 co2AvoidedG, int256 energyReductionJ, int256 co2AvoidedMg);
    /// @notice Coverage summed over the facilities `bond` has a non-zero allocation to (in any version).
    function bondCoverage(address bond)
        external
        view
        returns (uint256 hoursReported, uint256 hoursElapsed, uint256 estimatedHours);
    /// @notice The bond whose attributable CO2 the Chainlink-style feed answers.
    function feedBond() external view returns (address);
    /// @notice Seconds since the end of the latest reported hour, and whether that exceeds the heartbeat.
    function staleness(uint32 facilityId) external view returns (uint256 age, bool stale);
    /// @notice Maximum expected gap between now and the last covered hour, seconds.
    function heartbeat() external view returns (uint32);

    /// @notice True when `reading` is under the Merkle root of report `reportIndex` of `facilityId`.
    function verifyReading(uint32 facilityId, uint256 reportIndex, Reading calldata reading, bytes32[] calldata proof)
        external
        view
        returns (bool);
    /// @notice The StandardMerkleTree leaf of a reading: keccak256(keccak256(abi.encode(...))).
    function readingLeaf(Reading calldata reading) external pure returns (bytes32);
}
