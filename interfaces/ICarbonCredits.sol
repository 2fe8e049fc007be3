// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICarbonCredits
/// @notice Carbon credits issued from the avoided CO2 that the ImpactOracle's hourly reports
///         prove. ERC-1155: one token id per batch; one unit is one kilogram of CO2e. The
///         hierarchy of the established on-chain registries: the class is the oracle's
///         methodology, the project a facility, the batch one facility over one monitoring
///         period (its vintage).
///
///         A batch is built from the oracle's reports in force: the issuer proposes a period, adds
///         the reports in hour order (in as many transactions as it takes; each hour it skips must
///         be unreported), and seals it; a verifier (another account) approves it, naming the
///         verification document's hash; the issuer then mints it. Every hour a batch takes is
///         marked credited here, so no hour is credited twice, and the reports a batch took are the
///         leaves of a Merkle root the contract computes, so each credit is traceable to a report
///         and, through the report's readings root, to a single meter reading.
///
///         A correction on the oracle that lowers a credited hour holds the facility's issuance
///         until the verifier resolves it; the CO2 over-credited is deducted from the facility's
///         next batch. Retiring credits burns them (they never move again) and records a
///         certificate anyone can look up.
interface ICarbonCredits {
    enum BatchStatus {
        None,
        Draft,      // reports being added
        Sealed,     // every reported hour of the period taken; awaiting the verifier
        Approved,   // the verifier approved it; the issuer may mint it
        Issued,     // minted
        Cancelled   // withdrawn or rejected before issuance; its hours are free again
    }

    /// @notice A batch as stored.
    struct Batch {
        uint32 facilityId;
        BatchStatus status;
        uint32 methodologyVersion;   // every report of the batch uses this methodology version...
        uint16 factorYear;           // ...and this grid factor year
        uint64 periodStart;          // monitoring period [periodStart, periodEnd), whole hours
        uint64 periodEnd;
        uint64 cursor;               // hours before this have been taken (while a draft)
        uint32 hoursCredited;        // reports taken (one per hour)
        uint32 estimatedHours;       // of those, reports that flag estimated readings
        int128 co2Mg;                // net CO2 avoided of the reports taken, milligrams
        uint128 deductedMg;          // over-credited CO2 of earlier batches deducted from this one
        uint64 quantityKg;           // credits: floor((co2Mg - deductedMg) / 1e6), set when sealed
        uint64 firstSerial;          // serials firstSerial .. firstSerial + quantityKg - 1 (issued)
        address proposer;
        address verifier;
        bytes32 verificationDocHash; // keccak256 of the verification report
        bytes32 reportsRoot;         // Merkle root over the reports taken (see reportLeaf)
        string externalRef;          // optional: the unit at an external registry (e.g. J-Credit)
    }

    /// @notice A retirement's certificate.
    struct Certificate {
        uint256 batchId;
        uint64 amountKg;
        uint64 retiredAt;            // block time
        uint64 consumptionStart;     // the period of emissions the retirement offsets
        uint64 consumptionEnd;
        address retiree;             // the wallet whose credits were retired
        string beneficiary;          // who claims the reduction
        string reason;
    }

    /// @notice A facility's credit books: over-credited CO2 waiting to be deducted, corrections of
    ///         the oracle reviewed, and whether issuance is held.
    struct FacilityBook {
        uint128 shortfallMg;         // lowered credited CO2 not yet deducted from a batch
        uint32 reviewedLowerings;    // lowering corrections reviewed (see reviewCorrections)
        uint64 creditedUntil;        // end of the facility's newest batch that is not cancelled
        bool held;                   // a credited hour was lowered; the verifier must resolve it
    }

    event BatchProposed(
        uint256 indexed batchId,
        uint32 indexed facilityId,
        uint64 periodStart,
        uint64 periodEnd,
        uint32 methodologyVersion,
        uint16 factorYear,
        address proposer,
        string externalRef
    );
    /// @notice Reports were taken into a draft batch; `reportIndexes` are the oracle's indexes.
    event ReportsCredited(uint256 indexed batchId, uint256[] reportIndexes, int256 co2Mg, bytes32 reportsRoot);
    event BatchSealed(
        uint256 indexed batchId,
        uint32 hoursCredited,
        uint32 estimatedHours,
        int256 co2Mg,
        uint256 deductedMg,
        uint256 quantityKg,
        bytes32 reportsRoot
    );
    event BatchApproved(uint256 indexed batchId, address indexed verifier, bytes32 verificationDocHash);
    event BatchCancelled(uint256 indexed batchId, address indexed by, bytes32 reasonDocHash);
    event BatchIssued(uint256 indexed batchId, address indexed to, uint256 quantityKg, uint256 firstSerial, uint256 lastSerial);
    event ExternalRefSet(uint256 indexed batchId, string externalRef);
    event CreditsRetired(
        uint256 indexed certificateId,
        uint256 indexed batchId,
        address indexed retiree,
        uint256 amountKg,
        string beneficiary,
        string reason,
        uint64 consumptionStart,
        uint64 consumptionEnd
    );
    /// @notice A correction on the oracle lowered an hour; `credited` says whether a batch had it.
    event CorrectionReviewed(
        uint32 indexed facilityId, uint256 indexed correctionIndex, uint64 periodStart, int256 creditedMg, int256 newMg, bool credited
    );
    event IssuanceHeld(uint32 indexed facilityId, uint256 shortfallMg);
    event HoldResolved(uint32 indexed facilityId, address indexed verifier, bytes32 resolutionDocHash, uint256 shortfallMg);
    /// @notice ERC-3643's name for a freeze or unfreeze.
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);
    event ForcedTransfer(address indexed agent, address indexed from, address indexed to, uint256 batchId, uint256 amountKg);

    error CreditsUnknownBatch(uint256 batchId);
    error CreditsWrongStatus(uint256 batchId, BatchStatus status);
    error CreditsBadPeriod(uint64 periodStart, uint64 periodEnd);
    error CreditsPeriodOverlaps(uint32 facilityId, uint64 periodStart, uint64 creditedUntil);
    error CreditsReportNotInForce(uint32 facilityId, uint256 reportIndex);
    error CreditsReportOutOfOrder(uint256 reportIndex, uint64 periodStart, uint64 cursor, uint64 periodEnd);
    error CreditsReportMismatch(uint256 reportIndex, uint32 methodologyVersion, uint16 factorYear);
    error CreditsHourSkipped(uint32 facilityId, uint64 periodStart);
    error CreditsHourAlreadyCredited(uint32 facilityId, uint64 periodStart);
    error CreditsCoverageTooLow(uint256 hoursCredited, uint256 hoursInPeriod, uint256 minCoveragePpm);
    error CreditsNothingToIssue(int256 co2Mg, uint256 deductedMg);
    error CreditsUnreviewedCorrections(uint32 facilityId, uint256 lowerings, uint256 reviewed);
    error CreditsIssuanceHeld(uint32 facilityId);
    error CreditsNotHeld(uint32 facilityId);
    error CreditsNotALowering(uint32 facilityId, uint256 reportIndex);
    error CreditsAlreadyReviewed(uint32 facilityId, uint256 reportIndex);
    error CreditsSameAccount(address account);
    error CreditsRoleConflict(address account, bytes32 role);
    error CreditsNotEligible(address wallet);
    error CreditsFrozen(address wallet);
    error CreditsUnknownCertificate(uint256 certificateId);
    error CreditsInvalidInput(bytes32 field);

    /// @notice Opens a draft batch for `facilityId` over whole closed hours [periodStart, periodEnd)
    ///         after the facility's previous batch (issuer).
    function proposeBatch(
        uint32 facilityId,
        uint64 periodStart,
        uint64 periodEnd,
        uint32 methodologyVersion,
        uint16 factorYear,
        string calldata externalRef
    ) external returns (uint256 batchId);
    /// @notice Takes oracle reports into a draft, in strictly increasing hour order from where the
    ///         last call stopped; each must be in force and each hour passed over unreported, and
    ///         every lowering correction of the facility reviewed first (issuer).
    function addReports(uint256 batchId, uint256[] calldata reportIndexes) external;
    /// @notice Closes a draft: the hours after the last report taken must be unreported, coverage at
    ///         least `minCoveragePpm`; sets the quantity, deducting the facility's shortfall (issuer).
    function sealBatch(uint256 batchId) external;
    /// @notice Approves a sealed batch (verifier, not its proposer).
    function approveBatch(uint256 batchId, bytes32 verificationDocHash) external;
    /// @notice Withdraws (issuer) or rejects (verifier) a batch not yet issued; frees its hours.
    function cancelBatch(uint256 batchId, bytes32 reasonDocHash) external;
    /// @notice Mints an approved batch to `to` (issuer, not the batch's verifier).
    function issueBatch(uint256 batchId, address to) external;
    /// @notice Sets a batch's external registry reference before issuance (issuer).
    function setExternalRef(uint256 batchId, string calldata externalRef) external;
    /// @notice Retires the caller's credits of a batch for a beneficiary: burns them and records a
    ///         certificate; returns its id.
    function retire(
        uint256 batchId,
        uint256 amountKg,
        string calldata beneficiary,
        string calldata reason,
        uint64 consumptionStart,
        uint64 consumptionEnd
    ) external returns (uint256 certificateId);
    /// @notice Reviews corrections on the oracle that lowered an hour's CO2 (anyone): a lowered
    ///         credited hour adds to the facility's shortfall and holds its issuance.
    function reviewCorrections(uint32 facilityId, uint256[] calldata correctionIndexes) external;
    /// @notice Lifts a facility's hold once the verifier has looked at the corrections (verifier).
    function resolveHold(uint32 facilityId, bytes32 resolutionDocHash) external;

    /// @notice Stops every transfer, issuance and retirement (agent).
    function pause() external;
    /// @notice Lifts the pause (agent).
    function unpause() external;
    /// @notice Freezes or unfreezes a wallet (agent).
    function setAddressFrozen(address userAddress, bool freeze) external;
    /// @notice Moves credits whatever the freeze (agent); the receiver must still be allowed.
    function forcedTransfer(address from, address to, uint256 batchId, uint256 amountKg) external;

    /// @notice The ImpactOracle the credits are issued from.
    function oracle() external view returns (address);
    /// @notice The holder registry gating transfers, or zero when credits move freely.
    function registry() external view returns (address);
    /// @notice Minimum share of a period's hours a batch must take, parts per million.
    function minCoveragePpm() external view returns (uint32);
    /// @notice Batches created (ids are 1..batchCount).
    function batchCount() external view returns (uint256);
    /// @notice Batch `batchId`.
    function batch(uint256 batchId) external view returns (Batch memory);
    /// @notice Units of a batch retired so far.
    function retiredOf(uint256 batchId) external view returns (uint256);
    /// @notice Certificates recorded (ids are 1..certificateCount).
    function certificateCount() external view returns (uint256);
    /// @notice Certificate `certificateId`.
    function certificate(uint256 certificateId) external view returns (Certificate memory);
    /// @notice A facility's credit books.
    function facilityBook(uint32 facilityId) external view returns (FacilityBook memory);
    /// @notice True when the hour starting at `periodStart` of a facility is taken by a batch.
    function isCredited(uint32 facilityId, uint64 periodStart) external view returns (bool);
    /// @notice Net CO2 of the hours a facility's batches have taken (cancelled batches excluded), mg.
    function creditedMg(uint32 facilityId) external view returns (int256);
    /// @notice True when frozen.
    function isFrozen(address userAddress) external view returns (bool);
    /// @notice The Merkle leaf of a report taken into a batch (StandardMerkleTree style:
    ///         keccak256(keccak256(abi.encode(facilityId, reportIndex, periodStart, readingsRoot, co2Mg)))).
    function reportLeaf(uint32 facilityId, uint256 reportIndex, uint64 periodStart, bytes32 readingsRoot, int64 co2Mg)
        external
        pure
        returns (bytes32);
    /// @notice True when the leaf of a report is under batch `batchId`'s reports root.
    function verifyBatchReport(
        uint256 batchId,
        uint256 reportIndex,
        uint64 periodStart,
        bytes32 readingsRoot,
        int64 co2Mg,
        bytes32[] calldata proof
    ) external view returns (bool);
}
