"""The feeder's direct calldata encoding of submitReports equals web3's contract encoding."""

import pytest
from web3 import Web3

from greenbond.chain import BUILD_DIR, load_abi
from greenbond.feeder.transmit import SUBMIT_REPORTS_SELECTOR, encode_submit_reports


def reports_and_signatures(n):
    reports = [
        (1 + i % 2, 1_700_000_000 + 3600 * i, 400_000 + i, 600_000 - i, 4, i % 4, bytes([i % 256]) * 32, 1, 2024, 1, 0)
        for i in range(n)
    ]
    signatures = [[(bytes([1]) * 32, bytes([2 + j]) * 32) for j in range(1 + i % 3)] for i in range(n)]
    return reports, signatures


@pytest.mark.parametrize("n", [1, 2, 24, 96])
def test_direct_encoding_equals_web3(n):
    if not (BUILD_DIR / "ImpactOracle.json").exists():
        pytest.skip("no build yet: `make test` compiles first")
    oracle = Web3().eth.contract(address="0x" + "11" * 20, abi=load_abi("ImpactOracle"))
    reports, signatures = reports_and_signatures(n)
    expected = bytes.fromhex(oracle.encode_abi("submitReports", args=[reports, signatures])[2:])
    assert encode_submit_reports(reports, signatures) == expected
    assert expected[:4] == SUBMIT_REPORTS_SELECTOR
