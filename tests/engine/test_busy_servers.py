"""A server busy in another job (issue 10, item 1), end to end through the shipped runner and the
simulator's backend: another tool's job holds a server when the wave becomes ready; the run waits
without spending start attempts, shows the holder, looks again on a backing-off timer, starts within one
look after the holder ends, and succeeds. See ``domain.engine.busy``."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from drs_desktop.domain.engine.busy import LOAD_LOOK_MAX
from drs_desktop.domain.engine.commands import TAG_ATTEMPT, TAG_CHUNK, TAG_EXECUTION
from drs_desktop.domain.engine.controls import available_controls
from drs_desktop.domain.engine.events import (
    Cancel,
    Event,
    ExternalLoad,
    Outcome,
    Reconciled,
    SkipWave,
    StartFailed,
    StartRequested,
    StartsReconciled,
)
from drs_desktop.domain.engine.reducer import apply, control_error, initial_state
from drs_desktop.domain.engine.state import ChunkStatus, ServerStatus
from drs_desktop.domain.views.progress import ProgressTracker

from .conftest import Shipped
from .helpers import T0, chain, minutes, sid
from .shipped_run import ShippedRun

HELD_FOR = minutes(25)


def held_run(shipped: Shipped, *, servers: int = 2) -> tuple[ShippedRun, str]:
    """A one-wave drill whose first server another tool's drill holds from the start (for the test to
    end); this run's own jobs run on the simulator's timeline."""
    h = shipped(chain(servers, wave_timeout=minutes(30)))
    other = h.start_external_job((sid(1),), tags={"owner": "team-b"})
    h.by_hand.hold_launches(False)
    return h, other


def looks(events: tuple[Event, ...] | list[Event]) -> list[ExternalLoad]:
    return [e for e in events if isinstance(e, ExternalLoad)]


def wait_until(h: ShippedRun, when: datetime) -> None:
    """Let the runner run (sleeping on the virtual clock) until ``when``."""
    h.run(until=lambda: h.now >= when)


def test_a_server_held_by_another_tool_waits_then_starts_and_the_run_succeeds(shipped: Shipped) -> None:
    h, other = held_run(shipped)
    wait_until(h, T0 + HELD_FOR)
    # DRS refused the first start (the server is in the other job): no attempt spent, nothing failed.
    refused = [e for e in h.events() if isinstance(e, StartFailed)]
    assert [(e.reason, e.definite) for e in refused] == [("ConflictException", True)]
    chunk = h.state.chunks["1.1"]
    assert (chunk.status, chunk.failures, chunk.attempt) == (ChunkStatus.QUEUED, 0, 1)
    assert {s.status for s in h.state.servers.values()} == {ServerStatus.PENDING}
    # Who holds it, since when, who started it: on the server, in the journal, in the progress view.
    held = h.state.servers[sid(1)].held_by
    assert held is not None and held.job_id == other and held.created_at == T0
    assert held.initiated_by == "START_DRILL" and held.tags == {"owner": "team-b"}
    assert h.state.servers[sid(2)].held_by is None
    snapshot = ProgressTracker().update(h.state, h.now)
    assert snapshot is not None
    row = snapshot.server(0, 0)
    assert row.waiting == f"waiting: held by job {other} (START_DRILL, since 12:00 UTC)"
    assert snapshot.waves[0].detail == f"waiting: 1 server held by job {other}"
    assert snapshot.controls.cancel and 0 in snapshot.controls.skip_waves
    # The holder ends; the chunk starts right after the first look that sees it gone.
    h.by_hand.complete(other)
    freed_at = h.now
    h.run(until=lambda: h.state.chunks["1.1"].status is ChunkStatus.STARTED)
    after = [e for e in h.events() if e.at >= freed_at]
    first_look = next(i for i, e in enumerate(after) if isinstance(e, ExternalLoad))
    look = after[first_look]
    assert isinstance(look, ExternalLoad)
    assert look.holders == () and look.at - freed_at <= LOAD_LOOK_MAX
    assert isinstance(after[first_look + 1], StartRequested)
    assert h.state.servers[sid(1)].held_until == look.at
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert {s.status for s in h.state.servers.values()} == {ServerStatus.LAUNCHED}
    assert h.state.chunks["1.1"].failures == 0
    assert [r for r in h.drs.refused if r[0] == "StartRecovery"] == [("StartRecovery", "ConflictException")]


def test_the_look_timer_backs_off_and_stays_bounded(shipped: Shipped) -> None:
    h, _other = held_run(shipped)
    wait_until(h, T0 + minutes(120))  # the holder never ends within it
    seen = looks(h.events())
    gaps = [b.at - a.at for a, b in pairwise(seen)]
    assert all(gap <= LOAD_LOOK_MAX for gap in gaps)
    assert gaps[:4] == sorted(gaps[:4]) and gaps[0] < timedelta(seconds=31)
    assert max(gaps) > minutes(4)  # it did slow down to minutes
    # 2 hours: a look at the Conflict, about 4 while backing off, then one every 4-5 minutes.
    assert 20 <= len(seen) <= 35
    # Nothing else reads DRS meanwhile (but the read of DRS's clock before the first start): the run has
    # no job of its own to poll.
    assert h.backend.request_counts().get("DescribeJobs", 0) == len(seen) + 1
    assert h.state.chunks["1.1"].failures == 0 and h.state.waves[0].timed_out_at is None


def test_a_conflict_from_a_job_started_after_the_look_keeps_the_chunk_queued(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.look_at_load()  # the account is free...
    other = h.start_external_job((sid(1),))  # ...then another tool starts a job before the call
    events = h.act()
    assert [type(e).__name__ for e in events[:3]] == ["StartRequested", "StartFailed", "ExternalLoad"]
    chunk = h.state.chunks["1.1"]
    assert chunk.status is ChunkStatus.QUEUED and chunk.failures == 0 and chunk.conflict_at is None
    held = h.state.servers[sid(1)].held_by
    assert held is not None and held.job_id == other
    assert h.starts() == []
    h.advance(minutes(20))
    h.by_hand.complete(other)
    h.run(until=lambda: h.state.chunks["1.1"].status is ChunkStatus.STARTED)
    assert h.state.chunks["1.1"].attempt == 2 and h.state.chunks["1.1"].failures == 0


def test_skip_the_wave_while_it_waits(shipped: Shipped) -> None:
    h, other = held_run(shipped)
    wait_until(h, T0 + minutes(5))
    skip = SkipWave(wave_index=0, at=h.now, by="op", reason="held by team B")
    assert control_error(h.state, skip) is None and 0 in available_controls(h.state, h.now).skip_waves
    h.record(skip)
    assert {s.status for s in h.state.servers.values()} == {ServerStatus.SKIPPED}
    h.by_hand.complete(other)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert sum(isinstance(e, StartRequested) for e in h.events()) == 1  # only the refused one


def test_cancel_while_it_waits(shipped: Shipped) -> None:
    h, _other = held_run(shipped)
    wait_until(h, T0 + minutes(5))
    cancel = Cancel(at=h.now, by="op")
    assert control_error(h.state, cancel) is None
    h.record(cancel)
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert {s.status for s in h.state.servers.values()} == {ServerStatus.CANCELLED}
    assert sum(isinstance(e, StartRequested) for e in h.events()) == 1


def test_a_restart_while_it_waits_keeps_the_holder(shipped: Shipped) -> None:
    h, other = held_run(shipped)
    wait_until(h, T0 + minutes(10))
    before = h.state
    h.crash()  # a new process reopens the execution from its journal
    assert h.state.servers[sid(1)].held_by == before.servers[sid(1)].held_by
    assert h.state.servers[sid(1)].held_by is not None
    assert h.state.waves[0].held_since == before.waves[0].held_since == T0
    assert (h.state.load_looked_at, h.state.load_looks) == (before.load_looked_at, before.load_looks)
    h.by_hand.complete(other)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED and h.state.chunks["1.1"].failures == 0


def test_a_job_of_this_chunk_holding_its_servers_is_adopted_never_started_again(shipped: Shipped) -> None:
    """A Conflict caused by this run's own launch that reconcile did not find: the look names the job
    (tagged for the chunk), and reconcile adopts it; no second StartRecovery."""
    h = shipped(chain(1))
    h.start_outcomes = ["refuse:ConflictException"]
    h.step()  # the refusal is journaled; now DRS turns out to hold a job tagged for this very chunk
    tags = {TAG_EXECUTION: "exec-1", TAG_CHUNK: "1.1", TAG_ATTEMPT: "1"}
    own = h.start_external_job((sid(1),), tags=tags)
    h.act()
    assert h.state.chunks["1.1"].status is ChunkStatus.UNCERTAIN  # reconcile, which comes first, decides
    h.run(until=lambda: h.state.chunks["1.1"].status is not ChunkStatus.UNCERTAIN)
    assert h.state.chunks["1.1"].status is ChunkStatus.STARTED and h.state.chunks["1.1"].job_id == own
    assert any(isinstance(e, StartsReconciled | Reconciled) for e in h.events())
    assert len(h.start_calls) == 1


def test_a_journal_written_before_busy_conflicts_replays_as_it_ran() -> None:
    """``StartFailed.busy`` and ``ExternalLoad.holders`` default off: an older journal's Conflicts spent
    an attempt each and its looks named no holder, and replaying it says so still."""
    state = initial_state(chain(1, max_start_attempts=2))
    for _ in range(2):
        state = apply(state, StartRequested(chunk_id="1.1", at=T0))
        state = apply(state, StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=T0))
    state = apply(state, ExternalLoad(active_jobs=1, busy_server_ids=(sid(1),), at=T0))
    assert state.chunks["1.1"].status is ChunkStatus.START_FAILED and state.chunks["1.1"].failures == 2
    assert state.servers[sid(1)].held_by is None and state.waves[0].held_since is None
