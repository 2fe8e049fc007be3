"""`python -m greenbond dvp <command>`: delivery versus payment of bond units (contracts/BondDvP.sol).

`offer --account I --to ADDR|any --units N --price P --expiry T` locks N of I's units for a
named buyer or anyone eligible (deploying the DvP first if the chain has none: the issuer
grants it the bond's LOCKER_ROLE); `accept --account I --id K` pays and receives in one
transaction (or waits for the agent on a transfer-approval bond); `cancel`, `expire`, `approve`
and `reject` end a trade; `list` shows the trades. Dev chains use the node's unlocked accounts;
elsewhere GREENBOND_DEPLOYER_KEY or GREENBOND_KEYSTORE signs.
"""

from __future__ import annotations

import argparse
import json

from greenbond import offering as off
from greenbond.chain import ChainError, connect
from greenbond.cli import int_at_least
from greenbond.deployments import DeploymentError
from greenbond.offering_cli import common, parse_time

USER_ERRORS = (off.OfferingError, ChainError, DeploymentError)


def buyer(text: str) -> str:
    """--to: a checksummed address, or 'any' (any eligible buyer); anything else is a usage error."""
    from web3 import Web3

    if text.strip().lower() == "any":
        return "any"
    if not Web3.is_address(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x and 40 hex digits) nor 'any'")
    return Web3.to_checksum_address(text.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("offer", help="offer units to a buyer (or anyone) at a price", description="Offer units to a named buyer or to any eligible buyer, locking them until accepted, cancelled or expired.")
    common(p)
    p.add_argument("--to", required=True, type=buyer, help="the buyer's address, or 'any'")
    p.add_argument("--units", type=int_at_least(1), required=True)
    p.add_argument("--price", type=int_at_least(0), required=True, help="total price in the settlement token's smallest unit")
    p.add_argument("--expiry", default="+1d", help="unix seconds, +N[s|m|h|d] (default +1d) or ISO time (the bond's time zone unless it gives an offset)")
    for name, text in (("accept", "accept a trade: pay and receive the units"), ("cancel", "cancel a trade (seller; or buyer once paid)"),
                       ("expire", "release an expired trade (anyone)"), ("approve", "approve a pending trade (agent)"),
                       ("reject", "reject a pending trade (agent)")):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        common(p)
        p.add_argument("--id", type=int, required=True, help="the trade id")
    p = sub.add_parser("list", help="the trades", description="List the DvP's trades.")
    common(p, account=False)
    p.add_argument("--live", action="store_true", help="only Open and PendingApproval trades")


def command(args) -> int:
    w3 = connect(args.rpc)
    h = off.handles(w3, directory=args.deployments_dir)
    if args.command == "list":
        trades = off.list_trades(w3, off._need(h, "dvp"), only_live=args.live)
        if args.json:
            print(json.dumps(trades, indent=2))
        elif not trades:
            print("no trades")
        for t in [] if args.json else trades:
            print(f"  #{t['id']:<4} {t['status']:<16} {t['seller']} -> {t['buyer'] or 'any eligible buyer'}  "
                  f"{t['units']:,} units for {t['price']:,}  expires {off._time(t['expiry'])}")
        return 0
    signer = off.signer_for(w3, args.account)
    if args.command == "offer":
        expiry = parse_time(args.expiry, off.chain_now(w3))
        if h.dvp is None:
            h.dvp = off.deploy_dvp(w3, h.bond, off.signer_for(w3, None), directory=args.deployments_dir,
                                   log=(lambda _m: None) if args.json else print)
        tid = off.open_dvp_offer(w3, None, signer.address, args.to, args.units, args.price, expiry,
                                 dvp=h.dvp.address, directory=args.deployments_dir, signer=signer)
        if args.json:
            print(json.dumps(off.list_trades(w3, h.dvp)[tid], indent=2, default=str))
            return 0
        print(f"trade {tid}: {args.units:,} units offered to {args.to} for {args.price:,} until {off._time(expiry)}")
        return 0
    d = off._need(h, "dvp")
    if args.command == "accept":
        off.accept_dvp_offer(w3, None, signer.address, args.id, dvp=d.address, directory=args.deployments_dir, signer=signer)
    else:
        off.transact(w3, getattr(d.functions, args.command)(args.id), signer)
    t = off.list_trades(w3, d)[args.id]
    if args.json:
        print(json.dumps(t, indent=2, default=str))
        return 0
    print(f"trade {args.id}: {t['status']}")
    return 0
