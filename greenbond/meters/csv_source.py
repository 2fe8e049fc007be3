"""Meter readings from CSV, as a stream: bad lines become quarantine entries, never exceptions.

Format (UTF-8, comma separated, a header line first; column order free, unknown columns ignored):

    meter_id,interval_start,wh,register,coefficient,unit_code,flags
    KYOSO-MAIN-A,2024-01-05T09:30:00+09:00,41250,,,,
    KYOSO-MAIN-B,2024-01-05T09:30:00+09:00,,12345678,1,0x02,
    SOLAR-PV-1,2024-01-05T09:30:00+09:00,80210,,,,E

    meter_id        required; a configured meter (printable ASCII, at most 32 bytes)
    interval_start  required; ISO 8601 WITH an offset, at :00 or :30 of the hour; the interval is
                    [interval_start, interval_start + 30 min)
    wh              integer Wh over the interval                  -- either this column,
    register        cumulative register (0..99,999,999) at the END of the interval   -- or these
    coefficient     integer >= 1                                                  three (ECHONET
    unit_code       0x00..0x04, 0x0A..0x0D (hex '0x02' or decimal '2')            Lite), see registers.py
    flags           optional: 0..3 (bit 0 estimated, bit 1 edited) or 'E'
Blank lines and lines starting with '#' are skipped. Lines are numbered from 1 (the header).
A line that fails is yielded as a QuarantineEntry whose source is 'csv:<name>:<line>' and whose
raw is the line itself. Register rows go through a RegisterTracker (one per stream), so the
first register row of each meter is a 'register_baseline' entry.

The stream yields RawReading and QuarantineEntry objects in file order; VEE validates them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from greenbond.meters.model import MeterSpec, QuarantineEntry, RawReading
from greenbond.meters.records import parse_record
from greenbond.meters.registers import RegisterSample, RegisterTracker

REQUIRED_COLUMNS = ("meter_id", "interval_start")
KNOWN_COLUMNS = ("meter_id", "interval_start", "wh", "register", "coefficient", "unit_code", "flags")


def read_csv_lines(
    lines: Iterable[str], meters: Mapping[str, MeterSpec], name: str = "<stream>"
) -> Iterator[RawReading | QuarantineEntry]:
    """Parses CSV text lines (header first) into a stream of RawReading / QuarantineEntry."""
    tracker = RegisterTracker({m: spec.max_interval_wh for m, spec in meters.items()})
    header: list[str] | None = None
    for lineno, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        where = f"csv:{name}:{lineno}"
        try:
            cells = next(csv.reader([text]))
        except csv.Error as exc:
            yield QuarantineEntry("", None, text, "parse_error", f"line {lineno}: {exc}", where)
            continue
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                yield QuarantineEntry("", None, text, "parse_error",
                                      f"line {lineno}: header lacks {', '.join(missing)}", where)
                header = None
            continue
        if len(cells) != len(header):
            yield QuarantineEntry(cells[0].strip() if cells else "", None, text, "parse_error",
                                  f"line {lineno}: {len(cells)} cells, header has {len(header)}", where)
            continue
        item = parse_record(dict(zip(header, cells)), meters, where, text)
        if isinstance(item, QuarantineEntry):
            yield QuarantineEntry(item.meter_id, item.interval_start, item.raw, item.reason,
                                  f"line {lineno}: {item.detail}", item.source)
        elif isinstance(item, RegisterSample):
            yield from tracker.feed(item)
        else:
            yield item


def read_csv(path: str | Path, meters: Mapping[str, MeterSpec]) -> Iterator[RawReading | QuarantineEntry]:
    """Streams a CSV file (see module doc); the file is read line by line, never whole."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        yield from read_csv_lines(handle, meters, path.name)
