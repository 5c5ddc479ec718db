"""Waves start as soon as their dependencies hold; approvals and waits gate them; pause stops launches."""

from __future__ import annotations

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import (
    AwaitApproval,
    Finish,
    PollJobs,
    Record,
    WakeAt,
)
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    ApprovalRejected,
    Outcome,
    Pause,
    Resume,
    SkipWave,
    StepPhase,
    Tick,
)
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus, WavePhase
from drs_desktop.domain.plan.model import ApprovalStep, WaitStep

from .conftest import Shipped
from .helpers import T0, chain, minutes, seconds, sid, sids, spec, wave
from .shipped_run import ShippedRun


def started_chunks(h: ShippedRun) -> list[str]:
    return h.started()


def waiting_for(h: ShippedRun) -> list[type]:
    """What decide says once the pending reads (job logs, ...) are done: the waits only."""
    h.act()
    return [type(c) for c in h.decide() if isinstance(c, AwaitApproval)]


def test_a_dependent_wave_starts_the_moment_its_dependency_completes(shipped: Shipped) -> None:
    h = shipped(chain(2, 3))
    assert started_chunks(h) == ["1.1"]
    assert h.state.waves[1].phase is WavePhase.BLOCKED
    h.advance(minutes(12))
    h.launch_chunk("1.1")
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert h.state.waves[1].launch_started_at == h.now  # no fixed delay between waves
    assert started_chunks(h) == ["2.1"]


def test_parallel_waves_start_together_and_a_join_waits_for_both(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("db", sids(1, 2)),
            wave("cache", sids(3, 2)),
            wave("app", sids(5, 2), depends_on=("db", "cache")),
        )
    )
    assert started_chunks(h) == ["1.1", "2.1"]
    h.launch_chunk("1.1")
    assert started_chunks(h) == []
    assert h.state.waves[2].phase is WavePhase.BLOCKED
    h.launch_chunk("2.1")
    assert started_chunks(h) == ["3.1"]


def test_a_wave_after_a_later_listed_wave_waits_for_it(shipped: Shipped) -> None:
    """depends_on is a graph, not the list order."""
    h = shipped(spec(wave("first", sids(1, 1), depends_on=("second",)), wave("second", sids(2, 1))))
    assert started_chunks(h) == ["2.1"]
    h.launch_chunk("2.1")
    assert started_chunks(h) == ["1.1"]


def test_skipping_a_wave_lets_its_dependents_go_on(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 1), before=(ApprovalStep(message="go?"),)),
            wave("w2", sids(2, 1), depends_on=("w1",)),
        )
    )
    assert waiting_for(h) == [AwaitApproval]
    h.record(SkipWave(wave_index=0, at=h.now, by="bob", reason="not needed"))
    assert h.state.waves[0].phase is WavePhase.SKIPPED
    assert h.state.servers[sid(1)].status is ServerStatus.SKIPPED
    assert started_chunks(h) == ["2.1"]
    assert h.state.audit[-1].action == "skip" and h.state.audit[-1].by == "bob"


def test_an_approval_gates_the_launch_and_records_who_and_when(shipped: Shipped) -> None:
    h = shipped(spec(wave("db", sids(1, 1), before=(ApprovalStep(message="Shut the old site down?"),))))
    commands = h.decide()
    assert commands == (
        AwaitApproval(
            wave_index=0,
            wave_name="db",
            phase=StepPhase.BEFORE,
            step_index=0,
            message="Shut the old site down?",
            requested_at=T0,
        ),
    )
    assert execution_status(h.state) is ExecutionStatus.WAITING_APPROVAL
    h.advance(minutes(7))
    h.record(ApprovalGranted(wave_index=0, phase=StepPhase.BEFORE, step_index=0, by="carol", at=h.now))
    approval = h.state.waves[0].approvals[0]
    assert (approval.by, approval.requested_at, approval.decided_at, approval.granted) == (
        "carol",
        T0,
        h.now,
        True,
    )
    assert started_chunks(h) == ["1.1"]
    assert h.state.servers[sid(1)].queued_at == h.now


def test_an_approval_for_another_step_is_ignored(shipped: Shipped) -> None:
    h = shipped(spec(wave("db", sids(1, 1), before=(ApprovalStep(message="a"), ApprovalStep(message="b")))))
    h.record(ApprovalGranted(wave_index=0, phase=StepPhase.BEFORE, step_index=1, by="carol", at=h.now))
    assert h.state.waves[0].step_index == 0 and h.state.waves[0].approvals == ()


def test_a_rejection_stops_the_run_and_it_ends_failed(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 1)),
            wave("w2", sids(2, 1), depends_on=("w1",), before=(ApprovalStep(message="go?"),)),
        )
    )
    h.act()
    h.launch_chunk("1.1")
    assert waiting_for(h) == [AwaitApproval]
    h.record(
        ApprovalRejected(
            wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="carol", at=h.now, comment="no"
        )
    )
    assert h.state.servers[sid(2)].status is ServerStatus.CANCELLED
    h.run()
    assert h.state.finished is Outcome.FAILED and h.finishes() == 1
    assert h.state.waves[1].approvals[0].granted is False


def test_a_timed_wait_wakes_the_runner_and_then_launches(shipped: Shipped) -> None:
    h = shipped(spec(wave("db", sids(1, 1), before=(WaitStep(minutes=5),))))
    assert h.decide() == (WakeAt(at=T0 + minutes(5)),)
    h.advance_to(T0 + minutes(5) - seconds(1))
    assert h.decide() == (WakeAt(at=T0 + minutes(5)),)
    h.advance_to(T0 + minutes(5))
    assert h.decide() == (Record(event=Tick(at=h.now)),)  # time passing goes through the journal
    h.step()
    assert isinstance(h.events()[-1], Tick)
    assert started_chunks(h) == ["1.1"]
    record = h.state.waves[0].steps[0]
    assert (record.kind, record.started_at, record.ended_at) == ("wait", T0, T0 + minutes(5))


def test_after_steps_run_before_the_wave_counts_as_completed(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 1), after=(WaitStep(minutes=2), ApprovalStep(message="app ok?"))),
            wave("w2", sids(2, 1), depends_on=("w1",)),
        )
    )
    h.act()
    h.launch_chunk("1.1")
    assert h.state.waves[0].phase is WavePhase.AFTER
    h.advance(minutes(2))
    h.step()  # the Tick
    assert isinstance(h.events()[-1], Tick)
    assert waiting_for(h) == [AwaitApproval]
    h.record(ApprovalGranted(wave_index=0, phase=StepPhase.AFTER, step_index=1, by="erin", at=h.now))
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert started_chunks(h) == ["2.1"]


def test_pause_stops_new_launches_but_not_polling(shipped: Shipped) -> None:
    h = shipped(chain(1, 1))
    h.act()
    h.record(Pause(at=h.now, by="alice"))
    assert execution_status(h.state) is ExecutionStatus.PAUSED
    h.advance(seconds(30))
    assert [type(c) for c in h.decide() if not isinstance(c, WakeAt)] == [PollJobs]
    h.launch_chunk("1.1")
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert h.state.waves[1].phase is WavePhase.BLOCKED  # no new wave while paused
    assert started_chunks(h) == []
    h.advance(minutes(3))
    h.record(Resume(at=h.now, by="alice"))
    assert h.state.waves[1].started_at == h.now
    assert started_chunks(h) == ["2.1"]


def test_pause_also_holds_queued_chunks_of_a_running_wave(shipped: Shipped) -> None:
    h = shipped(chain(3, limits=Limits(max_servers_per_job=1, max_concurrent_jobs=1)))
    assert started_chunks(h) == ["1.1"]
    h.record(Pause(at=h.now, by="alice"))
    h.launch_chunk("1.1")
    assert started_chunks(h) == []
    h.record(Resume(at=h.now, by="alice"))
    assert started_chunks(h) == ["1.2"]


def test_a_wait_elapsing_while_paused_completes_but_the_next_step_waits(shipped: Shipped) -> None:
    h = shipped(spec(wave("db", sids(1, 1), before=(WaitStep(minutes=1), ApprovalStep(message="go?")))))
    h.record(Pause(at=h.now, by="alice"))
    h.advance(minutes(2))
    h.act()
    wave_state = h.state.waves[0]
    assert wave_state.step_index == 1 and wave_state.step_started_at is None
    assert not any(isinstance(c, AwaitApproval) for c in h.decide())
    h.record(Resume(at=h.now, by="alice"))
    assert waiting_for(h) == [AwaitApproval]


def test_an_empty_wave_completes_at_once(shipped: Shipped) -> None:
    h = shipped(spec(wave("empty", ()), wave("w2", sids(1, 1), depends_on=("empty",))))
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert started_chunks(h) == ["2.1"]


def test_a_wave_completes_without_its_optional_servers_but_the_run_waits_for_them(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("w1", sids(1, 2), optional=(sid(2),)),
            wave("w2", sids(3, 1), depends_on=("w1",)),
        )
    )
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.launch(job, sid(1))
    h.poll()
    assert h.state.waves[0].phase is WavePhase.COMPLETED
    assert started_chunks(h) == ["2.1"]
    h.launch_chunk("2.1")
    assert h.state.servers[sid(2)].status is ServerStatus.LAUNCHING
    assert h.state.finished is None and not any(isinstance(c, Finish) for c in h.decide())
    h.by_hand.finish(job)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
