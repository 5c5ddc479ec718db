"""Imports point down only and never in a circle (docs/ARCHITECTURE.md §1): walk the package with ``ast``.

The rules fail closed: a module or package of drs_desktop that no rule names fails the test until someone
decides where it sits, so a new layer cannot slip in unchecked.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import pytest

PACKAGE = "drs_desktop"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
STDLIB = set(sys.stdlib_module_names)

# The headless CLI modules. They may reach every layer below the GUI (their commands call services,
# read the journal, start the simulator), but no Qt: the GUI starts only through app.py (cli.py calls
# app.run_gui inside a function), so `drs-desktop run` works on a server without Qt's libraries.
# They import no third-party package directly either: AWS, keyring and files come through the layers.
CLI_MODULES = {
    "cli",
    "cli_run",
    "cli_drive",
    "cli_target",
    "cli_show",
    "cli_control",
    "cli_exit",
    "cli_servers",
    "cli_sync",
    "cli_sync_now",
    "cli_native",
    "cli_native_run",
    "cli_native_text",
    "cli_sync_takeover",
    "cli_launch",
    "cli_launch_restore",
    "cli_common",
    "cli_scripts",
    "cli_report_period",
    "cli_retention",
    "cli_unattended",
    "cli_schedule",
    "cli_alerts",
    "cli_audit",
}
_CLI_MAY_IMPORT = {"domain", "storage", "aws", "secrets", "config", "services", "simulator", *CLI_MODULES}

# Every package and top-level module of drs_desktop -> (drs_desktop layers or modules it may import,
# third-party top-level packages it may import, stdlib modules it must not import).
RULES: dict[str, tuple[set[str], set[str], set[str]]] = {
    "domain": (set(), set(), {"sqlite3"}),
    "storage": ({"domain"}, {"yaml"}, set()),
    "aws": ({"domain"}, {"boto3", "botocore"}, {"sqlite3"}),
    "secrets": ({"domain"}, {"keyring"}, {"sqlite3"}),
    "config": ({"domain"}, {"platformdirs"}, {"sqlite3"}),
    "services": ({"domain", "storage", "aws", "secrets", "config"}, set(), set()),
    "workers": ({"services", "domain"}, {"PySide6.QtCore", "shiboken6"}, {"sqlite3"}),
    "ui": ({"workers", "domain", "config.resource_path"}, {"PySide6"}, {"sqlite3"}),
    "simulator": (set(), {"botocore", "yaml"}, set()),
    "cli": (_CLI_MAY_IMPORT | {"app", "self_test"}, set(), set()),
    "cli_run": (_CLI_MAY_IMPORT, set(), set()),
    "cli_drive": (_CLI_MAY_IMPORT, set(), set()),
    "cli_target": (_CLI_MAY_IMPORT, set(), set()),
    "cli_show": (_CLI_MAY_IMPORT, set(), set()),
    "cli_control": (_CLI_MAY_IMPORT, set(), set()),
    "cli_servers": (_CLI_MAY_IMPORT, set(), set()),
    "cli_sync": (_CLI_MAY_IMPORT, set(), set()),
    "cli_sync_now": (_CLI_MAY_IMPORT, set(), set()),
    "cli_native": (_CLI_MAY_IMPORT, set(), set()),
    "cli_native_run": (_CLI_MAY_IMPORT, set(), set()),
    "cli_native_text": (_CLI_MAY_IMPORT, set(), set()),
    "cli_launch": (_CLI_MAY_IMPORT, set(), set()),
    "cli_launch_restore": (_CLI_MAY_IMPORT, set(), set()),
    "cli_audit": (_CLI_MAY_IMPORT, set(), set()),
    "cli_common": (_CLI_MAY_IMPORT, set(), set()),
    "cli_sync_takeover": (_CLI_MAY_IMPORT, set(), set()),
    "cli_scripts": (_CLI_MAY_IMPORT, set(), set()),
    "cli_report_period": (_CLI_MAY_IMPORT, set(), set()),
    "cli_retention": (_CLI_MAY_IMPORT, set(), set()),
    "cli_unattended": (_CLI_MAY_IMPORT, set(), set()),  # drill --unattended (scheduled drills)
    "cli_schedule": (_CLI_MAY_IMPORT, set(), set()),  # schedule add|remove|list|show
    "cli_alerts": (_CLI_MAY_IMPORT, set(), set()),
    # the exit codes and the usage error (exit 2), one place; imports only the domain's errors
    "cli_exit": ({"domain"}, set(), set()),
    "__main__": ({"cli", "frozen"}, set(), set()),  # python -m drs_desktop and the bundle -> cli.main()
    "frozen": (set(), set(), {"sqlite3"}),  # the bundle's process set-up (Windows console): stdlib only
    "log_file": ({"config"}, set(), {"sqlite3"}),  # the GUI's rotating log file, written off its thread
    "__init__": (set(), set(), set()),  # __version__, APP_NAME, APP_ID; no side effects
}
# The GUI's composition root may import everything, and so may its smoke test (``--self-test``).
UNRESTRICTED = {"app", "self_test"}


def layer_of(module_path: Path) -> str:
    """The rule a file answers to: its package under drs_desktop/, or its own name at the top level."""
    rel = module_path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def module_name(module_path: Path) -> str:
    rel = module_path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, package_parts: list[str]) -> str:
    """The module an ImportFrom names, with a relative import resolved against the importing package."""
    if not node.level:
        return node.module or ""
    base = package_parts[: len(package_parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _package_parts(module_path: Path) -> list[str]:
    # a module and an __init__ both resolve against their folder
    return list(module_path.relative_to(ROOT.parent).with_suffix("").parts[:-1])


def imported_names(tree: ast.AST, module_path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import, with relative imports resolved against the package."""
    package_parts = _package_parts(module_path)
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package_parts)
            names.append((node.lineno, module))
            # `from drs_desktop import storage` imports the storage layer.
            if module == PACKAGE or module.startswith(PACKAGE + "."):
                names.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return names


def violations_for(layer: str, names: list[tuple[int, str]]) -> list[str]:
    if layer in UNRESTRICTED:
        return []
    if layer not in RULES:
        kind = "package" if (ROOT / layer).is_dir() else "module"
        return [
            f"no layering rule names the {kind} {PACKAGE}.{layer}: add it to RULES (or, for a composition "
            f"root, UNRESTRICTED) in tests/test_layering.py and a row to the table in docs/ARCHITECTURE.md §1"
        ]
    allowed_layers, allowed_third_party, forbidden_stdlib = RULES[layer]
    found = []
    for line, name in names:
        top = name.split(".")[0]
        if top == PACKAGE:
            parts = name.split(".")
            if len(parts) == 1:
                continue  # the root package: __version__, APP_NAME
            target = parts[1]
            if target == layer or target == "__init__" or parts[1] in {"__version__", "APP_NAME", "APP_ID"}:
                continue
            dotted = ".".join(parts[1:])
            if target in allowed_layers or any(dotted.startswith(a) for a in allowed_layers if "." in a):
                continue
            if len(parts) == 2 and any(a.startswith(target + ".") for a in allowed_layers):
                continue  # `from drs_desktop.config import resource_path` lists the module first
            found.append(f"line {line}: {layer} must not import {name}")
        elif top in STDLIB:
            if top in forbidden_stdlib:
                found.append(f"line {line}: {layer} must not import {name}")
        elif top == "__future__":
            continue
        elif not any(name == a or name.startswith(a + ".") or top == a for a in allowed_third_party):
            found.append(f"line {line}: {layer} must not import third-party {name}")
    return found


def module_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_layering(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = violations_for(layer_of(path), imported_names(tree, path))
    assert not problems, f"{path.relative_to(ROOT.parent)}:\n" + "\n".join(problems)


def test_every_rule_names_a_real_module() -> None:
    """A rule for a module that is gone (renamed, merged) would hide that the table is out of date."""
    present = {layer_of(p) for p in module_files()}
    assert set(RULES) | UNRESTRICTED <= present, sorted((set(RULES) | UNRESTRICTED) - present)


@pytest.mark.parametrize("path", [ROOT / "sync" / "dynamodb.py", ROOT / "cli_tray.py", ROOT / "tray.py"])
def test_a_module_no_rule_names_fails(path: Path) -> None:
    """Fail closed: a new package or top-level module is a violation until it gets a rule."""
    problems = violations_for(layer_of(path), [])
    assert len(problems) == 1
    assert f"{PACKAGE}.{layer_of(path)}" in problems[0]
    assert "tests/test_layering.py" in problems[0] and "ARCHITECTURE.md" in problems[0]


def test_ui_specific_config_import_is_narrow() -> None:
    """ui may take resource_path from config, but not the rest of config."""
    tree = ast.parse("from drs_desktop.config import AppPaths\n")
    path = ROOT / "ui" / "x.py"
    assert violations_for("ui", imported_names(tree, path))


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("domain", "import sqlite3\n"),
        ("domain", "from drs_desktop.storage import db\n"),
        ("domain", "import yaml\n"),
        ("storage", "from PySide6.QtCore import QObject\n"),
        ("storage", "import boto3\n"),
        ("ui", "from drs_desktop.storage.plans import save_plan\n"),
        ("ui", "import keyring\n"),
        ("workers", "from PySide6.QtWidgets import QWidget\n"),
        ("workers", "from drs_desktop import storage\n"),
        ("services", "from PySide6 import QtCore\n"),
        ("services", "from drs_desktop.cli_exit import UsageError\n"),
        ("simulator", "from drs_desktop.domain.plan import model as plan\n"),
        ("aws", "import keyring\n"),
        ("cli_run", "from PySide6.QtWidgets import QApplication\n"),
        ("cli_run", "from drs_desktop.workers.tasks import TaskThread\n"),
        ("cli_show", "from drs_desktop.ui.executions.history_format import when\n"),
        ("cli_control", "from drs_desktop.app import run_gui\n"),
        ("cli", "import boto3\n"),
        ("__main__", "from drs_desktop.storage import db\n"),
        ("__init__", "from drs_desktop import config\n"),
    ],
)
def test_checker_catches_violations(layer: str, source: str) -> None:
    """The checker itself must flag each kind of leak, or the test above proves nothing."""
    path = ROOT / layer / "probe.py"
    assert violations_for(layer, imported_names(ast.parse(source), path))


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("ui", "from drs_desktop.config import resource_path\n"),
        ("ui", "from PySide6.QtWidgets import QWidget\n"),
        ("workers", "from PySide6.QtCore import QObject\n"),
        ("services", "from drs_desktop.storage.db import Database\n"),
        ("storage", "from ..domain.plan.model import RecoveryPlan\n"),
        ("cli_run", "from drs_desktop.services.runner import ExecutionRunner\n"),
        ("cli_control", "from drs_desktop.cli_exit import UsageError\n"),
        ("cli", "from drs_desktop.app import run_gui\n"),
        ("cli", "from drs_desktop.simulator.cli import main\n"),
        ("app", "from PySide6.QtWidgets import QApplication\n"),
    ],
)
def test_checker_allows_permitted_imports(layer: str, source: str) -> None:
    path = ROOT / layer / "probe.py"
    assert not violations_for(layer, imported_names(ast.parse(source), path))


def qt_modules_loaded_by(modules: list[str]) -> list[str]:
    """The PySide6 modules a fresh interpreter holds after importing ``modules`` from this tree.

    Run in a subprocess because this test process has long since imported Qt for other tests."""
    script = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {modules!r}:
            importlib.import_module(name)
        assert sys.modules[{PACKAGE!r}].__file__.startswith({str(ROOT)!r}), "imported another tree"
        print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))))
        """
    )
    path = [str(ROOT.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT.parent, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


def test_importing_the_cli_loads_no_qt() -> None:
    """Every layer below the GUI stays importable without Qt, so the CLI's imports must not pull it in."""
    assert qt_modules_loaded_by([f"{PACKAGE}.{m}" for m in sorted(CLI_MODULES)]) == []


def test_qt_probe_sees_qt() -> None:
    """The probe above must be able to see Qt, or its empty answer proves nothing."""
    assert "PySide6.QtCore" in qt_modules_loaded_by([f"{PACKAGE}.workers.tasks"])


# --- import cycles ---------------------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _RuntimeImports(ast.NodeVisitor):
    """Imports that run: at module level and inside functions, but not under ``if TYPE_CHECKING:``."""

    def __init__(self, package_parts: list[str]) -> None:
        self.package_parts = package_parts
        self.found: list[tuple[int, list[str]]] = []  # (line, candidate modules, most specific first)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((node.lineno, [alias.name]) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = _absolute(node, self.package_parts)
        # `from pkg import name` imports the module pkg.name when there is one, else pkg itself
        self.found.extend((node.lineno, [f"{module}.{alias.name}", module]) for alias in node.names)


def import_edges(module: str, tree: ast.AST, package_parts: list[str], known: set[str]) -> dict[str, int]:
    """drs_desktop modules that ``module`` imports at run time -> the first line that imports each."""
    visitor = _RuntimeImports(package_parts)
    visitor.visit(tree)
    edges: dict[str, int] = {}
    for line, candidates in visitor.found:
        for candidate in candidates:
            name = candidate
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]  # `import a.b.c` of a name in a.b: the module a.b
            if name in known:
                if name != module:
                    edges.setdefault(name, line)
                break
    return edges


def package_graph() -> dict[str, dict[str, int]]:
    files = {module_name(p): p for p in module_files()}
    known = set(files)
    return {
        name: import_edges(name, ast.parse(path.read_text(encoding="utf-8")), _package_parts(path), known)
        for name, path in files.items()
    }


def find_cycles(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    """One cycle per strongly connected group of modules, as ``a:line -> b:line -> a``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan; the package is a few hundred modules, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_shortest_cycle(graph, group) for group in sorted(groups, key=min)]


def _shortest_cycle(graph: Mapping[str, Mapping[str, int]], group: set[str]) -> str:
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                path.reverse()
                hops = [f"{a}:{graph[a][b]}" for a, b in zip(path, [*path[1:], start], strict=True)]
                return " -> ".join([*hops, start]) + f" (all in the cycle: {', '.join(sorted(group))})"
            if nxt in group and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group always has one


def test_no_import_cycles() -> None:
    """No module imports itself round a circle, counting imports inside functions: in a cycle one module
    runs half-initialised whenever the other is imported first, and the two cannot be understood apart."""
    cycles = find_cycles(package_graph())
    assert not cycles, "import cycles (module:line of the import):\n" + "\n".join(cycles)


def test_the_graph_sees_function_level_and_relative_imports() -> None:
    """The real graph must hold the edges the cycle test relies on, or an empty answer proves nothing."""
    graph = package_graph()
    assert "drs_desktop.app" in graph["drs_desktop.cli"]  # inside a function
    assert "drs_desktop.simulator.scenario" in graph["drs_desktop.simulator.scenario_schema"]
    assert "drs_desktop.services.plans" in graph["drs_desktop.cli"]  # from drs_desktop.services import plans


def _graph_of(sources: Mapping[str, str]) -> dict[str, dict[str, int]]:
    known = {f"{PACKAGE}.{name}" for name in sources}
    return {
        module: import_edges(module, ast.parse(sources[module.removeprefix(PACKAGE + ".")]), [PACKAGE], known)
        for module in known
    }


@pytest.mark.parametrize(
    "sources",
    [
        {"a": "from drs_desktop.b import x\n", "b": "from drs_desktop.a import y\n"},
        {"a": "from drs_desktop import b\n", "b": "def f():\n    from drs_desktop.a import y\n"},
        {"a": "from .b import x\n", "b": "import drs_desktop.c\n", "c": "from drs_desktop.a import z\n"},
        {"a": "try:\n    import drs_desktop.b\nfinally:\n    pass\n", "b": "import drs_desktop.a.q"},
    ],
    ids=["top-level", "function-level", "three-via-relative", "nested-and-dotted"],
)
def test_cycle_finder_catches_cycles(sources: dict[str, str]) -> None:
    cycles = find_cycles(_graph_of(sources))
    assert len(cycles) == 1
    assert all(f"{PACKAGE}.{name}" in cycles[0] for name in sources)


def test_cycle_finder_ignores_type_checking_imports() -> None:
    """A back reference only for type hints never runs, so it is no cycle (mypy resolves it)."""
    sources = {
        "a": "from drs_desktop.b import x\n",
        "b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from drs_desktop.a import y\n",
        "c": "import typing\nif typing.TYPE_CHECKING:\n    pass\nelse:\n    from drs_desktop.a import z\n",
    }
    assert find_cycles(_graph_of(sources)) == []
