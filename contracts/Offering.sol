// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOffering} from "../interfaces/IOffering.sol";
import {ExactTransfer} from "./utils/ExactTransfer.sol";
import {IGreenBond} from "../interfaces/IGreenBond.sol";

/// @title Offering
/// @notice Primary offering of a GreenBond against its settlement token. Investors eligible in the
///         bond's registry subscribe during the window and escrow their cash here; they may cancel
///         until it closes. The allotting role (`ALLOTTER_ROLE`: issuer or underwriter) fixes the
///         allotment after close: in full when not oversubscribed, else pro rata rounded DOWN per
///         investor (the rounding leftover stays unissued, or goes to the underwriter). From the
///         settlement date anyone settles investors in batches: each investor's allotted units are
///         minted, their cash goes to the issuer and the rest comes back, atomically; an investor
///         no longer eligible (or frozen) is refunded in full instead. An investor's cash is always
///         either settled into units or refundable: if the settlement deadline passes before an
///         investor is settled (allotment never made, mint refused, whatever the cause), the
///         offering lapses and the unsettled investors are refunded. Units, change and refunds of an
///         investor whose wallet was recovered go to the new wallet (`bond.successorOf`), never to the
///         lost one. Needs the bond's MINTER_ROLE only.
contract Offering is IOffering, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role that allots and may cancel.
    bytes32 public constant ALLOTTER_ROLE = keccak256("ALLOTTER_ROLE");

    /// @notice The bond offered.
    IGreenBond public immutable bond;
    /// @notice The settlement token (the bond's currency).
    IERC20 public immutable cash;

    Terms private _terms;
    mapping(address => Subscription) private _subs;
    address[] private _subscribers;
    uint256 public totalRequested;
    uint256 public unitsSettled;
    uint256 public cashRaised;
    uint256 public underwriterUnits;
    uint256 private _unsettledCount;
    uint256 private _settledCount;
    mapping(address => bool) private _listed;
    bool private _allotted;
    bool private _cancelled;
    bool private _underwriterDone;
    bool private _proRata;

    /// @param bond_ the bond; @param terms_ the offering's terms; @param admin receives both roles
    constructor(IGreenBond bond_, Terms memory terms_, address admin) {
        if (address(bond_) == address(0) || admin == address(0)) revert OfferingBadTerms("address");
        if (terms_.closeTime <= terms_.openTime) revert OfferingBadTerms("closeTime");
        if (terms_.settlementDate < terms_.closeTime) revert OfferingBadTerms("settlementDate");
        if (terms_.settlementDeadline <= terms_.settlementDate) revert OfferingBadTerms("settlementDeadline");
        if (terms_.pricePerUnit == 0) revert OfferingBadTerms("pricePerUnit");
        if (terms_.minUnits == 0 || terms_.maxUnits < terms_.minUnits) revert OfferingBadTerms("minUnits");
        if (terms_.unitsOffered == 0) revert OfferingBadTerms("unitsOffered");
        if (terms_.issuer == address(0)) revert OfferingBadTerms("issuer");
        bond = bond_;
        cash = IERC20(bond_.currency());
        _terms = terms_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ALLOTTER_ROLE, admin);
    }

    /// @notice The offering's terms.
    function terms() external view returns (Terms memory) {
        return _terms;
    }

    /// @inheritdoc IOffering
    function state() public view returns (State) {
        if (_cancelled) return State.Cancelled;
        if (_allotted) {
            bool underwriterOpen = underwriterUnits != 0 && !_underwriterDone;
            if (_unsettledCount == 0 && !underwriterOpen) return State.Settled;
        }
        if (block.timestamp >= _terms.settlementDeadline) return State.Lapsed;
        if (_allotted) return State.Allotted;
        if (block.timestamp < _terms.openTime) return State.Pending;
        if (block.timestamp < _terms.closeTime) return State.Open;
        return State.Closed;
    }

    /// @notice Every investor who ever subscribed (cancelled ones included).
    function subscribers() external view returns (address[] memory) {
        return _subscribers;
    }

    /// @inheritdoc IOffering
    function subscriptionOf(address investor) external view returns (Subscription memory) {
        return _subs[investor];
    }

    /// @inheritdoc IOffering
    function subscribe(uint256 units) external nonReentrant {
        _requireState(State.Open);
        if (!bond.registry().isEligible(msg.sender)) revert OfferingNotEligible(msg.sender);
        Subscription storage s = _subs[msg.sender];
        uint256 total = s.requested + units;
        if (units == 0 || total < _terms.minUnits || total > _terms.maxUnits) {
            revert OfferingUnitsOutOfRange(total, _terms.minUnits, _terms.maxUnits);
        }
        if (s.requested == 0) {
            if (!_listed[msg.sender]) {
                _listed[msg.sender] = true; // a re-subscription after cancelling keeps the first entry
                _subscribers.push(msg.sender);
            }
            ++_unsettledCount;
        }
        uint256 amount = units * _terms.pricePerUnit;
        s.requested = uint96(total);
        s.escrow += amount;
        totalRequested += units;
        _pull(msg.sender, amount);
        emit Subscribed(msg.sender, units, amount);
    }

    /// @inheritdoc IOffering
    function cancelSubscription() external nonReentrant {
        _requireState(State.Open);
        Subscription storage s = _subs[msg.sender];
        if (s.requested == 0) revert OfferingNothingToCancel(msg.sender);
        uint256 refundAmount = s.escrow;
        totalRequested -= s.requested;
        --_unsettledCount;
        s.requested = 0;
        s.escrow = 0;
        cash.safeTransfer(bond.successorOf(msg.sender), refundAmount);
        emit SubscriptionCancelled(msg.sender, refundAmount);
    }

    /// @inheritdoc IOffering
    function allot() external onlyRole(ALLOTTER_ROLE) {
        _requireState(State.Closed);
        _allotted = true;
        _proRata = totalRequested > _terms.unitsOffered;
        if (_terms.underwriter != address(0) && totalRequested < _terms.unitsOffered) {
            underwriterUnits = _terms.unitsOffered - totalRequested;
        }
        emit Allotted(totalRequested, _terms.unitsOffered, _proRata, underwriterUnits);
    }

    /// @inheritdoc IOffering
    function allottedOf(address investor) public view returns (uint256) {
        Subscription storage s = _subs[investor];
        if (s.settled) return s.allotted;
        if (!_allotted) return 0;
        if (!_proRata) return s.requested;
        return (uint256(s.requested) * _terms.unitsOffered) / totalRequested; // rounded down
    }

    /// @inheritdoc IOffering
    function settle(address[] calldata investors) external nonReentrant {
        _requireState(State.Allotted);
        if (block.timestamp < _terms.settlementDate) revert OfferingTooEarly(_terms.settlementDate);
        for (uint256 i = 0; i < investors.length; ++i) {
            address investor = investors[i];
            Subscription storage s = _subs[investor];
            if (s.settled || s.requested == 0) continue;
            uint256 units = allottedOf(investor);
            uint256 escrow = s.escrow;
            s.settled = true;
            s.escrow = 0;
            --_unsettledCount;
            ++_settledCount;
            // a wallet recovered since subscribing: units and change go to the investor's new wallet
            (address wallet, bool frozen) = bond.paymentWallet(investor);
            if (frozen || !bond.registry().isEligible(wallet)) {
                s.allotted = 0;
                cash.safeTransfer(wallet, escrow);
                emit RefundedIneligible(investor, escrow);
                continue;
            }
            uint256 paid = units * _terms.pricePerUnit;
            s.allotted = uint96(units);
            unitsSettled += units;
            cashRaised += paid;
            // slither-disable-next-line reentrancy-no-eth
            if (units != 0) bond.mint(wallet, units);
            if (paid != 0) cash.safeTransfer(_terms.issuer, paid);
            if (escrow > paid) cash.safeTransfer(wallet, escrow - paid);
            emit SettledInvestor(investor, units, paid, escrow - paid);
        }
        _emitIfSettled();
    }

    /// @inheritdoc IOffering
    function settleUnderwriter() external nonReentrant {
        _requireState(State.Allotted);
        if (block.timestamp < _terms.settlementDate) revert OfferingTooEarly(_terms.settlementDate);
        if (underwriterUnits == 0 || _underwriterDone) revert OfferingNothingToRefund(_terms.underwriter);
        _underwriterDone = true;
        uint256 paid = underwriterUnits * _terms.pricePerUnit;
        _pull(_terms.underwriter, paid);
        cash.safeTransfer(_terms.issuer, paid);
        bond.mint(_terms.underwriter, underwriterUnits);
        unitsSettled += underwriterUnits;
        cashRaised += paid;
        emit UnderwriterSettled(_terms.underwriter, underwriterUnits, paid);
        _emitIfSettled();
    }

    /// @inheritdoc IOffering
    function cancelOffering() external onlyRole(ALLOTTER_ROLE) {
        State st = state();
        // once settlement has begun the offering can no longer be cancelled: units may exist
        if (st == State.Settled || st == State.Cancelled || _settledCount != 0 || _underwriterDone) {
            revert OfferingWrongState(st);
        }
        _cancelled = true;
        emit OfferingCancelled(msg.sender);
    }

    /// @inheritdoc IOffering
    function refund(address[] calldata investors) external nonReentrant {
        State st = _requireRefundable();
        for (uint256 i = 0; i < investors.length; ++i) {
            _refund(investors[i], st);
        }
    }

    /// @inheritdoc IOffering
    function withdrawRefund() external nonReentrant {
        State st = _requireRefundable();
        if (_refund(msg.sender, st) == 0) revert OfferingNothingToRefund(msg.sender);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Refunds are open after a cancellation and once the offering lapsed.
    function _requireRefundable() private view returns (State st) {
        st = state();
        if (st != State.Cancelled && st != State.Lapsed) revert OfferingWrongState(st);
    }

    /// @dev Returns an unsettled investor's escrow; a lapsed subscription counts as settled with no units.
    function _refund(address investor, State st) private returns (uint256 amount) {
        Subscription storage s = _subs[investor];
        amount = s.escrow;
        if (amount == 0) return 0;
        s.escrow = 0;
        if (st == State.Lapsed) {
            s.settled = true;
            s.allotted = 0;
            --_unsettledCount;
        } else {
            s.requested = 0;
        }
        cash.safeTransfer(bond.successorOf(investor), amount);
        emit Refunded(investor, amount);
    }

    function _requireState(State wanted) private view {
        State st = state();
        if (st != wanted) revert OfferingWrongState(st);
    }

    function _emitIfSettled() private {
        if (state() == State.Settled) emit OfferingSettled(unitsSettled, cashRaised);
    }

    /// @dev Pulls `amount` from `from` and checks it all arrived (no fee-on-transfer tokens).
    function _pull(address from, uint256 amount) private {
        uint256 received = ExactTransfer.transferFromMeasured(cash, from, address(this), amount);
        if (received != amount) revert OfferingTransferShortfall(amount, received);
    }
}
