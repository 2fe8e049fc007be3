"""Verify from published readings only (issue 13), and the hourly CSV's Wh, quality and coverage
columns, on a demo-like chain (tests.helpers.pageview_fixture: a private Anvil on a free port, the
suite deployed, hourly reports submitted, confirmed in a feeder database and published to
`chain.published_dir`). Every check here runs with the feeder database path pointing at nothing,
so only the published files can be what Verify reads."""

from __future__ import annotations

import csv
import io
import json
import shutil
from zoneinfo import ZoneInfo

import pytest

from greenbond import pageview as pv
from greenbond.merkle import MerkleTree
from tests.helpers.pageview_fixture import DemoLikeChain

HOURS = 30
HOUR = 3600
BUILDING, SOLAR = 1, 2
MISSING_BACK = 10     # the building's hour present - 10 h is never reported: a gap


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = DemoLikeChain.build(tmp_path_factory.mktemp("verify-published"), lifecycle=False)
    try:
        c.report_hours(c.present - HOURS * HOUR, c.present, skip=[(BUILDING, c.present - MISSING_BACK * HOUR)])
        yield c
    finally:
        c.stop()


@pytest.fixture()
def settings(chain, tmp_path):
    pv.forget_sessions()
    return pv.PageSettings(rpc_url=chain.anvil.url, deployments_dir=str(chain.deployments_dir),
                           published_dir=str(chain.published_dir))


def report_of(settings, facility: int, back: int) -> pv.HourOption:
    """The facility's report in force for the hour `back` hours before the newest."""
    return pv.report_hours(settings, facility)[back]


def test_settings_read_the_published_dir_from_the_environment():
    s = pv.settings_from_env({"GREENBOND_PUBLISHED_DIR": "/srv/published"})
    assert s.published_dir == "/srv/published"
    assert pv.settings_from_env({}).published_dir == str(pv.DEFAULT_PUBLISHED_DIR)


def test_fixture_published_every_reported_hour(chain):
    days = {}
    for fid in (BUILDING, SOLAR):
        index = json.loads((chain.published_dir / f"facility-{fid}" / "index.json").read_text())
        days[fid] = sum(d["hours"] for d in index["days"].values())
    assert days == {BUILDING: HOURS - 1, SOLAR: HOURS}


def test_verify_from_published_files_only(chain, settings):
    h = report_of(settings, BUILDING, 3)
    r = pv.verify_report(settings, BUILDING, h.index)
    assert r.all_verified and r.roots_match and r.signatures_ok and not r.problems
    assert len(r.checked) == r.reading_count == 4
    assert r.source == "published" and r.file_ok and r.file_matches_index is True
    day = pv.local_date(h.period_start, ZoneInfo(chain.terms.timezone)).isoformat()
    assert r.published_file == f"facility-{BUILDING}/{day}.json"
    data = pv.published_bytes(settings, r)
    import hashlib

    assert data is not None and hashlib.sha256(data).hexdigest() == r.published_sha256 == r.index_sha256
    assert r.published_root == r.chain_root
    # the tamper switch still makes the check fail
    t = pv.verify_report(settings, BUILDING, h.index, tamper=(0, 123))
    assert not t.all_verified and not t.roots_match and t.readings[0].on_chain is False


def test_one_reading_of_the_solar_plant(settings):
    h = report_of(settings, SOLAR, 0)
    r = pv.verify_report(settings, SOLAR, h.index, only=1)
    assert [x.on_chain for x in r.readings] == [None, True]


def test_a_tampered_published_file_fails(chain, settings, tmp_path):
    pub = tmp_path / "published"
    shutil.copytree(chain.published_dir, pub)
    settings = pv.PageSettings(**{**settings.__dict__, "published_dir": str(pub)})
    h = report_of(settings, BUILDING, 2)
    ok = pv.verify_report(settings, BUILDING, h.index)
    path = pub / ok.published_file
    doc = json.loads(path.read_text())
    hour = next(x for x in doc["hours"] if x["period_start"] == h.period_start)
    hour["readings"][1]["wh"] += 7
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    r = pv.verify_report(settings, BUILDING, h.index)
    assert not r.all_verified and not r.roots_match and not r.file_ok and r.file_matches_index is False
    # the proofs come from the tree of the file's readings, which is not the tree on chain: none holds
    assert [x.on_chain for x in r.readings] == [False] * 4 and r.readings[1].wh == ok.readings[1].wh + 7
    text = " ".join(r.problems)
    assert "changed after it was published" in text and "not to the root the file gives" in text
    assert r.published_root == r.chain_root != r.local_root


def test_no_published_readings_is_a_sentence(settings, tmp_path):
    h = report_of(settings, BUILDING, 0)
    nowhere = pv.PageSettings(**{**settings.__dict__, "published_dir": str(tmp_path / "nothing")})
    with pytest.raises(pv.PageError, match="There are no published readings at .* feeder publish"):
        pv.verify_report(nowhere, BUILDING, h.index)


def test_verify_an_uploaded_day_file(chain, settings):
    h = report_of(settings, SOLAR, 5)
    ok = pv.verify_report(settings, SOLAR, h.index)
    data = (chain.published_dir / ok.published_file).read_bytes()
    r = pv.verify_uploaded(settings, data, SOLAR, h.period_start, name="my-download.json")
    assert r.source == "uploaded" and r.published_file == "my-download.json" and r.index == h.index
    assert r.all_verified and r.roots_match and r.file_ok and r.file_matches_index is True and not r.problems
    day = pv.parse_day_file(data)
    assert h.period_start in day.period_starts and day.facility_id == SOLAR
    first = pv.verify_uploaded(settings, data)          # the file's first hour by default
    assert first.period_start == day.hours[0].period_start and first.all_verified
    # the same file with one value changed: the file is not the published one, and the reading fails
    doc = json.loads(data)
    hour = next(x for x in doc["hours"] if x["period_start"] == h.period_start)
    hour["readings"][0]["wh"] += 1
    bad = pv.verify_uploaded(settings, json.dumps(doc).encode(), SOLAR, h.period_start)
    assert not bad.all_verified and not bad.roots_match and bad.file_matches_index is False
    assert any("not byte for byte the file the operator publishes" in p for p in bad.problems)
    with pytest.raises(pv.PageError, match="not of facility 1"):
        pv.verify_uploaded(settings, data, BUILDING)
    with pytest.raises(pv.PageError, match="is not a JSON file"):
        pv.verify_uploaded(settings, b"\x00\x01", SOLAR)


def test_csv_has_wh_quality_and_a_row_per_missing_hour(chain, settings):
    v = pv.impact_view(settings)
    rows = list(csv.DictReader(io.StringIO(v.csv)))
    assert list(rows[0]) == list(pv.CSV_COLUMNS)
    reported = [r for r in rows if r["coverage"] == "reported"]
    missing = [r for r in rows if r["coverage"] == "missing"]
    assert len(reported) == v.report_count == 2 * HOURS - 1
    assert len(missing) == sum(g.hours for g in v.gaps)
    hole = chain.present - MISSING_BACK * HOUR
    tz = ZoneInfo(chain.terms.timezone)
    hole_rows = [r for r in missing if r["facility_id"] == str(BUILDING) and r["hour_start_local"] == pv.local_time(hole, tz)[:16]]
    assert len(hole_rows) == 1 and hole_rows[0]["report_index"] == "" and hole_rows[0]["actual_kwh"] == ""
    # each reported row's Wh and flags are the stored report's
    oracle = chain.contract("ImpactOracle")
    for r in reported[:: max(1, len(reported) // 12)]:
        rep = oracle.functions.report(int(r["facility_id"]), int(r["report_index"])).call()
        assert r["actual_kwh"] == f"{rep[1] // 1000}.{rep[1] % 1000:03d}"
        assert r["benchmark_kwh"] == f"{rep[2] // 1000}.{rep[2] % 1000:03d}"
        assert (int(r["reading_count"]), int(r["quality_flags"])) == (rep[3], rep[4])
        assert r["quality"] == pv.quality_text(rep[4])
    starts = [(r["hour_start_utc"], int(r["facility_id"])) for r in rows]
    assert starts == sorted(starts)
    # the published readings of a reported row hash to its readings_root
    from greenbond.published import PublishedReadings

    r = next(r for r in reported if r["facility_id"] == str(BUILDING))
    import datetime as dt

    start = int(dt.datetime.strptime(r["hour_start_utc"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.timezone.utc).timestamp())
    assert "0x" + MerkleTree.of_readings(PublishedReadings(settings.published_dir).readings(BUILDING, start)).root.hex() == r["readings_root"]


def test_quality_text():
    assert pv.quality_text(0) == "" and pv.quality_text(5) == "estimated|quarantine_excluded"
    assert pv.quality_text(2 | 16) == "low_coverage|bits_0x10"
