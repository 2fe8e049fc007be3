"""registerHolder: validation, storage, events, enumeration."""

import pytest
from brownie import ZERO_ADDRESS, chain

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

DAY = 86_400
INVESTOR = "0x" + f"{7:064x}"
INFO = "0x" + "ab" * 100


def test_register(registry, registrar, alice):
    expires = chain.time() + 30 * DAY
    tx = registry.registerHolder(alice, INVESTOR, 392, expires, INFO, {"from": registrar})
    investor, country, expires_at, registered_at, updated_at, info = registry.holderOf(alice)
    assert (investor, country, expires_at) == (INVESTOR, 392, expires)
    assert registered_at == updated_at == tx.timestamp
    assert info == INFO
    assert registry.isEligible(alice)
    assert registry.investorOf(alice) == INVESTOR
    assert list(registry.walletsOf(INVESTOR)) == [alice]
    assert registry.holderCount() == 1
    assert registry.holderAt(0) == alice
    ev = tx.events["HolderRegistered"]
    assert (ev["wallet"], ev["investorId"], ev["country"], ev["expiresAt"]) == (alice, INVESTOR, 392, expires)
    assert ev["encryptedInfo"] == INFO


def test_register_by_admin(registry, admin, alice):
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": admin})
    assert registry.isEligible(alice)


def test_several_wallets_one_investor(registry, registrar, alice, bob, carol):
    for w in (alice, bob, carol):
        registry.registerHolder(w, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
    assert list(registry.walletsOf(INVESTOR)) == [alice, bob, carol]
    assert registry.holderCount() == 3
    assert [registry.holderAt(i) for i in range(3)] == [alice, bob, carol]


def test_max_info_length(registry, registrar, alice):
    info = "0x" + "01" * 2048
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, info, {"from": registrar})
    assert registry.holderOf(alice)[5] == info
    assert registry.MAX_ENCRYPTED_INFO_LENGTH() == 2048


def test_zero_wallet(registry, registrar, revert_with):
    with revert_with("RegistryZeroWallet"):
        registry.registerHolder(ZERO_ADDRESS, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})


def test_zero_investor(registry, registrar, alice, revert_with):
    with revert_with("RegistryZeroInvestorId"):
        registry.registerHolder(alice, "0x" + "00" * 32, 392, chain.time() + DAY, INFO, {"from": registrar})


def test_expiry_in_past(registry, registrar, alice, error_msg):
    import re

    import brownie

    now = chain[-1].timestamp
    for expires in (0, now - 1):
        pattern = re.escape(error_msg("RegistryExpiryInPast", expires)) + r", \d+"
        with brownie.reverts(revert_pattern=pattern):
            registry.registerHolder(alice, INVESTOR, 392, expires, INFO, {"from": registrar})


def test_empty_info(registry, registrar, alice, revert_with):
    with revert_with("RegistryBadEncryptedInfo", 0, 2048):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, b"", {"from": registrar})  # Brownie encodes "0x" as one zero byte


def test_too_long_info(registry, registrar, alice, revert_with):
    with revert_with("RegistryBadEncryptedInfo", 2049, 2048):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, "0x" + "01" * 2049, {"from": registrar})


def test_already_registered(registry, registrar, alice, revert_with):
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
    with revert_with("RegistryAlreadyRegistered", alice):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
    with revert_with("RegistryAlreadyRegistered", alice):
        registry.registerHolder(alice, "0x" + f"{8:064x}", 392, chain.time() + DAY, INFO, {"from": registrar})


def test_already_registered_even_when_expired(registry, registrar, alice, revert_with):
    registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
    chain.sleep(2 * DAY)
    chain.mine()
    assert not registry.isEligible(alice)
    with revert_with("RegistryAlreadyRegistered", alice):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + DAY, INFO, {"from": registrar})
