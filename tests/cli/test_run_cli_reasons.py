"""Why a server failed, in what ``run`` and ``executions show`` print, not only in the report.

The simulator's world faults fail a launch the ways DRS does (LAUNCH_FAILED, CONVERSION_FAIL, the log
that stops after SNAPSHOT_END without EC2 permissions); a throttled StartRecovery leaves a server never
launched, whose line must name the last error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.engine.failure_reasons import PERMISSIONS_PATTERN
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator

from .conftest import Cli, ids, save_plans, shop_plan, target_args
from .test_run_cli_settings import store_settings

pytestmark = pytest.mark.timeout(120)

#: The reason DRS gives for each world fault (drs_desktop/simulator/jobs.py), as the CLI must show it.
REASONS = {
    "launch": "LAUNCH_FAILED: InsufficientInstanceCapacity: not enough capacity",
    "conversion": "CONVERSION_FAIL: Conversion failed: unable to mount the root volume",
    "permissions": PERMISSIONS_PATTERN,
}


@pytest.mark.parametrize("fault", sorted(REASONS))
def test_a_failed_launch_names_drs_reason_in_run_and_show(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, fault: str
) -> None:
    save_plans(app_home, shop_plan(sim))
    failing = sim.backend.server_id_of("shop-db-01")
    sim.faults.set_world(fault, servers=["shop-db-01"])
    reason = REASONS[fault]

    run = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert run.code == 3, run.err  # held: the critical database server failed
    execution_id = run.json()["execution_id"]
    # While it runs: the failure, then DRS's reason once the job log tells it.
    assert f"  {failing} failed: {reason}" in run.err
    # And in the closing summary.
    summary = run.err[run.err.index("server(s) failed or not launched:") :]
    assert f"wave 'Database': {failing} FAILED (critical): {reason}" in summary

    shown = cli("executions", "show", execution_id, "--home", str(app_home))
    assert shown.code == 0
    assert f"    {failing} FAILED (critical): {reason}" in shown.out

    as_json = cli("executions", "show", execution_id, "--json", "--home", str(app_home))
    (server,) = as_json.json()["waves"][0]["servers"]
    assert server["server_id"] == failing
    assert server["reason"].startswith(reason)
    assert server["last_error"] is None
    others = [s for wave in as_json.json()["waves"][1:] for s in wave["servers"]]
    assert {s["reason"] for s in others} == {None}  # never started: no reason invented


def test_a_server_never_launched_names_the_last_error(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """DRS throttles StartRecovery with a Retry-After beyond the wave's stored one-minute timeout: the
    server times out before it was ever started, and its line says what DRS last answered."""
    sim = manual_sim
    plan = RecoveryPlan(name="Db", waves=(Wave(name="Db", servers=ids(sim, "shop-db-01")),))
    save_plans(app_home, plan)
    store_settings(app_home, wave_timeout_minutes=1)
    (server,) = plan.waves[0].servers
    sim.faults.throttle("StartRecovery", rate=1, retry_after=600)

    run = cli("run", "Db", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert run.code == 3, run.err
    line = f"{server} not launched (failed, critical): timed out before DRS could start it; "
    line += "last error: ThrottlingException"
    assert f"wave 'Db': {line}" in run.err

    execution_id = run.json()["execution_id"]
    shown = cli("executions", "show", execution_id, "--home", str(app_home))
    assert f"    {line}" in shown.out
    as_json = cli("executions", "show", execution_id, "--json", "--home", str(app_home))
    (entry,) = as_json.json()["waves"][0]["servers"]
    assert entry["reason"] == "timed out before DRS could start it"
    assert entry["last_error"] == "ThrottlingException"
    assert entry["job_id"] is None


def test_a_successful_run_prints_no_failure_summary(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    plan = RecoveryPlan(name="Web", waves=(Wave(name="Web", servers=ids(sim, "shop-web-01")),))
    save_plans(app_home, plan)
    run = cli("run", "Web", "--mode", "drill", *target_args(sim, app_home))
    assert run.code == 0, run.err
    assert "failed or not launched" not in run.err
