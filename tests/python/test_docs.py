"""The threat model cites tests by `file::name`: each must exist, so the document cannot point at
a test that was renamed or removed."""

import re

from greenbond.config import REPO_ROOT

CITATION = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_threat_model_cites_only_tests_that_exist():
    text = (REPO_ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    cited = set(CITATION.findall(text))
    assert len(cited) > 40
    missing = [f"{path}::{name}" for path, name in sorted(cited)
               if not (REPO_ROOT / path).is_file()
               or not re.search(rf"^def {name}\(", (REPO_ROOT / path).read_text(encoding="utf-8"), re.M)]
    assert not missing


def test_readme_links_the_threat_model():
    assert "(docs/threat-model.md)" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
