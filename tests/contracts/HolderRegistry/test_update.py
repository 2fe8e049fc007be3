"""updateHolder: same investor only, refreshes the record, validates like registerHolder."""

import pytest
from brownie import ZERO_ADDRESS, chain, web3

DAY = 86_400
INVESTOR = "0x" + f"{1:064x}"
NEW_INFO = "0x" + "cd" * 64


@pytest.fixture(autouse=True)
def setup(register, alice):
    register(alice, 1, expires_in=10 * DAY)


def test_update(registry, registrar, alice):
    registered_at = registry.holderOf(alice)[3]
    chain.sleep(DAY)
    expires = chain.time() + 100 * DAY
    tx = registry.updateHolder(alice, INVESTOR, 840, expires, NEW_INFO, {"from": registrar})
    investor, country, expires_at, reg_at, updated_at, details_hash = registry.holderOf(alice)
    assert (investor, country, expires_at, reg_at) == (INVESTOR, 840, expires, registered_at)
    assert updated_at == tx.timestamp > registered_at
    assert details_hash == "0x" + bytes(web3.keccak(hexstr=NEW_INFO)).hex()
    ev = tx.events["HolderUpdated"]
    assert (ev["wallet"], ev["investorId"], ev["country"], ev["expiresAt"]) == (alice, INVESTOR, 840, expires)
    assert ev["encryptedInfo"] == NEW_INFO
    assert registry.holderCount() == 1


def test_update_renews_expired(registry, registrar, alice):
    chain.sleep(11 * DAY)
    chain.mine()
    assert not registry.isEligible(alice)
    registry.updateHolder(alice, INVESTOR, 392, chain.time() + DAY, NEW_INFO, {"from": registrar})
    assert registry.isEligible(alice)


def test_update_not_registered(registry, registrar, bob, revert_with):
    with revert_with("RegistryNotRegistered", bob):
        registry.updateHolder(bob, INVESTOR, 392, chain.time() + DAY, NEW_INFO, {"from": registrar})


def test_update_investor_mismatch(registry, registrar, alice, revert_with):
    other = "0x" + f"{2:064x}"
    with revert_with("RegistryInvestorMismatch", alice, INVESTOR, other):
        registry.updateHolder(alice, other, 392, chain.time() + DAY, NEW_INFO, {"from": registrar})


def test_update_validation(registry, registrar, alice, revert_with):
    with revert_with("RegistryZeroWallet"):
        registry.updateHolder(ZERO_ADDRESS, INVESTOR, 392, chain.time() + DAY, NEW_INFO, {"from": registrar})
    with revert_with("RegistryZeroInvestorId"):
        registry.updateHolder(alice, "0x" + "00" * 32, 392, chain.time() + DAY, NEW_INFO, {"from": registrar})
    with revert_with("RegistryBadEncryptedInfo", 0, 2048):
        registry.updateHolder(alice, INVESTOR, 392, chain.time() + DAY, b"", {"from": registrar})  # Brownie encodes "0x" as one zero byte
    with revert_with("RegistryBadEncryptedInfo", 2049, 2048):
        registry.updateHolder(alice, INVESTOR, 392, chain.time() + DAY, "0x" + "00" * 2049, {"from": registrar})


def test_update_expiry_in_past(registry, registrar, alice, error_msg):
    import re

    import brownie

    pattern = re.escape(error_msg("RegistryExpiryInPast", 1)) + r", \d+"
    with brownie.reverts(revert_pattern=pattern):
        registry.updateHolder(alice, INVESTOR, 392, 1, NEW_INFO, {"from": registrar})
