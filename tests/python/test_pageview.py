"""greenbond.pageview without a chain: address parsing, the hand decoders of ReportAccepted and
AllocationRecorded logs (against eth_abi), corrections, roll-ups, settings from the environment;
the bond's share by allocation period (truncated toward zero), gaps from the reported-hours
bitmaps, coverage texts; the bench's footer parser."""

import pytest
from eth_abi import encode

from bench.pageview import _rpc_from_footer
from greenbond import pageview as pv


def test_parse_address():
    a = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert pv.parse_address(a.lower()) == a and pv.parse_address(f"  {a} ") == a
    for bad, words in (("", "Enter a wallet address"), ("0x12", "is not a wallet address"),
                       ("70997970C51812dc3A010C7d01b50e0d17dc79C8", "is not a wallet address"),
                       ("0x70997970c51812dc3A010C7d01b50e0d17dc79C8", "wrong checksum")):
        with pytest.raises(pv.PageError, match=words):
            pv.parse_address(bad)


def test_decode_report_accepted_matches_eth_abi():
    data = encode(["int64", "int64", "bytes32", "uint32", "uint32"], [-1234567, 98765, b"\x07" * 32, 3, 5])
    log = {
        "topics": [pv.REPORT_ACCEPTED_TOPIC, "0x" + (2).to_bytes(32, "big").hex(), "0x" + (41).to_bytes(32, "big").hex(),
                   "0x" + (1_795_554_000).to_bytes(32, "big").hex()],
        "data": "0x" + data.hex(), "blockNumber": "0x10", "logIndex": "0x0", "transactionHash": "0xab",
    }
    r = pv.decode_report_accepted(log)
    assert (r.facility_id, r.index, r.period_start, r.energy_reduction_j, r.co2_avoided_mg) == (2, 41, 1_795_554_000, -1234567, 98765)
    assert r.readings_root == "0x" + "07" * 32 and r.methodology_version == 3 and r.supersedes == 5 and r.block == 16


def _log(f, i, ps, j, supersedes=0):
    return pv.ReportLog(f, i, ps, j, j // 10, "0x", 1, supersedes, 1, "0x")


def test_effective_reports_drop_what_a_correction_superseded():
    logs = [_log(1, 0, 0, 10), _log(1, 1, 3600, 20), _log(2, 0, 0, 5), _log(1, 2, 0, 11, supersedes=1)]
    assert [(l.facility_id, l.index) for l in pv.effective_reports(logs)] == [(1, 1), (2, 0), (1, 2)]


def test_rollups_by_local_day_and_month():
    # 14:00 and 15:00 UTC on 31 Jan are 23:00 on 31 Jan and 00:00 on 1 Feb in Tokyo
    t = 1_706_709_600  # 2024-01-31 14:00 UTC
    daily, monthly = pv._rollups(pv._frame([_log(1, 0, t, 1_000_000), _log(1, 1, t + 3600, 2_000_000)]),
                                 {1: "Kyoso-to, building"}, 9 * 3600)
    assert [d.strftime("%Y-%m-%d") for d in daily["day"]] == ["2024-01-31", "2024-02-01"]
    assert list(daily["energy_mj"]) == [1.0, 2.0] and list(monthly["energy_mj"]) == [1.0, 2.0]
    assert set(daily["short"]) == {"Kyoso-to"}


def test_settings_from_env():
    s = pv.settings_from_env({"GREENBOND_RPC_URL": "http://x:1", "GREENBOND_PUBLISHED_DIR": "/pub",
                              "GREENBOND_FEEDER_DB": "/f.sqlite"})
    assert (s.rpc_url, s.published_dir) == ("http://x:1", "/pub")
    assert "/f.sqlite" not in repr(s)        # the public page has no way to name the feeder's private database
    assert pv.settings_from_env({}).rpc_url == "http://127.0.0.1:8546"


def test_connect_refuses_a_non_url():
    with pytest.raises(pv.PageError, match="is not an RPC URL"):
        pv.connect("localhost:8546")


def test_bench_reads_the_page_footer():
    text = "This render made 66 JSON-RPC calls in 7 HTTP requests and took 0.41 s on the server (...)"
    assert _rpc_from_footer(text) == (66, 7, 0.41)
    with pytest.raises(RuntimeError):
        _rpc_from_footer("nothing")


# ---------------------------------------------------------------- the bond's share and coverage


def test_decode_allocation_recorded_matches_eth_abi():
    bond = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
    data = encode(["uint256", "uint64", "uint256", "uint256"], [2, 1_702_479_600, 3 * 10**9, 10**10])
    log = {"topics": [pv.ALLOCATION_RECORDED_TOPIC, "0x" + (1).to_bytes(32, "big").hex(),
                      "0x" + "00" * 12 + bond[2:].lower()],
           "data": "0x" + data.hex(), "blockNumber": "0x2a", "logIndex": "0x0", "transactionHash": "0xab"}
    a = pv.decode_allocation_recorded(log)
    assert (a.facility_id, a.bond, a.version, a.effective_from, a.allocated_proceeds, a.financed_cost, a.block) == (
        1, bond, 2, 1_702_479_600, 3 * 10**9, 10**10, 42)


def test_truncation_is_toward_zero_like_solidity():
    assert pv.mul_div_toward_zero(10, 1, 3) == 3 and pv.mul_div_toward_zero(-10, 1, 3) == -3   # not -4 (floor)
    assert pv.mul_div_toward_zero(-9, 1, 3) == -3 and pv.mul_div_toward_zero(0, 5, 7) == 0


def test_allocation_in_force_takes_the_last_version_of_its_hour():
    A = pv.Allocation
    versions = [A(100, 1, 2), A(200, 1, 4), A(200, 3, 4), A(500, 0, 4)]
    assert pv.allocation_in_force(versions, 99) is None
    assert pv.allocation_in_force(versions, 100) == A(100, 1, 2)
    assert pv.allocation_in_force(versions, 499) == A(200, 3, 4)     # two versions from 200: the last applies
    assert pv.allocation_in_force(versions, 600) == A(500, 0, 4)
    assert pv.financed_by(versions) and not pv.financed_by([A(0, 0, 5)]) and not pv.financed_by([])
    assert A(0, 1, 3).share_text == "33.33%" and A(0, 5, 5).share_text == "100%"


def test_attributed_share_per_allocation_period_truncated_toward_zero():
    """Periods at 0 (reportingStart), 3600 (this bond's second version) and 7200 (another bond's
    allocation: a period boundary with the same share for this one). Each period's sum x share is
    truncated on its own, as ImpactOracle._attributed does: summing first would give another
    figure."""
    H = 3600
    starts = pv.allocation_period_starts(0, [
        pv.AllocationLog(1, "0xA", 0, 0, 1, 3, 1),          # from reportingStart: no new period
        pv.AllocationLog(1, "0xA", 1, H, 2, 3, 2),
        pv.AllocationLog(1, "0xB", 0, 2 * H, 1, 2, 3),      # another bond: a new period all the same
        pv.AllocationLog(1, "0xB", 1, 2 * H, 1, 4, 4),      # same hour again: no new period
    ])
    assert starts == [0, H, 2 * H]
    mine = [pv.Allocation(0, 1, 3), pv.Allocation(H, 2, 3)]
    hours = [(0, 10, -10), (H, 5, -5), (2 * H, 5, -5), (2 * H + H, -1, 1)]
    # period 0: 10 x 1/3 -> 3, -10 -> -3; period 1: 5 x 2/3 -> 3, -3; period 2: (5 - 1) x 2/3 -> 2, -2
    assert pv.attributed_share(hours, starts, mine) == (3 + 3 + 2, -3 - 3 - 2)
    assert pv.attributed_share(hours, starts, []) == (0, 0)                     # not financed
    assert pv.attributed_share(hours, starts, [pv.Allocation(H, 2, 3)]) == (5, -5)   # nothing in force in period 0
    assert pv.attributed_share(hours, starts, [pv.Allocation(0, 0, 3)]) == (0, 0)     # a zero allocation


def test_gaps_from_the_reported_hours_bitmaps():
    # 600 hours elapsed (3 words): every hour reported but hours 10 and 300; word 2 would reach
    # hour 767, beyond the elapsed hours
    w0 = ((1 << 256) - 1) & ~(1 << 10)
    w1 = ((1 << 256) - 1) & ~(1 << (300 - 256))
    w2 = (1 << (600 - 512)) - 1
    gaps = pv.gaps_from_words(7, 1000 * 3600, 600, [w0, w1, w2])
    assert [(g.start // 3600 - 1000, g.end // 3600 - 1000, g.hours) for g in gaps] == [(10, 11, 1), (300, 301, 1)]
    assert pv.reported_in_words(600, [w0, w1, w2]) == 598
    gaps = pv.gaps_from_words(7, 0, 10, [0b1111100000])          # hours 0-4 missing, 5-9 reported
    assert [(g.start, g.end) for g in gaps] == [(0, 5 * 3600)]
    assert [(g.start, g.end) for g in pv.gaps_from_words(7, 0, 3, [])] == [(0, 3 * 3600)]   # nothing reported
    assert pv.gaps_from_words(7, 0, 0, []) == []


def test_coverage_text_never_rounds_up_to_complete():
    c = pv.Coverage(9_999, 10_000, 3, [pv.Gap(1, 0, 3600)])
    assert c.percent_text == "99.9%" and c.missing_hours == 1 and not c.complete
    assert c.text == "99.9% (9,999 h reported of 10,000 h elapsed), 3 hours estimated, 1 hour missing in 1 gap"
    assert pv.Coverage(10, 10, 1).percent_text == "100.0%" and pv.Coverage(10, 10, 1).missing_text == "no hour missing"
    assert pv.Coverage(0, 0, 0).percent_text == "no hour elapsed"
    assert pv.Coverage(1, 3, 0).percent_text == "33.3%"


def test_document_outside_the_documents_folder_is_never_read(tmp_path, monkeypatch):
    """A document URI on chain is the issuer's word: it may point at the issuer key or a database
    inside the repository. The public page reads and serves only files under the documents folder."""
    inside = pv.document_path("docs/documents/green-bond-framework.md")
    assert inside is not None and pv.document_bytes("docs/documents/green-bond-framework.md").startswith(b"#")
    for uri in ("README.md", ".demo/keys/issuer.key", "docs/documents/../../README.md", "/etc/passwd",
                "docs/documents/missing.md", "https://example.com/framework.pdf"):
        assert pv.document_path(uri) is None and pv.document_bytes(uri) is None, uri
    monkeypatch.setenv("GREENBOND_DOCUMENTS_DIR", str(tmp_path))        # another folder: the repo's docs are out
    assert pv.document_path("docs/documents/green-bond-framework.md") is None
    row = pv._document_row(b"framework", ("README.md", b"\x00" * 32, 0))
    assert row.check == "file missing" and row.file_hash == ""
