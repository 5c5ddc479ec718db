"""Imports point down only (docs/ARCHITECTURE.md §1): walk the package with ``ast`` and check each import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = "drs_desktop"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
STDLIB = set(sys.stdlib_module_names)

# layer -> (drs_desktop layers it may import, third-party top-level packages it may import,
#           stdlib modules it must not import)
RULES: dict[str, tuple[set[str], set[str], set[str]]] = {
    "domain": (set(), set(), {"sqlite3"}),
    "storage": ({"domain"}, {"yaml"}, set()),
    "aws": ({"domain"}, {"boto3", "botocore"}, {"sqlite3"}),
    "secrets": ({"domain"}, {"keyring"}, {"sqlite3"}),
    "config": ({"domain"}, {"platformdirs"}, {"sqlite3"}),
    "services": ({"domain", "storage", "aws", "secrets", "config"}, set(), set()),
    "workers": ({"services", "domain"}, {"PySide6.QtCore"}, {"sqlite3"}),
    "ui": ({"workers", "domain", "config.resource_path"}, {"PySide6"}, {"sqlite3"}),
    "simulator": (set(), {"botocore", "yaml"}, set()),
}
# The composition roots may import everything.
UNRESTRICTED = {"app", "cli", "__main__", "__init__"}


def layer_of(module_path: Path) -> str:
    rel = module_path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def imported_names(tree: ast.AST, module_path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import, with relative imports resolved against the package."""
    rel = module_path.relative_to(ROOT.parent).with_suffix("")
    package_parts = list(rel.parts[:-1])  # a module and an __init__ both resolve against their folder
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append((node.lineno, module))
            # `from drs_desktop import storage` imports the storage layer.
            if module == PACKAGE or module.startswith(PACKAGE + "."):
                names.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return names


def violations_for(layer: str, names: list[tuple[int, str]]) -> list[str]:
    if layer in UNRESTRICTED or layer not in RULES:
        return []
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
        ("simulator", "from drs_desktop.domain import plan\n"),
        ("aws", "import keyring\n"),
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
        ("storage", "from ..domain.plan import RecoveryPlan\n"),
    ],
)
def test_checker_allows_permitted_imports(layer: str, source: str) -> None:
    path = ROOT / layer / "probe.py"
    assert not violations_for(layer, imported_names(ast.parse(source), path))
