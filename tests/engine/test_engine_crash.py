"""Crash safety: an unclear StartRecovery is reconciled before anything else starts; replay is exact."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import (
    PollJobs,
    Reconcile,
    StartJob,
    WakeAt,
    chunk_of_tags,
    job_tags,
)
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    JobStarted,
    Outcome,
    Reconciled,
    RetryFailed,
    SkipWave,
    StartFailed,
    StartRequested,
)
from drs_desktop.domain.engine.queries import execution_status, unresolved_chunks
from drs_desktop.domain.engine.reconcile import LISTING_MARGIN, first_look_pending
from drs_desktop.domain.engine.reconcile_events import StartsReconciled
from drs_desktop.domain.engine.reducer import apply, control_error
from drs_desktop.domain.engine.state import ChunkStatus, ExecutionStatus, ServerStatus

from .conftest import Shipped
from .helpers import T0, chain, seconds, sid, sids
from .shipped_run import ShippedRun

TWO_CHUNKS = {"limits": Limits(max_servers_per_job=2), "reconcile_delay": seconds(15)}


def kinds(h: ShippedRun) -> list[str]:
    return [type(event).__name__ for event in h.events()]


def attempts(h: ShippedRun) -> list[str]:
    """The attempt of every StartRecovery this run sent (its tag)."""
    return [tags["drs-desktop:attempt"] for tags in h.start_calls]


def test_a_crash_after_the_intent_reconciles_before_any_start(shipped: Shipped) -> None:
    h = shipped(chain(4, **TWO_CHUNKS))
    h.start_outcomes = ["crash-launched"]
    h.step()  # 1.1 launched in DRS, but the runner died before journaling the job; 1.2 was never sent
    assert h.crashes == 1 and kinds(h) == ["StartRequested", "RunnerRestarted"]
    assert h.state.chunks["1.1"].status is ChunkStatus.UNCERTAIN
    assert h.state.audit[-1].action == "runner restarted"
    assert h.decide() == (WakeAt(at=T0 + seconds(15)),)  # DRS's listing gets time to catch up
    h.advance_to(T0 + seconds(15))
    commands = [c for c in h.decide() if not isinstance(c, WakeAt)]
    assert commands == [Reconcile(chunk_ids=("1.1",), since=T0 - LISTING_MARGIN, server_ids=sids(1, 2))]
    h.step()
    job = h.backend.world.servers[sid(1)].active_job_id
    assert job is not None and h.state.chunks["1.1"].job_id == job
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHING
    assert [c.chunk_id for c in h.decide() if isinstance(c, StartJob)] == ["1.2"]


def test_a_journal_ending_with_the_intent_is_reconciled_even_without_the_restart_marker(
    shipped: Shipped,
) -> None:
    h = shipped(chain(2, reconcile_delay=seconds(15)))
    h.record(StartRequested(chunk_id="1.1", at=T0))
    state = h.replayed()
    assert state.chunks["1.1"].status is ChunkStatus.START_REQUESTED
    commands = decide(state, T0 + seconds(15))
    assert not any(isinstance(c, StartJob) for c in commands)
    assert Reconcile(chunk_ids=("1.1",), since=T0 - LISTING_MARGIN, server_ids=sids(1, 2)) in commands


def test_a_crash_before_the_intent_leaves_nothing_to_reconcile(shipped: Shipped) -> None:
    h = shipped(chain(2))
    assert [c.chunk_id for c in h.starts()] == ["1.1"]
    h.crash()  # the process dies before the runner journaled the intent: no call went out
    assert kinds(h) == ["RunnerRestarted"]
    assert unresolved_chunks(h.state) == ()
    assert [c.chunk_id for c in h.decide() if isinstance(c, StartJob)] == ["1.1"]
    assert h.started() == ["1.1"] and len(h.start_calls) == 1


def test_an_ambiguous_failure_is_started_again_only_once_drs_time_passed_the_settle_window(
    shipped: Shipped,
) -> None:
    h = shipped(chain(4, **TWO_CHUNKS))
    h.start_outcomes = ["ok", "timeout-not-launched"]
    assert [c.chunk_id for c in h.starts()] == ["1.1", "1.2"]
    assert h.started() == ["1.1", "1.2"]
    assert h.state.chunks["1.2"].status is ChunkStatus.UNCERTAIN
    h.advance(seconds(20))
    commands = h.decide()
    assert not any(isinstance(c, StartJob) for c in commands)
    assert Reconcile(chunk_ids=("1.2",), since=T0 - LISTING_MARGIN, server_ids=sids(3, 2)) in commands
    assert any(isinstance(c, PollJobs) for c in commands)  # watching goes on meanwhile
    settle_at = T0 + h.spec.start_settle
    looked: list[datetime] = []
    for _ in range(200):
        if h.state.chunks["1.2"].status is not ChunkStatus.UNCERTAIN:
            break
        before = len(h.events())
        result = h.step()
        assert result is not None
        if any(isinstance(e, StartsReconciled) for e in h.events()[before:]):  # no job yet: DRS may
            looked.append(h.now)  # still act on it
        if not result.acted:
            assert result.wake_at is not None
            h.advance_to(result.wake_at)
    assert looked[-1] >= settle_at and all(t < settle_at for t in looked[:-1])
    gaps = [b - a for a, b in itertools.pairwise(looked[:-1])]
    assert gaps == sorted(gaps) and 3 <= len(looked) <= 8, looked  # growing intervals
    chunk = h.state.chunks["1.2"]
    assert (chunk.status, chunk.failures) == (ChunkStatus.QUEUED, 1)  # nothing launched: safe to start again
    h.advance_to(max(h.now, chunk.not_before or h.now))
    (again,) = [c for c in h.decide() if isinstance(c, StartJob)]
    assert (again.chunk_id, again.attempt, again.tags["drs-desktop:attempt"]) == ("1.2", 2, "2")


def test_a_start_drs_carries_out_after_the_client_gave_up_is_adopted_not_repeated(shipped: Shipped) -> None:
    """The campaign's double launch: the answer came after the read timeout, the first look found no job."""
    h = shipped(chain(2), hold_launches=False)
    h.start_outcomes = ["timeout-late:240"]  # DRS acts 4 minutes after the client gave up
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert len(h.backend.world.jobs) == 1 and h.late_jobs == list(h.backend.world.jobs)
    assert h.state.chunks["1.1"].job_id == h.late_jobs[0] and h.state.chunks["1.1"].looks >= 2
    assert attempts(h) == ["1"]


def test_a_launch_by_someone_else_after_the_intent_holds_and_is_never_repeated(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.start_outcomes = ["timeout-not-launched"]
    h.step()
    # A colleague's drill takes sid(2) after this run asked DRS to start it.
    h.advance(seconds(5))
    colleague = h.start_external_job((sid(2),), tags={"owner": "console"})
    h.advance(seconds(20))
    h.act()
    server = h.state.servers[sid(2)]
    assert server.status is ServerStatus.FAILED and server.foreign_job_id == colleague
    assert "not launched again" in server.reason
    assert h.state.servers[sid(1)].status is ServerStatus.FAILED  # its job-mate: checked, not launched
    assert execution_status(h.state) is ExecutionStatus.HELD
    named = RetryFailed(wave_index=0, at=h.now, by="op", server_ids=(sid(2),))
    assert "never launched again" in (control_error(h.state, named) or "")
    assert control_error(h.state, RetryFailed(wave_index=0, at=h.now, by="op", server_ids=(sid(1),))) is None
    h.record(RetryFailed(wave_index=0, at=h.now, by="op"))  # the whole wave: only sid(1) is retried
    assert h.state.servers[sid(2)].status is ServerStatus.FAILED
    assert h.state.servers[sid(1)].status is ServerStatus.PENDING
    h.record(SkipWave(wave_index=0, at=h.now, by="op"))
    h.run()
    assert h.state.finished is not None
    assert len(h.start_calls) == 1  # this run sent one StartRecovery, ever


def test_an_older_last_launch_of_someone_else_is_not_a_reason_to_hold(shipped: Shipped) -> None:
    h = shipped(chain(1), drs_start=T0 - timedelta(hours=1))
    last_week = h.start_external_job((sid(1),))  # an hour ago: a console drill
    h.by_hand.complete(last_week)
    h.advance_to(T0)
    h.by_hand.hold_launches(False)
    h.start_outcomes = ["timeout-not-launched"]
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert attempts(h) == ["1", "2"]


def test_an_ambiguous_failure_that_did_launch_is_adopted_not_repeated(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.start_outcomes = ["timeout-launched"]
    h.step()
    h.advance(seconds(20))
    h.step()
    assert isinstance(h.events()[-1], StartsReconciled)
    assert h.state.chunks["1.1"].status is ChunkStatus.STARTED
    assert len(h.start_calls) == 1 and len(h.backend.world.jobs) == 1


def test_late_or_duplicate_answers_change_nothing(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    before = h.state
    for event in (
        JobStarted(chunk_id="1.1", job_id="drsjob-0000000000000000f", at=h.now),
        StartFailed(chunk_id="1.1", reason="ReadTimeout", definite=False, at=h.now),
        Reconciled(chunk_id="1.1", job_id=None, at=h.now),
        StartRequested(chunk_id="1.1", at=h.now),
        JobStarted(chunk_id="9.9", job_id="drsjob-0000000000000000e", at=h.now),
    ):
        h.record(event)
    assert h.state.chunks == before.chunks and h.state.servers == before.servers


def test_tags_identify_the_chunk_whatever_drs_adds() -> None:
    tags = {**job_tags("exec-1", 1, "2.1", 1), "resourceArn": "arn:aws:drs:eu-west-1:1:job/drsjob-1"}
    assert chunk_of_tags(tags, "exec-1") == "2.1"
    assert chunk_of_tags(tags, "exec-2") is None
    assert chunk_of_tags(job_tags("exec-2", 1, "2.1", 1), "exec-1") is None  # another execution's 2.1


def test_replaying_every_prefix_never_fails_and_never_starts_while_unresolved(shipped: Shipped) -> None:
    h = shipped(chain(3, 2, **TWO_CHUNKS), hold_launches=False)
    h.start_outcomes = ["ok", "timeout-launched", "ok", "timeout-not-launched"]
    h.run()
    events = h.events()
    assert h.state.finished is not None
    assert {"StartsReconciled", "RunnerRestarted"} & set(kinds(h)) == {"StartsReconciled"}
    state = h.replayed(0)
    for index, event in enumerate(events):
        snapshot = copy.deepcopy(state)
        state = apply(state, event)
        assert snapshot == h.replayed(index)  # apply never mutates its input
        unresolved = {s for c in unresolved_chunks(state) for s in c.server_ids}
        starts = [c for c in decide(state, event.at + seconds(60)) if isinstance(c, StartJob)]
        assert not (starts and first_look_pending(state))
        assert not any(set(c.server_ids) & unresolved for c in starts)
    assert state == h.state
