"""The one chain layer of the off-chain side (register, feeder, apps, deploy, demo).

- `connection`: the endpoint (GREENBOND_RPC_URL) and a connection known to answer
- `contracts`: ABIs from the build, the deployed suite from the deployments file
- `logs`: logs in block ranges, the block at a moment

Nothing here depends on Brownie.
"""

from greenbond.chain.connection import DEFAULT_RPC_URL, RPC_URL_ENV, ChainError, connect, default_rpc_url
from greenbond.chain.contracts import BUILD_DIR, Suite, load_abi, open_suite
from greenbond.chain.logs import DEFAULT_LOG_CHUNK, block_before, iter_events

__all__ = [
    "BUILD_DIR", "ChainError", "DEFAULT_LOG_CHUNK", "DEFAULT_RPC_URL", "RPC_URL_ENV", "Suite", "block_before",
    "connect", "default_rpc_url", "iter_events", "load_abi", "open_suite",
]
