// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title HostileToken (tests only)
/// @notice A settlement token that attacks whoever moves it: when armed, every `transfer` and
///         `transferFrom` calls `target` with `payload` (for example CouponSchedule.claimCoupon)
///         before returning. If that call fails, its revert data is bubbled up, so the outer
///         call reverts with the guard's error; if it succeeds, `reentered` counts it, so a
///         test can tell that the guard let it through.
contract HostileToken is ERC20 {
    address public target;
    bytes public payload;
    bool public armed;
    uint256 public reentered;
    bool private _firing;

    constructor() ERC20("Hostile", "HOST") {}

    /// @notice Yen-like: no minor unit.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice Anyone mints (tests only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback: each later transfer calls `target_` with `payload_`.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    /// @notice Disarms the callback.
    function disarm() external {
        armed = false;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        bool ok = super.transfer(to, amount);
        _attack();
        return ok;
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        bool ok = super.transferFrom(from, to, amount);
        _attack();
        return ok;
    }

    function _attack() private {
        if (!armed || _firing) return;
        _firing = true;
        (bool success, bytes memory data) = target.call(payload);
        if (!success) {
            assembly {
                revert(add(data, 32), mload(data))
            }
        }
        reentered += 1;
        _firing = false;
    }
}
