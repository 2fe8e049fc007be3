"""Every privileged function reverts with AccessControlUnauthorizedAccount for a caller without the role."""

import pytest

DAY = 86_400

ADMIN_ONLY = [
    ("pause", lambda b, w: ()),
    ("unpause", lambda b, w: ()),
    ("setTransferable", lambda b, w: (False,)),
    ("setTransferApprovalRequired", lambda b, w: (True,)),
    ("setImpactOracle", lambda b, w: (w["bob"],)),
    ("setDocument", lambda b, w: ("0x" + "11" * 32, "ipfs://doc", "0x" + "22" * 32)),
    ("removeDocument", lambda b, w: ("0x" + "11" * 32,)),
    ("addRecordDate", lambda b, w: (b.recordDates()[-1] + DAY,)),
]

AGENT_ONLY = [
    ("mint", lambda b, w: (w["carol"], 1)),
    ("batchMint", lambda b, w: ([w["carol"]], [1])),
    ("burn", lambda b, w: (w["alice"], 1)),
    ("setAddressFrozen", lambda b, w: (w["alice"], True)),
    ("freezePartialTokens", lambda b, w: (w["alice"], 1)),
    ("unfreezePartialTokens", lambda b, w: (w["alice"], 0)),
    ("forcedTransfer", lambda b, w: (w["alice"], w["carol"], 1)),
    ("recoveryAddress", lambda b, w: (w["alice"], w["carol"])),
    ("approveTransfer", lambda b, w: (0,)),
]


@pytest.fixture
def wallets(holders, alice, bob, carol):
    return {"alice": alice, "bob": bob, "carol": carol}


@pytest.mark.parametrize("name,args", ADMIN_ONLY, ids=[n for n, _ in ADMIN_ONLY])
@pytest.mark.parametrize("caller", ["agent", "registrar", "alice", "outsider"])
def test_admin_only(bond, wallets, request, revert_with, name, args, caller):
    account = request.getfixturevalue(caller)
    role = bond.DEFAULT_ADMIN_ROLE()
    with revert_with("AccessControlUnauthorizedAccount", account, role):
        getattr(bond, name)(*args(bond, wallets), {"from": account})


@pytest.mark.parametrize("name,args", AGENT_ONLY, ids=[n for n, _ in AGENT_ONLY])
@pytest.mark.parametrize("caller", ["registrar", "alice", "outsider"])
def test_agent_only(bond, wallets, request, revert_with, name, args, caller):
    account = request.getfixturevalue(caller)
    role = bond.AGENT_ROLE()
    with revert_with("AccessControlUnauthorizedAccount", account, role):
        getattr(bond, name)(*args(bond, wallets), {"from": account})


def test_agent_is_not_admin(bond, agent):
    assert bond.hasRole(bond.AGENT_ROLE(), agent)
    assert not bond.hasRole(bond.DEFAULT_ADMIN_ROLE(), agent)


def test_admin_grants_and_revokes_agent(bond, admin, holders, outsider, carol, revert_with):
    role = bond.AGENT_ROLE()
    bond.grantRole(role, outsider, {"from": admin})
    bond.mint(carol, 1, {"from": outsider})
    bond.revokeRole(role, outsider, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", outsider, role):
        bond.mint(carol, 1, {"from": outsider})


def test_agent_cannot_grant_roles(bond, agent, outsider, revert_with):
    with revert_with("AccessControlUnauthorizedAccount", agent, bond.DEFAULT_ADMIN_ROLE()):
        bond.grantRole(bond.AGENT_ROLE(), outsider, {"from": agent})
