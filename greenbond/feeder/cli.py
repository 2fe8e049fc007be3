"""The oracle feeder: meter readings -> hourly figures -> k-of-n signed reports on the ImpactOracle.

Commands:
  run                 continuous: every poll, report the hours the chain's clock has closed (first
                      catching up every hour missing on chain, however old, with a progress bar)
  backfill            compute, sign and send the closed hours of a period (--from, --to), or every
                      gap on chain (--gaps)
  status              per facility: latest reported hour, coverage and the gaps on chain, and the
                      store; outbox (and the corrections of restated hours), quarantine
  verify              check one stored reading of an hour on chain (Merkle proof + signers)
  quarantine          list quarantined values (filter by reason), acknowledge them
  publish             write the readings of every hour confirmed on chain as day files per
                      facility (greenbond/published.py), for investors to check the roots

Keys: GREENBOND_SIGNER_KEYS / GREENBOND_SIGNER_KEYSTORES and GREENBOND_TRANSMITTER_KEY /
GREENBOND_TRANSMITTER_KEYSTORE (password: GREENBOND_KEYSTORE_PASSWORD or a prompt); on a dev
chain (31337, 1337) the public dev keys are used when none are given. Logs are JSON lines on
stderr (and --log-file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
from pathlib import Path

from greenbond.chain import default_rpc_url
from greenbond.deployments import default_deployments_dir
from greenbond.cli import int_at_least
from greenbond.meters.csv_source import encoding_name
from greenbond.feeder.logs import LOG_FORMATS, LOG_LEVELS
from greenbond.feeder.transmit import DEFAULT_BATCH_SIZE
from greenbond.meters.model import JST, REASONS, from_unix

DEFAULT_DB = os.environ.get("GREENBOND_FEEDER_DB") or ".demo/feeder.sqlite"   # --db
READER_CONNECT_TIMEOUT = 10.0   # s: status and verify give up on a node that does not answer


def _instant(text: str) -> dt.datetime:
    """ISO 8601; a date alone or a time without offset is JST (the bond's calendar)."""
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            return dt.datetime(d.year, d.month, d.day, tzinfo=JST)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time (e.g. 2024-01-05 or 2024-01-05T09:00+09:00)")
    return value if value.tzinfo else value.replace(tzinfo=JST)


def _common(p: argparse.ArgumentParser, chain: bool = True) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help=f"the feeder's SQLite database (default {DEFAULT_DB})")
    if chain:
        p.add_argument("--rpc", default=default_rpc_url(),
                       help="JSON-RPC URL of the node (default GREENBOND_RPC_URL, else the demo chain %(default)s)")
        p.add_argument("--deployments-dir", "--deployments", dest="deployments", default=default_deployments_dir(),
                       help="folder of <chainId>.json (default GREENBOND_DEPLOYMENTS, else %(default)s)")
        p.add_argument("--log-file", default=None, help="also append the JSON log lines to this file")
        p.add_argument("--log-format", choices=LOG_FORMATS, default="auto",
                       help="stderr's log lines: text on a terminal and JSON lines otherwise (auto, the default), "
                            "or always json or text")
        p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="the least level logged (default info)")
        p.add_argument("--connect-timeout", type=float, default=None,
                       help="give up, in one line, if the node does not answer for this many seconds at start "
                            f"(default: {READER_CONNECT_TIMEOUT:g} s for status and verify; run and backfill keep trying, "
                            "as they do through an outage later on)")


def _encoding(text: str) -> str:
    try:
        return encoding_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


_positive_int = int_at_least(1)
_non_negative_int = int_at_least(0)


def _pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default="simulator", help="simulator (default) | csv:PATH | mqtt://host:port")
    p.add_argument("--encoding", type=_encoding, default="auto",
                   help="of a csv: file: auto (default: UTF-8 with or without BOM if the whole file is UTF-8, "
                        "else CP932), utf-8, cp932 (Shift_JIS)")
    p.add_argument("--skip-bad-lines", action="store_true",
                   help="quarantine the lines of a csv: file that cannot be parsed (parse_error) instead of "
                        "refusing the file")
    p.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    p.add_argument("--facilities", default=None, help="facility file (default config/facilities/default.toml)")
    p.add_argument("--methodology", default=None, help="methodology file (default config/methodology/v1.toml)")
    p.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                   help=f"at most this many hourly reports per transaction (default {DEFAULT_BATCH_SIZE}; fewer when the"
                        " block gas limit or the 128 KB transaction size asks)")
    p.add_argument("--gas-price", type=_non_negative_int, default=0, help="legacy gas price in wei (default 0: consortium/dev chains)")
    p.add_argument("--max-gas", type=_positive_int, default=None, help="gas bound per transaction (default 90%% of the block gas limit)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve /metrics (Prometheus), /healthz and /readyz on this port (docs/runbook.md, Monitoring)")
    p.add_argument("--metrics-addr", default=None,
                   help="the address they listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--receipt-timeout", type=float, default=None,
                   help="seconds to wait for a receipt before looking at the pool again (default 60)")
    m = p.add_argument_group("MQTT (--source mqtt://host:port)")
    m.add_argument("--mqtt-client-id", default=None,
                   help="the client id of the broker session that keeps messages while the feeder is away (default "
                        "greenbond-feeder; one per feeder)")
    m.add_argument("--mqtt-username", default=None, help="login name at the broker")
    m.add_argument("--mqtt-password-file", default=None,
                   help="file holding the broker password (or GREENBOND_MQTT_PASSWORD; never on the command line)")
    m.add_argument("--mqtt-ca", default=None, help="CA certificate file: connect with TLS and trust only this CA")
    m.add_argument("--mqtt-cert", default=None, help="client certificate file (TLS)")
    m.add_argument("--mqtt-key", default=None, help="client certificate's private key file (TLS)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="feeder_cmd", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="continuous: report hours as the chain's clock closes them",
                       description="Runs until Ctrl-C / SIGTERM: every poll, computes the hours closed by the chain's "
                                   "clock, stores and signs them, and sends them. A stop finishes the current database "
                                   "transaction first.")
    _common(p)
    _pipeline_args(p)
    p.add_argument("--poll", type=float, default=5.0, help="seconds between polls (default 5)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while catching up")

    p = sub.add_parser("backfill", help="compute, sign and send the closed hours of a period",
                       description="Computes every closed hour in [--from, --to) (dates are JST days; times without "
                                   "an offset are JST), or with --gaps every closed hour the oracle lacks for any "
                                   "facility (as `feeder status` lists them), stores, signs and sends them, with a "
                                   "progress bar.")
    _common(p)
    _pipeline_args(p)
    p.add_argument("--from", dest="start", type=_instant, default=None, help="start (ISO date or time)")
    p.add_argument("--to", dest="end", type=_instant, default=None, help="end, excluded (ISO date or time)")
    p.add_argument("--gaps", action="store_true", help="every gap on chain instead of --from/--to")
    p.add_argument("--no-send", action="store_true", help="compute and sign only; leave the reports in the outbox")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("status", help="what is reported, on chain and in the store",
                       description="Last hour per facility on chain and in the store, the outbox by status, "
                                   "quarantine counts by reason, staleness against the oracle's heartbeat.")
    _common(p)
    p.add_argument("--offline", action="store_true", help="the store only; do not contact the node")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("verify", help="check a stored reading on chain (Merkle proof, signers)",
                       description="Fetches the hour's readings from the store, builds the Merkle proof of one reading, "
                                   "checks it with ImpactOracle.verifyReading and names the report's signers.")
    _common(p)
    p.add_argument("--facility", type=int, required=True, help="facility id (1, 2, ...)")
    p.add_argument("--hour", type=_instant, required=True, help="start of the hour, ISO (e.g. 2023-12-14T09:00+09:00)")
    p.add_argument("--reading", type=int, default=0, help="index of the reading within the hour (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("quarantine", help="list quarantined values; acknowledge them",
                       description="Lists what VEE kept out, with why; --ack marks entries acknowledged.")
    _common(p, chain=False)
    p.add_argument("--reason", choices=sorted(REASONS), default=None, help="only this reason")
    p.add_argument("--facility", type=int, default=None, help="only this facility")
    p.add_argument("--open", action="store_true", help="only entries not yet acknowledged")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many rows (default 50)")
    p.add_argument("--ack", nargs="*", type=int, default=None, metavar="ID",
                   help="acknowledge these ids (or, with --reason and no ids, every entry of that reason)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("publish", help="publish the readings of confirmed hours as day files (for investors)",
                       description="Writes, for every hour whose report is confirmed on chain, the readings under its "
                                   "Merkle root to OUT/facility-<id>/<day>.json (local days of the bond's time zone) "
                                   "and an index.json per facility with each file's sha256 and roots. Only changed "
                                   "days are rewritten; every file is written atomically. Reads the database only.")
    _common(p, chain=False)
    p.add_argument("--out", required=True, help="the folder to publish to (created if missing)")
    p.add_argument("--facility", type=int, action="append", default=None,
                   help="only this facility id (repeat for several; default every facility in the database)")
    p.add_argument("--since", type=_day, default=None, help="only days from this one on (YYYY-MM-DD, local day)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (write YYYY-MM-DD)")


def _publish(args) -> int:
    from greenbond.feeder.store import FeederStore
    from greenbond.published import prepare_out_dir, publish

    with FeederStore(args.db, readonly=True) as store:
        store.status()      # a database that cannot be read fails here, in one line, before anything is written
        prepare_out_dir(args.out)
        print(f"publishing the confirmed hours of {args.db} to {args.out}"
              + (f" (facilities {', '.join(map(str, args.facility))})" if args.facility else "")
              + (f" from {args.since.isoformat()}" if args.since else "") + " ...", flush=True)
        bar, progress = _progress_bar("publish", args.no_progress)
        if bar is not None:
            bar.unit = "day"
        try:
            summary = publish(store, args.out, args.facility, args.since, progress=progress)
        finally:
            if bar is not None:
                bar.close()
    print(summary.text)
    return 0


def _feeder(args):
    from greenbond.feeder.service import Feeder

    kwargs = {}
    for name, attr in (("facilities_path", "facilities"), ("methodology_path", "methodology"),
                       ("deployments_dir", "deployments")):
        value = getattr(args, attr, None)
        if value:
            kwargs[name] = value
    for name in ("source", "seed", "batch_size", "gas_price", "max_gas", "metrics_port", "metrics_addr", "connect_timeout",
                 "receipt_timeout", "encoding", "skip_bad_lines"):
        if getattr(args, name, None) is not None:
            kwargs[name] = getattr(args, name)
    if getattr(args, "poll", None) is not None:
        kwargs["poll_interval"] = args.poll
    if args.feeder_cmd in ("status", "verify") and kwargs.get("connect_timeout") is None:
        kwargs["connect_timeout"] = READER_CONNECT_TIMEOUT
    if getattr(args, "mqtt_client_id", None) is not None or getattr(args, "source", "").startswith("mqtt"):
        kwargs["mqtt_options"] = _mqtt_options(args)
    # only the commands that send take the one-feeder-per-database lock: status and verify read
    return Feeder(args.rpc, args.db, exclusive=args.feeder_cmd in ("run", "backfill"), **kwargs)


def _mqtt_options(args) -> dict:
    """MqttMeterSource keywords from the options; the password from --mqtt-password-file or
    GREENBOND_MQTT_PASSWORD (a password on a command line is readable by every local user)."""
    from greenbond.feeder.service import FeederError

    password = os.environ.get("GREENBOND_MQTT_PASSWORD")
    if args.mqtt_password_file:
        try:
            password = Path(args.mqtt_password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise FeederError(f"--mqtt-password-file {args.mqtt_password_file}: {exc.strerror}") from None
    for name in ("mqtt_ca", "mqtt_cert", "mqtt_key"):
        path = getattr(args, name)
        if path and not Path(path).is_file():
            raise FeederError(f"--{name.replace('_', '-')} {path}: no such file")
    if password is not None and not args.mqtt_username:
        raise FeederError("a broker password was given (file or GREENBOND_MQTT_PASSWORD) but no --mqtt-username")
    return {"client_id": args.mqtt_client_id, "username": args.mqtt_username, "password": password,
            "ca_file": args.mqtt_ca, "cert_file": args.mqtt_cert, "key_file": args.mqtt_key}


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _hour(ts) -> str:
    return "-" if ts is None else from_unix(int(ts)).astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def command(args) -> int:
    from greenbond.feeder.logs import setup_logging

    if hasattr(args, "rpc"):
        setup_logging(path=args.log_file, level=args.log_level, log_format=args.log_format)
    cmd = args.feeder_cmd
    if cmd == "quarantine":
        return _quarantine(args)
    if cmd == "publish":
        return _publish(args)
    if cmd == "status" and args.offline:
        from greenbond.feeder.store import FeederStore

        with FeederStore(args.db, readonly=True) as store:
            _print_status(store.status(), args.json)
        return 0
    feeder = _feeder(args)
    try:
        if cmd == "run":
            stop = _stop_on_signals()
            feeder.on_file = lambda line: print(line, flush=True)   # what became of a csv: file's rows
            bar, progress = _progress_bar("catch-up", args.no_progress)
            try:
                feeder.run_forever(stop, progress)
            finally:
                if bar is not None:
                    bar.close()
            return 0
        if cmd == "backfill":
            if args.gaps == (args.start is not None or args.end is not None) or (
                    not args.gaps and (args.start is None or args.end is None)):
                raise SystemExit("feeder backfill: give either --from and --to, or --gaps")
            stop = _stop_on_signals()
            bar, progress = _progress_bar("backfill", args.no_progress)
            if args.gaps:
                out = feeder.backfill_gaps(progress, transmit=not args.no_send, stop_event=stop)
                if bar is not None:
                    bar.close()
                print(f"backfill of {len(out['gaps'])} gap(s), {out['gap_hours']} hour(s): {out['hours_new']} new hours "
                      f"({out['readings']} readings), {out['hours_existing']} already stored, "
                      f"{out['quarantined']} quarantined; send: {out.get('transmit', 'not requested')}")
                if out.get("stopped") or out.get("transmit") == "stopped":
                    print("stopped before the end: run the same command again to continue")
                return 0
            out = feeder.backfill(args.start, args.end, progress, transmit=not args.no_send, stop_event=stop)
            if bar is not None:
                bar.close()
            restated = (f"{out['hours_revised']} restated ({out['corrections_queued']} corrections queued), "
                        if out.get("hours_revised") else "")
            print(f"backfill {_hour(out['from'])} .. {_hour(out['to'])}: {out['hours_new']} new hours "
                  f"({out['readings']} readings), {out['hours_existing']} already stored, {restated}"
                  f"{out['quarantined']} quarantined; send: {out.get('transmit', 'not requested')}")
            if out.get("stopped") or out.get("transmit") == "stopped":
                print("stopped before the end: run the same command again to continue")
            if out.get("file_nothing_ingested"):   # a file was read and none of its rows went in: say why
                print(f"error: {out['file']}", file=sys.stderr)
                return 1
            if out.get("file"):
                print(out["file"])
            return 0
        if cmd == "status":
            _print_status(feeder.status(), args.json)
            return 0
        if cmd == "verify":
            period = int(args.hour.timestamp())
            result = feeder.verify(args.facility, period, args.reading)
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                r = result["reading"]
                print(f"facility {result['facility_id']}, hour {_hour(period)}: report #{result['report_index']}, "
                      f"{result['readings']} readings")
                print(f"reading {result['reading_index']}: meter {r['meter_id']}, interval {_hour(r['interval_start'])}"
                      f"{'' if r['interval_start'] % 3600 == 0 else ' +30 min'}, {r['wh']} Wh, flags {r['flags']}")
                print(f"Merkle root: store {result['root_local']}, chain {result['root_on_chain']}")
                print(f"verifyReading: {'TRUE - the reading is under the report on chain' if result['verified'] else 'FALSE'}")
                print(f"signers (set v{result['signer_set_version']}, {result['threshold']} needed): "
                      f"{', '.join(result['signers']) or 'unknown'}"
                      f"{'' if result['signers_in_set'] else '  (NOT all in the signer set)'}")
            return 0 if result["verified"] else 1
    finally:
        feeder.close()
    return 2


def _progress_bar(desc: str, off: bool):
    """A tqdm bar on stderr and its progress(done, total) callback; (None, None) when off."""
    if off:
        return None, None
    from tqdm import tqdm

    # only on a terminal (disable=None): a pipe or a supervisor's log gets the log lines alone
    bar = tqdm(total=0, unit="h", desc=desc, file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, progress


def _ranges(gaps: list, limit: int = 5) -> str:
    shown = [f"{_hour(a)} .. {_hour(b)} ({(b - a) // 3600} h)" for a, b in gaps[:limit]]
    more = f", and {len(gaps) - limit} more" if len(gaps) > limit else ""
    return "; ".join(shown) + more


def _print_status(st: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(st, indent=2, default=str))
        return
    chain = st.get("chain") if isinstance(st.get("chain"), dict) else None
    if chain:
        print(f"chain {chain['chain_id']}, oracle {chain['oracle']}, chain time {_hour(chain['now'] - chain['now'] % 3600)}"
              f" (+{chain['now'] % 3600 // 60} min), heartbeat {chain['heartbeat_s'] // 3600} h")
    print("facility  latest hour on chain     last confirmed (store)   last stored             age      stale")
    fids = sorted(set(st["facilities"]) | set((chain or {}).get("facilities", {})))
    for fid in fids:
        local = st["facilities"].get(fid, {})
        c = (chain or {}).get("facilities", {}).get(fid)
        on_chain = _hour(c["last_period_end"] - 3600) if c and c["report_count"] else "-"
        age = f"{c['age_s'] / 3600:.1f} h" if c else "-"
        stale = ("STALE" if c["stale"] else "ok") if c else "-"
        print(f"{fid:>8}  {on_chain:<23}  {_hour(local.get('last_confirmed_hour')):<23}  "
              f"{_hour(local.get('last_stored_hour')):<22}  {age:<7}  {stale}")
    for fid in fids:
        c = (chain or {}).get("facilities", {}).get(fid)
        if not c:
            continue
        share = f"{100 * c['hours_reported'] / c['hours_elapsed']:.1f}%" if c["hours_elapsed"] else "-"
        print(f"facility {fid} coverage: {c['hours_reported']:,} of {c['hours_elapsed']:,} closed hours on chain ({share}),"
              f" {c['hours_estimated']:,} with estimated readings; missing {c['hours_missing']:,} h"
              + (f" in {len(c['gaps'])} gap(s): {_ranges(c['gaps'])}" if c["gaps"] else ""))
    if chain and any(c["gaps"] for c in chain["facilities"].values()):
        print("gaps: `feeder run` fills them from the simulator; for files, `feeder backfill --gaps --source csv:PATH`")
    ob = st["outbox"]
    print(f"outbox: {ob['pending']} pending, {ob['sent']} sent, {ob['confirmed']} confirmed, {ob['failed']} failed")
    co = st.get("corrections") or {}
    if any(co.values()):
        print(f"corrections (in the outbox): {co.get('pending', 0)} pending, {co.get('sent', 0)} sent, "
              f"{co.get('confirmed', 0)} confirmed, {co.get('failed', 0)} failed; "
              f"{co.get('due', 0)} restated hour(s) waiting for their report to be confirmed")
    if st["quarantine"]:
        print("quarantine by reason (open / total):")
        for reason, c in sorted(st["quarantine"].items()):
            print(f"  {reason:<22} {c['open']:>6} / {c['total']}")
    else:
        print("quarantine: empty")


def _quarantine(args) -> int:
    from greenbond.feeder.store import FeederStore, StoreError

    if args.ack is not None:
        if not args.ack and not args.reason:
            raise StoreError("--ack needs ids, or --reason to acknowledge every entry of a reason")
        with FeederStore(args.db) as store:
            n = store.acknowledge(args.ack or None, None if args.ack else args.reason)
        print(f"acknowledged {n} entr{'y' if n == 1 else 'ies'}")
        return 0
    with FeederStore(args.db, readonly=True) as store:
        rows = store.quarantine(args.reason, args.facility, False if args.open else None, args.limit)
    if args.json:
        print(json.dumps([vars(r) if hasattr(r, "__dict__") else r.__dict__ for r in rows], default=str, indent=2))
        return 0
    if not rows:
        print("no quarantined values match")
        return 0
    for r in rows:
        when = _hour(r.interval_start) if r.interval_start is not None else "-"
        print(f"#{r.id:<6} {'ack ' if r.acknowledged else 'open'} {r.reason:<20} {r.meter_id or '-':<14} {when:<20} "
              f"{r.detail[:80]}")
    return 0


from greenbond.feeder.service import USER_ERRORS as _SERVICE_ERRORS  # noqa: E402
from greenbond.impact.facilities import FacilityConfigError  # noqa: E402
from greenbond.impact.methodology import MethodologyError  # noqa: E402

from greenbond.published import PublishError  # noqa: E402

USER_ERRORS = _SERVICE_ERRORS + (FacilityConfigError, MethodologyError, PublishError)
