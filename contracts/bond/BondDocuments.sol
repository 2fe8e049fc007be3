// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BondCore} from "./BondCore.sol";
import {IGreenBond} from "../../interfaces/IGreenBond.sol";

/// @title BondDocuments
/// @notice ERC-1643 documents of the bond (terms, framework, reports): a name, a URI and the
///         document's hash, set and removed by the issuer.
abstract contract BondDocuments is BondCore {
    struct Document {
        string uri;
        bytes32 documentHash;
        uint64 timestamp;
        uint32 index;          // position + 1 in _documentNames
    }

    mapping(bytes32 => Document) private _documents;
    bytes32[] private _documentNames;

    /// @inheritdoc IGreenBond
    function setDocument(bytes32 name, string calldata uri, bytes32 documentHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (name == bytes32(0) || bytes(uri).length == 0) revert GreenBondInvalidDocument(name);
        Document storage d = _documents[name];
        if (d.index == 0) {
            _documentNames.push(name);
            d.index = uint32(_documentNames.length);
        }
        d.uri = uri;
        d.documentHash = documentHash;
        d.timestamp = uint64(block.timestamp);
        emit DocumentUpdated(name, uri, documentHash);
    }

    /// @inheritdoc IGreenBond
    function getDocument(bytes32 name) external view returns (string memory, bytes32, uint256) {
        Document storage d = _documents[name];
        if (d.index == 0) revert GreenBondUnknownDocument(name);
        return (d.uri, d.documentHash, d.timestamp);
    }

    /// @inheritdoc IGreenBond
    function removeDocument(bytes32 name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Document memory d = _documents[name];
        if (d.index == 0) revert GreenBondUnknownDocument(name);
        bytes32 last = _documentNames[_documentNames.length - 1];
        _documentNames[d.index - 1] = last;
        _documents[last].index = d.index;
        _documentNames.pop();
        delete _documents[name];
        emit DocumentRemoved(name, d.uri, d.documentHash);
    }

    /// @inheritdoc IGreenBond
    function getAllDocuments() external view returns (bytes32[] memory) {
        return _documentNames;
    }
}
