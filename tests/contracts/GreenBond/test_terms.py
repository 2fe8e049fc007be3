"""ERC-7092 getters on the default (Hitachi 2023) bond, checked against independent values."""

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9))
DAY = 86_400


def jst(year, month, day):
    return int(dt.datetime(year, month, day, tzinfo=JST).timestamp())


def test_name_and_symbol(hitachi_bond):
    assert hitachi_bond.name() == "Hitachi Digital Green Bond 2023 (5Y)"
    assert hitachi_bond.symbol() == "HIT-DGB-2028"


def test_isin(hitachi_bond):
    assert hitachi_bond.isin() == "PLACEHOLDER-JP-ISIN"


def test_currency_is_settlement_token(hitachi_bond, settlement):
    assert hitachi_bond.currency() == settlement


def test_amounts(hitachi_bond):
    assert hitachi_bond.denomination() == 1_000_000
    assert hitachi_bond.issueVolume() == 10_000_000_000
    assert hitachi_bond.maxSupply() == 10_000


def test_coupon_terms(hitachi_bond):
    assert hitachi_bond.couponRate() == 5980
    assert hitachi_bond.couponType() == 1
    assert hitachi_bond.couponFrequency() == 2
    assert hitachi_bond.dayCountBasis() == 0


def test_decimals(hitachi_bond):
    assert hitachi_bond.decimals() == 0


def test_issue_and_maturity_dates(hitachi_bond):
    assert hitachi_bond.issueDate() == jst(2023, 12, 14) == 1702479600
    assert hitachi_bond.maturityDate() == jst(2028, 12, 14)


def test_coupon_dates(hitachi_bond, hitachi_terms):
    dates = hitachi_bond.couponDates()
    expected = [jst(y, m, 14) for y in range(2024, 2029) for m in (6, 12)]
    assert len(dates) == 10
    assert list(dates) == expected == hitachi_terms.coupon_timestamps
    assert dates[-1] == hitachi_bond.maturityDate()


def test_record_dates_are_a_day_before_coupons(hitachi_bond):
    coupons = hitachi_bond.couponDates()
    assert list(hitachi_bond.recordDates()) == [c - DAY for c in coupons]


def test_links(hitachi_bond, registry):
    assert hitachi_bond.registry() == registry
    assert hitachi_bond.impactOracle() == "0x" + "00" * 20


def test_principal_of(hitachi_bond, register, admin, alice, bob):
    register(alice, 1)
    hitachi_bond.mint(alice, 7, {"from": admin})
    assert hitachi_bond.principalOf(alice) == 7_000_000
    assert hitachi_bond.principalOf(bob) == 0


def test_initial_switches(hitachi_bond):
    assert hitachi_bond.transferable()
    assert not hitachi_bond.transferApprovalRequired()
    assert not hitachi_bond.paused()
    assert hitachi_bond.totalSupply() == 0


def test_issuer_roles(hitachi_bond, admin, agent):
    assert hitachi_bond.hasRole(hitachi_bond.DEFAULT_ADMIN_ROLE(), admin)
    for role in ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE"):
        assert hitachi_bond.hasRole(getattr(hitachi_bond, role)(), admin)
        assert not hitachi_bond.hasRole(getattr(hitachi_bond, role)(), agent)
    for role in ("LOCKER_ROLE", "REDEMPTION_ROLE"):   # contracts' roles: nobody holds them at deployment
        assert not hitachi_bond.hasRole(getattr(hitachi_bond, role)(), admin)
