// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondCore} from "./BondCore.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondTransferApprovals
/// @notice Transfers on the agent's approval (ERC-3643's transfer approval): when the issuer
///         requires it, a holder applies, the units wait in escrow in the holder's wallet, and the
///         agent approves (the units move) or either side cancels.
abstract contract BondTransferApprovals is BondCore {
    uint8 private constant PENDING = 1;
    uint8 private constant APPROVED = 2;
    uint8 private constant CANCELLED = 3;
    uint8 private constant RELEASED = 4;

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

    Application[] private _applications;

    /// @inheritdoc IGreenBond
    function applyForTransfer(address to, uint256 amount, bytes calldata data) external returns (uint256 id) {
        if (!_transferApprovalRequired) revert GreenBondApprovalNotRequired();
        _requireAllowed(msg.sender, to, amount, true);
        Account storage a = _accounts[msg.sender];
        a.escrowed += uint72(amount);
        id = _applications.length;
        _applications.push(Application(msg.sender, uint96(amount), to, PENDING, a.lockGeneration, data));
        emit TransferApplied(id, msg.sender, to, amount, data);
    }

    /// @inheritdoc IGreenBond
    function approveTransfer(uint256 id) external onlyRole(AGENT_ROLE) {
        Application storage app = _pendingApplication(id);
        app.status = APPROVED;
        _accounts[app.from].escrowed -= uint72(app.amount);
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
        _accounts[app.from].escrowed -= uint72(app.amount);
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
}
