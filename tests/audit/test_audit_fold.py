"""The audit record folds a run's annotations: findings as they now stand, sign-offs, the achieved RPO."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.engine.events import Tick
from drs_desktop.domain.views.audit import audit_record, rpo_achieved

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _signed(at: datetime, *, self_signed: bool, accepted: bool = True) -> ReviewSignedOff:
    return ReviewSignedOff(
        arn="arn:aws:iam::111122223333:user/cho",
        account="111122223333",
        user_id="AIDAEXAMPLE",
        accepted=accepted,
        self_signed=self_signed,
        at=at,
    )


def test_findings_fold_to_their_latest_state_with_every_change() -> None:
    events = [
        TestRecorded(test_type=TestType.DRILL, scenario="Region outage", at=T0),
        Tick(at=T0),
        FindingAdded(finding_id="f1", text="DNS late", severity=Severity.HIGH, owner="ben", at=T0, by="ana"),
        FindingAdded(finding_id="f2", text="runbook stale", severity=Severity.LOW, at=T0, by="ana"),
        FindingUpdated(
            finding_id="f1",
            text="DNS late",
            severity=Severity.MEDIUM,
            owner="ben",
            due="2027-01-04",
            status=FindingStatus.RESOLVED,
            comment="TTL lowered",
            at=T0 + timedelta(days=2),
            by="ben",
        ),
        FindingUpdated(finding_id="ghost", text="x", severity=Severity.LOW, status=FindingStatus.OPEN, at=T0),
    ]
    record = audit_record(events)
    assert record.test is not None and record.test.scenario == "Region outage"
    f1 = record.finding("f1")
    assert f1 is not None and f1.status is FindingStatus.RESOLVED and f1.severity is Severity.MEDIUM
    assert f1.added_by == "ana" and f1.updated_at == T0 + timedelta(days=2)
    assert [c.comment for c in f1.changes] == ["", "TTL lowered"]
    assert [f.finding_id for f in record.open_findings] == ["f2"]
    assert record.finding("ghost") is None, "an update of a finding never added is not invented"


def test_the_latest_sign_off_decides_and_a_self_signed_one_is_not_independent() -> None:
    assert not audit_record([]).signed_independently
    assert not audit_record([_signed(T0, self_signed=True)]).signed_independently
    assert audit_record([_signed(T0, self_signed=True), _signed(T0, self_signed=False)]).signed_independently
    rejected = audit_record([_signed(T0, self_signed=False), _signed(T0, self_signed=False, accepted=False)])
    assert not rejected.signed_independently


def test_rpo_achieved_counts_the_lag_for_a_launch_snapshot_and_never_goes_below_zero() -> None:
    start = T0
    record = audit_record(
        [
            RecoveryPointsRecorded(
                points=(
                    # DRS's launch snapshot 2 min after the start, the data 30 s behind: nothing lost.
                    RecoveryPoint(server_id="s-a", data_at=start + timedelta(minutes=2), lag_seconds=30),
                    # Snapshot 1 min before the start, 10 min behind: 11 min lost.
                    RecoveryPoint(server_id="s-b", data_at=start - timedelta(minutes=1), lag_seconds=600),
                    # A chosen point-in-time snapshot: its own time, no lag added.
                    RecoveryPoint(
                        server_id="s-c",
                        data_at=start - timedelta(minutes=20),
                        source="snapshot",
                        lag_seconds=600,
                    ),
                    RecoveryPoint(server_id="s-d", data_at=None),
                ),
                at=start,
            )
        ]
    )
    rows = rpo_achieved(record, ["s-a", "s-b", "s-c", "s-d", "s-e"], reference_at=start, rpo_minutes=15)
    assert [r.achieved for r in rows] == [
        timedelta(0),
        timedelta(minutes=11),
        timedelta(minutes=20),
        None,
        None,
    ]
    assert [r.met for r in rows] == [True, True, False, None, None]
    assert rpo_achieved(record, ["s-a"], reference_at=start, rpo_minutes=None)[0].met is None
