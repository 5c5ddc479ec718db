"""Crash safety: an unclear StartRecovery is reconciled before anything else starts; replay is exact."""

from __future__ import annotations

import copy
import json

from drs_desktop.domain.chunking import Limits
from drs_desktop.domain.engine import RECONCILE_SKEW, decide
from drs_desktop.domain.engine_commands import (
    PollJobs,
    Reconcile,
    StartJob,
    WakeAt,
    chunk_of_tags,
    job_tags,
    reconcile_match,
)
from drs_desktop.domain.execution import apply
from drs_desktop.domain.execution_events import (
    JobStarted,
    Reconciled,
    StartFailed,
    StartRequested,
    event_from_json,
)
from drs_desktop.domain.execution_queries import unresolved_chunks
from drs_desktop.domain.execution_state import ChunkStatus, ServerStatus

from .fake_drs import Harness
from .helpers import T0, chain, seconds, sid

TWO_CHUNKS = {"limits": Limits(max_servers_per_job=2), "reconcile_delay": seconds(15)}


def test_a_crash_after_the_intent_reconciles_before_any_start() -> None:
    h = Harness(chain(4, **TWO_CHUNKS))
    h.start_outcomes = ["crash-launched"]
    h.step()  # 1.1 launched in DRS, but the runner died before journaling the job; 1.2 was never sent
    assert [json.loads(line)["type"] for line in h.journal] == ["StartRequested", "RunnerRestarted"]
    assert h.state.chunks["1.1"].status is ChunkStatus.UNCERTAIN
    assert h.state.audit[-1].action == "runner restarted"
    assert h.decide() == (WakeAt(at=T0 + seconds(15)),)  # DRS's listing gets time to catch up
    h.now = T0 + seconds(15)
    commands = [c for c in h.decide() if not isinstance(c, WakeAt)]
    assert commands == [Reconcile(chunk_ids=("1.1",), since=T0 - RECONCILE_SKEW)]
    h.step()
    job = h.drs.job_of("s-00000000000000001")
    assert h.state.chunks["1.1"].job_id == job
    assert h.state.servers[sid(1)].status is ServerStatus.LAUNCHING
    assert [c.chunk_id for c in h.decide() if isinstance(c, StartJob)] == ["1.2"]


def test_a_journal_ending_with_the_intent_is_reconciled_even_without_the_restart_marker() -> None:
    h = Harness(chain(2, reconcile_delay=seconds(15)))
    h.record(StartRequested(chunk_id="1.1", at=T0))
    state = h.replayed()
    assert state.chunks["1.1"].status is ChunkStatus.START_REQUESTED
    commands = decide(state, T0 + seconds(15))
    assert not any(isinstance(c, StartJob) for c in commands)
    assert Reconcile(chunk_ids=("1.1",), since=T0 - RECONCILE_SKEW) in commands


def test_a_crash_before_the_intent_leaves_nothing_to_reconcile() -> None:
    h = Harness(chain(2))
    h.start_outcomes = ["crash-before"]
    h.step()
    assert [json.loads(line)["type"] for line in h.journal] == ["RunnerRestarted"]
    assert unresolved_chunks(h.state) == ()
    assert [c.chunk_id for c in h.decide() if isinstance(c, StartJob)] == ["1.1"]


def test_an_ambiguous_failure_blocks_every_start_until_reconciled() -> None:
    h = Harness(chain(4, **TWO_CHUNKS))
    h.start_outcomes = ["timeout-not-launched", "ok"]
    commands = h.step()
    assert [c.chunk_id for c in commands if isinstance(c, StartJob)] == ["1.1", "1.2"]
    assert h.state.chunks["1.1"].status is ChunkStatus.UNCERTAIN
    h.now += seconds(20)
    commands = h.decide()
    assert not any(isinstance(c, StartJob) for c in commands)
    assert Reconcile(chunk_ids=("1.1",), since=T0 - RECONCILE_SKEW) in commands
    assert any(isinstance(c, PollJobs) for c in commands)  # watching goes on meanwhile
    h.step()
    chunk = h.state.chunks["1.1"]
    assert (chunk.status, chunk.failures) == (ChunkStatus.QUEUED, 1)  # nothing launched: safe to start again
    h.now = chunk.not_before or h.now
    (again,) = [c for c in h.decide() if isinstance(c, StartJob)]
    assert (again.chunk_id, again.attempt, again.tags["drs-desktop:attempt"]) == ("1.1", 2, "2")


def test_an_ambiguous_failure_that_did_launch_is_adopted_not_repeated() -> None:
    h = Harness(chain(2))
    h.start_outcomes = ["timeout-launched"]
    h.step()
    h.now += seconds(20)
    h.step()
    assert h.state.chunks["1.1"].status is ChunkStatus.STARTED
    assert len(h.sent) == 1 and len(h.drs.jobs) == 1


def test_late_or_duplicate_answers_change_nothing() -> None:
    h = Harness(chain(2))
    h.step()
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
    listed = [
        ("drsjob-3", job_tags("exec-2", 1, "2.1", 1)),  # another execution's chunk 2.1
        ("drsjob-2", tags),
        ("drsjob-1", job_tags("exec-1", 0, "1.1", 1)),
    ]
    assert reconcile_match("2.1", "exec-1", [], listed) == "drsjob-2"
    assert reconcile_match("2.1", "exec-1", ["drsjob-2"], listed) is None  # already ours: not a new launch
    assert reconcile_match("3.1", "exec-1", [], listed) is None


def full_run_journal() -> Harness:
    h = Harness(chain(3, 2, **TWO_CHUNKS))
    h.start_outcomes = ["ok", "timeout-launched", "ok", "timeout-not-launched"]
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    return h


def test_replaying_every_prefix_never_fails_and_never_starts_while_unresolved() -> None:
    h = full_run_journal()
    events = [event_from_json(json.loads(line)) for line in h.journal]
    assert h.state.finished is not None
    state = h.replayed(0)
    for index, event in enumerate(events):
        snapshot = copy.deepcopy(state)
        state = apply(state, event)
        assert snapshot == h.replayed(index)  # apply never mutates its input
        if unresolved_chunks(state):
            assert not any(isinstance(c, StartJob) for c in decide(state, event.at + seconds(60)))
    assert state == h.state
