"""The constructor rejects malformed terms with GreenBondInvalidTerms(field), and zero addresses."""

import pytest

DAY = 86_400
MONTH = 30 * DAY
UINT72_MAX = 2**72 - 1

# indexes into the Terms tuple
NAME, SYMBOL, ISIN, CURRENCY, DENOMINATION, VOLUME, RATE, TYPE, FREQUENCY, BASIS = range(10)
ISSUE, MATURITY, OFFSET, DATES = range(10, 14)


def with_(terms, **changes):
    t = list(terms)
    for key, value in changes.items():
        t[globals()[key.upper()]] = value
    return tuple(t)


def test_valid_terms_deploy(GreenBond, terms, registry, admin):
    bond = GreenBond.deploy(terms, registry, admin, {"from": admin})
    assert bond.maxSupply() == 10_000


@pytest.mark.parametrize("field", ["name", "symbol", "isin"])
def test_empty_string(GreenBond, terms, registry, admin, revert_with, field):
    with revert_with("GreenBondInvalidTerms", field):
        GreenBond.deploy(with_(terms, **{field: ""}), registry, admin, {"from": admin})


def test_zero_currency(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "currency"):
        GreenBond.deploy(with_(terms, currency="0x" + "00" * 20), registry, admin, {"from": admin})


def test_zero_denomination(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "denomination"):
        GreenBond.deploy(with_(terms, denomination=0), registry, admin, {"from": admin})


def test_zero_issue_volume(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "issueVolume"):
        GreenBond.deploy(with_(terms, volume=0), registry, admin, {"from": admin})


def test_issue_volume_not_multiple(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "issueVolume"):
        GreenBond.deploy(with_(terms, volume=terms[DENOMINATION] * 10 + 1), registry, admin, {"from": admin})


def test_issue_volume_too_many_units(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "issueVolume"):
        GreenBond.deploy(with_(terms, denomination=1, volume=UINT72_MAX + 1), registry, admin, {"from": admin})


def test_issue_volume_max_units_accepted(GreenBond, terms, registry, admin):
    bond = GreenBond.deploy(with_(terms, denomination=1, volume=UINT72_MAX), registry, admin, {"from": admin})
    assert bond.maxSupply() == UINT72_MAX


def test_coupon_rate_above_100_percent(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "couponRate"):
        GreenBond.deploy(with_(terms, rate=1_000_001), registry, admin, {"from": admin})


def test_coupon_rate_100_percent_accepted(GreenBond, terms, registry, admin):
    bond = GreenBond.deploy(with_(terms, rate=1_000_000), registry, admin, {"from": admin})
    assert bond.couponRate() == 1_000_000


@pytest.mark.parametrize("coupon_type,rate", [(0, 5980), (1, 0), (2, 0), (3, 5980)])
def test_coupon_type_mismatch(GreenBond, terms, registry, admin, revert_with, coupon_type, rate):
    with revert_with("GreenBondInvalidTerms", "couponType"):
        GreenBond.deploy(with_(terms, type=coupon_type, rate=rate), registry, admin, {"from": admin})


def test_zero_coupon_without_dates(GreenBond, terms, registry, admin):
    bond = GreenBond.deploy(with_(terms, type=0, rate=0, dates=[]), registry, admin, {"from": admin})
    assert bond.couponType() == 0
    assert list(bond.couponDates()) == []
    assert list(bond.recordDates()) == []


def test_coupon_bond_without_dates(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=[]), registry, admin, {"from": admin})


@pytest.mark.parametrize("frequency", [0, 3, 6, 24])
def test_coupon_frequency(GreenBond, terms, registry, admin, revert_with, frequency):
    with revert_with("GreenBondInvalidTerms", "couponFrequency"):
        GreenBond.deploy(with_(terms, frequency=frequency), registry, admin, {"from": admin})


@pytest.mark.parametrize("frequency", [1, 2, 4, 12])
def test_coupon_frequency_accepted(GreenBond, terms, registry, admin, frequency):
    bond = GreenBond.deploy(with_(terms, frequency=frequency), registry, admin, {"from": admin})
    assert bond.couponFrequency() == frequency


def test_day_count_basis(GreenBond, terms, registry, admin, revert_with):
    GreenBond.deploy(with_(terms, basis=3), registry, admin, {"from": admin})
    with revert_with("GreenBondInvalidTerms", "dayCountBasis"):
        GreenBond.deploy(with_(terms, basis=4), registry, admin, {"from": admin})


def test_zero_issue_date(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "maturityDate"):
        GreenBond.deploy(with_(terms, issue=0), registry, admin, {"from": admin})


@pytest.mark.parametrize("delta", [0, -1])
def test_maturity_not_after_issue(GreenBond, terms, registry, admin, revert_with, delta):
    issue = terms[ISSUE]
    with revert_with("GreenBondInvalidTerms", "maturityDate"):
        GreenBond.deploy(
            with_(terms, maturity=issue + delta, type=0, rate=0, dates=[]), registry, admin, {"from": admin}
        )


def test_coupon_dates_not_increasing(GreenBond, terms, registry, admin, revert_with):
    dates = list(terms[DATES])
    dates[3], dates[4] = dates[4], dates[3]
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})


def test_coupon_dates_repeated(GreenBond, terms, registry, admin, revert_with):
    dates = list(terms[DATES])
    dates[4] = dates[3]
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})


def test_coupon_date_before_issue(GreenBond, terms, registry, admin, revert_with):
    dates = [terms[ISSUE] - DAY] + list(terms[DATES])
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})


def test_coupon_date_on_issue(GreenBond, terms, registry, admin, revert_with):
    dates = [terms[ISSUE]] + list(terms[DATES])
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})


def test_last_coupon_not_maturity(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, maturity=terms[MATURITY] + DAY), registry, admin, {"from": admin})
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=terms[DATES][:-1]), registry, admin, {"from": admin})


def test_coupon_gap_not_above_record_offset(GreenBond, terms, registry, admin, revert_with):
    # a gap equal to the offset would put a record date on the previous coupon date
    dates = list(terms[DATES])
    dates.insert(1, dates[0] + DAY)
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})
    # the first record date may not fall on or before the issue date either
    with revert_with("GreenBondInvalidTerms", "couponDates"):
        GreenBond.deploy(with_(terms, offset=MONTH), registry, admin, {"from": admin})


def test_coupon_gap_just_above_record_offset(GreenBond, terms, registry, admin):
    dates = list(terms[DATES])
    dates.insert(1, dates[0] + DAY + 1)
    bond = GreenBond.deploy(with_(terms, dates=dates), registry, admin, {"from": admin})
    assert bond.recordDates()[1] == dates[0] + 1


def test_zero_registry(GreenBond, terms, admin, revert_with):
    with revert_with("GreenBondZeroAddress"):
        GreenBond.deploy(terms, "0x" + "00" * 20, admin, {"from": admin})


def test_zero_admin(GreenBond, terms, registry, admin, revert_with):
    with revert_with("GreenBondZeroAddress"):
        GreenBond.deploy(terms, registry, "0x" + "00" * 20, {"from": admin})
