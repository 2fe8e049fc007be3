"""`greenbond deploy`: deploys the bond suite to any node over plain web3 (no Brownie, no config
file to edit): the settlement-token stand-in (dev chains only), the holder registry, the bond,
the coupon schedule and the impact oracle, from the build in build/contracts.

Run it again and it reuses what the chain already holds (same build, same constructor arguments,
code still there); a run that stops half-way resumes. The addresses go to
<deployments-dir>/<chainId>.json.

On a dev chain (Anvil 31337, Ganache 1337) account 0 of the node deploys and holds every role, a
settlement-token stand-in is deployed and the oracle gets the demo facilities, methodology and
dev signer set. Elsewhere the key comes from GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE (+
GREENBOND_KEYSTORE_PASSWORD), and the bond config must name the settlement token
(currency_address).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from greenbond.chain import ChainError, connect, default_rpc_url
from greenbond.chain.keys import signer_for
from greenbond.chain.tx import is_dev_chain
from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, ConfigError, load_terms
from greenbond.deployments import DeploymentError, default_deployments_dir

USER_ERRORS = (ChainError, ConfigError, DeploymentError)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rpc", default=default_rpc_url(),
                   help="the node's JSON-RPC URL (default GREENBOND_RPC_URL, else the demo chain %(default)s)")
    p.add_argument("--config", type=Path, default=DEFAULT_BOND_CONFIG,
                   help="the bond's terms (TOML; default %(default)s)")
    p.add_argument("--deployments-dir", type=Path, default=default_deployments_dir(),
                   help="where <chainId>.json is read and written (default GREENBOND_DEPLOYMENTS, else %(default)s)")
    p.add_argument("--account", default=None,
                   help="dev chains: the node's account (index or address) that deploys and holds the roles (default 0)")
    p.add_argument("--transmitter", default=None,
                   help="dev chains: the oracle's transmitter address (default: the deployer)")
    p.add_argument("--verifier", default=None,
                   help="the carbon credits' verifier address, granted VERIFIER_ROLE (never the deployer; "
                        "dev chains default to the node's account 7)")
    p.add_argument("--network-name", default=None,
                   help="the name recorded in the deployments file (default: development or chain-<id>)")
    p.add_argument("--json", action="store_true", help="print the recorded deployment as JSON instead of the terms")


def command(args: argparse.Namespace) -> int:
    from greenbond.deploy import deploy_suite, describe_bond

    terms = load_terms(args.config)          # a config mistake stops us before the node is asked
    w3 = connect(args.rpc)
    development = is_dev_chain(w3)
    signer = signer_for(w3, args.account)
    chain_id = w3.eth.chain_id
    name = args.network_name or ("development" if development else f"chain-{chain_id}")
    log = (lambda _: None) if args.json else print
    log(f"Deploying {terms.name} to {args.rpc} (chain {chain_id}, block {w3.eth.block_number}) from {signer.address}")
    try:
        config_label = os.path.relpath(Path(args.config).resolve(), REPO_ROOT)
    except ValueError:   # another drive
        config_label = str(args.config)
    suite = deploy_suite(
        w3, signer, terms, network_name=name, development=development, bond_config=config_label,
        log=log, directory=args.deployments_dir, transmitter=args.transmitter, verifier=args.verifier,
    )
    if args.json:
        json.dump(suite.deployment.to_json(), sys.stdout, indent=2)
        print()
        return 0
    print("\n".join(describe_bond(suite.bond, terms)))
    print(f"Recorded in {Path(args.deployments_dir) / f'{chain_id}.json'}")
    return 0
