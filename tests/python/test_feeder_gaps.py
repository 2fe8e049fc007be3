"""Nothing is lost: outages, late data and gaps on a local Anvil, the feeder run as a separate OS
process (`python -m greenbond feeder ...`).

Each test has its own chain (its clock starts 10 days after the facilities' reporting start,
2023-12-14 00:00 JST), so none depends on another's hours:
  - an outage of 10 days (nothing reported since the reporting start), then `feeder run`: every
    hour of both facilities ends on chain exactly once, equal to an independent recomputation;
  - late data: a later day is reported first (by another feeder database), then an earlier day:
    the earlier hours are sent and reported, never marked confirmed without their report;
  - `feeder status` lists the gaps per facility with the coverage, and `feeder backfill --gaps`
    sends exactly what is missing.
After each, every report the store says confirmed is on chain with its readings root, and the
store's confirmed count equals the reports on chain for its hours.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3

import pytest

from feeder_chain import (
    HOUR, Chain, FeederProcess, check_exactly_once, confirmed_are_on_chain, day, iso, reporting_start, wait_for,
)

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    __import__("pathlib").Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil").exists(),
    reason="anvil is not installed (npm ci)")

SEED = 11


@pytest.fixture
def chain(tmp_path_factory):
    c = Chain(tmp_path_factory.mktemp("feeder-gaps"), genesis=day(10))
    yield c
    c.stop()


def common(chain, db):
    return ["--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments), "--seed", str(SEED)]


def backfill(chain, db, start, end, log, *extra):
    p = FeederProcess(["backfill", *common(chain, db), "--from", iso(start), "--to", iso(end), "--no-progress", *extra],
                      log)
    assert p.wait() == 0, p.errors()[-3000:]
    return p


def status(chain, db, log) -> dict:
    s = FeederProcess(["status", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments), "--json"],
                      log)
    assert s.wait() == 0, s.errors()[-3000:]
    return json.loads(s.output())


def confirmed_count(db) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM outbox WHERE status = 'confirmed'").fetchone()[0]
    finally:
        con.close()


def closed_hour(chain) -> int:
    now = chain.w3().eth.get_block("latest")["timestamp"]
    return now - now % HOUR


def test_ten_day_outage_then_run_reports_every_hour_once(chain, tmp_path):
    """Nothing reported for the 10 days since the reporting start: `feeder run` catches all of it
    up (not only the last 7 days), then stops on SIGTERM after finishing what it was doing."""
    db = tmp_path / "feeder.sqlite"
    closed = closed_hour(chain)
    start = reporting_start()
    assert (closed - start) // HOUR >= 240
    oracle = chain.oracle()
    p = FeederProcess(["run", *common(chain, db), "--poll", "0.5", "--no-progress"], tmp_path / "feeder.log")
    wait_for(lambda: all(oracle.functions.coverage(f).call()[0] >= (closed - start) // HOUR for f in (1, 2)), 300,
             "the feeder to catch up ten days")
    os.kill(p.proc.pid, signal.SIGTERM)
    assert p.wait() == 0, p.errors()[-3000:]
    events = [e["event"] for e in p.events()]
    assert "stopped" in events and "catching_up" in events
    n = check_exactly_once(chain, start, closed, SEED)
    assert n == 2 * (closed - start) // HOUR
    assert confirmed_are_on_chain(chain, db) >= n
    st = status(chain, db, tmp_path / "status.log")
    for f in ("1", "2"):
        c = st["chain"]["facilities"][f]
        assert c["gaps"] == [] or c["gaps"][0][0] >= closed   # only hours closed after the stop
        assert c["hours_reported"] >= (closed - start) // HOUR


def test_late_hours_are_reported_not_marked_confirmed(chain, tmp_path):
    """A later day is on chain first (another feeder database sent it); the earlier day, sent
    late, is reported: before, reconciliation marked every hour before the chain's latest hour
    confirmed with no report behind it."""
    later_db, db = tmp_path / "later.sqlite", tmp_path / "feeder.sqlite"
    backfill(chain, later_db, day(5), day(6), tmp_path / "later.log")
    p = backfill(chain, db, day(2), day(3), tmp_path / "feeder.log", "--batch-size", "24")
    assert [e["event"] for e in p.events()].count("sent") >= 2          # it sent them itself
    assert check_exactly_once(chain, day(2), day(3), SEED) == 48
    assert confirmed_count(db) == 48 == confirmed_are_on_chain(chain, db)
    # the same day computed again in a third database: found on chain with the same roots,
    # confirmed on that evidence, nothing sent twice
    again = tmp_path / "again.sqlite"
    p3 = backfill(chain, again, day(2), day(3), tmp_path / "again.log")
    assert "sent" not in [e["event"] for e in p3.events()]
    assert confirmed_count(again) == 48 == confirmed_are_on_chain(chain, again)
    assert check_exactly_once(chain, day(2), day(3), SEED) == 48


def test_status_lists_gaps_and_backfill_gaps_fills_them(chain, tmp_path):
    db = tmp_path / "feeder.sqlite"
    # days 1 and 3 only: gaps are day 0, day 2 and day 4 to now
    backfill(chain, db, day(1), day(2), tmp_path / "a.log")
    backfill(chain, db, day(3), day(4), tmp_path / "b.log")
    st = status(chain, db, tmp_path / "status.log")
    closed = st["chain"]["now"] - st["chain"]["now"] % HOUR
    for f in ("1", "2"):
        c = st["chain"]["facilities"][f]
        assert c["gaps"] == [[day(0), day(1)], [day(2), day(3)], [day(4), closed]]
        assert c["hours_reported"] == 48 and c["hours_missing"] == (closed - day(0)) // HOUR - 48
        assert c["hours_elapsed"] >= (closed - day(0)) // HOUR
    text = FeederProcess(["status", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments)],
                         tmp_path / "status-text.log")
    assert text.wait() == 0
    out = text.output()
    assert "coverage: 48 of" in out and "3 gap(s)" in out and "backfill --gaps" in out
    assert confirmed_count(db) == 96 == confirmed_are_on_chain(chain, db)

    p = FeederProcess(["backfill", *common(chain, db), "--gaps", "--no-progress"], tmp_path / "gaps.log")
    assert p.wait() == 0, p.errors()[-3000:]
    assert "backfill of 3 gap(s)" in p.output()
    closed_after = closed_hour(chain)
    n = check_exactly_once(chain, day(0), closed, SEED)
    assert n == 2 * (closed - day(0)) // HOUR
    st = status(chain, db, tmp_path / "status2.log")
    for f in ("1", "2"):
        gaps = st["chain"]["facilities"][f]["gaps"]
        assert all(a >= closed for a, _ in gaps) and all(b <= closed_after + HOUR for _, b in gaps)
    assert confirmed_count(db) == confirmed_are_on_chain(chain, db) >= n


def test_backfill_needs_a_period_or_gaps(tmp_path):
    p = FeederProcess(["backfill", "--rpc", "http://127.0.0.1:9", "--db", str(tmp_path / "f.sqlite"), "--no-progress"],
                      tmp_path / "f.log")
    assert p.wait() != 0
    assert "give either --from and --to, or --gaps" in p.errors()
