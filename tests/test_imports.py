"""The package's import rules, read statically from the source (in the spirit of
click's import allow-list test, but with ``ast`` rather than by running imports):

(a) the levels run one way: errors/_records/_gc < spec < kinds < network < ask <
    formats < cli; a module imports its own level or a lower one, never a higher;
(b) the frameworks' kinds (kinds/torch, kinds/keras, kinds/onnx) never import each
    other, and kinds' shared modules (base, merge) import none of them nor the
    registries built over them (kinds/__init__, kinds/frameworks);
(c) only convcalc/cli/ imports click;
(d) only the table-drawing modules of convcalc/formats/ (table.py, terminal.py) import rich;
(e) no import circles between modules;
(f) nothing is imported but the standard library, click, rich and convcalc itself.

Which imports count. Every ``import``/``from … import`` anywhere in a module: at the
top, inside a function (a lazy import, which still runs), under ``if TYPE_CHECKING:``,
and ``importlib.import_module("convcalc.…")`` / ``import_module(f"convcalc.x.{name}")``
(counted as importing the module its literal prefix names; one whose name does not
start with a literal ``convcalc.`` — the package's own lazy table, make_index's
``__package__`` — is not followed). TYPE_CHECKING imports are held to (a)–(d) like the
rest: a type named in an annotation is still a dependency, and none breaks a rule
today. (e) is checked three times: the imports that run when a module is imported (top
level, not TYPE_CHECKING) must form no circle at all; the imports that run at some
point (lazy ones and import_module too) must form none either; and counting the
TYPE_CHECKING ones too, none (a type named across a circle is still a circle in the
design: farm-studio's reading counts it; name such a type by its shape, a Protocol,
or move it down, as network/statements.py and formats/torch_tree.py do). An
import names a module, not the packages above it (which Python has already
initialised by then), so ``from convcalc.kinds.base import X`` is an edge to
convcalc.kinds.base only.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

from tests.paths import ROOT

PACKAGE = ROOT / "convcalc"

# Lowest first. The library (api) and the command line (cli) stand side by side on
# the formats; convcalc/__init__.py, the library's face (each name imported on first
# use), and __main__ are the top.
LEVELS: list[tuple[str, ...]] = [
    ("convcalc.errors", "convcalc._records", "convcalc._gc", "convcalc._version", "convcalc._lazy"),
    ("convcalc.language",),
    ("convcalc.kinds",),
    ("convcalc.network",),
    ("convcalc.ask",),
    ("convcalc.formats",),
    ("convcalc.api", "convcalc.cli"),
    ("convcalc", "convcalc.__main__"),
]
FRAMEWORK_KINDS = ("convcalc.kinds.torch", "convcalc.kinds.keras", "convcalc.kinds.onnx")
KINDS_REGISTRIES = ("convcalc.kinds", "convcalc.kinds.frameworks")
DEPENDENCIES = {"click", "rich"}  # pyproject.toml's [project] dependencies


class Import(NamedTuple):
    importer: str  # convcalc.x.y
    imported: str  # a convcalc module, or a top-level name outside the package (click)
    line: int
    how: str  # "top", "lazy" (in a function), "typing" (TYPE_CHECKING), "dynamic"

    def __str__(self) -> str:
        path = _modules()[self.importer].relative_to(ROOT)
        return f"{path}:{self.line}: {self.importer} → {self.imported} ({self.how})"


@cache
def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name, with its file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _target(name: str) -> str:
    """The module an absolute dotted name imports: convcalc's own, else its top package."""
    if name == "convcalc" or name.startswith("convcalc."):
        while name not in _modules():
            name = name.rpartition(".")[0]
        return name
    return name.partition(".")[0]


def _dynamic(call: ast.Call) -> str | None:
    """The module ``import_module("convcalc.…")`` names by its literal prefix."""
    func = call.func
    named = (isinstance(func, ast.Name) and func.id == "import_module") or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    if not named or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        text = arg.value
    elif (
        isinstance(arg, ast.JoinedStr)
        and arg.values
        and isinstance(arg.values[0], ast.Constant)
        and isinstance(arg.values[0].value, str)
    ):
        text = arg.values[0].value.rstrip(".")
    else:
        return None
    return _target(text) if text.startswith("convcalc.") else None


def _imports_of(module: str) -> Iterator[Import]:
    path = _modules()[module]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

    def visit(node: ast.AST, how: str) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, "typing")
            for child in node.orelse:
                yield from visit(child, how)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            how = "typing" if how == "typing" else "lazy"
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, _target(alias.name), node.lineno, how)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source == "__future__":
                return
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                yield Import(
                    module, _target(sub if sub in _modules() else source), node.lineno, how
                )
        elif isinstance(node, ast.Call) and (name := _dynamic(node)):
            yield Import(module, name, node.lineno, "dynamic")
        for child in ast.iter_child_nodes(node):
            yield from visit(child, how)

    yield from visit(tree, "top")


@cache
def _all_imports() -> tuple[Import, ...]:
    # (one entry for ``from m import a, b``)
    return tuple(dict.fromkeys(imp for module in _modules() for imp in _imports_of(module)))


def _own() -> list[Import]:
    """Imports of convcalc's own modules (a module importing itself apart)."""
    return [i for i in _all_imports() if i.imported in _modules() and i.imported != i.importer]


def _under(module: str, prefixes: tuple[str, ...]) -> str | None:
    """The longest of ``prefixes`` that is ``module`` or a package holding it."""
    hits = [p for p in prefixes if module == p or module.startswith(p + ".")]
    return max(hits, key=len) if hits else None


def _level(module: str) -> int:
    """The index in LEVELS of the longest entry placing ``module`` ("convcalc", which
    holds everything, places only the package's own __init__)."""
    places = [
        (len(prefix), index)
        for index, group in enumerate(LEVELS)
        for prefix in group
        if module == prefix or (prefix != "convcalc" and _under(module, (prefix,)))
    ]
    assert places, f"{module} has no level: add it to LEVELS"
    return max(places)[1]


def _compare(rule: str, found: dict[tuple[str, str], list[Import]]) -> None:
    lines = [str(imp) for where in found.values() for imp in where]
    assert not found, f"{len(found)} violations of {rule!r}:\n" + "\n".join(lines[:40])


def _group(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    found: dict[tuple[str, str], list[Import]] = {}
    for imp in imports:
        found.setdefault((imp.importer, imp.imported), []).append(imp)
    return found


# -- the reading itself ----------------------------------------------------------------


def test_every_kind_of_import_is_read() -> None:
    # Guards against a reader that silently sees nothing.
    seen = {(i.importer, i.imported, i.how) for i in _all_imports()}
    assert {how for _, _, how in seen} >= {"top", "lazy", "typing"}
    assert ("convcalc.network.analysis", "convcalc.kinds.shapes", "top") in seen
    assert ("convcalc.cli.command", "convcalc.cli.solve", "lazy") in seen
    assert ("convcalc", "convcalc.network.analysis", "typing") in seen
    assert ("convcalc.language", "convcalc.language.parse", "top") in seen  # an __init__
    assert len(_modules()) > 50


def test_every_module_has_a_level() -> None:
    for module in _modules():
        _level(module)


# -- the rules ----------------------------------------------------------------------------


def test_the_levels_run_one_way() -> None:  # (a)
    _compare("levels", _group([i for i in _own() if _level(i.imported) > _level(i.importer)]))


def test_the_frameworks_kinds_stay_apart() -> None:  # (b)
    found = []
    for imp in _own():
        mine, theirs = _under(imp.importer, FRAMEWORK_KINDS), _under(imp.imported, FRAMEWORK_KINDS)
        if mine and theirs and mine != theirs:
            found.append(imp)
    _compare("frameworks", _group(found))


def test_the_shared_kinds_know_no_framework() -> None:  # (b)
    # Every module of kinds/ but the frameworks' own and the registries that gather them.
    found = [
        i
        for i in _own()
        if _under(i.importer, ("convcalc.kinds",))
        and not _under(i.importer, FRAMEWORK_KINDS)
        and i.importer not in KINDS_REGISTRIES
        and (_under(i.imported, FRAMEWORK_KINDS) or i.imported in KINDS_REGISTRIES)
    ]
    _compare("kinds", _group(found))


def test_only_the_command_imports_click() -> None:  # (c)
    found = [
        i
        for i in _all_imports()
        if i.imported == "click" and not _under(i.importer, ("convcalc.cli",))
    ]
    _compare("click", _group(found))


def _draws_tables(module: str) -> bool:
    # formats/table.py draws the tables for people (the main one and solve's), with
    # formats/terminal.py's lines: Rich's measure, wrap and escape codes.
    return module in ("convcalc.formats.table", "convcalc.formats.terminal")


def test_only_the_tables_import_rich() -> None:  # (d)
    found = [i for i in _all_imports() if i.imported == "rich" and not _draws_tables(i.importer)]
    _compare("rich", _group(found))


def _circles(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """The imports that lie on a circle: both ends in one strongly connected component."""
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for imp in imports:
        graph[imp.importer].add(imp.imported)
    # Tarjan's algorithm.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    component: dict[str, int] = {}

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component[member] = index[node]
                if member == node:
                    break

    for node in graph:
        if node not in index:
            connect(node)
    return _group([i for i in imports if component[i.importer] == component[i.imported]])


def test_no_circle_at_import_time() -> None:  # (e)
    _compare("circles at import", _circles([i for i in _own() if i.how == "top"]))


def test_no_import_circles() -> None:  # (e)
    _compare("circles", _circles([i for i in _own() if i.how != "typing"]))


def test_no_circles_counting_the_types_named() -> None:  # (e)
    _compare("circles with TYPE_CHECKING imports", _circles(list(_own())))


def test_nothing_but_the_standard_library_and_the_dependencies() -> None:  # (f)
    outside = {
        i
        for i in _all_imports()
        if i.imported not in _modules()
        and i.imported not in sys.stdlib_module_names
        and i.imported not in DEPENDENCIES
    }
    assert not outside, "\n".join(map(str, sorted(outside)))
