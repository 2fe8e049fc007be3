"""Meter readings from CSV, as a stream: bad lines become quarantine entries, never exceptions.

Format (a header line first; column order free, unknown columns ignored):

    meter_id,interval_start,wh,register,coefficient,unit_code,flags
    KYOSO-MAIN-A,2024-01-05T09:30:00+09:00,41250,,,,
    KYOSO-MAIN-B,2024-01-05T09:30:00+09:00,,12345678,1,0x02,
    SOLAR-PV-1,2024-01-05 09:30 JST,80210,,,,E

    meter_id        required; a configured meter (printable ASCII, at most 32 bytes)
    interval_start  required; a time WITH its zone, at :00 or :30 of the hour; the interval is
                    [interval_start, interval_start + 30 min). ISO 8601 with an offset
                    (2024-01-05T09:30:00+09:00, ...Z), or '2024-01-05 09:30 JST' / '2024/1/5 9:30 UTC'
                    (zone suffixes JST, UTC, Z; see model.parse_instant). No zone: refused.
    wh              integer Wh over the interval                  -- either this column,
    register        cumulative register (0..99,999,999) at the END of the interval   -- or these
    coefficient     integer >= 1                                                  three (ECHONET
    unit_code       0x00..0x04, 0x0A..0x0D (hex '0x02' or decimal '2')            Lite), see registers.py
    flags           optional: 0..3 (bit 0 estimated, bit 1 edited) or 'E'

Files as operators receive them (`read_csv`, `scan_csv`):
    encoding        UTF-8 with or without a BOM (Excel's "CSV UTF-8"), or CP932 (Shift_JIS as Windows
                    writes it, the usual Japanese export). 'auto' picks UTF-8 if every byte of the file
                    decodes as UTF-8, else CP932; or force one (ENCODINGS). UTF-16 is refused.
    delimiter       ',' or ';' (Excel in locales with a decimal comma), detected from the header line.
    line ends       LF or CRLF.
    header names    the names above (any case, surrounding blanks ignored), or the Japanese ones of
                    HEADER_ALIASES (メーターID, 計測開始, 電力量(Wh), ...; full-width letters and brackets
                    are the same as ASCII ones). A header must name meter_id, interval_start and wh
                    (or register, coefficient and unit_code).
Blank lines and lines starting with '#' are skipped. Lines are numbered from 1 (the first line of
the file, whatever it holds).

Two ways to read:
  read_csv / read_csv_lines  a stream: a line that fails is yielded as a QuarantineEntry whose
                    source is 'csv:<name>:<line>' and whose raw is the line itself, so VEE and the
                    quarantine see it; a header that fails is a quarantine entry too.
  scan_csv          the whole file checked before anything is ingested, so that a file is either
                    read or refused in ONE line naming the file, the line and the problem
                    (CsvFileError): undecodable bytes, no usable header, no rows, and (unless told to
                    skip them) a line that cannot be parsed. It counts rows and the rows the source
                    already rejects (unknown meter, misaligned, register baseline) per reason.
Register rows go through a RegisterTracker (one per stream), so the first register row of each
meter is a 'register_baseline' entry.

The stream yields RawReading and QuarantineEntry objects in file order; VEE validates them.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from greenbond.meters.model import REASONS, MeterSpec, QuarantineEntry, RawReading
from greenbond.meters.records import parse_record
from greenbond.meters.registers import RegisterSample, RegisterTracker

REQUIRED_COLUMNS = ("meter_id", "interval_start")
KNOWN_COLUMNS = ("meter_id", "interval_start", "wh", "register", "coefficient", "unit_code", "flags")
REGISTER_COLUMNS = ("register", "coefficient", "unit_code")

# Japanese column names as meter exports write them -> our names. A small, fixed set: a name is
# only taken when its meaning (and for energy, its unit) is unambiguous. Compared after NFKC
# normalisation and lower-casing, so 'メーターＩＤ' and '電力量（Ｗｈ）' match too.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "meter_id": ("メーターID", "メータID", "計器ID"),
    "interval_start": ("計測開始", "計測開始日時", "開始日時"),
    "wh": ("電力量(Wh)", "使用電力量(Wh)", "発電量(Wh)"),
    "register": ("積算電力量計測値", "積算値"),
    "coefficient": ("係数",),
    "unit_code": ("積算電力量単位", "単位"),
    "flags": ("フラグ",),
}

# --encoding values. 'utf-8' takes a file with or without a BOM; 'cp932' is what Windows (and so
# most Japanese exports) calls Shift_JIS: Shift_JIS plus NEC/IBM extensions, a superset.
ENCODINGS = ("auto", "utf-8", "cp932")
ENCODING_NAMES = {"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "cp932": "cp932",
                  "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "ms932": "cp932",
                  "windows-31j": "cp932"}
DELIMITERS = (",", ";")

_BOM = codecs.BOM_UTF8
_LINE_SOURCE = re.compile(r"csv:(.+):(\d+)(?:;.*)?")


def _canonical(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


_ALIAS = {_canonical(n): n for n in KNOWN_COLUMNS}
_ALIAS.update({_canonical(alias): n for n, aliases in HEADER_ALIASES.items() for alias in aliases})


class CsvFileError(ValueError):
    """A meter file that cannot be read as a whole. The message is one line that names the file,
    the line (when there is one) and the problem: what an operator needs to fix it. `bad_line`:
    a data line that cannot be parsed (the kind of line a lenient read would quarantine)."""

    def __init__(self, message: str, bad_line: bool = False):
        super().__init__(message)
        self.bad_line = bad_line


def encoding_name(value: str) -> str:
    """An --encoding value (any usual spelling) -> one of ENCODINGS."""
    name = ENCODING_NAMES.get(value.strip().lower())
    if name is None:
        raise ValueError(f"encoding {value!r}: use auto, utf-8 or cp932 (shift_jis)")
    return name


def encoding_label(encoding: str, bom: bool = False) -> str:
    return {"utf-8": "UTF-8 with BOM" if bom else "UTF-8", "cp932": "CP932"}.get(encoding, encoding)


def detect_encoding(path: str | Path) -> tuple[str, bool]:
    """(encoding, has BOM) of a file: UTF-8 if it starts with a UTF-8 BOM or if all of it decodes
    as UTF-8 (streamed, 1 MB at a time), else CP932. Japanese text in one is almost never valid in
    the other, and pure ASCII is the same in both. UTF-16 (Excel's "Unicode text") is refused."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(3)
            if head.startswith(_BOM):
                return "utf-8", True
            if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                raise CsvFileError(f"{path.name} line 1: UTF-16 text (Excel's 'Unicode text'): save it as "
                                   "'CSV UTF-8' or CSV, or convert it to UTF-8")
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")("strict")
            try:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return "cp932", False
    except OSError as exc:
        raise CsvFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    return "utf-8", False


def decoded_lines(path: str | Path, encoding: str = "auto", digest=None, *,
                  detected: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) of a file, decoded line by line (never whole).
    Lines are split on LF: neither UTF-8 nor CP932 ever has that byte inside a character, and a
    CRLF line loses its CR. A line that does not decode is a CsvFileError naming it. `digest`
    (a hashlib object) is fed every byte of the file; `detected`: the encoding was detected, not
    given (for the error message)."""
    path = Path(path)
    encoding = encoding_name(encoding)
    auto = detected or encoding == "auto"
    if encoding == "auto":
        encoding, _ = detect_encoding(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CsvFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            if digest is not None:
                digest.update(raw)
            if lineno == 1 and encoding == "utf-8" and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                what = ("neither UTF-8 nor CP932 (Shift_JIS): give --encoding if you know it"
                        if auto else f"not valid {encoding_label(encoding)} (--encoding {encoding})")
                raise CsvFileError(f"{path.name} line {lineno}: byte {exc.start + 1} of the line is {what}") from None
            yield lineno, text.rstrip("\r\n")


def _header(cells: list[str], lineno: int) -> tuple[list[str] | None, str]:
    """Our column names for a header line's cells (None where unknown), or None and what is wrong."""
    names = [_ALIAS.get(_canonical(cell.lstrip("\ufeff"))) for cell in cells]
    seen = Counter(n for n in names if n)
    twice = [n for n, c in seen.items() if c > 1]
    if twice:
        both = ", ".join(c.strip() for c, n in zip(cells, names) if n == twice[0])
        return None, f"line {lineno}: two columns mean {twice[0]} ({both})"
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        return None, f"line {lineno}: header lacks {', '.join(missing)}"
    if "wh" not in seen and not all(c in seen for c in REGISTER_COLUMNS):
        return None, f"line {lineno}: header lacks wh (or register, coefficient and unit_code)"
    return names, ""


def _split(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter))


def _find_header(text: str, lineno: int) -> tuple[list[str] | None, str, str]:
    """(column names, delimiter, problem) of a header line: ',' unless only ';' makes a header."""
    problem = ""
    for delimiter in DELIMITERS:
        try:
            names, why = _header(_split(text, delimiter), lineno)
        except csv.Error as exc:
            names, why = None, f"line {lineno}: {exc}"
        if names is not None:
            return names, delimiter, ""
        problem = problem or why
    return None, ",", problem


class _Reader:
    """The line -> record machinery shared by the stream and the scan. strict: a header or line
    that fails raises CsvFileError instead of becoming a quarantine entry."""

    def __init__(self, meters: Mapping[str, MeterSpec], name: str, strict: bool = False):
        self.meters = meters
        self.name = name
        self.strict = strict
        self.tracker = RegisterTracker({m: spec.max_interval_wh for m, spec in meters.items()})
        self.header: list[str | None] | None = None
        self.header_line = 0
        self.delimiter = ","
        self.rows = 0            # data lines after the header

    def _fail(self, meter_id: str, text: str, detail: str, where: str) -> QuarantineEntry:
        if self.strict:
            raise CsvFileError(f"{self.name} {detail}", bad_line=self.header is not None)
        return QuarantineEntry(meter_id, None, text, "parse_error", detail, where)

    def items(self, lines: Iterable[tuple[int, str]]) -> Iterator[RawReading | QuarantineEntry]:
        for lineno, text in lines:
            if not text.strip() or text.lstrip("\ufeff").lstrip().startswith("#"):
                continue
            where = f"csv:{self.name}:{lineno}"
            if "\r" in text:
                yield self._fail("", text, f"line {lineno}: a carriage return inside the line (old Mac line "
                                           "ends?): save the file with LF or CRLF line ends", where)
                continue
            if self.header is None:
                names, delimiter, problem = _find_header(text, lineno)
                if names is None:
                    yield self._fail("", text, problem, where)
                    continue
                self.header, self.delimiter, self.header_line = names, delimiter, lineno
                continue
            self.rows += 1
            try:
                cells = _split(text, self.delimiter)
            except csv.Error as exc:
                yield self._fail("", text, f"line {lineno}: {exc}", where)
                continue
            if len(cells) != len(self.header):
                yield self._fail(cells[0].strip() if cells else "", text,
                                 f"line {lineno}: {len(cells)} cells, header has {len(self.header)}"
                                 f"{'' if self.delimiter == ',' else ' (separated by ;)'}", where)
                continue
            fields = {n: c for n, c in zip(self.header, cells) if n is not None}
            item = parse_record(fields, self.meters, where, text)
            if isinstance(item, QuarantineEntry):
                if item.reason == "parse_error" and self.strict:
                    raise CsvFileError(f"{self.name} line {lineno}: {item.detail}", bad_line=True)
                yield QuarantineEntry(item.meter_id, item.interval_start, item.raw, item.reason,
                                      f"line {lineno}: {item.detail}", item.source)
            elif isinstance(item, RegisterSample):
                yield from self.tracker.feed(item)
            else:
                yield item


def read_csv_lines(
    lines: Iterable[str], meters: Mapping[str, MeterSpec], name: str = "<stream>"
) -> Iterator[RawReading | QuarantineEntry]:
    """Parses CSV text lines (header first) into a stream of RawReading / QuarantineEntry."""
    numbered = ((lineno, line.rstrip("\r\n")) for lineno, line in enumerate(lines, start=1))
    yield from _Reader(meters, name).items(numbered)


def read_csv(path: str | Path, meters: Mapping[str, MeterSpec],
             encoding: str = "auto") -> Iterator[RawReading | QuarantineEntry]:
    """Streams a CSV file (see module doc); the file is read line by line, never whole. Bytes
    that do not decode are a CsvFileError (`scan_csv` first to refuse such a file up front)."""
    path = Path(path)
    yield from _Reader(meters, path.name).items(decoded_lines(path, encoding))


# ---------------------------------------------------------------- counting rejected rows


def line_of(source: str, name: str) -> int | None:
    """The line of file `name` a quarantine entry's source points at ('csv:<name>:<line>', maybe
    with ';rollover'), else None."""
    m = _LINE_SOURCE.fullmatch(source)
    return int(m[2]) if m and m[1] == name else None


_REASON_CODES = list(REASONS)


@dataclass
class RowTally:
    """The rejected rows of one file by reason. A row counts once, under the first reason it got
    (a register row can make several values); the few most frequent meter ids are named per reason.
    Memory: a byte per line of the file, and at most MAX_METERS ids per reason."""

    name: str
    by_reason: Counter = field(default_factory=Counter)
    meters: dict = field(default_factory=dict)       # reason -> Counter of meter ids (bounded)
    others: Counter = field(default_factory=Counter)  # reason -> rows of meters not named
    _reason_of: bytearray = field(default_factory=bytearray, repr=False)

    MAX_METERS = 5

    def reject(self, line: int, reason: str, meter_id: str) -> None:
        if line >= len(self._reason_of):
            self._reason_of.extend(bytes(max(line + 1 - len(self._reason_of), len(self._reason_of))))
        if self._reason_of[line]:
            return
        self._reason_of[line] = _REASON_CODES.index(reason) + 1
        self.by_reason[reason] += 1
        ids = self.meters.setdefault(reason, Counter())
        if meter_id in ids or len(ids) < self.MAX_METERS:
            ids[meter_id] += 1
        else:
            self.others[reason] += 1

    def reject_entry(self, q: QuarantineEntry) -> bool:
        """Counts `q` if it comes from a line of this file; says whether it did."""
        line = line_of(q.source, self.name)
        if line is None:
            return False
        self.reject(line, q.reason, q.meter_id)
        return True

    @property
    def rejected(self) -> int:
        return sum(self.by_reason.values())

    def describe(self) -> str:
        """'unknown_meter: 12,000 (KYOSO-X: 12,000); misaligned: 2 (A: 2)', most frequent first."""
        parts = []
        for reason, n in self.by_reason.most_common():
            ids = [f"{m or '(no meter id)'}: {c:,}" for m, c in self.meters.get(reason, Counter()).most_common()]
            if self.others[reason]:
                ids.append(f"other meters: {self.others[reason]:,}")
            parts.append(f"{reason}: {n:,} ({', '.join(ids)})")
        return "; ".join(parts)


def summary_line(name: str, rows: int, tally: RowTally, shape: str = "") -> str:
    """One line on what became of a file's rows:
    "meters.csv: 12,000 rows (UTF-8, ','), 11,990 ingested, 10 rejected (unknown_meter: 10 (X: 10))"."""
    shape = f" ({shape})" if shape else ""
    rejected = min(tally.rejected, rows)
    if rows and rejected >= rows:
        return f"{name}: {rows:,} rows{shape}, none ingested: {rejected:,} rejected ({tally.describe()})"
    if not rejected:
        return f"{name}: {rows:,} rows{shape}, all ingested"
    return f"{name}: {rows:,} rows{shape}, {rows - rejected:,} ingested, {rejected:,} rejected ({tally.describe()})"


@dataclass
class CsvScan:
    """What `scan_csv` found: how to read the file and what its rows hold."""

    path: Path
    encoding: str        # 'utf-8' or 'cp932', to pass to read_csv
    bom: bool
    delimiter: str
    header_line: int
    columns: list        # our names of the header's columns (None: ignored column)
    rows: int
    tally: RowTally      # rows the source itself rejects (unknown meter, misaligned, ...) by reason
    sha256: str          # of the file's bytes: the same content read again is the same input

    @property
    def shape(self) -> str:
        return f"{encoding_label(self.encoding, self.bom)}, '{self.delimiter}'"

    def summary(self) -> str:
        return summary_line(self.path.name, self.rows, self.tally, self.shape)


def scan_csv(path: str | Path, meters: Mapping[str, MeterSpec], encoding: str = "auto", *,
             skip_bad_lines: bool = False) -> CsvScan:
    """Reads a whole file once, before anything of it is ingested, and refuses (CsvFileError, one
    line) a file an ingest could only half do or do nothing with: bytes that do not decode, no
    usable header, an empty or header-only file, and a line that cannot be parsed (unless
    `skip_bad_lines`: then such lines are counted as parse_error rejections, as the stream
    quarantines them). Memory does not grow with the file (a byte per line for the tally)."""
    path = Path(path)
    encoding = encoding_name(encoding)
    detected = encoding == "auto"
    if detected:
        encoding, bom = detect_encoding(path)
    else:
        try:
            with path.open("rb") as handle:
                bom = encoding == "utf-8" and handle.read(3) == _BOM
        except OSError as exc:
            raise CsvFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    digest = hashlib.sha256()
    reader = _Reader(meters, path.name, strict=not skip_bad_lines)
    tally = RowTally(path.name)
    first = True
    for lineno, text in decoded_lines(path, encoding, digest, detected=detected):
        first = False
        for item in reader.items([(lineno, text)]):
            if isinstance(item, QuarantineEntry):
                if reader.header is None:      # skip_bad_lines never skips the header
                    raise CsvFileError(f"{path.name} {item.detail}")
                tally.reject_entry(item)
    if reader.header is None:
        if first:
            raise CsvFileError(f"{path.name}: the file is empty (0 bytes): nothing to ingest")
        raise CsvFileError(f"{path.name}: no header line, only blank or comment lines: nothing to ingest")
    if not reader.rows:
        raise CsvFileError(f"{path.name} line {reader.header_line}: a header and no rows: nothing to ingest")
    return CsvScan(path, encoding, bom, reader.delimiter, reader.header_line, reader.header, reader.rows, tally,
                   digest.hexdigest())
