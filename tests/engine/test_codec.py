"""The journal format: every event, command and spec survives JSON unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.engine.automation_events import (
    AutomationAnswered,
    AutomationLost,
    AutomationRequested,
    AutomationSent,
    HealthProbed,
    HealthRoundSent,
    SsmLooked,
    SsmPolled,
    SsmWaiting,
)
from drs_desktop.domain.engine.automation_state import TargetResult
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import (
    AwaitApproval,
    FetchJobLog,
    FindRecoveryInstances,
    Finish,
    PollJobs,
    Reconcile,
    Record,
    SizeExternalLoad,
    StartJob,
    SurveyInstances,
    TerminateInstances,
    VerifyJobs,
    WakeAt,
)
from drs_desktop.domain.engine.drill_net_events import (
    TemplateDefaultChanged,
    TemplatePointFailed,
    TemplatePointUnknown,
    TemplateRestoreFailed,
    TemplatesPointed,
    TemplatesPointRequested,
    TemplatesRestored,
    TemplatesRestoreRequested,
)
from drs_desktop.domain.engine.drill_net_state import DrillNetSpec
from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import (
    EVENT_TYPES,
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    CleanupRequested,
    CredentialsNeeded,
    CredentialsRenewed,
    ExecutionFinished,
    ExternalLoad,
    InstancesTerminated,
    InstanceView,
    JobLogItem,
    JobLogObserved,
    JobServerView,
    JobsLeftRunning,
    JobsObserved,
    JobStarted,
    JobStatus,
    JobsVerified,
    JobView,
    LaunchStatus,
    Outcome,
    Pause,
    PollFailed,
    PostLaunchCompleted,
    PostLaunchFailed,
    Reconciled,
    RecoveryInstancesObserved,
    Resume,
    RetryFailed,
    RunnerRestarted,
    SkipWave,
    StartFailed,
    StartRequested,
    StepDecided,
    StepPhase,
    TakenOver,
    TerminateFailed,
    TerminateRequested,
    Throttled,
    Tick,
    event_from_json,
    event_to_json,
)
from drs_desktop.domain.engine.instance_events import (
    FoundTerminateJob,
    InstancesNotFound,
    TerminationsReconciled,
)
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeLooked,
    NativeObserved,
    NativeServerSeen,
    NativeStarted,
    NativeStartFailed,
    NativeStartRequested,
    NativeStepSeen,
)
from drs_desktop.domain.engine.native_state import NativeRunSpec, NativeStepMap
from drs_desktop.domain.engine.polling import PollSettings
from drs_desktop.domain.engine.reconcile_events import (
    InstancesSurveyed,
    LastLaunch,
    StartsReconciled,
    SurveyedInstance,
    TaggedJob,
)
from drs_desktop.domain.engine.state import Mode, spec_from_json, spec_to_json
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import ApprovalStep, WaitStep

from .helpers import T0, sid, spec, wave

AT = T0 + timedelta(seconds=1.5)
VIEW = JobView(
    job_id="drsjob-00000000000000001",
    status=JobStatus.STARTED,
    servers=(
        JobServerView(
            server_id=sid(1),
            launch_status=LaunchStatus.LAUNCHED,
            recovery_instance_id="i-0123456789abcdef0",
            ec2_instance_id="i-0123456789abcdef0",
        ),
        JobServerView(server_id=sid(2), launch_status=LaunchStatus.IN_PROGRESS),
    ),
)
EVENTS = [
    StartRequested(chunk_id="1.1", at=AT),
    JobStarted(chunk_id="1.1", job_id="drsjob-00000000000000001", at=AT),
    StartFailed(chunk_id="1.1", reason="ThrottlingException", definite=True, at=AT, retry_after=7.0),
    Reconciled(chunk_id="1.1", job_id=None, at=AT),
    StartsReconciled(
        chunk_ids=("1.1",),
        tagged_jobs=(TaggedJob(job_id="drsjob-00000000000000003", chunk_id="1.1", server_ids=(sid(1),)),),
        last_launches=(
            LastLaunch(server_id=sid(1), job_id="drsjob-00000000000000004", initiated_at=AT),
            LastLaunch(
                server_id=sid(2),
                job_id="drsjob-00000000000000003",
                initiated_at=None,
                execution_id="exec-1",
                chunk_id="1.1",
            ),
        ),
        at=AT,
        drs_time=AT - timedelta(seconds=1),
    ),
    InstancesSurveyed(
        tagged_jobs=(TaggedJob(job_id="drsjob-00000000000000003", chunk_id="1.1", created_at=AT),),
        instances=(
            SurveyedInstance(
                recovery_instance_id="i-0123456789abcdef0",
                server_id=sid(1),
                job_id=None,
                is_drill=True,
                ec2_state="RUNNING",
            ),
        ),
        at=AT,
    ),
    JobsObserved(jobs=(VIEW,), at=AT, missing_job_ids=("drsjob-00000000000000009",)),
    JobsVerified(wave_index=0, jobs=(VIEW,), at=AT),
    JobLogObserved(
        job_id="drsjob-00000000000000001",
        at=AT,
        items=(
            JobLogItem(at=AT, event="JOB_START"),
            JobLogItem(at=AT, event="CONVERSION_FAIL", server_id=sid(1), detail="no permissions"),
        ),
    ),
    JobLogObserved(job_id="drsjob-00000000000000001", at=AT, items=(), seen=7),
    RecoveryInstancesObserved(
        server_ids=(sid(1),),
        at=AT,
        instances=(
            InstanceView(
                recovery_instance_id="i-0123456789abcdef0",
                server_id=sid(1),
                job_id="drsjob-00000000000000001",
            ),
        ),
    ),
    PostLaunchCompleted(server_id=sid(1), at=AT),
    PostLaunchFailed(server_id=sid(1), reason="ssm", at=AT),
    Throttled(at=AT, retry_after=3.0, operation="DescribeJobs"),
    PollFailed(at=AT, transient=True, reason="503"),
    ExternalLoad(active_jobs=2, busy_server_ids=(sid(9),), at=AT),
    TerminateRequested(instance_ids=("i-0123456789abcdef0",), at=AT),
    InstancesTerminated(instance_ids=("i-0123456789abcdef0",), job_id="drsjob-00000000000000002", at=AT),
    TerminateFailed(instance_ids=("i-0123456789abcdef0",), reason="ConflictException", definite=True, at=AT),
    InstancesTerminated(
        instance_ids=("i-0123456789abcdef0",), job_id="drsjob-00000000000000003", at=AT, awaits_job=True
    ),
    TerminationsReconciled(
        instance_ids=("i-0123456789abcdef0",),
        jobs=(FoundTerminateJob(job_id="drsjob-00000000000000003", instance_ids=("i-0123456789abcdef0",)),),
        at=AT,
    ),
    InstancesNotFound(server_ids=(sid(1),), at=AT),
    Pause(at=AT, by="alice"),
    Resume(at=AT, by="alice"),
    Cancel(at=AT, by="bob", terminate_drill_instances=True),
    RetryFailed(wave_index=1, at=AT, by="bob", server_ids=(sid(1),)),
    SkipWave(wave_index=1, at=AT, by="bob", reason="app team says so"),
    ApprovalGranted(wave_index=0, phase=StepPhase.BEFORE, step_index=0, by="carol", at=AT, comment="ok"),
    ApprovalRejected(wave_index=0, phase=StepPhase.AFTER, step_index=1, by="carol", at=AT),
    CleanupRequested(at=AT, by="dave"),
    RunnerRestarted(at=AT),
    TakenOver(at=AT, by="desk-b", previous="desk-a", operator="ana", journal_complete=False),
    TakenOver(at=AT, by="desk-b"),
    CredentialsRenewed(target="staging-01", at=AT, by="ops"),
    CredentialsNeeded(target="staging-01", reason="MFA code needed", at=AT, expires_at=AT),
    Tick(at=AT),
    ExecutionFinished(outcome=Outcome.SUCCEEDED, at=AT),
    JobsLeftRunning(job_ids=("drsjob-1",), at=AT),
    ExecutionAbandoned(reason="the demo world ended with the application", at=AT, by="alice"),
    NativeStartRequested(at=AT),
    NativeStarted(execution_arn="arn:aws:drs:us-east-1:111122223333:recovery-plan-execution/x", at=AT),
    NativeStartFailed(reason="ConflictException", definite=True, at=AT, retry_after=2.0),
    NativeObserved(
        status="IN_PROGRESS",
        steps=(
            NativeStepSeen(
                index=1,
                arn="arn:step/1",
                name="db",
                kind="SERVER",
                status="EXECUTING",
                servers=(NativeServerSeen(server_id=sid(1), impact="OPTIONAL", job_id="drsjob-1"),),
                updated_at=AT,
            ),
            NativeStepSeen(
                index=2, arn="arn:step/2", name="w", kind="WAIT", status="NOT_STARTED", wait_minutes=5
            ),
        ),
        at=AT,
        started_at=T0,
    ),
    NativeLooked(execution_arn="", at=AT),
    NativeControlSent(kind="retry", step_index=1, at=AT),
    NativeControlFailed(kind="skip", step_index=2, reason="ConflictException", definite=False, at=AT),
    TemplatesPointRequested(server_ids=(sid(1), sid(2)), at=AT),
    TemplatesPointed(
        server_id=sid(1), template_id="lt-0123456789abcdef0", production_version=3, drill_version=4, at=AT
    ),
    TemplatePointFailed(server_id=sid(2), reason="DrsRejected: no such subnet", at=AT, target="east"),
    TemplatesRestoreRequested(server_ids=(sid(1),), at=AT),
    TemplatesRestored(server_id=sid(1), at=AT),
    TemplateRestoreFailed(server_id=sid(1), reason="changed by someone", at=AT, changed_to=7),
    TemplateRestoreFailed(server_id=sid(1), reason="throttled", at=AT, definite=False),
    TemplatePointFailed(
        server_id=sid(2),
        reason="DrsRejected: refused",
        at=AT,
        unused_version=5,
        unused_deleted=False,
        delete_error="DrsUnavailable: timeout",
    ),
    TemplatePointUnknown(
        server_id=sid(1),
        template_id="lt-0123456789abcdef0",
        production_version=3,
        drill_version=4,
        reason="DrsOutcomeUnknown: no answer",
        at=AT,
        subnet_id="subnet-0123456789abcdef0",
    ),
    TemplateDefaultChanged(server_id=sid(1), found_version=3, at=AT, target="east"),
    AutomationRequested(key="0:AFTER:1", attempt=1, at=AT, instances=(f"{sid(1)}=i-0123456789abcdef0",)),
    AutomationSent(key="0:AFTER:1", attempt=1, ref="cmd-1", at=AT),
    HealthRoundSent(key="0:AFTER:0", attempt=1, command_id="cmd-2", at=AT),
    HealthProbed(
        key="0:AFTER:0",
        attempt=2,
        results=(
            TargetResult(server_id=sid(1), status="PASS", detail="HTTP 200", instance_id="i-1"),
            TargetResult(server_id=sid(2), status="FAIL", detail="connection refused"),
        ),
        at=AT,
    ),
    SsmPolled(
        key="1:BEFORE:0",
        attempt=1,
        results=(TargetResult(server_id=sid(1), status="Success", output="ok\n", instance_id="i-1"),),
        at=AT,
    ),
    SsmPolled(key="1:BEFORE:0", attempt=1, results=(), at=AT, error="ThrottlingException"),
    SsmLooked(key="1:BEFORE:0", attempt=1, command_id="", at=AT),
    SsmWaiting(key="1:BEFORE:0", attempt=1, reason="the SSM agent of i-1 is not online yet", at=AT),
    AutomationAnswered(key="0:AFTER:2", attempt=1, ok=False, at=AT, detail="exit 3", output="boom"),
    AutomationLost(key="0:AFTER:2", attempt=1, reason="read timeout", at=AT),
    StepDecided(wave_index=0, phase=StepPhase.AFTER, step_index=2, action="retry", at=AT, by="ops"),
    TestRecorded(
        test_type=TestType.PARTIAL,
        scenario="Region outage",
        objectives=("databases within 30 min",),
        success_criteria=("orders page answers",),
        participants=("ana", "ben"),
        at=AT,
        by="ana",
    ),
    FindingAdded(finding_id="f1", text="DNS", severity=Severity.HIGH, owner="ben", due="2027-01-04", at=AT),
    FindingUpdated(
        finding_id="f1",
        text="DNS late",
        severity=Severity.MEDIUM,
        status=FindingStatus.RESOLVED,
        comment="TTL lowered",
        at=AT,
    ),
    ReviewSignedOff(
        arn="arn:aws:sts::111122223333:assumed-role/Auditor/cho",
        account="111122223333",
        user_id="AROAEXAMPLE:cho",
        profile="audit",
        review="ok",
        self_signed=False,
        at=AT,
        by="cho",
    ),
    RecoveryPointsRecorded(
        points=(
            RecoveryPoint(server_id="s-1", data_at=AT, source="instance", lag_seconds=12),
            RecoveryPoint(server_id="s-2", data_at=None),
        ),
        at=AT,
    ),
]


def test_every_event_type_has_an_example_here() -> None:
    assert {type(e).__name__ for e in EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_round_trip_through_json_text(event: object) -> None:
    data = event_to_json(event)  # type: ignore[arg-type]
    assert data["type"] == type(event).__name__
    assert event_from_json(json.loads(json.dumps(data))) == event


COMMANDS = [
    StartJob(
        chunk_id="2.1",
        wave_index=1,
        attempt=1,
        server_ids=(sid(1),),
        snapshot_ids={sid(1): "pit-00000000000000001"},
        is_drill=True,
        tags={"drs-desktop:chunk": "2.1"},
    ),
    PollJobs(job_ids=("drsjob-00000000000000001",)),
    SizeExternalLoad(since=T0),
    FetchJobLog(job_id="drsjob-00000000000000001"),
    VerifyJobs(wave_index=0, job_ids=("drsjob-00000000000000001",)),
    Reconcile(chunk_ids=("1.1",), since=T0),
    Reconcile(chunk_ids=("1.1",), since=T0, server_ids=(sid(1), sid(2))),
    SurveyInstances(since=T0, server_ids=(sid(1),)),
    FindRecoveryInstances(server_ids=(sid(1),)),
    AwaitApproval(
        wave_index=0, wave_name="db", phase=StepPhase.BEFORE, step_index=0, message="go?", requested_at=T0
    ),
    TerminateInstances(recovery_instance_ids=("i-0123456789abcdef0",)),
    Record(event=Tick(at=AT)),
    Finish(outcome=Outcome.CANCELLED),
    WakeAt(at=AT),
]


def test_spec_round_trips_with_steps_limits_and_settings() -> None:
    original = spec(
        wave(
            "db",
            (sid(1), sid(2)),
            optional=(sid(2),),
            before=(ApprovalStep(message="go?"), WaitStep(minutes=5)),
        ),
        wave("app", (sid(3),), depends_on=("db",), after=(WaitStep(minutes=1),), post_launch=(sid(3),)),
        mode=Mode.RECOVERY,
        point_in_time=T0 - timedelta(hours=1),
        snapshot_ids={sid(1): "pit-1", sid(2): "pit-2", sid(3): "pit-3"},
        rto_target=timedelta(minutes=90),
        limits=Limits(max_servers_per_job=10),
        polling=PollSettings(fixed_interval=timedelta(seconds=30)),
    )
    assert spec_from_json(json.loads(json.dumps(spec_to_json(original)))) == original


def test_a_drill_network_spec_round_trips() -> None:
    original = replace(
        spec(wave("db", (sid(1), sid(2)))),
        drill_net=DrillNetSpec(
            subnet_ids=("subnet-0123456789abcdef0",),
            security_group_ids=("sg-0123456789abcdef0",),
            templates={sid(1): "lt-0123456789abcdef0"},
        ),
    )
    assert spec_from_json(json.loads(json.dumps(spec_to_json(original)))) == original


def test_a_spec_with_every_automation_step_round_trips() -> None:
    policy = StepPolicy(timeout_seconds=120, retries=2, on_failure=OnFailure.WARN, run_in=RunIn.DRILL)
    steps = (
        HealthCheckStep(
            name="web up",
            probe=Probe.HTTP,
            port=8080,
            servers=(sid(1),),
            path="/health",
            expect_body="ok",
            must_pass=1,
            reach=Reach.LAMBDA,
            via="probe-fn",
            policy=policy,
        ),
        SsmStep(name="flush", document="AWS-RunShellScript", parameters={"commands": ("sync", "true")}),
        LambdaStep(name="dns", function="move-dns", payload={"zone": "example.com", "ttl": 60, "a": [1, {}]}),
        ScriptStep(name="smoke", path="/opt/smoke.sh", arguments=("-v",), environment={"MODE": "x"}),
    )
    original = spec(wave("db", (sid(1),), after=steps))
    assert spec_from_json(json.loads(json.dumps(spec_to_json(original)))) == original


def test_a_run_in_drs_spec_round_trips_with_its_step_map() -> None:
    original = replace(
        spec(wave("db", (sid(1),), after=(WaitStep(minutes=5),))),
        native=NativeRunSpec(
            plan_arn="arn:aws:drs:us-east-1:111122223333:recovery-plan/p",
            client_token="drsd-run-1",
            steps=(
                NativeStepMap(index=1, name="db", kind="SERVER", wave_index=0),
                NativeStepMap(index=2, name="w", kind="WAIT", wave_index=0, phase="AFTER", wait_minutes=5),
            ),
            account_id="111122223333",
            region="us-east-1",
        ),
    )
    assert spec_from_json(json.loads(json.dumps(spec_to_json(original)))) == original


def test_unknown_types_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        event_from_json({"type": "Explode", "at": AT.isoformat()})
    with pytest.raises(ValueError, match="naive"):
        event_to_json(Tick(at=AT.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="naive"):
        event_from_json({"type": "Tick", "at": "2026-03-01T12:00:00"})


def test_an_older_journal_without_a_newer_optional_field_still_reads() -> None:
    """Fields added later have defaults, so an old line decodes with the default."""
    old = {
        "type": "StartFailed",
        "chunk_id": "1.1",
        "reason": "x",
        "definite": False,
        "at": "2026-03-01T12:00:00Z",
    }
    event = event_from_json(old)
    assert isinstance(event, StartFailed) and event.retry_after is None and event.at == T0


def test_a_job_log_journaled_before_the_count_was_kept_still_replays() -> None:
    """``JobLogObserved.seen`` came later: an old line reads with None, and applying it keeps the count
    the state had (the next read then journals the whole log again, as the runner did then)."""
    old = {
        "type": "JobLogObserved",
        "job_id": "drsjob-00000000000000001",
        "items": [{"at": "2026-03-01T12:00:00Z", "event": "JOB_START"}],
        "at": "2026-03-01T12:00:00Z",
    }
    event = event_from_json(old)
    assert isinstance(event, JobLogObserved) and event.seen is None and len(event.items) == 1
