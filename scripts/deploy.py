"""Deploy the bond suite: `brownie run scripts/deploy.py [main CONFIG] --network NAME`.

A thin Brownie entry point over the same function as `greenbond deploy --rpc URL`
(greenbond.deploy.deploy_suite, plain web3 on Brownie's connection). CONFIG defaults to
config/bonds/hitachi-2023.toml. On a dev chain account 0 deploys a settlement-token stand-in,
the registry, the bond, the schedule and the oracle, and holds every role; on a live network the
key comes from GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE (+ GREENBOND_KEYSTORE_PASSWORD).
Addresses go to deployments/<chainId>.json.
"""

import os
import sys

from brownie import network, web3

from greenbond.chain import ChainError
from greenbond.chain.keys import signer_for
from greenbond.chain.tx import is_dev_chain
from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, ConfigError, load_terms
from greenbond.deploy import deploy_suite, describe_bond
from greenbond.deployments import DeploymentError


def main(config_path=str(DEFAULT_BOND_CONFIG)):
    try:
        terms = load_terms(config_path)
        development = is_dev_chain(web3)
        signer = signer_for(web3)
        print(f"Deploying {terms.name} on {network.show_active()} (chain {web3.eth.chain_id}) from {signer.address}")
        suite = deploy_suite(
            web3, signer, terms,
            network_name=network.show_active(),
            development=development,
            bond_config=os.path.relpath(config_path, REPO_ROOT),
        )
    except (ChainError, ConfigError, DeploymentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print("\n".join(describe_bond(suite.bond, terms)))
    print(f"Recorded in deployments/{suite.deployment.chain_id}.json")
