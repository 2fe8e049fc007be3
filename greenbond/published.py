"""Published readings: the raw readings behind each hourly report, as files an investor can fetch
and check against the Merkle root on chain without the operator's private feeder database.

Layout (one file per facility and LOCAL day of the bond's time zone, `terms.timezone` of the
default bond config, Asia/Tokyo: a day is 00:00-24:00 Japan time, the calendar the bond's pages
and the feeder's `--from/--to` dates use; the zone is written in every file and index):

    <dir>/facility-<id>/<YYYY-MM-DD>.json     the day's reported hours and their readings
    <dir>/facility-<id>/index.json            day -> file, sha256 of the file, hours, roots

Day file (JSON, UTF-8, ASCII only, keys sorted, indent 1, one final newline: the same content
always gives the same bytes, so its sha256 is stable and `sha256sum` of the downloaded file
must equal the index's `sha256`):

    format "greenbond-published-readings", version 1, facility_id, facility (name, if known),
    day, timezone, day_start_utc / day_end_utc, chain_id and oracle (the chain the roots are
    on, if the feeder database knows it), methodology_version (when every hour has the same),
    leaf (how a leaf is computed), and "hours": one entry per hour whose report is confirmed on
    chain, in time order:
        period_start (unix), period_start_utc (ISO 8601, Z), readings_root (0x hex: the root of
        the report in force on chain, the root these readings must hash to), report_index (the
        report's index on chain, null if the feeder does not know it yet), methodology_version,
        reading_count, readings: [{meter_id, interval_start (unix), interval_start_utc, wh,
        flags}] in the report's leaf order.

A leaf is IImpactOracle.readingLeaf: keccak256(keccak256(abi.encode(uint32 facilityId,
bytes32 meterId (ASCII, right-padded with zeros), uint64 intervalStart, uint64 wh, uint8
flags))); the tree is OpenZeppelin's StandardMerkleTree (greenbond/merkle.py). Readings carry
no personal data: a meter id, an interval, energy in Wh and the estimated/edited flags (the
feeder's `source` column, which may name operator files, is not published).

Index (`index.json`, same canonical JSON): format "greenbond-published-readings-index",
version 1, facility_id, facility, timezone, and "days": {"YYYY-MM-DD": {file, sha256, hours
(count), roots {"<period_start unix>": "0x..."}}}. A reader (PublishedReadings) refuses a
file whose sha256 is not the index's, and readings that do not hash to the file's root.

Writer: `publish(store, out_dir, facility_ids=None, since=None)` writes only hours whose
report is confirmed on chain with the root of the stored readings (an hour restated by a
correction not yet confirmed waits), atomically (temporary file, fsync, rename; the index
last) and idempotently (a day's file is rewritten only when its bytes change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from greenbond.meters.model import MeterDataError, Reading, from_unix

FORMAT = "greenbond-published-readings"
INDEX_FORMAT = "greenbond-published-readings-index"
VERSION = 1
HOUR = 3600
LEAF_TEXT = ("keccak256(keccak256(abi.encode(uint32 facilityId, bytes32 meterId, uint64 intervalStart, "
             "uint64 wh, uint8 flags))); meterId is the meter id's ASCII right-padded with zeros; "
             "OpenZeppelin StandardMerkleTree (sorted leaves, sorted pairs)")


class PublishedError(ValueError):
    """Published readings that cannot be used; the message is a sentence for a person."""


class NotPublished(PublishedError):
    """The hour (or the facility) has no published readings."""


class PublishedFormatError(PublishedError):
    """A file that is not a published readings file of a version this code reads."""


class PublishedMismatch(PublishedError):
    """A published file changed since it was indexed, or its readings do not hash to its root."""


class PublishError(RuntimeError):
    """The writer cannot write the output folder; a sentence for a person."""


# ---------------------------------------------------------------- shared helpers


def default_timezone() -> str:
    """The bond's time zone (terms.timezone of the default bond config)."""
    from greenbond.config import DEFAULT_BOND_CONFIG, load_terms

    try:
        return load_terms(DEFAULT_BOND_CONFIG).timezone
    except Exception:  # noqa: BLE001 -- a broken bond config must not stop publishing: Japan's calendar
        return "Asia/Tokyo"


def canonical_bytes(obj) -> bytes:
    """The one byte form of a published JSON document (sorted keys, ASCII, indent 1, newline)."""
    return (json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _iso(ts: int) -> str:
    return from_unix(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def facility_dir(root: str | Path, facility_id: int) -> Path:
    return Path(root) / f"facility-{int(facility_id)}"


def day_of(ts: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def merkle_root_hex(readings: list[Reading]) -> str:
    from greenbond.merkle import MerkleTree

    return "0x" + MerkleTree.of_readings(readings).root.hex()


# ---------------------------------------------------------------- the model of a day file


@dataclass
class PublishedHour:
    """One hour of a day file: the root it must hash to and its readings (leaf order)."""

    facility_id: int
    period_start: int
    readings_root: str                 # 0x hex, as the file says
    readings: list[Reading]
    report_index: int | None = None
    methodology_version: int | None = None
    # where it came from (set by PublishedReadings; an uploaded file has only sha256)
    file: str = ""                     # e.g. "facility-1/2024-01-05.json"
    path: str = ""                     # absolute path of the file, "" for an upload
    sha256: str = ""                   # sha256 of the file's bytes
    index_sha256: str = ""             # what index.json says it should be ("" when no index)
    chain_id: int | None = None        # the chain and oracle the file says its roots are on
    oracle: str | None = None

    @property
    def computed_root(self) -> str:
        return merkle_root_hex(self.readings) if self.readings else ""

    @property
    def root_matches(self) -> bool:
        return bool(self.readings) and self.computed_root == self.readings_root.lower()

    @property
    def sha256_matches(self) -> bool:
        return not self.index_sha256 or self.index_sha256 == self.sha256

    def problems(self) -> list[str]:
        out = []
        if not self.sha256_matches:
            out.append(f"the published file {self.file} has sha256 {self.sha256}, but its index says "
                       f"{self.index_sha256}: the file changed after it was published")
        if not self.readings:
            out.append(f"the file lists no readings for the hour starting {_iso(self.period_start)}")
        elif not self.root_matches:
            out.append(f"the readings in {self.file or 'the file'} for the hour starting {_iso(self.period_start)} "
                       f"hash to {self.computed_root}, not to the root the file gives ({self.readings_root})")
        return out


@dataclass
class DayFile:
    facility_id: int
    facility: str
    day: str
    timezone: str
    hours: list[PublishedHour]
    sha256: str
    chain_id: int | None = None
    oracle: str | None = None
    methodology_version: int | None = None

    def hour(self, period_start: int) -> PublishedHour | None:
        return next((h for h in self.hours if h.period_start == int(period_start)), None)

    @property
    def period_starts(self) -> list[int]:
        return [h.period_start for h in self.hours]


def _need(obj: dict, key: str, kind, where: str):
    if not isinstance(obj, dict) or key not in obj:
        raise PublishedFormatError(f"{where}: the field {key!r} is missing")
    value = obj[key]
    ok = (isinstance(value, int) and not isinstance(value, bool)) if kind is int else isinstance(value, kind)
    if not ok:
        raise PublishedFormatError(f"{where}: the field {key!r} must be {'an integer' if kind is int else 'a ' + kind.__name__}")
    return value


def _root_text(value: str, where: str) -> str:
    text = value.lower()
    if not (text.startswith("0x") and len(text) == 66 and all(c in "0123456789abcdef" for c in text[2:])):
        raise PublishedFormatError(f"{where}: readings_root {value!r} is not a 32-byte 0x hex value")
    return text


def load_day_file(data: bytes, name: str = "the file") -> DayFile:
    """A day file's bytes (e.g. a visitor's upload) -> DayFile. Checks the structure and every
    reading (a valid Reading of the file's facility, inside its hour); does NOT check the roots
    (`PublishedHour.root_matches`, or the chain, say whether the readings are the reported ones).
    A file that is not one is a PublishedFormatError sentence naming `name`."""
    if not isinstance(data, (bytes, bytearray)):
        raise PublishedFormatError(f"{name}: expected the file's bytes")
    if not data.strip():
        raise PublishedFormatError(f"{name} is empty")
    try:
        doc = json.loads(bytes(data).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise PublishedFormatError(f"{name} is not a JSON file (a published readings file is JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PublishedFormatError(f"{name} is not a published readings file (its format is not {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise PublishedFormatError(f"{name} is version {doc.get('version')!r} of the published readings format; "
                                   f"this page reads version {VERSION}")
    fid = _need(doc, "facility_id", int, name)
    day = _need(doc, "day", str, name)
    tzname = _need(doc, "timezone", str, name)
    hours_in = _need(doc, "hours", list, name)
    hours = []
    for k, h in enumerate(hours_in):
        where = f"{name}, hour #{k + 1}"
        start = _need(h, "period_start", int, where)
        if start % HOUR:
            raise PublishedFormatError(f"{where}: period_start {start} is not the start of an hour")
        root = _root_text(_need(h, "readings_root", str, where), where)
        rows = _need(h, "readings", list, where)
        readings = []
        for j, r in enumerate(rows):
            rwhere = f"{where}, reading #{j + 1}"
            ts = _need(r, "interval_start", int, rwhere)
            if not start <= ts < start + HOUR:
                raise PublishedFormatError(f"{rwhere}: its interval {_iso(ts) if ts >= 0 else ts} is not in the hour "
                                           f"starting {_iso(start)}")
            try:
                readings.append(Reading(fid, _need(r, "meter_id", str, rwhere), from_unix(ts),
                                        _need(r, "wh", int, rwhere), _need(r, "flags", int, rwhere)))
            except MeterDataError as exc:
                raise PublishedFormatError(f"{rwhere}: {exc}") from None
        idx = h.get("report_index")
        mver = h.get("methodology_version")
        hours.append(PublishedHour(fid, start, root, readings,
                                   idx if isinstance(idx, int) and not isinstance(idx, bool) else None,
                                   mver if isinstance(mver, int) and not isinstance(mver, bool) else None))
    chain_id, oracle = doc.get("chain_id"), doc.get("oracle")
    chain_id = chain_id if isinstance(chain_id, int) and not isinstance(chain_id, bool) else None
    oracle = oracle if isinstance(oracle, str) else None
    for h in hours:
        h.chain_id, h.oracle = chain_id, oracle
    return DayFile(fid, str(doc.get("facility") or ""), day, tzname, hours, sha256_hex(bytes(data)),
                   chain_id, oracle,
                   doc.get("methodology_version") if isinstance(doc.get("methodology_version"), int) else None)


# ---------------------------------------------------------------- the reader


class PublishedReadings:
    """The published readings of a folder, as a `greenbond.pageview.ReadingSource`:
    `readings(facility_id, period_start)` returns an hour's readings only after checking that
    the day file is the one indexed (sha256) and that they hash to the root the file gives
    (else PublishedMismatch); `hour(...)` returns them with where they came from."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._indexes: dict[int, tuple[tuple[int, int], dict]] = {}

    def index(self, facility_id: int) -> dict:
        """facility-<id>/index.json, parsed (re-read when the file changes)."""
        path = facility_dir(self.directory, facility_id) / "index.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            if not self.directory.is_dir():
                raise NotPublished(f"There are no published readings at {self.directory}: the operator publishes "
                                   "them with `python -m greenbond feeder publish --out DIR` (set "
                                   "GREENBOND_PUBLISHED_DIR where the page is served).") from None
            raise NotPublished(f"No readings of facility {facility_id} are published in {self.directory}.") from None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._indexes.get(facility_id)
        if cached and cached[0] == key:
            return cached[1]
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise PublishedFormatError(f"The index of facility {facility_id}'s published readings ({path}) cannot be "
                                       "read as JSON.") from None
        if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT or not isinstance(doc.get("days"), dict):
            raise PublishedFormatError(f"{path} is not an index of published readings.")
        self._indexes[facility_id] = (key, doc)
        return doc

    def locate(self, facility_id: int, period_start: int) -> tuple[str, dict]:
        """(day, the index's entry) of the day file holding the hour."""
        days = self.index(facility_id)["days"]
        key = str(int(period_start))
        for day, entry in days.items():
            if key in (entry.get("roots") or {}):
                return day, entry
        tz = self.index(facility_id).get("timezone") or "UTC"
        when = dt.datetime.fromtimestamp(int(period_start), ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
        raise NotPublished(f"The readings of facility {facility_id} for the hour starting {when} ({tz}) are not "
                           f"published in {self.directory} yet (the operator publishes an hour once its report is "
                           "confirmed on chain).")

    def hour(self, facility_id: int, period_start: int, *, strict: bool = True) -> PublishedHour:
        """The hour's published readings and their provenance. strict: a file whose sha256 is
        not the index's, or readings that do not hash to the file's root, raise
        PublishedMismatch; not strict, they are returned and `problems()` says what is wrong."""
        day, entry = self.locate(facility_id, period_start)
        name = str(entry.get("file") or f"{day}.json")
        if "/" in name or "\\" in name or name.startswith("."):
            raise PublishedFormatError(f"The index of facility {facility_id} names an unsafe file {name!r}.")
        path = facility_dir(self.directory, facility_id) / name
        try:
            data = path.read_bytes()
        except OSError:
            raise NotPublished(f"The index lists {path}, but the file cannot be read.") from None
        rel = f"facility-{int(facility_id)}/{name}"
        digest = sha256_hex(data)
        want = str(entry.get("sha256") or "")
        if strict and want != digest:
            raise PublishedMismatch(f"The published file {rel} has changed since it was published: its sha256 is "
                                    f"{digest}, the index says {want}.")
        dayfile = load_day_file(data, rel)
        if dayfile.facility_id != int(facility_id):
            raise PublishedMismatch(f"The published file {rel} is facility {dayfile.facility_id}'s, not "
                                    f"facility {facility_id}'s.")
        h = dayfile.hour(period_start)
        if h is None:
            raise PublishedMismatch(f"The index says {rel} holds the hour starting {_iso(period_start)}, "
                                    "but the file does not.")
        h.file, h.path, h.sha256, h.index_sha256 = rel, str(path.resolve()), digest, want
        if strict and not h.root_matches:
            raise PublishedMismatch(h.problems()[-1][0].upper() + h.problems()[-1][1:] + ".")
        return h

    def day_file(self, facility_id: int, period_start: int) -> DayFile:
        day, entry = self.locate(facility_id, period_start)
        path = facility_dir(self.directory, facility_id) / str(entry.get("file") or f"{day}.json")
        return load_day_file(path.read_bytes(), path.name)

    def readings(self, facility_id: int, period_start: int) -> list[Reading]:
        return list(self.hour(facility_id, period_start, strict=True).readings)


# ---------------------------------------------------------------- the writer


@dataclass
class PublishSummary:
    facilities: int = 0
    days_written: int = 0          # new or changed day files
    days_unchanged: int = 0
    days_removed: int = 0          # a day none of whose hours is confirmed any more
    hours_published: int = 0       # hours in the day files written or unchanged
    readings: int = 0
    hours_waiting: int = 0         # stored hours not (yet) confirmed on chain with their root
    out_dir: str = ""
    files: list[str] = field(default_factory=list)   # the day files written (relative)

    @property
    def text(self) -> str:
        removed = f", {self.days_removed} removed" if self.days_removed else ""
        return (f"published {self.hours_published:,} confirmed hour(s) ({self.readings:,} readings) of "
                f"{self.facilities} facilit{'y' if self.facilities == 1 else 'ies'} to {self.out_dir}: "
                f"{self.days_written} day file(s) written, {self.days_unchanged} unchanged{removed}; "
                f"{self.hours_waiting:,} hour(s) not confirmed on chain yet")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _parse_chain(meta: str | None) -> tuple[int | None, str | None]:
    if not meta or ":" not in meta:
        return None, None
    cid, oracle = meta.split(":", 1)
    try:
        return int(cid), oracle
    except ValueError:
        return None, None


def _since_date(since) -> dt.date | None:
    if since is None or since == "":
        return None
    if isinstance(since, dt.date):
        return since
    try:
        return dt.date.fromisoformat(str(since))
    except ValueError:
        raise PublishError(f"{since!r} is not a day (write YYYY-MM-DD)") from None


def _facility_names() -> dict[int, str]:
    try:
        from greenbond.impact.facilities import load_facilities

        return {f.facility_id: f.name for f in load_facilities()}
    except Exception:  # noqa: BLE001 -- names are a courtesy; the ids are what counts
        return {}


def prepare_out_dir(out_dir: str | Path) -> Path:
    """The output folder, created if missing and known to be writable (else a PublishError)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe_fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(probe_fd)
        os.unlink(probe)
    except OSError as exc:
        raise PublishError(f"cannot write the published readings to {out}: {exc.strerror or exc}") from None
    return out


def publish(store, out_dir: str | Path, facility_ids: Iterable[int] | None = None, since=None, *,
            timezone: str | None = None, names: dict[int, str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> PublishSummary:
    """Writes the confirmed hours of a FeederStore (read-only is enough) to `out_dir` as day
    files and an index per facility (module doc). `since`: a local day (date or 'YYYY-MM-DD'):
    days before it are left as they are. Returns the counts; `progress(done, total)` per day."""
    tz_name = timezone or default_timezone()
    tz = ZoneInfo(tz_name)
    out = prepare_out_dir(out_dir)
    summary = PublishSummary(out_dir=str(out))
    since_day = _since_date(since)
    since_ts = None
    if since_day is not None:
        since_ts = int(dt.datetime.combine(since_day, dt.time(0), tz).timestamp())
    chain_id, oracle = _parse_chain(store.get_meta("chain"))
    names = _facility_names() if names is None else names

    # the report in force per hour, as far as the store knows: its newest confirmed entry
    in_force: dict[tuple[int, int], object] = {}
    for e in store.entries("confirmed"):
        k = (e.facility_id, e.period_start)
        if k not in in_force or e.id > in_force[k].id:
            in_force[k] = e
    stored_fids = sorted(set(store.status()["facilities"]) | {k[0] for k in in_force})
    fids = sorted(set(int(f) for f in facility_ids)) if facility_ids is not None else stored_fids

    plans = []   # (fid, day, [hour rows], day rows)
    for fid in fids:
        days: dict[dt.date, list] = {}
        for row in store.hours(fid, since_ts, None):
            days.setdefault(day_of(row.period_start, tz), []).append(row)
        plans.append((fid, days))
    total = sum(len(d) for _, d in plans)
    done = 0
    for fid, days in plans:
        fdir = facility_dir(out, fid)
        index_path = fdir / "index.json"
        index = None
        if index_path.exists():
            try:
                index = json.loads(index_path.read_text("utf-8"))
            except (OSError, ValueError):
                index = None
            if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT or not isinstance(index.get("days"), dict):
                index = None   # not ours or broken: rebuilt from the days published now (and those on disk)
        if index is None:
            index = {"format": INDEX_FORMAT, "version": VERSION, "days": {}}
        before = canonical_bytes(index)
        index.update({"facility_id": fid, "facility": names.get(fid, index.get("facility", "")), "timezone": tz_name})
        for day in sorted(days):
            hours_out = []
            for row in days[day]:
                entry = in_force.get((fid, row.period_start))
                root = "0x" + bytes(row.readings_root).hex()
                if entry is None or str(entry.report.get("readingsRoot", "")).lower() != root:
                    summary.hours_waiting += 1      # not confirmed, or a restatement not confirmed yet
                    continue
                readings = store.readings(fid, row.period_start)
                if not readings or merkle_root_hex(readings) != root:
                    summary.hours_waiting += 1      # cannot happen for a consistent store: never publish it
                    continue
                hours_out.append({
                    "period_start": row.period_start, "period_start_utc": _iso(row.period_start),
                    "readings_root": root, "report_index": entry.report_index,
                    "methodology_version": row.methodology_version, "reading_count": len(readings),
                    "readings": [{"meter_id": r.meter_id, "interval_start": r.ts, "interval_start_utc": _iso(r.ts),
                                  "wh": r.wh, "flags": r.flags} for r in readings],
                })
            name = f"{day.isoformat()}.json"
            path = fdir / name
            done += 1
            if not hours_out:
                if day.isoformat() in index["days"]:
                    index["days"].pop(day.isoformat())
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        pass
                    summary.days_removed += 1
                if progress:
                    progress(done, total)
                continue
            versions = {h["methodology_version"] for h in hours_out}
            start = int(dt.datetime.combine(day, dt.time(0), tz).timestamp())
            end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).timestamp())
            doc = {
                "format": FORMAT, "version": VERSION, "facility_id": fid, "facility": names.get(fid, ""),
                "day": day.isoformat(), "timezone": tz_name, "day_start_utc": _iso(start), "day_end_utc": _iso(end),
                "chain_id": chain_id, "oracle": oracle,
                "methodology_version": versions.pop() if len(versions) == 1 else None,
                "leaf": LEAF_TEXT, "hours": hours_out,
            }
            data = canonical_bytes(doc)
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            if same:
                summary.days_unchanged += 1
            else:
                try:
                    fdir.mkdir(exist_ok=True)
                    _atomic_write(path, data)
                except OSError as exc:
                    raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
                summary.days_written += 1
                summary.files.append(f"facility-{fid}/{name}")
            summary.hours_published += len(hours_out)
            summary.readings += sum(len(h["readings"]) for h in hours_out)
            index["days"][day.isoformat()] = {
                "file": name, "sha256": sha256_hex(data), "hours": len(hours_out),
                "roots": {str(h["period_start"]): h["readings_root"] for h in hours_out},
            }
            if progress:
                progress(done, total)
        after = canonical_bytes(index)
        summary.facilities += 1 if index["days"] else 0
        if (index["days"] or index_path.exists()) and (after != before or not index_path.exists()):
            try:   # the index last: a reader never sees it name a file not written yet
                fdir.mkdir(exist_ok=True)
                _atomic_write(index_path, after)
            except OSError as exc:
                raise PublishError(f"cannot write {index_path}: {exc.strerror or exc}") from None
    return summary
