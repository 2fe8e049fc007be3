"""Fixtures for the CarbonCredits tests.

The oracle is the ImpactOracle tests' (tests/contracts/ImpactOracle/conftest.py, loaded here): a
building (facility 1, 200 kWh avoided an hour by default = 92.4 kg CO2 at 462 g/kWh) and a solar
plant (facility 2), reporting from `BACK_HOURS` hours before the chain's clock, methodology v1
with the FY2024 factor. `credits` is gated by a holder registry in which alice and bob are
registered; `open_credits` has no registry. The admin is the issuer (ISSUER_ROLE, AGENT_ROLE), the
verifier another account holding VERIFIER_ROLE only, the agent a third one holding AGENT_ROLE.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ORACLE_TESTS = Path(__file__).resolve().parents[1] / "ImpactOracle"
if str(ORACLE_TESTS) not in sys.path:
    sys.path.insert(0, str(ORACLE_TESTS))

_spec = importlib.util.spec_from_file_location("oracle_tests_conftest", ORACLE_TESTS / "conftest.py")
_oracle_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle_conftest)
cheap_rpc_caller_check = _oracle_conftest.cheap_rpc_caller_check
transmitter = _oracle_conftest.transmitter
signer_keys = _oracle_conftest.signer_keys
outsider_keys = _oracle_conftest.outsider_keys
start = _oracle_conftest.start
v1_args = _oracle_conftest.v1_args
oracle = _oracle_conftest.oracle
kit = _oracle_conftest.kit

from credits_kit import MIN_COVERAGE_PPM, CreditsKit  # noqa: E402


@pytest.fixture(scope="module")
def verifier(accounts):
    return accounts[6]


@pytest.fixture(scope="module")
def credits_agent(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def holder_registry(HolderRegistry, admin, alice, bob):
    r = HolderRegistry.deploy(admin, {"from": admin})
    from brownie import chain
    for n, w in enumerate((admin, alice, bob), start=1):
        r.registerHolder(w, "0x" + f"{n:064x}", 392, chain.time() + 10 * 365 * 86_400, "0x01", {"from": admin})
    return r


def _deploy(CarbonCredits, admin, oracle, registry, verifier, agent):
    c = CarbonCredits.deploy(admin, oracle, registry, MIN_COVERAGE_PPM, "https://example.invalid/credits/{id}.json",
                             {"from": admin})
    c.grantRole(c.VERIFIER_ROLE(), verifier, {"from": admin})
    c.grantRole(c.AGENT_ROLE(), agent, {"from": admin})
    return c


@pytest.fixture(scope="module")
def credits(CarbonCredits, admin, oracle, holder_registry, verifier, credits_agent):
    return _deploy(CarbonCredits, admin, oracle, holder_registry, verifier, credits_agent)


@pytest.fixture(scope="module")
def open_credits(CarbonCredits, admin, oracle, verifier, credits_agent):
    return _deploy(CarbonCredits, admin, oracle, "0x" + "00" * 20, verifier, credits_agent)


@pytest.fixture(scope="module")
def ck(kit, credits, admin, verifier):
    return CreditsKit(kit, credits, admin, verifier)
