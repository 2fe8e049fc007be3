"""The feeder pipeline: a meter source (the simulator by default, CSV files, MQTT) -> VEE ->
hourly aggregation -> the store (readings, quarantine, hours) -> k-of-n signed reports in the
outbox -> `submitReports` transactions (transmit.py).

    feeder = Feeder(rpc_url, db_path, source="simulator", seed=0)
    feeder.backfill(start, end, progress=lambda done, total: ...)   # closed hours in [start, end)
    feeder.run_forever(stop_event)                                   # until stop_event is set
    feeder.status(); feeder.verify(facility_id, period_start)

"Now" is the chain's latest block timestamp (dev chains travel in time): only hours that have
ended by then are computed and reported. Streaming: the simulator generates a day at a time,
VEE keeps 7 days of integers per meter, the aggregator a few open hours, and figures are
committed to the store every `commit_hours` hours, so memory does not grow with the period.
`Pipeline` needs no chain (a `ChainContext` says which chain, oracle and versions to sign for).

Hours already stored are restated when their readings change (corrections.py): a value VEE or
the aggregator would quarantine because its interval or hour was already covered is offered to
its hour instead (applied if it outranks the value there), and a later run's figure for a stored
hour offers its received readings. A changed stored hour gets its new figure, readings and
report or correction in the same transaction as the rest of the commit.

A CSV source is read whole once when the Feeder is made (csv_source.scan_csv), before the chain or
the database is touched: a file that cannot be read, or none of whose rows could be ingested, is
refused there in one line. After the file went through the pipeline its rows are accounted for
(`file_summary`: rows, ingested, rejected per reason); a file of which no row was ingested makes
the command exit non-zero saying why, instead of reporting "0 new hours".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from eth_utils import keccak

from greenbond.chain import DEFAULT_RPC_URL, ChainError, open_suite
from greenbond.config import REPO_ROOT
from greenbond.deployments import DEPLOYMENTS_DIR
from greenbond.feeder.corrections import REVISABLE, announce, describe, merge, offered_reading, refigure
from greenbond.feeder.corrections import log as corrections_log
from greenbond.feeder.keys import FeederKeys, KeyConfigError, load_keys
from greenbond.feeder.signer import ReportSigner
from greenbond.feeder.store import (
    FeederStore,
    QuarantineTally,
    StoreError,
    report_from_json,
    signatures_from_json,
)
from greenbond.feeder.transmit import DEFAULT_BATCH_SIZE, RpcUnavailable, Transmitter, TransmitError, rpc_guard
from greenbond.impact.facilities import DEFAULT_FACILITIES, FacilitySpec, all_meter_specs, load_facilities
from greenbond.impact.hourly import HourlyAggregator, HourlyFigure, hour_of, hourly_report, is_estimate
from greenbond.impact.methodology import DEFAULT_METHODOLOGY, Methodology, load_methodology
from greenbond.merkle import MerkleTree
from greenbond.meters.csv_source import CsvFileError, CsvScan, RowTally, scan_csv, summary_line
from greenbond.meters.model import QuarantineEntry, from_unix, to_utc

log = logging.getLogger("greenbond.feeder")

HOUR = 3600
DEFAULT_DB = REPO_ROOT / ".demo" / "feeder.sqlite"
DEFAULT_COMMIT_HOURS = 24
MQTT_BATCH = 5_000         # messages kept (one SQLite transaction) and acknowledged per poll of the broker
DEFAULT_CATCHUP_S = None   # `feeder run` catches up every missing hour, however old (a bound in seconds may be set)
Progress = Callable[[int, int], None]


def _acquire_lock(db_path: Path):
    """One feeder per database: two would send the same outbox twice over. An exclusive,
    non-blocking lock on `<db>.lock`, held for the life of the process (released by the OS if it
    dies, so a kill -9 never leaves a stale lock)."""
    import fcntl

    lock_path = Path(str(db_path) + ".lock")
    try:
        handle = open(lock_path, "a+")
    except OSError as exc:   # a read-only folder, a missing one, a path that is not a folder
        raise FeederError(f"cannot write beside the feeder database {db_path} ({exc.strerror or exc}): "
                          "the feeder needs a writable folder for its database and lock") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise FeederError(f"another feeder is already running on {db_path} (pid {holder}); stop it first") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _given(mqtt_options: dict | None) -> dict:
    """MqttMeterSource keywords (client_id, username, password, ca_file, cert_file, key_file) that
    were given: the others keep the source's defaults."""
    return {k: v for k, v in (mqtt_options or {}).items() if v is not None}


def failpoint(name: str) -> None:
    """For the crash tests only: with GREENBOND_FEEDER_FAILPOINT=<name> in its environment the
    feeder logs the point and waits there to be killed (tests/python/test_feeder_mqtt.py sends
    SIGKILL at each point of the MQTT path). Unset, it does nothing."""
    if os.environ.get("GREENBOND_FEEDER_FAILPOINT") == name:
        log.warning("failpoint reached: waiting to be killed", extra={"event": "failpoint", "point": name})
        threading.Event().wait()


class FeederError(RuntimeError):
    """The feeder cannot go on; the message is a sentence for a person."""


@dataclass(frozen=True)
class ChainContext:
    """What signing and filtering need to know about the chain."""

    chain_id: int
    oracle_address: str
    methodology_version: int
    signer_set_version: int
    threshold: int
    reporting_start: dict = field(default_factory=dict)   # facility id -> unix seconds
    heartbeat: int = 0


@dataclass
class IngestResult:
    readings: int = 0
    hours_new: int = 0
    hours_existing: int = 0
    hours_before_start: int = 0
    hours_revised: int = 0           # stored hours whose readings changed (corrections.py)
    corrections_queued: int = 0
    quarantined: int = 0
    last_hour: int | None = None
    stopped: bool = False

    def as_dict(self) -> dict:
        return dict(vars(self))


# ---------------------------------------------------------------- sources


def parse_source(spec: str) -> tuple[str, object]:
    """'simulator' | 'csv:PATH' | 'mqtt://host:port' -> (kind, argument)."""
    if spec == "simulator":
        return "simulator", None
    if spec.startswith("csv:"):
        path = Path(spec[4:])
        if not path.is_file():
            raise FeederError(f"--source {spec}: no such file {path}")
        return "csv", path
    if spec.startswith("mqtt://"):
        hostport = spec[len("mqtt://"):].rstrip("/")
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise FeederError(f"--source {spec}: write mqtt://host:port")
        return "mqtt", (host, int(port))
    raise FeederError(f"--source {spec!r}: use simulator, csv:PATH or mqtt://host:port")


# ---------------------------------------------------------------- the chain-free pipeline


class Pipeline:
    """Sources -> VEE -> HourlyAggregator -> store + signed outbox entries. No chain needed."""

    def __init__(self, store: FeederStore, facilities: list[FacilitySpec], methodology: Methodology,
                 context: ChainContext, signer: ReportSigner, *, commit_hours: int = DEFAULT_COMMIT_HOURS,
                 metrics=None):
        self.store = store
        self.facilities = facilities
        self.methodology = methodology
        self.context = context
        self.signer = signer
        self.commit_hours = max(1, commit_hours)
        self.metrics = metrics
        self.meters = all_meter_specs(facilities)
        self.meter_facility = {m: s.facility_id for m, s in self.meters.items()}
        self.facility = {f.facility_id: f for f in facilities}

    def stream(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> "PipelineStream":
        return PipelineStream(self, start, end)

    def ingest(self, items: Iterable, start: dt.datetime | None, end: dt.datetime | None, *,
               progress: Progress | None = None, stop_event: threading.Event | None = None,
               cursor_key: str | None = None) -> IngestResult:
        """Runs a whole stream through; commits every `commit_hours` figures per facility."""
        s = self.stream(start, end)
        s.progress, s.stop_event, s.cursor_key = progress, stop_event, cursor_key
        s.feed(items)
        if not s.result.stopped:
            s.finish()
        return s.result


class PipelineStream:
    """One VEE + aggregator run; `feed` may be called many times (MQTT), `finish` once."""

    def __init__(self, pipeline: Pipeline, start, end):
        from greenbond.meters.vee import Vee

        self.p = pipeline
        self.start_ts = int(to_utc(start).timestamp()) if start is not None else None
        self.end_ts = int(to_utc(end).timestamp()) if end is not None else None
        self.vee = Vee(pipeline.meters, start, end)
        self.agg = HourlyAggregator(pipeline.facilities, pipeline.methodology)
        self.result = IngestResult()
        self.progress: Progress | None = None
        self.stop_event: threading.Event | None = None
        self.cursor_key: str | None = None
        self._figures: list[HourlyFigure] = []
        self._quarantine: list[QuarantineEntry] = []
        self._offered: list[tuple] = []        # (Reading, QuarantineEntry) for closed hours, see _chain
        self._last_end: dict[int, int] = {}   # facility -> end of its last committed hour
        self._flush_at = pipeline.commit_hours * len(pipeline.facilities)
        self.tally = QuarantineTally()         # the run's quarantine sample and counts (store.py)
        self.file_tally: RowTally | None = None   # reading a file: its rejected rows, by reason

    def feed(self, items: Iterable) -> None:
        if self.p.metrics is not None:
            items = self._counted(items)
        for out in self._chain(items):
            if isinstance(out, HourlyFigure):
                self._figures.append(out)
                if len(self._figures) >= self._flush_at:
                    self.commit()
                    if self.stop_event is not None and self.stop_event.is_set():
                        self.result.stopped = True
                        return
            else:
                self._quarantine.append(out)
                if len(self._quarantine) >= 10_000:
                    self.commit()
        self.commit()

    def _counted(self, items: Iterable) -> Iterator:
        """The items, each reading counted by its source's kind (sim, csv, mqtt) in the metrics."""
        counts: dict[str, int] = {}
        try:
            for item in items:
                if not isinstance(item, QuarantineEntry):
                    kind = (getattr(item, "source", "") or "unknown").split(":", 1)[0]
                    counts[kind] = counts.get(kind, 0) + 1
                yield item
        finally:
            for kind, n in counts.items():
                self.p.metrics.readings_received(kind, n)

    def _chain(self, items: Iterable) -> Iterator:
        """VEE -> aggregator. A valid value for an interval already covered (REVISABLE quarantine)
        is offered to its hour: still open, the aggregator takes it if it outranks the value there
        ('applied': no quarantine) or not ('kept': quarantined as before); closed, it waits in
        `_offered` for the next commit. So does a received reading the aggregator calls 'late'."""
        agg = self.agg
        for item in items:
            for v in self.vee.feed(item):
                if isinstance(v, QuarantineEntry):
                    r = offered_reading(item, v) if v.reason in REVISABLE else None
                    if r is not None:
                        how = agg.revise(r)
                        if how != "kept":
                            if how == "closed":
                                self._offered.append((r, v))
                            continue
                    yield from agg.feed(v)
                    continue
                for out in agg.feed(v):
                    if isinstance(out, QuarantineEntry) and out.reason == "late" and not is_estimate(v):
                        self._offered.append((v, out))
                    else:
                        yield out

    def finish(self) -> IngestResult:
        for v in self.vee.finish():
            for out in self.agg.feed(v):
                (self._figures if isinstance(out, HourlyFigure) else self._quarantine).append(out)
        for out in self.agg.finish():
            (self._figures if isinstance(out, HourlyFigure) else self._quarantine).append(out)
        self.commit(final=True)
        return self.result

    def _restate(self, stored, offered: list, quarantine: list) -> tuple[HourlyFigure | None, list]:
        """A stored hour with values offered to it: its new figure if they change its readings
        (else None), and the changes; values not taken go to `quarantine`."""
        p = self.p
        fid, start = stored.facility_id, stored.period_start
        m = merge(p.store.readings(fid, start), offered)
        if not m.changed:
            quarantine += m.quarantine
            return None, []
        if stored.methodology_version != p.context.methodology_version:
            corrections_log.warning("readings of an hour stored under another methodology version changed: not restated", extra={
                "event": "correction_skipped", "facility_id": fid, "period_start": start,
                "stored_methodology_version": stored.methodology_version,
                "methodology_version": p.context.methodology_version, "readings_changed": describe(m.changed)})
            quarantine += [e for _, e in offered if e is not None]
            return None, []
        quarantine += m.quarantine
        return refigure(p.facility[fid], p.methodology, start, m.readings, stored.quality_flags), m.changed

    def commit(self, final: bool = False) -> None:
        """Stores the buffered figures and quarantine entries in ONE transaction, with the cursor,
        and the stored hours restated by offered values with their reports or corrections."""
        if not self._figures and not self._quarantine and not self._offered and not final:
            return
        p, ctx = self.p, self.p.context
        figures, quarantine = self._figures, list(self._quarantine)
        offered: dict[tuple[int, int], list] = {}
        for r, entry in self._offered:
            offered.setdefault((r.facility_id, hour_of(r.ts)), []).append((r, entry))
        prepared, revised, changes = [], [], {}
        for fig in figures:
            key = (fig.facility_id, fig.period_start)
            if fig.period_start < ctx.reporting_start.get(fig.facility_id, 0):
                self.result.hours_before_start += 1
                continue
            stored = p.store.hour(*key)
            if stored is not None:
                self.result.hours_existing += 1
                more = offered.pop(key, [])
                if fig.readings_root != stored.readings_root or more:
                    new_fig, changed = self._restate(stored, [(r, None) for r in fig.readings] + more, quarantine)
                    if new_fig is not None:
                        revised.append(new_fig)
                        changes[key] = describe(changed)
                continue
            more = offered.pop(key, None)
            if more:   # values that came after the hour closed, before it was stored
                m = merge(fig.readings, more)
                quarantine += m.quarantine
                if m.changed:
                    fig = refigure(p.facility[fig.facility_id], p.methodology, fig.period_start, m.readings,
                                   fig.quality_flags)
            report = hourly_report(fig, ctx.methodology_version, ctx.signer_set_version)
            prepared.append((fig, report, p.signer.sign(report)))
        for key, more in offered.items():   # hours stored by an earlier commit or run, or never
            stored = p.store.hour(*key) if key[1] >= ctx.reporting_start.get(key[0], 0) else None
            if stored is None:
                quarantine += [e for _, e in more]
                continue
            new_fig, changed = self._restate(stored, more, quarantine)
            if new_fig is not None:
                revised.append(new_fig)
                changes[key] = describe(changed)
        counts: dict[str, int] = {}
        for q in quarantine:
            counts[q.reason] = counts.get(q.reason, 0) + 1
        for fig in figures:
            self._last_end[fig.facility_id] = max(self._last_end.get(fig.facility_id, 0), fig.period_start + HOUR)
        done = None
        if len(self._last_end) == len(p.facilities):
            done = min(self._last_end.values())   # every facility is complete up to here
        if final and self.end_ts is not None:
            done = self.end_ts
        with p.store.transaction() as cur:
            new = sum(p.store.add_hour(fig, ctx.methodology_version, report, sigs, cur) for fig, report, sigs in prepared)
            for fig in revised:
                p.store.revise_hour(fig, cur)
            added_q = p.store.add_quarantine(quarantine, p.meter_facility, cur, self.tally)
            if self.cursor_key and done is not None and self.start_ts is not None:
                p.store.set_meta(f"cursor:{self.cursor_key}", json.dumps({"start": self.start_ts, "done": done}), cur)
            queued = p.store.queue_corrections(p.signer.sign, cur, list(changes)) if revised else []
        self._offered = []
        if self.file_tally is not None:
            for q in quarantine:
                self.file_tally.reject_entry(q)
        if revised:
            self.result.hours_revised += len(revised)
            self.result.corrections_queued += announce(queued, p.metrics, changes)
        readings = sum(f.reading_count for f, _, _ in prepared)
        self.result.hours_new += new
        self.result.hours_existing += len(prepared) - new
        self.result.readings += readings
        self.result.quarantined += added_q
        if figures:
            self.result.last_hour = max(self.result.last_hour or 0, max(f.period_start for f in figures))
        if p.metrics:
            p.metrics.stored(readings, new, counts)
        if prepared or quarantine or revised:
            log.info("stored hours", extra={"event": "stored", "hours": new, "readings": readings,
                                            "quarantined": added_q, "revised": len(revised), "until": done})
        self._figures, self._quarantine = [], []
        if self.progress and done is not None and self.start_ts is not None and self.end_ts is not None:
            self.progress((min(done, self.end_ts) - self.start_ts) // HOUR, (self.end_ts - self.start_ts) // HOUR)


# ---------------------------------------------------------------- the feeder


def _aware(value: dt.datetime | int) -> dt.datetime:
    if isinstance(value, int):
        return from_unix(value)
    return to_utc(value)


class Feeder:
    """The oracle feeder on one chain. Nothing is contacted until first use; an unreachable node
    at start is retried (capped exponential backoff) like an outage later on."""

    def __init__(self, rpc_url: str = DEFAULT_RPC_URL, db_path: str | Path = DEFAULT_DB, *, source: str = "simulator",
                 seed: int = 0, facilities_path: str | Path = DEFAULT_FACILITIES,
                 methodology_path: str | Path = DEFAULT_METHODOLOGY, deployments_dir: str | Path = DEPLOYMENTS_DIR,
                 batch_size: int = DEFAULT_BATCH_SIZE, gas_price: int = 0, max_gas: int | None = None, poll_interval: float = 5.0,
                 backoff_cap: float = 30.0, receipt_timeout: float = 60.0, commit_hours: int = DEFAULT_COMMIT_HOURS,
                 keys: FeederKeys | None = None, env: dict | None = None, metrics_port: int | None = None,
                 metrics_addr: str = "127.0.0.1",
                 catchup_s: int | None = DEFAULT_CATCHUP_S, connect_timeout: float | None = None,
                 exclusive: bool = True, encoding: str = "auto", skip_bad_lines: bool = False,
                 mqtt_options: dict | None = None):
        self.rpc_url = rpc_url
        self.db_path = Path(db_path)
        self.source_kind, self.source_arg = parse_source(source)
        self.source = source
        self.mqtt_options = _given(mqtt_options)
        self.seed = seed
        self.facilities = load_facilities(facilities_path)
        self.methodology_path = Path(methodology_path)
        self.methodology = load_methodology(methodology_path)
        self.encoding, self.skip_bad_lines = encoding, skip_bad_lines
        self.file_scan = self._scan_file() if self.source_kind == "csv" else None
        self.on_file: Callable[[str], None] | None = None   # `run` passes a CSV file's summary line here
        self.deployments_dir = Path(deployments_dir)
        self.batch_size, self.gas_price, self.max_gas = batch_size, gas_price, max_gas
        self.poll_interval, self.backoff_cap, self.receipt_timeout = poll_interval, backoff_cap, receipt_timeout
        self.commit_hours = commit_hours
        self.catchup_s = catchup_s
        self.connect_timeout = connect_timeout
        self._keys, self._env = keys, env
        self.metrics = None
        self.health = None
        if metrics_port is not None:
            from greenbond.feeder.health import HealthState, serve
            from greenbond.feeder.metrics import make_metrics

            self.metrics = make_metrics()
            if self.metrics is None:
                log.warning("prometheus-client is not installed: /metrics answers 404", extra={"event": "no_metrics"})
            self.health = HealthState(self.db_path, rpc_url, [f.facility_id for f in self.facilities])
            try:
                self._http = serve(self.health, self.metrics, metrics_addr, metrics_port)
            except OSError as exc:
                raise FeederError(f"cannot serve /metrics and /healthz on {metrics_addr}:{metrics_port} "
                                  f"({exc.strerror or exc})") from None
            log.info("serving /metrics, /healthz and /readyz", extra={
                "event": "http", "addr": metrics_addr, "port": metrics_port})
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the feeder database {self.db_path} ({exc.strerror})") from None
        # `exclusive`: this instance may send (run, backfill); readers (status, verify) pass False
        self._lock = _acquire_lock(self.db_path) if exclusive else None
        try:
            self.store = FeederStore(self.db_path)
        except BaseException:
            if self._lock is not None:
                self._lock.close()
            raise
        self.w3 = None
        self.context: ChainContext | None = None
        self.transmitter: Transmitter | None = None
        self.pipeline: Pipeline | None = None
        self.oracle = None

    def close(self) -> None:
        self.store.close()
        if self._lock is not None:
            self._lock.close()  # releases the lock

    # ------------------------------------------------------------ chain

    def connect(self, stop_event: threading.Event | None = None) -> ChainContext:
        """Connects and checks everything before any work: deployment, oracle, facilities,
        methodology version, signer set, keys and the transmitter's role. Retries while the node
        is down (until `connect_timeout`, if set, or until stop)."""
        if self.context is not None:
            return self.context
        from web3 import Web3

        stop_event = stop_event or threading.Event()
        delay, deadline = 0.5, (time.monotonic() + self.connect_timeout) if self.connect_timeout else None
        while True:
            try:
                w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 10}))
                chain_id = int(rpc_guard(lambda: w3.eth.chain_id))
                break
            except RpcUnavailable as exc:
                if stop_event.is_set() or (deadline and time.monotonic() > deadline):
                    raise FeederError(f"the RPC node at {self.rpc_url} is unreachable ({exc})") from None
                log.warning("the RPC node does not answer; retrying", extra={
                    "event": "rpc_unavailable", "retry_in_s": delay, "rpc": self.rpc_url})
                stop_event.wait(delay)
                delay = min(delay * 2, self.backoff_cap)
        try:
            suite = rpc_guard(open_suite, w3, self.deployments_dir)
        except ChainError as exc:
            raise FeederError(str(exc)) from None
        oracle = suite.oracle
        if oracle is None:
            raise FeederError(f"the deployment of chain {chain_id} has no ImpactOracle: deploy the suite again")
        keys = self._keys or load_keys(chain_id, self._env)
        f = oracle.functions
        count = int(rpc_guard(f.facilityCount().call))
        if count < len(self.facilities):
            raise FeederError(f"the oracle has {count} facilities, the facility file {len(self.facilities)}: "
                              "register them first (deploy)")
        reporting_start = {}
        for spec in self.facilities:
            onchain = rpc_guard(f.facility(spec.facility_id).call)
            if onchain[5] != spec.name:
                raise FeederError(f"facility {spec.facility_id} on chain is {onchain[5]!r}, the facility file says "
                                  f"{spec.name!r}: the file and the chain disagree")
            reporting_start[spec.facility_id] = int(onchain[3])
        wanted = keccak(self.methodology_path.read_bytes())
        version = 0
        for v in range(int(rpc_guard(f.methodologyCount().call)), 0, -1):
            if bytes(rpc_guard(f.methodology(v).call)[5]) == wanted:
                version = v
                break
        if not version:
            raise FeederError(f"the methodology file {self.methodology_path.name} is not registered on the oracle "
                              "(no version has its keccak256): add it with addMethodology first")
        set_version = int(rpc_guard(f.signerSetVersion().call))
        if not set_version:
            raise FeederError("the oracle has no signer set: configure it first")
        signers, threshold = rpc_guard(f.signerSet(set_version).call)
        in_set = {a.lower() for a in signers}
        usable = [k for k in keys.signers if k.address.lower() in in_set]
        if len(usable) < threshold:
            raise FeederError(f"the oracle needs {threshold} signatures from signer set v{set_version}, but only "
                              f"{len(usable)} of the loaded signer keys belong to it")
        role = rpc_guard(f.TRANSMITTER_ROLE().call)
        if not rpc_guard(f.hasRole(role, keys.transmitter.address).call):
            raise FeederError(f"the transmitter {keys.transmitter.address} lacks TRANSMITTER_ROLE on the oracle")
        heartbeat = int(rpc_guard(f.heartbeat().call))
        self.store.bind_chain(chain_id, oracle.address)
        self.w3, self.oracle = w3, oracle
        self.context = ChainContext(chain_id, oracle.address, version, set_version, int(threshold), reporting_start,
                                    heartbeat)
        if self.health is not None:
            self.health.heartbeat_s = heartbeat
        signer = ReportSigner(usable, chain_id, oracle.address, int(threshold))
        self.pipeline = Pipeline(self.store, self.facilities, self.methodology, self.context, signer,
                                 commit_hours=self.commit_hours, metrics=self.metrics)
        self.transmitter = Transmitter(
            w3, oracle, self.store, keys.transmitter, signer, chain_id=chain_id, batch_size=self.batch_size,
            gas_price=self.gas_price, max_gas=self.max_gas, receipt_timeout=self.receipt_timeout,
            from_block=suite.deployment.contracts["ImpactOracle"].block, metrics=self.metrics)
        log.info("connected", extra={"event": "connected", "chain_id": chain_id, "oracle": oracle.address,
                                     "methodology_version": version, "signer_set": set_version,
                                     "threshold": int(threshold), "transmitter": keys.transmitter.address})
        return self.context

    def chain_now(self, stop_event: threading.Event | None = None) -> int:
        """The latest block's timestamp (retrying while the node is down)."""
        self.connect(stop_event)
        delay = 0.5
        stop_event = stop_event or threading.Event()
        while True:
            try:
                return self.transmitter.chain_now()
            except RpcUnavailable:
                if stop_event.is_set():
                    raise
                stop_event.wait(delay)
                delay = min(delay * 2, self.backoff_cap)

    # ------------------------------------------------------------ sources

    def _items(self, start: dt.datetime, end: dt.datetime) -> Iterable:
        if self.source_kind == "simulator":
            from greenbond.meters.simulator import simulate

            return simulate(self.facilities, start, end, seed=self.seed)
        if self.source_kind == "csv":
            from greenbond.meters.csv_source import read_csv

            return read_csv(self.source_arg, self.pipeline.meters, self.file_scan.encoding)
        raise FeederError("backfill reads the simulator or CSV files; MQTT is live only (use `feeder run`)")

    def _scan_file(self) -> CsvScan:
        """Reads the CSV source whole once, before the chain or the database is touched, so that a
        file is refused in one line (FeederError) rather than half ingested: bytes that do not
        decode, no usable header, no rows, a line that cannot be parsed (unless skip_bad_lines),
        or rows all of which the source itself rejects (unknown meters, misaligned times)."""
        try:
            scan = scan_csv(self.source_arg, all_meter_specs(self.facilities), self.encoding,
                            skip_bad_lines=self.skip_bad_lines)
        except CsvFileError as exc:
            hint = ("; fix the line, or pass --skip-bad-lines to quarantine the lines that cannot be parsed"
                    if exc.bad_line else "")
            raise FeederError(f"{exc}{hint}") from None
        except ValueError as exc:            # an encoding the reader does not know
            raise FeederError(str(exc)) from None
        if scan.tally.rejected >= scan.rows:
            raise FeederError(self._nothing_ingested(scan.summary(), scan.tally))
        log.info("file checked", extra={"event": "file_checked", "file": str(scan.path), "rows": scan.rows,
                                        "encoding": scan.encoding, "bom": scan.bom, "delimiter": scan.delimiter,
                                        "rejected_by_source": dict(scan.tally.by_reason)})
        return scan

    # what to look at when no row of a file was ingested, by the reason most of its rows got
    NOTHING_INGESTED_HINTS = {
        "unknown_meter": "is the meter in the facility file (--facilities)?",
        "misaligned": "interval_start must be at :00 or :30",
        "outside_period": "the rows are outside --from/--to",
        "register_baseline": "a meter's first register value only opens its series",
        "parse_error": "see `feeder quarantine --reason parse_error`",
        "duplicate_conflict": "the intervals already hold other values; a correction must be flagged edited (2)",
    }

    def _nothing_ingested(self, summary: str, tally: RowTally) -> str:
        top = tally.by_reason.most_common(1)
        hint = self.NOTHING_INGESTED_HINTS.get(top[0][0]) if top else None
        return f"{summary}; nothing to report" + (f": {hint}" if hint else "")

    def _file_stream(self, s: PipelineStream) -> PipelineStream:
        """Sets a stream up to read the CSV source: its quarantine counts are keyed by the file's
        content (the same file read again counts nothing twice) and its rejected rows tallied."""
        s.tally = QuarantineTally(f"sha256:{self.file_scan.sha256}")
        s.file_tally = RowTally(self.file_scan.path.name)
        return s

    def file_summary(self, s: PipelineStream) -> tuple[str, bool]:
        """(one line on what became of the file's rows once `s` has read it, whether none was
        ingested: every row rejected, by the source, VEE or the aggregator; the line says why)."""
        scan = self.file_scan
        line = summary_line(scan.path.name, scan.rows, s.file_tally, scan.shape)
        nothing = s.file_tally.rejected >= scan.rows
        log.info("file ingested", extra={"event": "file_ingested", "file": str(scan.path), "rows": scan.rows,
                                         "rejected": dict(s.file_tally.by_reason), "summary": line})
        return (self._nothing_ingested(line, s.file_tally) if nothing else line), nothing

    def _cursor_key(self) -> str | None:
        return f"simulator:seed={self.seed}" if self.source_kind == "simulator" else None

    # ------------------------------------------------------------ public operations

    def backfill(self, start: dt.datetime | int, end: dt.datetime | int, progress: Progress | None = None, *,
                 transmit: bool = True, stop_event: threading.Event | None = None, use_cursor: bool = True) -> dict:
        """Computes, stores and signs every closed hour in [start, end) and (with `transmit`)
        sends them. Hours already stored are not recomputed into new reports; a simulator
        backfill that stopped resumes from its cursor. Returns counts."""
        stop_event = stop_event or threading.Event()
        start_ts, end_ts = int(_aware(start).timestamp()), int(_aware(end).timestamp())
        if start_ts % HOUR or end_ts % HOUR:
            raise FeederError("backfill --from and --to must be whole hours")
        if end_ts <= start_ts:
            raise FeederError("backfill: --to must be after --from")
        self.connect(stop_event)
        now = self.chain_now(stop_event)
        closed = now - now % HOUR
        if end_ts > closed:
            log.info("the end is after the chain's clock: only closed hours are reported", extra={
                "event": "clipped", "requested_end": end_ts, "end": closed})
            end_ts = closed
        file_line, nothing = None, False
        if end_ts <= start_ts:
            result = IngestResult()
        else:
            resume = start_ts
            key = self._cursor_key() if use_cursor else None
            if key:
                raw = self.store.get_meta(f"cursor:{key}")
                if raw:
                    cur = json.loads(raw)
                    if cur["start"] <= start_ts < cur["done"]:
                        resume = min(cur["done"], end_ts)
            if progress:
                progress((resume - start_ts) // HOUR, (end_ts - start_ts) // HOUR)
            result = IngestResult()
            if resume < end_ts:
                s_dt, e_dt = from_unix(resume), from_unix(end_ts)
                s = self.pipeline.stream(s_dt, e_dt)
                if self.source_kind == "csv":
                    self._file_stream(s)
                s.progress, s.stop_event, s.cursor_key = progress, stop_event, key
                s.start_ts = start_ts  # cursor and progress count from the requested start
                s.feed(self._items(s_dt, e_dt))
                if not s.result.stopped:
                    s.finish()
                result = s.result
                if s.file_tally is not None and not result.stopped:
                    file_line, nothing = self.file_summary(s)
        out = {"from": start_ts, "to": end_ts, **result.as_dict()}
        if file_line is not None:   # the command exits non-zero when the file gave nothing
            out["file"], out["file_nothing_ingested"] = file_line, nothing
        log.info("backfill computed", extra={"event": "backfill_computed", **out})
        if transmit and not result.stopped:
            out["transmit"] = self.transmit(stop_event)
        return out

    def backfill_gaps(self, progress: Progress | None = None, *, transmit: bool = True,
                      stop_event: threading.Event | None = None) -> dict:
        """Every gap on chain (closed hours of any facility without a report, see `gaps`),
        computed from the source, stored, signed and (with `transmit`) sent. Hours the source
        cannot provide stay gaps and are reported as such. Returns counts and the gaps."""
        stop_event = stop_event or threading.Event()
        self.connect(stop_event)
        now = self.chain_now(stop_event)
        closed = now - now % HOUR
        ranges: list[list[int]] = []
        for a, b in sorted(g for spec in self.facilities for g in self.gaps(spec.facility_id, closed)):
            if ranges and a <= ranges[-1][1]:
                ranges[-1][1] = max(ranges[-1][1], b)
            else:
                ranges.append([a, b])
        total = sum((b - a) // HOUR for a, b in ranges)
        done = 0
        sums = {"hours_new": 0, "hours_existing": 0, "readings": 0, "quarantined": 0, "hours_revised": 0,
                "corrections_queued": 0}
        for a, b in ranges:
            if stop_event.is_set():
                break
            base = done

            def part(d: int, _t: int, base=base) -> None:
                if progress:
                    progress(base + d, total)

            out = self.backfill(a, b, part, transmit=False, stop_event=stop_event, use_cursor=False)
            for k in sums:
                sums[k] += int(out.get(k) or 0)
            done += (b - a) // HOUR
            if out.get("stopped"):
                break
        result = {"gaps": ranges, "gap_hours": total, "stopped": stop_event.is_set(), **sums}
        log.info("gaps backfilled", extra={"event": "gaps_backfilled", "ranges": len(ranges), "hours": total})
        if transmit and not stop_event.is_set():
            result["transmit"] = self.transmit(stop_event)
        return result

    def transmit(self, stop_event: threading.Event | None = None) -> str:
        """Sends what the outbox holds, until nothing more can be sent now."""
        self.connect(stop_event)
        return self.transmitter.drain(stop_event, backoff_cap=self.backoff_cap)

    def run_forever(self, stop_event: threading.Event, progress: Progress | None = None) -> None:
        """Continuous operation until `stop_event` is set: every poll, compute the hours closed
        since the last one (by the chain's clock), store, sign and send them. A stop request is
        honoured between database transactions (the current one always completes)."""
        self.connect(stop_event)
        mqtt = None
        csv_done = False
        if self.source_kind == "mqtt":
            mqtt = self._start_mqtt(stop_event)
        if self.health is not None:
            self.health.ready.set()          # connected, the source started: /readyz answers 200
        log.info("feeder running", extra={"event": "running", "source": self.source_kind,
                                          "poll_interval_s": self.poll_interval})
        try:
            while not stop_event.is_set():
                try:
                    if self.source_kind == "simulator":
                        self._simulate_until_now(stop_event, progress)
                    elif self.source_kind == "csv" and not csv_done:
                        s = self._file_stream(self.pipeline.stream(None, None))
                        s.stop_event = stop_event
                        s.feed(self._items(None, None))
                        s.finish()
                        csv_done = True
                        if not s.result.stopped:
                            line, nothing = self.file_summary(s)
                            if nothing:        # the run's one input gave nothing: stop, saying why
                                raise FeederError(line)
                            if self.on_file is not None:
                                self.on_file(line)
                    elif mqtt is not None:
                        self._mqtt_round(*mqtt)
                    self.transmitter.drain(stop_event, backoff_cap=self.backoff_cap, until_idle=False)
                except RpcUnavailable as exc:
                    log.warning("the RPC node does not answer; retrying", extra={
                        "event": "rpc_unavailable", "reason": str(exc)})
                stop_event.wait(self.poll_interval)
        finally:
            if mqtt is not None:
                mqtt[0].close()
            log.info("feeder stopped", extra={"event": "stopped"})

    def use_source(self, source: str, mqtt_options: dict | None = None) -> None:
        """Switches the source of `run_forever` (the demo: a backfill from the simulator, then the
        live hours from its gateway over MQTT)."""
        self.source_kind, self.source_arg = parse_source(source)
        self.source = source
        if mqtt_options is not None:
            self.mqtt_options = _given(mqtt_options)

    def _start_mqtt(self, stop_event: threading.Event):
        """The MQTT source: first the messages kept in the inbox and not yet done with (received
        before a stop or a crash), then the broker's session, which delivers what arrived while
        the feeder was away and what it received but had not acknowledged."""
        from greenbond.meters.mqtt_source import MessageDecoder, MqttMeterSource

        decoder = MessageDecoder(self.pipeline.meters)
        stream = self.pipeline.stream(None, None)
        stream.agg.close_complete = True      # a live feed: each hour reported when its last reading arrives
        stored = self.store.status()["facilities"]
        for f in self.facilities:             # ... from the hour after the last one stored
            last = (stored.get(f.facility_id) or {}).get("last_stored_hour")
            if last is not None:
                stream.agg.resume_after(f.facility_id, last + HOUR)
        stream.stop_event = stop_event
        kept = self.store.inbox()
        if kept:
            log.info("replaying the MQTT messages kept before the last stop", extra={
                "event": "mqtt_replay", "messages": len(kept)})
            stream.feed(decoder.items((topic, payload) for _, topic, payload in kept))
            if not stream.result.stopped:
                self.store.inbox_prune(kept[-1][0], [f.facility_id for f in self.facilities])
        host, port = self.source_arg
        try:
            source = MqttMeterSource(host, port, self.pipeline.meters, **self.mqtt_options).start()
        except ConnectionError as exc:
            raise FeederError(str(exc)) from None
        log.info("subscribed to the meter gateways", extra={"event": "mqtt_subscribed", "broker": source.where,
                                                            "client_id": self.mqtt_options.get("client_id")})
        return source, decoder, stream

    def _mqtt_round(self, source, decoder, stream) -> None:
        """One poll of the broker: the messages are kept in the inbox (one transaction), only then
        acknowledged, then fed to the pipeline; what the commit made unnecessary is pruned."""
        messages = source.receive(MQTT_BATCH, self.poll_interval)
        if not messages:
            return
        failpoint("mqtt_received")
        new, duplicates = self.store.inbox_add(
            [(m.topic, m.payload, decoder.interval_start(m.topic, m.payload)) for m in messages])
        if self.metrics is not None:
            self.metrics.received("mqtt", len(new), duplicates)
        if duplicates:
            log.info("MQTT messages received again (already kept): counted once", extra={
                "event": "mqtt_duplicates", "messages": duplicates})
        failpoint("mqtt_kept")
        source.ack(messages)
        failpoint("mqtt_acked")
        if not new:
            return
        stream.feed(decoder.items((topic, payload) for _, topic, payload in new))
        if not stream.result.stopped:
            self.store.inbox_prune(new[-1][0], [f.facility_id for f in self.facilities])

    def _simulate_until_now(self, stop_event: threading.Event, progress: Progress | None = None) -> None:
        """The simulator source: computes every hour from where this source stopped (its cursor)
        or, on a fresh database, from the earliest hour any facility lacks on chain (its first
        gap, or its latest reported hour), up to the chain's clock. Nothing is skipped however
        long the outage (unless a catch-up bound was set)."""
        now = self.transmitter.chain_now()
        closed = now - now % HOUR
        key = self._cursor_key()
        raw = self.store.get_meta(f"cursor:{key}")
        if raw:
            start = json.loads(raw)["done"]
        else:
            start = min(self._first_missing(f.facility_id, closed) for f in self.facilities)
        if self.catchup_s is not None and start < closed - self.catchup_s:
            log.warning("catch-up bounded: older hours are left for `feeder backfill --gaps`", extra={
                "event": "catchup_bounded", "from": start, "to": closed - self.catchup_s})
            start = closed - self.catchup_s
        if start >= closed:
            return
        if (closed - start) // HOUR > 1:
            log.info("catching up", extra={"event": "catching_up", "from": start, "to": closed,
                                           "hours": (closed - start) // HOUR})
        s = self.pipeline.stream(from_unix(start), from_unix(closed))
        s.stop_event, s.cursor_key, s.progress = stop_event, key, progress
        s.start_ts = start
        s.feed(self._items(from_unix(start), from_unix(closed)))
        if not s.result.stopped:
            s.finish()

    def _first_missing(self, facility_id: int, until: int) -> int:
        """The earliest closed hour before `until` the oracle lacks for a facility (`until` when
        none)."""
        for start, _end in self.gaps(facility_id, until):
            return start
        return until

    def gaps(self, facility_id: int, until: int | None = None) -> list[tuple[int, int]]:
        """The ranges [start, end) of closed hours of a facility, from its reportingStart to
        `until` (the chain's last closed hour), that have no report on chain: read from the
        oracle's reported-hours words (one call per 256 hours)."""
        self.connect()
        if until is None:
            now = self.transmitter.chain_now()
            until = now - now % HOUR
        origin = self.context.reporting_start[facility_id]
        out: list[tuple[int, int]] = []
        f = self.oracle.functions
        word_count = max(0, (until - origin + 256 * HOUR - 1) // (256 * HOUR))
        gap_start = None
        for w in range(word_count):
            bits = int(rpc_guard(f.reportedHoursWord(facility_id, w).call))
            for b in range(256):
                hour = origin + (w * 256 + b) * HOUR
                if hour >= until:
                    break
                if bits >> b & 1:
                    if gap_start is not None:
                        out.append((gap_start, hour))
                        gap_start = None
                elif gap_start is None:
                    gap_start = hour
        if gap_start is not None:
            out.append((gap_start, until))
        return out

    # ------------------------------------------------------------ reads

    def status(self) -> dict:
        """The store's status plus, per facility, the chain's latest reported hour, staleness,
        coverage (hours reported of elapsed, hours with estimated readings) and the gaps: the
        ranges of closed hours with no report on chain."""
        out = self.store.status()
        self.connect()
        f = self.oracle.functions
        now = self.transmitter.chain_now()
        closed = now - now % HOUR
        chain = {}
        for spec in self.facilities:
            end = int(rpc_guard(f.lastPeriodEnd(spec.facility_id).call))
            age, stale = rpc_guard(f.staleness(spec.facility_id).call)
            reported, elapsed, estimated = rpc_guard(f.coverage(spec.facility_id).call)
            gaps = self.gaps(spec.facility_id, closed)
            chain[spec.facility_id] = {"name": spec.name, "last_period_end": end,
                                       "report_count": int(rpc_guard(f.reportCount(spec.facility_id).call)),
                                       "hours_reported": int(reported), "hours_elapsed": int(elapsed),
                                       "hours_estimated": int(estimated),
                                       "hours_missing": sum((b - a) // HOUR for a, b in gaps),
                                       "gaps": [[a, b] for a, b in gaps],
                                       "age_s": int(age), "stale": bool(stale)}
        out["chain"] = {"facilities": chain, "heartbeat_s": self.context.heartbeat,
                        "now": self.transmitter.chain_now(), "chain_id": self.context.chain_id,
                        "oracle": self.context.oracle_address}
        return out

    def verify(self, facility_id: int, period_start: int, reading_index: int = 0) -> dict:
        """Checks one stored reading of an hour on chain: its Merkle proof against the report's
        root (ImpactOracle.verifyReading), and names the report's signers (recovered from the
        signatures in the transaction that carried it, checked against the signer set)."""
        readings = self.store.readings(facility_id, period_start)
        if not readings:
            raise FeederError(f"the store has no readings for facility {facility_id} at "
                              f"{from_unix(period_start).isoformat()}")
        if not 0 <= reading_index < len(readings):
            raise FeederError(f"that hour has {len(readings)} readings: choose an index from 0 to {len(readings) - 1}")
        self.connect()
        tree = MerkleTree.of_readings(readings)
        proof = tree.proof(reading_index)
        reading = readings[reading_index]
        f = self.oracle.functions
        index = self._report_index(facility_id, period_start)
        if index is None:
            raise FeederError(f"no report of facility {facility_id} for {from_unix(period_start).isoformat()} on chain")
        stored = rpc_guard(f.report(facility_id, index).call)
        ok = bool(rpc_guard(f.verifyReading(facility_id, index, reading.leaf_values(), proof).call))
        signers = self._signers_of(facility_id, period_start)
        set_version = int(stored[9])
        members, threshold = rpc_guard(f.signerSet(set_version).call)
        members_l = {a.lower() for a in members}
        return {
            "facility_id": facility_id, "period_start": period_start, "report_index": index,
            "reading": {"meter_id": reading.meter_id, "interval_start": reading.ts, "wh": reading.wh,
                        "flags": reading.flags},
            "reading_index": reading_index, "readings": len(readings), "proof_length": len(proof),
            "root_local": "0x" + tree.root.hex(), "root_on_chain": "0x" + bytes(stored[12]).hex(),
            "verified": ok, "signers": signers, "signer_set_version": set_version, "threshold": int(threshold),
            "signers_in_set": all(s.lower() in members_l for s in signers) and len(signers) >= int(threshold),
        }

    def _report_index(self, facility_id: int, period_start: int) -> int | None:
        """The index of the hour's report in force (its latest confirmed correction, if any)."""
        entry = self.store.in_force(facility_id, period_start)
        if entry is not None and entry.report_index is not None:
            return entry.report_index
        found = self.transmitter._accepted_events(facility_id, [period_start])
        return found[period_start][1] if period_start in found else None

    def _signers_of(self, facility_id: int, period_start: int) -> list[str]:
        from eth_account import Account

        entry = self.store.in_force(facility_id, period_start) or self.store.entry(facility_id, period_start, 0)
        if entry is None:
            return []
        sigs, report = signatures_from_json(entry.signatures), report_from_json(entry.report)
        if entry.tx_hash:
            try:
                tx = rpc_guard(self.w3.eth.get_transaction, entry.tx_hash)
                _, args = self.oracle.decode_function_input(tx["input"])
                for rep, rep_sigs in zip(args["reports"], args["signatures"]):
                    if int(rep[0]) == facility_id and int(rep[1]) == period_start:
                        sigs = [(bytes(s[0]), bytes(s[1])) for s in rep_sigs]
                        break
            except Exception:  # noqa: BLE001 - fall back to the outbox copy of the signatures
                pass
        digest = bytes(rpc_guard(self.oracle.functions.reportDigest(report.as_tuple()).call))
        out = []
        for r, vs in sigs:
            v_s = int.from_bytes(vs, "big")
            v = 27 + (v_s >> 255)
            s = v_s & ((1 << 255) - 1)
            out.append(Account._recover_hash(digest, vrs=(v, int.from_bytes(r, "big"), s)))
        return out


USER_ERRORS = (FeederError, StoreError, KeyConfigError, ChainError, TransmitError, CsvFileError, RpcUnavailable)
