"""Property tests over random executions: random plans, random DRS behaviour, random operator actions,
random failures of the StartRecovery call, and crashes (the state rebuilt from the journal).

The central invariant (DESIGN §2): a server is never in two StartRecovery calls unless the earlier one
is known, definitely, not to have launched it, or it failed and the operator asked for a retry. Beside
it: DRS never refuses a start for quota or conflict reasons the engine could have known, replaying the
journal always rebuilds the live state, and once the chaos stops every execution finishes exactly once.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as note_case
from hypothesis import strategies as st

from drs_desktop.domain.chunking import Limits
from drs_desktop.domain.engine_commands import StartJob
from drs_desktop.domain.execution import apply, control_error, initial_state
from drs_desktop.domain.execution_events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    Event,
    ExternalLoad,
    LaunchStatus,
    Pause,
    PollFailed,
    Resume,
    RetryFailed,
    SkipWave,
    Throttled,
    event_from_json,
)
from drs_desktop.domain.execution_queries import (
    drill_instances_running,
    execution_status,
    failed_waves,
    pending_approval,
    unresolved_chunks,
)
from drs_desktop.domain.execution_state import (
    ChunkStatus,
    ExecutionSpec,
    ExecutionStatus,
    Mode,
    PostLaunch,
    ServerStatus,
)
from drs_desktop.domain.plan import ApprovalStep, WaitStep
from drs_desktop.domain.polling import PollSettings
from drs_desktop.domain.reconcile import first_look_pending
from drs_desktop.domain.reconcile_events import StartsReconciled

from .fake_drs import FakeDrs, Harness
from .helpers import minutes, seconds, sids, spec, wave

STEPS = (
    (),
    (ApprovalStep(message="go?"),),
    (WaitStep(minutes=1),),
    (WaitStep(minutes=2), ApprovalStep(message="sure?")),
)
START_OUTCOMES = (
    "ok",
    "ok",
    "refuse:ConflictException",
    "refuse:ValidationException",
    "refuse:ThrottlingException",
    "timeout-launched",
    "timeout-not-launched",
    "timeout-late:30",  # DRS carries the call out after the client gave up on its answer
    "timeout-late:200",
    "crash-launched",
    "crash-before",
)


@st.composite
def specs(draw: st.DrawFn) -> ExecutionSpec:
    waves = []
    first = 1
    mode = draw(st.sampled_from(list(Mode)))
    for index in range(draw(st.integers(1, 3))):
        servers = sids(first, draw(st.integers(0, 4)))
        first += len(servers)
        flags = draw(st.lists(st.booleans(), min_size=len(servers), max_size=len(servers)))
        actions = draw(st.lists(st.booleans(), min_size=len(servers), max_size=len(servers)))
        earlier = [f"w{i + 1}" for i in range(index)]
        deps = tuple(draw(st.lists(st.sampled_from(earlier), unique=True))) if earlier else ()
        waves.append(
            wave(
                f"w{index + 1}",
                servers,
                optional=tuple(s for s, optional in zip(servers, flags, strict=True) if optional),
                depends_on=deps,
                before=draw(st.sampled_from(STEPS)),
                after=draw(st.sampled_from(STEPS)),
                post_launch=tuple(s for s, has in zip(servers, actions, strict=True) if has),
            )
        )
    limits = Limits(
        max_servers_per_job=draw(st.integers(1, 3)),
        max_servers_in_active_jobs=draw(st.integers(2, 5)),
        max_concurrent_jobs=draw(st.integers(1, 3)),
    )
    return spec(
        *waves,
        mode=mode,
        limits=limits,
        wave_timeout=minutes(10),
        reconcile_delay=seconds(5),
        polling=PollSettings(base_interval=seconds(20)),
    )


def operator_event(h: Harness, data: st.DataObject) -> Event | None:
    """A control an operator could send now (some of them invalid: ``apply`` must shrug those off)."""
    at, state = h.now, h.state
    kind = data.draw(st.sampled_from(["pause", "resume", "cancel", "retry", "skip", "approve", "reject"]))
    index = data.draw(st.integers(0, len(state.waves) - 1))
    if kind == "pause":
        return Pause(at=at, by="op")
    if kind == "resume":
        return Resume(at=at, by="op")
    if kind == "cancel":
        return Cancel(at=at, by="op", terminate_drill_instances=data.draw(st.booleans()))
    if kind == "retry":
        return RetryFailed(wave_index=index, at=at, by="op")
    if kind == "skip":
        return SkipWave(wave_index=index, at=at, by="op")
    wave_state = state.waves[index]
    cls = ApprovalGranted if kind == "approve" else ApprovalRejected
    return cls(
        wave_index=index, phase=wave_state.step_phase(), step_index=wave_state.step_index, by="op", at=at
    )


def progress_world(h: Harness, data: st.DataObject) -> None:
    """DRS moves one server of one active job along (or ends a job, or reports post-launch actions)."""
    active = h.drs.active_jobs()
    if not active:
        return
    job = data.draw(st.sampled_from(active))
    server_id = data.draw(st.sampled_from(sorted(job.servers)))
    move = data.draw(st.sampled_from(["progress", "launch", "launch", "fail", "complete", "post"]))
    if move == "complete":
        h.drs.finish_job(job.job_id)
    elif move == "post":
        h.drs.post_launch[server_id] = data.draw(st.sampled_from([PostLaunch.SUCCEEDED, PostLaunch.FAILED]))
    elif job.servers[server_id] not in (LaunchStatus.LAUNCHED, LaunchStatus.FAILED):
        status = {"progress": LaunchStatus.IN_PROGRESS, "launch": LaunchStatus.LAUNCHED}.get(
            move, LaunchStatus.FAILED
        )
        h.drs.set_status(job.job_id, server_id, status, h.now)


def last_intent(h: Harness) -> int:
    """The journal index of the last intent (its call was made, so no crash can lose it), or -1.

    A crash may lose any event after it: a result not yet committed, a poll, a control, a Tick.
    """
    intents = ('{"type": "StartRequested"', '{"type": "TerminateRequested"')
    for index in range(len(h.journal) - 1, -1, -1):
        if h.journal[index].startswith(intents):
            return index
    return -1


def check_knowledge_invariant(h: Harness) -> None:
    """Between two StartRequested of a server, the earlier must be known not launched, or retried."""
    events = [event_from_json(json.loads(line)) for line in h.journal]
    members = {c.chunk_id: c.server_ids for c in h.state.chunks.values()}
    state = initial_state(h.spec)
    wave_of = {s.server_id: s.wave_index for s in h.state.servers.values()}
    last_request: dict[str, str] = {}  # server -> chunk of its last StartRequested
    cleared: set[str] = set()  # servers whose last request is known not to have launched, or retried
    for event in events:
        state = apply(state, event)
        name = type(event).__name__
        if isinstance(event, StartsReconciled):
            # A look that found no job, once DRS's time was past the settle window, queues it again.
            for chunk_id in event.chunk_ids:
                chunk = state.chunks[chunk_id]
                if chunk.status in (ChunkStatus.QUEUED, ChunkStatus.START_FAILED) and chunk.job_id is None:
                    cleared.update(s for s in members[chunk_id] if last_request.get(s) == chunk_id)
        if name == "StartRequested":
            for server_id in members[event.chunk_id]:
                assert server_id not in last_request or server_id in cleared, (
                    f"{server_id} requested again in {event.chunk_id} after {last_request[server_id]}"
                )
                last_request[server_id] = event.chunk_id
                cleared.discard(server_id)
        elif (name == "StartFailed" and event.definite) or (name == "Reconciled" and event.job_id is None):
            cleared.update(s for s in members[event.chunk_id] if last_request.get(s) == event.chunk_id)
        elif name == "RetryFailed":
            # Only servers that were failed at that moment are retried; apply filters the rest out.
            for server_id, index in wave_of.items():
                if index == event.wave_index and (event.server_ids is None or server_id in event.server_ids):
                    cleared.add(server_id)


def check_decision(h: Harness) -> None:
    """While a start is unresolved: no StartJob before its first look, and never one of its servers."""
    commands = h.decide()
    if first_look_pending(h.state):
        assert not any(isinstance(c, StartJob) for c in commands)
    unresolved = {s for c in unresolved_chunks(h.state) for s in c.server_ids}
    assert not any(set(c.server_ids) & unresolved for c in commands if isinstance(c, StartJob))
    started = [s for c in commands if isinstance(c, StartJob) for s in c.server_ids]
    assert len(started) == len(set(started)), "one decision starts a server twice"


def check_world(h: Harness) -> None:
    assert h.drs.violations == [], h.drs.violations
    launched: dict[str, list[str]] = {}
    for job in h.drs.jobs.values():
        for server_id, status in job.servers.items():
            if status is LaunchStatus.LAUNCHED:
                launched.setdefault(server_id, []).append(job.job_id)
    for server_id, jobs in launched.items():
        # A server launches again only after the operator retried it as failed (its post-launch
        # actions failed, or it timed out): each earlier launch is a failed attempt of its history.
        retried = {a.job_id for a in h.state.servers[server_id].attempts if a.status is ServerStatus.FAILED}
        assert set(jobs[:-1]) <= retried, f"{server_id} launched by {jobs}, retried after {retried}"


def debug(h: Harness) -> str:
    """What a failing cleanup check needs to be understood."""
    lines = [str(h.state.instances), str(h.state.chunks), str(h.state.jobs)]
    lines += [
        line
        for line in h.journal
        if "Terminat" in line or "Cancel" in line or "Finished" in line or "Restart" in line
    ]
    return "\n".join(lines)


def settle_everything(h: Harness) -> None:
    """The chaos is over: DRS behaves, the operator resolves every hold; the run must finish."""
    h.start_outcomes.clear()

    def behave(harness: Harness) -> None:
        harness.launch_everything()
        for server_id in harness.state.servers:
            harness.drs.post_launch.setdefault(server_id, PostLaunch.SUCCEEDED)
            if harness.drs.post_launch[server_id] is PostLaunch.FAILED:
                harness.drs.post_launch[server_id] = PostLaunch.SUCCEEDED

    h.on_poll = behave
    behave(h)
    if h.drs.external_jobs or h.drs.external_busy:
        h.drs.external_jobs, h.drs.external_busy = 0, ()  # the other team's job ended
        h.record(ExternalLoad(active_jobs=0, busy_server_ids=(), at=h.now))
    for _ in range(60):
        h.run(max_steps=400)
        if h.state.finished is not None:
            return
        state = h.state
        status = execution_status(state)
        if status is ExecutionStatus.PAUSED:
            h.record(Resume(at=h.now, by="op"))
        elif status is ExecutionStatus.HELD:
            for index in failed_waves(state):
                retry = RetryFailed(wave_index=index, at=h.now, by="op")
                skip = SkipWave(wave_index=index, at=h.now, by="op")
                h.record(retry if control_error(state, retry) is None else skip)
        for w in h.state.waves:
            if pending_approval(h.state, w) is not None:
                h.record(
                    ApprovalGranted(
                        wave_index=w.index, phase=w.step_phase(), step_index=w.step_index, by="op", at=h.now
                    )
                )
        h.advance(timedelta(seconds=30))
    raise AssertionError(f"did not finish: {execution_status(h.state)}")


@settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "300")),  # ENGINE_EXAMPLES=20000 for a soak
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(spec=specs(), data=st.data())
def test_random_executions_keep_every_invariant(spec: ExecutionSpec, data: st.DataObject) -> None:
    h = Harness(spec, drs=FakeDrs(limits=spec.limits))
    if data.draw(st.booleans()):
        h.drs.external_jobs, h.drs.external_busy = 1, sids(1, 1)
        h.record(ExternalLoad(active_jobs=1, busy_server_ids=sids(1, 1), at=h.now))
    for _ in range(data.draw(st.integers(15, 80))):
        action = data.draw(
            st.sampled_from(
                ["step", "step", "step", "world", "world", "time", "operator", "crash", "read-error"]
            )
        )
        if action == "step":
            check_decision(h)
            h.start_outcomes = [data.draw(st.sampled_from(START_OUTCOMES)) for _ in range(3)]
            h.step()
        elif action == "world":
            progress_world(h, data)
        elif action == "time":
            h.advance(timedelta(seconds=data.draw(st.integers(1, 900))))
        elif action == "operator":
            event = operator_event(h, data)
            if event is not None and (control_error(h.state, event) is None or data.draw(st.booleans())):
                h.record(event)
        elif action == "crash":
            h.crash(keep=data.draw(st.integers(last_intent(h) + 1, len(h.journal))))
            if h.drs.external_jobs:  # a restarting runner looks at the account's load again
                h.record(ExternalLoad(active_jobs=1, busy_server_ids=h.drs.external_busy, at=h.now))
        elif data.draw(st.booleans()):
            h.record(Throttled(at=h.now, retry_after=data.draw(st.integers(0, 30))))
        else:
            h.record(PollFailed(at=h.now, transient=True, reason="500"))
        check_world(h)
    check_knowledge_invariant(h)
    assert h.replayed() == h.state

    kinds = {type(event_from_json(json.loads(line))).__name__ for line in h.journal}
    for kind in sorted(
        kinds & {"Reconciled", "RetryFailed", "JobsVerified", "SkipWave", "Cancel", "StartFailed"}
    ):
        note_case(f"saw {kind}")

    settle_everything(h)
    note_case(f"outcome {h.state.finished}")
    check_knowledge_invariant(h)
    check_world(h)
    assert h.replayed() == h.state
    # Finish is re-emitted only if a crash lost the ExecutionFinished it led to: the journal has one.
    assert sum('"ExecutionFinished"' in line for line in h.journal) == 1
    assert h.finishes >= 1
    assert not any(type(c).__name__ == "Finish" for c in h.decide())
    if h.state.cleanup_requested and spec.mode is Mode.DRILL:
        assert drill_instances_running(h.state) == (), debug(h)
        assert set(h.drs.terminated) == h.drs.all_instances()
    else:
        assert h.drs.terminated == []
