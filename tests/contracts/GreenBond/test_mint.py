"""mint and batchMint: eligible receivers only, within the issue volume, all or nothing."""

from brownie import ZERO_ADDRESS, chain

DAY = 86_400


def test_mint(bond, register, agent, alice):
    register(alice, 1)
    tx = bond.mint(alice, 10, {"from": agent})
    assert bond.balanceOf(alice) == 10
    assert bond.totalSupply() == 10
    assert tx.events["Transfer"]["from"] == ZERO_ADDRESS
    assert tx.events["Transfer"]["to"] == alice
    assert tx.events["Transfer"]["value"] == 10


def test_mint_by_issuer(bond, register, admin, alice):
    register(alice, 1)
    bond.mint(alice, 1, {"from": admin})
    assert bond.balanceOf(alice) == 1


def test_mint_unregistered(bond, agent, outsider, revert_with):
    with revert_with("GreenBondNotEligible", outsider):
        bond.mint(outsider, 1, {"from": agent})


def test_mint_expired(bond, register, agent, alice, revert_with):
    register(alice, 1, expires_in=DAY)
    chain.sleep(2 * DAY)
    with revert_with("GreenBondNotEligible", alice):
        bond.mint(alice, 1, {"from": agent})


def test_mint_zero_address(bond, agent, revert_with):
    with revert_with("GreenBondZeroAddress"):
        bond.mint(ZERO_ADDRESS, 1, {"from": agent})


def test_mint_full_issue(bond, register, agent, alice):
    register(alice, 1)
    bond.mint(alice, 10_000, {"from": agent})
    assert bond.totalSupply() == bond.maxSupply() == 10_000


def test_mint_above_issue_volume(bond, register, agent, alice, revert_with):
    register(alice, 1)
    with revert_with("GreenBondIssueVolumeExceeded", 10_001, 10_000):
        bond.mint(alice, 10_001, {"from": agent})
    bond.mint(alice, 9_990, {"from": agent})
    with revert_with("GreenBondIssueVolumeExceeded", 11, 10):
        bond.mint(alice, 11, {"from": agent})


def test_mint_after_burn_frees_volume(bond, register, agent, alice):
    register(alice, 1)
    bond.mint(alice, 10_000, {"from": agent})
    bond.burn(alice, 5, {"from": agent})
    bond.mint(alice, 5, {"from": agent})
    assert bond.totalSupply() == 10_000


def test_mint_frozen_wallet(bond, register, agent, alice, revert_with):
    """A frozen wallet receives no new units (nor does a batch that includes it)."""
    register(alice, 1)
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("GreenBondWalletFrozen", alice):
        bond.mint(alice, 3, {"from": agent})
    with revert_with("GreenBondWalletFrozen", alice):
        bond.batchMint([alice], [3], {"from": agent})
    assert bond.balanceOf(alice) == 0


def test_mint_paused(bond, register, admin, agent, alice, revert_with):
    register(alice, 1)
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.mint(alice, 1, {"from": agent})


def test_batch_mint(bond, register, agent, alice, bob):
    register(alice, 1)
    register(bob, 2)
    tx = bond.batchMint([alice, bob, alice], [10, 20, 5], {"from": agent})
    assert bond.balanceOf(alice) == 15
    assert bond.balanceOf(bob) == 20
    assert bond.totalSupply() == 35
    assert len(tx.events["Transfer"]) == 3


def test_batch_mint_empty(bond, agent):
    bond.batchMint([], [], {"from": agent})
    assert bond.totalSupply() == 0


def test_batch_mint_length_mismatch(bond, register, agent, alice, bob, revert_with):
    register(alice, 1)
    with revert_with("GreenBondLengthMismatch", 2, 1):
        bond.batchMint([alice, bob], [1], {"from": agent})
    with revert_with("GreenBondLengthMismatch", 1, 2):
        bond.batchMint([alice], [1, 2], {"from": agent})


def test_batch_mint_all_or_nothing_eligibility(bond, register, agent, alice, outsider, revert_with):
    register(alice, 1)
    with revert_with("GreenBondNotEligible", outsider):
        bond.batchMint([alice, outsider], [10, 10], {"from": agent})
    assert bond.balanceOf(alice) == 0
    assert bond.totalSupply() == 0


def test_batch_mint_all_or_nothing_volume(bond, register, agent, alice, bob, revert_with):
    register(alice, 1)
    register(bob, 2)
    with revert_with("GreenBondIssueVolumeExceeded", 5_001, 5_000):
        bond.batchMint([alice, bob], [5_000, 5_001], {"from": agent})
    assert bond.totalSupply() == 0


def test_batch_mint_paused(bond, register, admin, agent, alice, revert_with):
    register(alice, 1)
    bond.pause({"from": admin})
    with revert_with("EnforcedPause"):
        bond.batchMint([alice], [1], {"from": agent})
