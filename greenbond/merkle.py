"""A Merkle tree over readings, identical to @openzeppelin/merkle-tree's StandardMerkleTree
(tests/python/test_merkle.py checks roots and proofs against the JS library itself).

Leaf of a reading (IImpactOracle.readingLeaf):
    keccak256(keccak256(abi.encode(uint32 facilityId, bytes32 meterId, uint64 intervalStart,
                                   uint64 wh, uint8 flags)))
Tree (StandardMerkleTree.of(values, types), sortLeaves on):
  - leaf hashes sorted ascending (as bytes);
  - an array of 2n - 1 nodes: sorted leaf j at index 2n - 2 - j, and for i from n - 2 down to 0
    node[i] = hashPair(node[2i + 1], node[2i + 2]);
  - hashPair(a, b) = keccak256(min(a, b) || max(a, b));
  - the root is node[0]; a proof lists the siblings from the leaf up (what OpenZeppelin's
    MerkleProof.verify and ImpactOracle.verifyReading take).
Hashing uses safe-pysha3's keccak_256 (about 7x faster than eth_hash's default backend here);
ABI encoding uses faster_eth_abi (the compiled eth_abi, same output) when present.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from sha3 import keccak_256

try:  # the compiled twin of eth_abi (installed with web3): same bytes, ~3x faster
    from faster_eth_abi import encode as _abi_encode
except ImportError:  # pragma: no cover
    from eth_abi import encode as _abi_encode

from greenbond.meters.model import Reading

READING_TYPES = ("uint32", "bytes32", "uint64", "uint64", "uint8")


class MerkleError(ValueError):
    pass


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def leaf_hash_values(values: Sequence, types: Sequence[str] = READING_TYPES) -> bytes:
    """StandardMerkleTree leaf: keccak256(keccak256(abi.encode(types, values)))."""
    return keccak(keccak(_abi_encode(list(types), list(values))))


def reading_leaf(reading: Reading) -> bytes:
    """The leaf of a reading, as ImpactOracle.readingLeaf computes it."""
    return leaf_hash_values(reading.leaf_values())


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two nodes in ascending order (OpenZeppelin's commutative hash)."""
    return keccak(a + b if a <= b else b + a)


class MerkleTree:
    """A StandardMerkleTree over given leaf hashes (the n-th leaf given is value index n)."""

    def __init__(self, leaves: Iterable[bytes]):
        leaves = list(leaves)
        if not leaves:
            raise MerkleError("a Merkle tree needs at least one leaf")
        for leaf in leaves:
            if len(leaf) != 32:
                raise MerkleError("leaves are 32-byte hashes")
        order = sorted(range(len(leaves)), key=leaves.__getitem__)
        n = len(leaves)
        size = 2 * n - 1
        tree: list[bytes] = [b""] * size
        self._tree_index = [0] * n
        for j, value_index in enumerate(order):
            tree[size - 1 - j] = leaves[value_index]
            self._tree_index[value_index] = size - 1 - j
        for i in range(size - 1 - n, -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        self._tree = tree
        self._leaves = leaves

    @classmethod
    def of_readings(cls, readings: Iterable[Reading]) -> "MerkleTree":
        return cls(reading_leaf(r) for r in readings)

    @property
    def root(self) -> bytes:
        return self._tree[0]

    def __len__(self) -> int:
        return len(self._leaves)

    def leaf(self, index: int) -> bytes:
        return self._leaves[index]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf `index` (position in the input) up to the root."""
        if not 0 <= index < len(self._leaves):
            raise MerkleError(f"no leaf {index}")
        i = self._tree_index[index]
        out = []
        while i > 0:
            out.append(self._tree[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    return MerkleTree(leaves).root


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """True when `proof` leads from `leaf` to `root` (MerkleProof.verify)."""
    return process_proof(leaf, proof) == root


# ---------------------------------------------------------------- the credits' reports tree

REPORT_LEAF_TYPES = ("uint32", "uint256", "uint64", "bytes32", "int64")


def report_leaf(facility_id: int, report_index: int, period_start: int, readings_root: bytes, co2_mg: int) -> bytes:
    """CarbonCredits.reportLeaf: the leaf of an oracle report taken into a credit batch."""
    return leaf_hash_values((facility_id, report_index, period_start, readings_root, co2_mg), REPORT_LEAF_TYPES)


class PushTree:
    """OpenZeppelin's MerkleTree.Bytes32PushTree (utils/structs/MerkleTree.sol) with its default
    hash, as CarbonCredits builds it on chain: a complete tree of `depth` levels whose leaves are
    filled left to right, the empty ones `zero`; an inner node is hash_pair of its children (an
    absent subtree is the zero subtree of its level). Proofs verify with MerkleProof.verify."""

    def __init__(self, leaves: Sequence[bytes], depth: int, zero: bytes = b"\0" * 32):
        if len(leaves) > 1 << depth:
            raise MerkleError(f"{len(leaves)} leaves do not fit a tree of depth {depth}")
        self.depth = depth
        self.zeros = [zero]
        for _ in range(depth):
            self.zeros.append(hash_pair(self.zeros[-1], self.zeros[-1]))
        self.levels = [list(leaves)]
        for i in range(depth):
            below = self.levels[-1]
            self.levels.append([
                hash_pair(below[j], below[j + 1] if j + 1 < len(below) else self.zeros[i])
                for j in range(0, len(below), 2)
            ])

    @property
    def root(self) -> bytes:
        top = self.levels[-1]
        return top[0] if top else self.zeros[self.depth]

    def proof(self, index: int) -> list[bytes]:
        if not 0 <= index < len(self.levels[0]):
            raise MerkleError(f"no leaf {index} in a tree of {len(self.levels[0])}")
        out = []
        for i in range(self.depth):
            level, sibling = self.levels[i], index ^ 1
            out.append(level[sibling] if sibling < len(level) else self.zeros[i])
            index >>= 1
        return out
