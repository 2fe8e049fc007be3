"""Deploy the bond suite: `brownie run scripts/deploy.py [main CONFIG] --network NAME`.

CONFIG defaults to config/bonds/hitachi-2023.toml. On a dev chain (Anvil, Ganache) account 0
deploys a settlement-token stand-in, the registry and the bond, and holds every role; on a
live network the key comes from GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE (see README).
Addresses go to deployments/<chainId>.json.
"""

import os
import sys

from brownie import accounts, network, project, web3
from brownie._config import CONFIG

from greenbond.accounts import deployer_account
from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, ConfigError, load_terms
from greenbond.deploy import deploy_suite, describe_bond
from greenbond.deployments import DeploymentError


def main(config_path=str(DEFAULT_BOND_CONFIG)):
    try:
        terms = load_terms(config_path)
        development = CONFIG.network_type == "development"
        deployer = deployer_account(accounts, development)
        print(f"Deploying {terms.name} on {network.show_active()} (chain {web3.eth.chain_id}) from {deployer.address}")
        suite = deploy_suite(
            project.get_loaded_projects()[0],
            web3,
            deployer,
            terms,
            network_name=network.show_active(),
            development=development,
            bond_config=os.path.relpath(config_path, REPO_ROOT),
        )
    except (ConfigError, DeploymentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print("\n".join(describe_bond(suite.bond, terms)))
    print(f"Recorded in deployments/{suite.deployment.chain_id}.json")
