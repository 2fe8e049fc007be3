"""removeHolder: the record is gone and the count drops; other wallets are untouched."""

import pytest
from brownie import chain

INVESTOR_1 = "0x" + f"{1:064x}"
INVESTOR_2 = "0x" + f"{2:064x}"


@pytest.fixture(autouse=True)
def setup(register, alice, bob, carol, dave):
    register(alice, 1)
    register(bob, 2)
    register(carol, 1)
    register(dave, 1)


def test_remove(registry, registrar, alice):
    tx = registry.removeHolder(alice, {"from": registrar})
    assert not registry.isEligible(alice)
    assert registry.investorOf(alice) == "0x" + "00" * 32
    investor, country, expires, registered, updated, details_hash = registry.holderOf(alice)
    assert (investor, country, expires, registered, updated) == ("0x" + "00" * 32, 0, 0, 0, 0)
    assert details_hash == "0x" + "00" * 32
    assert tx.events["HolderRemoved"]["wallet"] == alice
    assert tx.events["HolderRemoved"]["investorId"] == INVESTOR_1


@pytest.mark.parametrize("index", [0, 1, 2])
def test_remove_keeps_other_wallets(registry, registrar, alice, bob, carol, dave, index):
    investor_wallets = [alice, carol, dave]
    removed = investor_wallets[index]
    registry.removeHolder(removed, {"from": registrar})
    left = [w for w in investor_wallets if w != removed]
    assert registry.holderCount() == 3
    assert registry.investorOf(removed) == "0x" + "00" * 32
    for w in left:
        assert registry.isEligible(w) and registry.investorOf(w) == INVESTOR_1
    assert registry.isEligible(bob) and registry.investorOf(bob) == INVESTOR_2


def test_remove_all(registry, registrar, alice, bob, carol, dave):
    for w in (carol, alice, dave, bob):
        registry.removeHolder(w, {"from": registrar})
    assert registry.holderCount() == 0
    assert not any(registry.isEligible(w) for w in (alice, bob, carol, dave))


def test_remove_not_registered(registry, registrar, alice, outsider, revert_with):
    with revert_with("RegistryNotRegistered", outsider):
        registry.removeHolder(outsider, {"from": registrar})
    registry.removeHolder(alice, {"from": registrar})
    with revert_with("RegistryNotRegistered", alice):
        registry.removeHolder(alice, {"from": registrar})


def test_reregister_after_remove(registry, registrar, alice):
    registry.removeHolder(alice, {"from": registrar})
    registry.registerHolder(alice, INVESTOR_2, 392, chain.time() + 1000, "0x01", {"from": registrar})
    assert registry.investorOf(alice) == INVESTOR_2
    assert registry.holderCount() == 4
