"""What every page's data shares: the server's settings (`PageSettings`), the page's sentence
for an error (`PageError`), the connection (greenbond.chain.connect, counted) and the session
kept per node and deployments folder (contract handles, the bond's terms, the log caches),
`guarded` (a node that stops answering mid-read becomes a PageError and drops its session), and
the bond's local time."""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from web3 import Web3

from greenbond.chain import DEFAULT_RPC_URL, ChainError, LogCache, NodeUnreachable, Suite
from greenbond.chain import connect as chain_connect
from greenbond.chain.logs import EventDecoder
from greenbond.config import DEFAULT_BOND_CONFIG, REPO_ROOT, BondTerms, ConfigError, load_terms
from greenbond.deployments import DEPLOYMENTS_DIR
from greenbond.pageview.reports import (ALLOCATION_RECORDED_TOPIC, GRID_FACTOR_TOPIC, REPORT_ACCEPTED_TOPIC,
                                        ReportTable, decode_allocation_recorded, decode_report_accepted)

DEFAULT_PUBLISHED_DIR = REPO_ROOT / ".demo" / "published"   # `python -m greenbond feeder publish --out`


class PageError(RuntimeError):
    """Something stops a page; the message is a sentence for a person."""


def _sentence(exc: BaseException) -> str:
    msg = str(exc).strip()
    return (msg[0].upper() + msg[1:] + ("" if msg.endswith(".") else ".")) if msg else type(exc).__name__


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class PageSettings:
    """What the public page reads, from the server's environment. No feeder database: the page
    verifies against the operator's published readings, never its private store."""

    rpc_url: str = DEFAULT_RPC_URL
    deployments_dir: str = str(DEPLOYMENTS_DIR)
    published_dir: str = str(DEFAULT_PUBLISHED_DIR)   # the operator's published readings (Verify reads only these)


def settings_from_env(env: dict | None = None) -> PageSettings:
    """GREENBOND_RPC_URL, GREENBOND_DEPLOYMENTS and GREENBOND_PUBLISHED_DIR, or the defaults."""
    env = os.environ if env is None else env
    return PageSettings(
        rpc_url=env.get("GREENBOND_RPC_URL") or DEFAULT_RPC_URL,
        deployments_dir=env.get("GREENBOND_DEPLOYMENTS") or str(DEPLOYMENTS_DIR),
        published_dir=env.get("GREENBOND_PUBLISHED_DIR") or str(DEFAULT_PUBLISHED_DIR),
    )


# ---------------------------------------------------------------- the connection


def _connection_error(url: str, exc: BaseException) -> PageError:
    reason = exc.reason if isinstance(exc, NodeUnreachable) else type(exc).__name__
    return PageError(
        f"The RPC node at {url} is unreachable ({reason}). Start it (`make demo` serves the demo "
        "chain) or set GREENBOND_RPC_URL where the page is served."
    )


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """greenbond.chain.connect, counted (`greenbond.chain.rpc_stats`: the page's footer), with the
    page's sentences: a PageError for something that is not an RPC URL or a node that does not answer."""
    try:
        return chain_connect(rpc_url, timeout, counting=True)
    except NodeUnreachable as exc:
        raise _connection_error(exc.url, exc) from None
    except ChainError as exc:
        raise PageError(_sentence(exc)) from None
    except Exception as exc:  # noqa: BLE001 -- requests, web3 and ValueError all mean "not answering"
        raise _connection_error((rpc_url or "").strip(), exc) from None


# ---------------------------------------------------------------- the session


@dataclass
class Session:
    url: str
    w3: Web3
    suite: Suite
    terms: BondTerms
    deployments_dir: Path
    reports: LogCache | None
    factors: LogCache | None
    report_table: ReportTable = field(default_factory=ReportTable)
    allocation_logs: LogCache | None = None    # AllocationRecorded of every bond: the facilities' allocation periods

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.terms.timezone)


_SESSIONS: dict[tuple[str, str], Session] = {}
_SESSIONS_LOCK = threading.Lock()


def _terms_for(deployment) -> BondTerms:
    path = REPO_ROOT / deployment.bond_config if deployment.bond_config else DEFAULT_BOND_CONFIG
    try:
        return load_terms(path)
    except ConfigError as exc:
        raise PageError(f"The bond's terms could not be read: {exc}.") from None


def session(rpc_url: str, deployments_dir: str | Path | None = None) -> Session:
    """The connection, contract handles and log caches for one RPC URL (kept for the process)."""
    directory = Path(deployments_dir or DEPLOYMENTS_DIR)
    key = (rpc_url, str(directory))
    with _SESSIONS_LOCK:
        s = _SESSIONS.get(key)
    if s is not None:
        return s
    w3 = connect(rpc_url)
    try:
        suite = _open_suite(w3, directory)
    except ChainError as exc:
        msg = str(exc)
        raise PageError(msg[0].upper() + msg[1:] + ("" if msg.endswith(".") else ".")) from None
    except Exception as exc:  # noqa: BLE001
        raise _connection_error(rpc_url, exc) from None
    terms = _terms_for(suite.deployment)
    oracle = suite.oracle
    if oracle is not None:
        ostart = suite.deployment.contracts["ImpactOracle"].block
        reports = LogCache(w3, oracle.address, REPORT_ACCEPTED_TOPIC, ostart, decode_report_accepted)
        factor_events = EventDecoder(oracle.events.GridFactorRecorded.abi)   # the chain layer's one decoder
        factors = LogCache(w3, oracle.address, GRID_FACTOR_TOPIC, ostart, lambda l: factor_events.decode(l)["args"])
        allocation_logs = LogCache(w3, oracle.address, ALLOCATION_RECORDED_TOPIC, ostart, decode_allocation_recorded)
    else:
        reports = factors = allocation_logs = None
    s = Session(rpc_url, w3, suite, terms, directory, reports, factors, allocation_logs=allocation_logs)
    with _SESSIONS_LOCK:
        _SESSIONS[key] = s
    return s


def _open_suite(w3: Web3, directory: Path) -> Suite:
    """The suite the page reads (greenbond.chain.open_suite: its checks in one JSON-RPC batch)."""
    from greenbond.chain import open_suite

    return open_suite(w3, directory)


def forget_sessions() -> None:
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def guarded(fn):
    """Turns a node that stops answering mid-read into a PageError (and drops its session)."""

    @functools.wraps(fn)
    def wrapper(settings: PageSettings, *args, **kwargs):
        try:
            return fn(settings, *args, **kwargs)
        except PageError:
            raise
        except ChainError as exc:
            raise PageError(str(exc)) from None
        except (OSError, ConnectionError) as exc:
            forget_sessions()
            raise _connection_error(settings.rpc_url, exc) from None
        except Exception as exc:  # noqa: BLE001
            if "Connection" in type(exc).__name__ or "Timeout" in type(exc).__name__:
                forget_sessions()
                raise _connection_error(settings.rpc_url, exc) from None
            raise

    return wrapper


# ---------------------------------------------------------------- the bond's local time


def local_date(ts: int, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def local_time(ts: int, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")
