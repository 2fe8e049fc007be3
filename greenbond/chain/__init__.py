"""The one chain layer of the off-chain side (register, feeder, apps, deploy, demo).

- `connection`: the endpoint (GREENBOND_RPC_URL), a connection known to answer, its calls counted
- `batch`: contract views and raw calls as JSON-RPC batches
- `contracts`: ABIs from the build, the deployed suite from the deployments file
- `logs`: logs in block ranges (read once and kept, for a page), the block at a moment

Nothing here depends on Brownie.
"""

from greenbond.chain.batch import CallFailed, call, call_many, rpc
from greenbond.chain.connection import (DEFAULT_RPC_URL, RPC_STATS, RPC_URL_ENV, ChainError, CountingHTTPProvider,
                                        NodeUnreachable, RpcStats, connect, default_rpc_url, rpc_delta, rpc_stats)
from greenbond.chain.contracts import BUILD_DIR, Suite, load_abi, open_suite
from greenbond.chain.logs import DEFAULT_LOG_CHUNK, LogCache, block_before, iter_events, read_in_ranges

__all__ = [
    "BUILD_DIR", "CallFailed", "ChainError", "CountingHTTPProvider", "DEFAULT_LOG_CHUNK", "DEFAULT_RPC_URL",
    "LogCache", "NodeUnreachable", "RPC_STATS", "RPC_URL_ENV", "RpcStats", "Suite", "block_before", "call",
    "call_many", "connect", "default_rpc_url", "iter_events", "load_abi", "open_suite", "read_in_ranges", "rpc",
    "rpc_delta", "rpc_stats",
]
