"""Drill cleanup: exactly this execution's drill instances are terminated, and nothing of a recovery."""

from __future__ import annotations

from datetime import timedelta

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.commands import Finish, SurveyInstances, TerminateInstances, WakeAt, job_tags
from drs_desktop.domain.engine.events import (
    Cancel,
    CleanupRequested,
    InstancesTerminated,
    Outcome,
    PollFailed,
    RecoveryInstancesObserved,
    RetryFailed,
    TerminateFailed,
    TerminateRequested,
)
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.reconcile_events import InstancesSurveyed
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.views.evidence import cleanup_proof

from .conftest import Shipped
from .helpers import T0, chain, sid, sids
from .shipped_run import ShippedRun


def terminations(h: ShippedRun) -> list[TerminateInstances]:
    """What cleanup terminates now, once its survey of DRS's records (which comes first) is done."""
    h.survey()
    return [c for c in h.decide() if isinstance(c, TerminateInstances)]


def test_cancel_with_terminate_waits_for_jobs_then_terminates_only_own_instances(shipped: Shipped) -> None:
    h = shipped(chain(2, 2, limits=Limits(max_servers_per_job=1)), drs_start=T0 - timedelta(hours=1))
    # Someone else's drill of the same server, an hour ago: its instance is not ours.
    colleague = h.start_external_job((sid(1),), tags={"owner": "colleague"})
    foreign = h.by_hand.launch(colleague, sid(1))
    h.by_hand.complete(colleague)
    h.advance_to(T0)
    h.backend.faults.omit_instance_ids(servers=[sid(1)])  # so the runner looks its instances up
    h.act()
    h.by_hand.launch(h.job_of_chunk("1.1"), sid(1))
    h.poll()
    h.act()  # the lookup of sid(1)'s instances sees both
    (looked_up,) = [e for e in h.events() if isinstance(e, RecoveryInstancesObserved)]
    assert {i.recovery_instance_id for i in looked_up.instances} == {
        foreign,
        h.instance_of(h.job_of_chunk("1.1"), sid(1)),
    }
    own = h.state.servers[sid(1)].recovery_instance_id
    assert own is not None and own != foreign
    h.record(Cancel(at=h.now, by="op", terminate_drill_instances=True))
    assert terminations(h) == []  # sid(2) is still launching: its instance is not known yet
    h.launch_everything()
    h.poll()
    second = h.state.servers[sid(2)].recovery_instance_id
    assert second is not None
    assert terminations(h) == [TerminateInstances(recovery_instance_ids=tuple(sorted([own, second])))]
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert sorted(h.terminated()) == sorted([own, second])
    assert drill_instances_running(h.state) == ()
    proof = {p.recovery_instance_id: p for p in cleanup_proof(h.state)}
    assert set(proof) == {own, second}
    assert all(p.terminate_job_id is not None and p.terminated_at == h.now for p in proof.values())


def test_a_recovery_never_terminates_anything(shipped: Shipped) -> None:
    h = shipped(chain(1, mode=Mode.RECOVERY))
    h.act()
    cancel = Cancel(at=h.now, by="op", terminate_drill_instances=True)
    assert control_error(h.state, cancel) == "a recovery's instances are never terminated by the app"
    h.record(cancel)  # even if it were journaled
    h.launch_everything()
    h.run()
    assert h.state.cleanup_requested is False
    assert h.state.finished is Outcome.CANCELLED and h.terminated() == []
    assert h.state.instances and drill_instances_running(h.state) == ()
    assert control_error(h.state, CleanupRequested(at=h.now)) is not None


def test_a_finished_drill_is_cleaned_up_on_request_without_finishing_again(shipped: Shipped) -> None:
    h = shipped(chain(2), hold_launches=False)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED and len(drill_instances_running(h.state)) == 2
    assert control_error(h.state, CleanupRequested(at=h.now, by="op")) is None
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert drill_instances_running(h.state) == () and len(h.terminated()) == 2
    assert h.finishes() == 1 and not any(isinstance(c, Finish) for c in h.decide())
    assert (
        control_error(h.state, CleanupRequested(at=h.now, by="op"))
        == "no drill instance of this execution is running"
    )


def test_instances_drs_did_not_name_are_looked_up_before_cleanup(shipped: Shipped) -> None:
    """DRS may leave recoveryInstanceID out of a finished job (reference §12.5)."""
    h = shipped(chain(1))
    h.backend.faults.omit_instance_ids(servers=[sid(1)])
    h.act()
    job = h.job_of_chunk("1.1")
    h.launch_everything()
    h.poll()
    assert h.state.servers[sid(1)].recovery_instance_id is None
    assert h.state.finished is None
    h.run()
    assert h.state.servers[sid(1)].recovery_instance_id == h.instance_of(job, sid(1))
    assert h.state.finished is Outcome.SUCCEEDED
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert h.terminated() == [h.instance_of(job, sid(1))]


def test_an_earlier_attempts_instance_is_cleaned_up_too(shipped: Shipped) -> None:
    """A launch can fail after DRS created the instance; the retry makes a second one. Both are ours."""
    h = shipped(chain(1))
    h.act()
    first_job = h.job_of_chunk("1.1")
    earlier = h.by_hand.fail(first_job, sid(1), with_instance=True)
    h.by_hand.complete(first_job)
    h.poll()
    assert earlier is not None and h.state.instances[earlier].job_id == first_job
    h.record(RetryFailed(wave_index=0, at=h.now, by="op"))
    assert h.started() == ["1.2"]
    h.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    retried = h.state.servers[sid(1)].recovery_instance_id
    assert retried is not None and retried != earlier
    assert sorted(h.terminated()) == sorted([earlier, retried])


def test_termination_failures_are_retried_then_given_up(shipped: Shipped) -> None:
    h = shipped(chain(1, max_terminate_attempts=3))
    h.act()
    h.launch_everything()
    h.poll()
    h.record(Cancel(at=h.now, by="op", terminate_drill_instances=True))
    (instance,) = drill_instances_running(h.state)
    h.start_external_job((sid(1),))  # another tool's job holds the server: DRS refuses to terminate
    for _ in range(3):
        (command,) = terminations(h)
        assert command.recovery_instance_ids == (instance,)
        h.step()
        assert h.events()[-2:] == (
            TerminateRequested(instance_ids=(instance,), at=h.now),
            TerminateFailed(instance_ids=(instance,), reason="ConflictException", definite=True, at=h.now),
        )
        assert terminations(h) == []  # backing off
        h.advance_to(h.state.poll.not_before or h.now)
    assert terminations(h) == []
    h.run()
    assert h.state.finished is Outcome.CANCELLED
    assert drill_instances_running(h.state) == (instance,)  # the evidence says what is left
    assert cleanup_proof(h.state)[0].error == "ConflictException"


def test_more_than_200_instances_take_several_calls(shipped: Shipped) -> None:
    h = shipped(chain(250))
    h.act()
    h.launch_everything()
    h.run()
    h.record(CleanupRequested(at=h.now, by="op"))
    commands = terminations(h)
    assert [len(c.recovery_instance_ids) for c in commands] == [200, 50]
    assert set(sum((c.recovery_instance_ids for c in commands), ())) == set(drill_instances_running(h.state))
    assert len(set(drill_instances_running(h.state))) == len(sids(1, 250))
    h.run()
    assert [len(e.instance_ids) for e in h.events() if isinstance(e, InstancesTerminated)] == [200, 50]


def test_cleanup_after_the_finish_waits_out_a_backoff(shipped: Shipped) -> None:
    h = shipped(chain(1), hold_launches=False)
    h.run()
    h.record(CleanupRequested(at=h.now, by="op"))
    h.backend.faults.server_errors(count=1)  # DRS's records cannot be read just now
    h.step()
    assert isinstance(h.events()[-1], PollFailed)
    until = h.state.poll.not_before
    assert until is not None and h.decide() == (WakeAt(at=until),)
    h.advance_to(until)
    assert [type(c) for c in h.decide()] == [SurveyInstances]  # DRS's records first, then terminate
    assert [type(c) for c in terminations(h)] == [TerminateInstances]


def test_cleanup_finds_a_job_of_this_execution_the_journal_never_heard_of(shipped: Shipped) -> None:
    """A StartRecovery whose answer was lost and that an old version never reconciled: its job carries
    this execution's tags, so its instance is this drill's and is terminated like the others."""
    h = shipped(chain(2), hold_launches=False)
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    h.by_hand.hold_launches()
    orphan = h.start_external_job((sid(1),), tags=dict(job_tags("exec-1", 0, "1.1", 9)))
    h.by_hand.finish(orphan)
    orphan_instance = h.instance_of(orphan, sid(1))
    assert orphan_instance is not None and orphan_instance not in h.state.instances
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert orphan_instance in h.terminated() and len(h.terminated()) == 3
    assert drill_instances_running(h.state) == ()


def test_cleanup_leaves_instances_of_other_jobs_and_recoveries_running_and_says_so(shipped: Shipped) -> None:
    h = shipped(chain(2), hold_launches=False)
    h.run()
    ours = set(drill_instances_running(h.state))
    h.by_hand.hold_launches()
    colleague = h.start_external_job((sid(1),), tags={"owner": "colleague"})  # a drill of theirs
    real = h.start_external_job((sid(2),), tags=dict(job_tags("exec-1", 0, "1.1", 7)), is_drill=False)
    h.by_hand.finish(colleague)
    h.by_hand.finish(real)
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert set(h.terminated()) == ours
    foreign = h.state.foreign_instances
    assert {f.recovery_instance_id for f in foreign.values()} == {
        h.instance_of(colleague, sid(1)),
        h.instance_of(real, sid(2)),
    }
    reasons = {f.job_id: f.reason for f in foreign.values()}
    assert reasons[colleague] == f"launched by job {colleague}, not by this execution"
    assert reasons[real] == "a recovery instance, not a drill's"


def test_every_cleanup_request_looks_at_drs_again(shipped: Shipped) -> None:
    h = shipped(chain(1), hold_launches=False)
    h.run()
    h.record(CleanupRequested(at=h.now, by="op"))
    assert h.state.cleanup_surveyed is False
    h.run()
    assert h.state.cleanup_surveyed is True
    assert sum(isinstance(e, InstancesSurveyed) for e in h.events()) == 1
