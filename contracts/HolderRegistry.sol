// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IHolderRegistry} from "../interfaces/IHolderRegistry.sol";
import {IEligibilityCache} from "../interfaces/IEligibilityCache.sol";

/// @title HolderRegistry
/// @notice The bond's register of eligible wallets (the ibet PersonalInfo model): a wallet may
///         receive the bond only while registered and unexpired. Personal details exist on chain
///         only as ciphertext sealed to the issuer's public key, in the registration's event; the
///         record keeps their keccak256 (the registrar never sends plaintext). No on-chain list of
///         wallets: three slots a registration (about 110,000 gas, where storing the details and two
///         enumerations cost about 350,000); the register lists holders from the events.
///         `REGISTRAR_ROLE` administers the records, `DEFAULT_ADMIN_ROLE` the roles.
contract HolderRegistry is IHolderRegistry, AccessControl {
    

    /// @notice Role that registers, updates and removes holders.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Upper bound on the sealed details, to keep records and events bounded.
    uint256 public constant MAX_ENCRYPTED_INFO_LENGTH = 2048;
    /// @notice At most this many caching tokens: each update or removal calls every one.
    uint256 public constant MAX_CACHING_TOKENS = 8;

    mapping(address wallet => Holder) private _holders;
    uint256 private _holderCount;
    address[] private _cachingTokens;
    mapping(address token => bool) private _isCachingToken;

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
        h.detailsHash = keccak256(encryptedInfo);
        ++_holderCount;
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
        h.detailsHash = keccak256(encryptedInfo);
        emit HolderUpdated(wallet, investorId, country, expiresAt, encryptedInfo);
        _tellCachingTokens(wallet); // the expiry may have moved earlier
    }

    /// @inheritdoc IHolderRegistry
    function removeHolder(address wallet) external onlyRole(REGISTRAR_ROLE) {
        Holder storage h = _holders[wallet];
        if (h.expiresAt == 0) revert RegistryNotRegistered(wallet);
        bytes32 investorId = h.investorId;
        delete _holders[wallet];
        --_holderCount;
        emit HolderRemoved(wallet, investorId);
        _tellCachingTokens(wallet);
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
    function holderCount() external view returns (uint256) {
        return _holderCount;
    }

    /// @inheritdoc IHolderRegistry
    function addCachingToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = _cachingTokens.length;
        // a contract: a call to an address without code would revert every later update and removal
        if (token.code.length == 0 || _isCachingToken[token] || n >= MAX_CACHING_TOKENS) {
            revert RegistryBadCachingToken(token, n, MAX_CACHING_TOKENS);
        }
        _cachingTokens.push(token);
        _isCachingToken[token] = true;
        emit CachingTokenAdded(token);
    }

    /// @inheritdoc IHolderRegistry
    function cachingTokens() external view returns (address[] memory) {
        return _cachingTokens;
    }

    /// @inheritdoc IHolderRegistry
    function eligibilityFor(address wallet) external view returns (uint64 expiresAt, bool callerIsTold) {
        return (_holders[wallet].expiresAt, _isCachingToken[msg.sender]);
    }

    /// @dev Every caching token forgets `wallet` (after the record changed: checks-effects-interactions).
    function _tellCachingTokens(address wallet) private {
        uint256 n = _cachingTokens.length;
        for (uint256 i = 0; i < n; ++i) {
            IEligibilityCache(_cachingTokens[i]).clearEligibility(wallet);
        }
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
