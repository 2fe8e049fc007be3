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


# --- the README is a quick start; the rest lives in docs/, and every link in them resolves ---

README = REPO_ROOT / "README.md"
README_MAX_LINES = 200
# [text](target) and ![alt](target), with an optional "title"; <target> allowed
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]*))(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(?:<([^>]*)>|(\S+))", re.M)
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
EXTERNAL = re.compile(r"^(?:https?:|mailto:)", re.I)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)


def documentation_files():
    return [README, *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def links(path):
    """Every link target of a markdown file, outside code blocks and code spans."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    found = []
    for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK):
        for match in pattern.finditer(text):
            found.append(next(g for g in match.groups() if g is not None).strip())
    return found


def relative_links(path):
    return [t for t in links(path) if t and not EXTERNAL.match(t) and not t.startswith("#")]


def test_readme_is_a_quick_start_of_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move the detail to docs/"


def test_the_link_finder_sees_every_kind_of_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('[a](docs/a.md#x) ![b](<img b.png> "t") [e](https://example.org) [f](#top)\n'
                    '<img src="d.png">\n`[no](code.md)`\n```\n[no](fenced.md)\n```\n[c]: ../c.md\n',
                    encoding="utf-8")
    assert links(page) == ["docs/a.md#x", "img b.png", "https://example.org", "#top", "../c.md", "d.png"]
    assert relative_links(page) == ["docs/a.md#x", "img b.png", "../c.md", "d.png"]


def test_no_link_leaves_the_repository():
    """A link is either a public web address or a path inside this repository: no absolute path,
    no other scheme (file:, ...), no relative path climbing out of the repository."""
    root = REPO_ROOT.resolve()
    outside = []
    for doc in documentation_files():
        for target in links(doc):
            if not target or EXTERNAL.match(target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0].split("?", 1)[0]
            resolved = (doc.parent / path).resolve()
            if re.match(r"^[a-z][a-z0-9+.-]*:", path, re.I) or path.startswith(("/", "\\", "~")) \
                    or not resolved.is_relative_to(root):
                outside.append(f"{doc.relative_to(root)}: {target}")
    assert not outside


def test_every_relative_link_resolves_to_a_file_in_the_repository():
    root = REPO_ROOT.resolve()
    broken = []
    for doc in documentation_files():
        for target in relative_links(doc):
            path = target.split("#", 1)[0].split("?", 1)[0]
            resolved = (doc.parent / path).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                broken.append(f"{doc.relative_to(root)}: {target}")
    assert not broken


def github_anchors(path):
    """The anchors GitHub gives a markdown file's headings: lower case, punctuation but '-' and '_'
    dropped, spaces to '-', a repeated anchor numbered."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", path.read_text(encoding="utf-8")), re.M):
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link's text only
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_every_anchor_names_a_heading_of_its_markdown_file():
    root = REPO_ROOT.resolve()
    missing = []
    for doc in documentation_files():
        for target in links(doc):
            if EXTERNAL.match(target) or "#" not in target:
                continue
            path, anchor = target.split("#", 1)
            file = (doc.parent / path).resolve() if path else doc
            if file.suffix == ".md" and file.is_file() and anchor not in github_anchors(file):
                missing.append(f"{doc.relative_to(root)}: {target}")
    assert not missing
