"""Evidence: per-server timings from the job log, approvals, retries, skips, and the RTO achieved."""

from __future__ import annotations

from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    Outcome,
    Pause,
    Resume,
    RetryFailed,
    SkipWave,
    StepPhase,
)
from drs_desktop.domain.engine.state import ExecutionStatus, Mode, PostLaunch, ServerStatus
from drs_desktop.domain.plan.model import ApprovalStep
from drs_desktop.domain.views.evidence import collect_evidence, rto_achieved, rto_report, server_timelines

from .conftest import Shipped
from .helpers import T0, chain, minutes, sid, sids, spec, wave


def test_a_server_timeline_has_queue_job_phase_and_launch_times(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.act()
    job = h.job_of_chunk("1.1")
    for at, event in [
        (0.1, "JOB_START"),
        (0.2, "SNAPSHOT_START"),
        (0.3, "SNAPSHOT_END"),
        (2, "CONVERSION_START"),
        (7, "CONVERSION_END"),
        (7.1, "LAUNCH_START"),
    ]:
        h.advance_to(T0 + minutes(at))
        if event == "JOB_START":
            h.by_hand.start(job)
        else:
            h.by_hand.progress(job, sid(1), event)
    h.advance_to(T0 + minutes(8))
    h.by_hand.finish(job)
    h.poll()
    h.act()  # fetches the log: the job changed
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


def test_repeated_log_items_keep_the_first_time(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    job = h.job_of_chunk("1.1")
    h.advance_to(T0 + minutes(1))
    h.by_hand.progress(job, sid(1), "SNAPSHOT_START")
    h.poll()
    h.act()  # reads the log
    h.advance_to(T0 + minutes(3))
    h.by_hand.progress(job, sid(1), "SNAPSHOT_START")  # DRS logs the same step again
    h.by_hand.progress(job, sid(2), "SNAPSHOT_START")  # (a change, so the log is read again)
    h.poll()
    h.act()
    assert h.state.jobs[job].log_version == h.state.jobs[job].version
    assert h.state.servers[sid(1)].phase_times == {"SNAPSHOT_START": T0 + minutes(1)}


def test_rto_runs_from_the_start_to_the_last_critical_server_ready(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("db", sids(1, 2), optional=(sid(2),)),
            wave("app", sids(3, 1), depends_on=("db",)),
            rto_target=minutes(30),
        )
    )
    h.act()
    h.advance_to(T0 + minutes(12))
    h.by_hand.launch(h.job_of_chunk("1.1"), sid(1))
    h.poll()
    assert rto_achieved(h.state) is None  # the app wave has not launched
    h.act()
    h.advance_to(T0 + minutes(25))
    h.launch_chunk("2.1")
    assert rto_achieved(h.state) == minutes(25)  # the optional server is still launching: not counted
    report = rto_report(h.state)
    assert (report.target, report.met) == (minutes(30), True)


def test_rto_waits_for_post_launch_actions_of_a_recovery_and_ignores_skipped_waves(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("db", sids(1, 1), post_launch=(sid(1),)),
            wave("extra", sids(2, 1), depends_on=(), before=(ApprovalStep(message="needed?"),)),
            mode=Mode.RECOVERY,
            rto_target=minutes(10),
        )
    )
    h.act()
    h.advance_to(T0 + minutes(8))
    h.launch_chunk("1.1")
    h.record(SkipWave(wave_index=1, at=h.now, by="op"))
    assert rto_achieved(h.state) is None
    h.run(until=lambda: h.state.servers[sid(1)].post_launch is not PostLaunch.PENDING)
    ready = h.state.servers[sid(1)].ready_at  # the post-launch actions ran in DRS after the boot
    assert ready is not None and ready > T0 + minutes(10)
    assert rto_achieved(h.state) == ready - T0
    assert rto_report(h.state).met is False


def test_collected_evidence_tells_the_whole_story(shipped: Shipped) -> None:
    h = shipped(
        spec(
            wave("db", sids(1, 2), before=(ApprovalStep(message="Fail over the database?"),)),
            wave("app", sids(3, 1), depends_on=("db",)),
            plan_name="payments",
        )
    )
    h.advance_to(T0 + minutes(2))
    h.record(ApprovalGranted(wave_index=0, phase=StepPhase.BEFORE, step_index=0, by="carol", at=h.now))
    h.act()
    h.record(Pause(at=h.now, by="alice"))
    h.record(Resume(at=h.now + minutes(1), by="alice"))
    h.launch_chunk("1.1", fail=[sid(2)])
    h.record(RetryFailed(wave_index=0, at=h.now, by="bob"))
    h.by_hand.hold_launches(False)  # from now on DRS launches every job on its own
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
