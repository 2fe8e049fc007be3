// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ExactTransfer
/// @notice Cash movements that must arrive in full: the settlement token is moved with
///         SafeERC20 and the receiver's balance is measured before and after, so a token that
///         takes a fee on transfer (or pays less than asked in any other way) is caught. Each
///         caller reverts with its own error when `received != amount`.
library ExactTransfer {
    using SafeERC20 for IERC20;

    /// @dev Moves `amount` of `token` from `from` to `to` (an allowance to the caller) and returns
    ///      what `to`'s balance grew by.
    function transferFromMeasured(IERC20 token, address from, address to, uint256 amount)
        internal
        returns (uint256 received)
    {
        uint256 before = token.balanceOf(to);
        // slither-disable-next-line arbitrary-send-erc20
        token.safeTransferFrom(from, to, amount);
        received = token.balanceOf(to) - before;
    }
}
