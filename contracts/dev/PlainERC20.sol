// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainERC20 (benchmark baseline only)
/// @notice An unrestricted OpenZeppelin ERC20, deployed beside the bond by `make bench` so the
///         bond's transfer gas is compared with the plain token's in the same run.
contract PlainERC20 is ERC20 {
    /// @param supply minted to the deployer
    constructor(uint256 supply) ERC20("Plain", "PLAIN") {
        _mint(msg.sender, supply);
    }
}
