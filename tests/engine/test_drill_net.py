"""The engine's rules for a drill into the drill network (``engine.drill_net``), pure: ``decide`` and
``apply`` only, the answers written by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from drs_desktop.domain.drs.views import JobServerView, JobView
from drs_desktop.domain.engine.commands import (
    Command,
    Finish,
    PointTemplates,
    Record,
    RestoreTemplates,
    StartJob,
)
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.drill_net_events import (
    TemplatePointFailed,
    TemplateRestoreFailed,
    TemplatesPointed,
    TemplatesPointRequested,
    TemplatesRestored,
    TemplatesRestoreRequested,
)
from drs_desktop.domain.engine.drill_net_state import DrillNetSpec, NetStatus
from drs_desktop.domain.engine.events import (
    Cancel,
    Event,
    JobsObserved,
    JobStarted,
    JobStatus,
    LaunchStatus,
    RunnerRestarted,
    StartRequested,
)
from drs_desktop.domain.engine.reducer import apply, initial_state, replay
from drs_desktop.domain.engine.state import ExecutionState, Mode, ServerStatus, spec_problems

from .helpers import T0, seconds, sid, spec, wave

S1, S2 = sid(1), sid(2)
NET = DrillNetSpec(
    subnet_ids=("subnet-0000000000000d111",),
    security_group_ids=("sg-0000000000000d111",),
    templates={S1: "lt-00000000000000001", S2: "lt-00000000000000002"},
)


class Journal:
    """The state and every event applied to it, as a runner journals them."""

    def __init__(self, net: DrillNetSpec = NET, optional: tuple[str, ...] = ()) -> None:
        self.spec = spec(wave("w", (S1, S2), optional=optional), drill_net=net)
        self.state: ExecutionState = initial_state(self.spec)
        self.events: list[Event] = []

    def __call__(self, *events: Event) -> ExecutionState:
        for event in events:
            self.state = apply(self.state, event)
            self.events.append(event)
        return self.state

    def decide(self, at: datetime) -> tuple[Command, ...]:
        return decide(self.state, at)


def of(commands: tuple[Command, ...], kind: type) -> list:
    return [c for c in commands if isinstance(c, kind)]


def point_all(j: Journal, at: datetime) -> PointTemplates:
    (command,) = of(j.decide(at), PointTemplates)
    j(TemplatesPointRequested(server_ids=tuple(s.server_id for s in command.servers), at=at))
    for n, item in enumerate(command.servers):
        j(
            TemplatesPointed(
                server_id=item.server_id,
                template_id=item.template_id,
                production_version=1,
                drill_version=2 + n,
                at=at,
            )
        )
    return command


def launch(j: Journal, at: datetime, servers: tuple[str, ...] = (S1, S2)) -> None:
    (start,) = of(j.decide(at), StartJob)
    assert start.server_ids == servers
    j(
        StartRequested(chunk_id=start.chunk_id, at=at),
        JobStarted(chunk_id=start.chunk_id, job_id="drsjob-1", at=at),
    )
    views = tuple(
        JobServerView(
            server_id=s,
            launch_status=LaunchStatus.LAUNCHED,
            recovery_instance_id=f"i-{n:017d}",
            ec2_instance_id=f"i-{n:017d}",
        )
        for n, s in enumerate(servers, 1)
    )
    j(JobsObserved(jobs=(JobView(job_id="drsjob-1", status=JobStatus.COMPLETED, servers=views),), at=at))


def test_no_chunk_starts_before_its_servers_point_at_the_drill_net_and_the_run_finishes_restored() -> None:
    j = Journal()
    first = j.decide(T0)
    assert of(first, StartJob) == [], "a drill chunk started before its templates pointed at the drill net"
    (point,) = of(first, PointTemplates)
    assert {s.server_id for s in point.servers} == {S1, S2}
    assert (point.subnet_id, point.security_group_ids) == (NET.subnet_id, NET.security_group_ids)
    point_all(j, T0)
    assert {n.status for n in j.state.drill_net.values()} == {NetStatus.POINTED}
    launch(j, T0 + seconds(30))
    at = T0 + seconds(60)
    commands = j.decide(at)
    assert of(commands, Finish) == [], "finished with templates still pointed at the drill network"
    (restore,) = of(commands, RestoreTemplates)
    assert {(r.server_id, r.production_version) for r in restore.servers} == {(S1, 1), (S2, 1)}
    j(TemplatesRestoreRequested(server_ids=(S1, S2), at=at))
    j(TemplatesRestored(server_id=S1, at=at))
    assert of(j.decide(at), Finish) == []
    j(TemplatesRestored(server_id=S2, at=at))
    assert of(j.decide(at), Finish)
    # replay rebuilds the same state from the journal
    assert replay(j.spec, j.events) == j.state


def test_a_restore_waits_for_the_servers_job_to_end() -> None:
    j = Journal()
    point_all(j, T0)
    (start,) = of(j.decide(T0), StartJob)
    j(
        StartRequested(chunk_id=start.chunk_id, at=T0),
        JobStarted(chunk_id=start.chunk_id, job_id="drsjob-1", at=T0),
    )
    running = JobView(
        job_id="drsjob-1",
        status=JobStatus.STARTED,
        servers=(
            JobServerView(
                server_id=S1,
                launch_status=LaunchStatus.LAUNCHED,
                recovery_instance_id="i-1",
                ec2_instance_id="i-1",
            ),
            JobServerView(server_id=S2, launch_status=LaunchStatus.IN_PROGRESS),
        ),
    )
    j(JobsObserved(jobs=(running,), at=T0 + seconds(30)))
    assert of(j.decide(T0 + seconds(31)), RestoreTemplates) == [], "restored while its job could still launch"


def test_a_resend_after_a_crash_uses_the_same_client_token_and_a_retried_point_a_new_one() -> None:
    j = Journal()
    (first,) = of(j.decide(T0), PointTemplates)
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0), RunnerRestarted(at=T0 + seconds(5)))
    (again,) = of(j.decide(T0 + seconds(5)), PointTemplates)
    assert again.servers == first.servers
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0 + seconds(5)))
    assert {n.points for n in j.state.drill_net.values()} == {1}, "a resend counted as a new point"


def test_a_server_whose_point_failed_is_not_launched_and_the_rest_of_its_chunk_is() -> None:
    j = Journal(optional=(S2,))  # a critical one would hold the run (as any critical failure does)
    assert of(j.decide(T0), PointTemplates)
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0))
    j(
        TemplatesPointed(
            server_id=S1, template_id=NET.templates[S1], production_version=1, drill_version=2, at=T0
        )
    )
    j(TemplatePointFailed(server_id=S2, reason="InvalidSubnetID.NotFound", at=T0))
    assert j.state.servers[S2].status is ServerStatus.FAILED
    assert "drill network" in j.state.servers[S2].reason
    (start,) = of(j.decide(T0 + seconds(1)), StartJob)
    assert start.server_ids == (S1,)


def test_a_server_without_a_launch_template_is_failed_not_launched() -> None:
    j = Journal(replace(NET, templates={S1: "lt-00000000000000001"}))
    commands = j.decide(T0)
    (record,) = of(commands, Record)
    assert isinstance(record.event, TemplatePointFailed) and record.event.server_id == S2
    assert of(commands, PointTemplates) == [] and of(commands, StartJob) == []


def test_a_restore_refused_for_good_lets_the_run_finish_and_a_passing_failure_is_tried_again() -> None:
    j = Journal()
    point_all(j, T0)
    launch(j, T0)
    at = T0 + seconds(60)
    j(TemplatesRestoreRequested(server_ids=(S1, S2), at=at))
    j(TemplateRestoreFailed(server_id=S1, reason="changed by someone", changed_to=9, at=at))
    j(TemplateRestoreFailed(server_id=S2, reason="RequestLimitExceeded", definite=False, at=at))
    assert j.state.drill_net[S1].status is NetStatus.FAILED and j.state.drill_net[S1].changed_to == 9
    assert j.state.drill_net[S2].status is NetStatus.POINTED
    assert of(j.decide(at), RestoreTemplates) == [] and of(j.decide(at), Finish) == []
    later = at + seconds(31)
    (restore,) = of(j.decide(later), RestoreTemplates)
    assert [r.server_id for r in restore.servers] == [S2]
    j(TemplatesRestoreRequested(server_ids=(S2,), at=later), TemplatesRestored(server_id=S2, at=later))
    assert of(j.decide(later), Finish)


@pytest.mark.parametrize("problem", ["recovery", "no subnet"])
def test_a_drill_network_spec_that_cannot_run_is_refused(problem: str) -> None:
    net = NET if problem == "recovery" else replace(NET, subnet_ids=())
    mode = Mode.RECOVERY if problem == "recovery" else Mode.DRILL
    assert spec_problems(spec(wave("w", (S1, S2)), mode=mode, drill_net=net))


def test_a_point_cut_off_by_a_crash_in_a_run_then_cancelled_is_resolved_and_restored() -> None:
    j = Journal()
    (first,) = of(j.decide(T0), PointTemplates)
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0), RunnerRestarted(at=T0 + seconds(5)))
    j(Cancel(by="op", at=T0 + seconds(6)))
    assert {s.status for s in j.state.servers.values()} == {ServerStatus.CANCELLED}
    at = T0 + seconds(7)
    commands = j.decide(at)
    assert of(commands, Finish) == [], "finished with a point whose outcome is unknown"
    (again,) = of(commands, PointTemplates)
    assert again.servers == first.servers  # the same tokens: EC2 returns the version it may have made
    for n, item in enumerate(again.servers):
        j(
            TemplatesPointed(
                server_id=item.server_id,
                template_id=item.template_id,
                production_version=1,
                drill_version=2 + n,
                at=at,
            )
        )
    (restore,) = of(j.decide(at), RestoreTemplates)
    j(TemplatesRestoreRequested(server_ids=(S1, S2), at=at))
    j(*(TemplatesRestored(server_id=r.server_id, at=at) for r in restore.servers))
    assert of(j.decide(at), Finish)


def test_an_abandoned_drill_whose_point_was_cut_off_says_the_template_may_be_left_pointed() -> None:
    from drs_desktop.domain.engine.end_events import ExecutionAbandoned
    from drs_desktop.domain.views.drill_net_evidence import drill_net_evidence

    j = Journal()
    at = T0 + seconds(5)
    (command,) = of(j.decide(at), PointTemplates)
    # the intent is journaled, the EC2 calls' answers never are: the desktop died, the run is abandoned
    j(TemplatesPointRequested(server_ids=tuple(s.server_id for s in command.servers), at=at))
    j(ExecutionAbandoned(reason="the desktop is gone", at=at + seconds(60), by="alice"))
    evidence = drill_net_evidence(j.state)
    assert evidence is not None
    assert {row.server_id for row in evidence.not_restored} == {S1, S2}
    assert all(row.drill_version is None for row in evidence.not_restored)


def test_a_point_whose_outcome_is_unknown_keeps_the_server_off_and_the_run_open_until_restored() -> None:
    """Issue 16 item 4: a lost set-default answer whose read-back failed too was journaled FAILED (not
    open), so the run could finish with the template still pointed and nothing restoring it."""
    from drs_desktop.domain.engine.drill_net_events import TemplatePointUnknown

    j = Journal(optional=(S2,))
    assert of(j.decide(T0), PointTemplates)
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0))
    j(
        TemplatesPointed(
            server_id=S1, template_id=NET.templates[S1], production_version=1, drill_version=2, at=T0
        )
    )
    j(
        TemplatePointUnknown(
            server_id=S2,
            template_id=NET.templates[S2],
            production_version=1,
            drill_version=3,
            reason="DrsOutcomeUnknown: no answer",
            at=T0,
        )
    )
    assert j.state.drill_net[S2].status is NetStatus.POINT_UNKNOWN
    assert j.state.servers[S2].status is ServerStatus.FAILED, "launched into a network not known"
    commands = j.decide(T0 + seconds(1))
    (start,) = of(commands, StartJob)
    assert start.server_ids == (S1,)
    # its restore is sent at once: it reads the default back and sets production only over drill version 3
    (restore,) = of(commands, RestoreTemplates)
    assert [(r.server_id, r.production_version, r.drill_version) for r in restore.servers] == [(S2, 1, 3)]
    at = T0 + seconds(1)
    j(TemplatesRestoreRequested(server_ids=(S2,), at=at))
    j(TemplateRestoreFailed(server_id=S2, reason="RequestLimitExceeded", definite=False, at=at))
    assert j.state.drill_net[S2].status is NetStatus.POINT_UNKNOWN, "a passing failure forgot the doubt"
    j(
        StartRequested(chunk_id=start.chunk_id, at=at),
        JobStarted(chunk_id=start.chunk_id, job_id="drsjob-1", at=at),
    )
    view = JobServerView(
        server_id=S1, launch_status=LaunchStatus.LAUNCHED, recovery_instance_id="i-1", ec2_instance_id="i-1"
    )
    j(JobsObserved(jobs=(JobView(job_id="drsjob-1", status=JobStatus.COMPLETED, servers=(view,)),), at=at))
    later = at + seconds(120)
    j(TemplatesRestoreRequested(server_ids=(S1,), at=later), TemplatesRestored(server_id=S1, at=later))
    assert of(j.decide(later), Finish) == [], "finished while a template may be left pointed"
    (again,) = of(j.decide(later), RestoreTemplates)
    assert [r.server_id for r in again.servers] == [S2]
    j(TemplatesRestoreRequested(server_ids=(S2,), at=later), TemplatesRestored(server_id=S2, at=later))
    assert of(j.decide(later), Finish)
    assert replay(j.spec, j.events) == j.state


def test_a_point_unknown_whose_restore_keeps_failing_ends_failed_with_its_reason_said() -> None:
    from drs_desktop.domain.engine.drill_net import MAX_RESTORE_ATTEMPTS
    from drs_desktop.domain.engine.drill_net_events import TemplatePointUnknown
    from drs_desktop.domain.views.drill_net_evidence import drill_net_evidence

    j = Journal(optional=(S1, S2))
    of(j.decide(T0), PointTemplates)
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0))
    for n, server in enumerate((S1, S2)):
        j(
            TemplatePointUnknown(
                server_id=server,
                template_id=NET.templates[server],
                production_version=1,
                drill_version=2 + n,
                reason="no answer",
                at=T0,
            )
        )
    at = T0
    for _ in range(MAX_RESTORE_ATTEMPTS):
        at = at + seconds(600)
        assert of(j.decide(at), Finish) == []
        (restore,) = of(j.decide(at), RestoreTemplates)
        j(TemplatesRestoreRequested(server_ids=tuple(r.server_id for r in restore.servers), at=at))
        for r in restore.servers:
            j(TemplateRestoreFailed(server_id=r.server_id, reason="EC2 unreachable", definite=False, at=at))
    assert {n.status for n in j.state.drill_net.values()} == {NetStatus.FAILED}
    assert of(j.decide(at + seconds(600)), Finish), "bounded: the run ends once the reason is said"
    evidence = drill_net_evidence(j.state)
    assert evidence is not None
    assert {(r.server_id, r.error) for r in evidence.not_restored} == {
        (S1, "EC2 unreachable"),
        (S2, "EC2 unreachable"),
    }


def test_a_chunk_start_reads_the_drill_versions_and_a_default_set_back_is_pointed_again() -> None:
    from drs_desktop.domain.engine.drill_net import MAX_REPOINTS
    from drs_desktop.domain.engine.drill_net_events import TemplateDefaultChanged

    j = Journal(optional=(S2,))
    point_all(j, T0)
    (start,) = of(j.decide(T0), StartJob)
    assert {(c.server_id, c.drill_version) for c in start.drill_versions} == {(S1, 2), (S2, 3)}
    # launch-settings restore ran on another desktop: S2's default is production (1) again
    j(TemplateDefaultChanged(server_id=S2, found_version=1, at=T0))
    commands = j.decide(T0)
    assert of(commands, StartJob) == [], "started a server whose template is production again"
    (again,) = of(commands, PointTemplates)
    assert [s.server_id for s in again.servers] == [S2]
    assert j.state.drill_net[S2].changed_to == 1
    for n in range(MAX_REPOINTS):
        j(TemplatesPointRequested(server_ids=(S2,), at=T0))
        j(
            TemplatesPointed(
                server_id=S2, template_id=NET.templates[S2], production_version=1, drill_version=4 + n, at=T0
            )
        )
        (start,) = of(j.decide(T0), StartJob)
        assert (S2, 4 + n) in {(c.server_id, c.drill_version) for c in start.drill_versions}
        j(TemplateDefaultChanged(server_id=S2, found_version=1, at=T0))
        if n + 1 < MAX_REPOINTS:
            of(j.decide(T0), PointTemplates)
    # set back once more than it is pointed again: failed with the reason, the rest of its chunk starts
    assert j.state.servers[S2].status is ServerStatus.FAILED
    assert "not started into production" in j.state.servers[S2].reason
    (start,) = of(j.decide(T0), StartJob)
    assert start.server_ids == (S1,)
    assert replay(j.spec, j.events) == j.state


def test_a_run_without_a_drill_network_reads_no_template_before_a_start() -> None:
    j = Journal(net=None)  # type: ignore[arg-type]
    (start,) = of(j.decide(T0), StartJob)
    assert start.drill_versions == ()
