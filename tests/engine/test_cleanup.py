"""Drill cleanup: exactly this execution's drill instances are terminated, and nothing of a recovery."""

from __future__ import annotations

from drs_desktop.domain.chunking import Limits
from drs_desktop.domain.engine_commands import Finish, SurveyInstances, TerminateInstances, WakeAt, job_tags
from drs_desktop.domain.evidence import cleanup_proof
from drs_desktop.domain.execution import control_error
from drs_desktop.domain.execution_events import (
    Cancel,
    CleanupRequested,
    InstanceView,
    LaunchStatus,
    Outcome,
    PollFailed,
    RecoveryInstancesObserved,
    RetryFailed,
    TerminateFailed,
    TerminateRequested,
)
from drs_desktop.domain.execution_queries import drill_instances_running
from drs_desktop.domain.execution_state import Mode

from .fake_drs import Harness
from .helpers import chain, sid, sids


def terminations(h: Harness) -> list[TerminateInstances]:
    """What cleanup terminates now, once its survey of DRS's records (which comes first) is done."""
    for command in h.decide():
        if isinstance(command, SurveyInstances):
            h.execute(command)
    return [c for c in h.decide() if isinstance(c, TerminateInstances)]


def test_cancel_with_terminate_waits_for_jobs_then_terminates_only_own_instances() -> None:
    h = Harness(chain(2, 2, limits=Limits(max_servers_per_job=1)))
    h.step()
    h.drs.set_status(h.job_of_chunk("1.1"), sid(1), LaunchStatus.LAUNCHED)
    h.poll()
    own = h.state.servers[sid(1)].recovery_instance_id
    assert own is not None
    # Someone else's instance of the same server, seen while looking up instances: not ours.
    foreign = InstanceView(
        recovery_instance_id="i-0000000000000beef", server_id=sid(1), job_id="drsjob-0000000000000f00d"
    )
    h.record(RecoveryInstancesObserved(server_ids=(), instances=(foreign,), at=h.now))
    h.record(Cancel(at=h.now, by="op", terminate_drill_instances=True))
    assert terminations(h) == []  # sid(2) is still launching: its instance is not known yet
    h.launch_everything()
    h.poll()
    second = h.state.servers[sid(2)].recovery_instance_id
    assert second is not None
    assert terminations(h) == [TerminateInstances(recovery_instance_ids=tuple(sorted([own, second])))]
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert sorted(h.drs.terminated) == sorted([own, second])
    assert drill_instances_running(h.state) == ()
    proof = {p.recovery_instance_id: p for p in cleanup_proof(h.state)}
    assert set(proof) == {own, second}
    assert all(p.terminate_job_id is not None and p.terminated_at == h.now for p in proof.values())


def test_a_recovery_never_terminates_anything() -> None:
    h = Harness(chain(1, mode=Mode.RECOVERY))
    h.step()
    cancel = Cancel(at=h.now, by="op", terminate_drill_instances=True)
    assert control_error(h.state, cancel) == "a recovery's instances are never terminated by the app"
    h.record(cancel)  # even if it were journaled
    h.launch_everything()
    h.run()
    assert h.state.cleanup_requested is False
    assert h.state.finished is Outcome.CANCELLED and h.drs.terminated == []
    assert h.state.instances and drill_instances_running(h.state) == ()
    assert control_error(h.state, CleanupRequested(at=h.now)) is not None


def test_a_finished_drill_is_cleaned_up_on_request_without_finishing_again() -> None:
    h = Harness(chain(2))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED and len(drill_instances_running(h.state)) == 2
    assert control_error(h.state, CleanupRequested(at=h.now, by="op")) is None
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert drill_instances_running(h.state) == () and len(h.drs.terminated) == 2
    assert h.finishes == 1 and not any(isinstance(c, Finish) for c in h.decide())
    assert (
        control_error(h.state, CleanupRequested(at=h.now, by="op"))
        == "no drill instance of this execution is running"
    )


def test_instances_drs_did_not_name_are_looked_up_before_cleanup() -> None:
    """DRS may leave recoveryInstanceID out of a finished job (reference §12.5)."""
    h = Harness(chain(1))
    h.step()
    job = h.job_of_chunk("1.1")
    h.drs.jobs[job].hide_instance_ids = True
    h.launch_everything()
    h.poll()
    assert h.state.servers[sid(1)].recovery_instance_id is None
    assert h.state.finished is None
    h.run()
    assert h.state.servers[sid(1)].recovery_instance_id == h.drs.jobs[job].instances[sid(1)]
    assert h.state.finished is Outcome.SUCCEEDED
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert h.drs.terminated == [h.drs.jobs[job].instances[sid(1)]]


def test_an_earlier_attempts_instance_is_cleaned_up_too() -> None:
    """A launch can fail after DRS created the instance; the retry makes a second one. Both are ours."""
    h = Harness(chain(1))
    h.step()
    first_job = h.job_of_chunk("1.1")
    h.drs.jobs[first_job].instances[sid(1)] = "i-00000000000000aaa"
    h.drs.set_status(first_job, sid(1), LaunchStatus.FAILED)
    h.drs.finish_job(first_job)
    h.poll()
    assert h.state.instances["i-00000000000000aaa"].job_id == first_job
    h.record(RetryFailed(wave_index=0, at=h.now, by="op"))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert sorted(h.drs.terminated) == sorted(
        ["i-00000000000000aaa", h.state.servers[sid(1)].recovery_instance_id]
    )


def test_termination_failures_are_retried_then_given_up() -> None:
    h = Harness(chain(1, max_terminate_attempts=3))
    h.step()
    h.launch_everything()
    h.poll()
    h.record(Cancel(at=h.now, by="op", terminate_drill_instances=True))
    (instance,) = drill_instances_running(h.state)
    for _ in range(3):
        (command,) = terminations(h)
        assert command.recovery_instance_ids == (instance,)
        h.record(TerminateRequested(instance_ids=(instance,), at=h.now))
        h.record(
            TerminateFailed(instance_ids=(instance,), reason="ConflictException", definite=True, at=h.now)
        )
        assert terminations(h) == []  # backing off
        h.now = h.state.poll.not_before or h.now
    assert terminations(h) == []
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert drill_instances_running(h.state) == (instance,)  # the evidence says what is left
    assert cleanup_proof(h.state)[0].error == "ConflictException"


def test_more_than_200_instances_take_several_calls() -> None:
    h = Harness(chain(250))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    h.record(CleanupRequested(at=h.now, by="op"))
    commands = terminations(h)
    assert [len(c.recovery_instance_ids) for c in commands] == [200, 50]
    assert set(sum((c.recovery_instance_ids for c in commands), ())) == set(drill_instances_running(h.state))
    assert len(set(drill_instances_running(h.state))) == len(sids(1, 250))


def test_cleanup_after_the_finish_waits_out_a_backoff() -> None:
    h = Harness(chain(1))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    h.record(PollFailed(at=h.now, transient=True, reason="503"))
    h.record(CleanupRequested(at=h.now, by="op"))
    until = h.state.poll.not_before
    assert until is not None and h.decide() == (WakeAt(at=until),)
    h.now = until
    assert [type(c) for c in h.decide()] == [SurveyInstances]  # DRS's records first, then terminate
    assert [type(c) for c in terminations(h)] == [TerminateInstances]


def test_cleanup_finds_a_job_of_this_execution_the_journal_never_heard_of() -> None:
    """A StartRecovery whose answer was lost and that an old version never reconciled: its job carries
    this execution's tags, so its instance is this drill's and is terminated like the others."""
    h = Harness(chain(2))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    orphan = h.drs.start_recovery([sid(1)], dict(job_tags("exec-1", 0, "1.1", 9)), True, h.now)
    h.drs.launch_all(orphan)
    orphan_instance = h.drs.jobs[orphan].instances[sid(1)]
    assert orphan_instance not in h.state.instances
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert orphan_instance in h.drs.terminated and len(h.drs.terminated) == 3
    assert drill_instances_running(h.state) == ()


def test_cleanup_leaves_instances_of_other_jobs_and_recoveries_running_and_says_so() -> None:
    h = Harness(chain(2))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    ours = set(drill_instances_running(h.state))
    colleague = h.drs.start_recovery([sid(1)], {"owner": "colleague"}, True, h.now)  # a drill of theirs
    real = h.drs.start_recovery([sid(2)], dict(job_tags("exec-1", 0, "1.1", 7)), False, h.now)
    h.drs.launch_all(colleague)
    h.drs.launch_all(real)
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert set(h.drs.terminated) == ours
    foreign = h.state.foreign_instances
    assert {f.recovery_instance_id for f in foreign.values()} == {
        h.drs.jobs[colleague].instances[sid(1)],
        h.drs.jobs[real].instances[sid(2)],
    }
    reasons = {f.job_id: f.reason for f in foreign.values()}
    assert reasons[colleague] == f"launched by job {colleague}, not by this execution"
    assert reasons[real] == "a recovery instance, not a drill's"


def test_every_cleanup_request_looks_at_drs_again() -> None:
    h = Harness(chain(1))
    h.on_poll = lambda harness: harness.launch_everything()
    h.run()
    h.record(CleanupRequested(at=h.now, by="op"))
    assert h.state.cleanup_surveyed is False
    h.run()
    assert h.state.cleanup_surveyed is True
    surveys = [line for line in h.journal if '"type": "InstancesSurveyed"' in line]
    assert len(surveys) == 1
