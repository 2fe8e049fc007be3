"""A throw-away dev chain for the feeder's tests and benchmark: Anvil on a free port whose clock
starts where we say, with the suite deployed by greenbond.deploy.deploy_suite through Brownie
(in a subprocess, so Brownie's global state never leaks into the caller), into a deployments
folder of our own (never the repository's)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from greenbond.config import REPO_ROOT
from greenbond.localchain import rpc, start_anvil

DEPLOY_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
from brownie import accounts, network, project, web3
from brownie._config import CONFIG
from greenbond.config import REPO_ROOT, load_terms
from greenbond.deploy import deploy_suite
port, directory = int(sys.argv[1]), sys.argv[2]
proj = project.load(REPO_ROOT, name="FeederDevChainProject")
CONFIG.networks["anvil"]["host"] = "http://127.0.0.1"
CONFIG.networks["anvil"]["cmd_settings"]["port"] = port
network.connect("anvil")
network.gas_price(0)
suite = deploy_suite(proj, web3, accounts[0], load_terms(), network_name="feeder-dev", development=True,
                     log=lambda m: None, directory=directory)
extra = {}
if len(sys.argv) > 3 and sys.argv[3] == "naive":
    extra["NaiveReadingStore"] = proj.NaiveReadingStore.deploy({"from": accounts[0]}).address
print(json.dumps({"oracle": suite.oracle.address, "block": suite.deployment.contracts["ImpactOracle"].block, **extra}))
network.disconnect(kill_rpc=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
            out = subprocess.run([sys.executable, "-c", DEPLOY_SCRIPT, str(self.port), str(self.deployments)]
                                 + (["naive"] if naive else []),
                                 cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                raise RuntimeError(f"deploy failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
            self.info = json.loads(out.stdout.strip().splitlines()[-1])
        except BaseException:
            self.stop()
            raise
        self.oracle_address = self.info["oracle"]

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
