"""Which Brownie account sends transactions: account 0 on a dev chain; on a live network a key
from the environment or an encrypted keystore file, never a key in the repository."""

from __future__ import annotations

import os

from greenbond.deployments import DeploymentError

KEY_ENV = "GREENBOND_DEPLOYER_KEY"
KEYSTORE_ENV = "GREENBOND_KEYSTORE"
KEYSTORE_PASSWORD_ENV = "GREENBOND_KEYSTORE_PASSWORD"


def deployer_account(accounts, development: bool):
    """The deploying account for the connected network."""
    if development:
        return accounts[0]
    if os.environ.get(KEY_ENV):
        return accounts.add(os.environ[KEY_ENV])
    if os.environ.get(KEYSTORE_ENV):
        password = os.environ.get(KEYSTORE_PASSWORD_ENV)
        # Brownie prompts for the password when it is not given.
        return accounts.load(os.environ[KEYSTORE_ENV], password=password)
    raise DeploymentError(
        f"no deployer key: set {KEY_ENV} to a private key, or {KEYSTORE_ENV} to an encrypted "
        f"keystore file (password in {KEYSTORE_PASSWORD_ENV} or typed at the prompt)"
    )
