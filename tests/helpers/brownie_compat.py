"""Work-arounds for Brownie 1.22 with Anvil, used by the benchmarks (which drive Brownie outside
`brownie test`) and by the contract tests (tests/contracts/conftest.py). Each patch is small,
says what it works around, and changes nothing when the problem does not occur; and Brownie
handles on a suite deployed over web3 (`brownie_handles`), for the contract tests that drive it
through Brownie."""

from __future__ import annotations

from dataclasses import dataclass


def tolerate_dropped_race() -> None:
    """Brownie's confirmation thread sometimes marks a transaction Anvil has just mined as
    "dropped" (seen in about one benchmark run in four: `TransactionError: Tx dropped without
    known replacement`). When that happens, ask the node for the receipt: if the transaction was
    mined, return a receipt for it; if not, raise as Brownie would."""
    from brownie import web3
    from brownie.exceptions import TransactionError
    from brownie.network.account import _PrivateKeyAccount
    from brownie.network.transaction import TransactionReceipt

    original = _PrivateKeyAccount._await_confirmation
    if getattr(original, "_greenbond_patched", False):
        return

    def await_confirmation(self, receipt, required_confs, gas_strategy, gas_iter):
        try:
            return original(self, receipt, required_confs, gas_strategy, gas_iter)
        except TransactionError as exc:
            if "dropped without known replacement" not in str(exc):
                raise
            try:
                web3.eth.wait_for_transaction_receipt(receipt.txid, timeout=30)
            except Exception:  # noqa: BLE001 - not mined after all: Brownie's verdict stands
                raise exc from None
            return TransactionReceipt(receipt.txid, self, silent=True, required_confs=1, name=receipt.fn_name or "")

    await_confirmation._greenbond_patched = True
    _PrivateKeyAccount._await_confirmation = await_confirmation


@dataclass
class BrownieSuite:
    """Brownie handles on a deployed suite, for the contract tests that drive it through Brownie."""

    deployment: object
    bond: object
    registry: object
    schedule: object
    settlement: object
    oracle: object


def brownie_handles(suite, proj) -> BrownieSuite:
    """Brownie contract handles on the addresses of `suite` (greenbond.chain.Suite, web3)."""
    return BrownieSuite(
        deployment=suite.deployment,
        bond=proj.GreenBond.at(suite.bond.address),
        registry=proj.HolderRegistry.at(suite.registry.address),
        schedule=proj.CouponSchedule.at(suite.schedule.address),
        settlement=proj.SettlementToken.at(suite.settlement.address),
        oracle=proj.ImpactOracle.at(suite.oracle.address),
    )
