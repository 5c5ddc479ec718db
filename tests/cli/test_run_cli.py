"""``drs-desktop run`` and friends end to end: the real CLI, the real boto3 client, the simulator.

Each run goes through ``drs_desktop.cli.main`` in this process (output captured) or through
``python -m drs_desktop`` as a real subprocess (with a timeout, so a hang fails instead of blocking the
suite). What was launched is checked against the simulator's own record, not the CLI's word for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.events import Pause
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import (
    TIME_SCALE,
    Cli,
    ids,
    launch_records,
    launches_per_server,
    planned_servers,
    run_subprocess,
    save_plans,
    shop_plan,
    target_args,
)

#: In-process runs have no subprocess timeout: a hang (say, a held run waiting forever) fails here.
pytestmark = pytest.mark.timeout(120)


def gateway_for(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


# -- a drill run once, in a real subprocess, and what the other commands make of it


@dataclass(frozen=True)
class FinishedDrill:
    sim: EmbeddedSimulator
    home: Path
    plan: RecoveryPlan
    execution_id: str
    payload: dict[str, object]
    stderr: str


@pytest.fixture(scope="module")
def finished_drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FinishedDrill]:
    """``python -m drs_desktop run Shop --mode drill --json`` to its end, once for this module."""
    home = tmp_path_factory.mktemp("drill") / "home"
    with EmbeddedSimulator("small", seed=7, time_scale=TIME_SCALE) as sim:
        plan = shop_plan(sim)
        save_plans(home, plan)
        result = run_subprocess(["run", "Shop", "--mode", "drill", "--json", *target_args(sim, home)])
        assert result.code == 0, result.err
        payload = result.json()
        yield FinishedDrill(sim, home, plan, str(payload["execution_id"]), payload, result.err)


def test_drill_in_a_subprocess_launches_every_server_once_as_a_drill(finished_drill: FinishedDrill) -> None:
    drill = finished_drill
    assert drill.payload == {
        "execution_id": drill.execution_id,
        "outcome": "SUCCEEDED",
        "status": "SUCCEEDED",
        "waiting_for": [],
        "restore_command": None,  # no launch template left pointed at a drill network
    }
    per_server = launches_per_server(drill.sim)
    assert set(per_server) == planned_servers(drill.plan)
    assert set(per_server.values()) == {1}, f"a server was launched more than once: {per_server}"
    records = launch_records(drill.sim)
    assert all(r.is_drill for r in records)
    assert all(r.outcome == "LAUNCHED" for r in records)
    # Waves in order: no App server was requested before the Database server had launched.
    by_server = {r.source_server_id: r for r in records}
    db_launched = by_server[drill.plan.waves[0].servers[0]].launched_at
    assert db_launched is not None
    assert all(by_server[s].requested_at >= db_launched for s in drill.plan.waves[1].servers)
    # Progress went to stderr, line by line.
    assert "execution finished: SUCCEEDED" in drill.stderr
    assert "wave 3 'Web': completed" in drill.stderr


def test_executions_list_and_show(finished_drill: FinishedDrill, cli: Cli) -> None:
    drill = finished_drill
    home = ["--home", str(drill.home)]
    listed = cli("executions", "list", "--json", *home)
    assert listed.code == 0
    (entry,) = listed.json()
    assert entry["execution_id"] == drill.execution_id
    assert (entry["plan"], entry["mode"], entry["status"], entry["outcome"]) == (
        "Shop",
        "DRILL",
        "SUCCEEDED",
        "SUCCEEDED",
    )
    assert entry["finished_at"] is not None
    assert cli("executions", "list", "--json", "--plan", "Other", *home).json() == []

    shown = cli("executions", "show", drill.execution_id, "--json", *home)
    assert shown.code == 0
    data = shown.json()
    assert [w["name"] for w in data["waves"]] == ["Database", "App", "Web"]
    assert {w["phase"] for w in data["waves"]} == {"COMPLETED"}
    servers = [s for wave in data["waves"] for s in wave["servers"]]
    instances = {r.source_server_id: r.recovery_instance_id for r in launch_records(drill.sim)}
    assert {s["server_id"]: s["recovery_instance_id"] for s in servers} == instances
    assert {s["status"] for s in servers} == {"LAUNCHED"}

    text = cli("executions", "show", drill.execution_id[:8], *home)  # a unique prefix is enough
    assert text.code == 0
    assert f"execution {drill.execution_id}" in text.out
    assert "drill instances still running: 5" in text.out
    missing = cli("executions", "show", "no-such-execution", *home)
    assert missing.code == 1
    assert "no execution" in missing.err


def test_reports_are_written_in_every_format(finished_drill: FinishedDrill, cli: Cli, tmp_path: Path) -> None:
    drill = finished_drill
    home = ["--home", str(drill.home)]
    for fmt in ("html", "json", "csv"):
        target = tmp_path / f"report.{fmt}"
        result = cli("report", drill.execution_id, "--format", fmt, "-o", str(target), *home)
        assert result.code == 0, result.err
        assert f"wrote {target}" in result.err
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["execution"]["id"] == drill.execution_id
    assert document["execution"]["outcome"] == "SUCCEEDED"
    assert {s["server_id"] for s in document["servers"]} == planned_servers(drill.plan)
    rows = csv_sections((tmp_path / "report.csv").read_text(encoding="utf-8"))["attempts"].rows
    assert len(rows) == 5
    assert {row["server_id"] for row in rows} == planned_servers(drill.plan)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert drill.execution_id in html
    assert "Shop" in html


def test_cleanup_terminates_only_this_drills_instances(finished_drill: FinishedDrill, cli: Cli) -> None:
    drill = finished_drill
    gateway = gateway_for(drill.sim)
    ours = {r.recovery_instance_id for r in launch_records(drill.sim)}
    assert None not in ours and len(ours) == 5
    # A drill outside this execution, whose instance must survive the cleanup.
    other = gateway.start_recovery(ids(drill.sim, "crm-web-01"), is_drill=True, tags={})
    drill.sim.clock.advance(3600)  # an hour later (virtual): the other drill has launched
    # DescribeJobs names most instances not at all (reference §12.5): DRS's own record of it.
    drill.sim.backend.settle()  # the world catches up with the clock
    world = drill.sim.backend.world
    foreign = {i.instance_id for i in world.instances.values() if i.job_id == other.job_id}
    assert foreign, "the other drill never launched"

    result = cli("cleanup", drill.execution_id, "--home", str(drill.home), "--poll-interval", "0.1")
    assert result.code == 0, result.err
    assert "terminated 5 of 5 drill instances" in result.out
    drill.sim.clock.advance(3600)  # DRS's terminate job has ended
    remaining = {i.recovery_instance_id for i in gateway.describe_recovery_instances()}
    assert not (remaining & ours)
    assert foreign <= remaining
    again = cli("cleanup", drill.execution_id, "--home", str(drill.home))
    assert again.code == 0
    assert "nothing to clean up" in again.err


# -- gates, holds, recoveries, dry runs


def test_gate_waits_with_exit_3_then_resume_with_auto_approve(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    plan = shop_plan(sim, gate=True)
    save_plans(app_home, plan)
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert first.code == 3, first.err
    payload = first.json()
    assert payload["outcome"] is None
    assert payload["status"] == "WAITING_APPROVAL"
    assert payload["waiting_for"] == [{"wave": "App", "message": "DB checked?"}]
    assert "waiting for approval: wave 'App': DB checked?" in first.err
    assert set(launches_per_server(sim)) == set(plan.waves[0].servers)  # only the first wave so far

    execution_id = payload["execution_id"]
    resumed = cli("run", "--resume", execution_id, "--auto-approve", "--json", *target_args(sim, app_home))
    assert resumed.code == 0, resumed.err
    assert resumed.json()["outcome"] == "SUCCEEDED"
    per_server = launches_per_server(sim)
    assert set(per_server) == planned_servers(plan)
    assert set(per_server.values()) == {1}
    with Database.open(AppPaths.resolve(app_home).database) as db:
        approvals = [e.payload for e in journal.load_journal(db, execution_id) if e.type == "ApprovalGranted"]
    assert len(approvals) == 1
    assert approvals[0]["by"].startswith("arn:aws:iam::123456789012:")
    assert approvals[0]["comment"] == "--auto-approve"


def test_critical_failure_holds_and_exits_3_instead_of_hanging(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    plan = shop_plan(sim)
    save_plans(app_home, plan)
    failing = sim.backend.server_id_of("shop-app-02")
    sim.faults.fail_launch(servers=["shop-app-02"])
    # A subprocess with a timeout: before the fix, a held run slept forever waiting for a control.
    result = run_subprocess(
        ["run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home)], timeout=30
    )
    assert result.code == 3, result.err
    payload = result.json()
    assert payload["status"] == "HELD"
    assert payload["outcome"] is None
    (held,) = payload["waiting_for"]
    assert held["wave"] == "App"
    assert failing in held["message"]
    assert "retry" in held["message"] and "skip" in held["message"] and "cancel" in held["message"]
    assert "is held for an operator" in result.err
    # Nothing of the wave after the held one was launched; the failed server was tried once.
    per_server = launches_per_server(sim)
    assert not set(plan.waves[2].servers) & set(per_server)
    assert per_server[failing] == 1
    # Resuming a held run comes back at once with the same answer, and launches nothing more.
    again = cli("run", "--resume", payload["execution_id"], "--json", *target_args(sim, app_home))
    assert again.code == 3
    assert again.json()["status"] == "HELD"
    assert launches_per_server(sim) == per_server


def test_paused_run_exits_3_instead_of_hanging(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    plan = shop_plan(sim, gate=True)
    save_plans(app_home, plan)
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert first.code == 3
    execution_id = first.json()["execution_id"]
    with Database.open(AppPaths.resolve(app_home).database) as db:  # an operator paused it in the app
        runner = ExecutionRunner.resume(db, gateway_for(sim), execution_id, clock=_real_now)
        runner.control(Pause(at=_real_now(), by="alice"))
    resumed = cli("run", "--resume", execution_id, "--auto-approve", "--json", *target_args(sim, app_home))
    assert resumed.code == 3, resumed.err
    assert resumed.json()["status"] == "PAUSED"
    assert f"is paused: drs-desktop control {execution_id} resume" in resumed.err
    assert set(launches_per_server(sim)) == set(plan.waves[0].servers)


def _real_now() -> datetime:
    """The CLI's runner runs on the real clock; so does an operator's control."""
    return datetime.now(UTC)


def test_recovery_needs_the_plans_name_to_go_ahead(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    plan = RecoveryPlan(name="Web", waves=(Wave(name="Web", servers=ids(sim, "shop-web-01", "shop-web-02")),))
    save_plans(app_home, plan)
    refused = cli("run", "Web", "--mode", "recovery", *target_args(sim, app_home))
    assert refused.code == 2
    assert "--confirm Web" in refused.err
    wrong = cli("run", "Web", "--mode", "recovery", "--confirm", "web", *target_args(sim, app_home))
    assert wrong.code == 2
    assert launch_records(sim) == []
    assert cli("executions", "list", "--json", "--home", str(app_home)).json() == []

    confirmed = cli(
        "run", "Web", "--mode", "recovery", "--confirm", "Web", "--json", *target_args(sim, app_home)
    )
    assert confirmed.code == 0, confirmed.err
    assert confirmed.json()["outcome"] == "SUCCEEDED"
    records = launch_records(sim)
    assert {r.source_server_id for r in records} == planned_servers(plan)
    assert len(records) == 2
    assert not any(r.is_drill for r in records)


def test_dry_run_prints_checks_and_calls_and_launches_nothing(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    plan = shop_plan(sim)
    save_plans(app_home, plan)
    text = cli("run", "Shop", "--mode", "drill", "--dry-run", *target_args(sim, app_home))
    assert text.code == 0, text.err
    assert "Preflight of plan 'Shop' (DRILL)" in text.out
    assert "Result: ready to run" in text.out
    assert "Planned calls (3 StartRecovery):" in text.out
    for server in planned_servers(plan):
        assert server in text.out

    as_json = cli("run", "Shop", "--mode", "drill", "--dry-run", "--json", *target_args(sim, app_home))
    assert as_json.code == 0
    report = as_json.json()
    assert report["ok"] is True
    starts = [c for c in report["planned_calls"] if c["kind"] == "StartRecovery"]
    assert [c["wave"] for c in starts] == ["Database", "App", "Web"]
    for call, wave in zip(starts, plan.waves, strict=True):
        request = call["request"]
        assert request["isDrill"] is True
        assert [s["sourceServerID"] for s in request["sourceServers"]] == list(wave.servers)
    assert launch_records(sim) == []
    assert cli("executions", "list", "--json", "--home", str(app_home)).json() == []


def test_dry_run_fails_when_a_critical_server_is_stalled(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    stalled = sim.backend.server_id_of("legacy-fax")
    plan = RecoveryPlan(name="Crm", waves=(Wave(name="Crm", servers=(*ids(sim, "crm-app-01"), stalled)),))
    save_plans(app_home, plan)
    dry = cli("run", "Crm", "--mode", "drill", "--dry-run", *target_args(sim, app_home))
    assert dry.code == 1
    assert "Result: NOT READY" in dry.out
    assert any(line.lstrip().startswith("FAIL") and "STALLED" in line for line in dry.out.splitlines())
    real = cli("run", "Crm", "--mode", "drill", *target_args(sim, app_home))
    assert real.code == 1
    assert "preflight failed: nothing launched" in real.err
    assert launch_records(sim) == []
    assert cli("executions", "list", "--json", "--home", str(app_home)).json() == []


def test_usage_errors_exit_2(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    save_plans(app_home, shop_plan(sim))
    assert cli("run", "Shop", *target_args(sim, app_home)).code == 2  # no --mode
    assert cli("run", "--mode", "drill", *target_args(sim, app_home)).code == 2  # no plan
    assert cli("run", "Shop", "--resume", "x", "--home", str(app_home)).code == 2
    assert cli("run", "Shop", "--mode", "drill", "--poll-interval", "0", "--home", str(app_home)).code == 2
    bad_time = cli("run", "Shop", "--mode", "drill", "--point-in-time", "yesterday", "--home", str(app_home))
    assert bad_time.code == 2
    assert launch_records(sim) == []
