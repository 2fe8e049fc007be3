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
    credits: object = None


def brownie_handles(suite, proj) -> BrownieSuite:
    """Brownie contract handles on the addresses of `suite` (greenbond.chain.Suite, web3)."""
    return BrownieSuite(
        deployment=suite.deployment,
        bond=proj.GreenBond.at(suite.bond.address),
        registry=proj.HolderRegistry.at(suite.registry.address),
        schedule=proj.CouponSchedule.at(suite.schedule.address),
        settlement=proj.SettlementToken.at(suite.settlement.address),
        oracle=proj.ImpactOracle.at(suite.oracle.address),
        credits=proj.CarbonCredits.at(suite.credits.address) if getattr(suite, "credits", None) else None,
    )


class _CallerFrames:
    """What `brownie.network.rpc.internal` reads from `inspect.stack()`: the frames only.
    `inspect.stack()` also reads every frame's source file from disk (about 55 ms per call in a
    deep pytest stack); Brownie calls it on every snapshot, revert, sleep and mine, to warn when
    the Rpc object is used directly. Profiled over tests/contracts/GreenBond: 60 of 286 seconds."""

    class _Frame:
        __slots__ = ("frame",)

        def __init__(self, frame):
            self.frame = frame

    @classmethod
    def stack(cls):
        import sys

        caller = sys._getframe(1)  # Brownie's `wrapped`; [1] is whoever called it
        return [cls._Frame(caller), cls._Frame(caller.f_back)]


def skip_source_reads() -> None:
    """Brownie's check that `chain`, not `rpc`, calls snapshot/revert/sleep/mine, without reading
    source files: the same frames, the same warning, none of the disk reads (see _CallerFrames)."""
    import sys

    import brownie.network.rpc  # noqa: F401 - loaded, then patched in sys.modules

    # `brownie.network.rpc` as an attribute is the Rpc object, not the module.
    sys.modules["brownie.network.rpc"].inspect = _CallerFrames


def ignore_proxy_environment() -> None:
    """The HTTP sessions to the local test node read the proxy variables of the environment on
    every request (`requests` merges them per call when `trust_env`: 15 of 286 seconds in the same
    profile). The test nodes listen on 127.0.0.1, which no proxy serves."""
    from web3._utils.http_session_manager import HTTPSessionManager

    original = HTTPSessionManager.cache_and_return_session
    if getattr(original, "_greenbond_patched", False):
        return

    def cache_and_return_session(self, *args, **kwargs):
        session = original(self, *args, **kwargs)
        session.trust_env = False
        return session

    cache_and_return_session._greenbond_patched = True
    HTTPSessionManager.cache_and_return_session = cache_and_return_session


def cache_chain_id() -> None:
    """web3 7 asks the node for its chain id before every eth_call and transaction (its validation
    middleware): in the bond's stateful test, 3.3 HTTP requests per view call. The chain id of the
    test node never changes, so Brownie's provider remembers it, as greenbond.chain.connect does."""
    from brownie import web3

    from greenbond.chain.connection import remember_chain_id

    if web3.provider is not None:
        remember_chain_id(web3.provider)
