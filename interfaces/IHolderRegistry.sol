// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IHolderRegistry
/// @notice Which wallets may hold the bond, and each holder's personal details encrypted to the
///         issuer's public key (never plaintext on chain). Several wallets may belong to one investor.
///         The sealed details travel in the HolderRegistered / HolderUpdated events; the record
///         keeps only what the transfer rules need and the details' keccak256, which vouches for
///         the event's bytes. Wallets are listed from the events (the off-chain register does).
interface IHolderRegistry {
    /// @notice A holder record as stored on chain.
    struct Holder {
        bytes32 investorId;     // pseudonymous investor identifier; several wallets may share one
        uint16 country;         // ISO 3166-1 numeric country code (392 = Japan)
        uint64 expiresAt;       // unix seconds after which the wallet is no longer eligible
        uint64 registeredAt;    // unix seconds of the first registration
        uint64 updatedAt;       // unix seconds of the last change
        bytes32 detailsHash;    // keccak256 of the sealed details (in the last HolderRegistered/HolderUpdated event)
    }

    /// @notice A wallet was registered.
    event HolderRegistered(
        address indexed wallet, bytes32 indexed investorId, uint16 country, uint64 expiresAt, bytes encryptedInfo
    );
    /// @notice A registered wallet's record was replaced.
    event HolderUpdated(
        address indexed wallet, bytes32 indexed investorId, uint16 country, uint64 expiresAt, bytes encryptedInfo
    );
    /// @notice A wallet was removed; it can no longer receive the bond.
    event HolderRemoved(address indexed wallet, bytes32 indexed investorId);
    /// @notice `token` caches eligibility: from now on it is told of every update and removal.
    event CachingTokenAdded(address indexed token);

    /// @notice The wallet is the zero address.
    error RegistryZeroWallet();
    /// @notice The investor id is zero.
    error RegistryZeroInvestorId();
    /// @notice The expiry is not in the future.
    error RegistryExpiryInPast(uint64 expiresAt, uint256 nowTimestamp);
    /// @notice The encrypted details are empty or longer than the limit.
    error RegistryBadEncryptedInfo(uint256 length, uint256 maxLength);
    /// @notice The wallet is already registered (use updateHolder).
    error RegistryAlreadyRegistered(address wallet);
    /// @notice The wallet is not registered.
    error RegistryNotRegistered(address wallet);
    /// @notice updateHolder may not move a wallet to another investor.
    error RegistryInvestorMismatch(address wallet, bytes32 registered, bytes32 given);
    /// @notice The token is not a contract, is already told of changes, or the list is full.
    error RegistryBadCachingToken(address token, uint256 count, uint256 maxCount);

    /// @notice Registers `wallet` as belonging to `investorId`.
    function registerHolder(
        address wallet,
        bytes32 investorId,
        uint16 country,
        uint64 expiresAt,
        bytes calldata encryptedInfo
    ) external;

    /// @notice Replaces the record of a registered `wallet` (same investor).
    function updateHolder(
        address wallet,
        bytes32 investorId,
        uint16 country,
        uint64 expiresAt,
        bytes calldata encryptedInfo
    ) external;

    /// @notice Removes `wallet`; it keeps what it holds but can receive nothing more.
    function removeHolder(address wallet) external;

    /// @notice True when `wallet` is registered and its registration has not expired.
    function isEligible(address wallet) external view returns (bool);

    /// @notice The stored record of `wallet` (all zero when unregistered).
    function holderOf(address wallet) external view returns (Holder memory);

    /// @notice The investor id `wallet` is registered to (zero when unregistered).
    function investorOf(address wallet) external view returns (bytes32);

    /// @notice Number of registered wallets.
    function holderCount() external view returns (uint256);

    /// @notice Adds a token that caches eligibility (IEligibilityCache): every later updateHolder
    ///         and removeHolder calls its `clearEligibility(wallet)`. A token can never be taken
    ///         off the list, so what it cached stays right.
    function addCachingToken(address token) external;

    /// @notice The tokens told of every update and removal, in the order they were added.
    function cachingTokens() external view returns (address[] memory);

    /// @notice `wallet`'s expiry (0: not registered; eligible while it is in the future), and
    ///         whether the caller is on the list of caching tokens, so may cache it until then.
    function eligibilityFor(address wallet) external view returns (uint64 expiresAt, bool callerIsTold);
}
