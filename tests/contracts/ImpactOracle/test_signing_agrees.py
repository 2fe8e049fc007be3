"""The Python EIP-712 encoding (eth-account) and the contract's (OpenZeppelin EIP712) agree."""

import pytest
from brownie import ImpactOracle, accounts, chain, web3
from eth_account import Account

from greenbond.oracle.signing import HourlyReport, report_digest, sign_report

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

KEYS = [Account.create(f"signer-{i}") for i in range(3)]


@pytest.fixture(scope="module")
def oracle(admin):
    o = ImpactOracle.deploy(admin, 7200, admin, {"from": admin})
    o.grantRole(o.TRANSMITTER_ROLE(), admin, {"from": admin})
    start = (chain.time() // 3600 - 48) * 3600
    o.addFacility(0, "Kyoso-to", "ipfs://x", b"\x01" * 32, 10**7, start, {"from": admin})
    o.addMethodology(b"office-profile".ljust(32, b"\0"), 1, 9760, "config/factors/x.toml", b"\x02" * 32,
                     [(2024, 441, False, "MoE provisional")], {"from": admin})
    o.setSigners(sorted(k.address for k in KEYS), 2, {"from": admin})
    return o


def report(oracle, **kw):
    start = oracle.lastPeriodEnd(1)
    fields = dict(facilityId=1, periodStart=start, actualWh=400_000, benchmarkWh=600_000, readingCount=4,
                  qualityFlags=0, readingsRoot=b"\x03" * 32, methodologyVersion=1, factorYear=2024,
                  signerSetVersion=1, supersedes=0)
    fields.update(kw)
    return HourlyReport(**fields)


def test_digest_agrees(oracle):
    r = report(oracle)
    assert bytes(oracle.reportDigest(r.as_tuple())) == report_digest(r, web3.eth.chain_id, oracle.address)


def test_python_signatures_are_accepted(oracle, admin):
    r = report(oracle)
    sigs = [sign_report(r, k.key, web3.eth.chain_id, oracle.address) for k in KEYS[:2]]
    oracle.submitReports([r.as_tuple()], [sigs], {"from": admin})
    stored = oracle.report(1, 0)
    assert stored["energyReductionJ"] == 200_000 * 9760
    assert stored["co2AvoidedMg"] == 200_000 * 441

