"""One execution across several DRS targets, at the engine: what is per target and what is the run's.

Pure: states are built from specs and events, as the runner journals them (``engine.accounts``).
"""

from __future__ import annotations

from dataclasses import replace

from drs_desktop.domain.engine.accounts import account_of, credential_holds
from drs_desktop.domain.engine.commands import PollJobs, SizeExternalLoad, StartJob
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    Cancel,
    CredentialsNeeded,
    ExternalLoad,
    HoldingJob,
    JobStarted,
    Outcome,
    PollFailed,
    StartFailed,
    StartRequested,
    TerminateFailed,
    TerminateRequested,
)
from drs_desktop.domain.engine.observe import AUTH_RETRY_DELAY
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import ExecutionSpec, ExecutionState, InstanceRecord, Mode, WaveSpec
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.plan.validation_targets import targets_problems

from .helpers import T0, seconds, sids

A_SERVERS = sids(1, 3)
B_SERVERS = sids(101, 2)


def spec(**settings: object) -> ExecutionSpec:
    targets = {s: "a" for s in A_SERVERS} | {s: "b" for s in B_SERVERS}
    return ExecutionSpec(
        execution_id="x-1",
        mode=Mode.DRILL,
        started_at=T0,
        waves=(WaveSpec(name="Both", server_ids=(*A_SERVERS, *B_SERVERS)),),
        targets=("a", "b"),
        server_targets=targets,
        **settings,  # type: ignore[arg-type]
    )


def chunk_of(state: ExecutionState, target: str) -> str:
    return next(c.chunk_id for c in state.chunks.values() if c.target == target)


def started(state: ExecutionState, target: str, job: str) -> ExecutionState:
    chunk = chunk_of(state, target)
    state = apply(state, StartRequested(chunk_id=chunk, at=T0, target=target))
    return apply(state, JobStarted(chunk_id=chunk, job_id=job, at=T0, target=target))


def refused_start(
    state: ExecutionState, target: str, reason: str, *, busy: bool = False, auth: bool = False
) -> tuple[ExecutionState, str]:
    """The target's chunk asked to start, and DRS refusing it with ``reason``."""
    chunk = chunk_of(state, target)
    state = apply(state, StartRequested(chunk_id=chunk, at=T0, target=target))
    refusal = StartFailed(chunk_id=chunk, reason=reason, definite=True, busy=busy, auth=auth, at=T0)
    return apply(state, replace(refusal, target=target)), chunk


def test_a_wave_spanning_targets_starts_one_job_in_each_at_once() -> None:
    state = initial_state(spec())
    starts = [c for c in decide(state, T0) if isinstance(c, StartJob)]
    assert sorted((s.target, s.server_ids) for s in starts) == [("a", A_SERVERS), ("b", B_SERVERS)]
    assert {s.tags["drs-desktop:chunk"] for s in starts} == {"1.1", "1.2"}


def test_each_target_polls_its_own_jobs_and_a_failing_target_paces_only_itself() -> None:
    state = started(started(initial_state(spec()), "a", "drsjob-a"), "b", "drsjob-b")
    polls = {c.target: c.job_ids for c in decide(state, T0 + seconds(60)) if isinstance(c, PollJobs)}
    assert polls == {"a": ("drsjob-a",), "b": ("drsjob-b",)}

    state = apply(state, PollFailed(at=T0 + seconds(60), transient=True, reason="ConnectTimeout", target="b"))
    assert account_of(state, "b").poll.failures == 1
    assert account_of(state, "a").poll.failures == 0
    polls_after = [c.target for c in decide(state, T0 + seconds(61)) if isinstance(c, PollJobs)]
    assert polls_after == ["a"], "b backs off; a is polled as before"


def test_a_look_in_one_account_does_not_end_the_hold_of_a_wave_held_in_another() -> None:
    state, _ = refused_start(initial_state(spec()), "b", "ConflictException", busy=True)
    holder = HoldingJob(job_id="drsjob-other", server_ids=B_SERVERS)
    at = T0 + seconds(30)
    state = apply(
        state, ExternalLoad(active_jobs=1, busy_server_ids=B_SERVERS, holders=(holder,), at=at, target="b")
    )
    assert state.waves[0].held_since is not None
    # The other account's look sees nothing held there: the wave stays held for b's servers.
    state = apply(state, ExternalLoad(active_jobs=0, busy_server_ids=(), at=at + seconds(30), target="a"))
    wave = state.waves[0]
    assert wave.held_since is not None
    assert account_of(state, "a").load_looked_at == at + seconds(30)
    assert account_of(state, "b").load_looked_at == at


def test_refused_credentials_spend_no_attempt_wait_a_little_and_hold_the_run_for_a_person() -> None:
    state, b_chunk = refused_start(initial_state(spec()), "b", "ExpiredTokenException", auth=True)
    chunk = state.chunks[b_chunk]
    assert (chunk.failures, chunk.not_before) == (0, T0 + AUTH_RETRY_DELAY)
    assert credential_holds(state) == ()  # a role that renews itself: no person yet
    state = apply(state, CredentialsNeeded(target="b", reason="MfaRequired", at=T0))
    (hold,) = credential_holds(state)
    assert hold.target == "b"
    later = T0 + AUTH_RETRY_DELAY * 2
    assert not [c for c in decide(state, later) if getattr(c, "target", "") == "b"]
    # A cancel during that hold ends CANCELLED: waiting for credentials is not a failure of the run.
    state = apply(state, Cancel(at=later, by="ops"))
    assert state.stop is not None and state.stop.outcome is Outcome.CANCELLED


def test_a_termination_refused_for_its_credentials_gives_its_attempt_back() -> None:
    state = started(initial_state(spec()), "b", "drsjob-b")
    record = InstanceRecord(
        recovery_instance_id="i-b", server_id=B_SERVERS[0], job_id="drsjob-b", is_drill=True, seen_at=T0
    )
    state = state.with_instances(record)
    state = apply(state, TerminateRequested(instance_ids=("i-b",), at=T0, target="b"))
    assert state.instances["i-b"].terminate_attempts == 1
    state = apply(
        state,
        TerminateFailed(
            instance_ids=("i-b",), reason="ExpiredTokenException", definite=True, auth=True, at=T0, target="b"
        ),
    )
    assert state.instances["i-b"].terminate_attempts == 0


def test_the_external_load_of_one_account_does_not_hold_the_others_chunks() -> None:
    state = initial_state(spec())
    at = T0 + seconds(5)
    state = apply(state, ExternalLoad(active_jobs=20, busy_server_ids=(), at=at, target="b"))
    starts = [c.target for c in decide(state, at) if isinstance(c, StartJob)]
    assert starts == ["a"], "b's 20 jobs of other tools fill b's quota only"
    assert not [c for c in decide(state, at) if isinstance(c, SizeExternalLoad) and c.target == "a"]


def test_two_targets_in_one_account_and_region_are_refused() -> None:
    problems = targets_problems(
        (
            PlanTarget("one", "111111111111", "eu-west-1", profile="p1"),
            PlanTarget("two", "111111111111", "eu-west-1", profile="p2"),
        )
    )
    assert any("'one' and 'two' are the same account and Region" in message for _, message in problems)
