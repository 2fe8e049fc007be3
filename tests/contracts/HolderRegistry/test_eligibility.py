"""isEligible: registered and unexpired, up to the second; views for unregistered wallets."""

from brownie import chain

DAY = 86_400


def test_unregistered(registry, outsider):
    assert not registry.isEligible(outsider)
    assert registry.investorOf(outsider) == "0x" + "00" * 32
    assert registry.holderOf(outsider)[2] == 0
    assert registry.holderCount() == 0


def test_expires(registry, register, alice):
    register(alice, 1, expires_in=10 * DAY)
    expires = registry.holderOf(alice)[2]
    chain.sleep(5 * DAY)
    chain.mine()
    assert registry.isEligible(alice)
    chain.sleep(expires - chain.time() + 60)
    chain.mine()
    assert not registry.isEligible(alice)
    # an expired wallet is still registered: it keeps its record and is counted
    assert registry.investorOf(alice) == "0x" + f"{1:064x}"
    assert registry.holderCount() == 1
