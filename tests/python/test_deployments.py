"""deployments/<chainId>.json: written atomically, read back exactly, bad files named."""

import json

import pytest

from greenbond.deployments import (
    ContractRecord,
    Deployment,
    DeploymentError,
    args_hash,
    deployment_path,
    load_deployment,
    save_deployment,
)


def record(n=1):
    return ContractRecord(
        address="0x" + f"{n:040x}", block=n, tx_hash="0x" + "ab" * 32,
        codehash="0x" + "01" * 32, build_hash="0x" + "02" * 32, args_hash="0x" + "03" * 32,
    )


def test_round_trip(tmp_path):
    dep = Deployment(chain_id=1010032, network="ibet-dev", bond_config="config/bonds/x.toml", complete=True,
                     contracts={"GreenBond": record(2), "HolderRegistry": record(1)})
    path = save_deployment(dep, tmp_path)
    assert path == deployment_path(1010032, tmp_path) == tmp_path / "1010032.json"
    back = load_deployment(1010032, tmp_path)
    assert back.contracts == dep.contracts
    assert back.complete and back.network == "ibet-dev"
    raw = json.loads(path.read_text())
    assert raw["contracts"]["GreenBond"]["address"] == "0x" + f"{2:040x}"
    assert raw["contracts"]["GreenBond"]["tx"] == "0x" + "ab" * 32
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_file_is_none(tmp_path):
    assert load_deployment(5, tmp_path) is None


def test_unreadable_file_is_named(tmp_path):
    (tmp_path / "7.json").write_text("{not json")
    with pytest.raises(DeploymentError, match="7.json is unreadable"):
        load_deployment(7, tmp_path)


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    dep = Deployment(chain_id=9, network="n", contracts={"A": record(1)})
    save_deployment(dep, tmp_path)
    before = (tmp_path / "9.json").read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("greenbond.files.os.fsync", boom)
    dep.contracts["B"] = record(2)
    with pytest.raises(OSError):
        save_deployment(dep, tmp_path)
    assert (tmp_path / "9.json").read_text() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_args_hash_ignores_address_case_but_not_values():
    a = args_hash(["Bond", "0xAbCdEf0000000000000000000000000000000001", [1, 2]])
    assert a == args_hash(["Bond", "0xabcdef0000000000000000000000000000000001", [1, 2]])
    assert a != args_hash(["Bond", "0xabcdef0000000000000000000000000000000001", [1, 3]])
