"""Fixtures for the BondDvP tests.

`dvp` trades the top-level conftest's bond (alice 100 units, bob 50, carol registered with 0:
the `holders` fixture) against its settlement token; it holds the bond's LOCKER_ROLE, as
greenbond.offering.deploy_dvp grants it. alice, bob and carol each hold CASH yen and have
approved the DvP for all of it. Time only moves forward (`go(ts)`).
"""

import pytest
from brownie import chain

DAY = 86_400
CASH = 10**12
MAX = 2**256 - 1
MAX_OFFER = 30 * DAY   # the DvP's maxOfferDuration in these tests
PRICE = 5_000_000


@pytest.fixture(scope="session")
def go(goto):
    return goto


@pytest.fixture(scope="session")
def status():
    class S:
        pass

    s = S()
    s.NONE, s.OPEN, s.PENDING, s.SETTLED, s.CANCELLED, s.EXPIRED = range(6)
    return s


@pytest.fixture(scope="module")
def dvp(BondDvP, bond, holders, settlement, admin):
    d = BondDvP.deploy(bond, MAX_OFFER, {"from": admin})
    bond.grantRole(bond.LOCKER_ROLE(), d, {"from": admin})
    for who in holders:
        settlement.mint(who, CASH, {"from": admin})
        settlement.approve(d, MAX, {"from": who})
    return d


@pytest.fixture(scope="session")
def expiry_in():
    """expiry_in(seconds=DAY) -> a unix time that far after the chain's clock."""
    return lambda seconds=DAY: chain.time() + seconds


def plain(value):
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    return int(value)


@pytest.fixture(scope="session")
def py():
    return plain


@pytest.fixture(scope="module")
def legs(settlement, bond, dvp):
    """legs(*wallets) -> [(cash, units, locked units)] now, and the DvP's cash as the last item."""

    def _legs(*wallets):
        return [(int(settlement.balanceOf(w)), int(bond.balanceOf(w)), int(bond.escrowedOf(w))) for w in wallets] + [
            int(settlement.balanceOf(dvp))
        ]

    return _legs
