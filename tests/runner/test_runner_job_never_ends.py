"""A DRS job that never ends (the simulator's ``hang_jobs``): the run still ends, after a bounded grace.

DRS cannot cancel a job (reference §12.11). Once the run no longer needs a job (stopped, or every server of
it settled), it waits ``engine.cancel_grace_minutes`` and then finishes without it, saying the job was
still running in DRS. The shipped runner against the simulator over loopback HTTP.
"""

from __future__ import annotations

from datetime import timedelta

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.events import Cancel, JobsLeftRunning, JobStarted, JobsVerified, Outcome
from drs_desktop.domain.engine.grace import jobs_left_running
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.domain.views.evidence import collect_evidence
from drs_desktop.services.journal_replay import replay_journal
from drs_desktop.services.reports import load_execution_view, render_html
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import ids, shop_plan
from .harness import Run, engine_gateway, start_run


def _run(db: Database, sim: EmbeddedSimulator, **options: object) -> Run:
    return start_run(db, engine_gateway(sim), sim, shop_plan(sim, approval=False), **options)  # type: ignore[arg-type]


def _assert_final_and_replayed(db: Database, run: Run) -> None:
    record = journal.get_execution(db, run.runner.execution_id)
    assert record.status == run.runner.status.value
    assert run.runner.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)
    assert replay_journal(db, record).state == run.state


def test_cancel_ends_a_run_whose_job_never_ends(db: Database, sim: EmbeddedSimulator) -> None:
    sim.faults.hang_jobs(servers=["shop-app-01"])
    run = _run(db, sim, wave_timeout_minutes=30)
    run.run(until=lambda: bool(run.recorder.of(JobsVerified)) and run.runner.status is ExecutionStatus.HELD)
    (verified,) = run.recorder.of(JobsVerified)
    cancelled_at = run.now
    run.submit(Cancel(at=cancelled_at, by="alice"))
    result = run.run(until=lambda: run.now >= cancelled_at + timedelta(hours=2))
    assert result.outcome is Outcome.FAILED and run.state.finished is Outcome.FAILED
    (left,) = run.recorder.of(JobsLeftRunning)
    apps = ids(sim, "shop-app-01", "shop-app-02")
    hung = run.state.servers[apps[0]].job_id
    assert hung is not None and left.job_ids == (hung,)
    # The grace counts from when the run stopped needing the job: its servers failed by the timeout.
    assert left.at >= verified.at + timedelta(minutes=45) and left.at <= cancelled_at + timedelta(minutes=46)
    for server_id in apps:
        server = run.state.servers[server_id]
        assert server.status is ServerStatus.FAILED
        assert server.reason == f"timed out: DRS had not launched it; job {hung} still running in DRS"
    assert jobs_left_running(run.state) == (hung,)
    assert any(a.action == "left running" and hung in a.detail for a in collect_evidence(run.state).audit)
    _assert_final_and_replayed(db, run)
    # The report's waves table says when the App wave timed out (its "ended" column is never blank).
    view = load_execution_view(db, run.runner.execution_id)
    timed_out = view.state.waves[1].timed_out_at
    assert timed_out is not None
    page = render_html(view)
    app_row = page[page.index("<td>2</td>") :].split("</tr>")[0]
    assert f"{timed_out:%H:%M:%S}" in app_row


def test_cancel_while_a_job_never_ends_fails_its_servers_as_still_running(
    db: Database, sim: EmbeddedSimulator
) -> None:
    sim.faults.hang_jobs(servers=["shop-app-01"])
    run = _run(db, sim, cancel_grace_minutes=20)
    run.run(until=lambda: any(e.chunk_id.startswith("2.") for e in run.recorder.of(JobStarted)))
    cancelled_at = run.now
    run.submit(Cancel(at=cancelled_at, by="alice", terminate_drill_instances=True))
    run.run(until=lambda: run.runner.status is ExecutionStatus.CANCELLING)
    result = run.run()
    assert result.outcome is Outcome.CANCELLED
    assert run.state.finished_at is not None and run.state.finished_at >= cancelled_at + timedelta(minutes=20)
    (left,) = run.recorder.of(JobsLeftRunning)
    for server_id in ids(sim, "shop-app-01", "shop-app-02"):
        server = run.state.servers[server_id]
        assert (server.status, server.reason) == (
            ServerStatus.FAILED,
            f"job {left.job_ids[0]} still running in DRS",
        )
    # The drill's cleanup still ran for what is known (the database's instance), and says what is not.
    db01 = run.state.servers[ids(sim, "shop-db-01")[0]]
    assert db01.recovery_instance_id is not None
    assert run.state.instances[db01.recovery_instance_id].terminate_requested_at is not None
    assert jobs_left_running(run.state) == left.job_ids
    _assert_final_and_replayed(db, run)


def test_a_running_run_whose_job_never_ends_finishes_after_the_grace(
    db: Database, sim: EmbeddedSimulator
) -> None:
    """Not stopped: the wave timeout fails the optional server of the hung job, the waves complete, and
    the run ends after the grace instead of waiting for the job forever."""
    sim.faults.hang_jobs(servers=["shop-web-02"])
    run = _run(
        db, sim, wave_timeout_minutes=30, cancel_grace_minutes=20, limits=Limits(max_servers_per_job=1)
    )
    result = run.run()
    assert result.outcome is Outcome.SUCCEEDED
    web02 = run.state.servers[ids(sim, "shop-web-02")[0]]
    assert web02.status is ServerStatus.FAILED and web02.timed_out and web02.failed_at is not None
    assert web02.reason.endswith(f"job {web02.job_id} still running in DRS")
    (left,) = run.recorder.of(JobsLeftRunning)
    assert left.job_ids == (web02.job_id,) and left.at >= web02.failed_at + timedelta(minutes=20)
    assert run.state.finished_at == left.at
    _assert_final_and_replayed(db, run)
