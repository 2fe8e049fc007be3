"""`greenbond deploy --rpc URL` on a node started by hand: plain `anvil --port N` (its own default
hardfork and base fee, not the demo's berlin settings), no Brownie, no config to edit. The second
run reuses everything and sends nothing; the deployments file is written where it is told."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from greenbond.chain.localnode import free_port, is_serving, stop_process_group, wait_until_serving

EXE = shutil.which("greenbond", path=str(Path(sys.executable).parent))
ANVIL = shutil.which("anvil")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if ANVIL is None:
        pytest.fail("anvil is not on PATH: run `make setup`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("anvil") / "anvil.log", "wb")
    proc = subprocess.Popen([ANVIL, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_until_serving(url, proc, "anvil", timeout=30)
        yield url
    finally:
        stop_process_group(proc, signal.SIGINT)
        log.close()
    assert not is_serving(url)


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GREENBOND_RPC_URL"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, cwd="/", env=env)


def test_deploys_to_a_node_started_by_hand_then_reuses(node, tmp_path):
    out = run("deploy", "--rpc", node, "--deployments-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    record = json.loads((tmp_path / "31337.json").read_text())
    assert record["complete"]
    names = set(record["contracts"])
    assert names == {"SettlementToken", "HolderRegistry", "GreenBond", "CouponSchedule", "ImpactOracle", "CarbonCredits"}
    w3 = Web3(Web3.HTTPProvider(node))
    for rec in record["contracts"].values():
        assert w3.eth.get_code(rec["address"]), rec
    assert "Coupon            0.598% a year (5980 ppm)" in out.stdout
    # the credits: gated by the bond's registry (the default config), verified by account 7, not the issuer
    from greenbond.chain import load_abi
    credits = w3.eth.contract(address=record["contracts"]["CarbonCredits"]["address"], abi=load_abi("CarbonCredits"))
    assert credits.functions.registry().call() == record["contracts"]["HolderRegistry"]["address"]
    assert credits.functions.minCoveragePpm().call() == 900_000
    verifier_role = credits.functions.VERIFIER_ROLE().call()
    assert credits.functions.hasRole(verifier_role, w3.eth.accounts[7]).call()
    assert not credits.functions.hasRole(verifier_role, w3.eth.accounts[0]).call()
    block = w3.eth.block_number

    again = run("deploy", "--rpc", node, "--deployments-dir", str(tmp_path), "--json")
    assert again.returncode == 0, again.stderr
    assert w3.eth.block_number == block          # nothing sent: every contract reused
    assert json.loads(again.stdout)["contracts"] == record["contracts"]


def test_the_verifier_cannot_be_the_deployer(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    out = run("deploy", "--rpc", node, "--deployments-dir", str(tmp_path), "--verifier", w3.eth.accounts[0])
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: --verifier {w3.eth.accounts[0]}: must be an address other than the deployer's")
    assert out.stderr.count("\n") == 1


def test_unreachable_node_is_one_line(tmp_path):
    out = run("deploy", "--rpc", f"http://127.0.0.1:{free_port()}", "--deployments-dir", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.startswith("error: the RPC node at") and out.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_missing_config_is_one_line_before_the_node_is_asked(tmp_path):
    out = run("deploy", "--rpc", f"http://127.0.0.1:{free_port()}", "--config", str(tmp_path / "nope.toml"))
    assert out.returncode == 1
    assert out.stderr == f"error: bond config: file: {tmp_path / 'nope.toml'} does not exist\n"
