"""Property tests over random executions through the runner that ships: random plans, random DRS
behaviour (the simulator's own jobs, failures and post-launch actions on its virtual clock), random
operator actions, random failures of the StartRecovery call, throttles and 5xx, and crashes (the process
dies mid-call or between entries; the execution is reopened from its SQLite journal).

The central invariant (DESIGN §2): a server is never in two StartRecovery calls unless the earlier one
is known, definitely, not to have launched it, or it failed and the operator asked for a retry. Beside
it: DRS never refuses a start for quota or conflict reasons the engine could have known, replaying the
journal always rebuilds the live state, and once the chaos stops every execution finishes exactly once.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as note_case
from hypothesis import strategies as st

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import Finish, StartJob
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Cancel,
    Event,
    ExecutionFinished,
    Pause,
    Reconciled,
    Resume,
    RetryFailed,
    SkipWave,
    StartFailed,
    StartRequested,
)
from drs_desktop.domain.engine.polling import PollSettings
from drs_desktop.domain.engine.queries import (
    execution_status,
    failed_waves,
    pending_approval,
    unresolved_chunks,
)
from drs_desktop.domain.engine.reconcile import first_look_pending
from drs_desktop.domain.engine.reconcile_events import StartsReconciled
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ChunkStatus, ExecutionSpec, ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.simulator.faults import ALL_OPERATIONS
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .helpers import minutes, seconds, sids, spec, wave
from .shipped_run import OTHER_SERVERS, ShippedRun, applied

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
#: Refusals the engine must never cause: it knows the quotas and which servers are busy.
AVOIDABLE = ("ConflictException", "ServiceQuotaExceededException")


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[Database, PlanRevision]]:
    """One database for every example (each runs its own execution), and a plan for the records."""
    with tempfile.TemporaryDirectory() as home, Database.open(Path(home) / "engine.sqlite3") as db:
        revision = save_plan(db, RecoveryPlan(name="property", waves=(Wave(name="w", servers=sids(1, 1)),)))
        yield db, revision


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


def operator_event(h: ShippedRun, data: st.DataObject) -> Event:
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


def check_knowledge_invariant(h: ShippedRun) -> None:
    """Between two StartRequested of a server, the earlier must be known not launched, or retried."""
    events = h.events()
    members = {c.chunk_id: c.server_ids for c in h.state.chunks.values()}
    wave_of = {s.server_id: s.wave_index for s in h.state.servers.values()}
    last_request: dict[str, str] = {}  # server -> chunk of its last StartRequested
    cleared: set[str] = set()  # servers whose last request is known not to have launched, or retried
    for event, state in zip(events, applied(h.spec, events), strict=True):
        if isinstance(event, StartsReconciled):
            # A look that found no job, once DRS's time was past the settle window, queues it again.
            for chunk_id in event.chunk_ids:
                chunk = state.chunks[chunk_id]
                if chunk.status in (ChunkStatus.QUEUED, ChunkStatus.START_FAILED) and chunk.job_id is None:
                    cleared.update(s for s in members[chunk_id] if last_request.get(s) == chunk_id)
        if isinstance(event, StartRequested):
            for server_id in members[event.chunk_id]:
                assert server_id not in last_request or server_id in cleared, (
                    f"{server_id} requested again in {event.chunk_id} after {last_request[server_id]}"
                )
                last_request[server_id] = event.chunk_id
                cleared.discard(server_id)
        elif (isinstance(event, StartFailed) and event.definite) or (
            isinstance(event, Reconciled) and event.job_id is None
        ):
            cleared.update(s for s in members[event.chunk_id] if last_request.get(s) == event.chunk_id)
        elif isinstance(event, RetryFailed):
            # Only servers that were failed at that moment are retried; apply filters the rest out.
            for server_id, index in wave_of.items():
                if index == event.wave_index and (event.server_ids is None or server_id in event.server_ids):
                    cleared.add(server_id)


def check_decision(h: ShippedRun) -> None:
    """While a start is unresolved: no StartJob before its first look, and never one of its servers."""
    commands = decide(h.state, h.now)
    if first_look_pending(h.state):
        assert not any(isinstance(c, StartJob) for c in commands)
    unresolved = {s for c in unresolved_chunks(h.state) for s in c.server_ids}
    assert not any(set(c.server_ids) & unresolved for c in commands if isinstance(c, StartJob))
    started = [s for c in commands if isinstance(c, StartJob) for s in c.server_ids]
    assert len(started) == len(set(started)), "one decision starts a server twice"


def check_world(h: ShippedRun) -> None:
    """DRS refused nothing the engine could have known, and launched no server of ours twice unless
    the operator retried it after a failed attempt."""
    avoidable = [r for r in h.drs.refused if r[0] == "StartRecovery" and r[1] in AVOIDABLE]
    assert avoidable == [], avoidable
    launched: dict[str, list[str]] = {}
    for record in h.backend.launch_records():
        if record.outcome == "LAUNCHED" and record.job_id not in h.external_job_ids:
            launched.setdefault(record.source_server_id, []).append(record.job_id)
    for server_id, jobs in launched.items():
        retried = {a.job_id for a in h.state.servers[server_id].attempts if a.status is ServerStatus.FAILED}
        assert set(jobs[:-1]) <= retried, f"{server_id} launched by {jobs}, retried after {retried}"


def drill_instances_alive(h: ShippedRun) -> list[str]:
    """Recovery instances DRS still has from this run's drill jobs."""
    own = set(h.state.jobs) | {a.job_id for s in h.state.servers.values() for a in s.attempts if a.job_id}
    return [
        i.instance_id
        for i in h.backend.world.instances.values()
        if i.job_id in own and i.is_drill and not i.terminating
    ]


def settle_everything(h: ShippedRun) -> None:
    """The chaos is over: DRS behaves, the operator resolves every hold; the run must finish."""
    h.start_outcomes.clear()
    h.backend.faults.clear()
    if h.external_job_ids:  # the other team's job ends; the runner looks at the account again
        h.advance(timedelta(hours=1))
        h.look_at_load()
    held = (ExecutionStatus.PAUSED, ExecutionStatus.HELD)
    for _ in range(60):
        h.runner.run(
            sleep=lambda s: h.advance(timedelta(seconds=max(s, 1.0))),
            return_on_approval=True,
            should_stop=lambda: execution_status(h.state) in held,
            max_steps=400,
        )
        state = h.state
        if state.finished is not None and not decide(state, h.now):
            return
        status = execution_status(state)
        if status is ExecutionStatus.PAUSED:
            h.runner.control(Resume(at=h.now, by="op"))
        elif status is ExecutionStatus.HELD:
            for index in failed_waves(state):
                retry = RetryFailed(wave_index=index, at=h.now, by="op")
                skip = SkipWave(wave_index=index, at=h.now, by="op")
                h.runner.control(retry if control_error(state, retry) is None else skip)
        for w in h.state.waves:
            if pending_approval(h.state, w) is not None:
                h.runner.control(
                    ApprovalGranted(
                        wave_index=w.index, phase=w.step_phase(), step_index=w.step_index, by="op", at=h.now
                    )
                )
        h.advance(timedelta(seconds=30))
    raise AssertionError(f"did not finish: {execution_status(h.state)}")


@settings(
    max_examples=int(os.environ.get("ENGINE_EXAMPLES", "300")),  # ENGINE_EXAMPLES=20000 for a soak
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(spec=specs(), data=st.data())
def test_random_executions_keep_every_invariant(
    store: tuple[Database, PlanRevision], spec: ExecutionSpec, data: st.DataObject
) -> None:
    db, revision = store
    h = ShippedRun(
        db,
        revision,
        replace(spec, execution_id=str(uuid.uuid4())),  # one database for every example
        seed=data.draw(st.integers(0, 2**16)),
        launch_failures=data.draw(st.sampled_from([0.0, 0.0, 0.3])),
        post_launch_failures=data.draw(st.sampled_from([0.0, 0.3])),
    )
    if data.draw(st.booleans()):  # another tool holds one of the plan's servers (or one of its own)
        first = next((s for w in spec.waves for s in w.server_ids), OTHER_SERVERS[0])
        h.start_external_job((first,))
        h.look_at_load()
    for _ in range(data.draw(st.integers(15, 80))):
        action = data.draw(
            st.sampled_from(
                ["step", "step", "step", "step", "time", "time", "operator", "crash", "read-error"]
            )
        )
        if action == "step":
            check_decision(h)
            h.start_outcomes = [data.draw(st.sampled_from(START_OUTCOMES)) for _ in range(3)]
            h.step()
        elif action == "time":
            h.advance(timedelta(seconds=data.draw(st.integers(1, 900))))
        elif action == "operator":
            event = operator_event(h, data)
            if control_error(h.state, event) is None or data.draw(st.booleans()):
                h.record(event)
        elif action == "crash":
            h.crash()
        else:  # the next read (or call) is throttled, or fails with a 5xx
            h.backend.faults.set_transport(ALL_OPERATIONS, None)
            if data.draw(st.booleans()):
                h.backend.faults.throttle(retry_after=data.draw(st.integers(1, 30)), count=1)
            else:
                h.backend.faults.server_errors(count=1)
        check_world(h)
    check_knowledge_invariant(h)
    assert h.replayed() == h.state

    kinds = {type(event).__name__ for event in h.events()}
    for kind in sorted(
        kinds & {"StartsReconciled", "RetryFailed", "JobsVerified", "SkipWave", "Cancel", "StartFailed"}
    ):
        note_case(f"saw {kind}")
    note_case(f"crashes: {min(h.crashes, 3)}")

    settle_everything(h)
    note_case(f"outcome {h.state.finished}")
    check_knowledge_invariant(h)
    check_world(h)
    assert h.replayed() == h.state
    # Finish is re-emitted only if a crash lost the ExecutionFinished it led to: the journal has one.
    assert sum(isinstance(e, ExecutionFinished) for e in h.events()) == 1
    assert not any(isinstance(c, Finish) for c in decide(h.state, h.now))
    terminations = [j for j in h.backend.world.jobs.values() if j.job_type == "TERMINATE"]
    if h.state.cleanup_requested and h.spec.mode is Mode.DRILL:
        assert drill_instances_alive(h) == []
    else:
        assert terminations == []
