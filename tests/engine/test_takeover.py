"""Taking a run over from a silent desktop (``engine.takeover``): pure reducer and decide rules."""

from __future__ import annotations

from datetime import datetime

from drs_desktop.domain.engine.commands import (
    AwaitApproval,
    PollJobs,
    Reconcile,
    Record,
    StartJob,
    VerifyJobs,
    WakeAt,
)
from drs_desktop.domain.engine.decide import decide, finish_outcome
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    Cancel,
    Event,
    JobServerView,
    JobsObserved,
    JobStatus,
    JobView,
    LaunchStatus,
    Outcome,
    RetryFailed,
    RunnerRestarted,
    StepPhase,
    TakenOver,
    event_from_json,
    event_to_json,
)
from drs_desktop.domain.engine.queries import pending_approvals
from drs_desktop.domain.engine.reconcile_events import LastLaunch, StartsReconciled, TaggedJob
from drs_desktop.domain.engine.reducer import apply, control_error, initial_state
from drs_desktop.domain.engine.state import (
    ChunkStatus,
    ExecutionSpec,
    ExecutionState,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.engine.takeover import CHECKING_PHASE
from drs_desktop.domain.plan.model import ApprovalStep
from drs_desktop.domain.views.progress import ProgressTracker

from .helpers import T0, chain, minutes, seconds, sids, spec, wave

TAKEN = T0 + minutes(10)


def took_over(
    plan: ExecutionSpec, *, complete: bool = False, events: tuple[Event, ...] = ()
) -> ExecutionState:
    state = initial_state(plan)
    for event in (*events, RunnerRestarted(at=TAKEN)):
        state = apply(state, event)
    return apply(
        state, TakenOver(at=TAKEN, by="desk-b", previous="desk-a", operator="ana", journal_complete=complete)
    )


def look(
    state: ExecutionState, at: datetime, *jobs: TaggedJob, launches: tuple[LastLaunch, ...] = ()
) -> ExecutionState:
    (command,) = [c for c in decide(state, at) if isinstance(c, Reconcile)]
    event = StartsReconciled(
        chunk_ids=command.chunk_ids, tagged_jobs=jobs, last_launches=launches, at=at, drs_time=at
    )
    return apply(state, event)


def starts(state: ExecutionState, at: datetime) -> list[str]:
    return [c.chunk_id for c in decide(state, at) if isinstance(c, StartJob)]


def launched(state: ExecutionState, job_id: str, servers: tuple[str, ...], at: datetime) -> ExecutionState:
    views = tuple(
        JobServerView(
            server_id=s,
            launch_status=LaunchStatus.LAUNCHED,
            recovery_instance_id=f"i-{s}",
            ec2_instance_id=f"e-{s}",
        )
        for s in servers
    )
    job = JobView(job_id=job_id, status=JobStatus.COMPLETED, servers=views)
    return apply(state, JobsObserved(jobs=(job,), at=at))


def test_an_incomplete_journal_leaves_every_never_started_chunk_unchecked_and_looks_first() -> None:
    state = took_over(chain(2, 2))
    assert state.waves[0].phase is WavePhase.LAUNCHING and state.waves[1].phase is WavePhase.BLOCKED
    assert state.unchecked == ("1.1", "2.1")
    (record,) = state.takeovers
    assert (record.by, record.previous, record.operator, record.unchecked) == (
        "desk-b",
        "desk-a",
        "ana",
        ("1.1", "2.1"),
    )
    commands = decide(state, TAKEN)
    assert not [c for c in commands if isinstance(c, StartJob)]  # no start before the first look
    (reconcile,) = [c for c in commands if isinstance(c, Reconcile)]  # first look right away
    assert reconcile.chunk_ids == ("1.1", "2.1") and set(reconcile.server_ids) == set(sids(1, 4))
    assert state.audit[-1].action == "take over" and "2 chunk(s)" in state.audit[-1].detail


def test_a_complete_journal_only_records_the_takeover() -> None:
    state = took_over(chain(2, 2), complete=True)
    assert state.unchecked == () and state.takeovers[0].journal_complete
    assert starts(state, TAKEN) == ["1.1"]


def test_a_tagged_job_is_adopted_even_in_a_wave_not_launching_yet_and_never_started_again() -> None:
    state = took_over(chain(2, 2))
    state = look(
        state,
        TAKEN,
        TaggedJob(job_id="drsjob-1", chunk_id="1.1"),
        TaggedJob(job_id="drsjob-2", chunk_id="2.1"),
    )
    assert state.unchecked == ()
    assert state.waves[1].phase is WavePhase.BLOCKED  # wave 2 waits for wave 1, as in the journal
    for chunk_id, job_id in (("1.1", "drsjob-1"), ("2.1", "drsjob-2")):
        chunk = state.chunks[chunk_id]
        assert (chunk.status, chunk.job_id, chunk.attempt, chunk.failures) == (
            ChunkStatus.STARTED,
            job_id,
            0,
            0,
        )
        assert all(state.servers[s].status is ServerStatus.LAUNCHING for s in chunk.server_ids)
    assert starts(state, TAKEN + seconds(1)) == []
    assert any(
        isinstance(c, PollJobs) and set(c.job_ids) == {"drsjob-1", "drsjob-2"}
        for c in decide(state, TAKEN + minutes(1))
    )
    state = launched(state, "drsjob-1", sids(1, 2), TAKEN + minutes(2))
    assert state.waves[1].phase in (WavePhase.LAUNCHING, WavePhase.AFTER, WavePhase.COMPLETED)
    assert state.chunks["2.1"].job_id == "drsjob-2" and starts(state, TAKEN + minutes(2)) == []
    state = launched(state, "drsjob-2", sids(3, 2), TAKEN + minutes(3))
    assert finish_outcome(state) is Outcome.SUCCEEDED


def test_a_pending_approval_stays_pending_while_the_adopted_job_is_followed() -> None:
    gated = spec(wave("w1", sids(1, 2), before=(ApprovalStep(message="go?"),)))
    state = took_over(gated)
    assert state.unchecked == ("1.1",) and state.chunks["1.1"].status is ChunkStatus.PLANNED
    launch = LastLaunch(
        server_id=sids(1, 1)[0], job_id="drsjob-7", initiated_at=T0, execution_id="exec-1", chunk_id="1.1"
    )
    state = look(state, TAKEN, launches=(launch,))  # found by the server's last launch, carrying our tags
    assert state.chunks["1.1"].status is ChunkStatus.STARTED and state.chunks["1.1"].job_id == "drsjob-7"
    assert pending_approvals(state) and state.waves[0].phase is WavePhase.BEFORE
    commands = decide(state, TAKEN + minutes(1))
    assert any(isinstance(c, AwaitApproval) for c in commands) and any(
        isinstance(c, PollJobs) for c in commands
    )
    granted = ApprovalGranted(
        wave_index=0, phase=StepPhase.BEFORE, step_index=0, by="ana", at=TAKEN + minutes(2)
    )
    state = apply(state, granted)
    assert state.waves[0].phase is WavePhase.LAUNCHING and starts(state, TAKEN + minutes(2)) == []
    assert state.chunks["1.1"].job_id == "drsjob-7"


def test_nothing_found_starts_the_chunk_only_after_the_settle_with_no_failure_counted() -> None:
    state = took_over(chain(2, 2))
    settle_at = TAKEN + state.spec.start_settle
    state = look(state, TAKEN)
    assert state.unchecked == ("1.1", "2.1") and state.chunks["1.1"].looks == 1
    at = TAKEN
    looks = 1
    while True:
        commands = decide(state, at)
        assert not [c for c in commands if isinstance(c, StartJob)]
        if any(isinstance(c, Reconcile) for c in commands):
            state = look(state, at)
            looks += 1
            if not state.unchecked:
                break
            continue
        (wake,) = [c for c in commands if isinstance(c, WakeAt)]
        assert wake.at > at
        at = wake.at
    assert at >= settle_at and 3 <= looks <= 10
    chunk = state.chunks["1.1"]
    assert (chunk.status, chunk.failures, chunk.attempt, chunk.looks) == (ChunkStatus.QUEUED, 0, 0, 0)
    assert state.chunks["2.1"].status is ChunkStatus.PLANNED
    (start,) = [c for c in decide(state, at) if isinstance(c, StartJob)]
    assert (start.chunk_id, start.attempt) == ("1.1", 1)


def test_jobs_of_a_chunk_this_journal_does_not_know_are_noted_not_adopted() -> None:
    state = took_over(chain(2))
    stray = TaggedJob(job_id="drsjob-9", chunk_id="1.2", server_ids=sids(1, 1))
    state = look(state, TAKEN, stray)
    assert "drsjob-9" not in state.jobs and state.chunks["1.1"].status is ChunkStatus.QUEUED
    (record,) = state.takeovers
    assert record.unknown_jobs == (stray,)
    notes = [a for a in state.audit if a.action == "unknown job"]
    assert len(notes) == 1 and "drsjob-9" in notes[0].detail and sids(1, 1)[0] in notes[0].detail
    state = look(state, TAKEN + seconds(30), stray)
    assert len([a for a in state.audit if a.action == "unknown job"]) == 1  # noted once


def test_a_cancel_waits_for_the_check_then_abandons_what_never_started() -> None:
    state = took_over(chain(2))
    state = apply(state, Cancel(at=TAKEN + seconds(1), by="ana"))
    assert state.chunks["1.1"].status is ChunkStatus.QUEUED and state.unchecked == ("1.1",)
    assert finish_outcome(state) is None  # it may be running in DRS
    state = look(state, TAKEN)
    state = look(state, TAKEN + state.spec.start_settle)
    assert state.chunks["1.1"].status is ChunkStatus.ABANDONED
    assert {state.servers[s].status for s in sids(1, 2)} == {ServerStatus.CANCELLED}
    assert finish_outcome(state) is Outcome.CANCELLED


def test_takeover_events_replay_and_round_trip() -> None:
    event = TakenOver(at=TAKEN, by="desk-b", previous="", operator="ana", journal_complete=False)
    assert event_from_json(event_to_json(event)) == event
    plan = chain(2)
    state = took_over(plan)
    again = initial_state(plan)
    for each in (RunnerRestarted(at=TAKEN), event_from_json(event_to_json(event))):
        again = apply(again, each)
    assert again.unchecked == state.unchecked and again.takeovers[0].previous == ""


def test_the_progress_view_says_which_servers_are_being_checked() -> None:
    tracker = ProgressTracker()
    state = took_over(chain(2, 2))
    snapshot = tracker.update(state, TAKEN)
    assert snapshot is not None
    assert {row.phase for rows in snapshot.servers for row in rows} == {CHECKING_PHASE}
    assert (
        snapshot.waves[0].detail == "checking DRS's records after taking over from desktop desk-a: 1 chunk(s)"
    )
    state = look(state, TAKEN)
    state = look(state, TAKEN + state.spec.start_settle)  # nothing found: the servers' objects unchanged
    snapshot = tracker.update(state, TAKEN + state.spec.start_settle)
    assert snapshot is not None
    assert CHECKING_PHASE not in {row.phase for rows in snapshot.servers for row in rows}
    assert "checking" not in snapshot.waves[0].detail


def test_a_wave_past_its_timeout_fails_an_unchecked_chunk_only_once_checked() -> None:
    state = took_over(chain(2, wave_timeout=minutes(1)))  # the takeover comes after the wave's deadline
    commands = decide(state, TAKEN)
    assert not [c for c in commands if isinstance(c, Record | VerifyJobs)]  # DRS's records first
    state = look(state, TAKEN)
    state = look(state, TAKEN + state.spec.start_settle)
    commands = decide(state, TAKEN + state.spec.start_settle)
    assert not [c for c in commands if isinstance(c, StartJob)]
    (record,) = [c for c in commands if isinstance(c, Record)]
    state = apply(state, record.event)
    assert {state.servers[s].status for s in sids(1, 2)} == {ServerStatus.FAILED}
    assert all(state.servers[s].timed_out for s in sids(1, 2))


def test_servers_of_an_unknown_job_are_never_launched_again_from_here() -> None:
    """The old driver retried a server in a job this journal does not know ("1.2"): that server is held
    (never started nor retried here), its unchecked chunk is refused rather than started once settled, and
    a chunk this desktop makes never carries the unknown job's number."""
    state = took_over(chain(2))
    held = sids(1, 1)[0]
    stray = TaggedJob(job_id="drsjob-9", chunk_id="1.2", server_ids=(held,))
    state = look(state, TAKEN, stray)
    assert state.servers[held].foreign_job_id == "drsjob-9"
    assert state.waves[0].next_chunk_seq == 3
    state = look(state, TAKEN + state.spec.start_settle, stray)
    chunk = state.chunks["1.1"]
    assert chunk.status is ChunkStatus.START_FAILED and "drsjob-9" in chunk.reason
    assert starts(state, TAKEN + state.spec.start_settle) == []
    assert {state.servers[s].status for s in sids(1, 2)} == {ServerStatus.FAILED}
    assert "not launched again" in state.servers[held].reason
    # A retry of the wave takes only the server that no unknown job holds, under a fresh number.
    other = next(s for s in sids(1, 2) if s != held)
    assert control_error(state, RetryFailed(wave_index=0, server_ids=(held,), at=TAKEN, by="ana"))
    state = apply(state, RetryFailed(wave_index=0, server_ids=None, at=TAKEN + minutes(7), by="ana"))
    (retry,) = [c for c in state.chunks.values() if c.is_retry]
    assert retry.chunk_id == "1.3" and retry.server_ids == (other,)


def test_with_nothing_left_unchecked_the_takeover_still_looks_before_any_retry() -> None:
    """The journal left nothing unchecked once the first look adopted the wave's job, and a server of
    it failed. The silent desktop had retried that server as "1.2" (drsjob-2) after its last push: no
    retry is taken and nothing starts until a look past the settle, which finds drsjob-2 and keeps the
    server clear of it for good."""
    state = took_over(chain(2))
    failed, fine = sids(1, 2)
    state = look(state, TAKEN, TaggedJob(job_id="drsjob-1", chunk_id="1.1"))
    assert state.unchecked == () and state.chunks["1.1"].job_id == "drsjob-1"
    job = JobView(
        job_id="drsjob-1",
        status=JobStatus.COMPLETED,
        servers=(
            JobServerView(server_id=failed, launch_status=LaunchStatus.FAILED),
            JobServerView(server_id=fine, launch_status=LaunchStatus.LAUNCHED, recovery_instance_id="i-1"),
        ),
    )
    state = apply(state, JobsObserved(jobs=(job,), at=TAKEN + minutes(1)))
    assert state.servers[failed].status is ServerStatus.FAILED
    retry = RetryFailed(wave_index=0, at=TAKEN + minutes(2), by="ana")
    assert "just taken over" in (control_error(state, retry) or "")
    settle_at = TAKEN + state.spec.start_settle
    commands = decide(state, TAKEN + minutes(2))
    assert not [c for c in commands if isinstance(c, Reconcile | StartJob)]
    (wake,) = [c for c in commands if isinstance(c, WakeAt)]
    assert wake.at <= settle_at  # the settle look is due then, even with no chunk left to check
    state = look(state, settle_at, TaggedJob(job_id="drsjob-2", chunk_id="1.2", server_ids=(failed,)))
    assert state.servers[failed].foreign_job_id == "drsjob-2"
    assert state.takeovers[-1].settled == ("",)
    error = control_error(state, RetryFailed(wave_index=0, server_ids=(failed,), at=settle_at, by="ana"))
    assert error is not None and "drsjob-2" in error


def test_the_settle_is_timed_from_the_first_look_when_the_takeovers_own_time_is_earlier() -> None:
    """The takeover's time may be this desktop's clock (DRS's not read then): a first look whose DRS time
    is later moves the settle, so a clock behind DRS's never shortens it."""
    state = took_over(chain(2))
    late = TAKEN + minutes(4)  # DRS's time at the first look: this desktop's clock was 4 min behind
    state = look(state, late)
    state = look(state, TAKEN + state.spec.start_settle)
    assert state.unchecked == ("1.1",), "not settled: 6 min have not passed in DRS's time since the look"
    state = look(state, late + state.spec.start_settle)
    assert state.unchecked == () and starts(state, late + state.spec.start_settle) == ["1.1"]


def test_a_takeover_stamped_by_a_clock_hours_ahead_still_looks_at_once() -> None:
    """DRS's time could not be read at the takeover, and this desktop's clock was 3 h ahead: the first
    look is due at once all the same, and the settle is timed from that look's DRS time."""
    plan = chain(2)
    ahead = TAKEN + minutes(180)
    state = initial_state(plan)
    for event in (
        RunnerRestarted(at=TAKEN),
        TakenOver(at=ahead, by="desk-b", previous="desk-a", operator="ana", journal_complete=False),
    ):
        state = apply(state, event)
    assert [c for c in decide(state, TAKEN) if isinstance(c, Reconcile)], "looked at now, not in 3 h"
    state = look(state, TAKEN)
    state = look(state, TAKEN + state.spec.start_settle)
    assert state.unchecked == () and state.takeovers[-1].settled == ("",)
    assert starts(state, TAKEN + state.spec.start_settle) == ["1.1"]


def test_a_job_of_a_chunk_still_to_be_looked_at_is_its_own_not_a_stray() -> None:
    """Two chunks unchecked; a look due for one lists the other's job too: that job is left for its own
    chunk's look (adopted there), never kept clear of as if the previous desktop had started it."""
    state = took_over(chain(2, 2))
    job = TaggedJob(job_id="drsjob-2", chunk_id="2.1", server_ids=sids(3, 2))
    event = StartsReconciled(
        chunk_ids=("1.1",), tagged_jobs=(job,), last_launches=(), at=TAKEN, drs_time=TAKEN
    )
    state = apply(state, event)
    assert all(state.servers[s].foreign_job_id is None for s in sids(3, 2))
    assert not [a for a in state.audit if a.action == "unknown job"]
