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
    /// @notice Coupon `index` owed to `holder` was paid to `payee` (the holder, or the wallet it was recovered to).
    event CouponPaid(uint256 indexed index, address indexed holder, uint256 units, uint256 amount, address indexed by, address payee);
    /// @notice distributeCoupon left `holder` unpaid (`reason`: "FROZEN"); the coupon waits here.
    event CouponSkipped(uint256 indexed index, address indexed holder, bytes32 reason);
    /// @notice After the claim period, the unclaimed remainder of coupon `index` went back to `to`.
    event UnclaimedCouponReclaimed(uint256 indexed index, address indexed to, uint256 amount);
    event CouponPaidOffchain(uint256 indexed index, address indexed holder, uint256 units, bytes32 indexed paymentRef);
    event CouponLate(uint256 indexed index, uint256 paymentDate);
    event ExcessReturned(uint256 indexed index, address indexed to, uint256 amount);
    event RedemptionFunded(uint256 amount, uint256 units, address indexed payingAgent);
    event Redeemed(address indexed holder, uint256 units, uint256 amount, address indexed by);
    /// @notice redeemFor left `holder` unredeemed (`reason`: "FROZEN" or "UNITS_FROZEN"); its principal waits here.
    event RedemptionSkipped(address indexed holder, bytes32 reason);
    /// @notice Principal held beyond what the outstanding units are owed went back to `to`.
    event PrincipalSurplusReturned(address indexed to, uint256 amount);
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
    /// @notice What `wallet` is owed goes to `successor` (it was recovered): claim from there.
    error ScheduleWalletRecovered(address wallet, address successor);
    error ScheduleClaimPeriodOver(uint256 index, uint256 end);
    error ScheduleClaimPeriodNotOver(uint256 index, uint256 end);
    error ScheduleNothingToReclaim(uint256 index);
    /// @notice No principal beyond what the outstanding units are owed.
    error ScheduleNoSurplus(uint256 held, uint256 owed);

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
    /// @notice Pays the caller coupon `i` (refused to a frozen or recovered wallet, and after the claim period).
    function claimCoupon(uint256 i) external returns (uint256 amount);
    /// @notice Pays the caller coupon `i` owed to `holder`, a wallet recovered to the caller (or the caller).
    function claimCouponOf(uint256 i, address holder) external returns (uint256 amount);
    /// @notice Pays the caller every funded, due, unpaid coupon within its claim period.
    function claimAll() external returns (uint256 amount);
    /// @notice Pushes coupon `i` to `holders` (paying agent), each to its payment wallet; already-paid
    ///         holders are skipped, frozen ones too (CouponSkipped: their coupon waits here).
    function distributeCoupon(uint256 i, address[] calldata holders) external;
    /// @notice Returns coupon `i`'s unclaimed remainder to the paying agent once its claim period ended.
    function reclaimUnclaimed(uint256 i) external;
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
    /// @notice Redeems the caller's free units at par (frozen units wait for the agent; a frozen
    ///         wallet redeems nothing). Refused while the principal held falls short of the
    ///         outstanding units (units issued after funding): no holder is paid from another's principal.
    function redeem() external returns (uint256 amount);
    /// @notice Redeems the free units of `holders` (paying agent); frozen ones are skipped with
    ///         RedemptionSkipped, locks and escrows do not stop it.
    function redeemFor(address[] calldata holders) external;
    /// @notice Principal `holder` can redeem now, and principal withheld for its frozen units.
    function redeemableOf(address holder) external view returns (uint256 payable_, uint256 withheld);
    /// @notice Returns principal held beyond what the outstanding units are owed (paying agent).
    function returnSurplusPrincipal() external returns (uint256 surplus);
    /// @notice The bond's state: active, matured or redeemed.
    function bondStatus() external view returns (BondStatus);
    /// @notice Calls the bond early on coupon date `callDate`, at par (issuer); see README.
    function callBond(uint64 callDate) external;
}
