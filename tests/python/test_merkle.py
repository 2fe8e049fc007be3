"""The readings tree equals @openzeppelin/merkle-tree's StandardMerkleTree (run through node)."""

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_abi import encode as eth_abi_encode
from eth_utils import keccak as eth_keccak

from greenbond.merkle import (
    READING_TYPES,
    MerkleError,
    MerkleTree,
    hash_pair,
    leaf_hash_values,
    reading_leaf,
    verify,
)
from greenbond.meters.model import Reading, jst

ROOT = Path(__file__).resolve().parents[2]
JS_LIB = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree"

JS = r"""
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = input.map(values => {
  const t = StandardMerkleTree.of(values, ['uint32', 'bytes32', 'uint64', 'uint64', 'uint8']);
  return { root: t.root, proofs: values.map((_, i) => t.getProof(i)), leaves: values.map(v => t.leafHash(v)) };
});
process.stdout.write(JSON.stringify(out));
"""


def make_readings(n, start=jst(2024, 1, 5, 9)):
    meters = ["KYOSO-MAIN-A", "KYOSO-MAIN-B", "SOLAR-PV-1"]
    return [Reading(1 + (i % 3 == 2), meters[i % 3], start + dt.timedelta(minutes=30 * (i // 3)),
                    (i * 7919) % 90_000, i % 2, "t") for i in range(n)]


def js_trees(sets):
    if shutil.which("node") is None or not (JS_LIB / "package.json").exists():
        pytest.skip("node or node_modules/@openzeppelin/merkle-tree missing (run npm ci)")
    payload = [[[r.facility_id, "0x" + r.leaf_values()[1].hex(), str(r.ts), str(r.wh), r.flags] for r in s] for s in sets]
    proc = subprocess.run(["node", "-e", JS], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=True)
    return json.loads(proc.stdout)


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def test_leaf_is_double_keccak_of_abi_encoding():
    r = make_readings(1)[0]
    # reference: eth_abi + eth_utils' keccak; the module uses faster_eth_abi + pysha3
    expected = eth_keccak(eth_keccak(eth_abi_encode(list(READING_TYPES), list(r.leaf_values()))))
    assert reading_leaf(r) == expected == leaf_hash_values(r.leaf_values())


def test_roots_and_proofs_equal_the_js_library():
    sets = [make_readings(n) for n in (1, 2, 3, 4, 5, 7, 8, 13, 48)]
    for s, js in zip(sets, js_trees(sets)):
        tree = MerkleTree.of_readings(s)
        assert hx(tree.root) == js["root"], len(s)
        assert [hx(tree.leaf(i)) for i in range(len(s))] == js["leaves"]
        for i in range(len(s)):
            proof = tree.proof(i)
            assert [hx(p) for p in proof] == js["proofs"][i], (len(s), i)
            assert verify(tree.root, reading_leaf(s[i]), proof)


def test_tampered_reading_fails_its_proof():
    s = make_readings(6)
    tree = MerkleTree.of_readings(s)
    proof = tree.proof(2)
    r = s[2]
    for tampered in [
        Reading(r.facility_id, r.meter_id, r.interval_start, r.wh + 1, r.flags, r.source),          # 1 Wh more
        Reading(r.facility_id, r.meter_id, r.interval_start, r.wh, r.flags ^ 1, r.source),          # 'E' flipped
        Reading(r.facility_id, "KYOSO-MAIN-C", r.interval_start, r.wh, r.flags, r.source),
        Reading(r.facility_id, r.meter_id, r.interval_start + dt.timedelta(minutes=30), r.wh, r.flags, r.source),
        Reading(r.facility_id + 1, r.meter_id, r.interval_start, r.wh, r.flags, r.source),
    ]:
        assert not verify(tree.root, reading_leaf(tampered), proof)
    assert verify(tree.root, reading_leaf(r), proof)
    assert not verify(tree.root, reading_leaf(r), tree.proof(3))
    assert not verify(tree.root, reading_leaf(r), proof[:-1])


def test_structure_by_hand_and_errors():
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    # three leaves sorted a < b < c sit at array indices 4, 3, 2 (2n - 2 - j);
    # node 1 = hashPair(tree[3], tree[4]) = hashPair(b, a); root = hashPair(node 1, tree[2] = c)
    tree = MerkleTree([c, a, b])
    n1 = hash_pair(b, a)
    assert tree.root == hash_pair(n1, c)
    assert tree.proof(1) == [b, c]          # a is at index 4: sibling 3 (b), then sibling of 1 is 2 (c)
    assert MerkleTree([a]).root == a and MerkleTree([a]).proof(0) == []
    with pytest.raises(MerkleError):
        MerkleTree([])
    with pytest.raises(MerkleError):
        MerkleTree([b"short"])
