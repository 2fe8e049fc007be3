"""Retirement: a holder retires credits for a beneficiary, a reason and a consumption period; the
units are burned (they can never move again) and a certificate records it for anyone to look up."""

import brownie
import pytest



@pytest.fixture
def alice_batch(ck, alice):
    ck.report_hours(range(10))
    return ck.issued(0, 10, alice)  # 924 kg


def test_retire_burns_and_certifies(credits, alice_batch, alice):
    b = alice_batch
    tx = credits.retire(b, 300, "Hitachi, Ltd.", "FY2025 Scope 2 offset", 1_743_433_200, 1_774_969_200, {"from": alice})
    e = tx.events["CreditsRetired"]
    assert (e["certificateId"], e["batchId"], e["retiree"], e["amountKg"]) == (1, b, alice, 300)
    assert tx.events["TransferSingle"]["to"] == "0x" + "00" * 20
    assert credits.balanceOf(alice, b) == 624
    assert credits.retiredOf(b) == 300
    c = credits.certificate(1)
    assert (c["batchId"], c["amountKg"], c["retiree"], c["beneficiary"], c["reason"]) == (
        b, 300, alice, "Hitachi, Ltd.", "FY2025 Scope 2 offset")
    assert (c["consumptionStart"], c["consumptionEnd"], c["retiredAt"]) == (1_743_433_200, 1_774_969_200, tx.timestamp)
    assert credits.certificateCount() == 1


def test_retired_units_never_move_again(credits, alice_batch, alice, bob, admin, credits_agent):
    b = alice_batch
    credits.retire(b, 924, "Alice Corp", "offset", 0, 0, {"from": alice})
    assert credits.balanceOf(alice, b) == 0
    with brownie.reverts():
        credits.safeTransferFrom(alice, bob, b, 1, b"", {"from": alice})
    with brownie.reverts():
        credits.forcedTransfer(alice, bob, b, 1, {"from": credits_agent})
    with brownie.reverts():
        credits.retire(b, 1, "Alice Corp", "again", 0, 0, {"from": alice})
    assert credits.retiredOf(b) == 924


def test_retirement_input(credits, alice_batch, alice, bob, revert_with):
    b = alice_batch
    with revert_with("CreditsInvalidInput", b"amountKg".ljust(32, b"\0")):
        credits.retire(b, 0, "x", "y", 0, 0, {"from": alice})
    with revert_with("CreditsInvalidInput", b"beneficiary".ljust(32, b"\0")):
        credits.retire(b, 1, "", "y", 0, 0, {"from": alice})
    with revert_with("CreditsInvalidInput", b"consumptionPeriod".ljust(32, b"\0")):
        credits.retire(b, 1, "x", "y", 2, 1, {"from": alice})
    with revert_with("CreditsUnknownBatch", 5):
        credits.retire(5, 1, "x", "y", 0, 0, {"from": alice})
    with revert_with("ERC1155InsufficientBalance", bob, 0, 1, b):
        credits.retire(b, 1, "x", "y", 0, 0, {"from": bob})
    with revert_with("CreditsUnknownCertificate", 1):
        credits.certificate(1)


def test_frozen_or_paused_holders_cannot_retire(credits, alice_batch, alice, credits_agent, revert_with):
    b = alice_batch
    credits.setAddressFrozen(alice, True, {"from": credits_agent})
    with revert_with("CreditsFrozen", alice):
        credits.retire(b, 1, "x", "y", 0, 0, {"from": alice})
    credits.setAddressFrozen(alice, False, {"from": credits_agent})
    credits.pause({"from": credits_agent})
    with revert_with("EnforcedPause"):
        credits.retire(b, 1, "x", "y", 0, 0, {"from": alice})
    credits.unpause({"from": credits_agent})
    credits.retire(b, 1, "x", "y", 0, 0, {"from": alice})
