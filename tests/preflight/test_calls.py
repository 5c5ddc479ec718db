"""The planned calls: in wave order, with the engine's own chunks, IDs and tags (pure)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from drs_desktop.domain.engine.commands import StartJob, job_tags
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.polling import PollSettings
from drs_desktop.domain.engine.reducer import initial_state
from drs_desktop.domain.engine.state import ExecutionSpec, Mode, spec_from_plan
from drs_desktop.domain.plan.automation import HealthCheckStep, Probe, RunIn, SsmStep, StepPolicy
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.preflight.checks import CallKind, planned_calls

from .conftest import NOW, sid


def shop_plan() -> RecoveryPlan:
    return RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="DB", servers=(sid(1),), after=(WaitStep(minutes=5),)),
            Wave(name="App", servers=(sid(2), sid(3)), before=(ApprovalStep(message="DB checked?"),)),
            Wave(name="Web", servers=(sid(4),), depends_on=("DB",)),
        ),
    )


def spec_of(plan: RecoveryPlan, mode: Mode = Mode.DRILL, **settings: Any) -> ExecutionSpec:
    wave_servers = {w.name: w.servers for w in plan.waves}
    return spec_from_plan(plan, wave_servers, execution_id="exec-1", mode=mode, started_at=NOW, **settings)


def test_calls_follow_the_waves_with_their_steps() -> None:
    calls = planned_calls(spec_of(shop_plan()))
    assert [(c.kind, c.wave) for c in calls] == [
        (CallKind.WAVE, "DB"),
        (CallKind.START_RECOVERY, "DB"),
        (CallKind.WAIT, "DB"),
        (CallKind.WAVE, "App"),
        (CallKind.APPROVAL, "App"),
        (CallKind.START_RECOVERY, "App"),
        (CallKind.WAVE, "Web"),
        (CallKind.START_RECOVERY, "Web"),
        (CallKind.DESCRIBE_JOBS, None),
        (CallKind.TERMINATE, None),
    ]
    wave_entries = [c for c in calls if c.kind is CallKind.WAVE]
    assert wave_entries[0].description.endswith("starts at once")
    assert wave_entries[1].description.endswith("starts when 'DB' completed")
    assert wave_entries[2].depends_on == ("DB",)
    approval = next(c for c in calls if c.kind is CallKind.APPROVAL)
    assert approval.message == "DB checked?" and approval.description.startswith("before launching")
    wait = next(c for c in calls if c.kind is CallKind.WAIT)
    assert wait.minutes == 5 and wait.description.startswith("after the launch")
    assert [c.is_api_call for c in calls].count(True) == 5


def test_a_start_carries_the_engines_tags_and_the_exact_request() -> None:
    calls = planned_calls(spec_of(shop_plan()))
    app = next(c for c in calls if c.kind is CallKind.START_RECOVERY and c.wave == "App")
    assert app.chunk_id == "2.1"
    assert app.tags == job_tags("exec-1", 1, "2.1", 1)
    assert app.request() == {
        "sourceServers": [{"sourceServerID": sid(2)}, {"sourceServerID": sid(3)}],
        "isDrill": True,
        "tags": {
            "drs-desktop:execution": "exec-1",
            "drs-desktop:wave": "2",
            "drs-desktop:chunk": "2.1",
            "drs-desktop:attempt": "1",
        },
    }
    assert next(c for c in calls if c.kind is CallKind.WAVE).request() is None


def test_a_recovery_sends_is_drill_false_and_plans_no_cleanup() -> None:
    spec = spec_of(shop_plan(), Mode.RECOVERY, post_launch=(sid(2),))
    calls = planned_calls(spec)
    starts = [c for c in calls if c.kind is CallKind.START_RECOVERY]
    assert {c.is_drill for c in starts} == {False}
    assert all(c.request()["isDrill"] is False for c in starts)  # type: ignore[index]
    assert CallKind.TERMINATE not in {c.kind for c in calls}
    assert "post-launch actions of 1 server(s)" in starts[1].description


def test_a_point_in_time_adds_each_servers_snapshot_to_the_request() -> None:
    snapshots = {
        sid(1): "pit-00000000000000001",
        sid(2): "pit-00000000000000002",
        sid(3): "pit-0000000000000003",
    }
    snapshots[sid(4)] = "pit-00000000000000004"
    spec = spec_of(shop_plan(), point_in_time=NOW - timedelta(hours=1), snapshot_ids=snapshots)
    app = [c for c in planned_calls(spec) if c.kind is CallKind.START_RECOVERY][1]
    assert app.request()["sourceServers"] == [  # type: ignore[index]
        {"sourceServerID": sid(2), "recoverySnapshotID": "pit-00000000000000002"},
        {"sourceServerID": sid(3), "recoverySnapshotID": "pit-0000000000000003"},
    ]
    assert "2 from the snapshot chosen" in app.description


def test_a_spec_the_engine_refuses_gives_no_calls() -> None:
    spec = spec_of(shop_plan(), point_in_time=NOW, snapshot_ids={sid(1): "pit-00000000000000001"})
    with pytest.raises(ValueError, match="no recovery snapshot chosen"):
        planned_calls(spec)


def test_a_250_server_wave_gives_exactly_the_starts_the_engine_emits() -> None:
    plan = RecoveryPlan(name="Big", waves=(Wave(name="All", servers=tuple(sid(n) for n in range(250))),))
    spec = spec_of(plan)
    starts = [c for c in planned_calls(spec) if c.kind is CallKind.START_RECOVERY]
    assert [(c.chunk_id, len(c.server_ids)) for c in starts] == [("1.1", 100), ("1.2", 100), ("1.3", 50)]
    assert "(1 of 3)" in starts[0].description
    # The engine itself, from the same spec: its first decision starts the same three jobs.
    engine_starts = [c for c in decide(initial_state(spec), NOW) if isinstance(c, StartJob)]
    assert [
        (c.chunk_id, c.server_ids, dict(c.tags), dict(c.snapshot_ids), c.is_drill) for c in engine_starts
    ] == [(c.chunk_id, c.server_ids, dict(c.tags), dict(c.snapshot_ids), c.is_drill) for c in starts]


def test_the_polling_note_follows_the_poll_settings() -> None:
    adaptive = planned_calls(spec_of(shop_plan()))[-2]
    assert adaptive.kind is CallKind.DESCRIBE_JOBS and "every 6.7 to 80 s" in adaptive.description
    fixed_spec = spec_of(shop_plan(), polling=PollSettings(fixed_interval=timedelta(seconds=1200)))
    fixed = planned_calls(fixed_spec)[-2]
    assert "every 1200 s" in fixed.description


def test_an_automation_step_is_described_where_it_runs_and_skipped_in_the_other_mode() -> None:
    check = HealthCheckStep(name="db answers", probe=Probe.TCP, port=5432)
    recovery_only = SsmStep(name="dns", document="Flip-Dns", policy=StepPolicy(run_in=RunIn.RECOVERY))
    plan = RecoveryPlan(
        name="Shop", waves=(Wave(name="DB", servers=(sid(1),), after=(check, recovery_only)),)
    )
    for mode, skipped in ((Mode.DRILL, " (skipped: recovery only)"), (Mode.RECOVERY, "")):
        calls = [c for c in planned_calls(spec_of(plan, mode)) if c.kind is CallKind.AUTOMATION]
        assert [c.description for c in calls] == [
            "after the launch: health-check 'db answers': tcp port 5432 on the wave's instances "
            "(all must pass, private address); timeout 5m, on failure hold",
            "after the launch: ssm 'dns': SSM document Flip-Dns on the wave's instances; timeout 5m, "
            f"on failure hold, recovery only{skipped}",
        ]
        assert not any(c.is_api_call for c in calls) and {c.wave for c in calls} == {"DB"}
