"""Fixtures for the Offering tests.

The bond is the top-level conftest's (10,000 units of 1,000,000 yen, paid in the dev
SettlementToken `settlement`). `make_offering(...)` deploys an Offering for it exactly as
greenbond.offering.deploy_offering does (issuer admin with ALLOTTER_ROLE, AGENT_ROLE on the
bond so it can mint) with a window relative to the chain's clock:

    open  = now + 1 day, close = now + 3 days, settlement date = now + 5 days

`investors` registers alice (1), bob (2), carol (3) and dave (4); each holds CASH yen of the
settlement token and has approved the offering for all of it. `issuer_wallet` receives the
proceeds; `underwriter` (erin) is registered and funded too. Time only moves forward
(`goto(ts)`: chain.sleep + chain.mine).
"""

import pytest
from brownie import ZERO_ADDRESS, chain

DAY = 86_400
PAR = 1_000_000
CASH = 10**13
MAX = 2**256 - 1
# IOffering.State
PENDING, OPEN, CLOSED, ALLOTTED, SETTLED, CANCELLED = range(6)


@pytest.fixture(scope="session")
def go(goto):
    """go(ts): move the chain to `ts` (never backwards)."""
    return goto


@pytest.fixture(scope="module")
def issuer_wallet(accounts):
    """Receives the offering's proceeds; holds no role."""
    return accounts[8]


@pytest.fixture(scope="module")
def underwriter(erin):
    return erin


@pytest.fixture(scope="module")
def investors(register, settlement, admin, alice, bob, carol, dave, erin):
    """alice, bob, carol, dave registered (investors 1-4), erin (the underwriter, 5) too; all funded."""
    for n, who in enumerate((alice, bob, carol, dave, erin), start=1):
        register(who, n)
        settlement.mint(who, CASH, {"from": admin})
    return alice, bob, carol, dave


@pytest.fixture(scope="module")
def make_offering(Offering, bond, settlement, admin, issuer_wallet, investors, erin):
    """make_offering(units=600, price=PAR, min_units=1, max_units=1_000, underwriter=None, ...)
    -> (offering, terms dict). Investors (and the underwriter) approve it for everything."""

    def _make(units=600, price=PAR, min_units=1, max_units=1_000, underwriter=None,
              open_in=DAY, window=2 * DAY, settle_after=2 * DAY, issuer=None, grant=True, approve=True,
              deadline_after=30 * DAY):
        now = chain.time()
        t = dict(
            openTime=now + open_in,
            closeTime=now + open_in + window,
            settlementDate=now + open_in + window + settle_after,
            settlementDeadline=now + open_in + window + settle_after + deadline_after,
            pricePerUnit=price,
            minUnits=min_units,
            maxUnits=max_units,
            unitsOffered=units,
            issuer=(issuer or issuer_wallet).address,
            underwriter=underwriter.address if underwriter else ZERO_ADDRESS,
        )
        o = Offering.deploy(bond, tuple(t.values()), admin, {"from": admin})
        if grant:
            bond.grantRole(bond.MINTER_ROLE(), o, {"from": admin})
        if approve:
            for who in list(investors) + [erin]:
                settlement.approve(o, MAX, {"from": who})
        return o, t

    return _make


@pytest.fixture(scope="module")
def offering(make_offering):
    """A best-efforts offering of 600 units at par, 1..1,000 units per investor."""
    return make_offering()


@pytest.fixture
def open_offering(offering, go):
    """The default offering, its window open."""
    o, t = offering
    go(t["openTime"])
    return o, t


@pytest.fixture(scope="session")
def states():
    class S:
        pass

    s = S()
    s.PENDING, s.OPEN, s.CLOSED, s.ALLOTTED, s.SETTLED, s.CANCELLED = range(6)
    return s


@pytest.fixture(scope="module")
def balances(settlement, bond):
    """balances(*wallets) -> [(cash, units)] now."""

    def _b(*wallets):
        return [(settlement.balanceOf(w), bond.balanceOf(w)) for w in wallets]

    return _b


def plain(value):
    """A Brownie return value as plain Python (tuples of ints/bools/strs): Brownie 1.22's
    compiled ReturnValue cannot be compared with a tuple of ints."""
    if isinstance(value, (bool, str)):
        return value if not hasattr(value, "address") else value.address
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    return int(value)


@pytest.fixture(scope="session")
def py():
    """py(value): Brownie return value -> plain Python."""
    return plain
