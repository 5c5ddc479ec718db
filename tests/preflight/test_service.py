"""``services.preflight`` against the simulator: the real boto3 client over loopback, a real database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode, spec_to_json
from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.preflight.checks import DRY_RUN_EXECUTION_ID, CallKind, CheckStatus, PreflightReport
from drs_desktop.services.executions import (
    ExecutionSetupError,
    RunRequest,
    create_execution,
    prepare_execution,
    spec_from_prepared,
)
from drs_desktop.services.preflight import format_report, preflight, report_to_json
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .conftest import gateway_for, ids, small_scenario, wide_scenario


def shop_plan(
    sim: EmbeddedSimulator, *, db_servers: tuple[str, ...] = ("shop-db-01",), rpo: int | None = 15
) -> RecoveryPlan:
    return RecoveryPlan(
        name="Shop",
        rto_minutes=90,
        rpo_minutes=rpo,
        waves=(
            Wave(name="Database", servers=ids(sim, *db_servers), after=(WaitStep(minutes=5),)),
            Wave(
                name="App",
                servers=ids(sim, "shop-app-01", "shop-app-02"),
                before=(ApprovalStep(message="DB checked?"),),
            ),
            Wave(
                name="Web", servers=ids(sim, "shop-web-01", "shop-web-02"), optional=ids(sim, "shop-web-02")
            ),
        ),
    )


def run_preflight(
    db: Database,
    gateway: DrsGateway,
    sim: EmbeddedSimulator,
    plan: RecoveryPlan,
    mode: Mode = Mode.DRILL,
    **request: object,
) -> PreflightReport:
    save_plan(db, plan)
    run = RunRequest(plan_name=plan.name, mode=mode, **request)  # type: ignore[arg-type]
    prepared = prepare_execution(db, gateway, run)
    return preflight(db, gateway, prepared, run, now=sim.clock.now())


def problems(report: PreflightReport) -> list[tuple[str, CheckStatus, str | None]]:
    return [(c.name, c.status, c.server_id) for c in report.checks if c.status is not CheckStatus.PASS]


def test_a_healthy_plan_passes_and_lists_the_exact_calls(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan = shop_plan(sim)
    report = run_preflight(db, gateway, sim, plan)
    assert report.ok, problems(report)
    assert problems(report) == []
    assert (report.plan_name, report.mode, report.checked_at) == ("Shop", Mode.DRILL, sim.clock.now())
    assert [(c.kind, c.wave) for c in report.planned_calls] == [
        (CallKind.WAVE, "Database"),
        (CallKind.START_RECOVERY, "Database"),
        (CallKind.WAIT, "Database"),
        (CallKind.WAVE, "App"),
        (CallKind.APPROVAL, "App"),
        (CallKind.START_RECOVERY, "App"),
        (CallKind.WAVE, "Web"),
        (CallKind.START_RECOVERY, "Web"),
        (CallKind.DESCRIBE_JOBS, None),
        (CallKind.TERMINATE, None),
    ]
    starts = report.start_calls
    assert [c.request() for c in starts] == [
        {
            "sourceServers": [{"sourceServerID": s} for s in wave.servers],
            "isDrill": True,
            "tags": {
                "drs-desktop:execution": DRY_RUN_EXECUTION_ID,
                "drs-desktop:wave": str(index + 1),
                "drs-desktop:chunk": f"{index + 1}.1",
                "drs-desktop:attempt": "1",
            },
        }
        for index, wave in enumerate(plan.waves)
    ]
    assert sim.backend.launch_records() == [], "preflight launched something"


def test_a_stalled_critical_server_fails(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> None:
    (stalled,) = ids(sim, "legacy-fax")
    report = run_preflight(db, gateway, sim, shop_plan(sim, db_servers=("shop-db-01", "legacy-fax")))
    assert not report.ok
    assert problems(report) == [("replication", CheckStatus.FAIL, stalled)]
    (failure,) = report.failures
    assert failure.wave == "Database" and "STALLED" in failure.message
    assert len(report.start_calls) == 3, "the calls are still listed for the operator to read"


def test_an_rpo_breach_fails(db: Database) -> None:
    slow = {"hostname": "slow-db", "os": "linux", "application": "shop", "tier": "db", "lag_seconds": 1800}
    with EmbeddedSimulator(small_scenario([slow]), seed=7) as sim:
        gateway = gateway_for(sim)
        report = run_preflight(db, gateway, sim, shop_plan(sim, db_servers=("shop-db-01", "slow-db"), rpo=15))
        (slow_id,) = ids(sim, "slow-db")
        assert problems(report) == [("lag", CheckStatus.FAIL, slow_id)]
        assert "replication lag 30 min is over the plan's RPO of 15 min" in report.failures[0].message


def test_a_server_busy_in_another_job_warns(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    (busy,) = ids(sim, "shop-app-02")
    job = gateway.start_recovery([busy], is_drill=True, tags={"owner": "someone-else"})
    report = run_preflight(db, gateway, sim, shop_plan(sim))
    assert problems(report) == [("busy-servers", CheckStatus.WARN, busy)]
    assert not report.failures and job.job_id in report.warnings[0].message
    assert len(sim.backend.launch_records()) == 1, "only the other tool's job launched"


def test_a_server_whose_job_ended_is_free_again(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    (server,) = ids(sim, "shop-app-02")
    gateway.start_recovery([server], is_drill=True, tags={})
    sim.clock.advance(2 * 3600)  # the job completes
    report = run_preflight(db, gateway, sim, shop_plan(sim))
    assert report.ok, problems(report)


def test_a_250_server_wave_is_three_start_recovery_calls(db: Database) -> None:
    with EmbeddedSimulator(wide_scenario(260), seed=3) as sim:
        gateway = gateway_for(sim)
        plan = RecoveryPlan(
            name="Wide",
            protection_groups=(
                ProtectionGroup(
                    name="first", server_ids=tuple(sorted(sim.backend.source_server_ids())[:250])
                ),
            ),
            waves=(Wave(name="Everything", groups=("first",)),),
        )
        report = run_preflight(db, gateway, sim, plan)
        assert report.ok, problems(report)
        starts = report.start_calls
        assert [(c.chunk_id, len(c.server_ids)) for c in starts] == [("1.1", 100), ("1.2", 100), ("1.3", 50)]
        assert [s for c in starts for s in c.server_ids] == list(plan.protection_groups[0].server_ids)
        (size,) = [c for c in report.checks if c.name == "wave-size"]
        assert "split into 3 jobs (100 + 100 + 50" in size.message
        lines = format_report(report)
        assert sum("StartRecovery job 1." in line for line in lines) == 3
        assert any("StartRecovery job 1.3 (3 of 3), isDrill=true, 50 server(s)" in line for line in lines)


def test_a_point_in_time_without_snapshots_fails_and_lists_no_calls(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    long_ago = sim.clock.now() - timedelta(days=30)
    report = run_preflight(db, gateway, sim, shop_plan(sim), point_in_time=long_ago)
    assert {(c.name, c.status) for c in report.failures} == {
        ("snapshots", CheckStatus.FAIL),
        ("run", CheckStatus.FAIL),
    }
    assert len([c for c in report.failures if c.name == "snapshots"]) == 5
    assert report.planned_calls == ()


def test_a_point_in_time_with_snapshots_sends_their_ids(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    report = run_preflight(
        db, gateway, sim, shop_plan(sim, rpo=120), point_in_time=sim.clock.now() - timedelta(hours=3)
    )
    assert report.ok, problems(report)
    for call in report.start_calls:
        request = call.request()
        assert request is not None
        assert all(entry["recoverySnapshotID"].startswith("pit-") for entry in request["sourceServers"])


def test_a_recovery_lists_no_cleanup_and_says_it_is_real(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    report = run_preflight(db, gateway, sim, shop_plan(sim), Mode.RECOVERY)
    assert {c.is_drill for c in report.start_calls} == {False}
    assert CallKind.TERMINATE not in {c.kind for c in report.planned_calls}
    lines = format_report(report)
    assert lines[0] == f"Preflight of plan 'Shop' (RECOVERY) at {sim.clock.now().isoformat()}"
    # The small estate has a post-launch action on every server: a recovery waits for it.
    assert any("isDrill=false" in line and "post-launch actions" in line for line in lines)


def test_spec_from_prepared_is_the_spec_create_execution_journals(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    save_plan(db, shop_plan(sim))
    request = RunRequest(
        plan_name="Shop", mode=Mode.RECOVERY, poll_interval_seconds=30, wave_timeout_minutes=45
    )
    prepared = prepare_execution(db, gateway, request)
    runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
    record = journal.get_execution(db, runner.execution_id)
    ours = spec_from_prepared(
        prepared, request, execution_id=record.execution_id, started_at=record.started_at
    )
    assert spec_to_json(ours) == dict(record.spec)


def test_an_unfinished_execution_of_the_same_servers_is_a_warning(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    save_plan(db, shop_plan(sim))
    request = RunRequest(plan_name="Shop", mode=Mode.DRILL, target={"region": sim.region})
    runner = create_execution(
        db, gateway, prepare_execution(db, gateway, request), request, clock=sim.clock.now
    )
    report = run_preflight(db, gateway, sim, shop_plan(sim))
    assert problems(report) == [("other-executions", CheckStatus.WARN, None)]
    assert runner.execution_id in report.warnings[0].message
    assert report.ok


def test_the_report_renders_as_lines_and_as_json(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    report = run_preflight(db, gateway, sim, shop_plan(sim, db_servers=("shop-db-01", "legacy-fax")))
    lines = format_report(report)
    assert any(line.startswith("  FAIL  replication    [Database] legacy-fax (") for line in lines)
    assert "Result: NOT READY: 1 failure(s), 0 warning(s)" in lines
    assert "Planned calls (3 StartRecovery):" in lines
    assert any(DRY_RUN_EXECUTION_ID in line and "assigned when the run starts" in line for line in lines)
    data = report_to_json(report)
    assert json.loads(json.dumps(data)) == data
    assert (data["ok"], data["failures"], data["warnings"]) == (False, 1, 0)
    assert [c["status"] for c in data["checks"]].count("FAIL") == 1
    starts = [c for c in data["planned_calls"] if c["kind"] == "StartRecovery"]
    assert [c["request"] for c in starts] == [c.request() for c in report.start_calls]
    assert data["planned_calls"][0] == {
        "kind": "WAVE",
        "api_call": False,
        "description": report.planned_calls[0].description,
        "wave": "Database",
        "wave_index": 0,
        "depends_on": [],
    }


def test_a_desktop_clock_off_drs_is_a_warning_never_a_failure(db: Database, sim: EmbeddedSimulator) -> None:
    ahead = DrsGateway(
        AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url),
        drs_clock=DrsClock(wall=lambda: sim.clock.now() + timedelta(minutes=10, seconds=3)),
    )
    report = run_preflight(db, ahead, sim, shop_plan(sim))
    assert report.ok
    (clock,) = [c for c in report.checks if c.name == "clock"]
    assert clock.status is CheckStatus.WARN
    assert clock.message.startswith("the desktop clock is 10 min 3 s ahead of DRS")
    behind = DrsGateway(
        AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url),
        drs_clock=DrsClock(wall=lambda: sim.clock.now() - timedelta(seconds=40)),
    )
    (clock,) = [c for c in run_preflight(db, behind, sim, shop_plan(sim)).checks if c.name == "clock"]
    assert clock.status is CheckStatus.PASS and "40 s behind DRS" in clock.message


def test_create_execution_refuses_a_point_in_time_naming_each_server_and_why(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    plan = shop_plan(sim)
    save_plan(db, plan)
    run = RunRequest(plan_name=plan.name, mode=Mode.DRILL, point_in_time=sim.clock.now() - timedelta(days=30))
    prepared = prepare_execution(db, gateway, run)
    with pytest.raises(ExecutionSetupError) as refused:
        create_execution(db, gateway, prepared, run)
    for server in prepared.server_ids:
        assert f"{server} has no finished recovery snapshot" in str(refused.value)
    assert journal.list_executions(db) == []
