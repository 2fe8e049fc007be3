// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBondDvP
/// @notice Delivery versus payment for secondary trades of the bond against the settlement token:
///         the seller's units are locked in the seller's wallet, the buyer accepts by paying, and
///         units and cash move in one transaction (or, on a transfer-approval bond, when the agent
///         approves). Neither side can end with both legs or neither.
interface IBondDvP {
    enum Status {
        None,
        Open,             // units locked, waiting for a buyer
        PendingApproval,  // buyer paid (cash held here), waiting for the agent's approval
        Settled,
        Cancelled,        // by the seller, or rejected by the agent
        Expired
    }

    struct Trade {
        address seller;
        address buyer;        // zero: any eligible buyer may accept
        address acceptedBy;
        uint96 units;
        uint64 expiry;
        Status status;
        uint16 lockGeneration; // the bond's lock generation of the seller when the units were locked
        uint256 price;        // total cash for the units, settlement token smallest units
    }

    event OfferMade(uint256 indexed id, address indexed seller, address indexed buyer, uint256 units, uint256 price, uint64 expiry);
    event OfferAccepted(uint256 indexed id, address indexed buyer, bool pendingApproval);
    event TradeSettled(uint256 indexed id, address indexed seller, address indexed buyer, uint256 units, uint256 price);
    event OfferCancelled(uint256 indexed id, address indexed by);
    event OfferExpired(uint256 indexed id);
    event TradeRejected(uint256 indexed id, address indexed agent);
    /// @notice An agent of the bond cancelled trade `id`; the units are released, a paid buyer refunded.
    event TradeCancelledByAgent(uint256 indexed id, address indexed agent);

    error DvPBadOffer(bytes32 field);
    error DvPUnknownTrade(uint256 id);
    error DvPWrongStatus(uint256 id, Status status);
    error DvPNotBuyer(uint256 id, address caller);
    error DvPNotSeller(uint256 id, address caller);
    error DvPNotAgent(address caller);
    error DvPExpired(uint256 id, uint64 expiry);
    error DvPNotExpired(uint256 id, uint64 expiry);
    error DvPTransferShortfall(uint256 expected, uint256 received);
    /// @notice An agent action on the bond released the seller's locked units: the trade can only be cancelled.
    error DvPLockReleased(uint256 id);

    /// @notice Offers `units` to `buyer` (zero: anyone eligible) for `price` until `expiry` (at most
    ///         `maxOfferDuration()` ahead); locks them (refused for a frozen seller or a paused bond).
    function offer(address buyer, uint256 units, uint256 price, uint64 expiry) external returns (uint256 id);
    /// @notice Accepts trade `id` by paying its price; settles now, or waits for the agent.
    function accept(uint256 id) external;
    /// @notice Cancels an open offer (seller or an agent of the bond) or a pending one (seller, buyer
    ///         or an agent); everything returns.
    function cancel(uint256 id) external;
    /// @notice Releases an expired offer (anyone); a pending buyer is refunded.
    function expire(uint256 id) external;
    /// @notice Agent approval of a pending trade on a transfer-approval bond: units and cash move.
    function approve(uint256 id) external;
    /// @notice Agent rejection of a pending trade: the buyer is refunded, the units released.
    function reject(uint256 id) external;
    /// @notice Trade `id`.
    function trade(uint256 id) external view returns (Trade memory);
    /// @notice Number of trades ever offered.
    function tradeCount() external view returns (uint256);
    /// @notice The longest an offer may stay open, seconds.
    function maxOfferDuration() external view returns (uint64);
}
