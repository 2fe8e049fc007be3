"""Puts the impact oracle's configuration on chain: facilities (config/facilities), the
methodology version (config/methodology), the signer set and the transmitter. Idempotent: what
the chain already holds is left alone, so the deploy can run again."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from eth_account import Account
from eth_utils import keccak

from greenbond.config import REPO_ROOT, ConfigError

DEFAULT_FACILITIES = REPO_ROOT / "config" / "facilities" / "default.toml"
DEFAULT_METHODOLOGY = REPO_ROOT / "config" / "methodology" / "v1.toml"
KINDS = {"building": 0, "solar": 1}
DEV_SIGNER_COUNT = 3
DEV_THRESHOLD = 2


@dataclass(frozen=True)
class FacilityConfig:
    key: str
    kind: str
    name: str
    metadata_uri: str
    allocated_proceeds: int
    max_kw: int
    meters: tuple[str, ...]
    reporting_start: dt.date
    params: dict = field(default_factory=dict, compare=False)  # model parameters (floor area, capacity, ...)

    @property
    def max_wh_per_hour(self) -> int:
        return self.max_kw * 1000

    def reporting_start_ts(self, timezone: str = "Asia/Tokyo") -> int:
        return int(dt.datetime.combine(self.reporting_start, dt.time(0), ZoneInfo(timezone)).timestamp())


def load_facilities(path: Path = DEFAULT_FACILITIES) -> list[FacilityConfig]:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, f in enumerate(raw.get("facility", [])):
        where = f"facility[{i}]"
        try:
            kind = f["kind"]
            if kind not in KINDS:
                raise ConfigError(f"{where}.kind", f"must be one of {sorted(KINDS)}")
            meters = tuple(f["meters"])
            if not meters or any(not m or len(m.encode()) > 32 or not m.isascii() for m in meters):
                raise ConfigError(f"{where}.meters", "meter ids are 1 to 32 ASCII characters")
            known = {"key", "kind", "name", "metadata_uri", "allocated_proceeds", "max_kw", "meters", "reporting_start"}
            out.append(
                FacilityConfig(
                    key=f["key"], kind=kind, name=f["name"], metadata_uri=f["metadata_uri"],
                    allocated_proceeds=int(f["allocated_proceeds"]), max_kw=int(f["max_kw"]),
                    meters=meters, reporting_start=f["reporting_start"],
                    params={k: v for k, v in f.items() if k not in known},
                )
            )
        except KeyError as exc:
            raise ConfigError(f"{where}.{exc.args[0]}", "missing") from None
    if not out:
        raise ConfigError("facility", f"no [[facility]] in {path}")
    return out


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


def configure_oracle(oracle, deployer, *, facilities, methodology_path, signers, threshold, transmitter, timezone, log):
    """Adds what the oracle lacks: facilities (by count, in order), the methodology (when the
    latest version's source hash differs), the signer set (when it differs) and the transmitter."""
    have = oracle.facilityCount()
    for i, f in enumerate(facilities[have:], start=have + 1):
        doc = REPO_ROOT / f.metadata_uri
        digest = keccak(doc.read_bytes()) if doc.is_file() else b"\0" * 32
        oracle.addFacility(
            KINDS[f.kind], f.name, f.metadata_uri, digest, f.allocated_proceeds, f.max_wh_per_hour,
            f.reporting_start_ts(timezone), {"from": deployer},
        )
        log(f"  facility {i}: {f.name} ({f.kind}, {len(f.meters)} meter(s))")
    args = methodology_args(methodology_path)
    count = oracle.methodologyCount()
    if count == 0 or bytes(oracle.methodology(count)["sourceHash"]) != args[4]:
        oracle.addMethodology(*args, {"from": deployer})
        log(f"  methodology v{count + 1} from {args[3]} ({len(args[5])} grid factors)")
    wanted = sorted(s.lower() for s in signers)
    version = oracle.signerSetVersion()
    current, current_threshold = oracle.signerSet(version) if version else ([], 0)
    if sorted(a.lower() for a in current) != wanted or current_threshold != threshold:
        oracle.setSigners(signers, threshold, {"from": deployer})
        log(f"  signer set v{version + 1}: {threshold} of {len(signers)}")
    role = oracle.TRANSMITTER_ROLE()
    if not oracle.hasRole(role, transmitter):
        oracle.grantRole(role, transmitter, {"from": deployer})
        log(f"  transmitter {transmitter}")
