// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IHolderRegistry} from "../interfaces/IHolderRegistry.sol";

/// @title HolderRegistry
/// @notice The bond's register of eligible wallets (the ibet PersonalInfo model): a wallet may
///         receive the bond only while registered and unexpired. Personal details are stored
///         only as ciphertext sealed to the issuer's public key; the registrar never sends
///         plaintext. `REGISTRAR_ROLE` administers the records, `DEFAULT_ADMIN_ROLE` the roles.
contract HolderRegistry is IHolderRegistry, AccessControl {
    

    /// @notice Role that registers, updates and removes holders.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Upper bound on the sealed details, to keep records and events bounded.
    uint256 public constant MAX_ENCRYPTED_INFO_LENGTH = 2048;

    mapping(address wallet => Holder) private _holders;
    // Enumeration by swap-and-pop, positions stored plus one (kept free of OpenZeppelin's
    // EnumerableSet, whose Arrays.sol uses the Cancun MCOPY opcode from 5.5 on).
    address[] private _wallets;
    mapping(address wallet => uint256) private _walletPosition;
    mapping(bytes32 investorId => address[]) private _walletsOf;
    mapping(address wallet => uint256) private _investorWalletPosition;

    /// @param admin receives DEFAULT_ADMIN_ROLE and REGISTRAR_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @inheritdoc IHolderRegistry
    function registerHolder(
        address wallet,
        bytes32 investorId,
        uint16 country,
        uint64 expiresAt,
        bytes calldata encryptedInfo
    ) external onlyRole(REGISTRAR_ROLE) {
        _validate(wallet, investorId, expiresAt, encryptedInfo);
        Holder storage h = _holders[wallet];
        if (h.expiresAt != 0) revert RegistryAlreadyRegistered(wallet);
        h.investorId = investorId;
        h.country = country;
        h.expiresAt = expiresAt;
        h.registeredAt = uint64(block.timestamp);
        h.updatedAt = uint64(block.timestamp);
        h.encryptedInfo = encryptedInfo;
        _wallets.push(wallet);
        _walletPosition[wallet] = _wallets.length;
        _walletsOf[investorId].push(wallet);
        _investorWalletPosition[wallet] = _walletsOf[investorId].length;
        emit HolderRegistered(wallet, investorId, country, expiresAt, encryptedInfo);
    }

    /// @inheritdoc IHolderRegistry
    function updateHolder(
        address wallet,
        bytes32 investorId,
        uint16 country,
        uint64 expiresAt,
        bytes calldata encryptedInfo
    ) external onlyRole(REGISTRAR_ROLE) {
        _validate(wallet, investorId, expiresAt, encryptedInfo);
        Holder storage h = _holders[wallet];
        if (h.expiresAt == 0) revert RegistryNotRegistered(wallet);
        if (h.investorId != investorId) revert RegistryInvestorMismatch(wallet, h.investorId, investorId);
        h.country = country;
        h.expiresAt = expiresAt;
        h.updatedAt = uint64(block.timestamp);
        h.encryptedInfo = encryptedInfo;
        emit HolderUpdated(wallet, investorId, country, expiresAt, encryptedInfo);
    }

    /// @inheritdoc IHolderRegistry
    function removeHolder(address wallet) external onlyRole(REGISTRAR_ROLE) {
        Holder storage h = _holders[wallet];
        if (h.expiresAt == 0) revert RegistryNotRegistered(wallet);
        bytes32 investorId = h.investorId;
        delete _holders[wallet];
        _removeFrom(_wallets, _walletPosition, wallet);
        _removeFrom(_walletsOf[investorId], _investorWalletPosition, wallet);
        emit HolderRemoved(wallet, investorId);
    }

    /// @inheritdoc IHolderRegistry
    function isEligible(address wallet) external view returns (bool) {
        // expiresAt is non-zero exactly while registered (registration requires a future expiry)
        return _holders[wallet].expiresAt > block.timestamp;
    }

    /// @inheritdoc IHolderRegistry
    function holderOf(address wallet) external view returns (Holder memory) {
        return _holders[wallet];
    }

    /// @inheritdoc IHolderRegistry
    function investorOf(address wallet) external view returns (bytes32) {
        return _holders[wallet].investorId;
    }

    /// @inheritdoc IHolderRegistry
    function walletsOf(bytes32 investorId) external view returns (address[] memory) {
        return _walletsOf[investorId];
    }

    /// @inheritdoc IHolderRegistry
    function holderCount() external view returns (uint256) {
        return _wallets.length;
    }

    /// @notice The registered wallet at `index` (0 <= index < holderCount()); order is not stable.
    function holderAt(uint256 index) external view returns (address) {
        return _wallets[index];
    }

    function _removeFrom(address[] storage list, mapping(address => uint256) storage position, address wallet)
        private
    {
        uint256 index = position[wallet] - 1;
        address last = list[list.length - 1];
        list[index] = last;
        position[last] = index + 1;
        list.pop();
        delete position[wallet];
    }

    function _validate(address wallet, bytes32 investorId, uint64 expiresAt, bytes calldata encryptedInfo)
        private
        view
    {
        if (wallet == address(0)) revert RegistryZeroWallet();
        if (investorId == bytes32(0)) revert RegistryZeroInvestorId();
        if (expiresAt <= block.timestamp) revert RegistryExpiryInPast(expiresAt, block.timestamp);
        if (encryptedInfo.length == 0 || encryptedInfo.length > MAX_ENCRYPTED_INFO_LENGTH) {
            revert RegistryBadEncryptedInfo(encryptedInfo.length, MAX_ENCRYPTED_INFO_LENGTH);
        }
    }
}
