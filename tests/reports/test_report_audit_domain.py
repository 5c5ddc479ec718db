"""The audit evidence's pure rules: a point-in-time run measures from its chosen point, the RPO target is
read strictly from the pinned plan document, and a finding's history names what each update changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    Severity,
)
from drs_desktop.domain.engine.reducer import initial_state
from drs_desktop.domain.engine.state import ExecutionState, Mode, spec_from_plan
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.evidence_audit import FieldChange, audit_evidence, finding_histories, rpo_target

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POINT = T0 - timedelta(hours=3)
SERVERS = ("s-0000000000000000a", "s-0000000000000000b", "s-0000000000000000c")


def _state(point_in_time: datetime | None = POINT) -> ExecutionState:
    plan = RecoveryPlan(name="P", waves=(Wave(name="All", servers=SERVERS),))
    spec = spec_from_plan(
        plan,
        {"All": SERVERS},
        execution_id="e-1",
        mode=Mode.DRILL,
        started_at=T0,
        point_in_time=point_in_time,
        snapshot_ids={s: f"pit-{s[-1]}" for s in SERVERS} if point_in_time else {},
    )
    return initial_state(spec)


def test_a_point_in_time_run_measures_from_the_chosen_point() -> None:
    points = RecoveryPointsRecorded(
        points=(
            # The chosen snapshot: its lag at the run's start does not count (it was not taken then).
            RecoveryPoint(
                server_id=SERVERS[2], data_at=POINT - timedelta(minutes=4), source="snapshot", lag_seconds=900
            ),
            RecoveryPoint(server_id=SERVERS[0], data_at=POINT - timedelta(minutes=30), source="snapshot"),
        ),
        at=T0,
    )
    evidence = audit_evidence([points], _state(), plan_document={"rpo_minutes": 10})
    assert evidence.reference_is_point and evidence.reference_at == POINT
    # No server launched in this state: the recorded ones are still measured, in plan order.
    assert [r.server_id for r in evidence.rpo] == [SERVERS[0], SERVERS[2]]
    assert [r.achieved for r in evidence.rpo] == [timedelta(minutes=30), timedelta(minutes=4)]
    assert [r.met for r in evidence.rpo] == [False, True]
    summary = evidence.rpo_summary
    assert summary.result == "not met" and summary.worst is not None and summary.worst.server_id == SERVERS[0]


def test_a_run_on_the_latest_data_measures_from_its_start() -> None:
    evidence = audit_evidence([], _state(None), plan_document={"rpo_minutes": 10})
    assert not evidence.reference_is_point and evidence.reference_at == T0
    assert evidence.rpo == () and evidence.rpo_summary.result == "unknown"  # nothing launched, nothing known


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"rpo_minutes": 15}, (15, "")),
        ({}, (None, "")),
        (None, (None, "the pinned plan revision is not available")),
        (
            {"rpo_minutes": "15"},
            (None, "the pinned plan revision's rpo_minutes is not a whole number of minutes: '15'"),
        ),
        (
            {"rpo_minutes": True},
            (None, "the pinned plan revision's rpo_minutes is not a whole number of minutes: True"),
        ),
        (
            {"rpo_minutes": -5},
            (None, "the pinned plan revision's rpo_minutes is not a whole number of minutes: -5"),
        ),
    ],
)
def test_the_rpo_target_is_read_strictly(document: dict | None, expected: tuple) -> None:
    assert rpo_target(document) == expected


def test_a_findings_history_names_each_change_and_passes_over_strays() -> None:
    events = [
        FindingAdded(finding_id="f", text="a", severity=Severity.LOW, at=T0, by="ana"),
        FindingAdded(finding_id="f", text="again", severity=Severity.HIGH, at=T0, by="x"),  # a duplicate add
        FindingUpdated(finding_id="ghost", text="x", severity=Severity.LOW, status=FindingStatus.OPEN, at=T0),
        FindingUpdated(
            finding_id="f", text="a", severity=Severity.LOW, owner="ben", due="2027-01-01",
            status=FindingStatus.IN_PROGRESS, comment="taking it", at=T0 + timedelta(hours=1), by="ben",
        ),
        FindingUpdated(
            finding_id="f", text="a", severity=Severity.LOW, owner="ben", due="2027-01-01",
            status=FindingStatus.IN_PROGRESS, comment="still on it", at=T0 + timedelta(hours=2), by="ben",
        ),
    ]  # fmt: skip
    steps = finding_histories(events)
    assert list(steps) == ["f"]
    created, taken, noted = steps["f"]
    assert created.created and created.by == "ana" and created.changes == ()
    assert taken.changes == (
        FieldChange("owner", "", "ben"),
        FieldChange("due", "", "2027-01-01"),
        FieldChange("status", "open", "in progress"),
    )
    assert noted.changes == () and noted.comment == "still on it"  # a comment alone is evidence too
