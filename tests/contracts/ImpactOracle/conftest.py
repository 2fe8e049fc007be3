"""Fixtures for the ImpactOracle tests.

`oracle` is configured as on a dev chain: a building (facility 1) and a solar plant (facility 2)
whose reporting starts `BACK_HOURS` hours before the chain's clock, the building wholly financed by
`BOND` (allocation 10^10 of a financed cost of 10^10 from reportingStart) and the solar plant not
financed by it (no allocation), methodology v1 from
config/methodology/v1.toml (9760 kJ/kWh, 462 g/kWh for FY2023-2028), a 3-of-4 signer set of the
dev signer keys and a transmitter holding only TRANSMITTER_ROLE. `kit` builds, signs (EIP-712,
EIP-2098 compact, greenbond.oracle.signing) and submits reports against it.
"""

import sys
import types

import pytest
from brownie import chain
from eth_account import Account
from eth_utils import keccak

from greenbond.oracle.setup import dev_signer_keys, methodology_args
from oracle_kit import (
    BACK_HOURS, BOND, BUILDING, BUILDING_COST, BUILDING_MAX_WH, HOUR, N_SIGNERS, SOLAR_MAX_WH, THRESHOLD, Kit,
    deploy_oracle, recovered_signer,
)


@pytest.fixture(scope="module", autouse=True)
def cheap_rpc_caller_check():
    """Brownie 1.22 wraps chain.sleep/mine/snapshot/revert in a check of who called them
    (brownie.network.rpc.internal) that builds `inspect.stack()`: every frame with its source
    context, about 0.3 s per call under the deep stack of a Hypothesis state machine, which made
    the stateful test spend most of its time there. This gives that check the caller's frame
    directly (the only thing it reads), for these tests only; the behaviour is unchanged."""

    def stack():
        return [None, types.SimpleNamespace(frame=sys._getframe(2))]

    module = sys.modules["brownie.network.rpc"]  # the module (brownie.network.rpc is the Rpc object)
    original = module.inspect
    module.inspect = types.SimpleNamespace(stack=stack)
    yield
    module.inspect = original


@pytest.fixture(scope="module")
def transmitter(accounts):
    """Holds only TRANSMITTER_ROLE."""
    return accounts[8]


@pytest.fixture(scope="module")
def signer_keys():
    """The signer set: dev signer keys, 3 of 4."""
    return dev_signer_keys(N_SIGNERS)


@pytest.fixture(scope="module")
def outsider_keys():
    """Keys that are in no signer set."""
    return [Account.from_key(keccak(f"greenbond-test-not-a-signer-{i}".encode())) for i in range(3)]


@pytest.fixture(scope="module")
def start():
    return (chain.time() // HOUR - BACK_HOURS) * HOUR


@pytest.fixture(scope="module")
def v1_args():
    return methodology_args()


@pytest.fixture(scope="module")
def oracle(admin, transmitter, signer_keys, start, v1_args):
    o = deploy_oracle(admin)
    o.addFacility(0, "Kyoso-to", "docs/documents/facility-kyoso-to.md", b"\x11" * 32, BUILDING_MAX_WH, start,
                  {"from": admin})
    o.addFacility(1, "Demo solar", "docs/documents/facility-solar-demo.md", b"\x22" * 32, SOLAR_MAX_WH, start,
                  {"from": admin})
    o.setAllocation(BUILDING, BOND, BUILDING_COST, BUILDING_COST, start, {"from": admin})
    o.addMethodology(*v1_args, {"from": admin})
    o.setSigners([k.address for k in signer_keys], THRESHOLD, {"from": admin})
    o.grantRole(o.TRANSMITTER_ROLE(), transmitter, {"from": admin})
    return o


@pytest.fixture(scope="module")
def kit(oracle, signer_keys, outsider_keys, transmitter, start):
    return Kit(oracle, signer_keys, outsider_keys, transmitter, start)


@pytest.fixture(scope="session")
def recover():
    """recover(digest, (r, vs)) -> the address ECDSA.recover returns on chain."""
    return recovered_signer
