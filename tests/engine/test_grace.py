"""``engine.grace``: a stopped run waits ``cancel_grace`` for a DRS job it no longer needs, then records
``JobsLeftRunning`` and finishes; pure ``decide`` over folded events."""

from __future__ import annotations

from drs_desktop.domain.engine.commands import Finish, Record, WakeAt
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    Cancel,
    JobServerView,
    JobsLeftRunning,
    JobsObserved,
    JobStarted,
    JobStatus,
    JobView,
    LaunchStatus,
    Outcome,
    StartRequested,
)
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import ServerStatus

from .helpers import T0, chain, minutes, sid


def test_a_cancelled_run_finishes_after_the_grace_with_the_job_still_running() -> None:
    state = initial_state(chain(1, cancel_grace=minutes(30)))
    for event in (
        StartRequested(chunk_id="1.1", at=T0),
        JobStarted(chunk_id="1.1", job_id="drsjob-1", at=T0),
        JobsObserved(
            jobs=(
                JobView(
                    job_id="drsjob-1",
                    status=JobStatus.STARTED,
                    servers=(JobServerView(server_id=sid(1), launch_status=LaunchStatus.IN_PROGRESS),),
                ),
            ),
            at=T0 + minutes(1),
        ),
        Cancel(at=T0 + minutes(2), by="alice"),
    ):
        state = apply(state, event)
    assert state.servers[sid(1)].status is ServerStatus.LAUNCHING
    waiting = decide(state, T0 + minutes(31))
    assert not any(isinstance(c, Finish | Record) for c in waiting)
    assert WakeAt(at=T0 + minutes(32)) in waiting  # the runner wakes when the grace ends
    commands = decide(state, T0 + minutes(32))
    assert Record(event=JobsLeftRunning(job_ids=("drsjob-1",), at=T0 + minutes(32))) in commands
    state = apply(state, JobsLeftRunning(job_ids=("drsjob-1",), at=T0 + minutes(32)))
    server = state.servers[sid(1)]
    assert (server.status, server.reason) == (ServerStatus.FAILED, "job drsjob-1 still running in DRS")
    assert Finish(outcome=Outcome.CANCELLED) in decide(state, T0 + minutes(32))
