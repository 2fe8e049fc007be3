"""Who may do what: issuer and verifier are different accounts; credits go only to wallets the
registry allows (or anywhere when the credits are deployed open); the agent pauses, freezes and
forces transfers, and a forced transfer's receiver cannot use the lifted freeze."""

import pytest

from credits_kit import DOC


@pytest.fixture
def alice_batch(ck, alice):
    ck.report_hours(range(4))
    return ck.issued(0, 4, alice)


def test_no_account_is_issuer_and_verifier(credits, admin, verifier, revert_with):
    with revert_with("CreditsRoleConflict", verifier, credits.ISSUER_ROLE()):
        credits.grantRole(credits.ISSUER_ROLE(), verifier, {"from": admin})
    with revert_with("CreditsRoleConflict", admin, credits.VERIFIER_ROLE()):
        credits.grantRole(credits.VERIFIER_ROLE(), admin, {"from": admin})


@pytest.mark.parametrize("step", ["propose", "add", "seal", "approve", "issue", "ref", "resolve"])
def test_each_step_needs_its_role(ck, credits, admin, verifier, alice, outsider, step, revert_with):
    indexes = ck.report_hours(range(2))
    b = ck.propose(0, 2)
    issuer_role, verifier_role = credits.ISSUER_ROLE(), credits.VERIFIER_ROLE()
    calls = {
        "propose": (issuer_role, lambda who: credits.proposeBatch(1, ck.kit.hour(2), ck.kit.hour(3), 1, 2024, "", {"from": who})),
        "add": (issuer_role, lambda who: credits.addReports(b, indexes, {"from": who})),
        "seal": (issuer_role, lambda who: credits.sealBatch(b, {"from": who})),
        "approve": (verifier_role, lambda who: credits.approveBatch(b, DOC, {"from": who})),
        "issue": (issuer_role, lambda who: credits.issueBatch(b, alice, {"from": who})),
        "ref": (issuer_role, lambda who: credits.setExternalRef(b, "x", {"from": who})),
        "resolve": (verifier_role, lambda who: credits.resolveHold(1, DOC, {"from": who})),
    }
    role, call = calls[step]
    wrong = verifier if role == issuer_role else admin
    for who in (outsider, wrong):
        with revert_with("AccessControlUnauthorizedAccount", who, role):
            call(who)


def test_credits_go_only_to_allowed_wallets(ck, credits, open_credits, alice, bob, outsider, admin, verifier, revert_with):
    ck.report_hours(range(2))
    b = ck.propose(0, 2)
    ck.add(b, ck.in_force(0, 2))
    credits.sealBatch(b, {"from": admin})
    credits.approveBatch(b, DOC, {"from": verifier})
    with revert_with("CreditsNotEligible", outsider):
        credits.issueBatch(b, outsider, {"from": admin})
    credits.issueBatch(b, alice, {"from": admin})
    with revert_with("CreditsNotEligible", outsider):
        credits.safeTransferFrom(alice, outsider, b, 1, b"", {"from": alice})
    credits.safeTransferFrom(alice, bob, b, 5, b"", {"from": alice})
    assert credits.balanceOf(bob, b) == 5

    # deployed open: anyone may hold them
    assert open_credits.registry() == "0x" + "00" * 20
    ob = open_credits.proposeBatch(1, ck.kit.hour(0), ck.kit.hour(2), 1, 2024, "", {"from": admin}).return_value
    open_credits.addReports(ob, ck.in_force(0, 2), {"from": admin})
    open_credits.sealBatch(ob, {"from": admin})
    open_credits.approveBatch(ob, DOC, {"from": verifier})
    open_credits.issueBatch(ob, outsider, {"from": admin})
    open_credits.safeTransferFrom(outsider, bob, ob, 1, b"", {"from": outsider})
    assert open_credits.balanceOf(bob, ob) == 1


def test_freeze_and_pause(credits, alice_batch, alice, bob, credits_agent, outsider, revert_with):
    b = alice_batch
    with revert_with("AccessControlUnauthorizedAccount", outsider, credits.AGENT_ROLE()):
        credits.setAddressFrozen(alice, True, {"from": outsider})
    tx = credits.setAddressFrozen(alice, True, {"from": credits_agent})
    assert tx.events["AddressFrozen"]["isFrozen"] is True and credits.isFrozen(alice)
    with revert_with("CreditsFrozen", alice):
        credits.safeTransferFrom(alice, bob, b, 1, b"", {"from": alice})
    credits.setAddressFrozen(alice, False, {"from": credits_agent})
    credits.setAddressFrozen(bob, True, {"from": credits_agent})
    with revert_with("CreditsFrozen", bob):
        credits.safeTransferFrom(alice, bob, b, 1, b"", {"from": alice})
    credits.setAddressFrozen(bob, False, {"from": credits_agent})
    credits.pause({"from": credits_agent})
    with revert_with("EnforcedPause"):
        credits.safeTransferFrom(alice, bob, b, 1, b"", {"from": alice})
    credits.unpause({"from": credits_agent})
    credits.safeTransferFrom(alice, bob, b, 1, b"", {"from": alice})


def test_forced_transfer(credits, alice_batch, alice, bob, outsider, credits_agent, revert_with):
    b = alice_batch
    credits.setAddressFrozen(alice, True, {"from": credits_agent})
    credits.pause({"from": credits_agent})
    with revert_with("AccessControlUnauthorizedAccount", alice, credits.AGENT_ROLE()):
        credits.forcedTransfer(alice, bob, b, 1, {"from": alice})
    tx = credits.forcedTransfer(alice, bob, b, 10, {"from": credits_agent})
    assert tx.events["ForcedTransfer"]["amountKg"] == 10
    assert credits.balanceOf(bob, b) == 10
    with revert_with("CreditsNotEligible", outsider):
        credits.forcedTransfer(alice, outsider, b, 1, {"from": credits_agent})
    # the lift was for that move only
    assert credits.isFrozen(alice) and credits.paused()
    with revert_with("EnforcedPause"):
        credits.safeTransferFrom(bob, alice, b, 1, b"", {"from": bob})


def test_a_receiving_contract_cannot_use_the_lifted_freeze(credits, open_credits, ck, alice, admin, verifier,
                                                           credits_agent, ReentrantCreditReceiver, revert_with):
    """The receiver's acceptance hook runs after the lift: a contract receiving a forced transfer
    that tries to pass the credits on from inside the hook meets the pause like anyone."""
    ck.report_hours(range(2))
    ob = open_credits.proposeBatch(1, ck.kit.hour(0), ck.kit.hour(2), 1, 2024, "", {"from": admin}).return_value
    open_credits.addReports(ob, ck.in_force(0, 2), {"from": admin})
    open_credits.sealBatch(ob, {"from": admin})
    open_credits.approveBatch(ob, DOC, {"from": verifier})
    open_credits.issueBatch(ob, alice, {"from": admin})
    receiver = ReentrantCreditReceiver.deploy(open_credits, alice, {"from": admin})
    open_credits.pause({"from": credits_agent})
    with revert_with("EnforcedPause"):
        open_credits.forcedTransfer(alice, receiver, ob, 5, {"from": credits_agent})
    open_credits.unpause({"from": credits_agent})
    open_credits.forcedTransfer(alice, receiver, ob, 5, {"from": credits_agent})
    assert open_credits.balanceOf(alice, ob) == 184  # 5 forced out, 5 passed back from the hook
