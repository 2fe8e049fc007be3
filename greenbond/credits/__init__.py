"""Carbon credits from the oracle's proven avoided CO2 (contracts/CarbonCredits.sol): build a
batch for a facility and a period from the reports in force (`propose`), approve it as the
verifier, mint it, retire credits for a beneficiary, and verify a retirement's certificate down to
the batch, its reports and a single meter reading. `greenbond credits ...` is the command line."""

from greenbond.credits.batches import (
    CreditsError,
    approve_batch,
    batch_info,
    cancel_batch,
    certificate_info,
    issue_batch,
    plan_batch,
    propose_batch,
    resolve_hold,
    retire_credits,
    review_corrections,
    verify_certificate,
)

__all__ = [
    "CreditsError", "approve_batch", "batch_info", "cancel_batch", "certificate_info", "issue_batch", "plan_batch",
    "propose_batch", "resolve_hold", "retire_credits", "review_corrections", "verify_certificate",
]
