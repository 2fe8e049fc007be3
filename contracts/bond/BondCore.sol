// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";
import {IHolderRegistry} from "../../interfaces/IHolderRegistry.sol";

/// @title BondCore
/// @notice What every part of the bond shares: the ERC-20 units, the roles, pause and the transfer
///         switches, and the one rule book (`canTransfer`) every holder-initiated movement obeys.
/// @dev The extensions (BondTerms, BondAgentControls, BondSettlementLocks, BondTransferApprovals,
///      BondDocuments, BondRecordDates) build on this contract the way OpenZeppelin's ERC-20
///      extensions build on ERC20, through `_update` and internal functions. Two storage slots are
///      kept here rather than in the extensions because a transfer reads both and packing them is
///      the cheapest layout: the bond-wide slot (packed with Pausable's flag: the switches, the
///      record-date cursor and the redemption date) and one `Account` slot per wallet (freeze,
///      recovery, snapshot cursor, lock generation, frozen and escrowed units).
abstract contract BondCore is IGreenBond, ERC20, AccessControl, Pausable {
    /// @notice Role of the transfer agent: approves or cancels transfer applications and DvP trades.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");
    /// @notice Role that issues units (ERC-3643 mint): the issuer's agent and the Offering.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Role that cancels units (ERC-3643 burn).
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    /// @notice Role that freezes wallets and units (ERC-3643 setAddressFrozen, freezePartialTokens).
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @notice Role that moves units without the holder (ERC-3643 forcedTransfer).
    bytes32 public constant FORCED_TRANSFER_ROLE = keccak256("FORCED_TRANSFER_ROLE");
    /// @notice Role that moves a lost wallet to the investor's new wallet (ERC-3643 recoveryAddress).
    bytes32 public constant RECOVERY_ROLE = keccak256("RECOVERY_ROLE");
    /// @notice Role of the coupon schedule: burns redeemed free units from the redemption date and
    ///         moves the redemption date forward on an early call. Nothing else.
    bytes32 public constant REDEMPTION_ROLE = keccak256("REDEMPTION_ROLE");
    /// @notice Role of settlement contracts (delivery versus payment) that lock a holder's units
    ///         in the holder's wallet and later deliver them. Trusted to enforce the agent's
    ///         approval when `transferApprovalRequired()` is on.
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");

    bytes32 internal constant OK = "OK";
    bytes32 internal constant PAUSED = "PAUSED";
    bytes32 internal constant NOT_TRANSFERABLE = "NOT_TRANSFERABLE";
    bytes32 internal constant APPROVAL_REQUIRED = "APPROVAL_REQUIRED";
    bytes32 internal constant ZERO_ADDRESS = "ZERO_ADDRESS";
    bytes32 internal constant SENDER_FROZEN = "SENDER_FROZEN";
    bytes32 internal constant RECEIVER_FROZEN = "RECEIVER_FROZEN";
    bytes32 internal constant RECEIVER_NOT_ELIGIBLE = "RECEIVER_NOT_ELIGIBLE";
    bytes32 internal constant INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE";
    bytes32 internal constant TOKENS_LOCKED = "TOKENS_LOCKED";
    bytes32 internal constant RECEIVER_RECOVERED = "RECEIVER_RECOVERED";

    /// @dev One slot per wallet: everything a transfer reads about the sender or receiver.
    ///      Units fit 72 bits: BondTerms caps the supply at 2**72 - 1 units.
    struct Account {
        bool frozen;
        bool recovered;        // a lost wallet: recovered to _successor; frozen for good, it never receives again
        uint16 snapshotKey;    // record dates passed at the wallet's last snapshot check
        uint16 lastEntry;      // record date of the wallet's latest snapshot entry (0: none)
        uint16 lockGeneration; // bumped when an agent action releases the wallet's locks
        uint40 eligibleUntil;  // the registry expiry kept at a receipt (0: none); cleared by the registry
        uint72 frozenTokens;
        uint72 escrowed;       // units in pending transfer applications and settlement locks
    }

    // The bond-wide slot, packed with Pausable's flag: one slot read on every transfer.
    bool internal _transferable;
    bool internal _transferApprovalRequired;
    uint16 internal _recordDatesPassed;
    uint16 internal _supplySnapshotKey;
    uint16 internal _supplyLastEntry;
    uint64 internal _nextRecordDate;
    uint64 internal _redemptionDate;   // maturity, or the call date after an early call

    IHolderRegistry internal immutable _registry;

    mapping(address => Account) internal _accounts;
    mapping(address => address) internal _successor;   // lost wallet => the wallet it was recovered to

    /// @param registry_ the HolderRegistry that gates receivers
    /// @param admin the issuer: receives DEFAULT_ADMIN_ROLE and every agent role
    constructor(string memory name_, string memory symbol_, IHolderRegistry registry_, address admin)
        ERC20(name_, symbol_)
    {
        if (address(registry_) == address(0) || admin == address(0)) revert GreenBondZeroAddress();
        _registry = registry_;
        _transferable = true;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
        _grantRole(BURNER_ROLE, admin);
        _grantRole(FREEZER_ROLE, admin);
        _grantRole(FORCED_TRANSFER_ROLE, admin);
        _grantRole(RECOVERY_ROLE, admin);
    }

    // ------------------------------------------------------------------ ERC-20

    /// @notice Bond units are indivisible.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice ERC-20 transfer, subject to the bond's transfer rules (see canTransfer).
    function transfer(address to, uint256 amount) public override returns (bool) {
        _requireAllowed(msg.sender, to, amount, false);
        return super.transfer(to, amount);
    }

    /// @notice ERC-20 transferFrom, subject to the bond's transfer rules (see canTransfer).
    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        _requireAllowed(from, to, amount, false);
        return super.transferFrom(from, to, amount);
    }

    // ------------------------------------------------------------------ transfer rules

    /// @inheritdoc IGreenBond
    function registry() external view returns (IHolderRegistry) {
        return _registry;
    }

    /// @inheritdoc IGreenBond
    function eligibilityCachedUntil(address wallet) external view returns (uint256) {
        return _accounts[wallet].eligibleUntil;
    }

    /// @notice Forgets the expiry kept for `wallet` (IEligibilityCache); only the registry calls it,
    ///         after it updated or removed the wallet's record.
    function clearEligibility(address wallet) external {
        if (msg.sender != address(_registry)) revert GreenBondNotRegistry(msg.sender);
        Account storage a = _accounts[wallet];
        if (a.eligibleUntil == 0) return;
        a.eligibleUntil = 0;
        emit EligibilityCleared(wallet);
    }

    /// @inheritdoc IGreenBond
    function canTransfer(address from, address to, uint256 amount) external view returns (bool, bytes32) {
        (bytes32 reason, ) = _restriction(from, to, amount, false);
        return (reason == OK, reason);
    }

    /// @inheritdoc IGreenBond
    function transferable() external view returns (bool) {
        return _transferable;
    }

    /// @inheritdoc IGreenBond
    function setTransferable(bool value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _transferable = value;
        emit TransferableChanged(value);
    }

    /// @inheritdoc IGreenBond
    function transferApprovalRequired() external view returns (bool) {
        return _transferApprovalRequired;
    }

    /// @inheritdoc IGreenBond
    function setTransferApprovalRequired(bool value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _transferApprovalRequired = value;
        emit TransferApprovalRequiredChanged(value);
    }

    /// @inheritdoc IGreenBond
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @inheritdoc IGreenBond
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ internals

    /// @dev The single rule book shared by canTransfer and every holder-initiated movement.
    ///      The receiver's eligibility is the expiry kept in its account slot, which the transfer
    ///      reads anyway; only when none is kept (or it passed) is the registry asked, and then
    ///      `keep` is the expiry the caller may keep (0: none, the registry does not tell this bond
    ///      of changes).
    function _restriction(address from, address to, uint256 amount, bool viaApproval)
        internal
        view
        returns (bytes32 reason, uint64 keep)
    {
        if (paused()) return (PAUSED, 0);
        if (!_transferable) return (NOT_TRANSFERABLE, 0);
        if (_transferApprovalRequired && !viaApproval) return (APPROVAL_REQUIRED, 0);
        if (from == address(0) || to == address(0)) return (ZERO_ADDRESS, 0);
        Account storage sender = _accounts[from];
        if (sender.frozen) return (SENDER_FROZEN, 0);
        Account storage receiver = _accounts[to];
        // a recovered wallet is frozen for good: one read on the path of a compliant transfer
        if (receiver.frozen) return (receiver.recovered ? RECEIVER_RECOVERED : RECEIVER_FROZEN, 0);
        if (receiver.eligibleUntil <= block.timestamp) {
            (uint64 expiresAt, bool told) = _registry.eligibilityFor(to);
            if (expiresAt <= block.timestamp) return (RECEIVER_NOT_ELIGIBLE, 0);
            if (told) keep = expiresAt;
        }
        uint256 balance = balanceOf(from);
        if (balance < amount) return (INSUFFICIENT_BALANCE, 0);
        if (balance - sender.frozenTokens - sender.escrowed < amount) return (TOKENS_LOCKED, 0);
        return (OK, keep);
    }

    /// @dev Reverts unless the movement is allowed; keeps the receiver's expiry if it was read.
    function _requireAllowed(address from, address to, uint256 amount, bool viaApproval) internal {
        (bytes32 reason, uint64 keep) = _restriction(from, to, amount, viaApproval);
        if (reason != OK) revert GreenBondTransferNotAllowed(from, to, amount, reason);
        if (keep != 0) _keepEligibility(to, keep);
    }

    /// @dev For the agent's movements (mint, forced transfer, recovery): reverts unless `wallet`
    ///      is eligible, by the kept expiry or else the registry's, and keeps the latter.
    function _requireEligible(address wallet) internal {
        if (_accounts[wallet].eligibleUntil > block.timestamp) return;
        (uint64 expiresAt, bool told) = _registry.eligibilityFor(wallet);
        if (expiresAt <= block.timestamp) revert GreenBondNotEligible(wallet);
        if (told) _keepEligibility(wallet, expiresAt);
    }

    function _keepEligibility(address wallet, uint64 expiresAt) private {
        uint40 until = uint40(Math.min(expiresAt, type(uint40).max));
        _accounts[wallet].eligibleUntil = until;
        emit EligibilityCached(wallet, until);
    }

    /// @dev Releases every settlement lock and pending transfer application of `holder` at once:
    ///      the lock generation moves on, so lockers and applications of the old one are void.
    function _releaseLocks(address holder) internal {
        Account storage a = _accounts[holder];
        uint256 released = a.escrowed;
        if (released == 0) return;
        a.escrowed = 0;
        uint16 generation;
        unchecked {
            generation = a.lockGeneration + 1; // wraps after 65,535 releases of one wallet
        }
        a.lockGeneration = generation;
        emit LocksReleased(holder, released, generation, msg.sender);
    }
}
