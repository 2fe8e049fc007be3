"""The demo's carbon credits: once the backfill has reported the past, the building's latest
complete fiscal year becomes a batch (proposed and sealed by the issuer, approved by the verifier
with the demo's verification statement, issued to the first investor), and part of it is retired
for that investor, so the page and `greenbond credits show` have a batch and a certificate to
show. Skipped when the chain already holds a batch (a resumed demo)."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from greenbond.chain.tx import Signer
from greenbond.config import REPO_ROOT
from greenbond.credits import batches as cb
from greenbond.impact.methodology import fiscal_year, fiscal_year_start

VERIFICATION_DOC = REPO_ROOT / "docs" / "documents" / "credits-verification-demo.md"
FACILITY = 1                 # Kyoso-to
HOLDER_ACCOUNT = 1           # the demo's first investor
RETIRED_SHARE = 4            # a quarter of the batch is retired


def latest_fiscal_year(reporting_start: int, now: int) -> int | None:
    """The newest fiscal year that starts after `reporting_start` and has ended by `now`."""
    year = fiscal_year(dt.datetime.fromtimestamp(now, dt.timezone.utc)) - 1
    if fiscal_year_start(year).timestamp() < reporting_start:
        return None
    return year


def run(suite, store=None, *, verifier: str, log: Callable[[str], None] = print) -> dict | None:
    """Proposes, approves, issues and partly retires the demo batch; returns what it did."""
    credits = cb.credits_of(suite)
    if credits.functions.batchCount().call():
        log("  carbon credits: the chain holds batches already (see `greenbond credits show`)")
        return None
    w3 = suite.w3
    accounts = list(w3.eth.accounts)
    issuer, holder = Signer(accounts[0]), accounts[HOLDER_ACCOUNT]
    facility = suite.oracle.functions.facility(FACILITY).call()
    now = w3.eth.get_block("latest")["timestamp"]
    year = latest_fiscal_year(facility[3], now)
    if year is None:
        log("  carbon credits: no complete fiscal year reported yet")
        return None
    start, end = int(fiscal_year_start(year).timestamp()), int(fiscal_year_start(year + 1).timestamp())
    try:
        plan = cb.plan_batch(suite, FACILITY, start, end, store=store)
    except cb.CreditsError as exc:
        log(f"  carbon credits: no batch for FY{year}: {exc}")
        return None
    batch_id = cb.propose_batch(suite, issuer, plan)
    cb.approve_batch(suite, Signer(verifier), batch_id, VERIFICATION_DOC)
    cb.issue_batch(suite, issuer, batch_id, holder)
    amount = plan.quantity_kg // RETIRED_SHARE
    certificate = cb.retire_credits(suite, Signer(holder), batch_id, amount, "Sakura Life Insurance Co. (fictitious)",
                                    f"FY{year} Scope 2 emissions offset", (start, end))
    log(f"  carbon credits: batch {batch_id} for {facility[5]}, FY{year}: {plan.quantity_kg:,} kg CO2e from "
        f"{len(plan.indexes):,} hourly reports ({cb.percent(plan.coverage_ppm)} of the year), approved by the "
        f"verifier {verifier}, issued to investor 1; {amount:,} kg retired (certificate {certificate}; "
        f"`greenbond credits verify --certificate {certificate}`)")
    return {"batch": batch_id, "certificate": certificate, "quantity_kg": plan.quantity_kg, "retired_kg": amount}
