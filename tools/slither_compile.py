"""`brownie compile --all`, plus the interface ASTs that Brownie does not keep, for Slither.

Brownie compiles the files under interfaces/ in the same solc run as the contracts (solc reads
them through the imports) but keeps no artifact for them. Slither, reading Brownie's artifacts
(`--compile-force-framework brownie --ignore-compile`), then stops at the first
`import "../interfaces/IGreenBond.sol"` with "interfaces/IGreenBond.sol does not exist".

This runs `brownie compile` (nothing to do after `make compile`), then repeats the same solc run
through Brownie's own compiler API (same sources, settings and remappings) and checks that it
reproduced the artifacts Brownie wrote (identical ASTs, so node ids agree). When they differ (an
incremental build compiled only some files, so node ids moved), it runs `brownie compile --all`
and checks again: on a fresh clone that full second compile (about 45 s) is skipped. Then it
writes the interfaces' artifacts to
build/contracts/interface-asts/. Slither's Brownie reader takes every JSON under
build/contracts/ recursively; Brownie reads only build/contracts/*.json and
build/contracts/dependencies/, so nothing changes for Brownie. Run it with the project's venv.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

OUT = Path("build/contracts/interface-asts")


def main() -> int:
    subprocess.run(["brownie", "compile"], check=True)
    result = _write_interface_asts(quiet=True)
    if result is None:  # Brownie's artifacts come from more than one solc run: one run of all
        print("slither_compile: the build mixes solc runs; recompiling everything once", file=sys.stderr)
        subprocess.run(["brownie", "compile", "--all"], check=True)
        result = _write_interface_asts()
    if result is None:
        print("slither_compile: Brownie's ASTs differ from a solc run of the same sources", file=sys.stderr)
        return 1
    return result


def _write_interface_asts(quiet: bool = False) -> int | None:
    """The interfaces' artifacts, from a solc run checked against Brownie's build; None when a
    contract's AST in build/contracts differs from that run's."""
    import brownie.project as project
    from brownie.project import compiler

    p = project.load(".", name="SlitherCompile")
    try:
        return _from_project(p, compiler, quiet)
    finally:
        p.close(raises=False)


def _from_project(p, compiler, quiet: bool) -> int | None:
    cfg = p._compiler_config
    solc = cfg["solc"]
    sources = {path: p._sources.get(name) for name in p._sources.get_contract_list()
               for path in [p._sources.get_source_path(name)]}
    compiler.set_solc_version(solc["version"])
    input_json = compiler.generate_input_json(
        sources,
        optimize=solc.get("optimize", True),
        runs=solc.get("runs", 200),
        evm_version=solc.get("evm_version", cfg["evm_version"]),
        remappings=solc.get("remappings", []),
        optimizer=solc.get("optimizer"),
    )
    output_json = compiler.compile_from_input_json(input_json, silent=True, allow_paths=str(Path.cwd()))
    build_json = compiler.generate_build_json(input_json, output_json, {"version": solc["version"]})

    # same solc run as Brownie's: every contract artifact on disk has the AST just produced
    kept = {}
    for path in Path("build/contracts").glob("**/*.json"):
        if path.parent == OUT:
            continue
        art = json.loads(path.read_text())
        if "ast" in art:
            kept[art["ast"]["absolutePath"]] = art
    for unit, out in output_json["sources"].items():
        if unit in kept and kept[unit]["ast"] != json.loads(json.dumps(out["ast"])):
            if not quiet:
                print(f"slither_compile: AST of {unit} differs from Brownie's build", file=sys.stderr)
            return None

    # every source unit Brownie kept no artifact for: interfaces/, and OpenZeppelin files that
    # only re-export (interfaces/IERC20.sol) and so hold no contract of their own
    by_unit = {}
    for data in build_json.values():
        by_unit.setdefault(data["sourcePath"], data)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    written = []
    for unit, out in output_json["sources"].items():
        if unit in kept:
            continue
        data = by_unit.get(unit)
        if data is None:  # no contract in the file: an artifact carrying only its AST
            data = {"abi": [], "bytecode": "", "deployedBytecode": "", "sourceMap": "",
                    "deployedSourceMap": "", "compiler": {"version": solc["version"]},
                    "contractName": "", "sourcePath": unit}
        data = dict(data, ast=out["ast"], contractName=data["contractName"] or f"__file_{out['id']}")
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", unit)
        (OUT / f"{name}.json").write_text(json.dumps(data, sort_keys=True, default=sorted))
        written.append(unit)
    if not written:
        print("slither_compile: no interface artifact was produced", file=sys.stderr)
        return 1
    print(f"slither_compile: AST-only artifacts for {len(written)} files Brownie keeps none for")
    return 0


if __name__ == "__main__":
    sys.exit(main())
