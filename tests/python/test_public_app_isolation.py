"""The public investor app never imports the code that opens sealed holder details.

greenbond.holders (the sealed-box decryption and the issuer key), greenbond.register (the register
with personal details) and greenbond.backoffice (the issuer's back office) must be unreachable from
app/: not imported by a page, nor by any greenbond module a page imports, at module level or
inside a function, directly or through other modules. Checked two ways: a static walk of every
import statement reachable from app/ (so a lazy import inside a function counts), and a fresh
interpreter that imports the app's modules and runs its helpers, then lists what got loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("greenbond.holders", "greenbond.register", "greenbond.backoffice", "nacl", "greenbond.demo")


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    for candidate in (ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, package: str) -> set[str]:
    """Every module an import statement anywhere in the file names (absolute, dotted)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)   # `from greenbond import holders`
    return out


def reachable_from_app() -> dict[str, str]:
    """Module -> the module that first imported it, over everything reachable from app/."""
    seen: dict[str, str] = {}
    todo = []
    for page in ROOT.joinpath("app").rglob("*.py"):
        rel = page.relative_to(ROOT).with_suffix("")
        todo.append((".".join(rel.parts), page))
    while todo:
        name, path = todo.pop()
        for imported in _imports(path, name):
            if imported in seen:
                continue
            seen[imported] = name
            if imported.split(".")[0] in ("greenbond", "app"):
                file = _module_file(imported)
                if file is not None:
                    todo.append((imported, file))
    return seen


def test_no_page_reaches_the_decryption_code_statically():
    seen = reachable_from_app()
    assert "greenbond.pageview" in seen and "app.i18n" in seen, "the walk did not follow the app's imports"
    bad = {m: by for m, by in seen.items() if m.startswith(FORBIDDEN)}
    assert not bad, f"reachable from app/: {bad}"


def test_the_walk_would_find_a_lazy_import(tmp_path):
    """The checker itself: an import inside a function is found."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from greenbond.holders import open_details\n")
    assert "greenbond.holders" in _imports(f, "m")


def test_no_decryption_module_is_loaded_at_run_time():
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import app.ui, app.i18n, greenbond.pageview, greenbond.published\n"
        "from app.i18n import Translator; Translator('ja')('Overview')\n"
        "print('\\n'.join(sorted(sys.modules)))\n" % str(ROOT)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = out.stdout.split()
    assert "greenbond.pageview" in loaded
    assert not [m for m in loaded if m.startswith(FORBIDDEN)]
