// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title ReentrantCreditReceiver (tests only)
/// @notice Passes whatever it receives on to `onward` from inside the ERC-1155 acceptance hook,
///         to show that a forced transfer's lifted pause and freeze do not reach the hook.
contract ReentrantCreditReceiver is IERC1155Receiver, ERC165 {
    IERC1155 private immutable _token;
    address private immutable _onward;

    constructor(IERC1155 token, address onward) {
        _token = token;
        _onward = onward;
    }

    /// @notice Sends the received units on to `onward`.
    function onERC1155Received(address, address, uint256 id, uint256 value, bytes calldata)
        external
        returns (bytes4)
    {
        _token.safeTransferFrom(address(this), _onward, id, value, "");
        return this.onERC1155Received.selector;
    }

    /// @notice Refuses batches.
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return bytes4(0);
    }

    /// @inheritdoc ERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || super.supportsInterface(interfaceId);
    }
}
