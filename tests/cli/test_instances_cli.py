"""Over HTTP, with the real boto3 client: a recovery instance DRS never lists is said not found by
``run``'s execution, ``executions show``, the report and ``cleanup`` (never "0 running"); a termination
DRS fails is retried and shown with DRS's reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drs_desktop.domain.engine.instances import INSTANCE_LOOKS_MAX
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.jobs import TERMINATE_FAILED_REASON

from ..instance_lag import InstanceLag
from .conftest import Cli, ids, save_plans, target_args

pytestmark = pytest.mark.timeout(120)


def test_an_instance_drs_never_lists_is_said_not_found_everywhere(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli, tmp_path: Path
) -> None:
    sim = manual_sim
    web, db = ids(sim, "shop-web-01", "shop-db-01")
    save_plans(app_home, RecoveryPlan(name="Two", waves=(Wave(name="Both", servers=(web, db)),)))
    sim.faults.omit_instance_ids(servers=[web])
    lag = InstanceLag(sim.backend, (web,), hidden_looks=None)

    run = cli("run", "Two", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert run.code == 0, run.err
    execution_id = run.json()["execution_id"]
    assert lag.looks == INSTANCE_LOOKS_MAX
    said = f"instance of {web} not found in DRS after {INSTANCE_LOOKS_MAX} looks"

    home = ("--home", str(app_home))
    shown = cli("executions", "show", execution_id, *home)
    assert f"  {said}" in shown.out
    assert "drill instances still running: 1" in shown.out
    as_json = cli("executions", "show", execution_id, "--json", *home)
    assert as_json.json()["instance_problems"] == [said]

    report = tmp_path / "report.json"
    assert cli("report", execution_id, "--format", "json", "-o", str(report), *home).code == 0
    cleanup = json.loads(report.read_text(encoding="utf-8"))["cleanup"]
    assert cleanup["instance_problems"] == [said] and cleanup["complete"] is False
    html = tmp_path / "report.html"
    assert cli("report", execution_id, "--format", "html", "-o", str(html), *home).code == 0
    assert "no drill instance left running" not in html.read_text(encoding="utf-8")

    cleaned = cli("cleanup", execution_id, *home)
    assert cleaned.code != 0, cleaned.out  # not complete: one instance was never found
    assert "terminated 1 of 1 drill instances" in cleaned.out
    assert f"  {said}" in cleaned.out
    again = cli("executions", "show", execution_id, *home)
    assert "drill instances still running" not in again.out and f"  {said}" in again.out


def test_a_termination_drs_fails_is_retried_and_shown_with_its_reason(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    (web,) = ids(sim, "shop-web-01")
    save_plans(app_home, RecoveryPlan(name="Web", waves=(Wave(name="Web", servers=(web,)),)))
    run = cli("run", "Web", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert run.code == 0, run.err
    execution_id = run.json()["execution_id"]
    sim.faults.fail_terminate(servers=[web])

    home = ("--home", str(app_home))
    cleaned = cli("cleanup", execution_id, *home)
    assert cleaned.code != 0
    assert "terminated 0 of 1 drill instances" in cleaned.out
    reason = f"CLEANUP_FAIL: {TERMINATE_FAILED_REASON}"
    assert f"{reason} after 5 attempt(s)" in cleaned.out
    shown = cli("executions", "show", execution_id, *home)
    assert "drill instances still running: 1" in shown.out
    assert f"failed: {reason} (attempt 5)" in shown.out
