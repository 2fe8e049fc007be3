"""config/facilities/*.toml -> FacilitySpec objects (what the meter pipeline needs to know).

Facility ids are 1, 2, ... in file order: the ids ImpactOracle.addFacility assigns when the
facilities are registered in that order.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from greenbond.meters.model import JST, UTC, MeterSpec, check_meter_id, MeterDataError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FACILITIES = REPO_ROOT / "config" / "facilities" / "default.toml"
KINDS = ("building", "solar")


class FacilityConfigError(ValueError):
    """An invalid facility file; the message names the field."""


@dataclass(frozen=True)
class FacilitySpec:
    facility_id: int
    key: str
    kind: str                         # 'building' (reduction = benchmark - actual) or 'solar'
    name: str
    max_kw: int                       # bound for any meter's power
    meters: tuple[str, ...]
    reporting_start: dt.datetime      # aware UTC (00:00 JST of the configured date)
    floor_area_m2: int = 0            # building
    bei: Fraction = Fraction(0)       # building: BELS energy index (design / standard)
    capacity_kw: int = 0              # solar
    capacity_factor: Fraction = Fraction(0)  # solar
    metadata_uri: str = ""            # repo path of the facility's metadata document
    allocated_proceeds: int = 0       # proceeds of this bond allocated to it (ICMA allocation reporting), yen
    financed_cost: int = 0            # its total financed cost, yen: the bond's share is allocated / financed

    @property
    def max_wh_per_hour(self) -> int:
        """The bound the oracle enforces on any hourly figure."""
        return self.max_kw * 1000

    def meter_specs(self) -> dict[str, MeterSpec]:
        """Each meter may draw up to the facility's max_kw."""
        return {m: MeterSpec(self.facility_id, self.max_kw) for m in self.meters}


def _get(row: dict, name: str, kind, where: str):
    if name not in row:
        raise FacilityConfigError(f"{where}.{name}: missing")
    value = row[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise FacilityConfigError(f"{where}.{name}: must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise FacilityConfigError(f"{where}.{name}: wrong type {type(value).__name__}")
    return value


def parse_facilities(data: dict) -> list[FacilitySpec]:
    rows = data.get("facility")
    if not isinstance(rows, list) or not rows:
        raise FacilityConfigError("facility: at least one [[facility]] is required")
    out, seen_meters = [], set()
    for i, row in enumerate(rows):
        where = f"facility[{i}]"
        kind = _get(row, "kind", str, where)
        if kind not in KINDS:
            raise FacilityConfigError(f"{where}.kind: {kind!r} not one of {KINDS}")
        meters = _get(row, "meters", list, where)
        if not meters:
            raise FacilityConfigError(f"{where}.meters: empty")
        for m in meters:
            try:
                check_meter_id(m)
            except MeterDataError as exc:
                raise FacilityConfigError(f"{where}.meters: {exc}") from None
            if m in seen_meters:
                raise FacilityConfigError(f"{where}.meters: {m} listed twice")
            seen_meters.add(m)
        start = _get(row, "reporting_start", dt.date, where)
        max_kw = _get(row, "max_kw", int, where)
        if max_kw <= 0:
            raise FacilityConfigError(f"{where}.max_kw: must be positive")
        common = dict(
            facility_id=i + 1, key=_get(row, "key", str, where), kind=kind, name=_get(row, "name", str, where),
            max_kw=max_kw, meters=tuple(meters),
            reporting_start=dt.datetime(start.year, start.month, start.day, tzinfo=JST).astimezone(UTC),
            metadata_uri=_get(row, "metadata_uri", str, where),
            allocated_proceeds=_get(row, "allocated_proceeds", int, where),
            financed_cost=row.get("financed_cost", 0),
        )
        alloc, cost = common["allocated_proceeds"], common["financed_cost"]
        if isinstance(cost, bool) or not isinstance(cost, int):
            raise FacilityConfigError(f"{where}.financed_cost: must be an integer, got {cost!r}")
        if alloc < 0 or (alloc and not alloc <= cost):
            raise FacilityConfigError(
                f"{where}: allocated_proceeds ({alloc}) needs a financed_cost at least as large (got {cost}):"
                " the bond's share of the facility is allocated_proceeds / financed_cost")
        if kind == "building":
            area = _get(row, "floor_area_m2", int, where)
            if area <= 0:
                raise FacilityConfigError(f"{where}.floor_area_m2: must be positive")
            bei = Fraction(str(_get(row, "bei", (int, float), where)))
            out.append(FacilitySpec(floor_area_m2=area, bei=bei, **common))
        else:
            cap = _get(row, "capacity_kw", int, where)
            cf = Fraction(str(_get(row, "capacity_factor", (int, float), where)))
            if cap <= 0 or not 0 < cf < 1:
                raise FacilityConfigError(f"{where}: capacity_kw must be positive and capacity_factor in (0, 1)")
            out.append(FacilitySpec(capacity_kw=cap, capacity_factor=cf, **common))
    return out


def load_facilities(path: str | Path = DEFAULT_FACILITIES) -> list[FacilitySpec]:
    """Reads and validates a facility TOML file; a missing, unreadable or malformed file is a
    FacilityConfigError naming it (one line for the command, never a traceback)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise FacilityConfigError(f"cannot read the facility file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FacilityConfigError(f"{path}: {exc}") from None
    return parse_facilities(data)


def all_meter_specs(facilities: list[FacilitySpec]) -> dict[str, MeterSpec]:
    specs: dict[str, MeterSpec] = {}
    for f in facilities:
        specs.update(f.meter_specs())
    return specs
