"""Polling: one DescribeJobs for every job, logs only on change, an adaptive pace, backoff on throttling."""

from __future__ import annotations

from datetime import timedelta

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import FetchJobLog, PollJobs, StartJob, WakeAt
from drs_desktop.domain.engine.decide import next_poll_at
from drs_desktop.domain.engine.events import PollFailed, StartFailed, Throttled
from drs_desktop.domain.engine.polling import (
    PollSettings,
    PollState,
    backoff_delay,
    jitter,
    poll_due_at,
    poll_interval,
)

from .conftest import Shipped
from .helpers import T0, chain, seconds, sid

BASE = PollSettings(base_interval=seconds(30))


def test_the_interval_is_fast_after_a_change_and_slows_down_to_four_times_base() -> None:
    assert poll_interval(BASE, 0) == seconds(10)
    assert poll_interval(BASE, 1) == poll_interval(BASE, 2) == seconds(30)
    assert poll_interval(BASE, 3) == seconds(45)
    assert poll_interval(BASE, 5) == seconds(75)
    assert poll_interval(BASE, 8) == poll_interval(BASE, 50) == seconds(120)


def test_a_fixed_interval_never_adapts() -> None:
    fixed = PollSettings(fixed_interval=seconds(45))
    assert {poll_interval(fixed, quiet) for quiet in range(10)} == {seconds(45)}


def test_due_time_respects_not_before() -> None:
    poll = PollState(last_poll_at=T0, quiet_polls=1, not_before=T0 + seconds(90))
    assert poll_due_at(BASE, poll, T0) == T0 + seconds(90)
    assert poll_due_at(BASE, PollState(), T0) == T0  # never polled: at once


def test_jitter_is_deterministic_and_spread() -> None:
    assert jitter("exec-1", 3) == jitter("exec-1", 3)
    values = {jitter(f"exec-{i}", 1) for i in range(50)}
    assert len(values) == 50 and all(0 <= v < 1 for v in values)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    delays = [backoff_delay(BASE, n, "seed") for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        step = min(BASE.backoff_max, BASE.backoff_initial * 2 ** (n - 1))
        assert step / 2 <= delay <= step
    assert max(delays) <= BASE.backoff_max
    assert backoff_delay(BASE, 0, "seed") == timedelta(0)


def test_one_poll_covers_every_active_job(shipped: Shipped) -> None:
    h = shipped(chain(3, limits=Limits(max_servers_per_job=1)))
    h.act()
    h.advance(seconds(60))
    polls = [c for c in h.decide() if isinstance(c, PollJobs)]
    assert len(polls) == 1 and len(polls[0].job_ids) == 3
    assert set(polls[0].job_ids) == set(h.state.jobs)


def test_the_pace_follows_the_jobs(shipped: Shipped) -> None:
    h = shipped(chain(2, polling=BASE))
    h.act()  # the job starts at T0
    assert next_poll_at(h.state, h.now) == T0 + seconds(10)
    h.advance_to(T0 + seconds(10))
    h.act()  # nothing changed yet (PENDING as at the start)
    assert next_poll_at(h.state, h.now) == h.now + seconds(30)
    for _ in range(5):
        h.poll()
    assert next_poll_at(h.state, h.now) == h.now + seconds(30) * 3  # six quiet polls: 1 + 0.5 * (6 - 2)
    h.by_hand.progress(h.job_of_chunk("1.1"), sid(1), "SNAPSHOT_START")
    h.poll()
    assert next_poll_at(h.state, h.now) == h.now + seconds(10)  # a phase changed: look again soon


def test_job_logs_are_fetched_only_for_jobs_that_changed(shipped: Shipped) -> None:
    h = shipped(chain(2, limits=Limits(max_servers_per_job=1)))
    h.act()
    first, second = h.job_of_chunk("1.1"), h.job_of_chunk("1.2")
    h.poll()
    assert not any(isinstance(c, FetchJobLog) for c in h.decide())
    h.by_hand.progress(first, sid(1), "SNAPSHOT_START")
    h.poll()
    assert [c for c in h.decide() if isinstance(c, FetchJobLog)] == [FetchJobLog(job_id=first)]
    h.step()
    assert not any(isinstance(c, FetchJobLog) for c in h.decide())
    assert second in h.state.jobs


def test_throttling_holds_every_call_until_retry_after(shipped: Shipped) -> None:
    h = shipped(chain(2, 1, polling=BASE))
    h.act()
    h.advance(seconds(10))
    h.backend.faults.throttle("DescribeJobs", retry_after=40, count=1)
    h.poll()
    assert isinstance(h.events()[-1], Throttled)
    until = h.now + seconds(40)
    assert h.state.poll.not_before == until
    h.advance(seconds(39))
    assert h.decide() == (WakeAt(at=until),)
    h.advance_to(until)
    assert any(isinstance(c, PollJobs) for c in h.decide())


def test_repeated_failures_back_off_exponentially_and_a_success_resets(shipped: Shipped) -> None:
    h = shipped(chain(1, polling=BASE))
    h.act()
    h.backend.faults.server_errors("DescribeJobs", status=503, count=4)
    waits = []
    for _ in range(4):
        h.poll()  # it fails with a 503
        assert isinstance(h.events()[-1], PollFailed)
        until = h.state.poll.not_before
        assert until is not None
        waits.append(until - h.now)
    assert waits == [backoff_delay(BASE, n, "exec-1") for n in range(1, 5)]
    assert waits[3] > waits[0]
    assert h.state.poll.last_error == "InternalServerException"
    h.poll()
    assert (h.state.poll.failures, h.state.poll.last_error) == (0, "")


def test_replay_rebuilds_the_same_backoff(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.act()
    h.backend.faults.server_errors("DescribeJobs", count=1)
    h.poll()
    h.backend.faults.throttle("DescribeJobs", retry_after=1, count=1)
    h.poll()
    assert [type(e).__name__ for e in h.events()[-2:]] == ["PollFailed", "Throttled"]
    assert h.replayed() == h.state


def test_a_throttled_start_also_pauses_reads(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.start_outcomes = ["refuse:ThrottlingException:20"]
    h.step()
    assert h.events()[-1] == StartFailed(
        chunk_id="1.1", reason="ThrottlingException", definite=True, at=T0, retry_after=20
    )
    assert h.state.poll.not_before == T0 + seconds(20)
    h.advance_to(T0 + seconds(19))
    assert not any(isinstance(c, StartJob) for c in h.decide())


def test_a_fixed_interval_polls_at_that_pace(shipped: Shipped) -> None:
    h = shipped(chain(1, polling=PollSettings(fixed_interval=seconds(45))))
    h.act()
    assert next_poll_at(h.state, h.now) == T0 + seconds(45)
    h.poll()
    assert h.now == T0 + seconds(45)
    assert next_poll_at(h.state, h.now) == T0 + seconds(90)
