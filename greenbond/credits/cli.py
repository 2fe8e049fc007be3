"""`greenbond credits <command>`: carbon credits from the oracle's proven avoided CO2.

`propose --facility F --from T --to T` plans a batch from the reports in force (refused below the
minimum coverage, with unresolved quarantine in the feeder's database, or across factor years),
then proposes, fills and seals it (the issuer); `approve --batch B --document FILE` (the verifier,
another account); `issue --batch B --to ADDR` (the issuer); `retire --batch B --amount KG
--beneficiary NAME --reason TEXT --consumption-from T --consumption-to T` (a holder);
`review`/`resolve` for corrections that lowered a credited hour; `cancel`; `show` (batches, one
batch, or a certificate) and `verify --certificate C` (down to one published meter reading).
Every command takes --json. Dev chains use the node's unlocked accounts (the verifier is account 7
after `make demo`); elsewhere GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE signs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from greenbond.chain import ChainError, connect, open_suite
from greenbond.chain.keys import signer_for
from greenbond.cli import int_at_least
from greenbond.config import REPO_ROOT
from greenbond.credits import batches as cb
from greenbond.deployments import DeploymentError
from greenbond.offering_cli import common, parse_time

USER_ERRORS = (cb.CreditsError, ChainError, DeploymentError)
DEMO_DIR = REPO_ROOT / ".demo"     # where `make demo` keeps the feeder's database and the published readings


def _address(text: str) -> str:
    from web3 import Web3

    if not Web3.is_address(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x and 40 hex digits)")
    return Web3.to_checksum_address(text.strip())


def _percent(text: str) -> int:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage such as 90 or 92.5") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100")
    return round(value * 10_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("propose", help="plan, propose, fill and seal a batch (issuer)",
                       description="Build a batch for a facility and a period from the oracle's reports in force.")
    common(p)
    p.add_argument("--facility", type=int_at_least(1), required=True, help="the oracle's facility id")
    p.add_argument("--from", dest="start", required=True,
                   help="start of the monitoring period: unix seconds or an ISO date/time (the bond's time zone "
                        "unless it gives an offset), on a whole hour")
    p.add_argument("--to", dest="end", required=True, help="end of the period (excluded), as --from")
    p.add_argument("--min-coverage", type=_percent, default=None,
                   help="refuse below this share of the period's hours (default and floor: the contract's, 90%%)")
    p.add_argument("--db", default=None,
                   help="the feeder's database, for unresolved quarantine (default GREENBOND_FEEDER_DB, else the "
                        "demo's .demo/feeder.sqlite when it exists)")
    p.add_argument("--no-db", action="store_true", help="do not look at a feeder database (say so in the output)")
    p.add_argument("--external-ref", default="", help="the unit at an external registry, e.g. a J-Credit serial")
    p.add_argument("--chunk", type=int_at_least(1), default=cb.DEFAULT_CHUNK, help="reports per transaction")
    p.add_argument("--dry-run", action="store_true", help="print the plan and send nothing")

    for name, text in (("approve", "approve a sealed batch, naming the verification document (verifier)"),
                       ("cancel", "withdraw (issuer) or reject (verifier) a batch not yet issued")):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        common(p)
        p.add_argument("--batch", type=int_at_least(1), required=True)
        p.add_argument("--document", type=Path, required=(name == "approve"),
                       help="the document whose keccak256 goes on chain")

    p = sub.add_parser("issue", help="mint an approved batch (issuer)", description="Mint an approved batch.")
    common(p)
    p.add_argument("--batch", type=int_at_least(1), required=True)
    p.add_argument("--to", type=_address, required=True, help="the wallet receiving the credits")

    p = sub.add_parser("retire", help="retire credits for a beneficiary (holder)",
                       description="Retire credits: they are burned and a certificate records who claims them.")
    common(p)
    p.add_argument("--batch", type=int_at_least(1), required=True)
    p.add_argument("--amount", type=int_at_least(1), required=True, help="kilograms of CO2e (credits)")
    p.add_argument("--beneficiary", required=True, help="who claims the reduction")
    p.add_argument("--reason", default="", help="why, e.g. 'FY2025 Scope 2 offset'")
    p.add_argument("--consumption-from", required=True, help="start of the emissions period offset (as --from)")
    p.add_argument("--consumption-to", required=True, help="its end")

    p = sub.add_parser("review", help="review corrections that lowered an hour (anyone)",
                       description="Review the facility's corrections that lowered an hour's CO2.")
    common(p)
    p.add_argument("--facility", type=int_at_least(1), required=True)

    p = sub.add_parser("resolve", help="lift a facility's hold after a lowered credited hour (verifier)",
                       description="Lift a facility's issuance hold, naming the resolution document.")
    common(p)
    p.add_argument("--facility", type=int_at_least(1), required=True)
    p.add_argument("--document", type=Path, required=True)

    p = sub.add_parser("show", help="the batches, one batch, or a certificate",
                       description="Show every batch, one batch (--batch) or a retirement certificate (--certificate).")
    common(p, account=False)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--batch", type=int_at_least(1))
    which.add_argument("--certificate", type=int_at_least(1))

    p = sub.add_parser("verify", help="verify a certificate down to one meter reading",
                       description="Verify a retirement certificate: the batch, its reports, one reading.")
    common(p, account=False)
    p.add_argument("--certificate", type=int_at_least(1), required=True)
    p.add_argument("--published", default=os.environ.get("GREENBOND_PUBLISHED_DIR") or str(DEMO_DIR / "published"),
                   help="the operator's published readings (default GREENBOND_PUBLISHED_DIR, else the demo's, "
                        "%(default)s)")
    p.add_argument("--hour", default=None, help="check the report of this hour (default: the batch's first)")


def _store(args):
    from greenbond.feeder.store import FeederStore, StoreError

    if args.no_db:
        return None, "quarantine not checked (--no-db)"
    path = args.db or os.environ.get("GREENBOND_FEEDER_DB")
    if path is None:
        default = DEMO_DIR / "feeder.sqlite"
        if not default.exists():
            return None, f"quarantine not checked: no feeder database at {default} (give --db)"
        path = default
    if not Path(path).exists():
        raise cb.CreditsError(f"no feeder database at {path}")
    try:
        return FeederStore(path, readonly=True), f"quarantine checked in {path}"
    except StoreError as exc:
        raise cb.CreditsError(f"cannot open the feeder database {path}: {exc}") from None


def _progress(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = {}

    def update(done: int, total: int) -> None:
        if "b" not in bar:
            bar["b"] = tqdm(total=total, unit="report", desc="adding reports", file=sys.stderr)
        bar["b"].n = done
        bar["b"].refresh()
        if done >= total:
            bar["b"].close()

    return update


def _print(args, data: dict, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print("\n".join(lines))


def _batch_lines(b: dict) -> list[str]:
    out = [f"batch {b['batch_id']}: {b['status']}, facility {b['facility_id']}, {cb.utc(b['period_start'])} to "
           f"{cb.utc(b['period_end'])} (methodology v{b['methodology_version']}, factor year {b['factor_year']})",
           f"  {b['hours_credited']:,} hours taken ({b['estimated_hours']:,} with estimated readings), net CO2 "
           f"{b['co2_mg']:,} mg, {b['deducted_mg']:,} mg deducted -> {b['quantity_kg']:,} kg"]
    if b["serials"]:
        out.append(f"  serials {b['serials'][0]:,}-{b['serials'][1]:,}; retired {b['retired_kg']:,} kg, outstanding "
                   f"{b['outstanding_kg']:,} kg")
    if b["status"] in ("approved", "issued"):
        out.append(f"  verified by {b['verifier']}, document {b['verification_doc_hash']}")
    out.append(f"  reports root {b['reports_root']}" + (f"; external {b['external_ref']}" if b["external_ref"] else ""))
    return out


def command(args) -> int:
    w3 = connect(args.rpc)
    suite = open_suite(w3, args.deployments_dir)
    credits = cb.credits_of(suite)
    now = w3.eth.get_block("latest")["timestamp"]
    if args.command == "show":
        if args.certificate:
            c = cb.certificate_info(suite, args.certificate)
            _print(args, c, [f"certificate {c['certificate_id']}: {c['amount_kg']:,} kg of batch {c['batch_id']} retired "
                             f"{cb.utc(c['retired_at'])} by {c['retiree']}",
                             f"  for {c['beneficiary']!r}: {c['reason'] or '(no reason)'}; emissions "
                             f"{cb.utc(c['consumption_start'])} to {cb.utc(c['consumption_end'])}"])
            return 0
        ids = [args.batch] if args.batch else range(1, credits.functions.batchCount().call() + 1)
        rows = [cb.batch_info(suite, i) for i in ids]
        if args.json:
            print(json.dumps(rows[0] if args.batch else rows, indent=2, default=str))
        else:
            print("\n".join(line for b in rows for line in _batch_lines(b)) or "no batches")
        return 0
    if args.command == "verify":
        hour = parse_time(args.hour, now) if args.hour else None
        checks = cb.verify_certificate(suite, args.certificate, published_dir=args.published, rpc_url=args.rpc,
                                       deployments_dir=args.deployments_dir, hour=hour)
        ok = all(c.ok for c in checks)
        _print(args, {"certificate": args.certificate, "ok": ok, "checks": [vars(c) for c in checks]},
               [f"{'ok ' if c.ok else 'FAIL'} {c.step:<11} {c.detail}" for c in checks]
               + [f"certificate {args.certificate}: {'verified' if ok else 'NOT verified'}"])
        return 0 if ok else 1

    signer = signer_for(w3, args.account)
    if args.command == "propose":
        start, end = parse_time(args.start, now), parse_time(args.end, now)
        store, note = _store(args)
        try:
            plan = cb.plan_batch(suite, args.facility, start, end, min_coverage_ppm=args.min_coverage, store=store)
        finally:
            if store is not None:
                store.close()
        summary = [f"facility {plan.facility_id}, {cb.utc(start)} to {cb.utc(end)}: {len(plan.indexes):,} of "
                   f"{plan.hours_in_period:,} hours reported ({cb.percent(plan.coverage_ppm)}, minimum "
                   f"{cb.percent(plan.min_coverage_ppm)}), {plan.estimated_hours:,} with estimated readings",
                   f"  net CO2 avoided {plan.co2_mg:,} mg; {plan.deducted_mg:,} mg owed by earlier batches -> "
                   f"{plan.quantity_kg:,} kg (rounded down to whole kilograms)",
                   f"  methodology v{plan.methodology_version}, factor year {plan.factor_year}; {note}"]
        if args.dry_run:
            _print(args, {"plan": plan.to_json(), "sent": False}, summary + ["dry run: nothing sent"])
            return 0
        batch_id = cb.propose_batch(suite, signer, plan, external_ref=args.external_ref, chunk=args.chunk,
                                    progress=_progress(not args.json))
        b = cb.batch_info(suite, batch_id)
        _print(args, {"plan": plan.to_json(), "batch": b}, summary + _batch_lines(b)
               + [f"next: the verifier approves it (greenbond credits approve --batch {batch_id} --document FILE)"])
        return 0
    if args.command == "approve":
        digest = cb.approve_batch(suite, signer, args.batch, args.document)
        b = cb.batch_info(suite, args.batch)
        _print(args, b, _batch_lines(b) + [f"approved with document keccak256 0x{digest.hex()}"])
        return 0
    if args.command == "issue":
        cb.issue_batch(suite, signer, args.batch, args.to)
        b = cb.batch_info(suite, args.batch)
        _print(args, b, _batch_lines(b) + [f"issued {b['quantity_kg']:,} credits to {args.to}"])
        return 0
    if args.command == "cancel":
        cb.cancel_batch(suite, signer, args.batch, args.document)
        b = cb.batch_info(suite, args.batch)
        _print(args, b, _batch_lines(b))
        return 0
    if args.command == "retire":
        period = (parse_time(args.consumption_from, now), parse_time(args.consumption_to, now))
        cid = cb.retire_credits(suite, signer, args.batch, args.amount, args.beneficiary, args.reason, period)
        c = cb.certificate_info(suite, cid)
        _print(args, c, [f"certificate {cid}: {c['amount_kg']:,} kg of batch {c['batch_id']} retired for "
                         f"{c['beneficiary']!r}; check it with: greenbond credits verify --certificate {cid}"])
        return 0
    if args.command == "review":
        done = cb.review_corrections(suite, signer, args.facility)
        book = credits.functions.facilityBook(args.facility).call()
        _print(args, {"reviewed": done, "shortfall_mg": book[0], "held": book[3]},
               [f"reviewed {len(done)} lowering corrections of facility {args.facility}; shortfall {book[0]:,} mg; "
                f"issuance {'HELD: the verifier resolves it' if book[3] else 'not held'}"])
        return 0
    if args.command == "resolve":
        digest = cb.resolve_hold(suite, signer, args.facility, args.document)
        _print(args, {"facility": args.facility, "document": "0x" + digest.hex()},
               [f"facility {args.facility}: hold lifted (document keccak256 0x{digest.hex()})"])
        return 0
    raise AssertionError(args.command)
