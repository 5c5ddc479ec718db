"""ExecutionSession and ProgressTracker: snapshots built cheaply and correctly from a real execution on the
simulator (rows reused, deltas exact, log lines once, ETA, controls from the domain's rules), and the
session's loop: the runner's own ``run()``, woken by a control, ended when nothing is left to do."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.domain.engine.controls import (
    AvailableControls,
    ControlAction,
    ControlRequest,
    available_controls,
    control_event,
)
from drs_desktop.domain.engine.events import ApprovalGranted, Pause, Resume
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, ServerState, ServerStatus, WavePhase
from drs_desktop.domain.views.progress import ProgressSnapshot, ProgressTracker
from drs_desktop.domain.views.progress_stages import (
    current_stage,
    milestones,
    remaining,
    stage_durations,
    stage_medians,
    wave_eta,
)
from drs_desktop.services.driver_lock import DriverBusyError
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.runner import MAX_SLEEP_SECONDS, ControlRefused
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, instant_pace, step_until

# The shared fixtures (see execution_helpers), registered in this module.
sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_snapshots_reuse_unchanged_rows_and_name_the_changed_ones(
    services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    session = drill_session(services)
    first = session.snapshot()
    assert first.delta.full and first.sequence == 1
    snapshots = step_until(session, sim, lambda s: s.status is ExecutionStatus.WAITING_APPROVAL)
    previous = first
    for snapshot in snapshots:
        assert not snapshot.delta.full
        changed = set(snapshot.delta.servers)
        for wave_index, rows in enumerate(snapshot.servers):
            for row_index, row in enumerate(rows):
                old = previous.servers[wave_index][row_index]
                if (wave_index, row_index) in changed:
                    assert row != old
                else:
                    assert row is old, "an unchanged server keeps its row object"
        for wave in snapshot.waves:
            assert (wave.index in snapshot.delta.waves) == (wave != previous.waves[wave.index])
        previous = snapshot


def test_nothing_new_means_no_snapshot_and_a_second_later_the_clocks_move(
    services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    session = drill_session(services)
    tracker = ProgressTracker()
    state = session.state
    first = tracker.update(state, T0)
    assert first is not None
    assert tracker.update(state, T0) is None
    assert tracker.update(state, T0 + timedelta(milliseconds=400)) is None, "same whole second"
    later = tracker.update(state, T0 + timedelta(seconds=1))
    assert later is not None and later.delta.servers == ()
    assert later.delta.waves == (0,), "only the running wave's clock moved"
    assert later.servers is first.servers
    assert tracker.update(state, T0 + timedelta(seconds=1), force=True) is not None


def test_job_log_lines_arrive_once_with_hostnames(
    services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    session = drill_session(services)
    snapshots = step_until(session, sim, lambda s: s.waves[0].phase is not WavePhase.LAUNCHING)
    lines = [line for s in snapshots for line in s.log if line.server_id]
    keys = [(line.server_id, line.event) for line in lines]
    assert len(keys) == len(set(keys)), "each job-log event is shown once"
    events = [line.event for line in lines]
    assert events[:2] == ["SNAPSHOT_START", "SNAPSHOT_END"]
    assert all("shop-db-01" in line.text for line in lines)
    notes = [line.text for s in snapshots for line in s.log if not line.server_id]
    assert any(text.startswith("job drsjob-") for text in notes)
    assert any("launched as" in text for text in notes)


def test_the_wave_eta_comes_from_observed_stage_durations(
    services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    session = drill_session(services)
    snapshots = step_until(session, sim, lambda s: bool(s.approvals))
    assert all(s.waves[0].eta is None for s in snapshots if s.waves[0].phase is WavePhase.LAUNCHING)
    session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    snapshots = step_until(session, sim, lambda s: s.waves[1].phase in (WavePhase.AFTER, WavePhase.COMPLETED))
    etas = [s.waves[1].eta for s in snapshots if s.waves[1].phase is WavePhase.LAUNCHING]
    known = [eta for eta in etas if eta is not None]
    assert known, "wave 1 finished every stage, so wave 2 has an estimate"
    assert known[-1] <= known[0]
    assert all(s.waves[1].eta is None for s in snapshots if s.waves[1].phase is WavePhase.COMPLETED)


def test_controls_are_what_the_domain_accepts(services: ExecutionServices, sim: EmbeddedSimulator) -> None:
    session = drill_session(services)
    state = session.state
    controls = available_controls(state, T0)
    assert controls.pause and controls.cancel and controls.cancel_terminate and not controls.resume
    assert controls.skip_waves == (0, 1, 2) and controls.retry_waves == ()
    for action, expected in ((ControlAction.PAUSE, True), (ControlAction.RESUME, False)):
        event = control_event(ControlRequest(action), state, at=T0, by="alice")
        assert (control_error(state, event) is None) is expected
        assert controls.allows(action) is expected
    session.submit(Pause(at=sim.clock.now(), by="alice"))
    paused = step_until(session, sim, lambda s: s.status is ExecutionStatus.PAUSED)[-1]
    assert paused.controls.resume and not paused.controls.pause
    session.submit(Resume(at=sim.clock.now(), by="alice"))
    with pytest.raises(ControlRefused, match="not waiting for an approval"):
        session.submit(ControlRequest(ControlAction.APPROVE, wave_index=0))
    with pytest.raises(ControlRefused, match="needs a wave"):
        session.submit(ControlRequest(ControlAction.RETRY))
    assert AvailableControls().allows(ControlAction.CLEANUP) is False


def test_the_loop_ends_when_nothing_is_left_and_a_resumed_finish_does_not_finish_again(
    services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.approvals))
    assert session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    seen: list[ProgressSnapshot] = []
    result = session.drive(seen.append, pace=instant_pace(sim, 3600))
    assert result.outcome is not None and result.outcome.value == "SUCCEEDED"
    assert seen[-1].finished and session.ended, "drive returns once the engine has nothing left to do"
    assert session.submit(ControlRequest(ControlAction.CLEANUP)) is False, "an ended loop queues nothing"
    assert journal.get_execution(db, session.execution_id).outcome == "SUCCEEDED"
    assert services.unfinished() == []
    with pytest.raises(DriverBusyError, match=f"is being driven by pid {os.getpid()} on "):
        services.resume(session.execution_id)  # this session still holds the driver lock
    session.close()
    resumed = services.resume(session.execution_id)
    assert resumed.state == session.state
    events = len(journal.load_journal(db, session.execution_id))
    again = resumed.drive(seen.append)
    assert again.outcome is not None and again.outcome.value == "SUCCEEDED"
    assert len(journal.load_journal(db, session.execution_id)) == events, "nothing more to do: no event"

    # A cleanup for the ended loop: resumed again (as the desk does), then driven to its end.
    assert resumed.ended
    resumed.close()
    resumed = services.resume(session.execution_id)
    assert resumed.submit(ControlRequest(ControlAction.CLEANUP))
    resumed.drive(seen.append, pace=instant_pace(sim, 3600))
    assert seen[-1].drill_instances_running == 0 and resumed.ended
    resumed.close()


def test_a_control_wakes_a_sleeping_loop_at_once(
    services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    """The loop sleeps until the engine's next wake-up (here: none, it waits for an approval, so the
    runner's longest sleep); a control submitted from another thread ends that sleep at once."""
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.approvals))
    asleep = threading.Event()
    asked: list[float] = []

    def pace(seconds: float) -> float:  # virtual time stands still; the sleep is real
        asked.append(seconds)
        asleep.set()
        return seconds

    approved = threading.Event()
    session.runner.add_listener(
        lambda _b, _a, event: approved.set() if isinstance(event, ApprovalGranted) else None
    )
    thread = threading.Thread(target=session.drive, args=(lambda _s: None,), kwargs={"pace": pace})
    thread.start()
    try:
        assert asleep.wait(10)
        assert asked[-1] == MAX_SLEEP_SECONDS, "nothing to wake for but an operator"
        assert session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
        assert approved.wait(MAX_SLEEP_SECONDS / 3), "the control waited for the loop's wake-up"
    finally:
        session.stop()
        thread.join(10)
    assert not thread.is_alive(), "stop wakes the sleeping loop and ends it"
    session.close()


def test_a_recovery_request_carries_the_target_and_settings(
    services: ExecutionServices, sim: EmbeddedSimulator
) -> None:
    from drs_desktop.domain.engine.controls import RunChoice

    request = services.request_for(RunChoice("Shop", Mode.RECOVERY, point_in_time=T0))
    assert request.mode is Mode.RECOVERY and request.point_in_time == T0
    assert request.poll_interval_seconds == 30
    assert request.wave_timeout_minutes == 120
    assert request.target == {"endpoint_url": sim.endpoint_url, "profile": None, "region": sim.region}


# -- the stage arithmetic, on hand-made servers


def server(**fields: object) -> ServerState:
    base = ServerState(
        server_id="s-00000000000000001", wave_index=0, critical=True, post_launch_expected=False
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_stages_durations_and_remaining_time() -> None:
    done = server(
        status=ServerStatus.LAUNCHED,
        job_started_at=at(0),
        launched_at=at(10),
        phase_times={
            "SNAPSHOT_START": at(1),
            "SNAPSHOT_END": at(2),
            "CONVERSION_START": at(2),
            "CONVERSION_END": at(7),
            "LAUNCH_START": at(7),
        },
    )
    times = milestones(done)
    assert stage_durations(times) == (60.0, 60.0, 300.0, 180.0)
    busy = server(
        status=ServerStatus.LAUNCHING,
        job_started_at=at(0),
        phase_times={"SNAPSHOT_START": at(1), "SNAPSHOT_END": at(3)},
    )
    stage = current_stage(milestones(busy))
    assert stage == (2, at(3)), "after SNAPSHOT_END the conversion stage has begun"
    medians = stage_medians([stage_durations(times), stage_durations(milestones(busy))])
    assert medians == (60.0, 90.0, 300.0, 180.0)
    # In conversion for 1 minute: 4 more minutes of it, then 3 of launch.
    assert remaining(ServerStatus.LAUNCHING, 2, at(3), medians, at(4)) == 420.0
    assert remaining(ServerStatus.PENDING, None, None, medians, at(4)) == 630.0
    assert remaining(ServerStatus.LAUNCHED, None, None, medians, at(4)) == 0.0
    assert remaining(ServerStatus.LAUNCHING, 2, at(3), (60.0, 90.0, None, 180.0), at(4)) is None
    eta = wave_eta([(ServerStatus.LAUNCHING, 2, at(3)), (ServerStatus.PENDING, None, None)], medians, at(4))
    assert eta == timedelta(seconds=630)
    assert wave_eta([(ServerStatus.LAUNCHING, 0, at(3))], (None,) * 4, at(4)) is None
