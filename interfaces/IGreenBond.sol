// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHolderRegistry} from "./IHolderRegistry.sol";
import {IEligibilityCache} from "./IEligibilityCache.sol";

/// @title IGreenBond
/// @notice The digital green bond: an ERC-20 security token (decimals 0, one token = one bond
///         unit of face value `denomination()`), with ERC-7092 bond terms, ERC-3643 compliance
///         controls, ibet-style transfer approval, ERC-1643 documents and record-date balances.
interface IGreenBond is IEligibilityCache {
    /// @notice Bond terms fixed at deployment (validated on chain and, before, by the deployer).
    struct Terms {
        string name;
        string symbol;
        string isin;
        address currency;          // settlement token
        uint256 denomination;      // face value of one unit, in the settlement token's smallest unit
        uint256 issueVolume;       // total face amount, same unit; a multiple of denomination
        uint256 couponRate;        // parts per million a year (0.598% = 5980)
        uint8 couponType;          // 0 zero coupon, 1 fixed, 2 floating
        uint8 couponFrequency;     // payments a year (1, 2, 4 or 12)
        uint8 dayCountBasis;       // 0 Actual/365 Fixed, 1 Actual/360, 2 30/360, 3 Actual/Actual
        uint64 issueDate;          // unix seconds
        uint64 maturityDate;       // unix seconds; equals the last coupon date
        uint64 recordDateOffset;   // seconds between a coupon's record date and its payment date
        uint64[] couponDates;      // every payment date, strictly increasing, unix seconds
    }

    /// @notice A pending, approved or cancelled transfer application (ibet transfer approval).
    struct TransferApplication {
        address from;
        address to;
        uint96 amount;
        uint8 status;              // 1 pending, 2 approved, 3 cancelled, 4 released by an agent action
        bytes data;
    }

    // ---- events ----
    /// @notice Transfers were switched on or off by the issuer.
    event TransferableChanged(bool transferable);
    /// @notice Agent approval of transfers was switched on or off by the issuer.
    event TransferApprovalRequiredChanged(bool required);
    /// @notice ERC-3643: a wallet was frozen or unfrozen.
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);
    /// @notice ERC-3643: part of a wallet's balance was frozen.
    event TokensFrozen(address indexed userAddress, uint256 amount);
    /// @notice ERC-3643: part of a wallet's frozen balance was released.
    event TokensUnfrozen(address indexed userAddress, uint256 amount);
    /// @notice An agent moved units without the holder's signature (own event, unlike T-REX).
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount, address indexed agent);
    /// @notice ERC-3643: a lost wallet's units and frozen amounts moved to the investor's new wallet.
    event RecoverySuccess(address indexed lostWallet, address indexed newWallet, bytes32 indexed investorId);
    /// @notice A holder applied for an approved transfer; `amount` is escrowed in the holder's wallet.
    event TransferApplied(uint256 indexed id, address indexed from, address indexed to, uint256 amount, bytes data);
    /// @notice The agent approved application `id`; the units moved.
    event TransferApproved(uint256 indexed id, address indexed agent);
    /// @notice Application `id` was cancelled; the escrow was released.
    event TransferCancelled(uint256 indexed id, address indexed by);
    /// @notice A settlement contract locked units in the holder's wallet.
    event UnitsLocked(address indexed holder, uint256 amount, address indexed locker);
    /// @notice Locked units were released (or delivered).
    event UnitsUnlocked(address indexed holder, uint256 amount, address indexed locker);
    /// @notice An agent action (forced transfer, burn, freeze, recovery, redemption) released every
    ///         lock and pending application of `holder` (`amount` units); locks of earlier
    ///         generations are void from now on.
    event LocksReleased(address indexed holder, uint256 amount, uint256 generation, address indexed agent);
    /// @notice The redemption date moved forward to an early call date: no unit is issued from then.
    event RedemptionDateSet(uint256 previous, uint256 redemptionDate);
    /// @notice ERC-1643: a document was added or replaced.
    event DocumentUpdated(bytes32 indexed name, string uri, bytes32 documentHash);
    /// @notice ERC-1643: a document was removed.
    event DocumentRemoved(bytes32 indexed name, string uri, bytes32 documentHash);
    /// @notice The impact oracle the bond reports from was set.
    event ImpactOracleSet(address indexed previous, address indexed oracle);
    /// @notice A record date was appended to the schedule (an early call).
    event RecordDateAdded(uint256 indexed index, uint256 recordDate);
    /// @notice The chain passed record date `index`; balances at it are now fixed.
    event RecordDateReached(uint256 indexed index, uint256 recordDate);
    /// @notice The bond read `wallet`'s registry expiry and keeps it: until then a receipt asks no more.
    event EligibilityCached(address indexed wallet, uint256 until);
    /// @notice The registry said `wallet`'s record changed: the kept expiry is forgotten.
    event EligibilityCleared(address indexed wallet);

    // ---- errors ----
    /// @notice A transfer broke a rule; `reason` is the code `canTransfer` returns.
    error GreenBondTransferNotAllowed(address from, address to, uint256 amount, bytes32 reason);
    /// @notice The receiver of a mint, forced transfer or recovery is not eligible in the registry.
    error GreenBondNotEligible(address wallet);
    /// @notice Minting would exceed the issue volume.
    error GreenBondIssueVolumeExceeded(uint256 requested, uint256 available);
    error GreenBondMatured(uint256 maturityDate);
    /// @notice A term is missing or malformed; `field` names it.
    error GreenBondInvalidTerms(bytes32 field);
    /// @notice Two array arguments differ in length.
    error GreenBondLengthMismatch(uint256 a, uint256 b);
    /// @notice An address argument is zero.
    error GreenBondZeroAddress();
    /// @notice forcedTransfer from a wallet to itself.
    error GreenBondSelfTransfer(address wallet);
    /// @notice The wallet's free (unescrowed, and for freezes unfrozen) balance is too small.
    error GreenBondInsufficientUnlocked(address wallet, uint256 available, uint256 needed);
    /// @notice Unfreezing more than is frozen.
    error GreenBondInsufficientFrozen(address wallet, uint256 frozen, uint256 needed);
    /// @notice The two wallets of a recovery do not belong to one registered investor.
    error GreenBondNotSameInvestor(address lostWallet, address newWallet);
    /// @notice The wallet was recovered to `successor`: it can never receive units again.
    error GreenBondWalletRecovered(address wallet, address successor);
    /// @notice A frozen wallet cannot receive a mint or a recovery, or redeem.
    error GreenBondWalletFrozen(address wallet);
    /// @notice Units cannot be locked now ("PAUSED" or "SENDER_FROZEN").
    error GreenBondLockRefused(address holder, bytes32 reason);
    /// @notice The lock of generation `generation` was released by an agent action.
    error GreenBondLockReleased(address holder, uint256 generation);
    /// @notice Redemption before the redemption date.
    error GreenBondNotRedeemable(uint256 redemptionDate);
    /// @notice A call date must be in the future and before the current redemption date.
    error GreenBondBadCallDate(uint256 callDate);
    /// @notice applyForTransfer while transfer approval is off: use transfer.
    error GreenBondApprovalNotRequired();
    /// @notice No application has this id.
    error GreenBondUnknownApplication(uint256 id);
    /// @notice The application is no longer pending.
    error GreenBondApplicationNotPending(uint256 id, uint8 status);
    /// @notice Only the applicant or an agent may cancel.
    error GreenBondNotApplicantOrAgent(uint256 id, address caller);
    /// @notice No document has this name.
    error GreenBondUnknownDocument(bytes32 name);
    /// @notice A document needs a non-zero name and a URI.
    error GreenBondInvalidDocument(bytes32 name);
    /// @notice `timepoint` is not one of the bond's record dates.
    error GreenBondNotARecordDate(uint256 timepoint);
    /// @notice `timepoint` is still in the future.
    error GreenBondFutureLookup(uint256 timepoint, uint256 nowTimestamp);
    /// @notice A new record date must be in the future and after the last one.
    error GreenBondBadRecordDate(uint256 recordDate);
    /// @notice Only the bond's holder registry may call this.
    error GreenBondNotRegistry(address caller);

    // ---- ERC-7092 terms ----
    /// @notice The ISIN (a placeholder on dev chains, marked as such).
    function isin() external view returns (string memory);
    /// @notice The settlement token in which coupons and principal are paid.
    function currency() external view returns (address);
    /// @notice Face value of one unit, in the settlement token's smallest unit.
    function denomination() external view returns (uint256);
    /// @notice Total face amount of the issue, in the settlement token's smallest unit.
    function issueVolume() external view returns (uint256);
    /// @notice Annual coupon rate in parts per million.
    function couponRate() external view returns (uint256);
    /// @notice 0 zero coupon, 1 fixed, 2 floating.
    function couponType() external view returns (uint8);
    /// @notice Coupon payments a year.
    function couponFrequency() external view returns (uint256);
    /// @notice Issue date, unix seconds.
    function issueDate() external view returns (uint256);
    /// @notice Maturity date, unix seconds.
    function maturityDate() external view returns (uint256);
    /// @notice 0 Actual/365 Fixed, 1 Actual/360, 2 30/360, 3 Actual/Actual.
    function dayCountBasis() external view returns (uint8);
    /// @notice Every coupon payment date, unix seconds.
    function couponDates() external view returns (uint256[] memory);
    /// @notice Face amount held by `account` (units x denomination).
    function principalOf(address account) external view returns (uint256);
    /// @notice Units that can ever exist: issueVolume / denomination.
    function maxSupply() external view returns (uint256);

    // ---- links ----
    /// @notice The holder registry that gates receivers.
    function registry() external view returns (IHolderRegistry);
    /// @notice The registry expiry the bond keeps for `wallet` (0: none): while it is in the
    ///         future, a receipt by `wallet` does not call the registry. Kept only when the registry
    ///         tells this bond of every update and removal (`addCachingToken`), which clear it.
    function eligibilityCachedUntil(address wallet) external view returns (uint256);
    /// @notice The impact oracle, zero until set.
    function impactOracle() external view returns (address);
    /// @notice Sets the impact oracle (issuer).
    function setImpactOracle(address oracle) external;

    // ---- transfer rules ----
    /// @notice What `transfer(to, amount)` from `from` would do now, with a reason code
    ///         ("OK", "PAUSED", "NOT_TRANSFERABLE", "APPROVAL_REQUIRED", "ZERO_ADDRESS",
    ///         "SENDER_FROZEN", "RECEIVER_FROZEN", "RECEIVER_RECOVERED", "RECEIVER_NOT_ELIGIBLE",
    ///         "INSUFFICIENT_BALANCE", "TOKENS_LOCKED").
    function canTransfer(address from, address to, uint256 amount) external view returns (bool allowed, bytes32 reason);
    /// @notice Whether holders may transfer at all.
    function transferable() external view returns (bool);
    /// @notice Switches transfers on or off (issuer).
    function setTransferable(bool value) external;
    /// @notice Whether transfers need the agent's approval.
    function transferApprovalRequired() external view returns (bool);
    /// @notice Switches agent approval of transfers on or off (issuer).
    function setTransferApprovalRequired(bool value) external;
    /// @notice Pauses every movement of units (issuer).
    function pause() external;
    /// @notice Ends a pause (issuer).
    function unpause() external;

    // ---- ERC-3643 agent controls ----
    /// @notice Issues `amount` units to an eligible, unfrozen wallet (MINTER_ROLE); never at or
    ///         after the redemption date (maturity or call date: such a unit would never be funded).
    function mint(address to, uint256 amount) external;
    /// @notice Issues units to several eligible wallets (MINTER_ROLE); never at or after the redemption date.
    function batchMint(address[] calldata toList, uint256[] calldata amounts) external;
    /// @notice Cancels `amount` units of `user` (BURNER_ROLE), releasing locks and unfreezing as needed.
    function burn(address user, uint256 amount) external;
    /// @notice Freezes or unfreezes a wallet (FREEZER_ROLE); a recovered (lost) wallet stays frozen.
    function setAddressFrozen(address userAddress, bool freeze) external;
    /// @notice Whether a wallet is frozen.
    function isFrozen(address userAddress) external view returns (bool);
    /// @notice Freezes part of a wallet's balance (FREEZER_ROLE), releasing locks if they stand in the way.
    function freezePartialTokens(address userAddress, uint256 amount) external;
    /// @notice Releases part of a wallet's frozen balance (FREEZER_ROLE).
    function unfreezePartialTokens(address userAddress, uint256 amount) external;
    /// @notice Units of `userAddress` that are frozen.
    function getFrozenTokens(address userAddress) external view returns (uint256);
    /// @notice Moves units without the holder (FORCED_TRANSFER_ROLE), releasing locks and unfreezing
    ///         as needed; the receiver must be eligible and not a recovered wallet.
    function forcedTransfer(address from, address to, uint256 amount) external returns (bool);
    /// @notice Moves a lost wallet's units, frozen amounts and unpaid entitlements to the investor's
    ///         new (eligible, unfrozen) wallet (RECOVERY_ROLE); the lost wallet never receives again.
    function recoveryAddress(address lostWallet, address newWallet) external returns (bool);
    /// @notice The wallet that now receives what `wallet` is owed: itself, or the end of its recoveries.
    function successorOf(address wallet) external view returns (address);
    /// @notice Where payments owed to `wallet` go (successorOf) and whether that wallet is frozen.
    function paymentWallet(address wallet) external view returns (address payee, bool frozen);

    // ---- transfer approval ----
    /// @notice Applies to transfer `amount` to `to`; the units are escrowed until approved or cancelled.
    function applyForTransfer(address to, uint256 amount, bytes calldata data) external returns (uint256 id);
    /// @notice Approves application `id`; the units move (agent).
    function approveTransfer(uint256 id) external;
    /// @notice Cancels application `id` (applicant or agent); the escrow is released.
    function cancelTransfer(uint256 id) external;
    /// @notice Application `id`.
    function transferApplication(uint256 id) external view returns (TransferApplication memory);
    /// @notice Number of applications ever made.
    function transferApplicationCount() external view returns (uint256);
    /// @notice Units of `account` escrowed in pending applications.
    function escrowedOf(address account) external view returns (uint256);

    // ---- settlement locks (delivery versus payment) ----
    /// @notice Locks free units of an unfrozen `holder` while the bond is not paused (LOCKER_ROLE);
    ///         returns the lock generation the locker must name to release or deliver them.
    function lockUnits(address holder, uint256 amount) external returns (uint256 generation);
    /// @notice Releases locked units (LOCKER_ROLE); nothing to do if an agent already released them.
    function unlockUnits(address holder, uint256 amount, uint256 generation) external;
    /// @notice Delivers locked units under the transfer rules, approval enforced by the locker (LOCKER_ROLE).
    function transferLocked(address from, address to, uint256 amount, uint256 generation) external;
    /// @notice The current lock generation of `holder` (moves on when an agent action releases its locks).
    function lockGeneration(address holder) external view returns (uint256);
    // ---- redemption ----
    /// @notice The end of the bond: maturity, or the call date after an early call. No unit is
    ///         issued from then on; units are redeemed from then on.
    function redemptionDate() external view returns (uint256);
    /// @notice Burns `amount` free units of an unfrozen holder for redemption, from the redemption
    ///         date (REDEMPTION_ROLE: the coupon schedule); locks are released first.
    function redeemUnits(address holder, uint256 amount) external;
    /// @notice Moves the redemption date forward to an early call date (REDEMPTION_ROLE).
    function setCallDate(uint64 callDate) external;

    // ---- ERC-1643 documents ----
    /// @notice Adds or replaces a document (issuer).
    function setDocument(bytes32 name, string calldata uri, bytes32 documentHash) external;
    /// @notice A document's URI, content hash and last-modified time.
    function getDocument(bytes32 name) external view returns (string memory uri, bytes32 documentHash, uint256 timestamp);
    /// @notice Removes a document (issuer).
    function removeDocument(bytes32 name) external;
    /// @notice The names of all documents.
    function getAllDocuments() external view returns (bytes32[] memory);

    // ---- record dates ----
    /// @notice Every record date, unix seconds, ascending.
    function recordDates() external view returns (uint256[] memory);
    /// @notice Appends a record date for an early call (issuer).
    function addRecordDate(uint64 recordDate) external;
    /// @notice Units `account` held at record date `timepoint` (state before that second).
    function balanceOfAt(address account, uint256 timepoint) external view returns (uint256);
    /// @notice Total units at record date `timepoint`.
    function totalSupplyAt(uint256 timepoint) external view returns (uint256);
}
