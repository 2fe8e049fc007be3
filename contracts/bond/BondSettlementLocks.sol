// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondCore} from "./BondCore.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondSettlementLocks
/// @notice Locks for settlement contracts (LOCKER_ROLE, such as BondDvP): a holder's units stay in
///         the holder's wallet, locked, until the settlement delivers or unlocks them. An agent
///         action that needs the units releases every lock of the wallet at once (a new lock
///         generation), so a lock never puts units beyond the agent's reach.
abstract contract BondSettlementLocks is BondCore {
    /// @inheritdoc IGreenBond
    /// @dev Refused while the bond is paused or the wallet frozen: a frozen holder can put nothing
    ///      out of the agent's reach. The units stay in the wallet (and count at record dates).
    function lockUnits(address holder, uint256 amount) external onlyRole(LOCKER_ROLE) returns (uint256 generation) {
        Account storage a = _accounts[holder];
        if (paused()) revert GreenBondLockRefused(holder, PAUSED);
        if (a.frozen) revert GreenBondLockRefused(holder, SENDER_FROZEN);
        uint256 free = balanceOf(holder) - a.frozenTokens - a.escrowed;
        if (amount > free) revert GreenBondInsufficientUnlocked(holder, free, amount);
        a.escrowed += uint72(amount);
        emit UnitsLocked(holder, amount, msg.sender);
        return a.lockGeneration;
    }

    /// @inheritdoc IGreenBond
    /// @dev A lock of an earlier generation was already released by an agent action: nothing to do.
    function unlockUnits(address holder, uint256 amount, uint256 generation) external onlyRole(LOCKER_ROLE) {
        Account storage a = _accounts[holder];
        if (generation != a.lockGeneration) return;
        if (amount > a.escrowed) revert GreenBondInsufficientUnlocked(holder, a.escrowed, amount);
        a.escrowed -= uint72(amount);
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
        a.escrowed -= uint72(amount);
        emit UnitsUnlocked(from, amount, msg.sender);
        _requireAllowed(from, to, amount, true);
        _transfer(from, to, amount);
    }

    /// @inheritdoc IGreenBond
    function lockGeneration(address holder) external view returns (uint256) {
        return _accounts[holder].lockGeneration;
    }
}
