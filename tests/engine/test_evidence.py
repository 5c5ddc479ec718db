"""Evidence: per-server timings from the job log, approvals, retries, skips, and the RTO achieved."""

from __future__ import annotations

from drs_desktop.domain.evidence import collect_evidence, rto_achieved, rto_report, server_timelines
from drs_desktop.domain.execution_events import (
    ApprovalGranted,
    JobLogItem,
    JobLogObserved,
    LaunchStatus,
    Outcome,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
    StepPhase,
)
from drs_desktop.domain.execution_state import ExecutionStatus, Mode, ServerStatus
from drs_desktop.domain.plan import ApprovalStep

from .fake_drs import Harness
from .helpers import T0, chain, minutes, sid, sids, spec, wave


def test_a_server_timeline_has_queue_job_phase_and_launch_times() -> None:
    h = Harness(chain(1))
    h.step()
    job = h.job_of_chunk("1.1")
    log = [
        JobLogItem(at=T0 + minutes(0.1), event="JOB_START"),
        JobLogItem(at=T0 + minutes(0.2), event="SNAPSHOT_START", server_id=sid(1)),
        JobLogItem(at=T0 + minutes(0.3), event="SNAPSHOT_END", server_id=sid(1)),
        JobLogItem(at=T0 + minutes(2), event="CONVERSION_START", server_id=sid(1)),
        JobLogItem(at=T0 + minutes(7), event="CONVERSION_END", server_id=sid(1)),
        JobLogItem(at=T0 + minutes(7.1), event="LAUNCH_START", server_id=sid(1)),
    ]
    h.drs.jobs[job].log.extend(log)
    h.now = T0 + minutes(8)
    h.drs.launch_all(job)
    h.poll()
    h.step()  # fetches the log: the job changed
    (row,) = server_timelines(h.state)
    assert (row.queued_at, row.job_started_at, row.launched_at, row.ready_at) == (T0, T0, h.now, h.now)
    assert row.phases == {
        "SNAPSHOT_START": T0 + minutes(0.2),
        "SNAPSHOT_END": T0 + minutes(0.3),
        "CONVERSION_START": T0 + minutes(2),
        "CONVERSION_END": T0 + minutes(7),
        "LAUNCH_START": T0 + minutes(7.1),
    }
    assert row.time_to_launch == minutes(8)
    assert row.job_ids == (job,) and row.recovery_instance_id is not None


def test_repeated_log_items_keep_the_first_time() -> None:
    h = Harness(chain(1))
    h.step()
    job = h.job_of_chunk("1.1")
    first = JobLogItem(at=T0 + minutes(1), event="SNAPSHOT_START", server_id=sid(1))
    later = JobLogItem(at=T0 + minutes(3), event="SNAPSHOT_START", server_id=sid(1))
    h.record(JobLogObserved(job_id=job, items=(first,), at=h.now))
    h.record(JobLogObserved(job_id=job, items=(first, later), at=h.now))
    assert h.state.servers[sid(1)].phase_times == {"SNAPSHOT_START": T0 + minutes(1)}


def test_rto_runs_from_the_start_to_the_last_critical_server_ready() -> None:
    h = Harness(
        spec(
            wave("db", sids(1, 2), optional=(sid(2),)),
            wave("app", sids(3, 1), depends_on=("db",)),
            rto_target=minutes(30),
        )
    )
    h.step()
    h.now = T0 + minutes(12)
    h.drs.set_status(h.job_of_chunk("1.1"), sid(1), LaunchStatus.LAUNCHED)
    h.poll()
    assert rto_achieved(h.state) is None  # the app wave has not launched
    h.step()
    h.now = T0 + minutes(25)
    h.launch_chunk("2.1")
    assert rto_achieved(h.state) == minutes(25)  # the optional server is still launching: not counted
    report = rto_report(h.state)
    assert (report.target, report.met) == (minutes(30), True)


def test_rto_waits_for_post_launch_actions_of_a_recovery_and_ignores_skipped_waves() -> None:
    from drs_desktop.domain.execution_events import PostLaunchCompleted

    h = Harness(
        spec(
            wave("db", sids(1, 1), post_launch=(sid(1),)),
            wave("extra", sids(2, 1), depends_on=(), before=(ApprovalStep(message="needed?"),)),
            mode=Mode.RECOVERY,
            rto_target=minutes(10),
        )
    )
    h.step()
    h.now = T0 + minutes(8)
    h.launch_chunk("1.1")
    h.record(SkipWave(wave_index=1, at=h.now, by="op"))
    assert rto_achieved(h.state) is None
    h.now = T0 + minutes(14)
    h.record(PostLaunchCompleted(server_id=sid(1), at=h.now))
    assert rto_achieved(h.state) == minutes(14)
    assert rto_report(h.state).met is False


def test_collected_evidence_tells_the_whole_story() -> None:
    h = Harness(
        spec(
            wave("db", sids(1, 2), before=(ApprovalStep(message="Fail over the database?"),)),
            wave("app", sids(3, 1), depends_on=("db",)),
            plan_name="payments",
        )
    )
    h.now = T0 + minutes(2)
    h.record(ApprovalGranted(wave_index=0, phase=StepPhase.BEFORE, step_index=0, by="carol", at=h.now))
    h.step()
    h.record(Pause(at=h.now, by="alice"))
    h.record(Resume(at=h.now + minutes(1), by="alice"))
    h.launch_chunk("1.1", fail=[sid(2)])
    h.record(RetryFailed(wave_index=0, at=h.now, by="bob"))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    evidence = collect_evidence(h.state)
    assert (evidence.plan_name, evidence.mode, evidence.outcome) == ("payments", "DRILL", Outcome.SUCCEEDED)
    assert evidence.status is ExecutionStatus.SUCCEEDED and evidence.finished_at == h.now
    (approval,) = evidence.waves[0].approvals
    assert (approval.by, approval.requested_at, approval.decided_at) == ("carol", T0, T0 + minutes(2))
    assert [(a.action, a.by) for a in evidence.audit] == [
        ("approve", "carol"),
        ("pause", "alice"),
        ("resume", "alice"),
        ("retry", "bob"),
    ]
    retried = next(s for s in evidence.servers if s.server_id == sid(2))
    assert retried.retries == 1 and len(retried.job_ids) == 2 and retried.status is ServerStatus.LAUNCHED
    assert retried.earlier_attempts[0].status is ServerStatus.FAILED
    assert len(evidence.drill_instances_running) == 3
