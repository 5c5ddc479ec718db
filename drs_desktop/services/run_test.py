"""What a new run is a test of (issue 18): its ``TestRecorded``, journaled as the execution is created.

``services.executions.create_execution`` journals it in the transaction that creates the execution, as its
first entry, before the runner exists and so before any StartRecovery: a run never launches without it, a
crash cannot leave a run without it, and a resumed run never journals a second one.

The test type is what an auditor files it as: ``recovery`` for a RECOVERY; ``partial`` for a drill of
part of the plan (a wave of the plan that launches no server in this run: its groups resolved to no server
here); else ``drill``. ``RunRequest`` has no way yet to leave waves or servers out on purpose; a request
that gains one passes what it leaves out to ``test_type_of`` as well. The brief is the plan's
(``RecoveryPlan.brief``) unless the request carries the one the operator edited before the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from drs_desktop.domain.engine.annotation_events import TestRecorded, TestType
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, TestBrief

__all__ = ["test_recorded", "test_type_of"]


def test_type_of(mode: Mode, plan: RecoveryPlan, wave_servers: Mapping[str, Sequence[str]]) -> TestType:
    """``recovery``, ``partial`` (a drill in which a wave of the plan launches nothing) or ``drill``."""
    if mode is Mode.RECOVERY:
        return TestType.RECOVERY
    if any(not wave_servers.get(wave.name) for wave in plan.waves):
        return TestType.PARTIAL
    return TestType.DRILL


test_type_of.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def test_recorded(
    mode: Mode,
    plan: RecoveryPlan,
    wave_servers: Mapping[str, Sequence[str]],
    brief: TestBrief | None,
    *,
    at: datetime,
    by: str,
) -> TestRecorded:
    """The run's test record: its type, and the brief it runs with (the request's, else the plan's)."""
    used = plan.brief if brief is None else brief
    return TestRecorded(
        test_type=test_type_of(mode, plan, wave_servers),
        scenario=used.scenario.strip(),
        objectives=_items(used.objectives),
        success_criteria=_items(used.success_criteria),
        participants=_items(used.participants),
        at=at,
        by=by,
    )


test_recorded.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _items(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(value.strip() for value in values if value.strip())
