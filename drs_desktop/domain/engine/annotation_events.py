"""Events that annotate a run for its evidence and never change what the engine decides (issue 18).

They are ``ANNOTATION_TYPES`` (``engine.events``): journaled with ``"core": false``, so a teammate's older
DRS Desktop reading a synced journal skips them and reads the rest; the reducer returns the state as it
was. They may be journaled while the run goes on (the runner journals them, as every event) or after it
ended (``services.audit``), and they sync with the journal. ``domain.views.audit`` folds them into what
the reports show.

Frozen and JSON-serializable like every event: add fields with defaults, never repurpose one. Dates an
operator types (a finding's due date) are ISO ``YYYY-MM-DD`` text, as they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TestType(StrEnum):
    """What kind of test a run was, as an auditor files it."""

    __test__ = False  # not a pytest class

    DRILL = "drill"  # every server of the plan, launched as a drill
    RECOVERY = "recovery"  # a real recovery
    PARTIAL = "partial"  # a drill of part of the plan (some waves or servers left out)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FindingStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in progress"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"  # a risk the owner accepted: closed without a fix

    @property
    def closed(self) -> bool:
        return self in (FindingStatus.RESOLVED, FindingStatus.ACCEPTED)


@dataclass(frozen=True, kw_only=True)
class TestRecorded:
    """What the run was a test of: its type, scenario, objectives, success criteria and participants,
    from the plan's brief as the operator edited it before the run. Journaled once, as the run starts."""

    __test__ = False  # not a pytest class

    test_type: TestType
    scenario: str = ""
    objectives: tuple[str, ...] = ()
    success_criteria: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class FindingAdded:
    """A finding: what was wrong or could be better, how bad, who fixes it and by when."""

    finding_id: str
    text: str
    severity: Severity
    owner: str = ""
    due: str = ""  # YYYY-MM-DD, or empty
    status: FindingStatus = FindingStatus.OPEN
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class FindingUpdated:
    """A finding's new state, every field as it now is (the last one journaled wins)."""

    finding_id: str
    text: str
    severity: Severity
    owner: str = ""
    due: str = ""
    status: FindingStatus
    comment: str = ""
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewSignedOff:
    """The post-run review, signed by a person with their own AWS identity (STS GetCallerIdentity on the
    profile or SSO session they signed in with). ``self_signed``: the signer's identity is the run's."""

    arn: str
    account: str
    user_id: str
    profile: str = ""
    review: str = ""
    accepted: bool = True
    self_signed: bool = False
    at: datetime
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class RecoveryPoint:
    """When one server's recovered data is from. ``data_at`` None: DRS did not say. ``source`` says where
    the time came from: ``snapshot`` (the point-in-time snapshot the run chose) or ``instance`` (the
    recovery instance's ``pointInTimeSnapshotDateTime``)."""

    server_id: str
    data_at: datetime | None
    source: str = "instance"
    lag_seconds: int | None = None  # DRS's replication lag for the server when the run started


@dataclass(frozen=True, kw_only=True)
class RecoveryPointsRecorded:
    """The recovery points of launched servers, for the achieved RPO."""

    points: tuple[RecoveryPoint, ...]
    at: datetime
