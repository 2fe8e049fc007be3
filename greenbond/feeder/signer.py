"""k-of-n signing of hourly reports, fast: the EIP-712 digest is computed directly (domain
separator once, then keccak of the struct's 32-byte words) and signed as a hash with libsecp256k1
(coincurve). It equals greenbond.oracle.signing.report_digest (a test checks both, and the chain
accepts the signatures); eth-account's typed-data path is ~20x slower, which matters for a year
of backfill.

Hand-written where measured faster: every field of HourlyReport is a static type, so its ABI
encoding is one big-endian 32-byte word per field (range-checked here as the encoder would); the
ABI encoder's validation was a quarter of the signing time. The keys are coincurve keys made
once: eth-keys derived the public key again for every signature (two more curve operations).
"""

from __future__ import annotations

from typing import Sequence

from coincurve import PrivateKey as SecpKey
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
_BITS = tuple(None if t == "bytes32" else int(t.removeprefix("uint")) for _, t in REPORT_FIELDS)


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
        self._private = [SecpKey(bytes(k.key)) for k in self.keys]
        self.chain_id = chain_id
        self.verifying_contract = verifying_contract
        self._domain = domain_separator(chain_id, verifying_contract)

    @property
    def addresses(self) -> list[str]:
        return [k.address for k in self.keys]

    def digest(self, report: HourlyReport) -> bytes:
        words = [REPORT_TYPEHASH]
        for (name, _t), bits, value in zip(REPORT_FIELDS, _BITS, report.as_tuple()):
            if bits is None:
                if len(value) != 32:
                    raise ValueError(f"{name} must be 32 bytes, not {len(value)}")
                words.append(bytes(value))
            elif not 0 <= value < 1 << bits:
                raise ValueError(f"{name} {value} does not fit uint{bits}")
            else:
                words.append(value.to_bytes(32, "big"))
        return _keccak(b"\x19\x01" + self._domain + _keccak(b"".join(words)))

    def sign(self, report: HourlyReport) -> list[tuple[bytes, bytes]]:
        """EIP-2098 compact signatures (r, vs), one per key."""
        digest = self.digest(report)
        out = []
        for key in self._private:
            sig = key.sign_recoverable(digest, hasher=None)   # r, s, recovery id; RFC 6979 and low s, as eth-account
            out.append(to_compact(sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")))
        return out
