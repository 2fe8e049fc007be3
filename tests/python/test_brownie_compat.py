"""tests.helpers.brownie_compat.tolerate_dropped_race, without a chain: Brownie's confirmation step is
replaced by one that raises its "dropped" error, and the node's receipt lookup by a stub."""

import types

import pytest

pytest.importorskip("brownie")

import brownie  # noqa: E402
import brownie.network.account as account_module  # noqa: E402
import brownie.network.transaction as transaction_module  # noqa: E402
from brownie.exceptions import TransactionError  # noqa: E402

from tests.helpers import brownie_compat  # noqa: E402

TXID = "0x" + "ab" * 32


@pytest.fixture
def patched(monkeypatch):
    """Installs the work-around over a confirmation that fails with `error` (set per test)."""
    state = types.SimpleNamespace(error=None, mined=True, receipts=[])

    def confirmation(self, receipt, required_confs, gas_strategy, gas_iter):
        if state.error:
            raise state.error
        return "brownie's own receipt"

    def wait(txid, timeout):
        if not state.mined:
            raise TimeoutError("not mined")
        return {"transactionHash": txid}

    class Receipt:
        def __init__(self, txid, sender, **kwargs):
            state.receipts.append((txid, sender, kwargs))

    monkeypatch.setattr(account_module._PrivateKeyAccount, "_await_confirmation", confirmation)
    monkeypatch.setattr(brownie.web3.eth, "wait_for_transaction_receipt", wait, raising=False)
    monkeypatch.setattr(transaction_module, "TransactionReceipt", Receipt)
    brownie_compat.tolerate_dropped_race()
    return state


def call(sender="sender"):
    pending = types.SimpleNamespace(txid=TXID, fn_name="transfer")
    return account_module._PrivateKeyAccount._await_confirmation(sender, pending, 1, None, None)


def test_no_race_changes_nothing(patched):
    assert call() == "brownie's own receipt"
    assert patched.receipts == []


def test_dropped_but_mined_returns_a_receipt_for_it(patched):
    patched.error = TransactionError(f"Tx dropped without known replacement: {TXID}")
    got = call()
    assert patched.receipts == [(TXID, "sender", {"silent": True, "required_confs": 1, "name": "transfer"})]
    assert got is not None


def test_dropped_and_not_mined_raises_as_brownie_would(patched):
    patched.error = TransactionError(f"Tx dropped without known replacement: {TXID}")
    patched.mined = False
    with pytest.raises(TransactionError, match="dropped without known replacement"):
        call()


def test_other_errors_pass_through(patched):
    patched.error = TransactionError("something else")
    with pytest.raises(TransactionError, match="something else"):
        call()


def test_installing_twice_wraps_once(patched):
    first = account_module._PrivateKeyAccount._await_confirmation
    brownie_compat.tolerate_dropped_race()
    assert account_module._PrivateKeyAccount._await_confirmation is first
