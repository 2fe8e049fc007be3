// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IGreenBond} from "../interfaces/IGreenBond.sol";
import {IHolderRegistry} from "../interfaces/IHolderRegistry.sol";

/// @title GreenBond
/// @notice A corporate green bond as a security token. One token is one bond unit of face value
///         `denomination()`; `decimals()` is 0. Receivers must be eligible in the HolderRegistry.
///         Roles: DEFAULT_ADMIN_ROLE (the issuer: pause, transfer switches, documents, oracle,
///         record dates, granting roles) and, as ERC-3643 v4 splits the agent's powers, one role per
///         action: MINTER_ROLE, BURNER_ROLE, FREEZER_ROLE, FORCED_TRANSFER_ROLE, RECOVERY_ROLE,
///         AGENT_ROLE (approves transfers), LOCKER_ROLE (settlement contracts) and REDEMPTION_ROLE
///         (the coupon schedule). The issuer holds every agent role from deployment; the Offering
///         holds only MINTER_ROLE, the schedule only REDEMPTION_ROLE, the DvP only LOCKER_ROLE.
///         The agent's controls always hold: locks and escrows never stop a forced transfer, burn,
///         freeze, recovery or redemption (the agent's action releases them first, LocksReleased).
/// @dev Record-date balances use a lazy snapshot keyed to the record dates: a wallet's balance is
///      written (one slot per record date) only by its first movement after a record date
///      passes, so an ordinary transfer pays no snapshot writes (see README, "Record-date balances").
contract GreenBond is IGreenBond, ERC20, AccessControl, Pausable {
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

    bytes32 private constant OK = "OK";
    bytes32 private constant PAUSED = "PAUSED";
    bytes32 private constant NOT_TRANSFERABLE = "NOT_TRANSFERABLE";
    bytes32 private constant APPROVAL_REQUIRED = "APPROVAL_REQUIRED";
    bytes32 private constant ZERO_ADDRESS = "ZERO_ADDRESS";
    bytes32 private constant SENDER_FROZEN = "SENDER_FROZEN";
    bytes32 private constant RECEIVER_FROZEN = "RECEIVER_FROZEN";
    bytes32 private constant RECEIVER_NOT_ELIGIBLE = "RECEIVER_NOT_ELIGIBLE";
    bytes32 private constant INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE";
    bytes32 private constant TOKENS_LOCKED = "TOKENS_LOCKED";
    bytes32 private constant RECEIVER_RECOVERED = "RECEIVER_RECOVERED";

    uint8 private constant PENDING = 1;
    uint8 private constant APPROVED = 2;
    uint8 private constant CANCELLED = 3;
    uint8 private constant RELEASED = 4;

    /// @dev One slot per wallet: everything a transfer reads about the sender or receiver.
    struct Account {
        bool frozen;
        bool recovered;        // a lost wallet: recovered to _successor; frozen for good, it never receives again
        uint16 snapshotKey;    // record dates passed at the wallet's last snapshot check
        uint16 lastEntry;      // record date of the wallet's latest snapshot entry (0: none)
        uint16 lockGeneration; // bumped when an agent action releases the wallet's locks
        uint96 frozenTokens;
        uint96 escrowed;       // units in pending transfer applications and settlement locks
    }

    /// @dev A transfer application as stored: the interface's fields and the lock generation its
    ///      escrow belongs to (stale once an agent action released the wallet's locks).
    struct Application {
        address from;
        uint96 amount;
        address to;
        uint8 status;
        uint16 lockGeneration;
        bytes data;
    }

    struct Document {
        string uri;
        bytes32 documentHash;
        uint64 timestamp;
        uint32 index;          // position + 1 in _documentNames
    }

    // Packed with Pausable's flag: one slot read on every transfer.
    bool private _transferable;
    bool private _transferApprovalRequired;
    uint16 private _recordDatesPassed;
    uint16 private _supplySnapshotKey;
    uint16 private _supplyLastEntry;
    uint64 private _nextRecordDate;
    uint64 private _redemptionDate;   // maturity, or the call date after an early call

    IHolderRegistry private immutable _registry;
    address private immutable _currency;
    uint256 private immutable _denomination;
    uint256 private immutable _issueVolume;
    uint256 private immutable _couponRate;
    uint8 private immutable _couponType;
    uint8 private immutable _couponFrequency;
    uint8 private immutable _dayCountBasis;
    uint64 private immutable _issueDate;
    uint64 private immutable _maturityDate;

    string private _isin;
    address private _impactOracle;
    uint64[] private _couponDates;
    uint64[] private _recordDates;

    mapping(address => Account) private _accounts;
    mapping(address => address) private _successor;   // lost wallet => the wallet it was recovered to
    /// @dev A snapshot entry written at record date k (1-based): the balance held at every record
    ///      date in (from, k]. Entries of one wallet form a chain through `link`, the entry written
    ///      before this one (0: none); record dates in (link, from] had a zero balance, which is
    ///      never written. One storage slot.
    struct Snapshot {
        uint224 balance;
        uint16 from;
        uint16 link;
    }

    mapping(address => mapping(uint256 => Snapshot)) private _balanceAt;
    mapping(uint256 => Snapshot) private _supplyAt;

    Application[] private _applications;

    mapping(bytes32 => Document) private _documents;
    bytes32[] private _documentNames;

    /// @param terms the bond's terms (validated here; see GreenBondInvalidTerms)
    /// @param registry_ the HolderRegistry that gates receivers
    /// @param admin the issuer: receives DEFAULT_ADMIN_ROLE and AGENT_ROLE
    constructor(Terms memory terms, IHolderRegistry registry_, address admin) ERC20(terms.name, terms.symbol) {
        if (address(registry_) == address(0) || admin == address(0)) revert GreenBondZeroAddress();
        _validateTerms(terms);
        _registry = registry_;
        _currency = terms.currency;
        _denomination = terms.denomination;
        _issueVolume = terms.issueVolume;
        _couponRate = terms.couponRate;
        _couponType = terms.couponType;
        _couponFrequency = terms.couponFrequency;
        _dayCountBasis = terms.dayCountBasis;
        _issueDate = terms.issueDate;
        _maturityDate = terms.maturityDate;
        _isin = terms.isin;
        _couponDates = terms.couponDates;
        for (uint256 i = 0; i < terms.couponDates.length; ++i) {
            _recordDates.push(terms.couponDates[i] - terms.recordDateOffset);
        }
        _nextRecordDate = _recordDates.length == 0 ? type(uint64).max : _recordDates[0];
        _redemptionDate = terms.maturityDate;
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

    // ------------------------------------------------------------------ ERC-7092 terms

    /// @inheritdoc IGreenBond
    function isin() external view returns (string memory) {
        return _isin;
    }

    /// @inheritdoc IGreenBond
    function currency() external view returns (address) {
        return _currency;
    }

    /// @inheritdoc IGreenBond
    function denomination() external view returns (uint256) {
        return _denomination;
    }

    /// @inheritdoc IGreenBond
    function issueVolume() external view returns (uint256) {
        return _issueVolume;
    }

    /// @inheritdoc IGreenBond
    function couponRate() external view returns (uint256) {
        return _couponRate;
    }

    /// @inheritdoc IGreenBond
    function couponType() external view returns (uint8) {
        return _couponType;
    }

    /// @inheritdoc IGreenBond
    function couponFrequency() external view returns (uint256) {
        return _couponFrequency;
    }

    /// @inheritdoc IGreenBond
    function issueDate() external view returns (uint256) {
        return _issueDate;
    }

    /// @inheritdoc IGreenBond
    function maturityDate() external view returns (uint256) {
        return _maturityDate;
    }

    /// @inheritdoc IGreenBond
    function dayCountBasis() external view returns (uint8) {
        return _dayCountBasis;
    }

    /// @inheritdoc IGreenBond
    function couponDates() external view returns (uint256[] memory dates) {
        dates = new uint256[](_couponDates.length);
        for (uint256 i = 0; i < dates.length; ++i) dates[i] = _couponDates[i];
    }

    /// @inheritdoc IGreenBond
    function principalOf(address account) external view returns (uint256) {
        return balanceOf(account) * _denomination;
    }

    /// @inheritdoc IGreenBond
    function maxSupply() public view returns (uint256) {
        return _issueVolume / _denomination;
    }

    // ------------------------------------------------------------------ links

    /// @inheritdoc IGreenBond
    function registry() external view returns (IHolderRegistry) {
        return _registry;
    }

    /// @inheritdoc IGreenBond
    function impactOracle() external view returns (address) {
        return _impactOracle;
    }

    /// @inheritdoc IGreenBond
    function setImpactOracle(address oracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (oracle == address(0)) revert GreenBondZeroAddress();
        emit ImpactOracleSet(_impactOracle, oracle);
        _impactOracle = oracle;
    }

    // ------------------------------------------------------------------ transfer rules

    /// @inheritdoc IGreenBond
    function canTransfer(address from, address to, uint256 amount) external view returns (bool, bytes32) {
        bytes32 reason = _restriction(from, to, amount, false);
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

    // ------------------------------------------------------------------ ERC-3643 agent controls

    /// @inheritdoc IGreenBond
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mintChecked(to, amount);
    }

    /// @inheritdoc IGreenBond
    function batchMint(address[] calldata toList, uint256[] calldata amounts) external onlyRole(MINTER_ROLE) {
        if (toList.length != amounts.length) revert GreenBondLengthMismatch(toList.length, amounts.length);
        for (uint256 i = 0; i < toList.length; ++i) {
            _mintChecked(toList[i], amounts[i]);
        }
    }

    /// @inheritdoc IGreenBond
    function burn(address user, uint256 amount) external onlyRole(BURNER_ROLE) {
        _makeMovable(user, amount);
        _burn(user, amount);
    }

    /// @inheritdoc IGreenBond
    /// @dev A recovered (lost) wallet stays frozen for good.
    function setAddressFrozen(address userAddress, bool freeze) external onlyRole(FREEZER_ROLE) {
        Account storage a = _accounts[userAddress];
        if (!freeze && a.recovered) revert GreenBondWalletRecovered(userAddress, _successor[userAddress]);
        a.frozen = freeze;
        emit AddressFrozen(userAddress, freeze, msg.sender);
    }

    /// @inheritdoc IGreenBond
    function isFrozen(address userAddress) external view returns (bool) {
        return _accounts[userAddress].frozen;
    }

    /// @inheritdoc IGreenBond
    function freezePartialTokens(address userAddress, uint256 amount) external onlyRole(FREEZER_ROLE) {
        Account storage a = _accounts[userAddress];
        uint256 unfrozen = balanceOf(userAddress) - a.frozenTokens;
        if (amount > unfrozen) revert GreenBondInsufficientUnlocked(userAddress, unfrozen, amount);
        if (amount > unfrozen - a.escrowed) _releaseLocks(userAddress);
        a.frozenTokens += uint96(amount);
        emit TokensFrozen(userAddress, amount);
    }

    /// @inheritdoc IGreenBond
    function unfreezePartialTokens(address userAddress, uint256 amount) external onlyRole(FREEZER_ROLE) {
        Account storage a = _accounts[userAddress];
        if (amount > a.frozenTokens) revert GreenBondInsufficientFrozen(userAddress, a.frozenTokens, amount);
        a.frozenTokens -= uint96(amount);
        emit TokensUnfrozen(userAddress, amount);
    }

    /// @inheritdoc IGreenBond
    function getFrozenTokens(address userAddress) external view returns (uint256) {
        return _accounts[userAddress].frozenTokens;
    }

    /// @inheritdoc IGreenBond
    function forcedTransfer(address from, address to, uint256 amount)
        external
        onlyRole(FORCED_TRANSFER_ROLE)
        returns (bool)
    {
        if (from == to) revert GreenBondSelfTransfer(from);
        if (to == address(0)) revert GreenBondZeroAddress();
        if (_accounts[to].recovered) revert GreenBondWalletRecovered(to, _successor[to]);
        if (!_registry.isEligible(to)) revert GreenBondNotEligible(to);
        _makeMovable(from, amount);
        _transfer(from, to, amount);
        emit ForcedTransfer(from, to, amount, msg.sender);
        return true;
    }

    /// @inheritdoc IGreenBond
    /// @dev Locks and escrows of the lost wallet are released first (LocksReleased). The lost
    ///      wallet is marked recovered: it can never receive units again, and the coupon schedule
    ///      pays whatever it is still owed (coupons at passed record dates) to `successorOf` it.
    function recoveryAddress(address lostWallet, address newWallet) external onlyRole(RECOVERY_ROLE) returns (bool) {
        bytes32 investorId = _registry.investorOf(lostWallet);
        if (investorId == bytes32(0) || lostWallet == newWallet || _registry.investorOf(newWallet) != investorId) {
            revert GreenBondNotSameInvestor(lostWallet, newWallet);
        }
        Account storage lost = _accounts[lostWallet];
        if (lost.recovered) revert GreenBondWalletRecovered(lostWallet, _successor[lostWallet]);
        Account storage recovered = _accounts[newWallet];
        if (recovered.recovered) revert GreenBondWalletRecovered(newWallet, _successor[newWallet]);
        if (recovered.frozen) revert GreenBondWalletFrozen(newWallet);
        if (!_registry.isEligible(newWallet)) revert GreenBondNotEligible(newWallet);
        _releaseLocks(lostWallet);
        uint256 balance = balanceOf(lostWallet);
        uint96 frozenTokens = lost.frozenTokens;
        bool wasFrozen = lost.frozen;
        lost.frozenTokens = 0;
        lost.recovered = true;
        lost.frozen = true; // one flag on the transfer path: a frozen receiver, read as recovered
        _successor[lostWallet] = newWallet;
        if (balance != 0) _transfer(lostWallet, newWallet, balance);
        if (frozenTokens != 0) {
            recovered.frozenTokens += frozenTokens;
            emit TokensUnfrozen(lostWallet, frozenTokens);
            emit TokensFrozen(newWallet, frozenTokens);
        }
        if (wasFrozen) {
            recovered.frozen = true;
            emit AddressFrozen(newWallet, true, msg.sender);
        } else {
            emit AddressFrozen(lostWallet, true, msg.sender);
        }
        emit RecoverySuccess(lostWallet, newWallet, investorId);
        return true;
    }

    /// @inheritdoc IGreenBond
    function successorOf(address wallet) public view returns (address current) {
        current = wallet;
        while (_accounts[current].recovered) current = _successor[current];
    }

    /// @inheritdoc IGreenBond
    function paymentWallet(address wallet) external view returns (address payee, bool frozen) {
        payee = successorOf(wallet);
        frozen = _accounts[payee].frozen;
    }

    // ------------------------------------------------------------------ transfer approval

    /// @inheritdoc IGreenBond
    function applyForTransfer(address to, uint256 amount, bytes calldata data) external returns (uint256 id) {
        if (!_transferApprovalRequired) revert GreenBondApprovalNotRequired();
        _requireAllowed(msg.sender, to, amount, true);
        Account storage a = _accounts[msg.sender];
        a.escrowed += uint96(amount);
        id = _applications.length;
        _applications.push(Application(msg.sender, uint96(amount), to, PENDING, a.lockGeneration, data));
        emit TransferApplied(id, msg.sender, to, amount, data);
    }

    /// @inheritdoc IGreenBond
    function approveTransfer(uint256 id) external onlyRole(AGENT_ROLE) {
        Application storage app = _pendingApplication(id);
        app.status = APPROVED;
        _accounts[app.from].escrowed -= app.amount;
        _requireAllowed(app.from, app.to, app.amount, true);
        _transfer(app.from, app.to, app.amount);
        emit TransferApproved(id, msg.sender);
    }

    /// @inheritdoc IGreenBond
    function cancelTransfer(uint256 id) external {
        Application storage app = _pendingApplication(id);
        if (msg.sender != app.from && !hasRole(AGENT_ROLE, msg.sender)) {
            revert GreenBondNotApplicantOrAgent(id, msg.sender);
        }
        app.status = CANCELLED;
        _accounts[app.from].escrowed -= app.amount;
        emit TransferCancelled(id, msg.sender);
    }

    /// @inheritdoc IGreenBond
    function transferApplication(uint256 id) external view returns (TransferApplication memory) {
        if (id >= _applications.length) revert GreenBondUnknownApplication(id);
        Application storage app = _applications[id];
        return TransferApplication(app.from, app.to, app.amount, _applicationStatus(app), app.data);
    }

    /// @inheritdoc IGreenBond
    function transferApplicationCount() external view returns (uint256) {
        return _applications.length;
    }

    /// @inheritdoc IGreenBond
    function escrowedOf(address account) external view returns (uint256) {
        return _accounts[account].escrowed;
    }

    // ------------------------------------------------------------------ settlement locks

    /// @inheritdoc IGreenBond
    /// @dev Refused while the bond is paused or the wallet frozen: a frozen holder can put nothing
    ///      out of the agent's reach. The units stay in the wallet (and count at record dates).
    function lockUnits(address holder, uint256 amount) external onlyRole(LOCKER_ROLE) returns (uint256 generation) {
        Account storage a = _accounts[holder];
        if (paused()) revert GreenBondLockRefused(holder, PAUSED);
        if (a.frozen) revert GreenBondLockRefused(holder, SENDER_FROZEN);
        uint256 free = balanceOf(holder) - a.frozenTokens - a.escrowed;
        if (amount > free) revert GreenBondInsufficientUnlocked(holder, free, amount);
        a.escrowed += uint96(amount);
        emit UnitsLocked(holder, amount, msg.sender);
        return a.lockGeneration;
    }

    /// @inheritdoc IGreenBond
    /// @dev A lock of an earlier generation was already released by an agent action: nothing to do.
    function unlockUnits(address holder, uint256 amount, uint256 generation) external onlyRole(LOCKER_ROLE) {
        Account storage a = _accounts[holder];
        if (generation != a.lockGeneration) return;
        if (amount > a.escrowed) revert GreenBondInsufficientUnlocked(holder, a.escrowed, amount);
        a.escrowed -= uint96(amount);
        emit UnitsUnlocked(holder, amount, msg.sender);
    }

    /// @inheritdoc IGreenBond
    function transferLocked(address from, address to, uint256 amount, uint256 generation)
        external
        onlyRole(LOCKER_ROLE)
    {
        Account storage a = _accounts[from];
        if (generation != a.lockGeneration) revert GreenBondLockReleased(from, generation);
        if (amount > a.escrowed) revert GreenBondInsufficientUnlocked(from, a.escrowed, amount);
        a.escrowed -= uint96(amount);
        emit UnitsUnlocked(from, amount, msg.sender);
        _requireAllowed(from, to, amount, true);
        _transfer(from, to, amount);
    }

    /// @inheritdoc IGreenBond
    function lockGeneration(address holder) external view returns (uint256) {
        return _accounts[holder].lockGeneration;
    }

    // ------------------------------------------------------------------ redemption

    /// @inheritdoc IGreenBond
    function redemptionDate() external view returns (uint256) {
        return _redemptionDate;
    }

    /// @inheritdoc IGreenBond
    /// @dev Only free units of an unfrozen wallet: frozen units are never redeemed by this path.
    function redeemUnits(address holder, uint256 amount) external onlyRole(REDEMPTION_ROLE) {
        if (block.timestamp < _redemptionDate) revert GreenBondNotRedeemable(_redemptionDate);
        Account storage a = _accounts[holder];
        if (a.frozen) revert GreenBondWalletFrozen(holder);
        uint256 unfrozen = balanceOf(holder) - a.frozenTokens;
        if (amount > unfrozen) revert GreenBondInsufficientUnlocked(holder, unfrozen, amount);
        if (amount > unfrozen - a.escrowed) _releaseLocks(holder);
        _burn(holder, amount);
    }

    /// @inheritdoc IGreenBond
    function setCallDate(uint64 callDate) external onlyRole(REDEMPTION_ROLE) {
        if (callDate <= block.timestamp || callDate >= _redemptionDate) revert GreenBondBadCallDate(callDate);
        emit RedemptionDateSet(_redemptionDate, callDate);
        _redemptionDate = callDate;
    }

    // ------------------------------------------------------------------ ERC-1643 documents

    /// @inheritdoc IGreenBond
    function setDocument(bytes32 name, string calldata uri, bytes32 documentHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (name == bytes32(0) || bytes(uri).length == 0) revert GreenBondInvalidDocument(name);
        Document storage d = _documents[name];
        if (d.index == 0) {
            _documentNames.push(name);
            d.index = uint32(_documentNames.length);
        }
        d.uri = uri;
        d.documentHash = documentHash;
        d.timestamp = uint64(block.timestamp);
        emit DocumentUpdated(name, uri, documentHash);
    }

    /// @inheritdoc IGreenBond
    function getDocument(bytes32 name) external view returns (string memory, bytes32, uint256) {
        Document storage d = _documents[name];
        if (d.index == 0) revert GreenBondUnknownDocument(name);
        return (d.uri, d.documentHash, d.timestamp);
    }

    /// @inheritdoc IGreenBond
    function removeDocument(bytes32 name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Document memory d = _documents[name];
        if (d.index == 0) revert GreenBondUnknownDocument(name);
        bytes32 last = _documentNames[_documentNames.length - 1];
        _documentNames[d.index - 1] = last;
        _documents[last].index = d.index;
        _documentNames.pop();
        delete _documents[name];
        emit DocumentRemoved(name, d.uri, d.documentHash);
    }

    /// @inheritdoc IGreenBond
    function getAllDocuments() external view returns (bytes32[] memory) {
        return _documentNames;
    }

    // ------------------------------------------------------------------ record dates

    /// @inheritdoc IGreenBond
    function recordDates() external view returns (uint256[] memory dates) {
        dates = new uint256[](_recordDates.length);
        for (uint256 i = 0; i < dates.length; ++i) dates[i] = _recordDates[i];
    }

    /// @inheritdoc IGreenBond
    function addRecordDate(uint64 recordDate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = _recordDates.length;
        if (recordDate <= block.timestamp || (n != 0 && recordDate <= _recordDates[n - 1]) || n >= type(uint16).max) {
            revert GreenBondBadRecordDate(recordDate);
        }
        _recordDates.push(recordDate);
        if (_recordDatesPassed == n) _nextRecordDate = recordDate;
        emit RecordDateAdded(n, recordDate);
    }

    /// @inheritdoc IGreenBond
    function balanceOfAt(address account, uint256 timepoint) external view returns (uint256) {
        uint16 key = _recordKey(timepoint);
        Account storage a = _accounts[account];
        if (key > a.snapshotKey) return balanceOf(account);
        return _lookup(_balanceAt[account], a.lastEntry, key);
    }

    /// @inheritdoc IGreenBond
    function totalSupplyAt(uint256 timepoint) external view returns (uint256) {
        uint16 key = _recordKey(timepoint);
        if (key > _supplySnapshotKey) return totalSupply();
        return _lookup(_supplyAt, _supplyLastEntry, key);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Every movement of units passes here: pause, then the lazy record-date snapshot.
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        uint16 passed = _passRecordDates();
        if (passed != 0) {
            if (from != address(0)) _snapshotBalance(from, passed);
            if (to != address(0)) _snapshotBalance(to, passed);
            if (from == address(0) || to == address(0)) _snapshotSupply(passed);
        }
        super._update(from, to, value);
    }

    /// @dev Advances the count of record dates passed; returns it.
    function _passRecordDates() private returns (uint16 passed) {
        passed = _recordDatesPassed;
        if (block.timestamp < _nextRecordDate) return passed;
        uint256 n = _recordDates.length;
        while (passed < n && _recordDates[passed] <= block.timestamp) {
            emit RecordDateReached(passed, _recordDates[passed]);
            ++passed;
        }
        _recordDatesPassed = passed;
        _nextRecordDate = passed < n ? _recordDates[passed] : type(uint64).max;
    }

    /// @dev Records the balance `account` held at the record dates passed since its last check
    ///      (it did not move in between, so it is the balance before this movement): one slot,
    ///      however many dates passed. Zero balances are not written (a gap in the chain reads as
    ///      zero), so a new holder pays only for its key.
    function _snapshotBalance(address account, uint16 passed) private {
        Account storage a = _accounts[account];
        uint16 key = a.snapshotKey;
        if (key >= passed) return;
        uint256 balance = balanceOf(account);
        if (balance != 0) {
            _balanceAt[account][passed] = Snapshot(uint224(balance), key, a.lastEntry);
            a.lastEntry = passed;
        }
        a.snapshotKey = passed;
    }

    function _snapshotSupply(uint16 passed) private {
        uint16 key = _supplySnapshotKey;
        if (key >= passed) return;
        uint256 supply = totalSupply();
        if (supply != 0) {
            _supplyAt[passed] = Snapshot(uint224(supply), key, _supplyLastEntry);
            _supplyLastEntry = passed;
        }
        _supplySnapshotKey = passed;
    }

    /// @dev Walks a snapshot chain back from its latest entry to the one covering record date `key`.
    function _lookup(mapping(uint256 => Snapshot) storage chain, uint16 entry, uint16 key) private view returns (uint256) {
        while (entry != 0 && entry >= key) {
            Snapshot storage s = chain[entry];
            if (key > s.from) return s.balance;
            entry = s.link; // the entry written before; dates between it and `from` held zero
        }
        return 0; // a gap: the balance was zero at `key`
    }

    /// @dev 1-based position of `timepoint` among the record dates; reverts if it is not one or is future.
    function _recordKey(uint256 timepoint) private view returns (uint16) {
        if (timepoint > block.timestamp) revert GreenBondFutureLookup(timepoint, block.timestamp);
        uint256 lo = 0;
        uint256 hi = _recordDates.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_recordDates[mid] < timepoint) lo = mid + 1;
            else hi = mid;
        }
        if (lo == _recordDates.length || _recordDates[lo] != timepoint) revert GreenBondNotARecordDate(timepoint);
        return uint16(lo + 1);
    }

    /// @dev The single rule book shared by canTransfer and every holder-initiated movement.
    function _restriction(address from, address to, uint256 amount, bool viaApproval)
        private
        view
        returns (bytes32)
    {
        if (paused()) return PAUSED;
        if (!_transferable) return NOT_TRANSFERABLE;
        if (_transferApprovalRequired && !viaApproval) return APPROVAL_REQUIRED;
        if (from == address(0) || to == address(0)) return ZERO_ADDRESS;
        Account storage sender = _accounts[from];
        if (sender.frozen) return SENDER_FROZEN;
        Account storage receiver = _accounts[to];
        // a recovered wallet is frozen for good: one read on the path of a compliant transfer
        if (receiver.frozen) return receiver.recovered ? RECEIVER_RECOVERED : RECEIVER_FROZEN;
        if (!_registry.isEligible(to)) return RECEIVER_NOT_ELIGIBLE;
        uint256 balance = balanceOf(from);
        if (balance < amount) return INSUFFICIENT_BALANCE;
        if (balance - sender.frozenTokens - sender.escrowed < amount) return TOKENS_LOCKED;
        return OK;
    }

    function _requireAllowed(address from, address to, uint256 amount, bool viaApproval) private view {
        bytes32 reason = _restriction(from, to, amount, viaApproval);
        if (reason != OK) revert GreenBondTransferNotAllowed(from, to, amount, reason);
    }

    function _pendingApplication(uint256 id) private view returns (Application storage app) {
        if (id >= _applications.length) revert GreenBondUnknownApplication(id);
        app = _applications[id];
        uint8 status = _applicationStatus(app);
        if (status != PENDING) revert GreenBondApplicationNotPending(id, status);
    }

    /// @dev A pending application whose escrow an agent action released reads as RELEASED.
    function _applicationStatus(Application storage app) private view returns (uint8) {
        if (app.status == PENDING && app.lockGeneration != _accounts[app.from].lockGeneration) return RELEASED;
        return app.status;
    }

    function _mintChecked(address to, uint256 amount) private {
        uint64 end = _redemptionDate;
        if (block.timestamp >= end) revert GreenBondMatured(end);
        if (to == address(0)) revert GreenBondZeroAddress();
        Account storage a = _accounts[to];
        if (a.frozen) {
            if (a.recovered) revert GreenBondWalletRecovered(to, _successor[to]);
            revert GreenBondWalletFrozen(to);
        }
        if (!_registry.isEligible(to)) revert GreenBondNotEligible(to);
        uint256 available = maxSupply() - totalSupply();
        if (amount > available) revert GreenBondIssueVolumeExceeded(amount, available);
        _mint(to, amount);
    }

    /// @dev Agent actions (burn, forced transfer) reach every unit: when the units not locked
    ///      fall short, every lock and escrow of the wallet is released first (LocksReleased); then
    ///      frozen units are unfrozen as far as the free balance lacks, as ERC-3643 does.
    function _makeMovable(address user, uint256 amount) private {
        Account storage a = _accounts[user];
        uint256 balance = balanceOf(user);
        if (amount > balance) revert GreenBondInsufficientUnlocked(user, balance, amount);
        if (amount > balance - a.escrowed) _releaseLocks(user);
        uint256 free = balance - a.escrowed - a.frozenTokens;
        if (amount > free) {
            uint256 shortfall = amount - free;
            a.frozenTokens -= uint96(shortfall);
            emit TokensUnfrozen(user, shortfall);
        }
    }

    /// @dev Releases every settlement lock and pending transfer application of `holder` at once:
    ///      the lock generation moves on, so lockers and applications of the old one are void.
    function _releaseLocks(address holder) private {
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

    function _validateTerms(Terms memory t) private pure {
        if (bytes(t.name).length == 0) revert GreenBondInvalidTerms("name");
        if (bytes(t.symbol).length == 0) revert GreenBondInvalidTerms("symbol");
        if (bytes(t.isin).length == 0) revert GreenBondInvalidTerms("isin");
        if (t.currency == address(0)) revert GreenBondInvalidTerms("currency");
        if (t.denomination == 0) revert GreenBondInvalidTerms("denomination");
        if (t.issueVolume == 0 || t.issueVolume % t.denomination != 0) revert GreenBondInvalidTerms("issueVolume");
        if (t.issueVolume / t.denomination > type(uint96).max) revert GreenBondInvalidTerms("issueVolume");
        if (t.couponRate > 1_000_000) revert GreenBondInvalidTerms("couponRate");
        if (t.couponType > 2 || (t.couponType == 0) != (t.couponRate == 0)) revert GreenBondInvalidTerms("couponType");
        uint8 f = t.couponFrequency;
        if (f != 1 && f != 2 && f != 4 && f != 12) revert GreenBondInvalidTerms("couponFrequency");
        if (t.dayCountBasis > 3) revert GreenBondInvalidTerms("dayCountBasis");
        if (t.issueDate == 0 || t.maturityDate <= t.issueDate) revert GreenBondInvalidTerms("maturityDate");
        uint256 n = t.couponDates.length;
        if ((t.couponType != 0 && n == 0) || n >= type(uint16).max) revert GreenBondInvalidTerms("couponDates");
        uint64 previous = t.issueDate;
        for (uint256 i = 0; i < n; ++i) {
            uint64 d = t.couponDates[i];
            if (d <= previous || d - previous <= t.recordDateOffset) revert GreenBondInvalidTerms("couponDates");
            previous = d;
        }
        if (n != 0 && previous != t.maturityDate) revert GreenBondInvalidTerms("couponDates");
    }
}
