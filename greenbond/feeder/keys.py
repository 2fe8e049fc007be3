"""Signer keys and the transmitter key of the feeder.

Where keys come from, in order:
  signers      GREENBOND_SIGNER_KEYS       comma-separated hex private keys, or
               GREENBOND_SIGNER_KEYSTORES  comma-separated paths of encrypted keystore files
  transmitter  GREENBOND_TRANSMITTER_KEY   a hex private key, or
               GREENBOND_TRANSMITTER_KEYSTORE  the path of an encrypted keystore file
  keystore password: GREENBOND_KEYSTORE_PASSWORD, else a prompt (getpass) when a terminal is there.
Keys are never read from the repository: a keystore path inside it is refused.

On a dev chain (chain id 31337 or 1337), and only there, missing keys default to the
deterministic dev keys (greenbond.oracle.setup.dev_signer_keys and Anvil's first account), with a
loud warning in the log. Dev keys are refused on any other chain, whether defaulted or given.
The signer keys and the transmitter key must differ (OCR practice: separate duties).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from eth_account import Account

from greenbond.config import REPO_ROOT

DEV_CHAIN_IDS = frozenset({31337, 1337})
ENV_SIGNER_KEYS = "GREENBOND_SIGNER_KEYS"
ENV_SIGNER_KEYSTORES = "GREENBOND_SIGNER_KEYSTORES"
ENV_TRANSMITTER_KEY = "GREENBOND_TRANSMITTER_KEY"
ENV_TRANSMITTER_KEYSTORE = "GREENBOND_TRANSMITTER_KEYSTORE"
ENV_KEYSTORE_PASSWORD = "GREENBOND_KEYSTORE_PASSWORD"
# Anvil's (and Hardhat's) well-known first account: the deployer and transmitter on dev chains.
DEV_TRANSMITTER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

log = logging.getLogger("greenbond.feeder.keys")


class KeyConfigError(ValueError):
    """Keys are missing, malformed or not allowed here; the message says which and why."""


@dataclass(frozen=True)
class FeederKeys:
    signers: tuple            # eth_account LocalAccount objects
    transmitter: object       # LocalAccount
    dev: bool                 # True when the deterministic dev keys are in use

    @property
    def signer_addresses(self) -> list[str]:
        return [s.address for s in self.signers]

    def __repr__(self) -> str:  # never print key material
        return f"FeederKeys(signers={self.signer_addresses}, transmitter={self.transmitter.address}, dev={self.dev})"


def dev_addresses() -> set[str]:
    from greenbond.oracle.setup import dev_signer_keys

    return {a.address.lower() for a in dev_signer_keys(8)} | {Account.from_key(DEV_TRANSMITTER_KEY).address.lower()}


def _from_hex(text: str, what: str):
    text = text.strip()
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
        if len(raw) != 32:
            raise ValueError
        return Account.from_key(raw)
    except (ValueError, TypeError):
        raise KeyConfigError(f"{what} is not a 32-byte hex private key") from None


def _password(env: Mapping[str, str], prompt: Callable[[str], str] | None, path: Path) -> str:
    if ENV_KEYSTORE_PASSWORD in env:
        return env[ENV_KEYSTORE_PASSWORD]
    if prompt is None:
        raise KeyConfigError(f"the keystore {path} needs a password: set {ENV_KEYSTORE_PASSWORD}")
    return prompt(f"password for {path.name}: ")


def _from_keystore(path_text: str, env: Mapping[str, str], prompt, what: str):
    path = Path(path_text.strip()).expanduser()
    resolved = path.resolve()
    if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
        raise KeyConfigError(f"{what}: the keystore {path} is inside the repository; keep keys outside it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyConfigError(f"{what}: cannot read the keystore {path} ({exc.strerror})") from None
    except ValueError:
        raise KeyConfigError(f"{what}: {path} is not a JSON keystore file") from None
    password = _password(env, prompt, path)
    try:
        return Account.from_key(Account.decrypt(data, password))
    except ValueError:
        raise KeyConfigError(f"{what}: wrong password for the keystore {path} (or the file is damaged)") from None
    except (KeyError, TypeError):
        raise KeyConfigError(f"{what}: {path} is not a valid encrypted keystore") from None


def _default_prompt() -> Callable[[str], str] | None:
    return getpass.getpass if sys.stdin is not None and sys.stdin.isatty() else None


def load_keys(chain_id: int, env: Mapping[str, str] | None = None, prompt: Callable[[str], str] | None = None,
              *, allow_prompt: bool = True) -> FeederKeys:
    """The feeder's keys for chain `chain_id` (see module doc)."""
    env = os.environ if env is None else env
    if prompt is None and allow_prompt:
        prompt = _default_prompt()
    dev_chain = int(chain_id) in DEV_CHAIN_IDS
    used_dev = False

    if env.get(ENV_SIGNER_KEYS, "").strip():
        signers = [_from_hex(k, f"{ENV_SIGNER_KEYS}[{i}]") for i, k in enumerate(env[ENV_SIGNER_KEYS].split(",")) if k.strip()]
    elif env.get(ENV_SIGNER_KEYSTORES, "").strip():
        signers = [_from_keystore(p, env, prompt, f"{ENV_SIGNER_KEYSTORES}[{i}]")
                   for i, p in enumerate(env[ENV_SIGNER_KEYSTORES].split(",")) if p.strip()]
    elif dev_chain:
        from greenbond.oracle.setup import dev_signer_keys

        signers = dev_signer_keys()
        used_dev = True
    else:
        raise KeyConfigError(f"no signer keys: set {ENV_SIGNER_KEYS} or {ENV_SIGNER_KEYSTORES} (chain {chain_id} is not a dev chain)")

    if env.get(ENV_TRANSMITTER_KEY, "").strip():
        transmitter = _from_hex(env[ENV_TRANSMITTER_KEY], ENV_TRANSMITTER_KEY)
    elif env.get(ENV_TRANSMITTER_KEYSTORE, "").strip():
        transmitter = _from_keystore(env[ENV_TRANSMITTER_KEYSTORE], env, prompt, ENV_TRANSMITTER_KEYSTORE)
    elif dev_chain:
        transmitter = Account.from_key(DEV_TRANSMITTER_KEY)
        used_dev = True
    else:
        raise KeyConfigError(f"no transmitter key: set {ENV_TRANSMITTER_KEY} or {ENV_TRANSMITTER_KEYSTORE} "
                             f"(chain {chain_id} is not a dev chain)")

    addresses = [s.address.lower() for s in signers]
    if len(set(addresses)) != len(addresses):
        raise KeyConfigError("the same signer key is given twice")
    if transmitter.address.lower() in addresses:
        raise KeyConfigError("the transmitter key is also a signer key: use separate keys")
    if not dev_chain:
        dev = dev_addresses()
        if any(a in dev for a in addresses + [transmitter.address.lower()]):
            raise KeyConfigError(f"deterministic DEV keys are refused on chain {chain_id}: they are public; "
                                 "use real keys (environment or keystore)")
    if used_dev:
        log.warning("USING THE DETERMINISTIC DEV KEYS (public, for dev chains only)",
                    extra={"event": "dev_keys", "chain_id": int(chain_id), "signers": [s.address for s in signers],
                           "transmitter": transmitter.address})
    return FeederKeys(tuple(signers), transmitter, used_dev)
