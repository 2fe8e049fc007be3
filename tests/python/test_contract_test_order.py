"""The contract suite's scheduling rule (tests/contracts/conftest.py): the tests marked `long` go
first, so each of the two xdist workers starts on one and the short tests fill in around them;
and every stateful test carries the mark (a stateful test left unmarked would run last, alone on
one worker, and add its whole length to `make test`)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFTEST = ROOT / "tests" / "contracts" / "conftest.py"


def _hook():
    """The hook, taken from the conftest's source alone (importing the conftest imports Brownie)."""
    tree = ast.parse(CONFTEST.read_text(encoding="utf-8"))
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "pytest_collection_modifyitems"]
    namespace: dict = {}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(CONFTEST), "exec"), namespace)
    return namespace["pytest_collection_modifyitems"]


class Item:
    def __init__(self, name: str, long: bool):
        self.name, self.long = name, long

    def get_closest_marker(self, name: str):
        return object() if self.long and name == "long" else None


def test_long_tests_go_first_and_the_rest_keep_their_order():
    items = [Item("a", False), Item("b", True), Item("c", False), Item("d", True), Item("e", False)]
    _hook()(None, items)
    assert [i.name for i in items] == ["b", "d", "a", "c", "e"]


def test_every_stateful_contract_test_is_marked_long():
    stateful = sorted((ROOT / "tests" / "contracts").rglob("test_*stateful*.py"))
    assert len(stateful) >= 5
    unmarked = [p.relative_to(ROOT) for p in stateful if "pytest.mark.long" not in p.read_text(encoding="utf-8")]
    assert not unmarked, f"stateful tests without @pytest.mark.long: {unmarked}"
