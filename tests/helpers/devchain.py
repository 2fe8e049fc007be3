"""A throw-away dev chain for the feeder's tests and benchmark: Anvil on a free port whose clock
starts where we say, with the suite deployed by greenbond.deploy.deploy_suite over web3 (as
`greenbond deploy` does), into a deployments folder of our own (never the repository's)."""

from __future__ import annotations

import os
from pathlib import Path

from greenbond.chain.localnode import free_port, rpc, start_anvil
from greenbond.config import REPO_ROOT

__all__ = ["DevChain", "child_env", "free_port"]

def child_env() -> dict:
    """The Makefile's environment for a child process (offline compiler, node tools, venv)."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO_ROOT)
    e["SOLCX_BINARY_PATH"] = str(REPO_ROOT / "tools" / "solc" / "bin")
    e["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}:{REPO_ROOT / '.venv' / 'bin'}:{e.get('PATH', '')}"
    for k in list(e):
        if k.startswith("GREENBOND_"):
            del e[k]
    return e


class DevChain:
    """An Anvil with the suite deployed; `url` is its JSON-RPC endpoint. `stop()` when done."""

    def __init__(self, workdir: Path, genesis: int, naive: bool = False):
        self.workdir = Path(workdir)
        self.port = free_port()
        os.environ["PATH"] = child_env()["PATH"]  # start_anvil looks anvil up on PATH
        self.node = start_anvil(self.workdir / "anvil-state.json", port=self.port, genesis_timestamp=genesis,
                                log_file=self.workdir / "anvil.log")
        self.url = self.node.url
        self.deployments = self.workdir / "deployments"
        self.deployments.mkdir(exist_ok=True)
        try:
            self.info = self._deploy(naive)
        except BaseException:
            self.stop()
            raise
        self.oracle_address = self.info["oracle"]

    def _deploy(self, naive: bool) -> dict:
        from greenbond.chain.tx import Signer, deploy_contract
        from greenbond.config import load_terms
        from greenbond.deploy import deploy_suite

        w3 = self.w3()
        signer = Signer(w3.eth.accounts[0])
        suite = deploy_suite(w3, signer, load_terms(), network_name="feeder-dev", development=True,
                             log=lambda m: None, directory=self.deployments)
        info = {"oracle": suite.oracle.address, "block": suite.deployment.contracts["ImpactOracle"].block}
        if naive:
            info["NaiveReadingStore"] = deploy_contract(w3, "NaiveReadingStore", [], signer)[0].address
        return info

    def rpc(self, method: str, params=None):
        return rpc(self.url, method, params or [], timeout=10)

    def stop(self) -> None:
        self.node.stop()

    def w3(self):
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 60}))

    def contract(self, name: str, address: str | None = None):
        from greenbond.chain import load_abi

        w3 = self.w3()
        return w3.eth.contract(address=w3.to_checksum_address(address or self.oracle_address), abi=load_abi(name))

    def oracle(self):
        return self.contract("ImpactOracle")
