"""greenbond.pageview without a chain: address parsing, the hand decoder of ReportAccepted logs
(against eth_abi), corrections, roll-ups, settings from the environment; the bench's footer parser."""

import pytest
from eth_abi import encode

from greenbond import pageview as pv
from greenbond.pageview_bench import _rpc_from_footer


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
    s = pv.settings_from_env({"GREENBOND_RPC_URL": "http://x:1", "GREENBOND_FEEDER_DB": "/f.sqlite"})
    assert (s.rpc_url, s.feeder_db) == ("http://x:1", "/f.sqlite")
    assert pv.settings_from_env({}).rpc_url == "http://127.0.0.1:8546"


def test_connect_refuses_a_non_url():
    with pytest.raises(pv.PageError, match="is not an RPC URL"):
        pv.connect("localhost:8546")


def test_bench_reads_the_page_footer():
    text = "This render made 66 JSON-RPC calls in 7 HTTP requests and took 0.41 s on the server (...)"
    assert _rpc_from_footer(text) == (66, 7, 0.41)
    with pytest.raises(RuntimeError):
        _rpc_from_footer("nothing")
