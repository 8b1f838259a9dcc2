// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title AnchorRegistry: one transaction anchors the Merkle root of a batch of Anchorflow proofs.
/// @notice A root can be anchored once: a retried or duplicated transaction reverts instead of
///         anchoring the same batch twice, which makes it the last line of defence against double anchoring.
contract AnchorRegistry {
    /// Emitted once per root; proofs name the transaction and block that carry it.
    event Anchored(bytes32 indexed root, address indexed submitter, bytes32 batchId, uint32 count, uint256 timestamp);

    /// The root was anchored before, at `timestamp` (block time, seconds).
    error AlreadyAnchored(bytes32 root, uint256 timestamp);
    /// A zero root or an empty batch is never a real Merkle root.
    error EmptyBatch();

    mapping(bytes32 => uint256) private anchored;

    function anchor(bytes32 root, uint32 count, bytes32 batchId) external {
        if (root == bytes32(0) || count == 0) revert EmptyBatch();
        uint256 previous = anchored[root];
        if (previous != 0) revert AlreadyAnchored(root, previous);
        anchored[root] = block.timestamp;
        emit Anchored(root, msg.sender, batchId, count, block.timestamp);
    }

    /// Block timestamp (seconds) at which `root` was anchored, 0 when it never was.
    function anchoredAt(bytes32 root) external view returns (uint256) {
        return anchored[root];
    }
}
