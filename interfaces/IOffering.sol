// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOffering
/// @notice The primary offering of a bond: eligible investors subscribe in a window escrowing the
///         cash, the allotting role allots (in full, or pro rata when oversubscribed), and
///         settlement mints each investor's units against their cash, atomically per investor.
interface IOffering {
    enum State {
        Pending,    // before the window opens
        Open,       // subscriptions accepted
        Closed,     // window over, not yet allotted
        Allotted,   // allotment fixed; settlement from the settlement date
        Settled,    // every subscription settled or refunded
        Cancelled,  // cancelled: everyone is refunded
        Lapsed      // the settlement deadline passed first: every unsettled investor is refunded
    }

    struct Terms {
        uint64 openTime;
        uint64 closeTime;
        uint64 settlementDate;     // the bond's issue date
        uint64 settlementDeadline; // unsettled subscriptions are refundable from then on
        uint256 pricePerUnit;      // settlement token smallest units per bond unit (par by default)
        uint256 minUnits;          // per investor
        uint256 maxUnits;          // per investor
        uint256 unitsOffered;
        address issuer;            // receives the cash
        address underwriter;       // takes the unsold units at the issue price; zero: best efforts
    }

    struct Subscription {
        uint96 requested;
        uint96 allotted;           // fixed at settlement (see allottedOf before)
        bool settled;
        uint256 escrow;            // cash held for the investor
    }

    event Subscribed(address indexed investor, uint256 units, uint256 cash);
    event SubscriptionCancelled(address indexed investor, uint256 refund);
    event Allotted(uint256 totalRequested, uint256 unitsOffered, bool proRata, uint256 underwriterUnits);
    event SettledInvestor(address indexed investor, uint256 units, uint256 paid, uint256 refunded);
    event RefundedIneligible(address indexed investor, uint256 refund);
    event UnderwriterSettled(address indexed underwriter, uint256 units, uint256 paid);
    event OfferingSettled(uint256 unitsIssued, uint256 cashRaised);
    event OfferingCancelled(address indexed by);
    event Refunded(address indexed investor, uint256 amount);

    error OfferingBadTerms(bytes32 field);
    error OfferingWrongState(State state);
    error OfferingNotEligible(address investor);
    error OfferingUnitsOutOfRange(uint256 units, uint256 min, uint256 max);
    error OfferingNothingToCancel(address investor);
    error OfferingNothingToRefund(address investor);
    error OfferingTransferShortfall(uint256 expected, uint256 received);
    error OfferingTooEarly(uint256 notBefore);
    error OfferingUnderwriterPending();

    /// @notice The offering's state now.
    function state() external view returns (State);
    /// @notice Subscribes `units` more (eligible investors, window open); pulls units x price.
    function subscribe(uint256 units) external;
    /// @notice Withdraws the caller's whole subscription before the window closes.
    function cancelSubscription() external;
    /// @notice Fixes the allotment after the window closed (allotting role).
    function allot() external;
    /// @notice Units `investor` is allotted (full, or floor of the pro-rata share).
    function allottedOf(address investor) external view returns (uint256);
    /// @notice Settles `investors` from the settlement date: mint, pay the issuer, refund the rest.
    function settle(address[] calldata investors) external;
    /// @notice The underwriter takes the unsold units at the issue price (underwritten offerings).
    function settleUnderwriter() external;
    /// @notice Cancels the offering before it settles (allotting role); everyone is refunded.
    function cancelOffering() external;
    /// @notice Refunds `investors` after a cancellation, or the unsettled ones once the offering
    ///         lapsed (anyone may push).
    function refund(address[] calldata investors) external;
    /// @notice Refunds the caller after a cancellation, or once the offering lapsed unsettled.
    function withdrawRefund() external;
    /// @notice The caller's subscription.
    function subscriptionOf(address investor) external view returns (Subscription memory);
}
