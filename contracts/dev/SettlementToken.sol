// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title SettlementToken (dev and demo only)
/// @notice Stands in for a JPY deposit token on development chains: yen have no minor unit, so
///         `decimals()` is 0 and one token is one yen. Its admin mints at will: never deploy it
///         to a live network (the deploy script refuses to).
contract SettlementToken is ERC20, AccessControl {
    /// @notice Role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Minted by a holder of MINTER_ROLE.
    event Minted(address indexed to, uint256 amount, address indexed minter);

    /// @param name_ token name; @param symbol_ token symbol; @param admin receives both roles
    constructor(string memory name_, string memory symbol_, address admin) ERC20(name_, symbol_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice One unit is one yen.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice Mints `amount` to `to` (minter only).
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
        emit Minted(to, amount, msg.sender);
    }
}
