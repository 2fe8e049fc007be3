"""Chain access for the off-chain side (register, feeder, page): a web3 connection, contract
handles from the build's ABIs and the deployments file, and log reads in block ranges.

Contracts are known only through `build/contracts/<Name>.json` (ABI) and
`deployments/<chainId>.json` (addresses); nothing here depends on Brownie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from web3 import Web3
from web3.exceptions import Web3Exception

from greenbond.config import REPO_ROOT
from greenbond.deployments import DEPLOYMENTS_DIR, Deployment, DeploymentError, load_deployment

BUILD_DIR = REPO_ROOT / "build" / "contracts"
DEFAULT_RPC_URL = "http://127.0.0.1:8546"  # the demo chain
RPC_URL_ENV = "GREENBOND_RPC_URL"


def default_rpc_url() -> str:
    """The node every command and app uses unless told otherwise: GREENBOND_RPC_URL, else the demo chain."""
    import os

    return os.environ.get(RPC_URL_ENV) or DEFAULT_RPC_URL
DEFAULT_LOG_CHUNK = 5_000


class ChainError(RuntimeError):
    """Something about the chain stops the work; the message is a sentence for a person."""


def connect(rpc_url: str = DEFAULT_RPC_URL, timeout: float = 10.0) -> Web3:
    """A web3 connection that is known to answer. Its chain id is asked once and remembered
    (web3 7 asks for it before every eth_call: 14,049 of the register's 22,092 calls over 1,000
    holders); nothing else is cached, blocks and state are always read fresh."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, cache_allowed_requests=True,
                                cacheable_requests={"eth_chainId"}))
    try:
        w3.eth.chain_id
    except (OSError, Web3Exception, ValueError) as exc:
        raise ChainError(f"the RPC node at {rpc_url} is unreachable ({type(exc).__name__})") from None
    return w3


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

    def start_block(self) -> int:
        """The first block worth reading logs from: the bond's deploy block."""
        return self.deployment.contracts["GreenBond"].block


def open_suite(w3: Web3, directory: Path = DEPLOYMENTS_DIR) -> Suite:
    """The deployed suite on the connected chain, checked to hold code at its addresses."""
    chain_id = w3.eth.chain_id
    try:
        dep = load_deployment(chain_id, directory)
    except DeploymentError as exc:
        raise ChainError(str(exc)) from None
    if dep is None or "GreenBond" not in dep.contracts:
        raise ChainError(f"no deployment on this chain (chain id {chain_id}): run `make demo` or scripts/deploy.py")
    for name, rec in dep.contracts.items():
        if not w3.eth.get_code(rec.address):
            raise ChainError(
                f"deployments/{chain_id}.json names {name} at {rec.address}, but the chain holds no code "
                "there: the chain was reset; deploy again"
            )

    def handle(name: str, abi_name: str | None = None):
        rec = dep.contracts.get(name)
        if rec is None:
            return None
        return w3.eth.contract(address=Web3.to_checksum_address(rec.address), abi=load_abi(abi_name or name))

    bond = handle("GreenBond")
    settlement = w3.eth.contract(address=bond.functions.currency().call(), abi=load_abi("SettlementToken"))
    return Suite(
        w3=w3,
        deployment=dep,
        bond=bond,
        registry=handle("HolderRegistry"),
        schedule=handle("CouponSchedule"),
        settlement=settlement,
        oracle=handle("ImpactOracle"),
    )


def iter_events(event, from_block: int, to_block: int, chunk: int = DEFAULT_LOG_CHUNK, argument_filters=None) -> Iterator:
    """Decoded logs of `event` (a web3 contract event class) from `from_block` to `to_block`
    inclusive, read in block ranges of at most `chunk`; a range the node refuses as too large is
    halved and retried, so one huge query is never needed."""
    start = from_block
    size = max(1, chunk)
    while start <= to_block:
        end = min(to_block, start + size - 1)
        try:
            logs = event.get_logs(from_block=start, to_block=end, argument_filters=argument_filters)
        except (Web3Exception, ValueError) as exc:
            if size == 1:
                raise ChainError(f"the node refused logs for block {start}: {exc}") from None
            size = max(1, size // 2)
            continue
        yield from sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
        start = end + 1


def block_before(w3: Web3, timestamp: int, latest: int | None = None) -> int:
    """The last block whose timestamp is strictly before `timestamp` (binary search); the
    state after that block is the state "at" `timestamp`, as a record date fixes it."""
    hi = w3.eth.block_number if latest is None else latest
    if w3.eth.get_block(0)["timestamp"] >= timestamp:
        raise ChainError(f"the chain starts after {timestamp}: nothing was recorded before then")
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if w3.eth.get_block(mid)["timestamp"] < timestamp:
            lo = mid
        else:
            hi = mid - 1
    return lo
