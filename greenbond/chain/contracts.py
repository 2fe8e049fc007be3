"""Contracts as the off-chain side knows them: ABIs from the Brownie build
(`build/contracts/<Name>.json`) and addresses from the deployments file
(`deployments/<chainId>.json`); nothing here depends on Brownie."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from web3 import Web3

from greenbond.chain.connection import ChainError
from greenbond.config import REPO_ROOT
from greenbond.deployments import DEPLOYMENTS_DIR, Deployment, DeploymentError, load_deployment

BUILD_DIR = REPO_ROOT / "build" / "contracts"


@lru_cache(maxsize=None)
def _abi_from(path: str) -> tuple:
    return tuple(json.loads(Path(path).read_text(encoding="utf-8"))["abi"])


def load_abi(name: str, build_dir: Path = BUILD_DIR) -> list:
    """The ABI of contract `name` from the Brownie build."""
    path = Path(build_dir) / f"{name}.json"
    if not path.exists():
        # interfaces are built too: e.g. build/interfaces/IGreenBond.json
        alt = Path(build_dir).parent / "interfaces" / f"{name}.json"
        if alt.exists():
            path = alt
        else:
            raise ChainError(f"no build of {name} in {build_dir}: run `make compile` first")
    return list(_abi_from(str(path)))


@dataclass
class Suite:
    """web3 contract handles of one deployment."""

    w3: Web3
    deployment: Deployment
    bond: object
    registry: object
    schedule: object | None
    settlement: object
    oracle: object | None
    credits: object | None = None

    def start_block(self) -> int:
        """The first block worth reading logs from: the bond's deploy block."""
        return self.deployment.contracts["GreenBond"].block


def open_suite(w3: Web3, directory: Path = DEPLOYMENTS_DIR) -> Suite:
    """The deployed suite on the connected chain, from the deployments file, checked (code at
    every recorded address, the bond's settlement token) in one JSON-RPC batch."""
    from greenbond.chain.batch import CallFailed, call, call_many, rpc

    chain_id = w3.eth.chain_id
    try:
        dep = load_deployment(chain_id, directory)
    except DeploymentError as exc:
        raise ChainError(str(exc)) from None
    if dep is None or "GreenBond" not in dep.contracts:
        raise ChainError(f"no deployment on this chain (chain id {chain_id}): run `make demo` or `greenbond deploy`")
    names = list(dep.contracts)

    def handle(name: str, address: str | None = None):
        rec = dep.contracts.get(name)
        if address is None and rec is None:
            return None
        return w3.eth.contract(address=Web3.to_checksum_address(address or rec.address), abi=load_abi(name))

    bond = handle("GreenBond")
    res = call_many(w3, [rpc("eth_getCode", dep.contracts[n].address, "latest") for n in names] + [call(bond, "currency")])
    for name, code in zip(names, res):
        if isinstance(code, CallFailed) or code in (None, "0x", "0x0", ""):
            raise ChainError(
                f"deployments/{chain_id}.json names {name} at {dep.contracts[name].address}, but the chain holds no code "
                "there: the chain was reset; deploy again"
            )
    if isinstance(res[-1], CallFailed):
        raise ChainError(f"the bond at {bond.address} does not answer currency(): {res[-1].message}")
    return Suite(w3=w3, deployment=dep, bond=bond, registry=handle("HolderRegistry"),
                 schedule=handle("CouponSchedule"), settlement=handle("SettlementToken", res[-1]),
                 oracle=handle("ImpactOracle"), credits=handle("CarbonCredits"))
