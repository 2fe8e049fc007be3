"""k-of-n signing of hourly reports, fast: the EIP-712 digest is computed directly (domain
separator once, then keccak of the ABI-encoded struct) and signed as a hash with eth-account.
It equals greenbond.oracle.signing.report_digest (a test checks both, and the chain accepts the
signatures); eth-account's typed-data path is ~20x slower, which matters for a year of backfill.
"""

from __future__ import annotations

from typing import Sequence

from eth_keys import keys as keys_api
from sha3 import keccak_256

try:
    from faster_eth_abi import encode as _abi_encode
except ImportError:  # pragma: no cover
    from eth_abi import encode as _abi_encode

from greenbond.oracle.signing import DOMAIN_NAME, DOMAIN_VERSION, REPORT_FIELDS, HourlyReport, to_compact


def _keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


DOMAIN_TYPEHASH = _keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
REPORT_TYPEHASH = _keccak(("HourlyReport(" + ",".join(f"{t} {n}" for n, t in REPORT_FIELDS) + ")").encode())
_TYPES = ["bytes32"] + [t for _, t in REPORT_FIELDS]


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return _keccak(_abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"], [
        DOMAIN_TYPEHASH, _keccak(DOMAIN_NAME.encode()), _keccak(DOMAIN_VERSION.encode()), int(chain_id),
        verifying_contract]))


class ReportSigner:
    """Signs reports for one chain and oracle with the first `threshold` of `keys`."""

    def __init__(self, keys: Sequence, chain_id: int, verifying_contract: str, threshold: int):
        if threshold < 1 or threshold > len(keys):
            raise ValueError(f"{len(keys)} signer key(s) cannot give {threshold} signatures")
        self.keys = list(keys)[:threshold]
        # eth_keys private key objects made once: eth-account would derive each public key again
        # (a second elliptic-curve multiplication) for every signature
        self._private = [keys_api.PrivateKey(bytes(k.key)) for k in self.keys]
        self.chain_id = chain_id
        self.verifying_contract = verifying_contract
        self._domain = domain_separator(chain_id, verifying_contract)

    @property
    def addresses(self) -> list[str]:
        return [k.address for k in self.keys]

    def digest(self, report: HourlyReport) -> bytes:
        struct = _keccak(_abi_encode(_TYPES, [REPORT_TYPEHASH, *report.as_tuple()]))
        return _keccak(b"\x19\x01" + self._domain + struct)

    def sign(self, report: HourlyReport) -> list[tuple[bytes, bytes]]:
        """EIP-2098 compact signatures (r, vs), one per key."""
        digest = self.digest(report)
        out = []
        for key in self._private:
            sig = key.sign_msg_hash(digest)          # RFC 6979, low s: as eth-account signs
            out.append(to_compact(sig.v + 27, sig.r, sig.s))
        return out
