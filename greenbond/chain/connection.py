"""Connecting to a node: the endpoint every command and app uses, a connection known to answer,
and the count of the JSON-RPC calls a connection made (`connect(..., counting=True)`: the public
page prints it under every render, the page benchmark reports it)."""

from __future__ import annotations

import os
import threading
from typing import Sequence

from web3 import Web3
from web3.exceptions import Web3Exception
from web3.providers.rpc import HTTPProvider

DEFAULT_RPC_URL = "http://127.0.0.1:8546"  # the demo chain
RPC_URL_ENV = "GREENBOND_RPC_URL"


def default_rpc_url() -> str:
    """The node every command and app uses unless told otherwise: GREENBOND_RPC_URL, else the demo chain."""
    return os.environ.get(RPC_URL_ENV) or DEFAULT_RPC_URL


class ChainError(RuntimeError):
    """Something about the chain stops the work; the message is a sentence for a person."""


class NodeUnreachable(ChainError):
    """The node at `url` did not answer; `reason` names what was met instead (ConnectionError,
    ReadTimeout, ...), so a caller can word its own sentence."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"the RPC node at {url} is unreachable ({reason})")
        self.url, self.reason = url, reason


# ---------------------------------------------------------------- counted JSON-RPC


class RpcStats:
    """JSON-RPC calls and HTTP requests sent to nodes through CountingHTTPProvider (all connections)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls = 0
        self.requests = 0
        self.by_method: dict[str, int] = {}

    def add(self, methods: Sequence[str]) -> None:
        with self._lock:
            self.requests += 1
            self.calls += len(methods)
            for m in methods:
                self.by_method[m] = self.by_method.get(m, 0) + 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"calls": self.calls, "requests": self.requests, "by_method": dict(self.by_method)}


RPC_STATS = RpcStats()


def rpc_stats() -> dict:
    """Totals since the process started: {"calls", "requests", "by_method"}."""
    return RPC_STATS.snapshot()


def rpc_delta(before: dict, after: dict | None = None) -> dict:
    """What was sent between two `rpc_stats()` (the second: now)."""
    after = after or rpc_stats()
    methods = {m: n - before["by_method"].get(m, 0) for m, n in after["by_method"].items()}
    return {
        "calls": after["calls"] - before["calls"],
        "requests": after["requests"] - before["requests"],
        "by_method": {m: n for m, n in methods.items() if n},
    }


class CountingHTTPProvider(HTTPProvider):
    """An HTTPProvider that counts every JSON-RPC call it sends (a batch is one request of many
    calls). A call answered from the provider's cache (the chain id) sends nothing and is not
    counted: the single call is counted in `_make_request`, which web3 reaches only on a cache miss."""

    def _make_request(self, method, request_data):
        RPC_STATS.add([str(method)])
        return super()._make_request(method, request_data)

    def make_batch_request(self, batch_requests):
        RPC_STATS.add([str(m) for m, _ in batch_requests])
        return super().make_batch_request(batch_requests)


# ---------------------------------------------------------------- the connection


def remember_chain_id(provider) -> None:
    """Makes a web3 HTTP provider answer eth_chainId from its cache after asking once (web3 7
    asks for it before every eth_call and transaction: its validation middleware). Only the chain
    id: blocks and state are always read fresh (tests revert chains, nodes reorganise)."""
    provider.cacheable_requests = {"eth_chainId"}
    provider.cache_allowed_requests = True


def connect(rpc_url: str = DEFAULT_RPC_URL, timeout: float = 10.0, *, counting: bool = False) -> Web3:
    """A web3 connection to `rpc_url` (http or https) that is known to answer; `counting`: its
    calls are added to `rpc_stats()`. Its chain id is asked once and remembered (web3 7 asks for
    it before every eth_call: 14,049 of the register's 22,092 calls over 1,000 holders); nothing
    else is cached, blocks and state are always read fresh. Raises ChainError for something that
    is not an RPC URL and NodeUnreachable (a ChainError) for a node that does not answer."""
    url = (rpc_url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ChainError(f"{rpc_url!r} is not an RPC URL: give one like http://127.0.0.1:8546")
    provider = (CountingHTTPProvider if counting else HTTPProvider)(url, request_kwargs={"timeout": timeout})
    remember_chain_id(provider)
    w3 = Web3(provider)
    try:
        w3.eth.chain_id
    except (OSError, Web3Exception, ValueError) as exc:
        raise NodeUnreachable(url, type(exc).__name__) from None
    return w3
