"""Bond terms: the default config loads, and every validation error names its field."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib

import pytest

from greenbond.config import (
    DAY,
    DEFAULT_BOND_CONFIG,
    REPO_ROOT,
    BondTerms,
    ConfigError,
    add_months,
    load_terms,
    parse_terms,
    regular_schedule,
)

D = dt.date
JST_MIDNIGHT_2023_12_14 = 1_702_479_600  # 2023-12-13T15:00:00Z
EXPECTED_COUPONS = tuple(D(y, m, 14) for y in range(2024, 2029) for m in (6, 12))


@pytest.fixture(scope="module")
def default_raw() -> dict:
    return tomllib.loads(DEFAULT_BOND_CONFIG.read_text(encoding="utf-8"))


@pytest.fixture
def raw(default_raw) -> dict:
    return copy.deepcopy(default_raw)


def error(raw: dict, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_terms(raw, **kwargs)
    return info.value


def assert_field(raw: dict, field: str, **kwargs) -> ConfigError:
    exc = error(raw, **kwargs)
    assert exc.field == field, f"expected field {field!r}, got {exc.field!r}: {exc}"
    assert field in str(exc)
    return exc


# --- the default bond ------------------------------------------------------------------------


def test_default_config_loads():
    terms = load_terms()
    assert isinstance(terms, BondTerms)
    assert terms.symbol == "HIT-DGB-2028"
    assert terms.currency == "JPY" and terms.currency_address is None
    assert terms.units == 10_000
    assert terms.denomination == 1_000_000 and terms.issue_volume == 10_000_000_000
    assert terms.coupon_type == "fixed" and terms.coupon_rate_ppm == 5_980
    assert terms.coupon_frequency == 2 and terms.day_count == "ACT/365F"
    assert terms.issue_date == D(2023, 12, 14) and terms.maturity_date == D(2028, 12, 14)
    assert terms.timezone == "Asia/Tokyo" and terms.record_days == 1 and terms.redemption == "par"


def test_default_coupon_dates():
    terms = load_terms()
    assert terms.coupon_dates == EXPECTED_COUPONS
    assert len(terms.coupon_dates) == 10
    assert terms.coupon_dates[0] == D(2024, 6, 14) and terms.coupon_dates[-1] == D(2028, 12, 14)


def test_default_timestamps_are_midnight_jst():
    terms = load_terms()
    assert terms.timestamp(terms.issue_date) == JST_MIDNIGHT_2023_12_14
    stamps = terms.coupon_timestamps
    assert len(stamps) == 10
    for day, stamp in zip(terms.coupon_dates, stamps):
        utc = dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
        assert (utc.hour, utc.minute, utc.second) == (15, 0, 0)  # 00:00 JST = 15:00 UTC the day before
        assert utc.date() == day - dt.timedelta(days=1)
    assert stamps[0] == 1_718_290_800  # 2024-06-14 00:00 JST
    assert terms.timestamp(terms.maturity_date) == stamps[-1] == 1_860_332_400
    assert terms.record_timestamps == [s - DAY for s in stamps]


def test_default_contract_terms_tuple():
    terms = load_terms()
    address = "0x" + "11" * 20
    t = terms.contract_terms(address)
    assert t[:3] == (terms.name, "HIT-DGB-2028", terms.isin)
    assert t[3] == address
    assert t[4:10] == (1_000_000, 10_000_000_000, 5_980, 1, 2, 0)
    assert t[10] == JST_MIDNIGHT_2023_12_14
    assert t[12] == DAY
    assert t[13] == terms.coupon_timestamps


def test_default_documents_resolve_to_files():
    terms = load_terms()
    assert [d.name for d in terms.documents] == ["GREEN_BOND_FRAMEWORK", "SECOND_PARTY_OPINION"]
    for doc in terms.documents:
        assert doc.path is not None and doc.path.is_file()
        assert doc.path.is_relative_to(REPO_ROOT)


def test_explicit_coupon_dates_equal_to_the_default_schedule_are_accepted(raw):
    raw["bond"]["coupon_dates"] = list(EXPECTED_COUPONS)
    assert parse_terms(raw).coupon_dates == EXPECTED_COUPONS


def test_parse_terms_matches_load_terms(raw):
    assert parse_terms(raw) == load_terms()


# --- missing fields and wrong types ----------------------------------------------------------

REQUIRED = [
    "name", "symbol", "isin", "issuer", "currency", "denomination", "issue_volume", "coupon_type",
    "coupon_rate_ppm", "coupon_frequency", "day_count", "issue_date", "maturity_date", "timezone",
    "record_days", "use_of_proceeds",
]


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_field(raw, field):
    del raw["bond"][field]
    exc = assert_field(raw, field)
    assert "missing" in str(exc)


def test_missing_bond_table():
    assert_field({}, "bond")
    assert_field({"bond": "not a table"}, "bond")


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", 42),
        ("symbol", ["HIT"]),
        ("isin", None),
        ("issuer", 1),
        ("currency", 392),
        ("denomination", "1000000"),
        ("denomination", 1_000_000.0),
        ("denomination", True),
        ("issue_volume", 1e10),
        ("coupon_type", 1),
        ("coupon_rate_ppm", 0.598),
        ("coupon_rate_ppm", "5980"),
        ("coupon_rate_ppm", True),
        ("coupon_frequency", "semi-annual"),
        ("day_count", 365),
        ("issue_date", "2023-12-14"),
        ("issue_date", 1702479600),
        ("issue_date", dt.datetime(2023, 12, 14, 0, 0)),
        ("maturity_date", dt.datetime(2028, 12, 14, tzinfo=dt.timezone.utc)),
        ("maturity_date", dt.time(0, 0)),
        ("timezone", 9),
        ("record_days", 1.0),
        ("record_days", "1"),
        ("use_of_proceeds", {"text": "x"}),
        ("coupon_dates", "2024-06-14"),
        ("coupon_dates", ["2024-06-14"]),
        ("currency_address", 0x11),
    ],
)
def test_wrong_type(raw, field, value):
    raw["bond"][field] = value
    assert_field(raw, field)


@pytest.mark.parametrize("field", ["name", "symbol", "isin"])
def test_empty_strings(raw, field):
    raw["bond"][field] = "   "
    assert_field(raw, field)


@pytest.mark.parametrize("value", ["jpy", "JP", "JPYN", "JPY ", "12A"])
def test_bad_currency_code(raw, value):
    raw["bond"]["currency"] = value
    assert_field(raw, "currency")


# --- amounts and rates -----------------------------------------------------------------------


@pytest.mark.parametrize("rate", [-1, 1_000_001, 10**18])
def test_rate_out_of_range(raw, rate):
    raw["bond"]["coupon_rate_ppm"] = rate
    exc = assert_field(raw, "coupon_rate_ppm")
    assert str(rate) in str(exc)


def test_rate_bounds_are_inclusive(raw):
    raw["bond"]["coupon_rate_ppm"] = 1_000_000
    assert parse_terms(raw).coupon_rate_ppm == 1_000_000


def test_zero_rate_needs_zero_coupon_type(raw):
    raw["bond"]["coupon_rate_ppm"] = 0
    assert_field(raw, "coupon_rate_ppm")


def test_zero_coupon_bond(raw):
    raw["bond"]["coupon_type"] = "zero"
    raw["bond"]["coupon_rate_ppm"] = 0
    terms = parse_terms(raw)
    assert terms.coupon_dates == () and terms.coupon_timestamps == []
    raw["bond"]["coupon_dates"] = list(EXPECTED_COUPONS)
    assert_field(raw, "coupon_dates")
    raw["bond"]["coupon_rate_ppm"] = 5_980
    del raw["bond"]["coupon_dates"]
    assert_field(raw, "coupon_rate_ppm")


@pytest.mark.parametrize("field, value", [("coupon_type", "step-up"), ("day_count", "ACT/366"), ("coupon_frequency", 3), ("redemption", "call")])
def test_unsupported_choices(raw, field, value):
    raw["bond"][field] = value
    assert_field(raw, field)


@pytest.mark.parametrize("field", ["denomination", "issue_volume"])
@pytest.mark.parametrize("value", [0, -1_000_000])
def test_amounts_must_be_positive(raw, field, value):
    raw["bond"][field] = value
    assert_field(raw, field)


@pytest.mark.parametrize("volume", [10_000_000_001, 999_999, 10_000_500_000])
def test_issue_volume_not_a_multiple_of_denomination(raw, volume):
    raw["bond"]["issue_volume"] = volume
    assert_field(raw, "issue_volume")


def test_issue_volume_too_many_units(raw):
    raw["bond"]["denomination"] = 1
    raw["bond"]["issue_volume"] = 2**72
    assert_field(raw, "issue_volume")
    raw["bond"]["issue_volume"] = 2**72 - 1
    assert parse_terms(raw).units == 2**72 - 1


# --- dates and time zone ---------------------------------------------------------------------


@pytest.mark.parametrize("maturity", [D(2023, 12, 13), D(2023, 12, 14), D(2020, 1, 1)])
def test_maturity_not_after_issue(raw, maturity):
    raw["bond"]["maturity_date"] = maturity
    raw["bond"].pop("coupon_dates", None)
    assert_field(raw, "maturity_date")


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "JST+9", "", "/etc/localtime", "../UTC", "Asia/", "tokyo"])
def test_unknown_timezone(raw, tz):
    raw["bond"]["timezone"] = tz
    assert_field(raw, "timezone")


def test_timezone_area_name_is_a_config_error(raw):
    raw["bond"]["timezone"] = "Asia"
    assert_field(raw, "timezone")


def test_other_timezone_shifts_timestamps(raw):
    raw["bond"]["timezone"] = "UTC"
    terms = parse_terms(raw)
    assert terms.timestamp(terms.issue_date) == JST_MIDNIGHT_2023_12_14 + 9 * 3600


# --- coupon schedule -------------------------------------------------------------------------


def test_coupon_dates_not_matching_frequency(raw):
    # Quarterly dates on a semi-annual bond.
    raw["bond"]["coupon_dates"] = [add_months(D(2028, 12, 14), -3 * k) for k in range(19, -1, -1)]
    exc = assert_field(raw, "coupon_dates")
    assert "6 months" in str(exc)


def test_coupon_dates_annual_on_semi_annual_bond(raw):
    raw["bond"]["coupon_dates"] = [D(y, 12, 14) for y in range(2024, 2029)]
    assert_field(raw, "coupon_dates")


def test_coupon_dates_right_for_other_frequency(raw):
    raw["bond"]["coupon_frequency"] = 1
    raw["bond"]["coupon_dates"] = [D(y, 12, 14) for y in range(2024, 2029)]
    assert parse_terms(raw).coupon_dates == tuple(D(y, 12, 14) for y in range(2024, 2029))
    raw["bond"]["coupon_frequency"] = 4
    assert_field(raw, "coupon_dates")


def test_coupon_date_off_by_a_day(raw):
    dates = list(EXPECTED_COUPONS)
    dates[4] = D(2026, 6, 15)
    raw["bond"]["coupon_dates"] = dates
    assert_field(raw, "coupon_dates")


def test_coupon_date_missing_in_the_middle(raw):
    dates = list(EXPECTED_COUPONS)
    del dates[5]
    raw["bond"]["coupon_dates"] = dates
    assert_field(raw, "coupon_dates")


@pytest.mark.parametrize(
    "dates",
    [
        [D(2024, 12, 14), D(2024, 6, 14), *EXPECTED_COUPONS[2:]],  # swapped
        [EXPECTED_COUPONS[0], *EXPECTED_COUPONS],                   # duplicate
        list(reversed(EXPECTED_COUPONS)),
    ],
)
def test_coupon_dates_not_increasing(raw, dates):
    raw["bond"]["coupon_dates"] = dates
    exc = assert_field(raw, "coupon_dates")
    assert "increasing" in str(exc)


def test_coupon_dates_last_not_maturity(raw):
    raw["bond"]["coupon_dates"] = list(EXPECTED_COUPONS[:-1])
    exc = assert_field(raw, "coupon_dates")
    assert "maturity" in str(exc)


def test_coupon_dates_beyond_maturity(raw):
    raw["bond"]["coupon_dates"] = [*EXPECTED_COUPONS, D(2029, 6, 14)]
    assert_field(raw, "coupon_dates")


@pytest.mark.parametrize("first", [D(2023, 6, 14), D(2023, 12, 14)])
def test_coupon_dates_first_not_after_issue(raw, first):
    raw["bond"]["coupon_dates"] = [first, *EXPECTED_COUPONS]
    exc = assert_field(raw, "coupon_dates")
    assert "issue" in str(exc)


def test_coupon_dates_empty(raw):
    raw["bond"]["coupon_dates"] = []
    assert_field(raw, "coupon_dates")


def test_long_first_stub_allowed_but_not_two_periods(raw):
    # Issue 2023-12-14: dropping the first date leaves a 12-month first period, i.e. exactly two.
    raw["bond"]["coupon_dates"] = list(EXPECTED_COUPONS[1:])
    exc = assert_field(raw, "coupon_dates")
    assert "two periods" in str(exc)
    # A long stub of 1.5 periods is fine.
    raw["bond"]["issue_date"] = D(2024, 3, 14)
    raw["bond"]["coupon_dates"] = list(EXPECTED_COUPONS[1:])
    assert parse_terms(raw).coupon_dates == EXPECTED_COUPONS[1:]


def test_generated_schedule_with_short_first_stub(raw):
    raw["bond"]["issue_date"] = D(2024, 3, 1)
    terms = parse_terms(raw)
    assert terms.coupon_dates == EXPECTED_COUPONS  # first period 2024-03-01 -> 2024-06-14
    raw["bond"]["issue_date"] = D(2024, 6, 14)
    assert parse_terms(raw).coupon_dates == EXPECTED_COUPONS[1:]


def test_add_months_clamps_to_month_end():
    assert add_months(D(2028, 8, 31), -6) == D(2028, 2, 29)
    assert add_months(D(2027, 8, 31), -6) == D(2027, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2024, 12, 14), 1) == D(2025, 1, 14)


def test_regular_schedule_month_end_rolls_from_maturity():
    dates = regular_schedule(D(2023, 8, 31), D(2028, 8, 31), 2)
    assert len(dates) == 10
    assert dates[:4] == [D(2024, 2, 29), D(2024, 8, 31), D(2025, 2, 28), D(2025, 8, 31)]


def test_month_end_maturity_generated_schedule_parses(raw):
    raw["bond"]["issue_date"] = D(2023, 8, 31)
    raw["bond"]["maturity_date"] = D(2028, 8, 31)
    assert len(parse_terms(raw).coupon_dates) == 10


def test_month_end_maturity_explicit_schedule_parses(raw):
    raw["bond"]["issue_date"] = D(2023, 8, 31)
    raw["bond"]["maturity_date"] = D(2028, 8, 31)
    raw["bond"]["coupon_dates"] = regular_schedule(D(2023, 8, 31), D(2028, 8, 31), 2)
    assert len(parse_terms(raw).coupon_dates) == 10


# --- record days -----------------------------------------------------------------------------


def test_record_days_negative(raw):
    raw["bond"]["record_days"] = -1
    assert_field(raw, "record_days")


@pytest.mark.parametrize("days", [182, 183, 365])
def test_record_days_reaching_back_past_previous_coupon(raw, days):
    # The shortest period of the default schedule (14 Dec -> 14 Jun, non-leap) is 182 days.
    raw["bond"]["record_days"] = days
    exc = assert_field(raw, "record_days")
    assert "previous coupon" in str(exc)


def test_record_days_just_inside_shortest_period(raw):
    raw["bond"]["record_days"] = 181
    assert parse_terms(raw).record_days == 181
    raw["bond"]["record_days"] = 0
    assert parse_terms(raw).record_timestamps == parse_terms(raw).coupon_timestamps


def test_record_days_checked_against_short_first_stub(raw):
    raw["bond"]["issue_date"] = D(2024, 6, 4)  # first period: 10 days, to 2024-06-14
    raw["bond"]["record_days"] = 10
    assert_field(raw, "record_days")
    raw["bond"]["record_days"] = 9
    assert parse_terms(raw).coupon_dates[0] == D(2024, 6, 14)


# --- documents -------------------------------------------------------------------------------


def test_missing_document_file(raw):
    raw["documents"][1]["uri"] = "docs/documents/no-such-file.md"
    exc = assert_field(raw, "documents[1].uri")
    assert "not found" in str(exc)


def test_document_paths_resolve_against_base_dir(raw, tmp_path):
    exc = assert_field(raw, "documents[0].uri", base_dir=tmp_path)
    assert str(tmp_path) in str(exc)
    (tmp_path / "docs" / "documents").mkdir(parents=True)
    for name in ("green-bond-framework.md", "second-party-opinion.md"):
        (tmp_path / "docs" / "documents" / name).write_text("x")
    terms = parse_terms(raw, base_dir=tmp_path)
    assert all(d.path.is_relative_to(tmp_path) for d in terms.documents)


def test_document_url_is_not_checked_locally(raw):
    raw["documents"].append({"name": "ISSUE_REPORT", "uri": "https://example.com/report.pdf"})
    terms = parse_terms(raw)
    assert terms.documents[-1].path is None


def test_document_uri_missing(raw):
    del raw["documents"][0]["uri"]
    assert_field(raw, "documents[0].uri")


def test_duplicate_document_names(raw):
    raw["documents"][1]["name"] = raw["documents"][0]["name"]
    exc = assert_field(raw, "documents")
    assert "name" in str(exc)


@pytest.mark.parametrize("name", ["", "X" * 33, "文書", 7, None])
def test_bad_document_name(raw, name):
    raw["documents"][0]["name"] = name
    assert_field(raw, "documents[0].name")


def test_document_not_a_table(raw):
    raw["documents"][0] = "docs/documents/green-bond-framework.md"
    assert_field(raw, "documents[0]")


def test_no_documents_is_fine(raw):
    del raw["documents"]
    assert parse_terms(raw).documents == ()


# --- currency address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "0x" + "ab" * 20,                                   # all lower case: no checksum to check
        "0x" + "AB" * 20,                                   # all upper case
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",       # mixed case with a valid EIP-55 checksum
    ],
)
def test_currency_address_accepted(raw, address):
    raw["bond"]["currency_address"] = address
    terms = parse_terms(raw)
    assert terms.currency_address == address


def test_currency_address_with_a_wrong_checksum_is_rejected(raw):
    raw["bond"]["currency_address"] = "0x5FbDB2315678afecb367f032d93F642f64180aA3"  # one case flipped
    assert_field(raw, "currency_address")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0x",
        "0x" + "11" * 19,             # 19 bytes
        "0x" + "11" * 21,             # 21 bytes
        "11" * 21,                    # no 0x, 42 characters
        "0X" + "11" * 20,             # capital X
        "0x" + "g1" * 20,             # not hex
        "0x" + "11" * 19 + "1",       # odd length
    ],
)
def test_bad_currency_address(raw, value):
    raw["bond"]["currency_address"] = value
    assert_field(raw, "currency_address")


@pytest.mark.parametrize(
    "value",
    [
        "0x0x" + "11" * 19,
        "0x-" + "1" * 39,
        "0x+" + "1" * 39,
        "0x " + "1" * 39,
        "0x" + "ab_" * 13 + "a",
    ],
)
def test_malformed_hex_currency_address(raw, value):
    assert len(value) == 42
    raw["bond"]["currency_address"] = value
    assert_field(raw, "currency_address")


# --- load_terms ------------------------------------------------------------------------------


def test_load_terms_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_terms(tmp_path / "nope.toml")
    assert info.value.field == "file"


def test_load_terms_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[bond\nname = ")
    with pytest.raises(ConfigError) as info:
        load_terms(path)
    assert info.value.field == "file"


def test_config_error_is_value_error():
    exc = ConfigError("denomination", "must be positive")
    assert isinstance(exc, ValueError)
    assert str(exc) == "bond config: denomination: must be positive"


# ---- stricter rules added after review: typos, empty strings, irregular last period, paths


def test_misspelled_key_is_rejected_not_ignored(raw):
    raw["bond"]["currency_adress"] = "0x" + "ab" * 20
    exc = assert_field(raw, "currency_adress")
    assert "unknown key" in str(exc)


def test_unknown_table_is_rejected(raw):
    raw["bonds"] = {}
    assert_field(raw, "bonds")


@pytest.mark.parametrize("key", ["issuer", "use_of_proceeds"])
def test_empty_descriptive_fields_are_rejected(raw, key):
    raw["bond"][key] = "   "
    assert_field(raw, key)


def test_irregular_last_period_is_accepted(raw):
    # coupons on the 14th, maturity on the 20th: a long last period of 6 months and 6 days
    raw["bond"]["maturity_date"] = D(2028, 12, 20)
    raw["bond"]["coupon_dates"] = [*EXPECTED_COUPONS[:-1], D(2028, 12, 20)]
    assert parse_terms(raw).coupon_dates[-1] == D(2028, 12, 20)


def test_irregular_middle_period_is_rejected(raw):
    dates = list(EXPECTED_COUPONS)
    dates[-2] = D(2028, 6, 20)
    raw["bond"]["coupon_dates"] = dates
    assert_field(raw, "coupon_dates")


@pytest.mark.parametrize("uri", ["/etc/hostname", "../../etc/hostname"])
def test_document_outside_the_repository_is_rejected(raw, uri):
    raw["documents"] = [{"name": "X", "uri": uri}]
    exc = assert_field(raw, "documents[0].uri")
    assert "inside the repository" in str(exc)


def test_documents_must_be_an_array_of_tables(raw):
    raw["documents"] = {"name": "X"}
    assert_field(raw, "documents")


def test_credits_table_defaults_and_values(raw):
    terms = parse_terms(raw)
    assert (terms.credits.holders, terms.credits.min_coverage_ppm, terms.credits.gated) == ("registry", 900_000, True)
    raw["credits"] = {"holders": "open", "min_coverage_ppm": 950_000}
    terms = parse_terms(raw)
    assert (terms.credits.gated, terms.credits.min_coverage_ppm) == (False, 950_000)
    del raw["credits"]
    assert parse_terms(raw).credits.gated


@pytest.mark.parametrize("table, field", [
    ({"holders": "anyone"}, "credits.holders"),
    ({"min_coverage_ppm": 1_000_001}, "credits.min_coverage_ppm"),
    ({"min_coverage_ppm": 0.9}, "credits.min_coverage_ppm"),
    ({"min_coverage_ppm": True}, "credits.min_coverage_ppm"),
    ({"uri": 5}, "credits.uri"),
    ({"verifier": "0x"}, "verifier"),
])
def test_credits_table_errors(raw, table, field):
    raw["credits"] = table
    with pytest.raises(ConfigError) as exc:
        parse_terms(raw)
    assert exc.value.field == field
