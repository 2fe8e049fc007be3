// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Utils} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Utils.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {MerkleTree} from "@openzeppelin/contracts/utils/structs/MerkleTree.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICarbonCredits} from "../interfaces/ICarbonCredits.sol";
import {IHolderRegistry} from "../interfaces/IHolderRegistry.sol";
import {IImpactOracle} from "../interfaces/IImpactOracle.sol";

/// @title CarbonCredits
/// @notice Carbon credits (ERC-1155, one token id per batch, one unit per kilogram of CO2e) issued
///         only from the ImpactOracle's hourly reports in force. See ICarbonCredits for the batch
///         life cycle. Roles: `ISSUER_ROLE` proposes, builds, seals and mints batches;
///         `VERIFIER_ROLE` approves or rejects them and resolves holds (no account holds both, and
///         a batch's verifier is never its proposer or its minter); `AGENT_ROLE` pauses, freezes
///         and forces transfers (ERC-3643's agent controls); `DEFAULT_ADMIN_ROLE` the roles.
///         With a holder registry, credits go only to its eligible wallets; without one they
///         move freely. The credited hours' marks live here, per oracle hour: the oracle's own code
///         is within a few hundred bytes of EIP-170's 24,576, so it keeps only a count of the
///         corrections that lowered an hour, and every one of those must be reviewed here before a
///         facility's next batch is sealed, approved or issued.
contract CarbonCredits is ICarbonCredits, ERC1155, AccessControl, Pausable {
    using BitMaps for BitMaps.BitMap;
    using MerkleTree for MerkleTree.Bytes32PushTree;

    /// @notice Role that proposes, builds, seals and mints batches.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role that approves or rejects batches and resolves holds.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Role that pauses, freezes wallets and forces transfers.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    /// @notice Depth of a batch's reports tree: at most 2**14 = 16,384 hours (682 days) a batch.
    uint8 public constant TREE_DEPTH = 14;
    uint64 private constant HOUR = 3600;
    int256 private constant MG_PER_KG = 1e6;

    IImpactOracle private immutable _oracle;
    IHolderRegistry private immutable _registry;
    uint32 private immutable _minCoveragePpm;

    mapping(uint256 batchId => Batch) private _batches;
    mapping(uint256 batchId => MerkleTree.Bytes32PushTree) private _trees;
    uint256 private _batchCount;
    uint256 private _nextSerial = 1;
    mapping(uint256 batchId => uint256) private _retired;
    mapping(uint256 certificateId => Certificate) private _certificates;
    uint256 private _certificateCount;
    mapping(uint32 facilityId => FacilityBook) private _books;
    mapping(uint32 facilityId => int256) private _creditedMg;
    /// @dev facility => hour number (periodStart / 3600) => taken by a batch
    mapping(uint32 facilityId => BitMaps.BitMap) private _creditedHours;
    /// @dev facility => oracle report index => lowering correction reviewed
    // slither-disable-next-line uninitialized-state
    mapping(uint32 facilityId => BitMaps.BitMap) private _reviewed;
    mapping(address wallet => bool) private _frozen;
    bool private _forcing;

    /// @param admin receives DEFAULT_ADMIN_ROLE, ISSUER_ROLE and AGENT_ROLE (grant VERIFIER_ROLE
    ///        to another account)
    /// @param oracle_ the ImpactOracle whose reports the credits come from
    /// @param registry_ the holder registry gating who may hold credits, or zero for none
    /// @param minCoveragePpm_ the least share of a period's hours a batch must take (900,000 = 90%)
    /// @param uri_ the ERC-1155 metadata URI (with `{id}`)
    constructor(address admin, address oracle_, address registry_, uint32 minCoveragePpm_, string memory uri_)
        ERC1155(uri_)
    {
        if (admin == address(0)) revert CreditsInvalidInput("admin");
        if (oracle_.code.length == 0) revert CreditsInvalidInput("oracle");
        if (registry_ != address(0) && registry_.code.length == 0) revert CreditsInvalidInput("registry");
        if (minCoveragePpm_ > 1e6) revert CreditsInvalidInput("minCoveragePpm");
        _oracle = IImpactOracle(oracle_);
        _registry = IHolderRegistry(registry_);
        _minCoveragePpm = minCoveragePpm_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc ICarbonCredits
    function proposeBatch(
        uint32 facilityId,
        uint64 periodStart,
        uint64 periodEnd,
        uint32 methodologyVersion,
        uint16 factorYear,
        string calldata externalRef
    ) external onlyRole(ISSUER_ROLE) returns (uint256 batchId) {
        // slither-disable-next-line unused-return
        _oracle.facility(facilityId); // reverts for an unknown facility
        // slither-disable-next-line unused-return
        _oracle.gridFactor(methodologyVersion, factorYear); // reverts for an unknown methodology or year
        if (
            periodStart % HOUR != 0 || periodEnd % HOUR != 0 || periodStart >= periodEnd || periodEnd > block.timestamp
                || (periodEnd - periodStart) / HOUR > (uint256(1) << TREE_DEPTH)
        ) revert CreditsBadPeriod(periodStart, periodEnd);
        FacilityBook storage book = _books[facilityId];
        if (periodStart < book.creditedUntil) revert CreditsPeriodOverlaps(facilityId, periodStart, book.creditedUntil);
        book.creditedUntil = periodEnd;

        batchId = ++_batchCount;
        Batch storage b = _batches[batchId];
        b.facilityId = facilityId;
        b.status = BatchStatus.Draft;
        b.methodologyVersion = methodologyVersion;
        b.factorYear = factorYear;
        b.periodStart = periodStart;
        b.periodEnd = periodEnd;
        b.cursor = periodStart;
        b.proposer = msg.sender;
        b.externalRef = externalRef;
        b.reportsRoot = _trees[batchId].setup(TREE_DEPTH, bytes32(0));
        emit BatchProposed(batchId, facilityId, periodStart, periodEnd, methodologyVersion, factorYear, msg.sender, externalRef);
    }

    /// @inheritdoc ICarbonCredits
    function addReports(uint256 batchId, uint256[] calldata reportIndexes) external onlyRole(ISSUER_ROLE) {
        Batch storage b = _batchIn(batchId, BatchStatus.Draft);
        if (reportIndexes.length == 0) revert CreditsInvalidInput("reportIndexes");
        uint32 facilityId = b.facilityId;
        // a lowering correction reviewed before its hour is taken is no shortfall; one made after
        // supersedes the report taken (only a report in force can be corrected)
        _requireReviewed(facilityId, _books[facilityId]);
        uint64 cursor = b.cursor;
        MerkleTree.Bytes32PushTree storage tree = _trees[batchId];
        BitMaps.BitMap storage credited = _creditedHours[facilityId];
        // slither-disable-next-line uninitialized-local
        int256 co2;
        // slither-disable-next-line uninitialized-local
        uint32 estimated;
        // slither-disable-next-line uninitialized-local
        bytes32 root;
        for (uint256 i = 0; i < reportIndexes.length; ++i) {
            uint256 index = reportIndexes[i];
            IImpactOracle.StoredReport memory r = _oracle.report(facilityId, index);
            if (r.supersededBy != 0) revert CreditsReportNotInForce(facilityId, index);
            if (r.periodStart < cursor || r.periodStart >= b.periodEnd) {
                revert CreditsReportOutOfOrder(index, r.periodStart, cursor, b.periodEnd);
            }
            if (r.methodologyVersion != b.methodologyVersion || r.factorYear != b.factorYear) {
                revert CreditsReportMismatch(index, r.methodologyVersion, r.factorYear);
            }
            _requireUnreported(facilityId, cursor, r.periodStart);
            uint256 hourNo = r.periodStart / HOUR;
            if (credited.get(hourNo)) revert CreditsHourAlreadyCredited(facilityId, r.periodStart);
            credited.set(hourNo);
            co2 += r.co2AvoidedMg;
            if (r.qualityFlags & 1 != 0) ++estimated;
            // slither-disable-next-line unused-return
            (, root) = tree.push(reportLeaf(facilityId, index, r.periodStart, r.readingsRoot, r.co2AvoidedMg));
            cursor = r.periodStart + HOUR;
        }
        b.cursor = cursor;
        b.hoursCredited += SafeCast.toUint32(reportIndexes.length);
        b.estimatedHours += estimated;
        b.co2Mg += SafeCast.toInt128(co2);
        b.reportsRoot = root;
        _creditedMg[facilityId] += co2;
        emit ReportsCredited(batchId, reportIndexes, co2, root);
    }

    /// @inheritdoc ICarbonCredits
    function sealBatch(uint256 batchId) external onlyRole(ISSUER_ROLE) {
        Batch storage b = _batchIn(batchId, BatchStatus.Draft);
        uint32 facilityId = b.facilityId;
        _requireUnreported(facilityId, b.cursor, b.periodEnd);
        // hours credited / hours in the period >= minCoveragePpm / 1e6, without dividing first
        if (uint256(b.hoursCredited) * 1e6 * HOUR < uint256(_minCoveragePpm) * (b.periodEnd - b.periodStart)) {
            revert CreditsCoverageTooLow(b.hoursCredited, (b.periodEnd - b.periodStart) / HOUR, _minCoveragePpm);
        }
        FacilityBook storage book = _books[facilityId];
        _requireClear(facilityId, book);
        int256 co2 = b.co2Mg;
        // the shortfall of earlier batches comes out of this one, as far as it goes
        uint256 deducted = 0;
        if (co2 > 0) deducted = book.shortfallMg < uint256(co2) ? book.shortfallMg : uint256(co2);
        uint256 quantity = co2 > 0 ? (uint256(co2) - deducted) / uint256(MG_PER_KG) : 0;
        if (quantity == 0) revert CreditsNothingToIssue(co2, deducted);
        book.shortfallMg -= uint128(deducted);
        b.deductedMg = uint128(deducted);
        b.quantityKg = SafeCast.toUint64(quantity);
        b.cursor = b.periodEnd;
        b.status = BatchStatus.Sealed;
        emit BatchSealed(batchId, b.hoursCredited, b.estimatedHours, co2, deducted, quantity, b.reportsRoot);
    }

    /// @inheritdoc ICarbonCredits
    function approveBatch(uint256 batchId, bytes32 verificationDocHash) external onlyRole(VERIFIER_ROLE) {
        Batch storage b = _batchIn(batchId, BatchStatus.Sealed);
        if (msg.sender == b.proposer) revert CreditsSameAccount(msg.sender);
        if (verificationDocHash == bytes32(0)) revert CreditsInvalidInput("verificationDocHash");
        _requireClear(b.facilityId, _books[b.facilityId]);
        b.verifier = msg.sender;
        b.verificationDocHash = verificationDocHash;
        b.status = BatchStatus.Approved;
        emit BatchApproved(batchId, msg.sender, verificationDocHash);
    }

    /// @inheritdoc ICarbonCredits
    function cancelBatch(uint256 batchId, bytes32 reasonDocHash) external {
        if (!hasRole(ISSUER_ROLE, msg.sender) && !hasRole(VERIFIER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, VERIFIER_ROLE);
        }
        Batch storage b = _batch(batchId);
        BatchStatus status = b.status;
        if (status == BatchStatus.Issued || status == BatchStatus.Cancelled) revert CreditsWrongStatus(batchId, status);
        uint32 facilityId = b.facilityId;
        BitMaps.BitMap storage credited = _creditedHours[facilityId];
        uint256 end = b.cursor / HOUR;
        for (uint256 hourNo = b.periodStart / HOUR; hourNo < end; ++hourNo) {
            credited.unset(hourNo);
        }
        FacilityBook storage book = _books[facilityId];
        book.shortfallMg += b.deductedMg;
        if (book.creditedUntil == b.periodEnd) book.creditedUntil = b.periodStart;
        _creditedMg[facilityId] -= b.co2Mg;
        b.status = BatchStatus.Cancelled;
        emit BatchCancelled(batchId, msg.sender, reasonDocHash);
    }

    /// @inheritdoc ICarbonCredits
    function issueBatch(uint256 batchId, address to) external onlyRole(ISSUER_ROLE) {
        Batch storage b = _batchIn(batchId, BatchStatus.Approved);
        if (msg.sender == b.verifier) revert CreditsSameAccount(msg.sender);
        _requireClear(b.facilityId, _books[b.facilityId]);
        uint256 quantity = b.quantityKg;
        uint256 first = _nextSerial;
        _nextSerial = first + quantity;
        b.firstSerial = SafeCast.toUint64(first);
        b.status = BatchStatus.Issued;
        emit BatchIssued(batchId, to, quantity, first, first + quantity - 1);
        _mint(to, batchId, quantity, "");
    }

    /// @inheritdoc ICarbonCredits
    function setExternalRef(uint256 batchId, string calldata externalRef) external onlyRole(ISSUER_ROLE) {
        Batch storage b = _batch(batchId);
        if (b.status == BatchStatus.Issued || b.status == BatchStatus.Cancelled) revert CreditsWrongStatus(batchId, b.status);
        b.externalRef = externalRef;
        emit ExternalRefSet(batchId, externalRef);
    }

    // ------------------------------------------------------------------ retirement

    /// @inheritdoc ICarbonCredits
    function retire(
        uint256 batchId,
        uint256 amountKg,
        string calldata beneficiary,
        string calldata reason,
        uint64 consumptionStart,
        uint64 consumptionEnd
    ) external returns (uint256 certificateId) {
        _batch(batchId);
        if (amountKg == 0) revert CreditsInvalidInput("amountKg");
        if (bytes(beneficiary).length == 0) revert CreditsInvalidInput("beneficiary");
        if (consumptionStart > consumptionEnd) revert CreditsInvalidInput("consumptionPeriod");
        certificateId = ++_certificateCount;
        _certificates[certificateId] = Certificate({
            batchId: batchId,
            amountKg: SafeCast.toUint64(amountKg),
            retiredAt: uint64(block.timestamp),
            consumptionStart: consumptionStart,
            consumptionEnd: consumptionEnd,
            retiree: msg.sender,
            beneficiary: beneficiary,
            reason: reason
        });
        _retired[batchId] += amountKg;
        emit CreditsRetired(certificateId, batchId, msg.sender, amountKg, beneficiary, reason, consumptionStart, consumptionEnd);
        _burn(msg.sender, batchId, amountKg);
    }

    // ------------------------------------------------------------------ corrections

    /// @inheritdoc ICarbonCredits
    function reviewCorrections(uint32 facilityId, uint256[] calldata correctionIndexes) external {
        FacilityBook storage book = _books[facilityId];
        BitMaps.BitMap storage reviewed = _reviewed[facilityId];
        for (uint256 i = 0; i < correctionIndexes.length; ++i) {
            uint256 index = correctionIndexes[i];
            IImpactOracle.StoredReport memory c = _oracle.report(facilityId, index);
            if (c.supersedes == 0) revert CreditsNotALowering(facilityId, index);
            int64 before = _oracle.report(facilityId, c.supersedes - 1).co2AvoidedMg;
            if (c.co2AvoidedMg >= before) revert CreditsNotALowering(facilityId, index);
            if (reviewed.get(index)) revert CreditsAlreadyReviewed(facilityId, index);
            reviewed.set(index);
            book.reviewedLowerings += 1;
            bool credited = _creditedHours[facilityId].get(c.periodStart / HOUR);
            if (credited) {
                book.shortfallMg += uint128(uint256(int256(before) - int256(c.co2AvoidedMg)));
                book.held = true;
                emit IssuanceHeld(facilityId, book.shortfallMg);
            }
            emit CorrectionReviewed(facilityId, index, c.periodStart, before, c.co2AvoidedMg, credited);
        }
    }

    /// @inheritdoc ICarbonCredits
    function resolveHold(uint32 facilityId, bytes32 resolutionDocHash) external onlyRole(VERIFIER_ROLE) {
        FacilityBook storage book = _books[facilityId];
        if (!book.held) revert CreditsNotHeld(facilityId);
        if (resolutionDocHash == bytes32(0)) revert CreditsInvalidInput("resolutionDocHash");
        book.held = false;
        emit HoldResolved(facilityId, msg.sender, resolutionDocHash, book.shortfallMg);
    }

    // ------------------------------------------------------------------ agent controls

    /// @inheritdoc ICarbonCredits
    function pause() external onlyRole(AGENT_ROLE) {
        _pause();
    }

    /// @inheritdoc ICarbonCredits
    function unpause() external onlyRole(AGENT_ROLE) {
        _unpause();
    }

    /// @inheritdoc ICarbonCredits
    function setAddressFrozen(address userAddress, bool freeze) external onlyRole(AGENT_ROLE) {
        _frozen[userAddress] = freeze;
        emit AddressFrozen(userAddress, freeze, msg.sender);
    }

    /// @inheritdoc ICarbonCredits
    /// @dev The freeze and the pause are lifted for the move itself only: the receiver's
    ///      acceptance check runs after, so a receiving contract cannot use the lift.
    function forcedTransfer(address from, address to, uint256 batchId, uint256 amountKg) external onlyRole(AGENT_ROLE) {
        if (from == address(0) || to == address(0)) revert CreditsInvalidInput("wallet");
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = batchId;
        values[0] = amountKg;
        _forcing = true;
        _update(from, to, ids, values);
        _forcing = false;
        emit ForcedTransfer(msg.sender, from, to, batchId, amountKg);
        ERC1155Utils.checkOnERC1155Received(msg.sender, from, to, batchId, amountKg, "");
    }

    // ------------------------------------------------------------------ reads

    /// @inheritdoc ICarbonCredits
    function oracle() external view returns (address) {
        return address(_oracle);
    }

    /// @inheritdoc ICarbonCredits
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ICarbonCredits
    function minCoveragePpm() external view returns (uint32) {
        return _minCoveragePpm;
    }

    /// @inheritdoc ICarbonCredits
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc ICarbonCredits
    function batch(uint256 batchId) external view returns (Batch memory) {
        return _batch(batchId);
    }

    /// @inheritdoc ICarbonCredits
    function retiredOf(uint256 batchId) external view returns (uint256) {
        return _retired[batchId];
    }

    /// @inheritdoc ICarbonCredits
    function certificateCount() external view returns (uint256) {
        return _certificateCount;
    }

    /// @inheritdoc ICarbonCredits
    function certificate(uint256 certificateId) external view returns (Certificate memory) {
        if (certificateId == 0 || certificateId > _certificateCount) revert CreditsUnknownCertificate(certificateId);
        return _certificates[certificateId];
    }

    /// @inheritdoc ICarbonCredits
    function facilityBook(uint32 facilityId) external view returns (FacilityBook memory) {
        return _books[facilityId];
    }

    /// @inheritdoc ICarbonCredits
    function isCredited(uint32 facilityId, uint64 periodStart) external view returns (bool) {
        return _creditedHours[facilityId].get(periodStart / HOUR);
    }

    /// @inheritdoc ICarbonCredits
    function creditedMg(uint32 facilityId) external view returns (int256) {
        return _creditedMg[facilityId];
    }

    /// @inheritdoc ICarbonCredits
    function isFrozen(address userAddress) external view returns (bool) {
        return _frozen[userAddress];
    }

    /// @inheritdoc ICarbonCredits
    function reportLeaf(uint32 facilityId, uint256 reportIndex, uint64 periodStart, bytes32 readingsRoot, int64 co2Mg)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(facilityId, reportIndex, periodStart, readingsRoot, co2Mg))));
    }

    /// @inheritdoc ICarbonCredits
    function verifyBatchReport(
        uint256 batchId,
        uint256 reportIndex,
        uint64 periodStart,
        bytes32 readingsRoot,
        int64 co2Mg,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Batch storage b = _batch(batchId);
        return MerkleProof.verifyCalldata(proof, b.reportsRoot, reportLeaf(b.facilityId, reportIndex, periodStart, readingsRoot, co2Mg));
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Every move of credits: mint, transfer, forced transfer and retirement (burn). Outside a
    ///      forced transfer, nothing moves while paused or from or to a frozen wallet; with a
    ///      registry, credits only go to its eligible wallets (a retirement goes nowhere).
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (!_forcing) {
            _requireNotPaused();
            if (from != address(0) && _frozen[from]) revert CreditsFrozen(from);
            if (to != address(0) && _frozen[to]) revert CreditsFrozen(to);
        }
        if (to != address(0) && address(_registry) != address(0) && !_registry.isEligible(to)) revert CreditsNotEligible(to);
        super._update(from, to, ids, values);
    }

    /// @dev No account is both issuer and verifier.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == ISSUER_ROLE && hasRole(VERIFIER_ROLE, account)) revert CreditsRoleConflict(account, role);
        if (role == VERIFIER_ROLE && hasRole(ISSUER_ROLE, account)) revert CreditsRoleConflict(account, role);
        return super._grantRole(role, account);
    }

    function _batch(uint256 batchId) private view returns (Batch storage b) {
        if (batchId == 0 || batchId > _batchCount) revert CreditsUnknownBatch(batchId);
        b = _batches[batchId];
    }

    function _batchIn(uint256 batchId, BatchStatus status) private view returns (Batch storage b) {
        b = _batch(batchId);
        if (b.status != status) revert CreditsWrongStatus(batchId, b.status);
    }

    /// @dev Every hour in [from, to) has no report on the oracle.
    function _requireUnreported(uint32 facilityId, uint64 from, uint64 to) private view {
        for (uint64 h = from; h < to; h += HOUR) {
            if (_oracle.isReported(facilityId, h)) revert CreditsHourSkipped(facilityId, h);
        }
    }

    /// @dev Every lowering correction of the facility reviewed, and no hold.
    function _requireClear(uint32 facilityId, FacilityBook storage book) private view {
        _requireReviewed(facilityId, book);
        if (book.held) revert CreditsIssuanceHeld(facilityId);
    }

    /// @dev Every lowering correction of the facility reviewed.
    function _requireReviewed(uint32 facilityId, FacilityBook storage book) private view {
        uint256 lowerings = _oracle.loweredCorrections(facilityId);
        if (lowerings != book.reviewedLowerings) revert CreditsUnreviewedCorrections(facilityId, lowerings, book.reviewedLowerings);
    }
}
