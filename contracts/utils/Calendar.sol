// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Calendar
/// @notice Calendar-month arithmetic on Unix timestamps in a fixed-offset time zone (JST is
///         +32400 s), and the Actual/365 Fixed accrual the bond's coupons use. Pure integer maths.
/// @dev Days to and from a proleptic Gregorian date use H. Hinnant's algorithms
///      (https://howardhinnant.github.io/date_algorithms.html), valid for any date of a bond's life.
library Calendar {
    uint256 internal constant DAY = 86_400;
    uint256 internal constant PPM = 1_000_000;

    /// @dev Accrual of one unit of face value `denomination` at `ratePpm` (parts per million a
    ///      year) from `start` to `end`, Actual/365 Fixed, whole days, truncated.
    function accruedActual365(uint256 denomination, uint256 ratePpm, uint256 start, uint256 end)
        internal
        pure
        returns (uint256)
    {
        // slither-disable-next-line divide-before-multiply
        uint256 days_ = (end - start) / DAY;
        return (denomination * ratePpm * days_) / (PPM * 365);
    }

    /// @dev `ts` moved by `months` calendar months (negative: back) in the time zone `utcOffset`
    ///      seconds east of UTC (end of month stays end of month; other days clamp to the month's
    ///      length); the time of day is kept.
    function addMonths(uint256 ts, int256 months, int256 utcOffset) internal pure returns (uint256) {
        int256 local = int256(ts) + utcOffset;
        int256 dayNumber = local / int256(DAY);
        int256 secondsOfDay = local % int256(DAY);
        // slither-disable-next-line write-after-write
        (int256 y, int256 m, int256 d) = civilFromDays(dayNumber);
        bool endOfMonth = d == daysInMonth(y, m);
        int256 index = y * 12 + (m - 1) + months;
        y = index / 12;
        m = (index % 12) + 1;
        int256 dim = daysInMonth(y, m);
        if (endOfMonth || d > dim) d = dim;
        return uint256(daysFromCivil(y, m, d) * int256(DAY) + secondsOfDay - utcOffset);
    }

    /// @dev Days in month `m` (1-12) of year `y`, Gregorian leap years.
    function daysInMonth(int256 y, int256 m) internal pure returns (int256) {
        if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? int256(29) : int256(28);
        if (m == 4 || m == 6 || m == 9 || m == 11) return 30;
        return 31;
    }

    /// @dev Days since 1970-01-01 of the proleptic Gregorian date y-m-d.
    function daysFromCivil(int256 y, int256 m, int256 d) internal pure returns (int256) {
        y -= m <= 2 ? int256(1) : int256(0);
        // slither-disable-next-line divide-before-multiply
        int256 era = (y >= 0 ? y : y - 399) / 400;
        int256 yoe = y - era * 400;
        int256 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        int256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    /// @dev The proleptic Gregorian date of day `z` since 1970-01-01.
    function civilFromDays(int256 z) internal pure returns (int256 y, int256 m, int256 d) {
        z += 719468;
        // slither-disable-next-line divide-before-multiply
        int256 era = (z >= 0 ? z : z - 146096) / 146097;
        int256 doe = z - era * 146097;
        // slither-disable-next-line divide-before-multiply
        int256 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        int256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        // slither-disable-next-line divide-before-multiply
        int256 mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        if (m <= 2) y += 1;
    }
}
