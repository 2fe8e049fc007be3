"""`python -m greenbond register` end to end, on the Brownie dev chain (Anvil, and Ganache with
--network ganache-cli).

A bond like the default one (semi-annual, 0.598%, 1,000,000 yen units, record date one day
before each coupon) is issued on the next JST midnight after the chain's clock, so that time
can be driven forward through a record date and a payment. Four investors are registered with
details sealed to a fresh issuer key, the issue is allotted, units change hands before and after
the first record date, and coupon #1 is paid: recorded off chain for D, funded, claimed by A,
pushed to B, left unpaid for C. The register is then produced by the Python code itself (it
talks to the node over JSON-RPC, as the command does) at the record date, at a date after the
payments, at the latest block and at a block number, and compared with holdings computed here
from the known sequence of mints and transfers.
"""

import csv
import datetime as dt
import io
from dataclasses import replace

import pytest
from brownie import accounts, chain, project, web3

from greenbond.config import add_months, load_terms, regular_schedule
from greenbond.chain.tx import Signer
from tests.helpers.brownie_compat import brownie_handles
from greenbond.deploy import deploy_suite
from greenbond.holders import (
    HolderDetails,
    generate_issuer_key,
    investor_id,
    load_investor_id_salt,
    load_issuer_private_key,
    load_issuer_public_key,
    seal,
)
from greenbond.register import (
    PAID_OFF_CHAIN,
    PAID_ON_CHAIN,
    UNPAID,
    RegisterError,
    parse_at,
    run_register,
)

# part of the Ganache compatibility suite (make test-ganache): this file's paths run on both nodes
pytestmark = pytest.mark.compat

DAY = 86_400
HOUR = 3_600
JST = dt.timezone(dt.timedelta(hours=9))
PER_UNIT = 1_000_000 * 5_980 // (1_000_000 * 2)  # 2,990 yen a unit a half year
PAYMENT_REF = b"BANK-TT-0001"

DETAILS = {
    "A": HolderDetails("Sakura Life, \"Green\" Fund <A> (fictitious)", "1-1 Marunouchi\nChiyoda-ku, Tokyo", "a@sakura.example", "corporation"),
    "B": HolderDetails("山田 花子 (fictitious)", "4-4 Aoba-ku, Sendai", "hanako@example.jp", "individual"),
    "C": HolderDetails("Kobe Bank & Trust (fictitious)", "3-3 Sannomiya, Kobe", "", "corporation"),
    "D": HolderDetails("Taro Suzuki (fictitious)", "", "taro@example.com", "non-resident"),
}
MINT = {"A": 400, "B": 300, "C": 200, "D": 100}


def jst_date(ts):
    return dt.datetime.fromtimestamp(ts, JST).date()


def node_time() -> int:
    """The node's clock, with any change an earlier test left pending (an evm_increaseTime not yet
    mined, which Brownie's chain.time() does not show) mined first: the scenario never depends on
    the clock earlier tests left."""
    chain.mine()
    return web3.eth.get_block("latest")["timestamp"]


def goto(ts):
    """Moves the chain's clock to unix time `ts` (never backwards) and mines a block there.
    (Brownie 1.22's chain.mine(timestamp=...) sends malformed params to Anvil, so the clock is
    moved with evm_increaseTime, which Brownie tracks across its snapshots.)"""
    now = node_time()
    if now < ts:
        chain.sleep(ts - now)
        chain.mine()


def node_keeps_history():
    """Whether the node answers eth_call at an old block (Anvil does; so does Ganache 7)."""
    try:
        web3.eth.get_balance(accounts[0].address, block_identifier=1)
        return True
    except Exception:  # noqa: BLE001
        return False


class Scenario:
    pass


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    s = Scenario()
    base = tmp_path_factory.mktemp("register")
    s.deployments = base / "deployments"
    s.key_path = base / "keys" / "issuer.key"
    s.out = base / "out"
    s.out.mkdir()
    generate_issuer_key(s.key_path)

    issue = jst_date(node_time()) + dt.timedelta(days=1)  # the next JST midnight
    maturity = add_months(issue, 24)
    s.terms = replace(
        load_terms(), issue_date=issue, maturity_date=maturity,
        coupon_dates=tuple(regular_schedule(issue, maturity, 2)), documents=(),
    )
    proj = project.get_loaded_projects()[0]
    issuer = accounts[0]
    suite = brownie_handles(deploy_suite(
        web3, Signer(issuer.address), s.terms, network_name="test", development=True, log=lambda _: None,
        directory=s.deployments,
    ), proj)
    bond, registry, schedule, settlement = suite.bond, suite.registry, suite.schedule, suite.settlement
    s.bond = bond
    s.w = {name: accounts[i + 1] for i, name in enumerate("ABCD")}
    s.name_of = {acct.address: name for name, acct in s.w.items()}

    public_key = load_issuer_public_key(s.key_path)
    salt = load_investor_id_salt(s.key_path)
    expires = s.terms.timestamp(maturity) + 365 * DAY
    s.investor = {}
    for name, wallet in s.w.items():
        iid = investor_id(f"CUST-{name}", salt)
        s.investor[name] = "0x" + iid.hex()
        registry.registerHolder(wallet, iid, 392, expires, seal(DETAILS[name], public_key), {"from": issuer})

    s.moves = []  # (block, timestamp, from name or None, to name or None, units)

    def record(tx, sender, receiver, units):
        s.moves.append((tx.block_number, tx.timestamp, sender, receiver, units))

    issue_ts = s.terms.timestamp(issue)
    goto(issue_ts + 10 * HOUR)
    tx = bond.batchMint([s.w[n] for n in MINT], list(MINT.values()), {"from": issuer})
    for n, units in MINT.items():
        record(tx, None, n, units)

    def move(sender, receiver, units):
        tx = bond.transfer(s.w[receiver], units, {"from": s.w[sender]})
        record(tx, sender, receiver, units)
        return tx

    goto(issue_ts + 30 * DAY)
    s.block_after_first_trade = move("A", "B", 50).block_number
    goto(issue_ts + 60 * DAY)
    move("B", "C", 20)
    move("C", "D", 10)

    s.record1 = s.terms.record_timestamps[0]
    s.coupon1 = s.terms.coupon_timestamps[0]
    goto(s.record1 - HOUR)
    move("A", "D", 30)       # the last trade before the record date
    goto(s.record1 + HOUR)
    move("D", "A", 5)        # after it: moves the register, not coupon #1

    goto(s.coupon1 + HOUR)
    schedule.recordOffchainPayment(0, [s.w["D"]], PAYMENT_REF.ljust(32, b"\0"), {"from": issuer})
    settlement.mint(issuer, 10**12, {"from": issuer})
    settlement.approve(schedule, 10**12, {"from": issuer})
    schedule.fundCoupon(0, {"from": issuer})
    schedule.claimCoupon(0, {"from": s.w["A"]})
    schedule.distributeCoupon(0, [s.w["B"]], {"from": issuer})
    s.between = jst_date(s.coupon1) + dt.timedelta(days=10)  # after the payments, before the next trade

    goto(s.coupon1 + 20 * DAY)
    move("C", "A", 15)
    return s


def expected_units(s, *, before=None, block=None):
    """Units per investor from the known moves: before an instant, or up to a block."""
    units = {n: 0 for n in "ABCD"}
    for b, ts, sender, receiver, amount in s.moves:
        if (before is not None and ts >= before) or (block is not None and b > block):
            continue
        if sender:
            units[sender] -= amount
        if receiver:
            units[receiver] += amount
    return units


def expected_acquisitions(s, name, *, before=None, block=None):
    days = {}
    for b, ts, _sender, receiver, amount in s.moves:
        if (before is not None and ts >= before) or (block is not None and b > block):
            continue
        if receiver == name:
            days[jst_date(ts)] = days.get(jst_date(ts), 0) + amount
    return "; ".join(f"{d.isoformat()} (+{u})" for d, u in sorted(days.items()))


def produce(s, at, **kwargs):
    kwargs.setdefault("issuer_key", s.key_path)
    warnings = []
    reg, csv_path, html_path = run_register(
        web3.provider.endpoint_uri, at, terms=s.terms, deployments_dir=s.deployments, out=s.out, chunk=4,
        warn=warnings.append, **kwargs,
    )
    text = csv_path.read_text(encoding="utf-8")
    body = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    rows = {s.name_of[r["wallet"]]: r for r in csv.DictReader(io.StringIO("".join(body)))}
    return reg, text, rows, html_path.read_text(encoding="utf-8"), warnings


def check_holdings(s, reg, rows, units, *, before=None, block=None):
    held = {n: u for n, u in units.items() if u}
    assert {n: int(r["units"]) for n, r in rows.items() if int(r["units"])} == held
    assert len(reg.holders) == len(held)
    assert reg.total_units == sum(units.values())
    for n, r in rows.items():
        assert int(r["face_amount"]) == units[n] * 1_000_000
        assert r["investor_id"] == s.investor[n]
        assert r["acquisition_dates"] == expected_acquisitions(s, n, before=before, block=block)


def test_register_at_a_record_date(scenario):
    s = scenario
    at = jst_date(s.record1).isoformat()
    reg, text, rows, page, warnings = produce(s, at)
    units = expected_units(s, before=s.record1)
    assert units == {"A": 320, "B": 330, "C": 210, "D": 140}
    check_holdings(s, reg, rows, units, before=s.record1)
    assert web3.eth.get_block(reg.target_block)["timestamp"] < s.record1
    assert web3.eth.get_block(reg.target_block + 1)["timestamp"] >= s.record1
    assert reg.label == at and (s.out / f"register-{at}.csv").exists()
    # decrypted details, quoted properly in the CSV
    for n, details in DETAILS.items():
        assert rows[n]["name"] == details.name
        assert rows[n]["postal_address"] == details.address
        assert rows[n]["email"] == details.email
        assert rows[n]["tax_category"] == details.tax_category
    assert not text.startswith("#")
    # coupon #1's record date is this instant: owed to everyone, nothing paid yet
    for n in "ABCD":
        assert rows[n]["coupons_paid"] == ""
        assert rows[n]["coupons_unpaid"] == (
            f"#1 {jst_date(s.coupon1).isoformat()}: {units[n]} units, JPY {units[n] * PER_UNIT} unpaid (not yet due)"
        )
    assert any("is a record date" in line and "balanceOfAt" in line for line in reg.checks)
    # Anvil and Ganache 7 both answer eth_call at old blocks, so the check is the historical one
    assert node_keeps_history(), "this node keeps no old state: the register would fall back (see below)"
    assert any("a historical call" in line for line in reg.checks)
    assert warnings == []
    # HTML: escaped, with totals
    assert "Sakura Life, &#34;Green&#34; Fund &lt;A&gt; (fictitious)" in page   # Jinja2 autoescape (MarkupSafe)
    assert "<A>" not in page
    assert "<dt>Holders</dt><dd>4</dd>" in page and "<dt>Units</dt><dd>1,000</dd>" in page
    assert "PLACEHOLDER-JP-ISIN" in page


def test_register_between_dates_shows_paid_off_chain_and_unpaid_coupons(scenario):
    s = scenario
    instant = s.terms.timestamp(s.between)
    reg, _text, rows, page, _ = produce(s, s.between.isoformat())
    units = expected_units(s, before=instant)
    assert units == {"A": 325, "B": 330, "C": 210, "D": 135}
    check_holdings(s, reg, rows, units, before=instant)
    owed = expected_units(s, before=s.record1)
    pay_day = jst_date(s.coupon1).isoformat()

    def line(n, state):
        return f"#1 {pay_day}: {owed[n]} units, JPY {owed[n] * PER_UNIT} {state}"

    assert rows["A"]["coupons_paid"] == line("A", "paid on chain") and rows["A"]["coupons_unpaid"] == ""
    assert rows["B"]["coupons_paid"] == line("B", "paid on chain")
    assert rows["D"]["coupons_paid"] == line("D", "paid off chain (ref BANK-TT-0001)")
    assert rows["C"]["coupons_paid"] == "" and rows["C"]["coupons_unpaid"] == line("C", "unpaid")
    states = {s.name_of[r.wallet]: r.coupons[0] for r in reg.rows}
    assert states["A"].state == PAID_ON_CHAIN and states["A"].paid_amount == owed["A"] * PER_UNIT
    assert states["D"].state == PAID_OFF_CHAIN and states["D"].payment_ref == "BANK-TT-0001"
    assert states["C"].state == UNPAID and states["C"].due
    assert "paid off chain" in page and "BANK-TT-0001" in page


def test_register_at_latest_and_without_key(scenario):
    s = scenario
    reg, text, rows, page, warnings = produce(s, "latest", issuer_key=s.out / "absent.key", no_details=True)
    units = expected_units(s)
    assert units == {"A": 340, "B": 330, "C": 195, "D": 135}
    check_holdings(s, reg, rows, units)
    assert reg.target_block == web3.eth.block_number
    assert reg.label == f"block-{reg.target_block}"
    assert text.splitlines()[0].startswith("# Personal details not included")
    assert all(r["name"] == r["postal_address"] == r["email"] == r["tax_category"] == "" for r in rows.values())
    assert "Personal details not included" in page
    assert any("Personal details not included" in w for w in warnings)
    for details in DETAILS.values():
        assert details.email not in text + page if details.email else True
        assert details.name not in text + page


def test_register_without_a_key_file_says_so(scenario, monkeypatch):
    s = scenario
    monkeypatch.setenv("GREENBOND_ISSUER_KEY", str(s.out / "missing.key"))
    reg, text, _rows, _page, warnings = produce(s, "latest", issuer_key=None)
    assert not reg.personal_details
    assert "missing.key" in text.splitlines()[0]
    assert any("missing.key" in w for w in warnings)


def test_register_at_a_block_number(scenario):
    s = scenario
    block = s.block_after_first_trade
    reg, _text, rows, _page, _ = produce(s, str(block))
    units = expected_units(s, block=block)
    assert units == {"A": 350, "B": 350, "C": 200, "D": 100}
    check_holdings(s, reg, rows, units, block=block)
    assert reg.target_block == block and reg.label == f"block-{block}"
    assert all(r["coupons_paid"] == r["coupons_unpaid"] == "" for r in rows.values())
    assert rows["B"]["name"] == DETAILS["B"].name


def test_register_falls_back_when_the_node_keeps_no_history(scenario, monkeypatch):
    """An Anvil restarted from a state file (the demo chain after a restart) answers no call at an
    old block: the register then checks the same event history rebuilt to the latest block."""
    import greenbond.register.build as register

    s = scenario
    monkeypatch.setattr(register, "has_state_at", lambda contract, block, latest: block == latest)
    at = jst_date(s.record1).isoformat()
    reg, _text, rows, page, warnings = produce(s, at)
    units = expected_units(s, before=s.record1)
    check_holdings(s, reg, rows, units, before=s.record1)
    assert rows["A"]["name"] == DETAILS["A"].name
    assert any("keeps no state for block" in w for w in warnings)
    assert any(f"rebuilt to block {web3.eth.block_number}" in line for line in reg.checks)
    assert "keeps no state for block" in page


def same_register(a, b) -> bool:
    """Two `produce` results give the same register (all but the time it was generated)."""
    (ra, ta, *_), (rb, tb, *_) = a, b
    return (ra.rows == rb.rows and ra.checks == rb.checks and ra.target_block == rb.target_block
            and ra.transfers_read == rb.transfers_read and ta == tb)


def test_register_through_the_event_index_equals_a_full_read(scenario, tmp_path):
    """The register read through the event index (first cold: the index is built; then warm:
    only blocks after its tip are read) is the register a full read of the node gives, at a
    record date, a date, the latest block and a block number; and when the chain changes under
    the index (a transfer mined, then taken away by a revert, then other blocks), it follows."""
    s = scenario
    path = tmp_path / "events.sqlite"
    for at in (jst_date(s.record1).isoformat(), s.between.isoformat(), "latest", str(s.block_after_first_trade)):
        full = produce(s, at)
        for _ in ("cold", "warm"):
            assert same_register(produce(s, at, index_path=path), full), at
    snap = web3.provider.make_request("evm_snapshot", [])["result"]
    s.bond.transfer(s.w["B"], 7, {"from": s.w["A"]})
    moved = produce(s, "latest", index_path=path)
    assert int(moved[2]["A"]["units"]) == expected_units(s)["A"] - 7
    assert same_register(moved, produce(s, "latest"))
    assert web3.provider.make_request("evm_revert", [snap])["result"] is True
    chain.mine(3)              # longer than before the revert, with other blocks
    undone = produce(s, "latest", index_path=path)
    assert int(undone[2]["A"]["units"]) == expected_units(s)["A"]
    assert same_register(undone, produce(s, "latest"))


def test_sealed_details_must_match_the_registry_record(scenario, monkeypatch):
    """The registry keeps only the keccak256 of each holder's sealed details; the bytes come from
    its events. Bytes that do not hash to the record (a node or an index serving altered logs) are
    refused, naming the holder, and nothing is written."""
    import greenbond.register.build as register

    s = scenario
    real = register._sealed_details

    def altered(*args, **kwargs):
        got = real(*args, **kwargs)
        wallet = s.w["B"].address
        got[wallet] = got[wallet][:-1] + bytes([got[wallet][-1] ^ 1])
        return got

    monkeypatch.setattr(register, "_sealed_details", altered)
    before = sorted(p.name for p in s.out.iterdir())
    with pytest.raises(RegisterError, match=f"sealed details of holder {s.w['B'].address} .* do not match"):
        produce(s, "latest")
    assert sorted(p.name for p in s.out.iterdir()) == before


def test_register_refuses_what_cannot_be_known(scenario):
    s = scenario
    future = jst_date(node_time()) + dt.timedelta(days=400)
    with pytest.raises(RegisterError, match="has not reached"):
        produce(s, future.isoformat())
    with pytest.raises(RegisterError, match="does not exist yet"):
        produce(s, str(web3.eth.block_number + 100))
    with pytest.raises(RegisterError, match="before the bond was deployed"):
        produce(s, "0")
    with pytest.raises(RegisterError, match="before the chain starts"):
        produce(s, "2000-01-01")
    with pytest.raises(RegisterError, match="bad --at"):
        produce(s, "14/06/2024")
    with pytest.raises(RegisterError, match="ISIN"):
        run_register(web3.provider.endpoint_uri, parse_at("latest"), terms=replace(s.terms, isin="JP0000000000"),
                     deployments_dir=s.deployments, out=s.out, no_details=True)
    with pytest.raises(RegisterError, match="no deployment on this chain"):
        run_register(web3.provider.endpoint_uri, "latest", terms=s.terms, deployments_dir=s.out / "none", out=s.out,
                     no_details=True)
    assert load_issuer_private_key(s.key_path)  # the key file is intact and readable
