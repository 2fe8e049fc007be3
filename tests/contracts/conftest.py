"""Fixtures for the Brownie contract tests (run by `make test` on Anvil and on Ganache).

`fn_isolation` reverts the chain after every test, so each test starts from the fixtures'
state. Bonds here use dates relative to the chain's clock (monthly coupons starting a month
after deployment), so time-dependent rules can be driven with `chain.sleep`; the default
Hitachi terms from `config/` are deployed by `hitachi_bond` to check the ERC-7092 getters.
"""

from pathlib import Path

import brownie
import pytest
from brownie import chain, web3

from greenbond.config import load_terms

DAY = 86_400
MONTH = 30 * DAY
RECORD_OFFSET = DAY
DENOMINATION = 1_000_000
UNITS = 10_000


def pytest_collection_modifyitems(config, items):
    """The tests marked `long` (the stateful ones) first, the rest in their order: pytest-xdist
    hands out the first tests round robin, so each worker starts on a long one and the short ones
    fill in around them, instead of one worker running a four-minute test alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="module", autouse=True)
def settled_heap():
    """Brownie runs a full `gc.collect()` on every revert, so once per test; with Brownie's
    project, the compiler output and the test modules on the heap, that took 0.1-0.2 s each time,
    about half of a plain test's time. Collecting once per module and freezing what is left
    (`gc.freeze`, Python's way to keep long-lived objects out of collections) leaves each revert's
    collection only the objects the module's tests made. Unfrozen after the module, so the next
    module's collection frees whatever this one left."""
    import gc

    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session", autouse=True)
def dropped_race():
    """Brownie 1.22's confirmation thread now and then calls a transaction Anvil has just mined
    "dropped" (`TransactionError: Tx dropped without known replacement`, seen under CPU load in
    the long stateful tests): tests.helpers.brownie_compat asks the node for the receipt first."""
    from tests.helpers.brownie_compat import tolerate_dropped_race

    tolerate_dropped_race()


@pytest.fixture(scope="session", autouse=True)
def brownie_without_waste():
    """Brownie's per-call overheads that test nothing (tests.helpers.brownie_compat): reading
    source files for a warning on every snapshot and revert, the proxy environment on every
    request, and the chain id before every call."""
    from tests.helpers.brownie_compat import cache_chain_id, ignore_proxy_environment, skip_source_reads

    skip_source_reads()
    ignore_proxy_environment()
    cache_chain_id()


@pytest.fixture(scope="module")
def admin(accounts):
    """The issuer: DEFAULT_ADMIN_ROLE and AGENT_ROLE on the bond, both roles on the registry."""
    return accounts[0]


# The agent's powers, one role per action (ERC-3643 v4); the issuer holds them all from deployment.
AGENT_ROLES = ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE")


def grant_agent_roles(bond, who, admin):
    """Grants `who` every agent role of `bond` (approvals, mint, burn, freezes, forced transfer, recovery)."""
    for name in AGENT_ROLES:
        bond.grantRole(getattr(bond, name)(), who, {"from": admin})


@pytest.fixture(scope="module")
def agent(accounts):
    """A transfer agent holding every agent role (AGENT_ROLES) and nothing else."""
    return accounts[1]


@pytest.fixture(scope="module")
def registrar(accounts):
    """A registrar holding only REGISTRAR_ROLE."""
    return accounts[2]


@pytest.fixture(scope="module")
def alice(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def bob(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def carol(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def outsider(accounts):
    """Holds no role and is never registered."""
    return accounts[9]


@pytest.fixture(scope="module")
def settlement(SettlementToken, admin):
    return SettlementToken.deploy("JPY Deposit Token (dev)", "JPYD", admin, {"from": admin})


@pytest.fixture(scope="module")
def registry(HolderRegistry, admin, registrar):
    reg = HolderRegistry.deploy(admin, {"from": admin})
    reg.grantRole(reg.REGISTRAR_ROLE(), registrar, {"from": admin})
    return reg


def advance_to(ts):
    """Moves the chain so that the latest block, and so the next transaction, is at or after unix
    time `ts` (never backwards). Brownie's clock and the node's can differ after a revert, so the
    block's own timestamp is checked. chain.sleep + chain.mine: Brownie 1.22 sends
    chain.mine(timestamp=...) to Anvil with malformed params ("Invalid request")."""
    for _ in range(3):
        latest = web3.eth.get_block("latest")["timestamp"]
        now = max(chain.time(), latest)
        if now >= ts and latest >= ts:
            return
        if now < ts:
            chain.sleep(ts - now)
        chain.mine()
    assert web3.eth.get_block("latest")["timestamp"] >= ts


@pytest.fixture(scope="session")
def goto():
    """goto(ts): move the chain to unix time `ts` (never backwards); see advance_to."""
    return advance_to


def investor_id(n):
    return "0x" + f"{n:064x}"


def sealed(n):
    """Stand-in ciphertext: the contracts never look inside it."""
    return "0x" + bytes([n % 256]).hex() * 48


@pytest.fixture(scope="module")
def register(registry, registrar):
    """register(wallet, investor=n, expires_in=seconds) registers a wallet."""

    def _register(wallet, investor=1, expires_in=10 * 365 * DAY, country=392):
        expires = chain.time() + expires_in
        return registry.registerHolder(
            wallet, investor_id(investor), country, expires, sealed(investor), {"from": registrar}
        )

    return _register


def relative_terms(settlement_address, start, months=12, record_offset=RECORD_OFFSET):
    """Terms of a bond issued at `start` with `months` monthly coupons (frequency 12)."""
    coupon_dates = [start + MONTH * (i + 1) for i in range(months)]
    return (
        "Test Green Bond",
        "TGB",
        "PLACEHOLDER-TEST",
        settlement_address,
        DENOMINATION,
        DENOMINATION * UNITS,
        5_980,
        1,
        12,
        0,
        start,
        coupon_dates[-1],
        record_offset,
        coupon_dates,
    )


@pytest.fixture(scope="module")
def terms(settlement):
    return relative_terms(settlement.address, chain.time())


@pytest.fixture(scope="module")
def bond(GreenBond, terms, registry, admin, agent):
    b = GreenBond.deploy(terms, registry, admin, {"from": admin})
    grant_agent_roles(b, agent, admin)
    registry.addCachingToken(b, {"from": admin})   # as greenbond.deploy does
    return b


@pytest.fixture(scope="module")
def holders(bond, register, alice, bob, carol, agent):
    """alice (investor 1) holds 100, bob (investor 2) 50; carol (investor 3) is registered, holds 0."""
    register(alice, 1)
    register(bob, 2)
    register(carol, 3)
    bond.mint(alice, 100, {"from": agent})
    bond.mint(bob, 50, {"from": agent})
    return alice, bob, carol


@pytest.fixture(scope="module")
def hitachi_terms():
    return load_terms()


@pytest.fixture(scope="module")
def hitachi_bond(GreenBond, hitachi_terms, settlement, registry, admin):
    return GreenBond.deploy(hitachi_terms.contract_terms(settlement.address), registry, admin, {"from": admin})


# ---------------------------------------------------------------- helpers added for the suite


@pytest.fixture(scope="module")
def dave(accounts):
    """Unregistered by default: used as a second wallet of an investor (recovery) or a newcomer."""
    return accounts[6]


@pytest.fixture(scope="module")
def erin(accounts):
    """Unregistered by default."""
    return accounts[7]


def code(reason):
    """A canTransfer reason ("PAUSED") as the bytes32 hex string the contract returns."""
    return "0x" + reason.encode().ljust(32, b"\0").hex()


def _error_arg(value):
    """One argument as Brownie 1.22 prints it in a decoded custom error."""
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, bytes):
        return str(bytes(value))
    if isinstance(value, str):
        if value.startswith("0x") and len(value) == 42:
            return value.lower()
        if value.startswith("0x") and len(value) == 66:
            return str(bytes.fromhex(value[2:]))
        return str(value.encode().ljust(32, b"\0"))  # a short string meant as bytes32
    raise TypeError(f"cannot format error argument {value!r}")


def error_message(name, *args):
    """The revert message Brownie 1.22 decodes for custom error `name(args...)`:
    "Name: arg1, arg2" with addresses in lower case, bytes32 as a Python bytes literal
    (short strings such as "PAUSED" are padded to 32 bytes) and integers in decimal."""
    return f"{name}: {', '.join(_error_arg(a) for a in args)}"


@pytest.fixture(scope="session")
def revert_with():
    """`with revert_with("GreenBondNotEligible", carol):` asserts that exact custom error and arguments."""

    def _revert_with(name, *args):
        return brownie.reverts(error_message(name, *args))

    return _revert_with


@pytest.fixture(scope="session")
def reason():
    """reason("PAUSED") -> the bytes32 reason code canTransfer returns."""
    return code


@pytest.fixture(scope="session")
def error_msg():
    """error_msg(name, *args) -> the decoded revert message, for comparing a caught VirtualMachineError."""
    return error_message


def _load_pure_python_stateful():
    import importlib.util

    import brownie.test

    path = Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("_brownie_stateful_py", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


@pytest.fixture
def state_machine():
    """Brownie's `state_machine` factory, taken from the pure-Python source of
    brownie.test.stateful. eth-brownie 1.22.2 installs that module compiled with mypyc, and the
    compiled `_BrownieStateMachine` is final, so the rules class Brownie derives from it fails
    with "TypeError: brownie.test.stateful._BrownieStateMachine object expected; got
    BrownieStateMachine". The .py file installed beside it is the same code and works."""
    return _load_pure_python_stateful()
