"""Feeder keys: environment, keystores, dev keys only on dev chains."""

from __future__ import annotations

import json
import logging

import pytest
from eth_account import Account
from eth_utils import keccak

from greenbond.config import REPO_ROOT
from greenbond.feeder.keys import DEV_TRANSMITTER_KEY, KeyConfigError, load_keys
from greenbond.oracle.setup import dev_signer_keys

K = [keccak(f"feeder-test-key-{i}".encode()) for i in range(4)]


def hexkeys(*keys):
    return ",".join("0x" + k.hex() for k in keys)


def test_keys_from_environment():
    keys = load_keys(1010032, {"GREENBOND_SIGNER_KEYS": hexkeys(K[0], K[1]), "GREENBOND_TRANSMITTER_KEY": "0x" + K[2].hex()},
                     allow_prompt=False)
    assert keys.signer_addresses == [Account.from_key(K[0]).address, Account.from_key(K[1]).address]
    assert keys.transmitter.address == Account.from_key(K[2]).address and not keys.dev
    assert "0x" + K[0].hex() not in repr(keys)   # never print key material


def test_dev_chain_defaults_to_dev_keys_loudly(caplog):
    with caplog.at_level(logging.WARNING, logger="greenbond.feeder.keys"):
        keys = load_keys(31337, {}, allow_prompt=False)
    assert keys.dev
    assert keys.signer_addresses == [k.address for k in dev_signer_keys()]
    assert keys.transmitter.address == Account.from_key(DEV_TRANSMITTER_KEY).address
    assert any("DEV KEYS" in r.getMessage() for r in caplog.records)
    assert load_keys(1337, {}, allow_prompt=False).dev


def test_no_keys_on_a_real_chain_is_an_error():
    with pytest.raises(KeyConfigError, match="no signer keys"):
        load_keys(1010032, {}, allow_prompt=False)
    with pytest.raises(KeyConfigError, match="no transmitter key"):
        load_keys(1010032, {"GREENBOND_SIGNER_KEYS": hexkeys(K[0])}, allow_prompt=False)


def test_dev_keys_refused_on_other_chains():
    dev = dev_signer_keys()
    env = {"GREENBOND_SIGNER_KEYS": hexkeys(dev[0].key, dev[1].key), "GREENBOND_TRANSMITTER_KEY": "0x" + K[2].hex()}
    with pytest.raises(KeyConfigError, match="DEV keys are refused"):
        load_keys(1, env, allow_prompt=False)
    env = {"GREENBOND_SIGNER_KEYS": hexkeys(K[0]), "GREENBOND_TRANSMITTER_KEY": DEV_TRANSMITTER_KEY}
    with pytest.raises(KeyConfigError, match="DEV keys are refused"):
        load_keys(1010032, env, allow_prompt=False)


def test_malformed_and_shared_keys():
    with pytest.raises(KeyConfigError, match="not a 32-byte hex"):
        load_keys(1, {"GREENBOND_SIGNER_KEYS": "0x1234", "GREENBOND_TRANSMITTER_KEY": "0x" + K[2].hex()}, allow_prompt=False)
    with pytest.raises(KeyConfigError, match="also a signer"):
        load_keys(1, {"GREENBOND_SIGNER_KEYS": hexkeys(K[0]), "GREENBOND_TRANSMITTER_KEY": "0x" + K[0].hex()},
                  allow_prompt=False)
    with pytest.raises(KeyConfigError, match="twice"):
        load_keys(1, {"GREENBOND_SIGNER_KEYS": hexkeys(K[0], K[0]), "GREENBOND_TRANSMITTER_KEY": "0x" + K[2].hex()},
                  allow_prompt=False)


def keystore(path, key, password):
    path.write_text(json.dumps(Account.encrypt(key, password, iterations=2)))   # cheap KDF for the test
    return path


def test_keystores_with_password_from_env_or_prompt(tmp_path):
    s0, s1 = keystore(tmp_path / "s0.json", K[0], "pw"), keystore(tmp_path / "s1.json", K[1], "pw")
    t = keystore(tmp_path / "t.json", K[2], "pw")
    env = {"GREENBOND_SIGNER_KEYSTORES": f"{s0},{s1}", "GREENBOND_TRANSMITTER_KEYSTORE": str(t),
           "GREENBOND_KEYSTORE_PASSWORD": "pw"}
    keys = load_keys(1010032, env, allow_prompt=False)
    assert keys.signer_addresses == [Account.from_key(K[0]).address, Account.from_key(K[1]).address]
    asked = []
    env.pop("GREENBOND_KEYSTORE_PASSWORD")
    keys = load_keys(1010032, env, prompt=lambda text: asked.append(text) or "pw")
    assert len(asked) == 3 and keys.transmitter.address == Account.from_key(K[2]).address
    with pytest.raises(KeyConfigError, match="needs a password"):
        load_keys(1010032, env, allow_prompt=False)
    with pytest.raises(KeyConfigError, match="wrong password"):
        load_keys(1010032, dict(env, GREENBOND_KEYSTORE_PASSWORD="nope"), allow_prompt=False)


def test_keystore_inside_the_repository_is_refused():
    env = {"GREENBOND_SIGNER_KEYSTORES": str(REPO_ROOT / "keys" / "signer.json"),
           "GREENBOND_TRANSMITTER_KEY": "0x" + K[2].hex(), "GREENBOND_KEYSTORE_PASSWORD": "x"}
    with pytest.raises(KeyConfigError, match="inside the repository"):
        load_keys(1010032, env, allow_prompt=False)
