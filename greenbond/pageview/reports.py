"""The oracle's report logs as the pages read them: the event topics, ReportAccepted and
AllocationRecorded decoded by hand from raw logs (a year of hourly reports in tens of
milliseconds, no web3 event machinery), GridFactorRecorded through web3's, the reports as numpy
columns with the ones in force marked (`ReportTable`, `effective_reports`), and the roll-ups of
the reports by local day and month."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from eth_utils import keccak, to_checksum_address


HOUR = 3600          # a report covers one hour
DAY = 86_400
REPORT_ACCEPTED_TOPIC = "0x" + keccak(
    text="ReportAccepted(uint32,uint256,uint64,int64,int64,bytes32,uint32,uint32)"
).hex()
GRID_FACTOR_TOPIC = "0x" + keccak(text="GridFactorRecorded(uint32,uint16,uint32,bool,string)").hex()
ALLOCATION_RECORDED_TOPIC = "0x" + keccak(
    text="AllocationRecorded(uint32,address,uint256,uint64,uint256,uint256)"
).hex()


@dataclass(frozen=True, slots=True)
class ReportLog:
    """One ReportAccepted event."""

    facility_id: int
    index: int
    period_start: int
    energy_reduction_j: int
    co2_avoided_mg: int
    readings_root: str
    methodology_version: int
    supersedes: int
    block: int
    tx_hash: str


def _word_int(data: str, i: int, signed: bool = False) -> int:
    v = int(data[2 + 64 * i: 2 + 64 * (i + 1)], 16)
    return v - (1 << 256) if signed and v >> 255 else v


_SIGN = 1 << 255
_WRAP = 1 << 256


def decode_report_accepted(log: dict) -> ReportLog:
    """ReportAccepted(facilityId indexed, index indexed, periodStart indexed, energyReductionJ,
    co2AvoidedMg, readingsRoot, methodologyVersion, supersedes), decoded by hand: the topics and
    32-byte words are parsed straight from their hex (no ABI machinery), a year of hourly reports
    in a few tens of milliseconds."""
    t, data = log["topics"], log["data"]
    e, c = int(data[2:66], 16), int(data[66:130], 16)
    return ReportLog(
        int(t[1], 16), int(t[2], 16), int(t[3], 16),
        e - _WRAP if e >= _SIGN else e, c - _WRAP if c >= _SIGN else c,
        "0x" + data[130:194], int(data[194:258], 16), int(data[258:322], 16),
        int(log["blockNumber"], 16), log["transactionHash"],
    )


@dataclass(frozen=True, slots=True)
class AllocationLog:
    """One AllocationRecorded event: a version of a bond's allocation to a facility."""

    facility_id: int
    bond: str                    # checksummed
    version: int
    effective_from: int
    allocated_proceeds: int
    financed_cost: int
    block: int


def decode_allocation_recorded(log: dict) -> AllocationLog:
    """AllocationRecorded(facilityId indexed, bond indexed, version, effectiveFrom,
    allocatedProceeds, financedCost), decoded by hand like ReportAccepted."""
    t, data = log["topics"], log["data"]
    return AllocationLog(
        int(t[1], 16), to_checksum_address("0x" + t[2][-40:]), _word_int(data, 0), _word_int(data, 1),
        _word_int(data, 2), _word_int(data, 3), int(log["blockNumber"], 16),
    )


class ReportTable:
    """The ReportAccepted logs of a LogCache as numpy columns (facility, index, period start,
    energy, CO2, supersedes), extended with only the logs added since the last call and rebuilt
    when the cache was reset; `effective` is the mask of the reports in force (not superseded)."""

    COLUMNS = ("facility_id", "index", "period_start", "energy_j", "co2_mg", "supersedes")

    def __init__(self):
        self._lock = threading.Lock()
        self._items: list | None = None
        self.n = 0
        self.cols = {c: np.zeros(0, dtype=np.int64) for c in self.COLUMNS}
        self.effective = np.zeros(0, dtype=bool)

    def update(self, items: list) -> "ReportTable":
        with self._lock:
            if items is not self._items or len(items) < self.n:
                self._items, self.n = items, 0
                self.cols = {c: np.zeros(0, dtype=np.int64) for c in self.COLUMNS}
            new = items[self.n:]
            if new or self.effective.shape[0] != self.n:
                if new:
                    add = np.array([(l.facility_id, l.index, l.period_start, l.energy_reduction_j, l.co2_avoided_mg,
                                     l.supersedes) for l in new], dtype=np.int64).reshape(-1, len(self.COLUMNS))
                    self.cols = {c: np.concatenate([self.cols[c], add[:, k]]) for k, c in enumerate(self.COLUMNS)}
                    self.n = len(items)
                f, i, sup = self.cols["facility_id"], self.cols["index"], self.cols["supersedes"]
                key = (f << 32) | i
                gone = (f[sup > 0] << 32) | (sup[sup > 0] - 1)
                self.effective = ~np.isin(key, gone) if gone.size else np.ones(self.n, dtype=bool)
            return self


def effective_reports(logs: Iterable[ReportLog]) -> list[ReportLog]:
    """The reports in force: every report except those a later correction superseded."""
    logs = list(logs)
    superseded = {(l.facility_id, l.supersedes - 1) for l in logs if l.supersedes}
    return [l for l in logs if (l.facility_id, l.index) not in superseded]


def _frame(logs: Sequence[ReportLog]) -> pd.DataFrame:
    return pd.DataFrame({
        "facility_id": [l.facility_id for l in logs],
        "period_start": [l.period_start for l in logs],
        "energy_j": [l.energy_reduction_j for l in logs],
        "co2_mg": [l.co2_avoided_mg for l in logs],
    })


def short_name(name: str) -> str:
    """A facility's name up to its first comma or parenthesis: a chart legend's label."""
    return name.split(",")[0].split(" (")[0].strip() or name


def _rollups(frame: pd.DataFrame, names: dict[int, str], offset_s: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if frame.empty:
        empty = pd.DataFrame(columns=["facility", "short", "day", "energy_mj", "co2_t"])
        return empty, empty.rename(columns={"day": "month"})
    local_day = (frame["period_start"] + offset_s) // DAY
    day = pd.to_datetime(local_day * DAY, unit="s")
    g = frame.assign(day=day).groupby(["facility_id", "day"], as_index=False)[["energy_j", "co2_mg"]].sum()
    short = {f: short_name(n) for f, n in names.items()}
    daily = pd.DataFrame({
        "facility": g["facility_id"].map(names), "short": g["facility_id"].map(short), "day": g["day"],
        "energy_mj": g["energy_j"] / 1e6, "co2_t": g["co2_mg"] / 1e9,
    })
    m = g.assign(month=g["day"].dt.to_period("M").dt.to_timestamp()).groupby(
        ["facility_id", "month"], as_index=False)[["energy_j", "co2_mg"]].sum()
    monthly = pd.DataFrame({
        "facility": m["facility_id"].map(names), "short": m["facility_id"].map(short), "month": m["month"],
        "energy_mj": m["energy_j"] / 1e6, "co2_t": m["co2_mg"] / 1e9,
    })
    return daily, monthly
