"""EIP-712 signing of hourly reports, the same encoding ImpactOracle checks with OpenZeppelin's
EIP712 and ECDSA (a test proves the two agree: `reportDigest` on chain equals `report_digest`).

Signatures are returned in EIP-2098 compact form (r, vs), which is what `submitReports` takes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "GreenBondImpactOracle"
DOMAIN_VERSION = "1"

REPORT_FIELDS = (
    ("facilityId", "uint32"),
    ("periodStart", "uint64"),
    ("actualWh", "uint64"),
    ("benchmarkWh", "uint64"),
    ("readingCount", "uint16"),
    ("qualityFlags", "uint16"),
    ("readingsRoot", "bytes32"),
    ("methodologyVersion", "uint32"),
    ("factorYear", "uint16"),
    ("signerSetVersion", "uint32"),
    ("supersedes", "uint32"),
)

# quality flag bits (HourlyReport.qualityFlags)
FLAG_ESTIMATED = 1 << 0
FLAG_LOW_COVERAGE = 1 << 1
FLAG_QUARANTINE_EXCLUDED = 1 << 2


@dataclass(frozen=True)
class HourlyReport:
    facilityId: int
    periodStart: int
    actualWh: int
    benchmarkWh: int
    readingCount: int
    qualityFlags: int
    readingsRoot: bytes
    methodologyVersion: int
    factorYear: int
    signerSetVersion: int
    supersedes: int = 0

    def as_tuple(self) -> tuple:
        """The struct as the contract's ABI takes it."""
        return tuple(getattr(self, name) for name, _ in REPORT_FIELDS)

    @classmethod
    def from_abi(cls, value) -> "HourlyReport":
        """The struct as web3 decodes it (a tuple in ABI order, or a dict by field name)."""
        items = value if isinstance(value, dict) else dict(zip((n for n, _ in REPORT_FIELDS), value))
        return cls(**{n: bytes(items[n]) if t == "bytes32" else int(items[n]) for n, t in REPORT_FIELDS})


def typed_data(report: HourlyReport, chain_id: int, verifying_contract: str) -> dict:
    return {
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": verifying_contract,
        },
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "HourlyReport": [{"name": n, "type": t} for n, t in REPORT_FIELDS],
        },
        "primaryType": "HourlyReport",
        "message": asdict(report),
    }


def report_digest(report: HourlyReport, chain_id: int, verifying_contract: str) -> bytes:
    """The EIP-712 digest a signer signs (what ImpactOracle.reportDigest returns)."""
    from eth_utils import keccak

    msg = encode_typed_data(full_message=typed_data(report, chain_id, verifying_contract))
    return keccak(b"\x19" + msg.version + msg.header + msg.body)


def to_compact(v: int, r: int, s: int) -> tuple[bytes, bytes]:
    """EIP-2098: (r, vs) with the parity of v in the top bit of s."""
    parity = (v - 27) if v >= 27 else v
    vs = s | (parity << 255)
    return r.to_bytes(32, "big"), vs.to_bytes(32, "big")


def sign_report(report: HourlyReport, private_key, chain_id: int, verifying_contract: str) -> tuple[bytes, bytes]:
    """Signs with eth-account's typed-data signing; returns the compact (r, vs)."""
    signed = Account.sign_message(encode_typed_data(full_message=typed_data(report, chain_id, verifying_contract)), private_key)
    return to_compact(signed.v, signed.r, signed.s)
