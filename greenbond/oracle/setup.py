"""Puts the impact oracle's configuration on chain: facilities (config/facilities), the
methodology version (config/methodology), the signer set and the transmitter. Idempotent: what
the chain already holds is left alone, so the deploy can run again."""

from __future__ import annotations

import tomllib
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from greenbond.config import REPO_ROOT
from greenbond.impact.facilities import DEFAULT_FACILITIES, load_facilities  # noqa: F401 (re-exported)

DEFAULT_METHODOLOGY = REPO_ROOT / "config" / "methodology" / "v1.toml"
KINDS = {"building": 0, "solar": 1}
DEV_SIGNER_COUNT = 3
DEV_THRESHOLD = 2
METHODOLOGY_SOURCE_HASH = 5  # IImpactOracle.Methodology: ..., sourceURI, sourceHash


def methodology_args(path: Path = DEFAULT_METHODOLOGY) -> tuple:
    """The arguments of ImpactOracle.addMethodology for a methodology file."""
    data = Path(path).read_bytes()
    raw = tomllib.loads(data.decode("utf-8"))
    m = raw["methodology"]
    factors = [
        (int(g["fiscal_year"]), int(g["grams_per_kwh"]), bool(g["final"]), str(g["source"]))
        for g in raw.get("grid_factor", [])
    ]
    return (
        m["benchmark_model"].encode("ascii").ljust(32, b"\0"),
        int(m["benchmark_model_version"]),
        int(m["primary_energy_factor_kj_per_kwh"]),
        str(Path(path).resolve().relative_to(REPO_ROOT)),
        keccak(data),
        factors,
    )


def dev_signer_keys(n: int = DEV_SIGNER_COUNT) -> list:
    """Deterministic signer keys for DEV CHAINS ONLY (known to anyone who reads this file)."""
    return [Account.from_key(keccak(f"greenbond-dev-oracle-signer-{i}".encode())) for i in range(n)]


def configure_oracle(w3, oracle, signer, *, facilities, methodology_path, signers, threshold, transmitter, log,
                     bond=None):
    """Adds what the oracle (a web3 contract) lacks, sent from `signer` (greenbond.chain.tx.Signer):
    facilities (by count, in order), the bond's allocation to each facility that has one (from its
    reporting start, when the bond has none there yet), the methodology (when the latest
    version's source hash differs), the signer set (when it differs) and the transmitter. `bond`
    defaults to the oracle's feed bond."""
    from greenbond.chain.tx import transact

    fns = oracle.functions

    def send(fn) -> None:
        transact(w3, fn, signer)

    have = fns.facilityCount().call()
    for i, f in enumerate(facilities[have:], start=have + 1):
        doc = REPO_ROOT / f.metadata_uri
        digest = keccak(doc.read_bytes()) if doc.is_file() else b"\0" * 32
        send(fns.addFacility(KINDS[f.kind], f.name, f.metadata_uri, digest, f.max_wh_per_hour,
                             int(f.reporting_start.timestamp())))
        log(f"  facility {i}: {f.name} ({f.kind}, {len(f.meters)} meter(s))")
    bond = bond or fns.feedBond().call()
    for f in facilities:
        if f.allocated_proceeds and not fns.allocations(f.facility_id, bond).call():
            send(fns.setAllocation(f.facility_id, bond, f.allocated_proceeds, f.financed_cost,
                                   int(f.reporting_start.timestamp())))
            log(f"  facility {f.facility_id}: allocated {f.allocated_proceeds:,} of {f.financed_cost:,}"
                f" (the bond's share of its impact)")
    args = methodology_args(methodology_path)
    count = fns.methodologyCount().call()
    if count == 0 or bytes(fns.methodology(count).call()[METHODOLOGY_SOURCE_HASH]) != args[4]:
        send(fns.addMethodology(*args))
        log(f"  methodology v{count + 1} from {args[3]} ({len(args[5])} grid factors)")
    wanted = sorted(s.lower() for s in signers)
    version = fns.signerSetVersion().call()
    current, current_threshold = fns.signerSet(version).call() if version else ([], 0)
    if sorted(a.lower() for a in current) != wanted or current_threshold != threshold:
        send(fns.setSigners(signers, threshold))
        log(f"  signer set v{version + 1}: {threshold} of {len(signers)}")
    role = fns.TRANSMITTER_ROLE().call()
    if not fns.hasRole(role, transmitter).call():
        send(fns.grantRole(role, transmitter))
        log(f"  transmitter {transmitter}")
