// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICouponSchedule
/// @notice The bond's coupon and redemption schedule, and the paying agent's tool to pay it in
///         the settlement token: fund, then holders claim or the agent pushes; coupons paid by
///         bank transfer are recorded so they cannot be paid again on chain.
interface ICouponSchedule {
    /// @notice State of one coupon.
    enum CouponStatus {
        Scheduled, // not funded, payment date not reached
        Funded,    // funded, payment date not reached
        Paying,    // funded, payment date reached, some holders not yet paid
        Paid,      // every unit at the record date paid (on or off chain)
        Late       // payment date reached and not funded
    }

    /// @notice State of the bond's principal.
    enum BondStatus {
        Active,    // before the redemption date
        Matured,   // redemption date reached, units outstanding
        Redeemed   // every unit redeemed (supply is zero)
    }

    /// @notice How a holder was paid a coupon.
    enum Payment {
        None,
        OnChain,
        OffChain
    }

    event CouponFunded(uint256 indexed index, uint256 amount, uint256 unitsAtRecord, address indexed payingAgent);
    event CouponPaid(uint256 indexed index, address indexed holder, uint256 units, uint256 amount, address indexed by);
    event CouponPaidOffchain(uint256 indexed index, address indexed holder, uint256 units, bytes32 indexed paymentRef);
    event CouponLate(uint256 indexed index, uint256 paymentDate);
    event ExcessReturned(uint256 indexed index, address indexed to, uint256 amount);
    event RedemptionFunded(uint256 amount, uint256 units, address indexed payingAgent);
    event Redeemed(address indexed holder, uint256 units, uint256 amount, address indexed by);
    event BondFullyRedeemed(uint256 timestamp);
    event BondCalled(uint256 callDate, uint256 lastCouponPerUnit, address indexed issuer);

    error ScheduleUnknownCoupon(uint256 index);
    error ScheduleRecordDateNotReached(uint256 index, uint256 recordDate);
    error SchedulePaymentDateNotReached(uint256 index, uint256 paymentDate);
    error ScheduleAlreadyFunded(uint256 index);
    error ScheduleNotFunded(uint256 index);
    error ScheduleNothingOwed(uint256 index, address holder);
    error ScheduleAlreadyPaid(uint256 index, address holder);
    error ScheduleTransferShortfall(uint256 expected, uint256 received);
    error ScheduleNotLate(uint256 index);
    error ScheduleRedemptionNotFunded();
    error ScheduleRedemptionAlreadyFunded();
    error ScheduleRedemptionUnderfunded(uint256 shortfall);
    error ScheduleNotMatured(uint256 redemptionDate);
    error ScheduleNothingToRedeem(address holder);
    error ScheduleHolderFrozen(address holder);
    error ScheduleUnsupportedDayCount(uint8 dayCountBasis);
    error ScheduleBadCall(uint256 callDate);
    error ScheduleInvalidConfig(bytes32 field);

    /// @notice Number of coupons (including a call coupon after an early call).
    function couponCount() external view returns (uint256);
    /// @notice Payment date of coupon `i`, unix seconds.
    function couponDate(uint256 i) external view returns (uint256);
    /// @notice Record date of coupon `i`: who holds then is paid.
    function recordDate(uint256 i) external view returns (uint256);
    /// @notice Coupon per unit, in the settlement token's smallest unit (truncated).
    function couponPerUnit(uint256 i) external view returns (uint256);
    /// @notice Units held at the record date x per-unit amount.
    function couponOf(address holder, uint256 i) external view returns (uint256);
    /// @notice Total owed for coupon `i` (all units at its record date).
    function couponTotal(uint256 i) external view returns (uint256);
    /// @notice Whether `holder` has been paid coupon `i` (on or off chain).
    function isPaid(address holder, uint256 i) external view returns (bool);
    /// @notice How `holder` was paid coupon `i`.
    function paymentOf(address holder, uint256 i) external view returns (Payment);
    /// @notice The state of coupon `i`.
    function couponStatus(uint256 i) external view returns (CouponStatus);
    /// @notice Whether coupon `i` is past its payment date and unfunded.
    function isLate(uint256 i) external view returns (bool);

    /// @notice Pulls exactly what coupon `i` still owes on chain (paying agent).
    function fundCoupon(uint256 i) external;
    /// @notice Pays the caller coupon `i`.
    function claimCoupon(uint256 i) external returns (uint256 amount);
    /// @notice Pays the caller every funded, due, unpaid coupon.
    function claimAll() external returns (uint256 amount);
    /// @notice Pushes coupon `i` to `holders` (paying agent); already-paid holders are skipped.
    function distributeCoupon(uint256 i, address[] calldata holders) external;
    /// @notice Records coupon `i` as paid outside the chain to `holders` (paying agent).
    function recordOffchainPayment(uint256 i, address[] calldata holders, bytes32 paymentRef) external;
    /// @notice Emits CouponLate for an unfunded coupon past its payment date (anyone).
    function flagLate(uint256 i) external;

    /// @notice Redemption date: maturity, or the call date after an early call.
    function redemptionDate() external view returns (uint256);
    /// @notice Principal per unit (par).
    function redemptionPerUnit() external view returns (uint256);
    /// @notice Pulls the principal of every outstanding unit (paying agent). Called again after
    ///         units were issued since, it pulls only the shortfall.
    function fundRedemption() external;
    /// @notice Redeems all the caller's units at par. Refused while the principal held falls short
    ///         of the outstanding units (units issued after funding): no holder is paid from
    ///         another's principal.
    function redeem() external returns (uint256 amount);
    /// @notice Redeems `holders` (paying agent).
    function redeemFor(address[] calldata holders) external;
    /// @notice The bond's state: active, matured or redeemed.
    function bondStatus() external view returns (BondStatus);
    /// @notice Calls the bond early on coupon date `callDate`, at par (issuer); see README.
    function callBond(uint64 callDate) external;
}
