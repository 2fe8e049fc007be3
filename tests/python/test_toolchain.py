"""The offline toolchain holds together: one compiler version everywhere, berlin bytecode."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def brownie_config():
    return yaml.safe_load((ROOT / "brownie-config.yaml").read_text())


def test_compiler_version_is_pinned_once():
    version = str(brownie_config()["compiler"]["solc"]["version"])
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["dependencies"]["solc"] == version
    assert lock["packages"]["node_modules/solc"]["version"] == version
    shims = sorted(p.name for p in (ROOT / "tools" / "solc" / "bin").glob("solc-v*"))
    assert shims == [f"solc-v{version}"]


def test_evm_is_berlin():
    assert brownie_config()["compiler"]["evm_version"] == "berlin"


def test_openzeppelin_is_5x_from_node_modules():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["@openzeppelin/contracts"].startswith("5.")
    assert "@openzeppelin=node_modules/@openzeppelin" in brownie_config()["compiler"]["solc"]["remappings"]


# Opcodes a berlin chain (ibet for Fin) does not have.
POST_BERLIN = {0x48: "BASEFEE", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x5F: "PUSH0"}


def opcodes(code: bytes, strip_metadata: bool = True):
    """Walks EVM bytecode, skipping PUSH data; stops at the CBOR metadata the compiler appends."""
    if strip_metadata and len(code) >= 2:
        meta = int.from_bytes(code[-2:], "big") + 2
        if meta <= len(code):
            code = code[:-meta]
    i = 0
    while i < len(code):
        op = code[i]
        yield i, op
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


@pytest.mark.parametrize("name", ["GreenBond", "HolderRegistry", "CouponSchedule", "ImpactOracle", "Offering", "BondDvP", "SettlementToken"])
def test_bytecode_runs_on_berlin(name):
    artifact = ROOT / "build" / "contracts" / f"{name}.json"
    if not artifact.exists():
        pytest.skip("no build yet: `make test` compiles before running this")
    data = json.loads(artifact.read_text())
    # Only instructions are checked, not data: the compiler's source map has one entry per
    # instruction, and what follows them (the runtime inside the creation code, constant data,
    # the metadata) is data that a linear walk would misread as opcodes.
    for key, source_map in (("bytecode", "sourceMap"), ("deployedBytecode", "deployedSourceMap")):
        code = bytes.fromhex(data[key])
        count = len(data[source_map].split(";"))
        ops = [op for _, op in opcodes(code, strip_metadata=False)][:count]
        assert len(ops) == count, f"{name}.{key}: fewer instructions than source-map entries"
        found = {POST_BERLIN[op] for op in ops if op in POST_BERLIN}
        assert not found, f"{name}.{key} uses {sorted(found)}"


def test_opcode_walker_skips_push_data_and_metadata():
    no_metadata = (0).to_bytes(2, "big")  # a zero-length metadata trailer
    # PUSH1 0x5f, STOP: the 0x5f is data, not PUSH0
    assert [op for _, op in opcodes(bytes([0x60, 0x5F, 0x00]) + no_metadata)] == [0x60, 0x00]
    # a real PUSH0 is found
    assert 0x5F in [op for _, op in opcodes(bytes([0x5F, 0x00]) + no_metadata)]
    # bytes inside the metadata trailer are not code
    assert [op for _, op in opcodes(bytes([0x00, 0x5F, 0x5F]) + (2).to_bytes(2, "big"))] == [0x00]


def test_test_module_names_are_unique():
    """pytest imports test modules by basename (no packages here): two test files of the same name
    in different folders stop the whole contract suite at collection."""
    for suite in (["contracts"], ["python", "e2e"]):  # what one pytest run collects together
        names = [p.name for d in suite for p in (ROOT / "tests" / d).rglob("test_*.py")]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"test modules with the same name in tests/{'+'.join(suite)}: {duplicates}"
