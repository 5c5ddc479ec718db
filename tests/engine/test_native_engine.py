"""A run in DRS, event by event (``engine.native``): what the engine decides and shows from DRS's readings,
the operator's controls and the runner's restarts. Pure; every test replays its journal too."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from drs_desktop.domain.engine.commands import (
    Command,
    Finish,
    PollNative,
    Record,
    SendNativeControl,
    StartNative,
)
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import (
    Cancel,
    Event,
    JobServerView,
    JobsObserved,
    JobStatus,
    JobView,
    LaunchStatus,
    PollFailed,
    RetryFailed,
    RunnerRestarted,
    SkipWave,
    TakenOver,
)
from drs_desktop.domain.engine.native_events import (
    NativeControlFailed,
    NativeControlSent,
    NativeObserved,
    NativeServerSeen,
    NativeStarted,
    NativeStartRequested,
    NativeStepSeen,
)
from drs_desktop.domain.engine.native_state import NativeRunSpec, NativeStepMap
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.reducer import apply, control_error, initial_state, replay
from drs_desktop.domain.engine.state import (
    ExecutionSpec,
    ExecutionState,
    ExecutionStatus,
    ServerStatus,
    WavePhase,
)
from drs_desktop.domain.plan.model import WaitStep

from .helpers import T0, minutes, sid, spec, wave

ARN = "arn:aws:drs:us-east-1:111122223333:recovery-plan-execution/rpe-1"
DB, APP = sid(1), sid(2)


def native_spec() -> ExecutionSpec:
    """Two waves: "db" (one server, a five-minute wait after it), then "app" (one server)."""
    base = spec(
        wave("db", (DB,), after=(WaitStep(minutes=5),)),
        wave("app", (APP,), depends_on=("db",)),
    )
    steps = (
        NativeStepMap(index=1, name="db", kind="SERVER", wave_index=0),
        NativeStepMap(index=2, name="wait", kind="WAIT", wave_index=0, phase="AFTER", wait_minutes=5),
        NativeStepMap(index=3, name="app", kind="SERVER", wave_index=1),
    )
    native = NativeRunSpec(
        plan_arn="arn:aws:drs:us-east-1:111122223333:recovery-plan/p", client_token="t", steps=steps
    )
    return replace(base, native=native)


def step(index: int, status: str, job: str = "", at: datetime | None = None) -> NativeStepSeen:
    if index == 2:
        return NativeStepSeen(index=2, arn=f"{ARN}/2", name="wait", kind="WAIT", status=status, updated_at=at)
    server = DB if index == 1 else APP
    return NativeStepSeen(
        index=index,
        arn=f"{ARN}/{index}",
        name="db" if index == 1 else "app",
        kind="SERVER",
        status=status,
        servers=(NativeServerSeen(server_id=server, job_id=job),),
        updated_at=at,
    )


def reading(
    status: str, s1: str, s2: str, s3: str, at: datetime, jobs: tuple[str, str] = ("", "")
) -> NativeObserved:
    return NativeObserved(
        status=status, steps=(step(1, s1, jobs[0], at), step(2, s2, at=at), step(3, s3, jobs[1], at)), at=at
    )


def job(job_id: str, server: str, launch: LaunchStatus, status: JobStatus = JobStatus.COMPLETED) -> JobView:
    instance = f"i-{job_id}" if launch is LaunchStatus.LAUNCHED else None
    seen = JobServerView(server_id=server, launch_status=launch, recovery_instance_id=instance)
    return JobView(job_id=job_id, status=status, servers=(seen,))


@dataclass
class Run:
    """A run in DRS and its journal: every event is applied and kept, and the journal replays to the
    same state."""

    spec: ExecutionSpec = field(default_factory=native_spec)
    events: list[Event] = field(default_factory=list)
    state: ExecutionState = field(init=False)

    def __post_init__(self) -> None:
        self.state = initial_state(self.spec)

    def record(self, *events: Event) -> ExecutionState:
        for event in events:
            self.events.append(event)
            self.state = apply(self.state, event)
        return self.state

    def control(self, event: Event) -> None:
        refused = control_error(self.state, event)
        assert refused is None, refused
        self.record(event)

    def decide(self, at: datetime) -> tuple[Command, ...]:
        return decide(self.state, at)

    def replays(self) -> bool:
        return replay(self.spec, self.events) == self.state


def started(at: datetime = T0) -> Run:
    run = Run()
    run.record(NativeStartRequested(at=at), NativeStarted(execution_arn=ARN, at=at))
    return run


def held_on_app(run: Run, at: datetime) -> None:
    """The db wave launched; DRS failed the app step (its server did not launch) and the execution."""
    run.record(
        reading("IN_PROGRESS", "EXECUTING", "NOT_STARTED", "NOT_STARTED", at, ("job-1", "")),
        JobsObserved(jobs=(job("job-1", DB, LaunchStatus.LAUNCHED),), at=at),
        reading("FAILED", "COMPLETED", "COMPLETED", "FAILED", at + minutes(10), ("job-1", "job-2")),
        JobsObserved(jobs=(job("job-2", APP, LaunchStatus.FAILED),), at=at + minutes(10)),
    )
    assert execution_status(run.state) is ExecutionStatus.HELD


def sent(commands: tuple[Command, ...]) -> list[str]:
    return [c.kind for c in commands if isinstance(c, SendNativeControl)]


# -- cancel


def test_a_cancel_after_a_retry_whose_answer_was_lost_still_cancels_in_drs() -> None:
    """The retry went through (its answer lost), then the operator cancelled: DRS runs again, so the
    cancel must go to DRS, and the run must not end SUCCEEDED when DRS completes the rest of the plan."""
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(20)
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    assert sent(run.decide(at)) == ["retry"]
    run.record(NativeControlFailed(kind="retry", step_index=3, reason="timeout", definite=False, at=at))
    run.control(Cancel(at=at + minutes(1), by="alice"))
    # DRS did retry: the app step runs again.
    later = at + minutes(2)
    run.record(reading("IN_PROGRESS", "COMPLETED", "COMPLETED", "EXECUTING", later, ("job-1", "job-3")))
    assert sent(run.decide(later)) == ["cancel"], "the operator's cancel never reaches DRS"
    assert run.replays()


def test_a_retry_queued_before_a_cancel_is_not_sent_after_it() -> None:
    """Retry then cancel before the runner sent the retry: the retry must not go out after the cancel
    (it would relaunch servers of a run the operator stopped)."""
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(20)
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    run.control(Cancel(at=at, by="alice"))
    assert "retry" not in sent(run.decide(at))
    assert [a.action for a in run.state.audit][-2:] == ["retry given up", "cancel"]
    assert run.replays()


def test_a_cancelled_held_run_reads_drs_before_it_ends_failed() -> None:
    """Cancel of a held run ends it FAILED (DRS refuses to cancel a FAILED execution), but only once a
    reading after the cancel shows DRS still FAILED: someone may have retried the step in the console."""
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(11)
    run.control(Cancel(at=at, by="alice"))
    commands = run.decide(at)
    assert not any(isinstance(c, Finish) for c in commands), "finished on a reading from before the cancel"
    assert any(isinstance(c, PollNative) for c in commands)
    # DRS was retried in the console meanwhile: the run is not over, and DRS is asked to cancel.
    run.record(reading("IN_PROGRESS", "COMPLETED", "COMPLETED", "EXECUTING", at, ("job-1", "job-3")))
    assert sent(run.decide(at)) == ["cancel"]
    assert run.replays()


def test_a_cancelled_held_run_still_failed_in_drs_ends_failed() -> None:
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(11)
    run.control(Cancel(at=at, by="alice"))
    run.record(reading("FAILED", "COMPLETED", "COMPLETED", "FAILED", at, ("job-1", "job-2")))
    finish = [c for c in run.decide(at) if isinstance(c, Finish)]
    assert [f.outcome.value for f in finish] == ["FAILED"]
    assert sent(run.decide(at)) == []
    assert run.replays()


# -- retry


def test_a_timed_out_step_is_not_retried_while_its_job_still_runs() -> None:
    """DRS timed the step out but its job goes on: a retry now would start a second job for servers
    the first may still launch (one job per server; a local run waits for the job to end too)."""
    run = started()
    at = T0 + minutes(5)
    run.record(
        reading("IN_PROGRESS", "EXECUTING", "NOT_STARTED", "NOT_STARTED", at, ("job-1", "")),
        reading("FAILED", "TIMED_OUT", "NOT_STARTED", "NOT_STARTED", at + minutes(60), ("job-1", "")),
        JobsObserved(
            jobs=(job("job-1", DB, LaunchStatus.IN_PROGRESS, JobStatus.STARTED),), at=at + minutes(60)
        ),
    )
    assert execution_status(run.state) is ExecutionStatus.HELD
    refused = control_error(run.state, RetryFailed(wave_index=0, at=at + minutes(61)))
    assert refused is not None and "still" in refused
    run.record(JobsObserved(jobs=(job("job-1", DB, LaunchStatus.FAILED),), at=at + minutes(70)))
    assert control_error(run.state, RetryFailed(wave_index=0, at=at + minutes(71))) is None
    assert run.replays()


# -- restarts and takeovers


def test_a_control_cut_off_by_a_restart_is_read_back_before_it_is_sent_again() -> None:
    """The runner stopped while a retry was on its way: DRS may have taken it. The execution is read
    first; a reading showing the step at work again drops the retry instead of sending it twice."""
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(20)
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    run.record(RunnerRestarted(at=at + minutes(1)))
    commands = run.decide(at + minutes(1))
    assert sent(commands) == [] and any(isinstance(c, PollNative) for c in commands)
    run.record(
        reading("IN_PROGRESS", "COMPLETED", "COMPLETED", "EXECUTING", at + minutes(1), ("job-1", "job-3"))
    )
    assert run.state.native is not None and run.state.native.pending == ()
    assert "retry not sent again" in [a.action for a in run.state.audit]
    assert run.replays()


def test_a_control_from_the_journal_of_a_silent_desktop_is_read_back_before_it_is_sent() -> None:
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(20)
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    run.record(
        RunnerRestarted(at=at + minutes(5)),
        TakenOver(at=at + minutes(5), by="desk-2", previous="desk-1", operator="bob"),
    )
    commands = run.decide(at + minutes(5))
    assert sent(commands) == [] and any(isinstance(c, PollNative) for c in commands)
    assert run.replays()


# -- readings


def test_a_good_reading_ends_a_streak_of_failed_reads() -> None:
    """A failed GetRecoveryPlanExecution backs the reads off; the next good reading must clear the error
    the screen shows and the failure count (else every later failure backs off longer and longer)."""
    run = started()
    run.record(PollFailed(at=T0, transient=True, reason="InternalServerException"))
    assert run.state.poll.failures == 1 and run.state.poll.last_error
    run.record(
        reading("IN_PROGRESS", "EXECUTING", "NOT_STARTED", "NOT_STARTED", T0 + minutes(1), ("job-1", ""))
    )
    assert run.state.poll.failures == 0 and run.state.poll.last_error == ""
    assert run.replays()


def test_a_sent_control_is_not_sent_again_by_the_same_decision() -> None:
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(20)
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    run.record(NativeControlSent(kind="retry", step_index=3, at=at))
    assert sent(run.decide(at)) == []
    assert run.replays()


# -- an execution DRS no longer has


def gone(at: datetime) -> NativeObserved:
    return NativeObserved(status="", steps=(), gone=True, at=at)


def test_an_execution_not_found_right_after_its_start_is_read_again_not_given_up() -> None:
    """DRS's records may lag behind a start: "not found" before any reading never ends the run."""
    run = started()
    for n in range(5):
        run.record(gone(T0 + minutes(n)))
    assert run.state.native is not None and not run.state.native.gone
    assert run.state.stop is None and any(isinstance(c, PollNative) for c in run.decide(T0 + minutes(10)))
    assert run.replays()


def test_an_execution_deleted_in_drs_ends_the_run_failed_once_the_answer_holds() -> None:
    run = started()
    held_on_app(run, T0)
    at = T0 + minutes(30)
    run.record(gone(at), gone(at + minutes(1)))
    run.record(reading("FAILED", "COMPLETED", "COMPLETED", "FAILED", at + minutes(2), ("job-1", "job-2")))
    assert run.state.native is not None and run.state.native.missing_reads == 0  # a lag, not a deletion
    run.record(*(gone(at + minutes(3 + n)) for n in range(3)))
    native = run.state.native
    assert native is not None and native.gone and "deleted" in native.error
    commands = run.decide(at + minutes(10))
    assert not any(isinstance(c, PollNative) for c in commands)
    assert [c.outcome.value for c in commands if isinstance(c, Finish)] == ["FAILED"]
    assert run.replays()


def test_a_step_whose_servers_differ_from_the_wave_is_noted_once() -> None:
    run = started()
    other = sid(9)
    changed = replace(step(3, "NOT_STARTED"), servers=(NativeServerSeen(server_id=other),))
    for n in range(3):
        at = T0 + minutes(n)
        run.record(
            NativeObserved(
                status="IN_PROGRESS", steps=(step(1, "EXECUTING"), step(2, "NOT_STARTED"), changed), at=at
            )
        )
    notes = [a.detail for a in run.state.audit if a.action == "not followed"]
    assert len(notes) == 2 and other in notes[0] and APP in notes[1]
    assert run.replays()


# -- attach


def attached() -> Run:
    native = native_spec().native
    assert native is not None
    return Run(
        spec=replace(native_spec(), native=replace(native, execution_arn=ARN, client_token="attached"))
    )


def record_decided(run: Run, at: datetime) -> None:
    """Journal the ``Record`` commands of one decision (the attach is one)."""
    for command in run.decide(at):
        if isinstance(command, Record):
            run.record(command.event)


def test_an_attach_to_an_execution_already_over_follows_its_jobs_and_finishes() -> None:
    run = attached()
    record_decided(run, T0)
    assert run.state.native is not None and run.state.native.execution_arn == ARN
    assert not any(isinstance(c, StartNative) for c in run.decide(T0))
    run.record(reading("COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", T0, ("job-1", "job-2")))
    assert not any(isinstance(c, Finish) for c in run.decide(T0)), "finished before its jobs were read"
    run.record(
        JobsObserved(
            jobs=(job("job-1", DB, LaunchStatus.LAUNCHED), job("job-2", APP, LaunchStatus.LAUNCHED)), at=T0
        )
    )
    assert [c.outcome.value for c in run.decide(T0) if isinstance(c, Finish)] == ["SUCCEEDED"]
    assert run.replays()


def test_a_cancel_before_the_attach_is_recorded_still_cancels_in_drs() -> None:
    run = attached()
    run.control(Cancel(at=T0, by="alice"))
    record_decided(run, T0)
    run.record(reading("IN_PROGRESS", "EXECUTING", "NOT_STARTED", "NOT_STARTED", T0, ("job-1", "")))
    assert sent(run.decide(T0)) == ["cancel"]
    assert run.replays()


def test_the_servers_of_a_step_drs_skipped_are_shown_skipped_at_once() -> None:
    """A step skipped in DRS (by the operator here, or in the console) while the execution goes on: its
    wave is SKIPPED, and its servers too, not left waiting until DRS ends the whole execution."""
    run = started()
    at = T0 + minutes(1)
    run.record(reading("IN_PROGRESS", "EXECUTING", "NOT_STARTED", "SKIPPED", at, ("job-1", "")))
    assert run.state.waves[1].phase is WavePhase.SKIPPED
    assert run.state.servers[APP].status is ServerStatus.SKIPPED
    assert run.replays()


def test_servers_of_a_step_drs_failed_before_any_job_are_shown_failed_and_a_retry_relaunches_them() -> None:
    """DRS fails a step without a job when it cannot start one (a server busy in another tool's job, a
    quota): its servers are FAILED with DRS's reason, not PENDING under a held run; a retry's job then
    takes them as a new attempt."""
    run = started()
    at = T0 + minutes(10)
    failed = replace(step(3, "FAILED", at=at), error="ConflictException: server busy in job drsjob-x")
    run.record(
        NativeObserved(
            status="FAILED", steps=(step(1, "COMPLETED", "job-1", at), step(2, "COMPLETED"), failed), at=at
        )
    )
    app = run.state.servers[APP]
    assert app.status is ServerStatus.FAILED and "server busy" in app.reason
    run.control(RetryFailed(wave_index=1, at=at, by="alice"))
    run.record(NativeControlSent(kind="retry", step_index=3, at=at))
    later = at + minutes(1)
    run.record(reading("IN_PROGRESS", "COMPLETED", "COMPLETED", "EXECUTING", later, ("job-1", "job-3")))
    app = run.state.servers[APP]
    assert app.status is ServerStatus.LAUNCHING and app.job_id == "job-3" and app.retries == 1
    assert run.replays()


def test_a_skip_overtaken_by_drs_is_said_not_sent() -> None:
    """The operator skips a step not yet started; DRS starts it before the skip goes out. The skip is not
    sent (the step is no longer skippable), and the audit says so rather than showing a skip that never
    happened."""
    run = started()
    at = T0 + minutes(1)
    run.record(reading("IN_PROGRESS", "COMPLETED", "WAITING", "NOT_STARTED", at, ("job-1", "")))
    run.control(SkipWave(wave_index=1, at=at, by="alice"))
    run.record(
        reading("IN_PROGRESS", "COMPLETED", "COMPLETED", "EXECUTING", at + minutes(5), ("job-1", "job-2"))
    )
    assert sent(run.decide(at + minutes(5))) == []
    notes = [a for a in run.state.audit if a.action == "skip not sent"]
    assert len(notes) == 1 and "executing" in notes[0].detail
    assert run.replays()
