// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IEligibilityCache
/// @notice A token that keeps, per wallet, the registry expiry it last read (so a transfer need not
///         call the registry), and that the registry tells of every change that can end a wallet's
///         eligibility before that expiry.
interface IEligibilityCache {
    /// @notice Forgets what the token cached about `wallet`; its next receipt asks the registry.
    ///         Only the token's registry may call it.
    function clearEligibility(address wallet) external;
}
