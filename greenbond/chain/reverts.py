"""Reverts as people read them: a custom error's name and arguments, decoded from the ABIs of the
build, whatever shape the node gave the revert data in (web3's exception `data`, a dict, or a hex
string inside the message, as Anvil, Ganache and GoQuorum each do differently)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from eth_utils import keccak

from greenbond.chain.contracts import BUILD_DIR

Selectors = dict[bytes, tuple[str, list[str]]]
_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


def error_selectors(abi: list) -> Selectors:
    """4-byte selector -> (error name, argument types) for every custom error in `abi`."""
    out = {}
    for item in abi:
        if item.get("type") == "error":
            types = [i["type"] for i in item.get("inputs", [])]
            out[keccak(text=f"{item['name']}({','.join(types)})")[:4]] = (item["name"], types)
    return out


@lru_cache(maxsize=None)
def _build_selectors(build_dir: str) -> tuple:
    out: Selectors = {}
    root = Path(build_dir)
    for folder in (root, root.parent / "interfaces"):
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                abi = json.loads(path.read_text(encoding="utf-8")).get("abi") or []
            except (OSError, ValueError):
                continue
            out.update(error_selectors(abi))
    return tuple(out.items())


def build_selectors(build_dir: Path = BUILD_DIR) -> Selectors:
    """The custom errors of every contract and interface in the build (OpenZeppelin's included)."""
    return dict(_build_selectors(str(build_dir)))


def revert_data(exc: BaseException) -> list[bytes]:
    """Candidate revert payloads carried by `exc`, most specific first."""
    texts: list[str] = []
    for item in [getattr(exc, "data", None), *getattr(exc, "args", ())]:
        if isinstance(item, dict):
            item = item.get("data")
        if isinstance(item, (bytes, bytearray)):
            texts.append("0x" + bytes(item).hex())
        elif isinstance(item, str):
            texts.append(item)
    texts += _HEX.findall(str(exc))
    out = []
    for text in texts:
        m = _HEX.match(text.strip())
        if m and len(m.group(0)) % 2 == 0:
            out.append(bytes.fromhex(m.group(0)[2:]))
    return out


def decode_revert(exc: BaseException, selectors: Selectors | None = None) -> str:
    """'Name(arg, ...)' of the custom error in `exc` (bytes32 arguments shown as text), or the
    exception's message on one line when no known error is in it."""
    from eth_abi import decode as abi_decode

    selectors = build_selectors() if selectors is None else selectors
    for raw in revert_data(exc):
        if raw[:4] not in selectors:
            continue
        name, types = selectors[raw[:4]]
        try:
            values = abi_decode(types, raw[4:])
        except Exception:  # noqa: BLE001 - undecodable arguments: the name is enough
            return name
        shown = [v.rstrip(b"\0").decode("ascii", "replace") if isinstance(v, bytes) else v for v in values]
        return f"{name}({', '.join(str(v) for v in shown)})"
    return " ".join(str(exc).split())[:300]
