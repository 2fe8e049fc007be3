// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICouponSchedule} from "../interfaces/ICouponSchedule.sol";
import {Calendar} from "./utils/Calendar.sol";
import {ExactTransfer} from "./utils/ExactTransfer.sol";
import {IGreenBond} from "../interfaces/IGreenBond.sol";

/// @title CouponSchedule
/// @notice Pays the bond's coupons and principal in its settlement token. The paying agent
///         (`PAYING_AGENT_ROLE`) funds each coupon after its record date with exactly what is
///         owed; after the payment date holders claim or the agent pushes; coupons paid by bank
///         transfer are recorded and cannot be claimed. At maturity each redeemed unit is burnt
///         and paid its face value. The issuer (`DEFAULT_ADMIN_ROLE`) may call the bond early.
///         Controls hold: a frozen wallet is paid nothing (its coupon and principal wait here);
///         frozen units are never redeemed by the holder (their principal waits until the agent
///         unfreezes or moves them); what a recovered wallet is owed goes to the wallet it was
///         recovered to (`bond.successorOf`). Coupons unclaimed `COUPON_CLAIM_PERIOD` after their
///         payment date go back to the paying agent. Needs the bond's REDEMPTION_ROLE, nothing more.
/// @dev Amounts are integers in the settlement token's smallest unit. A regular period pays
///      denomination x rate / 1e6 / frequency; an irregular first or last period (and a call
///      period) pays Actual/365 Fixed accrual; each per-unit amount is truncated.
contract CouponSchedule is ICouponSchedule, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role of the paying agent.
    bytes32 public constant PAYING_AGENT_ROLE = keccak256("PAYING_AGENT_ROLE");

    /// @notice How long a coupon can be claimed after its payment date: five years, the
    ///         prescription of coupon claims under Japan's Companies Act (art. 701(2)).
    uint256 public constant COUPON_CLAIM_PERIOD = 1_826 days;

    uint256 private constant PPM = 1_000_000;

    /// @dev Three slots, laid out for a claim, which reads the first two and writes only the
    ///      second: the fixed terms; what a payment changes; what only an off-chain payment
    ///      changes (docs/contracts.md, "What a claim costs").
    struct Coupon {
        uint64 date;            // 0 only for an index that is not a coupon
        uint64 recordDate;
        uint128 perUnit;
        bool funded;
        bool lateFlagged;
        bool reclaimed;         // unclaimed remainder returned to the paying agent after the claim period
        uint96 paidUnits;       // units paid, on and off chain
        uint136 held;           // settlement tokens held for this coupon
        uint96 offchainUnits;   // of the paid units, those paid off chain
    }

    /// @notice The bond this schedule pays.
    IGreenBond public immutable bond;
    /// @notice The settlement token (the bond's currency()).
    IERC20 public immutable settlementToken;
    /// @notice Seconds east of UTC of the bond's calendar (JST: 32400); used to tell regular periods.
    int32 public immutable utcOffset;
    /// @notice Minimum notice, in seconds, between callBond and the call date.
    uint64 public immutable callNotice;

    uint256 private immutable _denomination;
    uint256 private immutable _rate;
    uint256 private immutable _frequency;

    // A mapping, not an array: a coupon is found without reading a length (a cold slot per call).
    mapping(uint256 index => Coupon) private _coupons;
    uint256 private _couponCount;
    mapping(uint256 index => mapping(address holder => Payment)) private _payments;

    uint64 private _redemptionDate;
    bool private _redemptionFunded;
    bool private _called;
    bool private _fullyRedeemed;
    uint256 private _principalHeld;

    /// @param bond_ the GreenBond; @param admin the issuer (DEFAULT_ADMIN_ROLE)
    /// @param payingAgent receives PAYING_AGENT_ROLE
    /// @param utcOffset_ seconds east of UTC of the bond's calendar dates
    /// @param callNotice_ minimum notice for an early call, seconds
    constructor(IGreenBond bond_, address admin, address payingAgent, int32 utcOffset_, uint64 callNotice_) {
        if (address(bond_) == address(0) || admin == address(0) || payingAgent == address(0)) {
            revert ScheduleInvalidConfig("address");
        }
        if (utcOffset_ < -14 hours || utcOffset_ > 14 hours) revert ScheduleInvalidConfig("utcOffset");
        bond = bond_;
        settlementToken = IERC20(bond_.currency());
        utcOffset = utcOffset_;
        callNotice = callNotice_;
        _denomination = bond_.denomination();
        _rate = bond_.couponRate();
        _frequency = bond_.couponFrequency();
        uint256[] memory dates = bond_.couponDates();
        uint256[] memory records = bond_.recordDates();
        if (records.length < dates.length) revert ScheduleInvalidConfig("recordDates");
        uint8 dayCount = bond_.dayCountBasis();
        uint256 previous = bond_.issueDate();
        int256 step = int256(12 / _frequency);
        for (uint256 i = 0; i < dates.length; ++i) {
            uint256 perUnit;
            // Regular when the two dates lie on one schedule of `step`-month periods: checked both
            // ways, since a date that happens to fall on a month end (30 Jun of 30 Jun / 30 Dec,
            // 28 Feb of 28 Aug / 28 Feb) rolls back to a month end but forward to the same day.
            if (
                Calendar.addMonths(dates[i], -step, utcOffset) == previous
                    || Calendar.addMonths(previous, step, utcOffset) == dates[i]
            ) {
                perUnit = (_denomination * _rate) / (PPM * _frequency);
            } else {
                // only the first and last periods may be irregular (the deploy validates this)
                if (dayCount != 0) revert ScheduleUnsupportedDayCount(dayCount);
                perUnit = Calendar.accruedActual365(_denomination, _rate, previous, dates[i]);
            }
            _coupons[i] = Coupon(uint64(dates[i]), uint64(records[i]), uint128(perUnit), false, false, false, 0, 0, 0);
            previous = dates[i];
        }
        _couponCount = dates.length;
        _redemptionDate = uint64(bond_.maturityDate());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAYING_AGENT_ROLE, payingAgent);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICouponSchedule
    function couponCount() external view returns (uint256) {
        return _couponCount;
    }

    /// @inheritdoc ICouponSchedule
    function couponDate(uint256 i) external view returns (uint256) {
        return _coupon(i).date;
    }

    /// @inheritdoc ICouponSchedule
    function recordDate(uint256 i) external view returns (uint256) {
        return _coupon(i).recordDate;
    }

    /// @inheritdoc ICouponSchedule
    function couponPerUnit(uint256 i) external view returns (uint256) {
        return _coupon(i).perUnit;
    }

    /// @inheritdoc ICouponSchedule
    function couponOf(address holder, uint256 i) public view returns (uint256) {
        Coupon storage c = _coupon(i);
        return _unitsAt(holder, c) * c.perUnit;
    }

    /// @inheritdoc ICouponSchedule
    function couponTotal(uint256 i) public view returns (uint256) {
        Coupon storage c = _coupon(i);
        if (block.timestamp < c.recordDate) revert ScheduleRecordDateNotReached(i, c.recordDate);
        return bond.totalSupplyAt(c.recordDate) * c.perUnit;
    }

    /// @inheritdoc ICouponSchedule
    function isPaid(address holder, uint256 i) external view returns (bool) {
        _coupon(i);
        return _payments[i][holder] != Payment.None;
    }

    /// @inheritdoc ICouponSchedule
    function paymentOf(address holder, uint256 i) external view returns (Payment) {
        _coupon(i);
        return _payments[i][holder];
    }

    /// @inheritdoc ICouponSchedule
    function couponStatus(uint256 i) public view returns (CouponStatus) {
        Coupon storage c = _coupon(i);
        if (block.timestamp >= c.recordDate && c.paidUnits == bond.totalSupplyAt(c.recordDate)) {
            if (c.funded || c.paidUnits == c.offchainUnits) return CouponStatus.Paid;
        }
        if (!c.funded) return block.timestamp >= c.date ? CouponStatus.Late : CouponStatus.Scheduled;
        return block.timestamp >= c.date ? CouponStatus.Paying : CouponStatus.Funded;
    }

    /// @inheritdoc ICouponSchedule
    function isLate(uint256 i) public view returns (bool) {
        return couponStatus(i) == CouponStatus.Late;
    }

    /// @notice Settlement tokens held for coupon `i` and not yet paid out.
    function couponHeld(uint256 i) external view returns (uint256) {
        return _coupon(i).held;
    }

    /// @notice Settlement tokens held for principal not yet paid out.
    function principalHeld() external view returns (uint256) {
        return _principalHeld;
    }

    /// @inheritdoc ICouponSchedule
    function redemptionDate() external view returns (uint256) {
        return _redemptionDate;
    }

    /// @inheritdoc ICouponSchedule
    function redemptionPerUnit() external view returns (uint256) {
        return _denomination;
    }

    /// @notice Whether the principal of every outstanding unit is held here.
    function redemptionFunded() external view returns (bool) {
        return _redemptionFunded && _principalHeld >= _principalOwed();
    }

    /// @inheritdoc ICouponSchedule
    function redeemableOf(address holder) external view returns (uint256 payable_, uint256 withheld) {
        // a wallet holding units was never recovered: its own freeze is its payee's
        uint256 balance = IERC20(address(bond)).balanceOf(holder);
        uint256 frozenUnits = bond.isFrozen(holder) ? balance : bond.getFrozenTokens(holder);
        return ((balance - frozenUnits) * _denomination, frozenUnits * _denomination);
    }

    /// @notice Whether the issuer called the bond early.
    function called() external view returns (bool) {
        return _called;
    }

    /// @inheritdoc ICouponSchedule
    function bondStatus() public view returns (BondStatus) {
        if (_fullyRedeemed) return BondStatus.Redeemed;
        return block.timestamp >= _redemptionDate ? BondStatus.Matured : BondStatus.Active;
    }

    // ------------------------------------------------------------------ coupons

    /// @inheritdoc ICouponSchedule
    function fundCoupon(uint256 i) external onlyRole(PAYING_AGENT_ROLE) nonReentrant {
        Coupon storage c = _coupon(i);
        if (c.funded) revert ScheduleAlreadyFunded(i);
        if (block.timestamp < c.recordDate) revert ScheduleRecordDateNotReached(i, c.recordDate);
        uint256 units = bond.totalSupplyAt(c.recordDate);
        uint256 amount = (units - c.offchainUnits) * c.perUnit;
        c.funded = true;
        c.held = SafeCast.toUint136(amount);
        _pull(amount);
        emit CouponFunded(i, amount, units, msg.sender);
    }

    /// @inheritdoc ICouponSchedule
    function claimCoupon(uint256 i) external nonReentrant returns (uint256 amount) {
        return _claim(i, msg.sender);
    }

    /// @inheritdoc ICouponSchedule
    function claimCouponOf(uint256 i, address holder) external nonReentrant returns (uint256 amount) {
        return _claim(i, holder);
    }

    /// @inheritdoc ICouponSchedule
    function claimAll() external nonReentrant returns (uint256 amount) {
        _requirePayee(msg.sender);
        uint256 n = _couponCount;
        for (uint256 i = 0; i < n; ++i) {
            Coupon storage c = _coupons[i];
            if (block.timestamp < c.date) break;
            if (c.funded && !_claimOver(c) && _payments[i][msg.sender] == Payment.None) {
                amount += _pay(i, c, msg.sender, msg.sender);
            }
        }
    }

    /// @inheritdoc ICouponSchedule
    function distributeCoupon(uint256 i, address[] calldata holders) external onlyRole(PAYING_AGENT_ROLE) nonReentrant {
        Coupon storage c = _coupon(i);
        if (block.timestamp < c.date) revert SchedulePaymentDateNotReached(i, c.date);
        if (!c.funded) revert ScheduleNotFunded(i);
        if (_claimOver(c)) revert ScheduleClaimPeriodOver(i, c.date + COUPON_CLAIM_PERIOD);
        for (uint256 k = 0; k < holders.length; ++k) {
            address holder = holders[k];
            if (_payments[i][holder] != Payment.None) continue;
            (address payee, bool frozen) = bond.paymentWallet(holder);
            if (frozen) {
                if (_unitsAt(holder, c) != 0) emit CouponSkipped(i, holder, "FROZEN");
                continue;
            }
            _pay(i, c, holder, payee);
        }
    }

    /// @inheritdoc ICouponSchedule
    function reclaimUnclaimed(uint256 i) external onlyRole(PAYING_AGENT_ROLE) nonReentrant {
        Coupon storage c = _coupon(i);
        uint256 end = c.date + COUPON_CLAIM_PERIOD;
        if (block.timestamp < end) revert ScheduleClaimPeriodNotOver(i, end);
        if (c.reclaimed || c.held == 0) revert ScheduleNothingToReclaim(i);
        uint256 amount = c.held;
        c.held = 0;
        c.reclaimed = true;
        settlementToken.safeTransfer(msg.sender, amount);
        emit UnclaimedCouponReclaimed(i, msg.sender, amount);
    }

    /// @inheritdoc ICouponSchedule
    function recordOffchainPayment(uint256 i, address[] calldata holders, bytes32 paymentRef)
        external
        onlyRole(PAYING_AGENT_ROLE)
        nonReentrant
    {
        Coupon storage c = _coupon(i);
        if (block.timestamp < c.recordDate) revert ScheduleRecordDateNotReached(i, c.recordDate);
        // slither-disable-next-line uninitialized-local
        uint256 released;
        for (uint256 k = 0; k < holders.length; ++k) {
            address holder = holders[k];
            if (_payments[i][holder] != Payment.None) revert ScheduleAlreadyPaid(i, holder);
            uint256 units = _unitsAt(holder, c);
            if (units == 0) revert ScheduleNothingOwed(i, holder);
            _payments[i][holder] = Payment.OffChain;
            c.paidUnits += SafeCast.toUint96(units);
            c.offchainUnits += SafeCast.toUint96(units);
            if (c.funded) released += units * c.perUnit;
            emit CouponPaidOffchain(i, holder, units, paymentRef);
        }
        if (released != 0) {
            // funded for holders since paid by bank transfer: return it to the paying agent
            c.held -= SafeCast.toUint136(released);
            settlementToken.safeTransfer(msg.sender, released);
            emit ExcessReturned(i, msg.sender, released);
        }
    }

    /// @inheritdoc ICouponSchedule
    function flagLate(uint256 i) external {
        Coupon storage c = _coupon(i);
        if (c.lateFlagged || !isLate(i)) revert ScheduleNotLate(i);
        c.lateFlagged = true;
        emit CouponLate(i, c.date);
    }

    // ------------------------------------------------------------------ redemption

    /// @inheritdoc ICouponSchedule
    function fundRedemption() external onlyRole(PAYING_AGENT_ROLE) nonReentrant {
        if (_fullyRedeemed) revert ScheduleRedemptionAlreadyFunded();
        uint256 owed = _principalOwed();
        if (_redemptionFunded && _principalHeld >= owed) revert ScheduleRedemptionAlreadyFunded();
        uint256 units = IERC20(address(bond)).totalSupply();
        uint256 amount = owed - _principalHeld; // the whole principal, or what units issued since add
        _redemptionFunded = true;
        _principalHeld = owed;
        _pull(amount);
        emit RedemptionFunded(amount, units, msg.sender);
    }

    /// @inheritdoc ICouponSchedule
    function returnSurplusPrincipal() external onlyRole(PAYING_AGENT_ROLE) nonReentrant returns (uint256 surplus) {
        uint256 owed = _principalOwed();
        if (_principalHeld <= owed) revert ScheduleNoSurplus(_principalHeld, owed);
        surplus = _principalHeld - owed;
        _principalHeld = owed;
        settlementToken.safeTransfer(msg.sender, surplus);
        emit PrincipalSurplusReturned(msg.sender, surplus);
    }

    /// @inheritdoc ICouponSchedule
    function redeem() external nonReentrant returns (uint256 amount) {
        _requireRedeemable();
        (address payee, bool frozen) = bond.paymentWallet(msg.sender);
        if (payee != msg.sender) revert ScheduleWalletRecovered(msg.sender, payee);
        if (frozen) revert ScheduleHolderFrozen(msg.sender);
        uint256 units = IERC20(address(bond)).balanceOf(msg.sender) - bond.getFrozenTokens(msg.sender);
        // slither-disable-next-line incorrect-equality
        if (units == 0) revert ScheduleNothingToRedeem(msg.sender);
        amount = _redeem(msg.sender, units);
    }

    /// @inheritdoc ICouponSchedule
    function redeemFor(address[] calldata holders) external onlyRole(PAYING_AGENT_ROLE) nonReentrant {
        _requireRedeemable();
        for (uint256 k = 0; k < holders.length; ++k) {
            address holder = holders[k];
            uint256 balance = IERC20(address(bond)).balanceOf(holder);
            // slither-disable-next-line incorrect-equality
            if (balance == 0) continue;
            if (bond.isFrozen(holder)) { // holding units, so never recovered: its own freeze
                emit RedemptionSkipped(holder, "FROZEN");
                continue;
            }
            uint256 units = balance - bond.getFrozenTokens(holder);
            // slither-disable-next-line incorrect-equality
            if (units == 0) {
                emit RedemptionSkipped(holder, "UNITS_FROZEN");
                continue;
            }
            _redeem(holder, units);
        }
    }

    /// @inheritdoc ICouponSchedule
    /// @dev The bond is callable on a coupon date (a Bermudan call): that coupon is paid as
    ///      scheduled, later coupons are cancelled, and every unit is redeemed at par on that date.
    ///      Notice: at least `callNotice` seconds, and the call coupon's record date not yet passed.
    function callBond(uint64 callDate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = _couponCount;
        if (_called || n == 0 || callDate < block.timestamp + callNotice || callDate >= _redemptionDate) {
            revert ScheduleBadCall(callDate); // a zero-coupon bond has no coupon date to be called on
        }
        uint256 k = 0;
        while (k < n - 1 && _coupons[k].date < callDate) ++k;
        Coupon storage last = _coupons[k];
        if (last.date != callDate || block.timestamp >= last.recordDate) revert ScheduleBadCall(callDate);
        while (n > k + 1) delete _coupons[--n];
        _couponCount = n;
        _called = true;
        _redemptionDate = callDate;
        emit BondCalled(callDate, last.perUnit, msg.sender);
        bond.setCallDate(callDate); // the call date ends issuance too

    }

    // ------------------------------------------------------------------ internals

    function _coupon(uint256 i) private view returns (Coupon storage) {
        Coupon storage c = _coupons[i];
        if (c.date == 0) revert ScheduleUnknownCoupon(i);
        return c;
    }

    function _unitsAt(address holder, Coupon storage c) private view returns (uint256) {
        if (block.timestamp < c.recordDate) return 0;
        return bond.balanceOfAt(holder, c.recordDate);
    }

    function _claimOver(Coupon storage c) private view returns (bool) {
        return block.timestamp >= c.date + COUPON_CLAIM_PERIOD;
    }

    /// @dev The caller claims coupon `i` of `holder` (itself, or a wallet recovered to it).
    function _claim(uint256 i, address holder) private returns (uint256 amount) {
        _requirePayee(holder);
        Coupon storage c = _coupon(i);
        if (block.timestamp < c.date) revert SchedulePaymentDateNotReached(i, c.date);
        if (!c.funded) revert ScheduleNotFunded(i);
        if (_claimOver(c)) revert ScheduleClaimPeriodOver(i, c.date + COUPON_CLAIM_PERIOD);
        if (_payments[i][holder] != Payment.None) revert ScheduleAlreadyPaid(i, holder);
        amount = _pay(i, c, holder, msg.sender);
        if (amount == 0) revert ScheduleNothingOwed(i, holder);
    }

    /// @dev The caller must be where `holder`'s payments go, and not frozen.
    function _requirePayee(address holder) private view {
        (address payee, bool frozen) = bond.paymentWallet(holder);
        if (payee != msg.sender) revert ScheduleWalletRecovered(holder, payee);
        if (frozen) revert ScheduleHolderFrozen(payee);
    }

    /// @dev Pays `payee` coupon `i` owed to `holder`; returns 0 (and records nothing) when nothing is owed.
    function _pay(uint256 i, Coupon storage c, address holder, address payee) private returns (uint256 amount) {
        uint256 units = _unitsAt(holder, c);
        if (units == 0) return 0;
        amount = units * c.perUnit;
        _payments[i][holder] = Payment.OnChain;
        c.paidUnits += SafeCast.toUint96(units);
        c.held -= SafeCast.toUint136(amount);
        settlementToken.safeTransfer(payee, amount);
        emit CouponPaid(i, holder, units, amount, msg.sender, payee);
    }

    function _requireRedeemable() private view {
        if (block.timestamp < _redemptionDate) revert ScheduleNotMatured(_redemptionDate);
        if (!_redemptionFunded) revert ScheduleRedemptionNotFunded();
        uint256 owed = _principalOwed();
        if (_principalHeld < owed) revert ScheduleRedemptionUnderfunded(owed - _principalHeld);
    }

    /// @dev Burns `units` free units of `holder` through the bond and pays their face value.
    function _redeem(address holder, uint256 units) private returns (uint256 amount) {
        amount = units * _denomination;
        _principalHeld -= amount;
        bond.redeemUnits(holder, units);
        settlementToken.safeTransfer(holder, amount);
        emit Redeemed(holder, units, amount, msg.sender);
        if (IERC20(address(bond)).totalSupply() == 0) {
            _fullyRedeemed = true;
            emit BondFullyRedeemed(block.timestamp);
        }
    }

    /// @dev The principal of every outstanding unit at par.
    function _principalOwed() private view returns (uint256) {
        return IERC20(address(bond)).totalSupply() * _denomination;
    }

    /// @dev Pulls `amount` from the caller and checks it all arrived (no fee-on-transfer tokens).
    function _pull(uint256 amount) private {
        uint256 received = ExactTransfer.transferFromMeasured(settlementToken, msg.sender, address(this), amount);
        if (received != amount) revert ScheduleTransferShortfall(amount, received);
    }
}
