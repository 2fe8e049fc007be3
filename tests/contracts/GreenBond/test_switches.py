"""setTransferable, setTransferApprovalRequired and setImpactOracle, with their events."""

from brownie import ZERO_ADDRESS


def test_set_transferable(bond, admin):
    tx = bond.setTransferable(False, {"from": admin})
    assert not bond.transferable()
    assert tx.events["TransferableChanged"]["transferable"] is False
    tx = bond.setTransferable(True, {"from": admin})
    assert bond.transferable()
    assert tx.events["TransferableChanged"]["transferable"] is True


def test_set_transfer_approval_required(bond, admin):
    tx = bond.setTransferApprovalRequired(True, {"from": admin})
    assert bond.transferApprovalRequired()
    assert tx.events["TransferApprovalRequiredChanged"]["required"] is True
    tx = bond.setTransferApprovalRequired(False, {"from": admin})
    assert not bond.transferApprovalRequired()
    assert tx.events["TransferApprovalRequiredChanged"]["required"] is False


def test_set_impact_oracle(bond, admin, accounts):
    tx = bond.setImpactOracle(accounts[8], {"from": admin})
    assert bond.impactOracle() == accounts[8]
    ev = tx.events["ImpactOracleSet"]
    assert (ev["previous"], ev["oracle"]) == (ZERO_ADDRESS, accounts[8])
    tx = bond.setImpactOracle(accounts[7], {"from": admin})
    ev = tx.events["ImpactOracleSet"]
    assert (ev["previous"], ev["oracle"]) == (accounts[8], accounts[7])


def test_set_impact_oracle_zero(bond, admin, revert_with):
    with revert_with("GreenBondZeroAddress"):
        bond.setImpactOracle(ZERO_ADDRESS, {"from": admin})
