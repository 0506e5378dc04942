"""The tree names the architecture, and stays so: read from the code's own imports and literals.

- no import cycles, and no import inside a function to dodge one (only the CLI and the report's chart drawing
  import lazily, to start fast);
- the machinery (`core/`, `sources/`) imports no topic, no Dagster wiring and not the registry;
- topics import no Dagster; `defs/` modules do not import each other;
- the package root keeps at most five modules;
- one registry: no module outside the topic packages and the registry keeps its own list of sources, and every
  consumer sees exactly the registry's sources and topics.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vraem_pipeline", "vraem_sample")
TOPICS = ("empresas", "empleo", "exportaciones", "credito", "pbi")
#: Modules that may import lazily, inside a function: the CLI, so that `vraem --help` does not load Dagster, and
#: the report, so that the processes that load the definitions without drawing a chart do not import matplotlib.
LAZY_IMPORTS_ALLOWED = {"vraem_pipeline.cli", "vraem_pipeline.informe"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project modules an import statement loads (a `from package import module` names the module)."""
    targets = []
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = (
                module.split(".")[: -node.level]
                if not MODULES[module].name == "__init__.py"
                else module.split(".")[: len(module.split(".")) - node.level + 1]
            )
            base = ".".join([*package, base] if base else package)
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    return sorted({t for t in targets if t.split(".")[0] in PACKAGES and t in MODULES})


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(module-level imports, imports inside functions) of a project module, TYPE_CHECKING blocks left out."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top, nested = set(), set()

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (nested if in_function else top).update(_resolve(module, child))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return top, nested


GRAPH = {m: _imports(m) for m in MODULES}


def _external(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if parts[0] == "vraem_pipeline" and len(parts) > 1 else parts[0]


def test_no_import_cycles():
    edges = {m: {t for t in GRAPH[m][0] | GRAPH[m][1] if t != m} for m in MODULES}
    # a package's __init__ importing its own submodules is how a package exports; its submodules importing the
    # package back is the cycle
    seen, stack, cycles = set(), [], []

    def walk(node: str) -> None:
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(edges[node]):
            walk(nxt)
        stack.pop()

    for m in sorted(MODULES):
        walk(m)
    assert cycles == [], "\n".join(" → ".join(c) for c in cycles[:10])


def test_no_import_inside_a_function_to_dodge_a_cycle():
    nested = {m: sorted(GRAPH[m][1]) for m in MODULES if GRAPH[m][1] and m not in LAZY_IMPORTS_ALLOWED}
    assert nested == {}


def test_the_machinery_imports_no_topic_and_no_dagster_wiring():
    forbidden = {
        *(f"vraem_pipeline.{t}" for t in TOPICS),
        "vraem_pipeline.defs",
        "vraem_pipeline.lib",
        "vraem_pipeline.informe",
        "vraem_pipeline.registry",
        "vraem_pipeline.cli",
        "vraem_pipeline.definitions",
        "vraem_sample",
    }
    bad = {
        m: sorted(t for t in GRAPH[m][0] | GRAPH[m][1] if any(t == f or t.startswith(f + ".") for f in forbidden))
        for m in MODULES
        if _area(m) in ("core", "sources")
    }
    assert {m: t for m, t in bad.items() if t} == {}


def test_topics_import_no_dagster_and_no_wiring():
    bad = {}
    for m in MODULES:
        if _area(m) in TOPICS:
            wiring = [t for t in GRAPH[m][0] | GRAPH[m][1] if _area(t) in ("defs", "lib", "informe")]
            if "dagster" in _external(m) or "dagster_duckdb" in _external(m) or wiring:
                bad[m] = sorted({*wiring, *({"dagster"} & _external(m))})
    assert bad == {}


def test_defs_modules_do_not_import_each_other():
    bad = {m: sorted(t for t in GRAPH[m][0] | GRAPH[m][1] if _area(t) == "defs") for m in MODULES if _area(m) == "defs"}
    assert {m: t for m, t in bad.items() if t} == {}


def test_the_package_root_keeps_at_most_five_modules():
    root_modules = sorted(p.name for p in (ROOT / "vraem_pipeline").glob("*.py"))
    assert len(root_modules) <= 5, root_modules


# --- one registry -------------------------------------------------------------------------------------------------


def _string_collections(path: Path) -> list[tuple[int, set[str]]]:
    """(line, string constants) of every list, tuple, set or dict literal in a module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        items = (
            node.elts
            if isinstance(node, (ast.List, ast.Tuple, ast.Set))
            else [*node.keys, *node.values]
            if isinstance(node, ast.Dict)
            else None
        )
        if items is not None:
            out.append(
                (node.lineno, {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)})
            )
    return out


def test_no_consumer_keeps_its_own_list_of_sources():
    """A literal collection naming two or more of the registry's sources, outside the topic packages (which
    declare them) and the registry, is a second list that would drift."""
    from vraem_pipeline.registry import SOURCES

    names = {s.name for s in SOURCES}
    found = []
    for module, path in MODULES.items():
        if _area(module) in TOPICS or module == "vraem_pipeline.registry" or module.startswith("vraem_sample"):
            continue
        for line, strings in _string_collections(path):
            if len(strings & names) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{line}: {sorted(strings & names)}")
    assert found == []


def test_every_consumer_sees_the_registrys_sources_and_topics(tmp_path):
    from vraem_pipeline.core import raw_scan
    from vraem_pipeline.core.dictionary import dictionary_rows
    from vraem_pipeline.defs import automation
    from vraem_pipeline.informe.data import REPORT_TOPICS
    from vraem_pipeline.registry import SOURCES, TOPICS

    # the sensor watches every source's folder, and nothing else
    watched = {
        a for assets in (*automation.YEARLY_SOURCES.values(), *automation.EDITION_SOURCES.values()) for a in assets
    }
    assert watched == {s.asset for s in SOURCES}
    # the raw/ scan expects exactly the registry's folders
    note = raw_scan.unrecognised_files(_raw_with_stray_file(tmp_path), SOURCES)["nota"].iloc[0]
    assert all(raw_scan.folder_label(s) in note for s in SOURCES)
    # the dictionary describes every staging table of the registry
    tables = {s.table for s in SOURCES if s.table}
    described = dictionary_rows(tables, SOURCES)
    assert {f"staging.{t}" for t in described["tabla"]} == tables
    # the report has one block per topic, in the registry's order
    assert [t.clave for t in REPORT_TOPICS] == [t.name for t in TOPICS]


def _raw_with_stray_file(tmp_path: Path) -> Path:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "suelto.txt").write_text("x", encoding="utf-8")
    return tmp_path / "raw"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_keeps_its_sql_beside_its_code(topic):
    from vraem_pipeline.core.marts import topic_marts

    assert topic_marts(topic), f"vraem_pipeline/{topic}/sql/marts/ has no mart"
    assert all(name.startswith(topic) for name in topic_marts(topic))
