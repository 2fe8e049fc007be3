// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeToken (tests only)
/// @notice A fee-on-transfer ERC20: every transfer between two wallets burns `feePpm` parts per
///         million of the amount (at least 1 unit), so the receiver gets less than was sent.
///         Mints and burns pay no fee.
contract FeeToken is ERC20 {
    uint256 public immutable feePpm;

    constructor(uint256 feePpm_) ERC20("Fee", "FEE") {
        feePpm = feePpm_;
    }

    /// @notice Yen-like: no minor unit.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice Anyone mints (tests only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The fee taken from a transfer of `amount`.
    function feeOf(uint256 amount) public view returns (uint256) {
        if (amount == 0) return 0;
        uint256 fee = (amount * feePpm) / 1_000_000;
        return fee == 0 ? 1 : fee;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = feeOf(value);
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
