"""What a DRS answer means beyond its facts (``domain.drs.observations``): the rules the runner used to
apply itself, now decided next to the engine and replayed from the journal."""

from __future__ import annotations

from drs_desktop.domain.drs.observations import external_load, job_log_observed, post_launch_events
from drs_desktop.domain.drs.views import (
    DrsJobServerView,
    DrsJobView,
    JobLogEntry,
    PostLaunchRun,
    PostLaunchView,
)
from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import SizeExternalLoad
from drs_desktop.domain.engine.decide import EXTERNAL_LOAD_WINDOW, decide
from drs_desktop.domain.engine.events import (
    Event,
    JobsObserved,
    JobStarted,
    JobStatus,
    LaunchStatus,
    PostLaunchCompleted,
    PostLaunchFailed,
    StartRequested,
)
from drs_desktop.domain.engine.reducer import apply, initial_state, replay
from drs_desktop.domain.engine.state import ChunkStatus, ExecutionState, Mode

from .helpers import T0, seconds, sid, sids, spec, wave

JOB = "drsjob-00000000000000001"


def started(state: ExecutionState, chunk_id: str = "1.1", job_id: str = JOB) -> list[Event]:
    return [StartRequested(chunk_id=chunk_id, at=T0), JobStarted(chunk_id=chunk_id, job_id=job_id, at=T0)]


def folded(state: ExecutionState, events: list[Event]) -> ExecutionState:
    for event in events:
        state = apply(state, event)
    return state


def job(job_id: str, servers: tuple[str, ...], *, active: bool = True, **views: PostLaunchView) -> DrsJobView:
    status = JobStatus.STARTED if active else JobStatus.COMPLETED
    launch = LaunchStatus.IN_PROGRESS if active else LaunchStatus.LAUNCHED
    return DrsJobView(
        job_id=job_id,
        status=status,
        servers=tuple(
            DrsJobServerView(source_server_id=s, launch_status=launch, post_launch=views.get(s))
            for s in servers
        ),
    )


def test_the_load_is_other_tools_active_jobs_and_is_sized_after_a_poll_that_saw_a_queue() -> None:
    one_at_a_time = Limits(max_servers_per_job=1, max_concurrent_jobs=1)
    state = initial_state(spec(wave("w", sids(1, 3)), limits=one_at_a_time))
    state = folded(state, started(state))
    listed = [
        job(JOB, (sid(1),)),  # this run's own
        job("drsjob-00000000000000002", (sid(7), sid(8))),
        job("drsjob-00000000000000003", (sid(9),), active=False),
    ]
    load = external_load(state, listed, T0)
    assert (load.active_jobs, load.busy_server_ids) == (1, (sid(7), sid(8)))

    assert not state.load_due
    polled = apply(state, JobsObserved(jobs=(), at=T0 + seconds(20)))
    assert [c.status for c in polled.chunks.values()].count(ChunkStatus.QUEUED) == 2
    assert polled.load_due
    assert SizeExternalLoad(since=T0 + seconds(20) - EXTERNAL_LOAD_WINDOW) in decide(polled, T0 + seconds(20))
    assert not apply(polled, load).load_due


def test_post_launch_counts_as_done_only_when_every_expected_action_ran() -> None:
    s = spec(wave("w", sids(1, 2), post_launch=sids(1, 2)), mode=Mode.RECOVERY)
    state = folded(initial_state(s), started(initial_state(s)))
    state = apply(
        state,
        JobsObserved(jobs=(job(JOB, sids(1, 2), active=False).to_engine(),), at=T0 + seconds(60)),
    )
    ok = PostLaunchRun(run_id="r1", status="SUCCEEDED", action_name="Verify")
    failed = PostLaunchRun(run_id="r2", status="FAILED", action_name="Smoke", failure_reason="exit 1")
    views = {sid(1): PostLaunchView(runs=(ok,)), sid(2): PostLaunchView(runs=(ok, failed))}
    answer = [job(JOB, sids(1, 2), active=False, **views)]
    events = post_launch_events(state, answer, {sid(1): 2, sid(2): 2}, T0)
    assert events == [PostLaunchFailed(server_id=sid(2), reason="Smoke: exit 1", at=T0)]  # one of two ran
    events = post_launch_events(state, answer, {sid(1): 1}, T0)
    assert PostLaunchCompleted(server_id=sid(1), at=T0) in events


def test_only_new_log_items_and_every_failure_are_journaled_and_the_count_survives_a_replay() -> None:
    s = spec(wave("w", sids(1, 1)))
    events = started(initial_state(s))
    state = folded(initial_state(s), events)
    log = [
        JobLogEntry(at=T0, event="JOB_START"),
        JobLogEntry(at=T0, event="CONVERSION_FAIL", source_server_id=sid(1), raw_error="disk"),
    ]
    first = job_log_observed(state, JOB, log, T0)
    assert (len(first.items), first.seen) == (2, 2)
    events.append(first)
    state = replay(s, events)  # the count is in the journal, not in the runner's memory
    assert state.jobs[JOB].log_seen == 2
    again = job_log_observed(state, JOB, [*log, JobLogEntry(at=T0, event="JOB_END")], T0)
    assert [i.event for i in again.items] == ["CONVERSION_FAIL", "JOB_END"]
    assert again.seen == 3
