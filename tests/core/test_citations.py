"""Code, tests and shipped files cite only what is in the repository: facts as `docs/<page>.md#<anchor>`.

The shared contract, the source notes and the issue tracker are not in the repository, so a citation of them
("contract §4.2", "source note §5.2", "issue 11") sends a reader nowhere; what the code relies on from them is
stated in docs/ and cited there. Every `docs/<page>.md#<anchor>` cited must name a page that exists and an
anchor it has: an `<a id="…"></a>` tag or a heading's GitHub slug.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SCANNED = ("vraem_pipeline", "vraem_sample", "tests")
THIS = Path(__file__).resolve()

#: Citations of documents that are not in the repository.
OUTSIDE = re.compile(
    r"contract\s*§|contrato\s*§|source note|nota de fuentes|sources/enaho\.md|sources/firms-exports-credit-gdp\.md"
    r"|\bissues?\s*#?\d+",
    re.IGNORECASE,
)
#: A docs page cited from the repository root or relatively (`../../docs/…` in reference/README.md).
DOCS_CITATION = re.compile(r"(?<![\w./-])(?:\.\./)*docs/((?:[\w-]+/)*[\w.-]+?\.md)(?:#([\w-]+))?")
ANCHOR_TAG = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


@cache
def scanned_files() -> tuple[Path, ...]:
    """Every text file under the scanned folders but this one (bytecode and binaries such as xlsx skipped)."""
    files = []
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.resolve() == THIS:
                continue
            if b"\0" in path.read_bytes()[:8192]:
                continue
            files.append(path)
    return tuple(files)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: tags dropped, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]*>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        found.update(ANCHOR_TAG.findall(line))
        heading = HEADING.match(line)
        if heading and not in_code:
            base = slug(heading.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


@cache
def citations() -> tuple[tuple[str, int, str, str | None], ...]:
    """(file, line, page, anchor or None) of every docs citation in the scanned files."""
    out = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for m in DOCS_CITATION.finditer(line):
                out.append((str(path.relative_to(REPO)), number, m.group(1), m.group(2)))
    return tuple(out)


def test_slugs_follow_github():
    assert slug('<a id="x"></a>Notes on a few of them') == "notes-on-a-few-of-them"
    assert slug("`ocupinf` is gone from 2024") == "ocupinf-is-gone-from-2024"
    assert slug("Parameters (`meta.parametros`, tema `empleo`)") == "parameters-metaparametros-tema-empleo"


def test_no_file_cites_a_document_outside_the_repository():
    hits = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            hits += [f"{path.relative_to(REPO)}:{number}: {m.group(0)!r}" for m in OUTSIDE.finditer(line)]
    assert not hits, "cite docs/<page>.md#<anchor> instead:\n" + "\n".join(hits)


def test_the_scan_sees_the_citations():
    # the check below can fail only if the scan finds what it checks
    cited = citations()
    assert len(cited) > 50
    assert any(page == "sources.md" and anchor for _, _, page, anchor in cited)
    assert any(f.startswith("vraem_pipeline/reference/") for f, _, _, _ in cited)


@pytest.mark.parametrize("page", sorted({page for _, _, page, _ in citations()}))
def test_every_cited_docs_anchor_exists(page):
    target = DOCS / page
    where = [(f, n, a) for f, n, p, a in citations() if p == page]
    assert target.is_file(), f"docs/{page} does not exist, cited at " + ", ".join(f"{f}:{n}" for f, n, _ in where)
    known = anchors(target)
    missing = [f"{f}:{n}: docs/{page}#{a}" for f, n, a in where if a is not None and a not in known]
    assert not missing, f"anchors not in docs/{page}:\n" + "\n".join(missing)


#: A test cited from the docs: `tests/<path>.py::<name>`, where `…` stands for the part of the name left out.
TEST_CITATION = re.compile(r"(tests/[\w/]+\.py)::([\w…]+)")


def test_every_test_the_docs_cite_exists():
    """The docs prove a guarantee by naming its test (docs/guarantees.md): a renamed test must take its citations
    along, or the reader looks for a test that is not there."""
    cited = [
        (page.relative_to(REPO).as_posix(), path, name)
        for page in [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
        for path, name in TEST_CITATION.findall(page.read_text(encoding="utf-8"))
    ]
    assert len(cited) > 10  # the scan sees them
    missing = []
    for page, path, name in cited:
        source = (REPO / path).read_text(encoding="utf-8") if (REPO / path).is_file() else ""
        pieces = [re.escape(p) for p in name.split("…")]
        if not re.search(r"def (test_\w*)?" + r"\w*".join(pieces) + r"\w*\(", source):
            missing.append(f"{page}: {path}::{name}")
    assert not missing, "pruebas citadas que no existen:\n" + "\n".join(missing)
