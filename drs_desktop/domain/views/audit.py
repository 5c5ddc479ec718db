"""What a run's annotations say for its audit (issue 18): the test it was, its findings as they now stand,
its sign-offs, and the RPO it achieved per server.

The annotations are journal events (``engine.annotation_events``) that never change what the engine
decides; this module folds them, in journal order, into an ``AuditRecord`` that every report (HTML, PDF,
CSV, JSON), the period roll-up and the GUI read. Pure, stdlib only; time is passed in.

The achieved RPO of a server is how much of the data from before the run's reference point is missing from
what was recovered: the reference is the chosen point in time, or the run's start for a run on the latest
data. The recovered data is from ``data_at`` (the chosen snapshot's time, or the recovery instance's
``pointInTimeSnapshotDateTime``); a snapshot DRS took as the run launched carried data that was behind the
source by the replication lag, so that lag (read when the run started) counts too. Never below zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
)

__all__ = [
    "AuditRecord",
    "Finding",
    "FindingChange",
    "ServerRpo",
    "audit_record",
    "rpo_achieved",
]


@dataclass(frozen=True)
class FindingChange:
    """One journaled change of a finding (its creation first)."""

    at: datetime
    by: str
    status: FindingStatus
    comment: str = ""


@dataclass(frozen=True)
class Finding:
    """A finding as it now stands, with every change made to it."""

    finding_id: str
    text: str
    severity: Severity
    owner: str
    due: str
    status: FindingStatus
    added_at: datetime
    added_by: str
    changes: tuple[FindingChange, ...]

    @property
    def open(self) -> bool:
        return not self.status.closed

    @property
    def updated_at(self) -> datetime:
        return self.changes[-1].at


@dataclass(frozen=True)
class AuditRecord:
    """Everything the annotations of one run say. ``test`` None: the run recorded no test (a run from
    before issue 18, or one whose start journaled none)."""

    test: TestRecorded | None = None
    findings: tuple[Finding, ...] = ()
    sign_offs: tuple[ReviewSignedOff, ...] = ()
    points: Mapping[str, RecoveryPoint] = field(default_factory=dict)

    @property
    def open_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.open)

    @property
    def sign_off(self) -> ReviewSignedOff | None:
        """The latest sign-off (a later one replaces an earlier one, as a review done again)."""
        return self.sign_offs[-1] if self.sign_offs else None

    @property
    def signed_independently(self) -> bool:
        """Whether the latest sign-off accepts the run and is by someone other than its operator."""
        latest = self.sign_off
        return latest is not None and latest.accepted and not latest.self_signed

    def finding(self, finding_id: str) -> Finding | None:
        for finding in self.findings:
            if finding.finding_id == finding_id:
                return finding
        return None


def audit_record(events: Iterable[object]) -> AuditRecord:
    """The audit record the journal's annotations make, in journal order; other events are passed over.

    A ``FindingUpdated`` for a finding never added (a journal cut short) is passed over rather than
    invented; a second ``TestRecorded`` replaces the first.
    """
    test: TestRecorded | None = None
    findings: dict[str, Finding] = {}
    sign_offs: list[ReviewSignedOff] = []
    points: dict[str, RecoveryPoint] = {}
    for event in events:
        match event:
            case TestRecorded():
                test = event
            case FindingAdded():
                if event.finding_id not in findings:
                    findings[event.finding_id] = Finding(
                        finding_id=event.finding_id,
                        text=event.text,
                        severity=event.severity,
                        owner=event.owner,
                        due=event.due,
                        status=event.status,
                        added_at=event.at,
                        added_by=event.by,
                        changes=(FindingChange(event.at, event.by, event.status),),
                    )
            case FindingUpdated():
                old = findings.get(event.finding_id)
                if old is not None:
                    findings[event.finding_id] = Finding(
                        finding_id=old.finding_id,
                        text=event.text,
                        severity=event.severity,
                        owner=event.owner,
                        due=event.due,
                        status=event.status,
                        added_at=old.added_at,
                        added_by=old.added_by,
                        changes=(
                            *old.changes,
                            FindingChange(event.at, event.by, event.status, event.comment),
                        ),
                    )
            case ReviewSignedOff():
                sign_offs.append(event)
            case RecoveryPointsRecorded():
                for point in event.points:
                    points[point.server_id] = point
    return AuditRecord(
        test=test, findings=tuple(findings.values()), sign_offs=tuple(sign_offs), points=points
    )


@dataclass(frozen=True)
class ServerRpo:
    """One server's achieved RPO against the plan's target. ``achieved`` None: its data time is unknown
    (DRS did not say, or the server never launched); ``met`` None: unknown or no target."""

    server_id: str
    data_at: datetime | None
    reference_at: datetime
    achieved: timedelta | None
    target: timedelta | None

    @property
    def met(self) -> bool | None:
        if self.achieved is None or self.target is None:
            return None
        return self.achieved <= self.target


def rpo_achieved(
    record: AuditRecord,
    server_ids: Iterable[str],
    *,
    reference_at: datetime,
    rpo_minutes: int | None,
) -> tuple[ServerRpo, ...]:
    """The achieved RPO of each of ``server_ids`` (the run's launched servers), in that order."""
    target = None if rpo_minutes is None else timedelta(minutes=rpo_minutes)
    rows = []
    for server_id in server_ids:
        point = record.points.get(server_id)
        data_at = None if point is None else point.data_at
        achieved: timedelta | None = None
        if point is not None and data_at is not None:
            lag = timedelta(seconds=point.lag_seconds or 0) if point.source == "instance" else timedelta(0)
            achieved = max(timedelta(0), reference_at - data_at + lag)
        rows.append(ServerRpo(server_id, data_at, reference_at, achieved, target))
    return tuple(rows)
