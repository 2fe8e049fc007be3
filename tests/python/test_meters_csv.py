"""CSV source: the documented format, register rows, and bad lines -> line-numbered quarantine."""

import types

from greenbond.meters.csv_source import read_csv, read_csv_lines
from greenbond.meters.model import MeterSpec, QuarantineEntry, RawReading, jst

METERS = {"A": MeterSpec(1, 3000), "B": MeterSpec(1, 3000), "PV": MeterSpec(2, 500)}


def test_good_rows_wh_and_register(tmp_path):
    text = """# a comment line
meter_id,interval_start,wh,register,coefficient,unit_code,flags
A,2024-01-05T09:30:00+09:00,41250,,,,
PV,2024-01-05T00:30:00Z,80210,,,,E
B,2024-01-05T09:00:00+09:00,,12345678,1,0x02,
B,2024-01-05T09:30:00+09:00,,12349678,1,2,
"""
    path = tmp_path / "meters.csv"
    path.write_text(text, encoding="utf-8")
    stream = read_csv(path, METERS)
    assert isinstance(stream, types.GeneratorType)
    a, pv, baseline, b = list(stream)
    assert a == RawReading(1, "A", jst(2024, 1, 5, 9, 30), 41250, 0, "csv:meters.csv:3",
                           "A,2024-01-05T09:30:00+09:00,41250,,,,")
    assert pv.facility_id == 2 and pv.flags == 1 and pv.interval_start == jst(2024, 1, 5, 9, 30)
    assert isinstance(baseline, QuarantineEntry) and baseline.reason == "register_baseline"
    assert baseline.source == "csv:meters.csv:5"
    # (12,349,678 - 12,345,678) counts x 0.01 kWh = 40 kWh = 40,000 Wh
    assert b.wh == 40_000 and b.interval_start == jst(2024, 1, 5, 9, 30)


BAD = {
    "A,2024-01-05T09:30:00,100,,,,": ("parse_error", "no UTC offset"),
    "A,2024-01-05T09:15:00+09:00,100,,,,": ("misaligned", "not at :00 or :30"),
    "A,yesterday,100,,,,": ("parse_error", "interval_start"),
    "ZZ,2024-01-05T09:30:00+09:00,100,,,,": ("unknown_meter", "'ZZ'"),
    ",2024-01-05T09:30:00+09:00,100,,,,": ("parse_error", "meter_id: missing"),
    "A,2024-01-05T09:30:00+09:00,12.5,,,,": ("parse_error", "wh: '12.5' is not an integer"),
    "A,2024-01-05T09:30:00+09:00,,,,,": ("parse_error", "wh: missing"),
    "A,2024-01-05T09:30:00+09:00,100,5,1,2,": ("parse_error", "not both"),
    "A,2024-01-05T09:30:00+09:00,,5,,2,": ("parse_error", "coefficient: missing"),
    "A,2024-01-05T09:30:00+09:00,,5,1,0x07,": ("parse_error", "unknown unit code"),
    "A,2024-01-05T09:30:00+09:00,,100000000,1,2,": ("parse_error", "outside 0..99999999"),
    "A,2024-01-05T09:30:00+09:00,100,,,,9": ("parse_error", "flags"),
    "A,2024-01-05T09:30:00+09:00,100": ("parse_error", "3 cells, header has 7"),
    'A,"2024-01-05T09:30:00+09:00,100,,,,': ("parse_error", ""),
}


def test_bad_lines_are_quarantined_with_line_numbers():
    lines = ["meter_id,interval_start,wh,register,coefficient,unit_code,flags"] + list(BAD)
    out = list(read_csv_lines(lines, METERS, "bad.csv"))
    assert len(out) == len(BAD)
    for lineno, (line, entry) in enumerate(zip(BAD, out), start=2):
        reason, fragment = BAD[line]
        assert isinstance(entry, QuarantineEntry), line
        assert entry.reason == reason, (line, entry)
        assert fragment in entry.detail, (line, entry.detail)
        assert entry.detail.startswith(f"line {lineno}:")
        assert entry.source == f"csv:bad.csv:{lineno}"
        assert entry.raw == line


def test_negative_wh_parses_and_is_left_to_vee():
    lines = ["meter_id,interval_start,wh", "A,2024-01-05T09:30:00+09:00,-5"]
    (r,) = read_csv_lines(lines, METERS)
    assert isinstance(r, RawReading) and r.wh == -5


def test_missing_header_columns():
    out = list(read_csv_lines(["meter,when,wh", "A,2024-01-05T09:30:00+09:00,1"], METERS))
    assert out[0].reason == "parse_error" and "header lacks meter_id, interval_start" in out[0].detail
    assert out[1].reason == "parse_error"  # no usable header yet: this line is read as a header and fails too


def test_header_names_any_case_japanese_aliases_and_semicolons():
    """Japanese export names (full-width forms too) and ';' separators read like the plain form;
    columns the reader does not know are ignored."""
    want = list(read_csv_lines(["meter_id,interval_start,wh", "A,2024-01-05T09:30:00+09:00,41250"], METERS, "x.csv"))
    for header, row in [
        ("Meter_ID , Interval_Start , WH", "A,2024-01-05T09:30:00+09:00,41250"),
        ("メーターID,計測開始,電力量(Wh)", "A,2024-01-05 09:30 JST,41250"),
        ("ﾒｰﾀｰID,計測開始日時,電力量（Ｗｈ）,備考", "A,2024/1/5 9:30 JST,41250,晴れ"),
        ("meter_id;interval_start;wh", "A;2024-01-05T09:30:00+09:00;41250"),
    ]:
        (got,) = read_csv_lines([header, row], METERS, "x.csv")
        assert (got.meter_id, got.interval_start, got.wh) == (want[0].meter_id, want[0].interval_start, want[0].wh), header


def test_register_form_with_japanese_headers():
    lines = ["メーターID,計測開始,積算電力量計測値,係数,積算電力量単位",
             "B,2024-01-05 09:00 JST,12345678,1,0x02", "B,2024-01-05 09:30 JST,12349678,1,0x02"]
    baseline, b = read_csv_lines(lines, METERS, "r.csv")
    assert baseline.reason == "register_baseline" and b.wh == 40_000


def test_header_without_an_energy_column_or_with_a_column_twice():
    (q, _) = read_csv_lines(["meter_id,interval_start,kwh", "A,2024-01-05T09:30:00+09:00,41"], METERS)
    assert q.reason == "parse_error" and "header lacks wh (or register, coefficient and unit_code)" in q.detail
    (q, _) = read_csv_lines(["meter_id,メーターID,interval_start,wh", "A,A,2024-01-05T09:30:00+09:00,41"], METERS)
    assert "two columns mean meter_id" in q.detail


def test_zone_suffixes_and_offsets():
    """The times an export writes: offsets with or without a colon, 'JST', 'UTC', 'Z', a space or 'T',
    '/' dates without leading zeros; all the same instant. No zone, or another zone name: refused."""
    t = jst(2024, 4, 1, 9, 0)
    for text in ["2024-04-01T09:00:00+09:00", "2024-04-01 09:00 JST", "2024-04-01 09:00JST", "2024/4/1 9:00 jst",
                 "2024-04-01T09:00+0900", "2024-04-01 09:00 +09:00", "2024-04-01T00:00:00Z", "2024-04-01 00:00 UTC",
                 "2024-04-01 00:00 Z"]:
        (r,) = read_csv_lines(["meter_id,interval_start,wh", f"A,{text},5"], METERS)
        assert isinstance(r, RawReading) and r.interval_start == t, text
    for text, fragment in [("2024/4/1 9:00", "no UTC offset"), ("2024-04-01 09:00 CST", "unknown zone 'CST'"),
                           ("2024-02-30 09:00 JST", "day is out of range")]:
        (q,) = read_csv_lines(["meter_id,interval_start,wh", f"A,{text},5"], METERS)
        assert q.reason == "parse_error" and fragment in q.detail, (text, q.detail)
