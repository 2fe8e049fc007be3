"""greenbond.register without a chain: --at parsing, rebuilding holdings from synthetic Transfer
events, the cross-checks and their sentences, CSV/HTML rendering (escaping) and atomic writes;
and the CLI's exit codes for usage and user errors."""

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest

from greenbond import cli
from greenbond.register import (
    NO_KEY_NOTE,
    PAID_OFF_CHAIN,
    PAID_ON_CHAIN,
    UNPAID,
    AtSpec,
    CouponEntry,
    HolderRow,
    Register,
    RegisterError,
    TransferRecord,
    format_payment_ref,
    mismatches,
    output_paths,
    parse_at,
    rebuild_holdings,
    render_csv,
    render_html,
    write_atomic,
    write_register,
)
from greenbond.register.check import (
    balances_agreement,
    check_balances,
    check_coupon_units,
    check_paid_units,
    check_record_date,
    check_supply,
    coupon_units_agreement,
)

TZ = "Asia/Tokyo"
ZERO = "0x" + "00" * 20
A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
C = "0x" + "cc" * 20


def jst(y, m, d, hour=0, minute=0, second=0):
    """Unix seconds of a wall-clock time in Tokyo (UTC+9)."""
    return int(dt.datetime(y, m, d, hour, minute, second, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp())


def tr(block, ts, sender, receiver, value, log_index=0):
    return TransferRecord(block=block, log_index=log_index, timestamp=ts, sender=sender, receiver=receiver, value=value)


# ---------------------------------------------------------------- --at


@pytest.mark.parametrize(
    "text, expected",
    [
        ("latest", AtSpec("latest")),
        (" LATEST ", AtSpec("latest")),
        ("0", AtSpec("block", block=0)),
        ("1234", AtSpec("block", block=1234)),
        ("2024-06-14", AtSpec("date", date=dt.date(2024, 6, 14))),
        ("2024-02-29", AtSpec("date", date=dt.date(2024, 2, 29))),
    ],
)
def test_parse_at_accepts(text, expected):
    assert parse_at(text) == expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("2023-02-29", "not a real calendar date"),
        ("2024-13-01", "not a real calendar date"),
        ("2024/06/14", "not a date"),
        ("14-06-2024", "not a date"),
        ("-5", "not a date"),
        ("0x10", "not a date"),
        ("yesterday", "not a date"),
        ("", "not a date"),
    ],
)
def test_parse_at_rejects_with_a_sentence(text, words):
    with pytest.raises(ValueError, match=words):
        parse_at(text)


def test_at_text():
    assert parse_at("2024-06-14").text == "2024-06-14"
    assert parse_at("77").text == "block 77"
    assert parse_at("latest").text == "latest"


# ---------------------------------------------------------------- rebuilding


SEQUENCE = [
    tr(10, jst(2023, 12, 14, 10), ZERO, A, 100, 0),   # mint
    tr(10, jst(2023, 12, 14, 10), ZERO, B, 50, 1),    # mint, same block
    tr(12, jst(2024, 3, 1, 23, 59, 59), A, B, 30),     # 1 March in Tokyo (14:59:59 UTC)
    tr(13, jst(2024, 3, 2, 0, 0, 0), A, C, 10),        # 2 March in Tokyo (still 1 March in UTC)
    tr(15, jst(2024, 6, 13, 0, 0, 0), B, C, 5),        # exactly at a record instant: not before it
    tr(16, jst(2024, 6, 20), C, ZERO, 15),             # burn: C holds 0
    tr(17, jst(2024, 6, 20, 12), B, A, 0),             # zero-value transfer: not an acquisition
]


def test_rebuild_units_supply_and_acquisitions_in_the_bond_time_zone():
    h = rebuild_holdings(SEQUENCE, TZ)
    assert h.units == {A: 60, B: 75, C: 0}
    assert h.supply == 135
    assert h.transfers == len(SEQUENCE)
    assert h.acquisitions[A] == [(dt.date(2023, 12, 14), 100)]
    assert h.acquisitions[B] == [(dt.date(2023, 12, 14), 50), (dt.date(2024, 3, 1), 30)]
    # 2024-03-02 00:00 JST is 2024-03-01 in UTC: the date is the bond's
    assert h.acquisitions[C] == [(dt.date(2024, 3, 2), 10), (dt.date(2024, 6, 13), 5)]


def test_same_day_receipts_are_summed():
    seq = [tr(1, jst(2024, 1, 5, 9), ZERO, A, 10), tr(2, jst(2024, 1, 5, 18), ZERO, A, 5)]
    assert rebuild_holdings(seq, TZ).acquisitions[A] == [(dt.date(2024, 1, 5), 15)]


def test_before_keeps_only_blocks_strictly_before_the_instant():
    record = jst(2024, 6, 13)
    at_record = rebuild_holdings(SEQUENCE, TZ, before=record)
    assert at_record.units == {A: 60, B: 80, C: 10}  # the transfer mined at 00:00:00 is after
    assert rebuild_holdings(SEQUENCE, TZ, before=record + 1).units == {A: 60, B: 75, C: 15}
    assert rebuild_holdings(SEQUENCE, TZ, before=jst(2023, 12, 14, 10)).units == {}


def test_other_time_zone_changes_the_dates_only():
    h = rebuild_holdings(SEQUENCE, "UTC")
    assert h.acquisitions[C][0] == (dt.date(2024, 3, 1), 10)
    assert h.units == rebuild_holdings(SEQUENCE, TZ).units


def test_spending_more_than_rebuilt_names_the_holder():
    seq = [tr(1, 100, ZERO, A, 5), tr(2, 200, A, B, 6)]
    with pytest.raises(RegisterError, match=f"holder {A} sends 6 units at block 2 but holds only 5"):
        rebuild_holdings(seq, TZ)


def test_events_out_of_order_are_refused():
    seq = [tr(2, 200, ZERO, A, 5), tr(1, 100, ZERO, B, 5)]
    with pytest.raises(RegisterError, match="out of chain order"):
        rebuild_holdings(seq, TZ)


def test_empty_history():
    h = rebuild_holdings([], TZ)
    assert h.units == {} and h.supply == 0 and h.acquisitions == {}


def test_mismatches_name_every_disagreeing_holder():
    assert mismatches({A: 1, B: 2}, {A: 1, B: 2}) == []
    wrong = mismatches({A: 1, B: 2}, {A: 1, B: 3, C: 4})
    assert wrong == [f"holder {B}: rebuilt 2 units, the chain says 3", f"holder {C}: rebuilt 0 units, the chain says 4"]


def test_checks_refuse_what_the_chain_does_not_confirm():
    """greenbond.register.check: pure functions build_register feeds with its chain reads."""
    check_balances({A: 1, B: 2}, {A: 1, B: 2}, 9)
    with pytest.raises(RegisterError, match=f"disagrees with balanceOf at block 9: holder {B}: rebuilt 2 units, the chain says 3"):
        check_balances({A: 1, B: 2}, {A: 1, B: 3}, 9)
    check_supply({A: 1, B: 2}, 3, 3, 9)
    with pytest.raises(RegisterError, match=r"holds 3 units \(minted less burnt: 3\), but totalSupply at block 9 is 4"):
        check_supply({A: 1, B: 2}, 3, 4, 9)
    with pytest.raises(RegisterError, match="minted less burnt: 4"):
        check_supply({A: 1, B: 2}, 4, 4, 9)
    with pytest.raises(RegisterError, match=f"holder {A} was paid coupon #2 for 5 units but held 4"):
        check_paid_units(A, 2, 5, 4)
    assert "balanceOfAt(holder, 77)" in check_record_date({A: 1}, {A: 1}, dt.date(2024, 6, 13), 77)
    with pytest.raises(RegisterError, match="disagrees with balanceOfAt at record date 2024-06-13"):
        check_record_date({A: 1}, {A: 0}, dt.date(2024, 6, 13), 77)
    with pytest.raises(RegisterError, match="record date of coupon #3 disagree"):
        check_coupon_units(3, {A: 1}, {})
    assert coupon_units_agreement([1], 4).startswith("Units at the record date of coupon #1 were rebuilt")
    assert "dates of coupons #1, #2 " in coupon_units_agreement([1, 2], 8)
    assert "(a historical call)" in balances_agreement(historical=True, target_block=5, checked_block=5, wallets=2, supply=3)
    assert "rebuilt to block 8" in balances_agreement(historical=False, target_block=5, checked_block=8, wallets=2, supply=3)


def test_payment_ref_as_text_or_hex():
    assert format_payment_ref(b"BANK-2024-06-14".ljust(32, b"\0")) == "BANK-2024-06-14"
    raw = bytes(range(32))
    assert format_payment_ref(raw) == "0x" + raw.hex()
    assert format_payment_ref(bytes(32)) == "0x" + "00" * 32


# ---------------------------------------------------------------- rendering


def coupon(state, units=10, ref="", due=True, index=0):
    return CouponEntry(
        index=index, payment_date=dt.date(2024, 6, 14), record_date=dt.date(2024, 6, 13), record_timestamp=jst(2024, 6, 13),
        units=units, per_unit=2_990, amount=units * 2_990, state=state, paid_amount=units * 2_990 if state == PAID_ON_CHAIN else 0,
        payment_ref=ref, due=due,
    )


def sample_register(personal=True, rows=None):
    rows = rows if rows is not None else [
        HolderRow(
            wallet=A, investor_id="0x" + "11" * 32, units=60, face_amount=60_000_000,
            acquisitions=[(dt.date(2023, 12, 14), 100)], coupons=[coupon(PAID_ON_CHAIN, 100)],
            name="<script>alert('x')</script> & Co.", postal_address='1-1 "Marunouchi",\nTokyo', email="a@example.jp",
            tax_category="corporation",
        ),
        HolderRow(
            wallet=B, investor_id="0x" + "22" * 32, units=75, face_amount=75_000_000,
            acquisitions=[(dt.date(2023, 12, 14), 50), (dt.date(2024, 3, 1), 30)],
            coupons=[coupon(PAID_OFF_CHAIN, 50, ref="BANK<1>")], name="=HYPERLINK(\"http://x\")", tax_category="individual",
        ),
        HolderRow(
            wallet=C, investor_id="", units=0, face_amount=0, acquisitions=[(dt.date(2024, 3, 2), 10)],
            coupons=[coupon(UNPAID, 10, due=False)], note="not registered at this point",
        ),
    ]
    if not personal:
        for r in rows:
            r.name = r.postal_address = r.email = r.tax_category = ""
    return Register(
        bond_name="Green <Bond> & Co", symbol="GB", isin="PLACEHOLDER-JP-ISIN", currency="JPY", denomination=1_000_000,
        timezone=TZ, chain_id=31337, at=parse_at("2024-06-13"), label="2024-06-13", target_block=15,
        block_timestamp=jst(2024, 6, 12, 23), at_timestamp=jst(2024, 6, 13), start_block=3, rows=rows,
        personal_details=personal, checks=["Every <check> passed & agreed."], transfers_read=7,
        generated_at=dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.timezone.utc), key_note="" if personal else NO_KEY_NOTE,
    )


def read_csv(text):
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("".join(lines))))


def test_csv_has_one_row_per_holder_with_every_column():
    reg = sample_register()
    text = render_csv(reg)
    assert not text.startswith("#")
    rows = read_csv(text)
    assert [r["wallet"] for r in rows] == [A, B, C]
    a, b, c = rows
    assert a["name"] == "<script>alert('x')</script> & Co."       # CSV quoting, no HTML escaping
    assert a["postal_address"] == '1-1 "Marunouchi",\nTokyo'       # comma, quote and newline survive
    assert a["units"] == "60" and a["face_amount"] == "60000000"
    assert a["acquisition_dates"] == "2023-12-14 (+100)"
    assert a["coupons_paid"] == "#1 2024-06-14: 100 units, JPY 299000 paid on chain"
    assert a["coupons_unpaid"] == ""
    assert b["name"] == "'=HYPERLINK(\"http://x\")"               # no formula for a spreadsheet to run
    assert b["acquisition_dates"] == "2023-12-14 (+50); 2024-03-01 (+30)"
    assert b["coupons_paid"] == "#1 2024-06-14: 50 units, JPY 149500 paid off chain (ref BANK<1>)"
    assert c["investor_id"] == "" and c["units"] == "0"
    assert c["coupons_unpaid"] == "#1 2024-06-14: 10 units, JPY 29900 unpaid (not yet due)"


def test_csv_without_key_says_so_on_its_first_line():
    text = render_csv(sample_register(personal=False))
    first = text.splitlines()[0]
    assert first.startswith("# Personal details not included")
    rows = read_csv(text)
    assert all(r["name"] == "" and r["email"] == "" for r in rows)


def test_html_escapes_everything_and_shows_totals():
    page = render_html(sample_register())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co." in page   # Jinja2 autoescape (MarkupSafe)
    assert "Green &lt;Bond&gt; &amp; Co" in page
    assert "<title>Bond register: Green &lt;Bond&gt; &amp; Co at 2024-06-13</title>" in page
    assert "BANK&lt;1&gt;" in page
    assert "Every &lt;check&gt; passed &amp; agreed." in page
    assert "PLACEHOLDER-JP-ISIN" in page
    assert "<dt>Holders</dt><dd>2</dd>" in page          # C holds nothing: listed for its coupon only
    assert "<dt>Units</dt><dd>135</dd>" in page
    assert "JPY 135,000,000" in page
    assert "block 15" in page
    assert "2024-06-13 00:00:00 JST" in page
    assert "not registered at this point" in page
    assert "Personal details not included" not in page


def test_a_script_in_a_holder_name_is_text_in_the_html():
    """The HTML comes from a Jinja2 template with autoescape on: a hostile name (or note, address,
    e-mail, payment reference) is shown as text, never run as a script or parsed as markup."""
    rows = [
        HolderRow(
            wallet=A, investor_id="0x" + "11" * 32, units=5, face_amount=5_000_000, acquisitions=[(dt.date(2024, 1, 5), 5)],
            coupons=[coupon(PAID_OFF_CHAIN, 5, ref="<script>alert(1)</script>")], name="<script>alert(1)</script>",
            postal_address="<img src=x onerror=alert(1)>", email='"><script>alert(1)</script>', tax_category="individual",
        ),
        HolderRow(wallet=B, investor_id="", units=1, face_amount=1_000_000, acquisitions=[], coupons=[],
                  note="<script>alert(1)</script>"),
    ]
    page = render_html(sample_register(rows=rows))
    assert "<script" not in page and "<img" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "<td><em>&lt;script&gt;alert(1)&lt;/script&gt;</em></td>" in page
    assert '<td class="mono">&lt;script&gt;alert(1)&lt;/script&gt;</td>' in page          # the payment reference
    assert "<pre>&lt;img src=x onerror=alert(1)&gt;</pre>" in page
    assert "<td>&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert render_csv(sample_register(rows=rows)).count("<script>alert(1)</script>") == 3   # CSV keeps the text


def test_html_without_key_says_so():
    page = render_html(sample_register(personal=False))
    assert '<p class="warning">Personal details not included' in page


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "deep" / "register.csv"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["register.csv"]
    assert (os.stat(target).st_mode & 0o777) == 0o600  # a register holds personal details


def test_write_atomic_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "register.html"
    target.write_text("old")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["register.html"]


def test_output_paths(tmp_path):
    default_csv, default_html = output_paths(None, "2024-06-13")
    assert default_csv.parts[-3:] == ("reports", "register", "register-2024-06-13.csv")
    assert default_html.name == "register-2024-06-13.html"
    assert output_paths(tmp_path, "block-9") == (tmp_path / "register-block-9.csv", tmp_path / "register-block-9.html")
    assert output_paths(f"{tmp_path}/new/", "x")[0] == tmp_path / "new" / "register-x.csv"
    assert output_paths(tmp_path / "mine.csv", "x") == (tmp_path / "mine.csv", tmp_path / "mine.html")
    assert output_paths(tmp_path / "mine", "x") == (tmp_path / "mine.csv", tmp_path / "mine.html")


def test_write_register_writes_both(tmp_path):
    csv_path, html_path = write_register(sample_register(), tmp_path)
    assert csv_path.read_text(encoding="utf-8").startswith("wallet,investor_id,name")
    assert "</html>" in html_path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- command line


def test_cli_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["register", "--at", "2024-02-30"])
    assert exc.value.code == 2
    assert "not a real calendar date" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["register", "--chunk", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2


def test_cli_unreachable_node_is_one_line_exit_1(capsys, tmp_path):
    code = cli.main(["register", "--rpc", "http://127.0.0.1:9", "--out", str(tmp_path), "--no-details"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: the RPC node at http://127.0.0.1:9 is unreachable")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_missing_key_file_is_a_user_error(capsys, tmp_path):
    code = cli.main(["register", "--rpc", "http://127.0.0.1:9", "--issuer-key", str(tmp_path / "nope.key")])
    assert code == 1
    assert "does not exist" in capsys.readouterr().err


def test_cli_bad_config_is_a_user_error(capsys, tmp_path):
    bad = tmp_path / "bond.toml"
    bad.write_text("[bond]\nname = 1\n")
    code = cli.main(["register", "--rpc", "http://127.0.0.1:9", "--config", str(bad)])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: bond config:")


def test_python_dash_m_entry_point_exists():
    assert (Path(cli.__file__).parent / "__main__.py").exists()
