// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {BondCore} from "./bond/BondCore.sol";
import {BondTerms} from "./bond/BondTerms.sol";
import {BondAgentControls} from "./bond/BondAgentControls.sol";
import {BondSettlementLocks} from "./bond/BondSettlementLocks.sol";
import {BondTransferApprovals} from "./bond/BondTransferApprovals.sol";
import {BondDocuments} from "./bond/BondDocuments.sol";
import {BondRecordDates} from "./bond/BondRecordDates.sol";
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
/// @dev Composed from the extensions in contracts/bond/ on BondCore (ERC-20, roles, pause, the
///      transfer rules): BondTerms (ERC-7092), BondAgentControls (ERC-3643), BondSettlementLocks,
///      BondTransferApprovals, BondDocuments (ERC-1643) and BondRecordDates (record-date
///      balances). This contract adds only the link to the impact oracle.
contract GreenBond is
    BondAgentControls,
    BondSettlementLocks,
    BondTransferApprovals,
    BondDocuments,
    BondRecordDates
{
    address private _impactOracle;

    /// @param terms the bond's terms (validated here; see GreenBondInvalidTerms)
    /// @param registry_ the HolderRegistry that gates receivers
    /// @param admin the issuer: receives DEFAULT_ADMIN_ROLE and every agent role
    constructor(Terms memory terms, IHolderRegistry registry_, address admin)
        BondCore(terms.name, terms.symbol, registry_, admin)
        BondTerms(terms)
        BondRecordDates(terms.couponDates, terms.recordDateOffset)
    {}

    /// @dev Every movement of units passes here: nothing moves while the bond is paused; then the
    ///      record-date snapshots (BondRecordDates) and OpenZeppelin's ERC-20 bookkeeping. The
    ///      pause is checked first, as in the contract before its split (the split costs 39 gas a
    ///      movement, the extra internal call of composing through `_update`; docs/contracts.md).
    function _update(address from, address to, uint256 value) internal override(ERC20, BondRecordDates) {
        _requireNotPaused();
        super._update(from, to, value);
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
}
