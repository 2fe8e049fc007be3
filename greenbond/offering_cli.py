"""`python -m greenbond offering <command>`: the bond's primary offering (contracts/Offering.sol).

Issuer or underwriter: `open` deploys an offering of the deployed bond (window, price, limits,
units, underwriter) and grants it the bond's MINTER_ROLE; `status` shows it; `allot` fixes the
allotment after the window closes; `settle` settles every subscriber in batches from the
settlement date (then the underwriter's leg); `cancel` cancels and refunds everyone.
Investors (demo and dev chains): `subscribe --account I --units N`.

On dev chains (chain id 31337 or 1337) transactions come from the node's unlocked accounts
(--account: an index or an address; default 0, the issuer); elsewhere they are signed with
GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE (+ GREENBOND_KEYSTORE_PASSWORD). Gas price 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from greenbond.chain import ChainError, connect, default_rpc_url
from greenbond.cli import int_at_least
from greenbond.deployments import DeploymentError, default_deployments_dir
from greenbond import offering as off

USER_ERRORS = (off.OfferingError, ChainError, DeploymentError)


def common(p: argparse.ArgumentParser, account: bool = True) -> None:
    """The options every offering and DvP command takes, spelled as in every greenbond command."""
    p.add_argument("--rpc", default=default_rpc_url(),
                   help="the node's JSON-RPC URL (default GREENBOND_RPC_URL, else the demo chain %(default)s)")
    p.add_argument("--deployments-dir", type=Path, default=default_deployments_dir(),
                   help="where <chainId>.json lives (default GREENBOND_DEPLOYMENTS, else %(default)s)")
    if account:
        p.add_argument("--account", default=None, help="dev chains: the node's account index or address that sends (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def bond_timezone() -> ZoneInfo:
    """The bond's time zone (the default bond config's: Asia/Tokyo for the demo bond): what a time
    without an offset means in every command, as in the feeder's files."""
    from greenbond.config import DEFAULT_BOND_CONFIG, load_terms

    return ZoneInfo(load_terms(DEFAULT_BOND_CONFIG).timezone)


def parse_time(text: str, now: int, tz: ZoneInfo | None = None) -> int:
    """unix seconds, +N[s|m|h|d] from the chain's clock, or an ISO date/time; one without an
    offset is in the bond's time zone (`tz`, default `bond_timezone()`), as everywhere else."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    m = re.fullmatch(r"\+(\d+)([smhd]?)", text)
    if m:
        return now + int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}[m.group(2)]
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise off.OfferingError(f"{text!r} is not a time: give unix seconds, +N[s|m|h|d] or an ISO date such as 2023-12-01T09:00+09:00") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz or bond_timezone())
    return int(t.timestamp())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("open", help="deploy an offering of the deployed bond (issuer)", description="Deploy an offering of the deployed bond and grant it the bond's MINTER_ROLE (issuer).")
    common(p)
    p.add_argument("--open", required=True, help="window opens: unix seconds, +N[s|m|h|d] or ISO time (the bond's time zone unless it gives an offset)")
    p.add_argument("--close", required=True, help="window closes (same forms)")
    p.add_argument("--settle", default=None, help="settlement date (default: the bond's issue date)")
    p.add_argument("--deadline", default=None,
                   help="settlement deadline: from then unsettled investors are refunded; +N[s|m|h|d] counts from the settlement date (default +30d)")
    p.add_argument("--price", type=int_at_least(1), default=None, help="issue price per unit in the settlement token's smallest unit (default: par)")
    p.add_argument("--min", type=int_at_least(1), default=1, help="minimum units per investor (default 1)")
    p.add_argument("--max", type=int_at_least(1), default=None, help="maximum units per investor (default: the whole offer)")
    p.add_argument("--units", type=int_at_least(1), default=None, help="units offered (default: all not yet issued)")
    p.add_argument("--underwriter", default=None, help="underwriter's address (takes unsold units); none: best efforts")
    p.add_argument("--issuer", default=None, help="who receives the cash (default: the sender)")
    p.add_argument("--name", default="Offering", help="name in the deployments file (default Offering)")
    p = sub.add_parser("status", help="the offering's state, terms and subscriptions", description="Show the offering's state, terms and subscriptions.")
    common(p, account=False)
    p = sub.add_parser("allot", help="fix the allotment after the window closed (allotter)", description="Fix the allotment after the window closed (allotter).")
    common(p)
    p = sub.add_parser("settle", help="settle every subscriber from the settlement date", description="Settle every subscriber in batches from the settlement date, then the underwriter's leg.")
    common(p)
    p.add_argument("--batch", type=int_at_least(1), default=100, help="investors per transaction (default 100)")
    p = sub.add_parser("cancel", help="cancel the offering and refund everyone (allotter)", description="Cancel the offering and refund everyone (allotter).")
    common(p)
    p.add_argument("--no-refund", action="store_true", help="only cancel; investors withdraw their refunds themselves")
    p = sub.add_parser("subscribe", help="subscribe units (an investor; dev chains)", description="Subscribe units, escrowing units x price of the settlement token (an investor).")
    common(p)
    p.add_argument("--units", type=int_at_least(1), required=True, help="units to subscribe (added to any earlier subscription)")
    p.add_argument("--fund", action="store_true", help="dev chains: mint the missing settlement tokens from account 0 first")


def _json(result) -> int:
    print(json.dumps(result, indent=2, default=str))
    return 0


def command(args) -> int:
    w3 = connect(args.rpc)
    if args.command == "open":
        h = off.handles(w3, directory=args.deployments_dir)
        signer = off.signer_for(w3, args.account)
        now = off.chain_now(w3)
        terms = off.default_terms(
            h.bond, args.issuer or signer.address,
            open_time=parse_time(args.open, now), close_time=parse_time(args.close, now),
            settlement_date=parse_time(args.settle, now) if args.settle else None,
            price_per_unit=args.price, min_units=args.min, max_units=args.max, units_offered=args.units,
            underwriter=args.underwriter,
        )
        if args.deadline:
            base = terms.settlement_date if args.deadline.startswith("+") else now
            terms = dataclasses.replace(terms, settlement_deadline=parse_time(args.deadline, base))
            if terms.deadline <= terms.settlement_date:
                raise off.OfferingError(f"the settlement deadline ({off._time(terms.deadline)}) must be after the "
                                        f"settlement date ({off._time(terms.settlement_date)})")
        if terms.settlement_date < terms.close_time:
            raise off.OfferingError(f"the settlement date ({off._time(terms.settlement_date)}) is before the window closes "
                                    f"({off._time(terms.close_time)}); give --settle")
        c = off.deploy_offering(w3, h.bond, terms, signer, directory=args.deployments_dir, name=args.name,
                                log=(lambda _m: None) if args.json else print)
        if args.json:
            return _json(off.offering_status(w3, c))
        print(f"offering {c.address}: {terms.units_offered:,} units at {terms.price_per_unit:,} from "
              f"{off._time(terms.open_time)} to {off._time(terms.close_time)}, settling {off._time(terms.settlement_date)}, "
              f"refundable if unsettled from {off._time(terms.deadline)}")
        return 0
    h = off.handles(w3, directory=args.deployments_dir)
    if args.command == "status":
        st = off.offering_status(w3, off._need(h, "offering"))
        if args.json:
            return _json(st)
        t = st["terms"]
        print(f"offering {st['address']}  state {st['state']}")
        print(f"  window {off._time(t['open_time'])} .. {off._time(t['close_time'])}; settlement {off._time(t['settlement_date'])}")
        print(f"  {t['units_offered']:,} units at {t['price_per_unit']:,}; {t['min_units']:,}..{t['max_units']:,} per investor; "
              f"underwriter {t['underwriter'] if int(t['underwriter'], 16) else 'none (best efforts)'}")
        print(f"  requested {st['total_requested']:,}; issued {st['units_settled']:,}; raised {st['cash_raised']:,}")
        for s in st["subscribers"]:
            print(f"  {s['investor']}  requested {s['requested']:>8,}  allotted {s['allotted']:>8,}  escrow {s['escrow']:>16,}"
                  f"  {'settled' if s['settled'] else ''}")
        return 0
    signer = off.signer_for(w3, args.account)
    if args.command == "allot":
        off.allot(w3, h, signer)
        st = off.offering_status(w3, h.offering)
        if args.json:
            return _json(st)
        print(f"allotted: {st['total_requested']:,} units requested for {st['terms']['units_offered']:,} offered"
              f"{'; the underwriter takes ' + format(st['underwriter_units'], ',') if st['underwriter_units'] else ''}")
    elif args.command == "settle":
        receipts = off.settle(w3, h, signer, batch=args.batch)
        st = off.offering_status(w3, h.offering)
        if args.json:
            return _json(st | {"transactions": len(receipts)})
        print(f"{len(receipts)} transaction(s); state {st['state']}; {st['units_settled']:,} units issued, {st['cash_raised']:,} raised")
    elif args.command == "cancel":
        off.cancel_offering(w3, h, signer, refund=not args.no_refund)
        if args.json:
            return _json(off.offering_status(w3, h.offering))
        print("offering cancelled" + ("" if args.no_refund else "; every escrow refunded"))
    elif args.command == "subscribe":
        funder = off.dev_account(w3, 0) if args.fund else None
        off.subscribe(w3, h, signer, args.units, fund_from=funder)
        s = h.offering.functions.subscriptionOf(signer.address).call()
        if args.json:
            return _json({"investor": signer.address, "requested": s[0], "escrow": s[3]})
        print(f"{signer.address} subscribed; now {s[0]:,} units requested, {s[3]:,} escrowed")
    return 0
