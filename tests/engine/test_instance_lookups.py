"""Recovery instances DRS does not name: looked for until known, bounded and backing off (reference
§12.5, §12.14); what cannot be found is said, never counted as "nothing running"."""

from __future__ import annotations

import itertools

from drs_desktop.domain.engine.commands import TerminateInstances
from drs_desktop.domain.engine.events import (
    Cancel,
    CleanupRequested,
    ExecutionFinished,
    Outcome,
    RecoveryInstancesObserved,
)
from drs_desktop.domain.engine.instance_events import InstancesNotFound
from drs_desktop.domain.engine.instances import (
    INSTANCE_LOOK_FIRST_INTERVAL,
    INSTANCE_LOOKS_AFTER_FAILURE,
    INSTANCE_LOOKS_MAX,
    instances_not_found,
)
from drs_desktop.domain.engine.queries import drill_instances_running
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.views.evidence import collect_evidence
from drs_desktop.domain.views.progress import ProgressTracker

from ..instance_lag import InstanceLag
from .conftest import Shipped
from .helpers import chain, sid
from .shipped_run import ShippedRun


def looks(h: ShippedRun) -> list[RecoveryInstancesObserved]:
    return [e for e in h.events() if isinstance(e, RecoveryInstancesObserved)]


def test_an_instance_drs_lists_late_is_found_by_later_looks_that_back_off(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.backend.faults.omit_instance_ids(servers=[sid(1)])
    lag = InstanceLag(h.backend, (sid(1),), hidden_looks=3)
    h.act()
    job = h.job_of_chunk("1.1")
    h.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert h.state.servers[sid(1)].recovery_instance_id == h.instance_of(job, sid(1))
    assert lag.looks == 4 and len(looks(h)) == 4
    times = [e.at for e in looks(h)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= INSTANCE_LOOK_FIRST_INTERVAL * 0.8
    assert gaps[0] < gaps[1] < gaps[2]  # doubling (with jitter)
    finished = next(e for e in h.events() if isinstance(e, ExecutionFinished))
    assert finished.at >= times[-1]  # not before the instance was known
    assert not any(isinstance(e, InstancesNotFound) for e in h.events())


def test_an_instance_never_listed_is_said_not_found_and_the_run_goes_on(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.backend.faults.omit_instance_ids(servers=[sid(1)])
    InstanceLag(h.backend, (sid(1),), hidden_looks=None)
    h.act()
    h.launch_everything()
    h.run()
    assert h.state.finished is Outcome.SUCCEEDED
    assert len(looks(h)) == INSTANCE_LOOKS_MAX
    events = h.events()
    (gave_up,) = [e for e in events if isinstance(e, InstancesNotFound)]
    assert gave_up.server_ids == (sid(1),)
    assert events.index(gave_up) < next(i for i, e in enumerate(events) if isinstance(e, ExecutionFinished))
    assert instances_not_found(h.state) == ((sid(1), INSTANCE_LOOKS_MAX),)
    text = f"instance of {sid(1)} not found in DRS after {INSTANCE_LOOKS_MAX} looks"
    assert collect_evidence(h.state).instance_problems == (text,)
    snapshot = ProgressTracker().update(h.state, h.now)
    assert snapshot is not None and snapshot.instance_problems == (text,)
    # One instance is known, the other is not: cleanup is offered, and never says "nothing running".
    assert len(drill_instances_running(h.state)) == 1
    h.record(CleanupRequested(at=h.now, by="op"))
    h.run()
    assert drill_instances_running(h.state) == ()
    assert collect_evidence(h.state).instance_problems == (text,)  # the survey did not see it either
    assert control_error(h.state, CleanupRequested(at=h.now, by="op")) is None  # may look again


def test_looks_survive_a_restart_and_stay_bounded(shipped: Shipped) -> None:
    h = shipped(chain(1))
    h.backend.faults.omit_instance_ids(servers=[sid(1)])
    InstanceLag(h.backend, (sid(1),), hidden_looks=None)
    h.act()
    h.launch_everything()
    h.run(until=lambda: len(looks(h)) == 3)
    h.crash()
    assert h.state.servers[sid(1)].instance_looks == 3  # rebuilt from the journal
    h.run()
    assert len(looks(h)) == INSTANCE_LOOKS_MAX
    assert instances_not_found(h.state) == ((sid(1), INSTANCE_LOOKS_MAX),)
    assert h.state.finished is Outcome.SUCCEEDED


def test_an_instance_a_failed_launch_left_is_found_and_cleaned_up(shipped: Shipped) -> None:
    h = shipped(chain(2))
    h.act()
    job = h.job_of_chunk("1.1")
    left = h.by_hand.fail(job, sid(1), with_instance=True)
    participant = h.backend.world.jobs[job].participant(sid(1))
    assert participant is not None
    participant.show_instance_id = False  # DescribeJobs does not name it (§12.5)
    InstanceLag(h.backend, (sid(1),), hidden_looks=1)
    h.by_hand.finish(job)
    h.run()
    assert left is not None and h.state.instances[left].job_id == job
    assert h.state.instances[left].server_id == sid(1)
    assert len(looks(h)) == 2 <= INSTANCE_LOOKS_AFTER_FAILURE
    assert not any(isinstance(e, InstancesNotFound) for e in h.events())
    assert h.state.finished is None  # held by the critical failure
    h.record(Cancel(at=h.now, by="op", terminate_drill_instances=True))
    h.run()
    assert left in h.terminated()
    assert h.state.finished is Outcome.FAILED


def test_a_failed_launch_without_an_instance_is_looked_for_briefly_and_not_reported(shipped: Shipped) -> None:
    h = shipped(chain(3))
    h.act()
    job = h.job_of_chunk("1.1")
    h.by_hand.progress(job, sid(1), "LAUNCH_START")  # DRS began to launch its EC2 instance
    h.by_hand.fail(job, sid(1))  # then LAUNCH_FAILED, no instance left
    h.by_hand.fail(job, sid(2), event="CONVERSION_FAIL", reason="conversion broke")  # never got that far
    h.by_hand.finish(job)
    h.run()
    assert len(looks(h)) == INSTANCE_LOOKS_AFTER_FAILURE
    assert {s for e in looks(h) for s in e.server_ids} == {sid(1)}
    assert instances_not_found(h.state) == ()
    assert collect_evidence(h.state).instance_problems == ()
    assert not any(isinstance(c, TerminateInstances) for c in h.decide())
