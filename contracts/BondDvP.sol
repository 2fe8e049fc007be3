// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IBondDvP} from "../interfaces/IBondDvP.sol";
import {ExactTransfer} from "./utils/ExactTransfer.sol";
import {IGreenBond} from "../interfaces/IGreenBond.sol";

/// @title BondDvP
/// @notice Atomic delivery versus payment of GreenBond units against its settlement token. The
///         seller's units are locked in the seller's wallet (the bond's LOCKER_ROLE, granted to
///         this contract), never transferred here; delivery goes through the bond's own transfer
///         rules (`transferLocked`), so both parties are checked exactly as `canTransfer` would. On a
///         transfer-approval bond the buyer's cash waits here until an agent of the bond approves.
///         Offers expire within `maxOfferDuration`; an agent of the bond (AGENT_ROLE) can cancel any
///         open or pending trade; and an agent action on the bond (forced transfer, burn, freeze,
///         recovery, redemption) releases the seller's locks, after which the trade can only be
///         cancelled or expire (lock generations, see GreenBond.lockGeneration).
contract BondDvP is IBondDvP, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The bond traded.
    IGreenBond public immutable bond;
    /// @notice The settlement token.
    IERC20 public immutable cash;
    /// @inheritdoc IBondDvP
    uint64 public immutable maxOfferDuration;
    bytes32 private immutable _agentRole;

    Trade[] private _trades;

    /// @param bond_ the bond (which must grant this contract LOCKER_ROLE)
    /// @param maxOfferDuration_ the longest an offer may stay open, seconds (at least one hour)
    constructor(IGreenBond bond_, uint64 maxOfferDuration_) {
        if (address(bond_) == address(0)) revert DvPBadOffer("bond");
        if (maxOfferDuration_ < 1 hours) revert DvPBadOffer("maxOfferDuration");
        bond = bond_;
        cash = IERC20(bond_.currency());
        maxOfferDuration = maxOfferDuration_;
        _agentRole = keccak256("AGENT_ROLE");
    }

    /// @inheritdoc IBondDvP
    function offer(address buyer, uint256 units, uint256 price, uint64 expiry) external nonReentrant returns (uint256 id) {
        if (units == 0 || units > type(uint96).max) revert DvPBadOffer("units");
        if (expiry <= block.timestamp || expiry > block.timestamp + maxOfferDuration) revert DvPBadOffer("expiry");
        if (buyer == msg.sender) revert DvPBadOffer("buyer");
        // reverts unless the seller is unfrozen, the bond unpaused and that many units free
        uint256 generation = bond.lockUnits(msg.sender, units);
        id = _trades.length;
        _trades.push(Trade(msg.sender, buyer, address(0), uint96(units), expiry, Status.Open, uint16(generation), price));
        emit OfferMade(id, msg.sender, buyer, units, price, expiry);
    }

    /// @inheritdoc IBondDvP
    function accept(uint256 id) external nonReentrant {
        Trade storage t = _trade(id);
        if (t.status != Status.Open) revert DvPWrongStatus(id, t.status);
        if (block.timestamp >= t.expiry) revert DvPExpired(id, t.expiry);
        if (t.buyer != address(0) && t.buyer != msg.sender) revert DvPNotBuyer(id, msg.sender);
        if (msg.sender == t.seller) revert DvPNotBuyer(id, msg.sender);
        if (bond.lockGeneration(t.seller) != t.lockGeneration) revert DvPLockReleased(id);
        t.acceptedBy = msg.sender;
        if (bond.transferApprovalRequired()) {
            t.status = Status.PendingApproval;
            _pull(msg.sender, t.price);
            emit OfferAccepted(id, msg.sender, true);
        } else {
            t.status = Status.Settled;
            emit OfferAccepted(id, msg.sender, false);
            // both legs in this transaction: units through the bond's rules, cash buyer -> seller
            bond.transferLocked(t.seller, msg.sender, t.units, t.lockGeneration);
            _move(msg.sender, t.seller, t.price);
            emit TradeSettled(id, t.seller, msg.sender, t.units, t.price);
        }
    }

    /// @inheritdoc IBondDvP
    function approve(uint256 id) external nonReentrant {
        _requireAgent();
        Trade storage t = _trade(id);
        if (t.status != Status.PendingApproval) revert DvPWrongStatus(id, t.status);
        if (block.timestamp >= t.expiry) revert DvPExpired(id, t.expiry);
        t.status = Status.Settled;
        bond.transferLocked(t.seller, t.acceptedBy, t.units, t.lockGeneration);
        cash.safeTransfer(t.seller, t.price);
        emit TradeSettled(id, t.seller, t.acceptedBy, t.units, t.price);
    }

    /// @inheritdoc IBondDvP
    function reject(uint256 id) external nonReentrant {
        _requireAgent();
        Trade storage t = _trade(id);
        if (t.status != Status.PendingApproval) revert DvPWrongStatus(id, t.status);
        t.status = Status.Cancelled;
        _unwind(t);
        emit TradeRejected(id, msg.sender);
    }

    /// @inheritdoc IBondDvP
    function cancel(uint256 id) external nonReentrant {
        Trade storage t = _trade(id);
        if (t.status != Status.Open && t.status != Status.PendingApproval) revert DvPWrongStatus(id, t.status);
        bool party = msg.sender == t.seller || (t.status == Status.PendingApproval && msg.sender == t.acceptedBy);
        if (!party && !_isAgent(msg.sender)) revert DvPNotSeller(id, msg.sender);
        t.status = Status.Cancelled;
        _unwind(t);
        if (party) emit OfferCancelled(id, msg.sender);
        else emit TradeCancelledByAgent(id, msg.sender);
    }

    /// @inheritdoc IBondDvP
    function expire(uint256 id) external nonReentrant {
        Trade storage t = _trade(id);
        if (t.status != Status.Open && t.status != Status.PendingApproval) revert DvPWrongStatus(id, t.status);
        if (block.timestamp < t.expiry) revert DvPNotExpired(id, t.expiry);
        t.status = Status.Expired;
        _unwind(t);
        emit OfferExpired(id);
    }

    /// @inheritdoc IBondDvP
    function trade(uint256 id) external view returns (Trade memory) {
        return _trade(id);
    }

    /// @inheritdoc IBondDvP
    function tradeCount() external view returns (uint256) {
        return _trades.length;
    }

    // ------------------------------------------------------------------ internals

    function _trade(uint256 id) private view returns (Trade storage) {
        if (id >= _trades.length) revert DvPUnknownTrade(id);
        return _trades[id];
    }

    function _requireAgent() private view {
        if (!_isAgent(msg.sender)) revert DvPNotAgent(msg.sender);
    }

    function _isAgent(address account) private view returns (bool) {
        return IAccessControl(address(bond)).hasRole(_agentRole, account);
    }

    /// @dev Releases the seller's units (nothing, if an agent action already did) and refunds a
    ///      buyer who already paid.
    function _unwind(Trade storage t) private {
        bond.unlockUnits(t.seller, t.units, t.lockGeneration);
        if (t.acceptedBy != address(0) && t.price != 0) {
            address buyer = t.acceptedBy;
            t.acceptedBy = address(0);
            cash.safeTransfer(bond.successorOf(buyer), t.price); // never to a wallet recovered since

        }
    }

    /// @dev Moves cash from `from` to `to` directly, checking the receiver got all of it.
    function _move(address from, address to, uint256 amount) private {
        if (amount == 0) return;
        uint256 received = ExactTransfer.transferFromMeasured(cash, from, to, amount);
        if (received != amount) revert DvPTransferShortfall(amount, received);
    }

    function _pull(address from, uint256 amount) private {
        if (amount == 0) return;
        uint256 received = ExactTransfer.transferFromMeasured(cash, from, address(this), amount);
        if (received != amount) revert DvPTransferShortfall(amount, received);
    }
}
