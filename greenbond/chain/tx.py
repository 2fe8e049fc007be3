"""Sending transactions: who sends (a `Signer`), one dry run that turns a revert into its custom
error before anything is spent, the send, the wait for the receipt; deploying a contract from
the build the same way.

Transactions are legacy (type 0), as the berlin chains we target (ibet for Fin, GoQuorum) take
them, at the node's gas price unless told (0 on consortium chains and on our dev chains).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from greenbond.chain.connection import ChainError
from greenbond.chain.contracts import BUILD_DIR
from greenbond.chain.reverts import decode_revert

DEV_CHAIN_IDS = frozenset({31337, 1337})  # Anvil, Ganache
RECEIPT_TIMEOUT = 120.0


class TransactionFailed(ChainError):
    """A transaction the chain refused. `error` is the decoded custom error ('Name(args)') or the
    node's message; `sentence` callers may replace by their own wording."""

    def __init__(self, message: str, error: str = ""):
        super().__init__(message)
        self.error = error or message


@dataclass
class Signer:
    """Who sends: an address the node unlocks (dev chains: eth_sendTransaction) or a local key
    (an eth_account LocalAccount: signed here, sent raw)."""

    address: str
    key: Any = None


def is_dev_chain(w3: Web3) -> bool:
    """Anvil (31337) and Ganache (1337): chains whose node holds unlocked, funded accounts."""
    return w3.eth.chain_id in DEV_CHAIN_IDS


def transact(w3: Web3, fn, signer: Signer, *, gas: int | None = None, gas_price: int | None = None,
             timeout: float = RECEIPT_TIMEOUT) -> dict:
    """Sends `fn` (a web3 ContractFunction or a contract constructor) from `signer` after a dry
    run, waits for the receipt and returns it. A revert, in the dry run or on chain, raises
    TransactionFailed with the decoded custom error."""
    params: dict = {"from": signer.address}
    try:
        if hasattr(fn, "call"):
            fn.call(dict(params))
        params["gas"] = gas or int(fn.estimate_gas(dict(params)) * 1.25) + 20_000
    except Exception as exc:  # noqa: BLE001 - a revert or a node refusal, as the node shaped it
        error = decode_revert(exc)
        raise TransactionFailed(f"the transaction was refused: {error}", error) from None
    params["gasPrice"] = w3.eth.gas_price if gas_price is None else gas_price
    if signer.key is None:
        tx_hash = fn.transact(params)
    else:
        params["nonce"] = w3.eth.get_transaction_count(signer.address, "pending")
        params["chainId"] = w3.eth.chain_id
        signed = signer.key.sign_transaction(fn.build_transaction(params))
        tx_hash = w3.eth.send_raw_transaction(getattr(signed, "raw_transaction", None) or signed.rawTransaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise TransactionFailed(f"transaction 0x{bytes(tx_hash).hex().removeprefix('0x')} failed on chain "
                                "(out of gas or refused)")
    return receipt


def load_build(name: str, build_dir: Path = BUILD_DIR) -> dict:
    """The Brownie build artifact of contract `name` (abi, bytecode, ...)."""
    path = Path(build_dir) / f"{name}.json"
    if not path.exists():
        raise ChainError(f"no build of {name} in {build_dir}: run `make compile` first")
    return json.loads(path.read_text(encoding="utf-8"))


def deploy_contract(w3: Web3, name: str, args: list, signer: Signer, *, build_dir: Path = BUILD_DIR,
                    gas_price: int | None = None):
    """Deploys contract `name` from the build; returns (web3 contract, receipt)."""
    build = load_build(name, build_dir)
    factory = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"])
    receipt = transact(w3, factory.constructor(*args), signer, gas_price=gas_price)
    return w3.eth.contract(address=receipt["contractAddress"], abi=build["abi"]), receipt
