"""registerHolder: validation, the record (the sealed details' keccak256, the details in the
event), the count, and its gas (issue 15's bound: at most 150,000 with sealed details)."""

import pytest
from brownie import ZERO_ADDRESS, chain, web3

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

DAY = 86_400
INVESTOR = "0x" + f"{7:064x}"
INFO = "0x" + "ab" * 100


def test_register(registry, registrar, alice):
    expires = chain.time() + 30 * DAY
    tx = registry.registerHolder(alice, INVESTOR, 392, expires, INFO, {"from": registrar})
    investor, country, expires_at, registered_at, updated_at, details_hash = registry.holderOf(alice)
    assert (investor, country, expires_at) == (INVESTOR, 392, expires)
    assert registered_at == updated_at == tx.timestamp
    assert details_hash == "0x" + bytes(web3.keccak(hexstr=INFO)).hex()
    assert registry.isEligible(alice)
    assert registry.investorOf(alice) == INVESTOR
    assert registry.holderCount() == 1
    ev = tx.events["HolderRegistered"]
    assert (ev["wallet"], ev["investorId"], ev["country"], ev["expiresAt"]) == (alice, INVESTOR, 392, expires)
    assert ev["encryptedInfo"] == INFO


def test_register_by_admin(registry, admin, alice):
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": admin})
    assert registry.isEligible(alice)


def test_several_wallets_one_investor(registry, registrar, alice, bob, carol):
    for w in (alice, bob, carol):
        registry.registerHolder(w, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
    assert registry.holderCount() == 3
    assert [registry.investorOf(w) for w in (alice, bob, carol)] == [INVESTOR] * 3


def test_max_info_length(registry, registrar, alice):
    info = "0x" + "01" * 2048
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, info, {"from": registrar})
    assert registry.holderOf(alice)[5] == "0x" + bytes(web3.keccak(hexstr=info)).hex()
    assert registry.MAX_ENCRYPTED_INFO_LENGTH() == 2048


def test_gas_with_sealed_details(registry, registrar, alice, bob, carol):
    """About 300 bytes is a real sealed record (greenbond.holders.seal): at most 150,000 gas, the
    first registration (the count from zero to one) too. The details cost only as bytes carried
    (16 gas a calldata byte, 8 a log byte, the hash and memory): 2048 bytes, the limit, cost at
    most 26 gas a byte more, nothing in storage."""
    def register(wallet, length):
        info = "0x" + "5a" * length
        return registry.registerHolder(wallet, INVESTOR, 392, chain.time() + DAY, info, {"from": registrar}).gas_used

    first, typical, largest = register(alice, 300), register(bob, 300), register(carol, 2048)
    assert first <= 150_000 and typical <= 150_000
    assert largest - typical <= (2048 - 300) * 26
