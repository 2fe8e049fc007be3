"""Who sends a command's transactions: on a dev chain one of the node's unlocked accounts
(account 0, the issuer, unless told), elsewhere a key from the environment, never from the
repository: GREENBOND_DEPLOYER_KEY (a private key) or GREENBOND_KEYSTORE (an encrypted keystore
file, its password in GREENBOND_KEYSTORE_PASSWORD)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from web3 import Web3

from greenbond.chain.connection import ChainError
from greenbond.chain.tx import Signer, is_dev_chain

KEY_ENV = "GREENBOND_DEPLOYER_KEY"
KEYSTORE_ENV = "GREENBOND_KEYSTORE"
KEYSTORE_PASSWORD_ENV = "GREENBOND_KEYSTORE_PASSWORD"


def dev_account(w3: Web3, which: str | int) -> Signer:
    """Account `which` of the node (an index into eth_accounts, or one of its addresses)."""
    if not is_dev_chain(w3):
        raise ChainError("--account picks one of the node's unlocked accounts, which only dev chains have; "
                         f"on this chain set {KEY_ENV} (or {KEYSTORE_ENV}) instead")
    accounts = w3.eth.accounts
    text = str(which)
    if text.isdigit():
        i = int(text)
        if i >= len(accounts):
            raise ChainError(f"the node has {len(accounts)} accounts; there is no account {i}")
        return Signer(Web3.to_checksum_address(accounts[i]))
    if Web3.is_address(text) and Web3.to_checksum_address(text) in [Web3.to_checksum_address(a) for a in accounts]:
        return Signer(Web3.to_checksum_address(text))
    raise ChainError(f"{text} is neither an account index nor an unlocked account of the node")


def key_from_env(env: dict | None = None):
    """The LocalAccount named by the environment, or None when it names none."""
    from eth_account import Account

    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        try:
            return Account.from_key(env[KEY_ENV])
        except Exception:  # noqa: BLE001 - the key's text must never reach a message
            raise ChainError(f"{KEY_ENV} is not a valid private key") from None
    if env.get(KEYSTORE_ENV):
        path = Path(env[KEYSTORE_ENV])
        try:
            blob = json.loads(path.read_text(encoding="utf-8"))
            key = Account.decrypt(blob, env.get(KEYSTORE_PASSWORD_ENV, ""))
        except (OSError, ValueError) as exc:
            raise ChainError(f"the keystore {path} cannot be opened ({type(exc).__name__}); "
                             f"check the file and {KEYSTORE_PASSWORD_ENV}") from None
        return Account.from_key(key)
    return None


def signer_for(w3: Web3, account: str | int | None = None, env: dict | None = None) -> Signer:
    """The sender of a command: --account on dev chains (default account 0, the issuer), a key
    from the environment on live chains."""
    if is_dev_chain(w3):
        return dev_account(w3, 0 if account is None else account)
    if account is not None:
        dev_account(w3, account)  # raises the sentence
    key = key_from_env(env)
    if key is None:
        raise ChainError(f"no key to sign with on chain {w3.eth.chain_id}: set {KEY_ENV} to a private key, "
                         f"or {KEYSTORE_ENV} to an encrypted keystore (password in {KEYSTORE_PASSWORD_ENV})")
    return Signer(key.address, key)
