"""ERC-1643 documents: set, replace, get, remove, list."""

import pytest
from brownie import chain


def name(s):
    return "0x" + s.encode().ljust(32, b"\0").hex()


HASH_A = "0x" + "aa" * 32
HASH_B = "0x" + "bb" * 32


def test_set_document(bond, admin):
    tx = bond.setDocument(name("FRAMEWORK"), "ipfs://framework", HASH_A, {"from": admin})
    uri, doc_hash, timestamp = bond.getDocument(name("FRAMEWORK"))
    assert (uri, doc_hash) == ("ipfs://framework", HASH_A)
    assert timestamp == tx.timestamp
    assert list(bond.getAllDocuments()) == [name("FRAMEWORK")]
    ev = tx.events["DocumentUpdated"]
    assert (ev["name"], ev["uri"], ev["documentHash"]) == (name("FRAMEWORK"), "ipfs://framework", HASH_A)


def test_replace_keeps_one_entry(bond, admin):
    bond.setDocument(name("FRAMEWORK"), "ipfs://v1", HASH_A, {"from": admin})
    chain.sleep(100)
    tx = bond.setDocument(name("FRAMEWORK"), "ipfs://v2", HASH_B, {"from": admin})
    uri, doc_hash, timestamp = bond.getDocument(name("FRAMEWORK"))
    assert (uri, doc_hash, timestamp) == ("ipfs://v2", HASH_B, tx.timestamp)
    assert list(bond.getAllDocuments()) == [name("FRAMEWORK")]
    assert tx.events["DocumentUpdated"]["uri"] == "ipfs://v2"


def test_zero_hash_allowed(bond, admin):
    bond.setDocument(name("X"), "https://x", "0x" + "00" * 32, {"from": admin})
    assert bond.getDocument(name("X"))[1] == "0x" + "00" * 32


def test_remove_document(bond, admin, revert_with):
    bond.setDocument(name("FRAMEWORK"), "ipfs://framework", HASH_A, {"from": admin})
    tx = bond.removeDocument(name("FRAMEWORK"), {"from": admin})
    assert list(bond.getAllDocuments()) == []
    ev = tx.events["DocumentRemoved"]
    assert (ev["name"], ev["uri"], ev["documentHash"]) == (name("FRAMEWORK"), "ipfs://framework", HASH_A)
    with revert_with("GreenBondUnknownDocument", name("FRAMEWORK")):
        bond.getDocument(name("FRAMEWORK"))


@pytest.mark.parametrize("removed", ["A", "B", "C"])
def test_remove_keeps_others(bond, admin, removed):
    for i, n in enumerate("ABC"):
        bond.setDocument(name(n), f"ipfs://{n}", "0x" + f"{i + 1:02x}" * 32, {"from": admin})
    bond.removeDocument(name(removed), {"from": admin})
    remaining = [n for n in "ABC" if n != removed]
    assert sorted(str(n) for n in bond.getAllDocuments()) == sorted(name(n) for n in remaining)
    for n in remaining:
        i = "ABC".index(n)
        uri, doc_hash, _ = bond.getDocument(name(n))
        assert (uri, doc_hash) == (f"ipfs://{n}", "0x" + f"{i + 1:02x}" * 32)
    # the survivors can still be replaced and removed
    bond.setDocument(name(remaining[0]), "ipfs://new", HASH_B, {"from": admin})
    assert len(bond.getAllDocuments()) == 2
    for n in remaining:
        bond.removeDocument(name(n), {"from": admin})
    assert list(bond.getAllDocuments()) == []


def test_readd_after_remove(bond, admin):
    bond.setDocument(name("A"), "ipfs://a", HASH_A, {"from": admin})
    bond.removeDocument(name("A"), {"from": admin})
    bond.setDocument(name("A"), "ipfs://a2", HASH_B, {"from": admin})
    assert list(bond.getAllDocuments()) == [name("A")]
    uri, doc_hash, _ = bond.getDocument(name("A"))
    assert (uri, doc_hash) == ("ipfs://a2", HASH_B)


def test_get_unknown(bond, revert_with):
    with revert_with("GreenBondUnknownDocument", name("NOPE")):
        bond.getDocument(name("NOPE"))


def test_remove_unknown(bond, admin, revert_with):
    with revert_with("GreenBondUnknownDocument", name("NOPE")):
        bond.removeDocument(name("NOPE"), {"from": admin})
    bond.setDocument(name("A"), "ipfs://a", HASH_A, {"from": admin})
    bond.removeDocument(name("A"), {"from": admin})
    with revert_with("GreenBondUnknownDocument", name("A")):
        bond.removeDocument(name("A"), {"from": admin})


def test_empty_name(bond, admin, revert_with):
    with revert_with("GreenBondInvalidDocument", "0x" + "00" * 32):
        bond.setDocument("0x" + "00" * 32, "ipfs://a", HASH_A, {"from": admin})


def test_empty_uri(bond, admin, revert_with):
    with revert_with("GreenBondInvalidDocument", name("A")):
        bond.setDocument(name("A"), "", HASH_A, {"from": admin})
