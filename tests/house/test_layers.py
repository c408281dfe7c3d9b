"""The house rules of src/voxform: pure layers below, no package cycles, small modules.

The floors, from the bottom: the pure layers (manifest, render, plan, state); providers and
the engine; `project.py`, which opens a project for a command (manifests loaded, items
rendered, the lockfile read, plans made against it); then the rooms that carry a command
out (apply, pull, review) and those that show or serve it (report, emulator, cli).

Read from the source with `ast`, so an import inside a function counts as much as one at the
top; imports under `if TYPE_CHECKING:` are types only and do not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "voxform"
PURE = ("manifest", "render", "plan", "state")
ABOVE = ("providers", "engine", "project", "apply", "review", "report", "emulator", "cli")
PROJECT = "project"
# The rooms that open a project for a command; nothing below them may (they would reach up).
OPENERS = ("apply", "pull", "review", "cli")
# What project.py may not import: the rooms that use it and those that show or serve it.
ABOVE_PROJECT = (*OPENERS, "report", "emulator")
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def room(path: Path) -> str:
    """The package a module belongs to (`render`), or its own name at the top (`errors`)."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0]


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def voxform_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported voxform module) for every import that runs."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "voxform":
                for alias in node.names:
                    yield node.lineno, f"voxform.{alias.name}"
            elif node.module.startswith("voxform."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("voxform."):
                    yield node.lineno, alias.name


def imported_room(module: str) -> str:
    return module.split(".")[1]


def test_the_pure_layers_import_nothing_from_the_layers_above() -> None:
    offences = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in modules()
        if room(path) in PURE
        for line, module in voxform_imports(path)
        if imported_room(module) in ABOVE
    ]
    assert offences == []


def test_a_project_is_opened_only_by_the_rooms_that_carry_commands_out() -> None:
    offences = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in modules()
        if room(path) not in (PROJECT, *OPENERS)
        for line, module in voxform_imports(path)
        if imported_room(module) == PROJECT
    ]
    assert offences == []


def test_the_project_imports_nothing_from_the_rooms_above_it() -> None:
    offences = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in modules()
        if room(path) == PROJECT
        for line, module in voxform_imports(path)
        if imported_room(module) in ABOVE_PROJECT
    ]
    assert offences == []


def test_packages_import_each_other_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in modules():
        edges = graph.setdefault(room(path), set())
        for _, module in voxform_imports(path):
            if imported_room(module) != room(path):
                edges.add(imported_room(module))
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text("utf-8").splitlines()) <= MAX_LINES


def test_the_checks_see_the_imports_they_police() -> None:
    """Guard against a checker that finds nothing: known edges must be there."""
    by_name = {str(p.relative_to(SRC)): p for p in modules()}
    local = {m for _, m in voxform_imports(by_name["providers/local.py"])}
    assert "voxform.engine.client" in local
    plan_imports = {m for _, m in voxform_imports(by_name["plan/plan.py"])}
    assert "voxform.state.lockfile" in plan_imports
    run = {m for _, m in voxform_imports(by_name["apply/run.py"])}
    assert "voxform.project" in run
    assert {room(p) for p in modules() if p.stem == PROJECT} == {PROJECT}
    project = {imported_room(m) for _, m in voxform_imports(by_name["project.py"])}
    assert {"manifest", "render", "plan", "state", "providers"} <= project
    protocol = {m for _, m in voxform_imports(by_name["providers/protocol.py"])}
    assert "voxform.manifest.model" not in protocol  # a TYPE_CHECKING import, types only
