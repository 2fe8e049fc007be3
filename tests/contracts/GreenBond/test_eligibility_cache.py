"""The bond keeps each receiver's registry expiry (so a transfer need not call the registry), and the
registry tells it of every update and removal: a kept expiry never lets a wallet receive that the
registry would refuse."""

import pytest
from brownie import chain, web3

DAY = 86_400


def investor_id(n):
    return "0x" + f"{n:064x}"   # as the register fixture makes them


def sealed(n):
    return "0x" + bytes([n % 256]).hex() * 48


@pytest.fixture(autouse=True)
def setup(holders):
    pass


def kept(bond, wallet):
    return bond.eligibilityCachedUntil(wallet)


def expiry(registry, wallet):
    return registry.holderOf(wallet)[2]


def called(tx):
    """Every contract address the transaction called, by Anvil's call tracer."""
    trace = web3.provider.make_request("debug_traceTransaction", [tx.txid, {"tracer": "callTracer"}])["result"]
    out, todo = set(), list(trace.get("calls", []))
    while todo:
        frame = todo.pop()
        out.add(web3.to_checksum_address(frame["to"]))
        todo += frame.get("calls", [])
    return out


def test_deploy_tells_the_bond(registry, bond):
    assert registry.cachingTokens() == [bond.address]


def test_a_mint_keeps_the_expiry_and_a_transfer_then_asks_nothing(bond, registry, alice, bob, carol, agent):
    # the holders fixture minted to alice and bob: their expiries are kept
    assert kept(bond, alice) == expiry(registry, alice) != 0
    assert kept(bond, bob) == expiry(registry, bob)
    # carol was registered, never received: nothing kept; her first receipt keeps it
    assert kept(bond, carol) == 0
    tx = bond.transfer(carol, 1, {"from": alice})
    assert tx.events["EligibilityCached"]["wallet"] == carol
    assert tx.events["EligibilityCached"]["until"] == expiry(registry, carol) == kept(bond, carol)
    # the next one reads the kept expiry: no call to the registry, no event
    tx = bond.transfer(carol, 1, {"from": alice})
    assert "EligibilityCached" not in tx.events
    assert registry.address not in called(tx)


def test_a_removal_clears_the_kept_expiry_and_the_next_receipt_is_refused(bond, registry, registrar, alice, bob,
                                                                          agent, reason, revert_with):
    assert kept(bond, bob) != 0
    tx = registry.removeHolder(bob, {"from": registrar})
    assert tx.events["EligibilityCleared"]["wallet"] == bob
    assert kept(bond, bob) == 0
    assert bond.canTransfer(alice, bob, 1) == (False, reason("RECEIVER_NOT_ELIGIBLE"))
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, reason("RECEIVER_NOT_ELIGIBLE")):
        bond.transfer(bob, 1, {"from": alice})
    with revert_with("GreenBondNotEligible", bob):
        bond.mint(bob, 1, {"from": agent})
    with revert_with("GreenBondNotEligible", bob):
        bond.forcedTransfer(alice, bob, 1, {"from": agent})


def test_an_update_to_a_nearer_expiry_is_obeyed_when_it_passes(bond, registry, registrar, alice, bob, reason,
                                                             revert_with):
    near = chain.time() + 2 * DAY
    tx = registry.updateHolder(bob, investor_id(2), 392, near, sealed(2), {"from": registrar})
    assert "EligibilityCleared" in tx.events and kept(bond, bob) == 0
    bond.transfer(bob, 1, {"from": alice})          # still eligible: the new expiry is kept
    assert kept(bond, bob) == near
    chain.sleep(2 * DAY + 1)
    chain.mine()
    with revert_with("GreenBondTransferNotAllowed", alice, bob, 1, reason("RECEIVER_NOT_ELIGIBLE")):
        bond.transfer(bob, 1, {"from": alice})


def test_a_kept_expiry_that_passed_asks_the_registry_again(bond, registry, registrar, register, alice, outsider,
                                                         reason, revert_with):
    register(outsider, 9, expires_in=3 * DAY)
    bond.transfer(outsider, 1, {"from": alice})
    assert kept(bond, outsider) == expiry(registry, outsider)
    chain.sleep(3 * DAY + 1)
    chain.mine()
    with revert_with("GreenBondTransferNotAllowed", alice, outsider, 1, reason("RECEIVER_NOT_ELIGIBLE")):
        bond.transfer(outsider, 1, {"from": alice})
    # renewed in the registry (an update: the bond is told), it receives again and the new expiry is kept
    renewed = chain.time() + 30 * DAY
    registry.updateHolder(outsider, investor_id(9), 392, renewed, sealed(9), {"from": registrar})
    bond.transfer(outsider, 1, {"from": alice})
    assert kept(bond, outsider) == renewed


def test_an_expiry_beyond_40_bits_is_kept_as_the_largest(bond, registry, registrar, alice, carol):
    registry.updateHolder(carol, investor_id(3), 392, 2**50, sealed(3), {"from": registrar})
    bond.transfer(carol, 1, {"from": alice})
    assert kept(bond, carol) == 2**40 - 1
    assert registry.isEligible(carol)


def test_only_the_registry_clears(bond, alice, revert_with):
    with revert_with("GreenBondNotRegistry", alice):
        bond.clearEligibility(alice, {"from": alice})


def test_a_bond_the_registry_does_not_tell_keeps_nothing(GreenBond, terms, registry, registrar, admin, agent,
                                                        alice, bob, revert_with):
    """Not on the registry's list, the bond asks the registry at every receipt: still right."""
    quiet = GreenBond.deploy(terms, registry, admin, {"from": admin})
    quiet.mint(alice, 10, {"from": admin})
    tx = quiet.transfer(bob, 1, {"from": alice})
    assert "EligibilityCached" not in tx.events
    assert kept(quiet, alice) == kept(quiet, bob) == 0
    assert registry.address in called(tx)
    registry.removeHolder(bob, {"from": registrar})
    with revert_with("GreenBondNotEligible", bob):
        quiet.mint(bob, 1, {"from": admin})


def test_caching_tokens_are_contracts_added_once_and_at_most_eight(GreenBond, terms, registry, admin, registrar,
                                                                   bond, alice, revert_with):
    with revert_with("RegistryBadCachingToken", alice, 1, 8):
        registry.addCachingToken(alice, {"from": admin})          # not a contract
    with revert_with("RegistryBadCachingToken", bond, 1, 8):
        registry.addCachingToken(bond, {"from": admin})           # already told
    added = [bond.address]
    for _ in range(7):
        b = GreenBond.deploy(terms, registry, admin, {"from": admin})
        tx = registry.addCachingToken(b, {"from": admin})
        assert tx.events["CachingTokenAdded"]["token"] == b
        added.append(b.address)
    assert registry.cachingTokens() == added
    extra = GreenBond.deploy(terms, registry, admin, {"from": admin})
    with revert_with("RegistryBadCachingToken", extra, 8, 8):
        registry.addCachingToken(extra, {"from": admin})
    # every listed bond hears of a removal
    tx = registry.removeHolder(alice, {"from": registrar})
    assert len(tx.events["EligibilityCleared"]) == 1            # only the bond that kept alice's expiry
    assert called(tx) == set(added)
