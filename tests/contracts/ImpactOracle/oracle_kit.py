"""Helpers of the ImpactOracle tests (constants, Merkle tree, signing, the report kit); fixtures are in conftest.py.

Merkle trees come from greenbond.merkle (OpenZeppelin StandardMerkleTree); test_reads.py also
checks them against a root and proof computed with @openzeppelin/merkle-tree 1.0.8, and the
contract's readingLeaf against an independent eth_abi + keccak leaf.
"""

from __future__ import annotations

import requests
from brownie import ImpactOracle, chain, web3
from brownie.exceptions import decode_typed_error
from eth_abi import encode
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address

from greenbond.merkle import MerkleTree, leaf_hash_values
from greenbond.oracle.signing import HourlyReport, report_digest, sign_report

HOUR = 3600
HEARTBEAT = 7200
BACK_HOURS = 3000          # reporting starts this many hours before the chain's clock
BUILDING, SOLAR = 1, 2
BUILDING_MAX_WH = 3_000_000
SOLAR_MAX_WH = 500_000
PEF = 9760                 # kJ/kWh, methodology v1
GRAMS_V1 = 462             # g/kWh, every year of methodology v1
THRESHOLD = 3
N_SIGNERS = 4
ROOT = b"\x03" * 32
# The bond the oracle's feed answers for (any address: the oracle only keys allocations by it)
BOND = "0x00000000000000000000000000000000000B0Bd1"
OTHER_BOND = "0x00000000000000000000000000000000000B0Bd2"
BUILDING_COST = 10**10     # yen: Kyoso-to's financed cost; BOND allocates all of it (share 1)
MODEL_ID = b"office-standard-profile".ljust(32, b"\0")


def b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


# ---------------------------------------------------------------- Merkle (greenbond.merkle)


def reading_leaf(reading) -> bytes:
    """The StandardMerkleTree leaf of a reading given as a tuple (greenbond.merkle)."""
    return leaf_hash_values(tuple(reading))


def reading_leaf_eth_abi(reading) -> bytes:
    """The same leaf computed independently: keccak256(keccak256(abi.encode(...)))."""
    return keccak(keccak(encode(["uint32", "bytes32", "uint64", "uint64", "uint8"], list(reading))))


def merkle_root(readings) -> bytes:
    return MerkleTree([reading_leaf(r) for r in readings]).root


def merkle_proof(readings, index: int) -> list[bytes]:
    return MerkleTree([reading_leaf(r) for r in readings]).proof(index)


def hour_readings(facility_id: int, period_start: int, meters=("KYOSO-MAIN-A", "KYOSO-MAIN-B"), wh=(100_000, 110_000)):
    """Two 30-minute readings per meter for the hour starting at `period_start`."""
    out = []
    for m, meter in enumerate(meters):
        for half in range(2):
            out.append((facility_id, b32(meter), period_start + half * 1800, wh[half] + m, 0))
    return out


def tdiv(a: int, b: int) -> int:
    """Solidity's signed division: truncates toward zero."""
    q = abs(a) // b
    return -q if a < 0 else q


def plain(value):
    """A contract's return value as plain Python: ints, strs, tuples (Brownie's Wei and
    ReturnValue do not compare with plain tuples of ints)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return str(value)
    return tuple(plain(v) for v in value)


class Reverted:
    """A read that reverted in `batch_read`; `message` as Brownie decodes it ("OracleX: args")."""

    def __init__(self, error):
        data = error.get("data")
        if isinstance(data, dict):  # Ganache nests it
            data = data.get("data") or data.get("result")
        self.message = decode_typed_error(data) if isinstance(data, str) and data.startswith("0x") else repr(error)

    def __repr__(self):
        return f"Reverted({self.message!r})"


def batch_read(contract, calls):
    """Several view calls in one JSON-RPC batch at the latest block (a step of the stateful test
    reads the whole oracle; one round trip instead of one per call keeps Ganache runs short).
    `calls`: (function name, args) pairs on `contract`, (other contract, function name, args)
    triples, or "block" for the latest block's timestamp.
    Returns plain() values, or Reverted for a call that reverted."""
    calls = [c if c == "block" or len(c) == 3 else (contract, *c) for c in calls]
    payload = []
    for i, c in enumerate(calls):
        if c == "block":
            payload.append({"jsonrpc": "2.0", "id": i, "method": "eth_getBlockByNumber", "params": ["latest", False]})
        else:
            data = getattr(c[0], c[1]).encode_input(*c[2])
            payload.append({"jsonrpc": "2.0", "id": i, "method": "eth_call",
                            "params": [{"to": c[0].address, "data": data}, "latest"]})
    answers = {a["id"]: a for a in requests.post(web3.provider.endpoint_uri, json=payload, timeout=120).json()}
    out = []
    for i, c in enumerate(calls):
        a = answers[i]
        if "error" in a:
            out.append(Reverted(a["error"]))
        elif c == "block":
            out.append(int(a["result"]["timestamp"], 16))
        else:
            out.append(plain(getattr(c[0], c[1]).decode_output(a["result"])))
    return out


# ---------------------------------------------------------------- signing helpers


def recovered_signer(digest: bytes, sig: tuple[bytes, bytes]) -> str:
    """The address ECDSA.recover(digest, r, vs) returns for a compact signature."""
    r = int.from_bytes(sig[0], "big")
    vs = int.from_bytes(sig[1], "big")
    s = vs & ((1 << 255) - 1)
    v = vs >> 255
    pub = eth_keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    return to_checksum_address(pub.to_canonical_address())


class Kit:
    """Builds, signs and submits reports against one configured oracle."""

    def __init__(self, oracle, signers, outsiders, transmitter, start):
        self.oracle = oracle
        self.signers = signers
        self.outsiders = outsiders
        self.transmitter = transmitter
        self.start = start
        self.chain_id = web3.eth.chain_id

    def hour(self, n: int) -> int:
        """Start of the n-th hour of reporting (hour 0 is reportingStart)."""
        return self.start + n * HOUR

    def report(self, facility=BUILDING, hour=0, *, actual=400_000, benchmark=None, readings=4, flags=0, root=ROOT,
               methodology=1, year=2024, signer_set=None, supersedes=0, period_start=None) -> HourlyReport:
        if benchmark is None:
            benchmark = 0 if facility == SOLAR else 600_000
        return HourlyReport(
            facilityId=facility,
            periodStart=self.hour(hour) if period_start is None else period_start,
            actualWh=actual,
            benchmarkWh=benchmark,
            readingCount=readings,
            qualityFlags=flags,
            readingsRoot=root,
            methodologyVersion=methodology,
            factorYear=year,
            signerSetVersion=self.oracle.signerSetVersion() if signer_set is None else signer_set,
            supersedes=supersedes,
        )

    def sign(self, report: HourlyReport, keys=None, *, chain_id=None, contract=None) -> list:
        keys = self.signers[:THRESHOLD] if keys is None else keys
        cid = self.chain_id if chain_id is None else chain_id
        where = self.oracle.address if contract is None else contract
        return [sign_report(report, k.key, cid, where) for k in keys]

    def digest(self, report: HourlyReport) -> bytes:
        return report_digest(report, self.chain_id, self.oracle.address)

    def submit(self, *reports: HourlyReport, sigs=None, keys=None, sender=None):
        """Submits `reports` in one transaction; each signed by `keys` (default: the first k signers)."""
        if sigs is None:
            sigs = [self.sign(r, keys) for r in reports]
        return self.oracle.submitReports(
            [r.as_tuple() for r in reports], sigs, {"from": sender or self.transmitter}
        )

    def snapshot(self) -> dict:
        """Everything a submission can change, to show that a rejected one changed nothing."""
        o = self.oracle
        out = {"bond": plain(o.bondTotals(BOND)), "facilities": {}}
        for f in range(1, o.facilityCount() + 1):
            n = o.reportCount(f)
            out["facilities"][f] = (
                n, o.lastPeriodEnd(f), plain(o.facilityTotals(f)), plain(o.coverage(f)),
                [plain(o.report(f, i)) for i in range(n)], plain(o.reportedHoursWord(f, 0)),
            )
        try:
            out["round"] = plain(o.latestRoundData())
        except Exception:  # no round yet
            out["round"] = None
        return out


def deploy_oracle(admin, heartbeat=HEARTBEAT, feed_bond=BOND):
    return ImpactOracle.deploy(admin, heartbeat, feed_bond, {"from": admin})
