"""Inside the domain and ui layers, sub-packages point one way too (docs/ARCHITECTURE.md §1).

``tests/test_layering.py`` keeps the layers apart; this keeps the design visible inside the two largest:
the domain's kernel, then the plan, then the engine, then what reads them (DRS views, preflight, the
operator's views); the GUI's shared widgets, then one sub-package per pane that imports no other pane
(the composition root, app.py, joins them). Fails closed like the layer rules: a new sub-package or a new
top-level module of domain/ui needs a rule here first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_layering import ROOT, imported_names

# sub-package -> the sub-packages it may import (every one may import its layer's top-level modules)
DOMAIN: dict[str, set[str]] = {
    # Desired launch settings (issue 16): below the plan, which stores them; it reads DRS's launch
    # configuration through a protocol, not the DRS views (which sit above the engine).
    "launch": set(),
    "plan": {"launch"},
    "engine": {"plan"},
    "drs": {"engine"},
    "preflight": {"plan", "engine", "drs"},
    # The views read the launch settings' preview (launch drift, issue 16) as they read the plan's.
    "views": {"plan", "engine", "drs", "launch"},
    # The settings registry: its target list (aws.targets) holds plan targets, checked by the plan's rules.
    "settings": {"plan"},
    # Native DRS recovery plans: how a plan maps to native steps and back (docs/native-plans.md).
    "native": {"plan", "engine"},
    # Unattended scheduled drills (issue 18): the schedule, its due times and its scheduler entries.
    "schedule": set(),
}
# The domain's kernel: small modules every sub-package may use; they import only each other.
DOMAIN_KERNEL = {
    "errors",
    "durations",
    "safe_text",
    "inventory",
    "inventory_targets",
    "plan_target",
    "connection",
    "targets",
    "sync_errors",
    "lease",
    "sync_lineage",
    "script_trust",  # this desktop's trust in local scripts (issue 17): never in a plan, so not under plan/
    "ec2",  # EC2's launch templates, networks and instances as the app reads them (aws.ec2)
    "automation_calls",  # what SSM Run Command and Lambda answered a step (aws.ssm, aws.lambda_fn)
    "alert_routes",  # where a plan's alerts go (issue 18): routes are this desktop's, never in a plan
    "local_zone",  # this machine's zone with its DST rules, for counting an operator's days (cadence)
    "alert_events",  # what may be said outside the app (issue 18): runs, readiness and schedules make them
}
UI: dict[str, set[str]] = {
    "plans": set(),
    "groups": set(),
    "servers": set(),
    "executions": set(),
    "settings": set(),
    "dashboard": set(),
    "sync": set(),
}
UI_SHARED = {
    "main_window",
    "flat_table_model",
    "model_sync",
    "status_icons",
    "change_hub",
    "target_badge",
    "startup_probe",
    "diff_text",
    "script_trust_dialog",  # the confirmation to trust a local script: opened from more than one pane
}
LAYERS = {"domain": (DOMAIN, DOMAIN_KERNEL), "ui": (UI, UI_SHARED)}


def _unit(layer: str, path: Path) -> str:
    rel = path.relative_to(ROOT / layer).parts
    return rel[0].removesuffix(".py")


def _target(layer: str, dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[:2] != ["drs_desktop", layer] or len(parts) < 3:
        return None
    return parts[2]


def problems_of(layer: str, path: Path, names: list[tuple[int, str]]) -> list[str]:
    packages, shared = LAYERS[layer]
    unit = _unit(layer, path)
    if unit == "__init__":
        return []
    if unit not in packages and unit not in shared:
        return [
            f"{layer}/{unit} has no rule: add it to tests/test_package_layout.py and docs/ARCHITECTURE.md"
        ]
    found = []
    for line, name in names:
        target = _target(layer, name)
        if target is None or target == unit or target == "__init__":
            continue
        if target in shared and (unit in packages or unit in shared):
            continue  # the shared modules, from anywhere in the layer (and from each other)
        if unit in packages and target in packages[unit]:
            continue
        found.append(f"line {line}: {layer}.{unit} must not import {name}")
    return found


def _files(layer: str) -> list[Path]:
    return sorted(p for p in (ROOT / layer).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize(
    "path", [p for layer in LAYERS for p in _files(layer)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_sub_packages_point_one_way(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = problems_of(layer, path, imported_names(tree, path))
    assert not problems, f"{path.relative_to(ROOT.parent)}:\n" + "\n".join(problems)


def test_every_sub_package_has_a_rule_and_exists() -> None:
    for layer, (packages, shared) in LAYERS.items():
        present = {p.name for p in (ROOT / layer).iterdir() if p.is_dir() and p.name != "__pycache__"}
        modules = {p.stem for p in (ROOT / layer).glob("*.py")} - {"__init__"}
        assert present == set(packages), (layer, sorted(present ^ set(packages)))
        assert modules == shared, (layer, sorted(modules ^ shared))


@pytest.mark.parametrize(
    ("layer", "where", "source"),
    [
        ("domain", "plan/model.py", "from drs_desktop.domain.engine.state import ExecutionState\n"),
        ("domain", "engine/decide.py", "from drs_desktop.domain.views.progress import ProgressSnapshot\n"),
        ("domain", "errors.py", "from drs_desktop.domain.plan.model import RecoveryPlan\n"),
        ("domain", "newpkg/x.py", ""),
        ("ui", "plans/plan_model.py", "from drs_desktop.ui.servers.servers_pane_widget import X\n"),
        ("ui", "main_window.py", "from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget\n"),
    ],
)
def test_checker_catches_a_wrong_way_import(layer: str, where: str, source: str) -> None:
    path = ROOT / layer / where
    assert problems_of(layer, path, imported_names(ast.parse(source), path))


def test_checker_allows_the_right_way() -> None:
    path = ROOT / "domain" / "views" / "progress.py"
    source = "from drs_desktop.domain.engine.state import State\nfrom drs_desktop.domain.errors import E\n"
    assert not problems_of("domain", path, imported_names(ast.parse(source), path))
