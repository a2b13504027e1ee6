"""The layering rules of docs/architecture.md, checked on the source of ``dashboard/``.

Imports are read with :mod:`ast` (nothing is imported), at module top and inside
functions alike:

- no import circle between dashboard modules;
- no ``from X import _private`` across modules;
- the leaf modules (``cells``, ``formats``, ``memory``, ``text``) import nothing from the project;
- only the command line imports :mod:`dashboard.commands`; only the store and
  the migrations import :mod:`dashboard.db`;
- nothing outside :mod:`dashboard.db` (and the frozen migration scripts) asks
  which database it talks to: not the other modules, not the pages.

``KNOWN_EXCEPTIONS`` lists what ``dashboard/metrics/`` still breaks while it is
being restructured; it must only shrink, and every entry must still be needed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dashboard"

# (importing module, imported module, name) -- private names imported across modules in dashboard/metrics/.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str, str]] = frozenset()
# Import circles (as sorted tuples of modules) still present in dashboard/metrics/.
KNOWN_CIRCLES: frozenset[tuple[str, ...]] = frozenset()

LEAVES = ("dashboard.cells", "dashboard.formats", "dashboard.memory", "dashboard.text")
DATABASE_WORDS = ("duckdb", "postgres")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported dashboard module
    names: tuple[str, ...]  # names taken from it with ``from target import ...``
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not MODULES[module].name == "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _owning_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _owning_module(alias.name)
                if target and target != module:
                    yield Import(module, target, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            if not base.startswith("dashboard"):
                continue
            plain: list[str] = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:  # ``from dashboard import store`` imports a module
                    if submodule != module:
                        yield Import(module, submodule, (), node.lineno)
                else:
                    plain.append(alias.name)
            target = _owning_module(base)
            if plain and target and target != module:
                yield Import(module, target, tuple(plain), node.lineno)


IMPORTS = [imp for module in MODULES for imp in _imports(module)]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        graph[imp.source].add(imp.target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return found


def test_the_import_reader_sees_the_package() -> None:
    expected = {"dashboard.store", "dashboard.cli", "dashboard.commands.export", "dashboard.db.duckdb"}
    assert expected <= set(MODULES)
    assert any(i.source == "dashboard.store" and i.target == "dashboard.db" for i in IMPORTS)
    # an import inside a function counts as well
    assert any(i.source == "dashboard.cli" and i.target == "dashboard.commands.load" for i in IMPORTS)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [("a", "b", "c")]


def test_no_import_circles_between_dashboard_modules() -> None:
    circles = set(_circles(_graph()))
    unexpected = circles - KNOWN_CIRCLES
    assert not unexpected, f"import circles: {sorted(unexpected)}"
    assert not KNOWN_CIRCLES - circles, "a known circle is gone: remove it from KNOWN_CIRCLES"


def test_no_private_names_imported_across_modules() -> None:
    private = {(i.source, i.target, n) for i in IMPORTS for n in i.names if n.startswith("_")}
    unexpected = private - KNOWN_EXCEPTIONS
    assert not unexpected, f"private names imported across modules: {sorted(unexpected)}"
    assert not KNOWN_EXCEPTIONS - private, "a known exception is gone: remove it from KNOWN_EXCEPTIONS"


def test_known_exceptions_are_only_in_the_metrics_package() -> None:
    for source, target, _ in KNOWN_EXCEPTIONS:
        assert source.startswith("dashboard.metrics.") and target.startswith("dashboard.metrics."), source
    for circle in KNOWN_CIRCLES:
        assert all(m.startswith("dashboard.metrics.") for m in circle), circle


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_nothing_from_the_project(leaf: str) -> None:
    assert [i.target for i in IMPORTS if i.source == leaf] == []


def test_only_the_command_line_imports_the_command_handlers() -> None:
    outside = {
        i.source for i in IMPORTS
        if i.target.startswith("dashboard.commands") and i.source != "dashboard.cli"
        and not i.source.startswith("dashboard.commands")
    }
    assert not outside, f"modules importing dashboard.commands: {sorted(outside)}"


def test_only_the_store_and_migrations_import_the_database_boundary() -> None:
    allowed = {"dashboard.store", "dashboard.migrate"}
    outside = {
        i.source for i in IMPORTS
        if (i.target == "dashboard.db" or i.target.startswith("dashboard.db."))
        and i.source not in allowed and not i.source.startswith(("dashboard.db", "dashboard.migrations"))
    }
    assert not outside, f"modules importing dashboard.db directly: {sorted(outside)}"


def _asks_which_database(tree: ast.AST) -> list[int]:
    """Lines that compare against, or test a prefix for, a database's name, or read ``dialect.name``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "name" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "dialect":
            lines.append(node.lineno)
        elif isinstance(node, ast.Compare):
            values = [node.left, *node.comparators]
            if any(isinstance(v, ast.Constant) and isinstance(v.value, str)
                   and v.value.lower().startswith(DATABASE_WORDS) for v in values):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("startswith", "endswith"):
            for arg in node.args:
                texts = arg.elts if isinstance(arg, ast.Tuple) else [arg]
                if any(isinstance(t, ast.Constant) and isinstance(t.value, str)
                       and t.value.lower().startswith(DATABASE_WORDS) for t in texts):
                    lines.append(node.lineno)
    return lines


def test_nothing_outside_the_boundary_asks_which_database_it_talks_to() -> None:
    found = {}
    for module, path in MODULES.items():
        if module.startswith(("dashboard.db", "dashboard.migrations")):
            continue  # the boundary itself; migration scripts are frozen history, one per schema change
        lines = _asks_which_database(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[module] = lines
    for path in [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        lines = _asks_which_database(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert not found, f"database checks outside dashboard/db: {found}"


def test_the_database_check_finder_finds_checks() -> None:
    source = (
        'a = url.startswith("duckdb")\nb = conn.dialect.name == "x"\nc = kind == "postgresql"\nd = "ok"\n'
    )
    assert sorted(set(_asks_which_database(ast.parse(source)))) == [1, 2, 3]


def test_no_module_forwards_names_it_does_not_define() -> None:
    """A module-level ``__getattr__`` that imports another module on first use hides an import
    circle from the reader (and from the checks above): callers import from the defining module."""
    forwarding = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__" for node in tree.body):
            forwarding.append(name)
    assert not forwarding, f"modules forwarding names through __getattr__: {forwarding}"
