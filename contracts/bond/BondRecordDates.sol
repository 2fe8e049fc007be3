// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondCore} from "./BondCore.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondRecordDates
/// @notice Record dates (one before each coupon date, and any the issuer adds) and every holder's
///         balance and the total supply at each of them, for the coupon schedule.
/// @dev A lazy snapshot keyed to the record dates: a wallet's balance is written (one slot per
///      record date) only by its first movement after a record date passes, so an ordinary
///      transfer pays no snapshot writes (docs/contracts.md, "Record-date balances"). The cursor
///      (record dates passed, the next one) lives in BondCore's bond-wide slot and each wallet's
///      snapshot keys in its Account slot, which a transfer reads anyway.
abstract contract BondRecordDates is BondCore {
    /// @dev A snapshot entry written at record date k (1-based): the balance held at every record
    ///      date in (from, k]. Entries of one wallet form a chain through `link`, the entry written
    ///      before this one (0: none); record dates in (link, from] had a zero balance, which is
    ///      never written. One storage slot.
    struct Snapshot {
        uint224 balance;
        uint16 from;
        uint16 link;
    }

    uint64[] private _recordDates;
    // record date => its 1-based position: a lookup by date reads one slot, not a binary search's
    // several (each a cold slot in the coupon schedule's calls)
    mapping(uint256 timepoint => uint256 key) private _recordKeyOf;
    mapping(address => mapping(uint256 => Snapshot)) private _balanceAt;
    mapping(uint256 => Snapshot) private _supplyAt;

    /// @param couponDates_ the bond's coupon dates (validated by BondTerms)
    /// @param recordDateOffset seconds between each coupon's record date and its payment date
    constructor(uint64[] memory couponDates_, uint64 recordDateOffset) {
        for (uint256 i = 0; i < couponDates_.length; ++i) {
            _recordDates.push(couponDates_[i] - recordDateOffset);
            _recordKeyOf[couponDates_[i] - recordDateOffset] = i + 1;
        }
        _nextRecordDate = _recordDates.length == 0 ? type(uint64).max : _recordDates[0];
    }

    /// @inheritdoc IGreenBond
    function recordDates() external view returns (uint256[] memory dates) {
        dates = new uint256[](_recordDates.length);
        for (uint256 i = 0; i < dates.length; ++i) dates[i] = _recordDates[i];
    }

    /// @inheritdoc IGreenBond
    function addRecordDate(uint64 recordDate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = _recordDates.length;
        if (recordDate <= block.timestamp || (n != 0 && recordDate <= _recordDates[n - 1]) || n >= type(uint16).max) {
            revert GreenBondBadRecordDate(recordDate);
        }
        _recordDates.push(recordDate);
        _recordKeyOf[recordDate] = n + 1;
        if (_recordDatesPassed == n) _nextRecordDate = recordDate;
        emit RecordDateAdded(n, recordDate);
    }

    /// @inheritdoc IGreenBond
    function balanceOfAt(address account, uint256 timepoint) external view returns (uint256) {
        uint16 key = _recordKey(timepoint);
        Account storage a = _accounts[account];
        if (key > a.snapshotKey) return balanceOf(account);
        return _lookup(_balanceAt[account], a.lastEntry, key);
    }

    /// @inheritdoc IGreenBond
    function totalSupplyAt(uint256 timepoint) external view returns (uint256) {
        uint16 key = _recordKey(timepoint);
        if (key > _supplySnapshotKey) return totalSupply();
        return _lookup(_supplyAt, _supplyLastEntry, key);
    }

    /// @dev Before units move: the balances of both sides (and the supply, for a mint or burn) at
    ///      the record dates passed since they last moved are written down first.
    function _update(address from, address to, uint256 value) internal virtual override {
        uint16 passed = _passRecordDates();
        if (passed != 0) {
            if (from != address(0)) _snapshotBalance(from, passed);
            if (to != address(0)) _snapshotBalance(to, passed);
            if (from == address(0) || to == address(0)) _snapshotSupply(passed);
        }
        super._update(from, to, value);
    }

    /// @dev Advances the count of record dates passed; returns it.
    function _passRecordDates() private returns (uint16 passed) {
        passed = _recordDatesPassed;
        if (block.timestamp < _nextRecordDate) return passed;
        uint256 n = _recordDates.length;
        while (passed < n && _recordDates[passed] <= block.timestamp) {
            emit RecordDateReached(passed, _recordDates[passed]);
            ++passed;
        }
        _recordDatesPassed = passed;
        _nextRecordDate = passed < n ? _recordDates[passed] : type(uint64).max;
    }

    /// @dev Records the balance `account` held at the record dates passed since its last check
    ///      (it did not move in between, so it is the balance before this movement): one slot,
    ///      however many dates passed. Zero balances are not written (a gap in the chain reads as
    ///      zero), so a new holder pays only for its key.
    function _snapshotBalance(address account, uint16 passed) private {
        Account storage a = _accounts[account];
        uint16 key = a.snapshotKey;
        if (key >= passed) return;
        uint256 balance = balanceOf(account);
        if (balance != 0) {
            _balanceAt[account][passed] = Snapshot(uint224(balance), key, a.lastEntry);
            a.lastEntry = passed;
        }
        a.snapshotKey = passed;
    }

    function _snapshotSupply(uint16 passed) private {
        uint16 key = _supplySnapshotKey;
        if (key >= passed) return;
        uint256 supply = totalSupply();
        if (supply != 0) {
            _supplyAt[passed] = Snapshot(uint224(supply), key, _supplyLastEntry);
            _supplyLastEntry = passed;
        }
        _supplySnapshotKey = passed;
    }

    /// @dev Walks a snapshot chain back from its latest entry to the one covering record date `key`.
    function _lookup(mapping(uint256 => Snapshot) storage chain, uint16 entry, uint16 key) private view returns (uint256) {
        while (entry != 0 && entry >= key) {
            Snapshot storage s = chain[entry];
            if (key > s.from) return s.balance;
            entry = s.link; // the entry written before; dates between it and `from` held zero
        }
        return 0; // a gap: the balance was zero at `key`
    }

    /// @dev 1-based position of `timepoint` among the record dates; reverts if it is not one or is future.
    function _recordKey(uint256 timepoint) private view returns (uint16) {
        if (timepoint > block.timestamp) revert GreenBondFutureLookup(timepoint, block.timestamp);
        uint256 key = _recordKeyOf[timepoint];
        if (key == 0) revert GreenBondNotARecordDate(timepoint);
        return uint16(key);
    }
}
