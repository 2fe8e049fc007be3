"""The deployments file: `deployments/<chainId>.json`, one per chain, written atomically.

It maps each contract name to its address, deploy block and transaction, plus what is needed
to decide, on a later run, whether the recorded contract can be reused: the hash of the code
the chain holds at the address (`codehash`), the hash of the build it came from
(`build_hash`) and the hash of its constructor arguments (`args_hash`). A contract is reused
only when all three still match; anything else is deployed anew.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak

from greenbond.files import write_json_atomic

from greenbond.config import REPO_ROOT

DEPLOYMENTS_DIR = REPO_ROOT / "deployments"
DEPLOYMENTS_ENV = "GREENBOND_DEPLOYMENTS"


def default_deployments_dir() -> Path:
    """Where every command and app looks for <chainId>.json unless told: GREENBOND_DEPLOYMENTS,
    else the repository's deployments/."""
    import os

    return Path(os.environ.get(DEPLOYMENTS_ENV) or DEPLOYMENTS_DIR)
SCHEMA_VERSION = 1


class DeploymentError(RuntimeError):
    """A deployment cannot go on; the message says why and what to do."""


@dataclass
class ContractRecord:
    address: str
    block: int
    tx_hash: str
    codehash: str
    build_hash: str
    args_hash: str

    def to_json(self) -> dict:
        return {
            "address": self.address,
            "block": self.block,
            "tx": self.tx_hash,
            "codehash": self.codehash,
            "build_hash": self.build_hash,
            "args_hash": self.args_hash,
        }

    @classmethod
    def from_json(cls, raw: dict) -> "ContractRecord":
        return cls(
            address=raw["address"],
            block=int(raw["block"]),
            tx_hash=raw["tx"],
            codehash=raw["codehash"],
            build_hash=raw["build_hash"],
            args_hash=raw["args_hash"],
        )


@dataclass
class Deployment:
    chain_id: int
    network: str
    bond_config: str = ""
    complete: bool = False
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    updated: str = ""

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"no {name} in the deployment of chain {self.chain_id}") from None

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "chainId": self.chain_id,
            "network": self.network,
            "bondConfig": self.bond_config,
            "complete": self.complete,
            "updated": self.updated,
            "contracts": {name: rec.to_json() for name, rec in self.contracts.items()},
        }

    @classmethod
    def from_json(cls, raw: dict) -> "Deployment":
        if raw.get("schema") != SCHEMA_VERSION:
            raise DeploymentError(f"deployments file schema {raw.get('schema')!r} is not {SCHEMA_VERSION}")
        return cls(
            chain_id=int(raw["chainId"]),
            network=raw.get("network", ""),
            bond_config=raw.get("bondConfig", ""),
            complete=bool(raw.get("complete")),
            updated=raw.get("updated", ""),
            contracts={k: ContractRecord.from_json(v) for k, v in raw.get("contracts", {}).items()},
        )


def deployment_path(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return Path(directory) / f"{int(chain_id)}.json"


def load_deployment(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Deployment | None:
    """The recorded deployment of `chain_id`, or None if there is none."""
    path = deployment_path(chain_id, directory)
    if not path.exists():
        return None
    try:
        return Deployment.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise DeploymentError(f"{path} is unreadable ({exc}); move it aside to deploy anew") from None


def save_deployment(deployment: Deployment, directory: Path = DEPLOYMENTS_DIR) -> Path:
    """Writes the file atomically (temp file + rename), so a crash never leaves half a file."""
    deployment.updated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    path = deployment_path(deployment.chain_id, directory)
    write_json_atomic(path, deployment.to_json())
    return path


def hex_hash(data: bytes | str) -> str:
    """0x-prefixed keccak256 of bytes (or of a 0x-hex string's bytes)."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    return "0x" + keccak(data).hex()


def args_hash(args: list | tuple) -> str:
    """A stable hash of constructor arguments (addresses compared case-insensitively)."""

    def norm(v):
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if isinstance(v, str) and v.startswith("0x"):
            return v.lower()
        return v if isinstance(v, (int, bool)) else str(v)

    return "0x" + keccak(json.dumps(norm(list(args)), separators=(",", ":")).encode()).hex()


def still_on_chain(web3, rec: ContractRecord) -> bool:
    """The chain holds the recorded code at the address, and the recorded deploy transaction is
    in the recorded block (a chain reset or a reorganisation makes a record stale)."""
    try:
        code = web3.eth.get_code(rec.address)
        if not code or hex_hash(bytes(code)) != rec.codehash:
            return False
        block = web3.eth.get_block(rec.block)
    except Exception:  # noqa: BLE001 - any failure means "not reusable"
        return False
    want = rec.tx_hash.lower().removeprefix("0x")
    return any((h.hex() if isinstance(h, bytes) else str(h)).lower().removeprefix("0x") == want
               for h in block["transactions"])


def reusable(web3, rec: ContractRecord | None, build_hash: str, args: list | tuple) -> bool:
    """The reuse rule of every deploy (the suite, offerings, DvP; Brownie or web3): the recorded
    contract has the same build and constructor arguments as now and is still on the chain."""
    return bool(rec) and rec.build_hash == build_hash and rec.args_hash == args_hash(args) and still_on_chain(web3, rec)
