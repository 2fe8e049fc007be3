"""The impact methodology: config/methodology/*.toml, Japanese fiscal years, conversions and the
benchmark model. All energy and CO2 figures are integers.

Units and conversions (as contracts/ImpactOracle.sol derives them, exactly):
    energy reduction, J  = reduction_Wh x primary_energy_factor (kJ/kWh)     [kJ/kWh = J/Wh]
    CO2 avoided, mg      = reduction_Wh x grid factor (g/kWh)                [g/kWh  = mg/Wh]

Fiscal year: the Japanese fiscal year runs April to March, in JST; FY2023 is 2023-04-01 00:00 JST
to 2024-03-31 24:00 JST. Grid factors are chosen by the fiscal year of the hour's start.

Benchmark model 'office-standard-profile', version 1:
    annual benchmark    = floor_area_m2 x 142 kWh/m2/yr (Tokyo offices' ~1,386 MJ/m2/yr of primary
                          energy at 9.76 MJ/kWh) = floor_area_m2 x 142,000 Wh per fiscal year
    hour weight w(h)    = DAY_WEIGHTS[weekday or weekend][JST hour of day] x MONTH_WEIGHTS[JST month]
                          (integers; Saturday and Sunday are the weekend; holidays not modelled)
    fiscal-year total W = sum of w over every hour of the fiscal year (8,760 or 8,784 hours)
    benchmark_Wh(hour)  = floor(floor_area_m2 x 142,000 x w(hour) / W(FY of hour))
So the weights sum to 1 over the fiscal year and an hour's benchmark is an exact integer; the
floors lose less than 1 Wh per hour (under 8,784 Wh a year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from greenbond.meters.model import HOUR_S, JST, UTC, to_utc

REPO_ROOT = Path(__file__).resolve().parents[2]
METHODOLOGY_DIR = REPO_ROOT / "config" / "methodology"
DEFAULT_METHODOLOGY = METHODOLOGY_DIR / "v1.toml"

OFFICE_MODEL_ID = "office-standard-profile"
OFFICE_MODEL_VERSION = 1
STANDARD_KWH_PER_M2_YEAR = 142

# Hour-of-day weights (JST hour 0..23): a working day, and Saturday/Sunday.
WEEKDAY_HOUR_WEIGHTS = (30, 30, 30, 30, 30, 32, 40, 60, 90, 100, 100, 100,
                        90, 100, 100, 100, 100, 95, 80, 60, 45, 38, 33, 30)
WEEKEND_HOUR_WEIGHTS = (30, 30, 30, 30, 30, 30, 30, 32, 35, 38, 40, 40,
                        40, 40, 40, 40, 38, 36, 34, 32, 30, 30, 30, 30)
# Month weights (JST month 1..12): winter heating and summer cooling above spring and autumn.
MONTH_WEIGHTS = {1: 115, 2: 112, 3: 100, 4: 90, 5: 88, 6: 95,
                 7: 115, 8: 125, 9: 110, 10: 92, 11: 95, 12: 108}


class MethodologyError(ValueError):
    """An invalid methodology file or an unknown factor; the message names the field."""


@dataclass(frozen=True)
class GridFactor:
    fiscal_year: int
    grams_per_kwh: int          # g-CO2/kWh = mg/Wh
    final: bool                 # False: provisional, to be restated in a new version
    source: str


@dataclass(frozen=True)
class Methodology:
    label: str
    benchmark_model: str
    benchmark_model_version: int
    primary_energy_factor_kj_per_kwh: int   # = J/Wh
    primary_energy_source: str
    grid_factors: Mapping[int, GridFactor]
    path: str = ""

    def grams_per_kwh(self, fiscal_year_: int) -> int:
        """The grid factor (g/kWh = mg/Wh) of a fiscal year; MethodologyError if none."""
        try:
            return self.grid_factors[fiscal_year_].grams_per_kwh
        except KeyError:
            raise MethodologyError(f"grid_factor: no factor for fiscal year {fiscal_year_} in {self.label}") from None


def _field(table: dict, name: str, kind: type, where: str):
    if name not in table:
        raise MethodologyError(f"{where}.{name}: missing")
    value = table[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise MethodologyError(f"{where}.{name}: must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise MethodologyError(f"{where}.{name}: must be {kind.__name__}, got {value!r}")
    if kind is str and not value.strip():
        raise MethodologyError(f"{where}.{name}: empty")
    return value


def parse_methodology(data: dict, path: str = "") -> Methodology:
    """Validates a parsed methodology TOML; errors name the field (e.g. 'grid_factor[2].grams_per_kwh')."""
    unknown = set(data) - {"methodology", "grid_factor"}
    if unknown:
        raise MethodologyError(f"{', '.join(sorted(unknown))}: unknown table")
    head = data.get("methodology")
    if not isinstance(head, dict):
        raise MethodologyError("methodology: missing table")
    allowed = {"label", "benchmark_model", "benchmark_model_version", "primary_energy_factor_kj_per_kwh",
               "primary_energy_source"}
    extra = set(head) - allowed
    if extra:
        raise MethodologyError(f"methodology.{sorted(extra)[0]}: unknown field")
    label = _field(head, "label", str, "methodology")
    model = _field(head, "benchmark_model", str, "methodology")
    version = _field(head, "benchmark_model_version", int, "methodology")
    if (model, version) not in BENCHMARK_MODELS:
        raise MethodologyError(f"methodology.benchmark_model: unknown model {model!r} version {version}")
    pef = _field(head, "primary_energy_factor_kj_per_kwh", int, "methodology")
    if not 0 < pef < 2**32:
        raise MethodologyError(f"methodology.primary_energy_factor_kj_per_kwh: {pef} outside (0, 2^32)")
    pes = _field(head, "primary_energy_source", str, "methodology")
    rows = data.get("grid_factor")
    if not isinstance(rows, list) or not rows:
        raise MethodologyError("grid_factor: at least one [[grid_factor]] is required")
    factors: dict[int, GridFactor] = {}
    for i, row in enumerate(rows):
        where = f"grid_factor[{i}]"
        extra = set(row) - {"fiscal_year", "grams_per_kwh", "final", "source"}
        if extra:
            raise MethodologyError(f"{where}.{sorted(extra)[0]}: unknown field")
        year = _field(row, "fiscal_year", int, where)
        if not 2000 <= year < 2**16:
            raise MethodologyError(f"{where}.fiscal_year: {year} outside 2000..65535")
        grams = _field(row, "grams_per_kwh", int, where)
        if not 0 < grams < 2**32:
            raise MethodologyError(f"{where}.grams_per_kwh: {grams} outside (0, 2^32)")
        final = _field(row, "final", bool, where)
        source = _field(row, "source", str, where)
        if year in factors:
            raise MethodologyError(f"{where}.fiscal_year: {year} given twice")
        factors[year] = GridFactor(year, grams, final, source)
    return Methodology(label, model, version, pef, pes, factors, path)


def load_methodology(path: str | Path = DEFAULT_METHODOLOGY) -> Methodology:
    """Reads and validates a methodology TOML file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise MethodologyError(f"cannot read the methodology file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MethodologyError(f"{path}: {exc}") from None
    return parse_methodology(data, str(path))


# ---------------------------------------------------------------- calendar


def fiscal_year(instant: dt.datetime) -> int:
    """Japanese fiscal year (April-March, JST) of an aware instant: 2024-03-31 23:30 JST -> 2023,
    2024-04-01 00:00 JST -> 2024."""
    local = to_utc(instant).astimezone(JST)
    return local.year if local.month >= 4 else local.year - 1


def fiscal_year_start(year: int) -> dt.datetime:
    """April 1 00:00 JST of fiscal year `year`, as an aware UTC datetime."""
    return dt.datetime(year, 4, 1, tzinfo=JST).astimezone(UTC)


# ---------------------------------------------------------------- conversions (as the contract)


def energy_reduction_j(reduction_wh: int, m: Methodology) -> int:
    """Primary energy, joules: reduction_Wh x kJ/kWh (may be negative)."""
    return reduction_wh * m.primary_energy_factor_kj_per_kwh


def co2_avoided_mg(reduction_wh: int, m: Methodology, fiscal_year_: int) -> int:
    """CO2, milligrams: reduction_Wh x g/kWh of the fiscal year's grid factor (may be negative)."""
    return reduction_wh * m.grams_per_kwh(fiscal_year_)


# ---------------------------------------------------------------- benchmark: office-standard-profile v1


def is_weekend(local_day: dt.date) -> bool:
    return local_day.weekday() >= 5


def hour_weight(instant: dt.datetime) -> int:
    """Profile weight of the hour containing `instant` (JST hour, weekday/weekend, month)."""
    local = to_utc(instant).astimezone(JST)
    day = WEEKEND_HOUR_WEIGHTS if is_weekend(local.date()) else WEEKDAY_HOUR_WEIGHTS
    return day[local.hour] * MONTH_WEIGHTS[local.month]


@lru_cache(maxsize=64)
def fiscal_year_weight_total(year: int) -> int:
    """W(FY): the sum of hour weights over the fiscal year, month by month:
    sum over months of MONTH_WEIGHTS[m] x (weekdays(m) x sum(WEEKDAY) + weekend days(m) x sum(WEEKEND))."""
    weekday_sum, weekend_sum = sum(WEEKDAY_HOUR_WEIGHTS), sum(WEEKEND_HOUR_WEIGHTS)
    total = 0
    for month_index in range(12):
        month = (month_index + 3) % 12 + 1          # 4..12, 1..3
        cal_year = year if month >= 4 else year + 1
        weekend_days = sum(1 for d in range(1, calendar.monthrange(cal_year, month)[1] + 1)
                           if is_weekend(dt.date(cal_year, month, d)))
        weekdays = calendar.monthrange(cal_year, month)[1] - weekend_days
        total += MONTH_WEIGHTS[month] * (weekdays * weekday_sum + weekend_days * weekend_sum)
    return total


def annual_benchmark_wh(floor_area_m2: int) -> int:
    """floor_area_m2 x 142 kWh/m2/yr, in Wh."""
    return floor_area_m2 * STANDARD_KWH_PER_M2_YEAR * 1000


def benchmark_wh(floor_area_m2: int, hour_start: dt.datetime) -> int:
    """Benchmark consumption of the hour [hour_start, +1 h), Wh:
    floor(floor_area_m2 x 142,000 x w(hour) / W(FY))."""
    if type(floor_area_m2) is not int or floor_area_m2 <= 0:
        raise MethodologyError(f"floor_area_m2: {floor_area_m2!r} must be a positive integer")
    if int(to_utc(hour_start).timestamp()) % HOUR_S:
        raise MethodologyError(f"hour_start {hour_start.isoformat()} is not on the hour")
    return (annual_benchmark_wh(floor_area_m2) * hour_weight(hour_start)) // fiscal_year_weight_total(
        fiscal_year(hour_start))


BENCHMARK_MODELS = {(OFFICE_MODEL_ID, OFFICE_MODEL_VERSION): benchmark_wh}
