"""Only REGISTRAR_ROLE administers holders; DEFAULT_ADMIN_ROLE administers roles."""

import pytest
from brownie import chain

INVESTOR = "0x" + f"{1:064x}"


@pytest.mark.parametrize("caller", ["agent", "alice", "outsider"])
def test_register_requires_role(registry, request, revert_with, alice, caller):
    account = request.getfixturevalue(caller)
    with revert_with("AccessControlUnauthorizedAccount", account, registry.REGISTRAR_ROLE()):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + 1000, "0x01", {"from": account})


@pytest.mark.parametrize("caller", ["agent", "alice", "outsider"])
def test_update_requires_role(registry, register, request, revert_with, alice, caller):
    register(alice, 1)
    account = request.getfixturevalue(caller)
    with revert_with("AccessControlUnauthorizedAccount", account, registry.REGISTRAR_ROLE()):
        registry.updateHolder(alice, INVESTOR, 392, chain.time() + 1000, "0x01", {"from": account})


@pytest.mark.parametrize("caller", ["agent", "alice", "outsider"])
def test_remove_requires_role(registry, register, request, revert_with, alice, caller):
    register(alice, 1)
    account = request.getfixturevalue(caller)
    with revert_with("AccessControlUnauthorizedAccount", account, registry.REGISTRAR_ROLE()):
        registry.removeHolder(alice, {"from": account})


def test_roles(registry, admin, registrar):
    assert registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin)
    assert registry.hasRole(registry.REGISTRAR_ROLE(), admin)
    assert registry.hasRole(registry.REGISTRAR_ROLE(), registrar)
    assert not registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), registrar)


def test_registrar_cannot_grant(registry, registrar, outsider, revert_with):
    with revert_with("AccessControlUnauthorizedAccount", registrar, registry.DEFAULT_ADMIN_ROLE()):
        registry.grantRole(registry.REGISTRAR_ROLE(), outsider, {"from": registrar})


def test_revoked_registrar(registry, admin, registrar, alice, revert_with):
    registry.revokeRole(registry.REGISTRAR_ROLE(), registrar, {"from": admin})
    with revert_with("AccessControlUnauthorizedAccount", registrar, registry.REGISTRAR_ROLE()):
        registry.registerHolder(alice, INVESTOR, 392, chain.time() + 1000, "0x01", {"from": registrar})
