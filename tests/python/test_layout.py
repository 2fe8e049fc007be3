"""The tree shows the design: the product in greenbond/, the harness (benchmarks and load test in
bench/, test fixtures in tests/helpers/) outside it, and the product never imports the harness.

Checked statically: every import statement in every .py file under greenbond/ (at module level or
inside a function, relative imports resolved), and every file name under greenbond/. The
distribution's package discovery (pyproject.toml) must not pick up bench/ or tests/ either."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "greenbond"
HARNESS = ("bench", "tests")
HARNESS_NAMES = ("bench", "loadtest", "fixture")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, package: str | None = None) -> set[str]:
    """Every module an import statement anywhere in the file names (absolute, dotted); relative
    imports are resolved against `package` (by default the file's own package)."""
    if package is None:
        package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _is_harness(module: str) -> bool:
    return module.split(".")[0] in HARNESS


def test_the_product_imports_no_harness():
    files = sorted(PRODUCT.rglob("*.py"))
    assert len(files) > 30  # the walk found the package
    offending = [f"{p.relative_to(ROOT)}: {m}" for p in files for m in sorted(_imported(p)) if _is_harness(m)]
    assert not offending


def test_the_import_walk_sees_lazy_and_spelled_out_imports(tmp_path):
    """The check itself: harness imports inside a function and `from x import y` forms are found,
    and a relative import resolves inside greenbond (never to the top-level tests package)."""
    source = tmp_path / "sample.py"
    source.write_text("def f():\n    import bench.gas\n    from tests.helpers import devchain\n"
                      "from tests import helpers\nfrom ..tests import sample\n")
    found = _imported(source, package="greenbond.feeder")
    assert {"bench.gas", "tests.helpers", "tests.helpers.devchain", "tests", "tests.helpers"} <= found
    assert "greenbond.tests.sample" in found and not _is_harness("greenbond.tests.sample")


def test_no_harness_file_in_the_product():
    offending = [str(p.relative_to(ROOT)) for p in sorted(PRODUCT.rglob("*"))
                 if "__pycache__" not in p.parts and any(word in p.name.lower() for word in HARNESS_NAMES)]
    assert not offending


def test_the_distribution_packages_only_greenbond():
    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=find.get("include", ("*",)), exclude=find.get("exclude", ()))
    assert "greenbond" in packages and "greenbond.feeder" in packages
    assert not [p for p in packages if not (p == "greenbond" or p.startswith("greenbond."))]
