// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IImpactOracle} from "../../interfaces/IImpactOracle.sol";

/// @title NaiveReadingStore
/// @notice DEV ONLY, the benchmark's baseline: what it costs to put every meter reading on chain
///         in storage instead of one signed hourly report with the readings' Merkle root. Each
///         reading takes two storage slots (the meter id, then facility id, interval, Wh and
///         flags packed). No access control, no checks: never deploy outside a benchmark.
contract NaiveReadingStore {
    IImpactOracle.Reading[] private _readings;

    /// @notice Appends every reading to storage.
    function storeReadings(IImpactOracle.Reading[] calldata readings) external {
        for (uint256 i = 0; i < readings.length; ++i) {
            _readings.push(readings[i]);
        }
    }

    /// @notice Number of readings stored.
    function readingCount() external view returns (uint256) {
        return _readings.length;
    }

    /// @notice Reading `i`.
    function readingAt(uint256 i) external view returns (IImpactOracle.Reading memory) {
        return _readings[i];
    }
}
