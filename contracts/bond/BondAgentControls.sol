// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondTerms} from "./BondTerms.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondAgentControls
/// @notice The issuer's and the agent's powers over units, one role per action as ERC-3643 v4
///         splits them: mint (within the terms' issue volume, before redemption), burn, wallet and
///         partial freezes, forced transfer, recovery of a lost wallet, and the schedule's
///         redemption burn. Locks and escrows never stop them: the action releases them first
///         (LocksReleased).
abstract contract BondAgentControls is BondTerms {
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
        a.frozenTokens += uint72(amount);
        emit TokensFrozen(userAddress, amount);
    }

    /// @inheritdoc IGreenBond
    function unfreezePartialTokens(address userAddress, uint256 amount) external onlyRole(FREEZER_ROLE) {
        Account storage a = _accounts[userAddress];
        if (amount > a.frozenTokens) revert GreenBondInsufficientFrozen(userAddress, a.frozenTokens, amount);
        a.frozenTokens -= uint72(amount);
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
        _requireEligible(to);
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
        _requireEligible(newWallet);
        _releaseLocks(lostWallet);
        uint256 balance = balanceOf(lostWallet);
        uint72 frozenTokens = lost.frozenTokens;
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

    function _mintChecked(address to, uint256 amount) private {
        uint64 end = _redemptionDate;
        if (block.timestamp >= end) revert GreenBondMatured(end);
        if (to == address(0)) revert GreenBondZeroAddress();
        Account storage a = _accounts[to];
        if (a.frozen) {
            if (a.recovered) revert GreenBondWalletRecovered(to, _successor[to]);
            revert GreenBondWalletFrozen(to);
        }
        _requireEligible(to);
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
            a.frozenTokens -= uint72(shortfall);
            emit TokensUnfrozen(user, shortfall);
        }
    }
}
