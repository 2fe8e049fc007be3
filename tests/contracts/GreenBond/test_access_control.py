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

# (function, arguments, the one role it needs): the agent's powers are split per action (ERC-3643 v4)
AGENT_ONLY = [
    ("mint", lambda b, w: (w["carol"], 1), "MINTER_ROLE"),
    ("batchMint", lambda b, w: ([w["carol"]], [1]), "MINTER_ROLE"),
    ("burn", lambda b, w: (w["alice"], 1), "BURNER_ROLE"),
    ("setAddressFrozen", lambda b, w: (w["alice"], True), "FREEZER_ROLE"),
    ("freezePartialTokens", lambda b, w: (w["alice"], 1), "FREEZER_ROLE"),
    ("unfreezePartialTokens", lambda b, w: (w["alice"], 0), "FREEZER_ROLE"),
    ("forcedTransfer", lambda b, w: (w["alice"], w["carol"], 1), "FORCED_TRANSFER_ROLE"),
    ("recoveryAddress", lambda b, w: (w["alice"], w["carol"]), "RECOVERY_ROLE"),
    ("approveTransfer", lambda b, w: (0,), "AGENT_ROLE"),
    ("redeemUnits", lambda b, w: (w["alice"], 1), "REDEMPTION_ROLE"),
    ("setCallDate", lambda b, w: (b.maturityDate() - DAY,), "REDEMPTION_ROLE"),
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


@pytest.mark.parametrize("name,args,role_name", AGENT_ONLY, ids=[n for n, _, _ in AGENT_ONLY])
@pytest.mark.parametrize("caller", ["registrar", "alice", "outsider"])
def test_agent_only(bond, wallets, request, revert_with, name, args, role_name, caller):
    account = request.getfixturevalue(caller)
    role = getattr(bond, role_name)()
    with revert_with("AccessControlUnauthorizedAccount", account, role):
        getattr(bond, name)(*args(bond, wallets), {"from": account})


@pytest.mark.parametrize("name,args,role_name", AGENT_ONLY, ids=[n for n, _, _ in AGENT_ONLY])
def test_each_power_needs_its_own_role(bond, wallets, admin, outsider, revert_with, name, args, role_name):
    """Every other agent role together does not give this power (the Offering can only mint,
    the schedule only redeem)."""
    others = {"AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE",
              "LOCKER_ROLE", "REDEMPTION_ROLE"} - {role_name}
    for other in others:
        bond.grantRole(getattr(bond, other)(), outsider, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", outsider, getattr(bond, role_name)()):
        getattr(bond, name)(*args(bond, wallets), {"from": outsider})


def test_agent_is_not_admin(bond, agent):
    assert bond.hasRole(bond.AGENT_ROLE(), agent)
    assert not bond.hasRole(bond.DEFAULT_ADMIN_ROLE(), agent)


def test_admin_grants_and_revokes_agent(bond, admin, holders, outsider, carol, revert_with):
    role = bond.MINTER_ROLE()
    bond.grantRole(role, outsider, {"from": admin})
    bond.mint(carol, 1, {"from": outsider})
    bond.revokeRole(role, outsider, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", outsider, role):
        bond.mint(carol, 1, {"from": outsider})


def test_agent_cannot_grant_roles(bond, agent, outsider, revert_with):
    with revert_with("AccessControlUnauthorizedAccount", agent, bond.DEFAULT_ADMIN_ROLE()):
        bond.grantRole(bond.AGENT_ROLE(), outsider, {"from": agent})
