"""Carbon credits end to end on a local Anvil: a year of simulated readings backfilled by the
feeder (an OS process), a batch proposed with `greenbond credits propose` from the reports in
force, approved by the verifier (another account), issued, part of it retired, and the
retirement's certificate verified down to one published meter reading; the batch's quantity
compared with an independent recomputation from the simulator (greenbond.impact, not the
feeder). Also what the command refuses: a period across two grid factor years, a period credited
already, a period with too few reported hours, unresolved quarantine in the feeder's database.
The chain's clock starts 380 days after the facilities' reporting start (2023-12-14 00:00 JST).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
from feeder_chain import Chain, FeederProcess, day, iso, recompute

from greenbond.config import REPO_ROOT
from tests.helpers.devchain import child_env

pytestmark = pytest.mark.skipif(shutil.which("anvil") is None and not (
    REPO_ROOT / "node_modules" / ".bin" / "anvil").exists(), reason="anvil is not installed (npm ci)")

SEED = 5
BUILDING = 1
FY2024 = "2024-04-01"            # JST: the grid factor year changes here
END = "2024-12-14"               # a year after the reporting start
HOLDER, VERIFIER = 1, 7          # the node's accounts


@pytest.fixture(scope="module")
def fed(tmp_path_factory):
    chain = Chain(tmp_path_factory.mktemp("credits-chain"), genesis=day(380))
    try:
        work = tmp_path_factory.mktemp("credits-work")
        db = work / "feeder.sqlite"
        started = time.monotonic()
        p = FeederProcess(["backfill", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments),
                           "--from", iso(day(0)), "--to", iso(day(366)), "--seed", str(SEED), "--no-progress"],
                          work / "backfill.log")
        assert p.wait(timeout=900) == 0, p.errors()[-3000:]
        print(f"backfilled a year in {time.monotonic() - started:.0f} s")
        published = work / "published"
        pub = subprocess.run([sys.executable, "-m", "greenbond", "feeder", "publish", "--db", str(db), "--out",
                              str(published)], cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
        assert pub.returncode == 0, pub.stderr[-3000:]
        # the holder is registered for the bond, so it may hold the (registry-gated) credits
        w3 = chain.w3()
        from greenbond.chain import open_suite
        from greenbond.chain.tx import Signer, transact

        registry = open_suite(w3, chain.deployments).registry
        transact(w3, registry.functions.registerHolder(w3.eth.accounts[HOLDER], b"\x01" * 32, 392,
                                                       w3.eth.get_block("latest")["timestamp"] + 10 * 365 * 86_400,
                                                       b"\x01"), Signer(w3.eth.accounts[0]))
        yield chain, db, published, work
    finally:
        chain.stop()   # also when the backfill fails: no node left behind


def credits(chain, *args, expect=0) -> dict | str:
    out = subprocess.run([sys.executable, "-m", "greenbond", "credits", *args, "--rpc", chain.url,
                          "--deployments-dir", str(chain.deployments)],
                         cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == expect, out.stderr + out.stdout
    if expect:
        assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
        return out.stderr
    return json.loads(out.stdout) if "--json" in args else out.stdout


def test_a_year_to_a_verified_retirement(fed, tmp_path):
    chain, db, published, _ = fed
    w3 = chain.w3()
    # the whole year crosses the change of grid factor year: one batch carries one factor year
    err = credits(chain, "propose", "--facility", "1", "--from", "2023-12-14", "--to", END, "--db", str(db), expect=1)
    assert "factor year 2023" in err and "factor year 2024" in err and "2024-03-31T15:00Z" in err

    out = credits(chain, "propose", "--facility", "1", "--from", FY2024, "--to", END, "--db", str(db), "--json")
    plan, batch = out["plan"], out["batch"]
    start, end = plan["period_start"], plan["period_end"]
    expected = recompute(start, end, SEED)
    hours = sorted(k[1] for k in expected if k[0] == BUILDING)
    co2 = sum(f.co2_avoided_mg for k, f in expected.items() if k[0] == BUILDING)
    assert plan["hours"] == len(hours) == batch["hours_credited"]
    assert batch["status"] == "sealed" and batch["co2_mg"] == co2
    assert batch["quantity_kg"] == co2 // 10**6 > 0          # floor to whole kilograms
    assert (batch["methodology_version"], batch["factor_year"]) == (1, 2024)
    b = batch["batch_id"]

    # the same hours again: refused before anything is sent
    err = credits(chain, "propose", "--facility", "1", "--from", FY2024, "--to", END, "--no-db", expect=1)
    assert "credited until 2024-12-13T15:00Z" in err

    doc = tmp_path / "verification.pdf"
    doc.write_bytes(b"%PDF-1.4 verification statement (test)")
    err = credits(chain, "approve", "--batch", str(b), "--document", str(doc), expect=1)   # the issuer may not
    assert "AccessControlUnauthorizedAccount" in err
    got = credits(chain, "approve", "--batch", str(b), "--document", str(doc), "--account", str(VERIFIER), "--json")
    assert got["status"] == "approved" and got["verifier"] == w3.eth.accounts[VERIFIER]
    got = credits(chain, "issue", "--batch", str(b), "--to", w3.eth.accounts[HOLDER], "--json")
    assert got["status"] == "issued" and got["serials"] == [1, batch["quantity_kg"]]

    cert = credits(chain, "retire", "--batch", str(b), "--amount", "1000", "--beneficiary", "Example Corp.",
                   "--reason", "FY2024 Scope 2", "--consumption-from", "2024-04-01", "--consumption-to", "2025-04-01",
                   "--account", str(HOLDER), "--json")
    assert (cert["certificate_id"], cert["amount_kg"], cert["retiree"]) == (1, 1000, w3.eth.accounts[HOLDER])
    shown = credits(chain, "show", "--batch", str(b), "--json")
    assert (shown["retired_kg"], shown["outstanding_kg"]) == (1000, batch["quantity_kg"] - 1000)

    verified = credits(chain, "verify", "--certificate", "1", "--published", str(published), "--json")
    assert verified["ok"], verified
    assert [c["step"] for c in verified["checks"]] == ["certificate", "batch", "reports", "quantity", "report", "reading"]
    # any hour of the batch, down to its reading
    verified = credits(chain, "verify", "--certificate", "1", "--published", str(published), "--hour",
                       iso(hours[1000]), "--json")
    assert verified["ok"] and iso(hours[1000])[:16] in verified["checks"][4]["detail"].replace(" ", "T")

    # the page: the batch, the retirement, and the bond's "of which credited" (the building is wholly
    # financed by the bond in the default config: its share is all of the credited CO2)
    from greenbond.pageview import PageSettings, credits_view

    view = credits_view(PageSettings(rpc_url=chain.url, deployments_dir=str(chain.deployments)))
    assert (view.issued_kg, view.retired_kg, view.certificates) == (batch["quantity_kg"], 1000, 1)
    assert view.by_facility == {BUILDING: co2} and view.bond_credited_co2_mg == co2
    assert view.batches[0].serials == f"1-{batch['quantity_kg']:,}" and view.batches[0].status == "issued"

    # a published reading changed after the fact: the certificate no longer verifies down to it
    tampered = tmp_path / "tampered"
    shutil.copytree(published, tampered)
    first = sorted((tampered / "facility-1").glob("2024-04-01.json"))[0]
    data = json.loads(first.read_text())
    data["hours"][0]["readings"][0]["wh"] += 1
    first.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    out = subprocess.run([sys.executable, "-m", "greenbond", "credits", "verify", "--certificate", "1", "--published",
                          str(tampered), "--rpc", chain.url, "--deployments-dir", str(chain.deployments)],
                         cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "FAIL reading" in out.stdout, out.stdout + out.stderr


def test_refusals_before_anything_is_sent(fed, tmp_path):
    chain, db, _, _ = fed
    block = chain.w3().eth.block_number
    # the last days of the data and twelve days without: 5 of 17 days reported
    err = credits(chain, "propose", "--facility", "2", "--from", "2024-12-09", "--to", "2024-12-26", "--no-db", expect=1)
    assert "below the 90.0% minimum" in err
    err = credits(chain, "propose", "--facility", "2", "--from", "2024-12-20", "--to", "2024-12-21", "--no-db", expect=1)
    assert "no report in force" in err
    # a reading the feeder kept out and nobody looked at
    copy = tmp_path / "feeder.sqlite"
    shutil.copy(db, copy)
    con = sqlite3.connect(copy)
    con.execute("INSERT INTO quarantine (facility_id, meter_id, interval_start, raw, reason, detail, source, created_at)"
                " VALUES (2, 'SOLAR-PV-1', ?, '{}', 'spike', 'test', 'test', 0)", (day(200),))
    con.commit()
    con.close()
    err = credits(chain, "propose", "--facility", "2", "--from", FY2024, "--to", END, "--db", str(copy), expect=1)
    assert "1 unresolved quarantine entries of facility 2" in err and "SOLAR-PV-1" in err
    plan = credits(chain, "propose", "--facility", "2", "--from", FY2024, "--to", END, "--db", str(db), "--dry-run",
                   "--json")
    assert plan["sent"] is False and plan["plan"]["quantity_kg"] > 0
    assert chain.w3().eth.block_number == block


def test_the_demo_credits_the_latest_complete_fiscal_year():
    from greenbond.credits.demo import latest_fiscal_year

    start = day(0)                                        # 2023-12-14 00:00 JST
    assert latest_fiscal_year(start, day(380)) is None    # FY2023 began before the reporting start
    assert latest_fiscal_year(start, 1_775_000_000) == 2025   # 2026-04-01 JST: FY2025 has just ended
    assert latest_fiscal_year(start, 1_774_969_199) == 2024   # a second before it ended
