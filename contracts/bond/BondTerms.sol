// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondCore} from "./BondCore.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondTerms
/// @notice The bond's terms as ERC-7092 reads them (ISIN, currency, denomination, volume, coupon,
///         dates), validated once at deployment; the redemption date, which an early call moves.
abstract contract BondTerms is BondCore {
    address private immutable _currency;
    uint256 private immutable _denomination;
    uint256 private immutable _issueVolume;
    uint256 private immutable _couponRate;
    uint8 private immutable _couponType;
    uint8 private immutable _couponFrequency;
    uint8 private immutable _dayCountBasis;
    uint64 private immutable _issueDate;
    uint64 private immutable _maturityDate;

    string private _isin;
    uint64[] private _couponDates;

    /// @param terms the bond's terms (validated here; see GreenBondInvalidTerms)
    constructor(Terms memory terms) {
        _validateTerms(terms);
        _currency = terms.currency;
        _denomination = terms.denomination;
        _issueVolume = terms.issueVolume;
        _couponRate = terms.couponRate;
        _couponType = terms.couponType;
        _couponFrequency = terms.couponFrequency;
        _dayCountBasis = terms.dayCountBasis;
        _issueDate = terms.issueDate;
        _maturityDate = terms.maturityDate;
        _isin = terms.isin;
        _couponDates = terms.couponDates;
        _redemptionDate = terms.maturityDate;
    }

    /// @inheritdoc IGreenBond
    function isin() external view returns (string memory) {
        return _isin;
    }

    /// @inheritdoc IGreenBond
    function currency() external view returns (address) {
        return _currency;
    }

    /// @inheritdoc IGreenBond
    function denomination() external view returns (uint256) {
        return _denomination;
    }

    /// @inheritdoc IGreenBond
    function issueVolume() external view returns (uint256) {
        return _issueVolume;
    }

    /// @inheritdoc IGreenBond
    function couponRate() external view returns (uint256) {
        return _couponRate;
    }

    /// @inheritdoc IGreenBond
    function couponType() external view returns (uint8) {
        return _couponType;
    }

    /// @inheritdoc IGreenBond
    function couponFrequency() external view returns (uint256) {
        return _couponFrequency;
    }

    /// @inheritdoc IGreenBond
    function issueDate() external view returns (uint256) {
        return _issueDate;
    }

    /// @inheritdoc IGreenBond
    function maturityDate() external view returns (uint256) {
        return _maturityDate;
    }

    /// @inheritdoc IGreenBond
    function dayCountBasis() external view returns (uint8) {
        return _dayCountBasis;
    }

    /// @inheritdoc IGreenBond
    function couponDates() external view returns (uint256[] memory dates) {
        dates = new uint256[](_couponDates.length);
        for (uint256 i = 0; i < dates.length; ++i) dates[i] = _couponDates[i];
    }

    /// @inheritdoc IGreenBond
    function principalOf(address account) external view returns (uint256) {
        return balanceOf(account) * _denomination;
    }

    /// @inheritdoc IGreenBond
    function maxSupply() public view returns (uint256) {
        return _issueVolume / _denomination;
    }

    /// @inheritdoc IGreenBond
    function redemptionDate() external view returns (uint256) {
        return _redemptionDate;
    }

    /// @inheritdoc IGreenBond
    function setCallDate(uint64 callDate) external onlyRole(REDEMPTION_ROLE) {
        if (callDate <= block.timestamp || callDate >= _redemptionDate) revert GreenBondBadCallDate(callDate);
        emit RedemptionDateSet(_redemptionDate, callDate);
        _redemptionDate = callDate;
    }

    function _validateTerms(Terms memory t) private pure {
        if (bytes(t.name).length == 0) revert GreenBondInvalidTerms("name");
        if (bytes(t.symbol).length == 0) revert GreenBondInvalidTerms("symbol");
        if (bytes(t.isin).length == 0) revert GreenBondInvalidTerms("isin");
        if (t.currency == address(0)) revert GreenBondInvalidTerms("currency");
        if (t.denomination == 0) revert GreenBondInvalidTerms("denomination");
        if (t.issueVolume == 0 || t.issueVolume % t.denomination != 0) revert GreenBondInvalidTerms("issueVolume");
        if (t.issueVolume / t.denomination > type(uint72).max) revert GreenBondInvalidTerms("issueVolume");
        if (t.couponRate > 1_000_000) revert GreenBondInvalidTerms("couponRate");
        if (t.couponType > 2 || (t.couponType == 0) != (t.couponRate == 0)) revert GreenBondInvalidTerms("couponType");
        uint8 f = t.couponFrequency;
        if (f != 1 && f != 2 && f != 4 && f != 12) revert GreenBondInvalidTerms("couponFrequency");
        if (t.dayCountBasis > 3) revert GreenBondInvalidTerms("dayCountBasis");
        if (t.issueDate == 0 || t.maturityDate <= t.issueDate) revert GreenBondInvalidTerms("maturityDate");
        uint256 n = t.couponDates.length;
        if ((t.couponType != 0 && n == 0) || n >= type(uint16).max) revert GreenBondInvalidTerms("couponDates");
        uint64 previous = t.issueDate;
        for (uint256 i = 0; i < n; ++i) {
            uint64 d = t.couponDates[i];
            if (d <= previous || d - previous <= t.recordDateOffset) revert GreenBondInvalidTerms("couponDates");
            previous = d;
        }
        if (n != 0 && previous != t.maturityDate) revert GreenBondInvalidTerms("couponDates");
    }
}
