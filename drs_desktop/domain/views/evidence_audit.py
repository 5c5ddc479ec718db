"""The audit part of a run's evidence (issue 18): the test, the RPO per launched server, the findings with
what each change changed, and the review and sign-off, ready for every form of the report.

``views.audit`` folds the annotations into what they now say; an auditor also asks *what* changed in a
finding and when ("severity high -> medium, status open -> resolved, by ben on 3 Dec: TTL lowered"),
which the fold keeps only as the new status, so ``finding_histories`` walks the same events with the same
rules (an update of a finding never added is passed over; a second add of one ID too) and diffs each
update against the finding as it stood. The RPO target comes from the plan revision the run pinned (its
``rpo_minutes``), never from today's plan. A sign-off is self-signed when its event says so, or when
its ARN is the run's own: a report must never present a run's own operator as an independent reviewer.
Pure, stdlib only; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingUpdated,
    RecoveryPoint,
    ReviewSignedOff,
    TestRecorded,
)
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.views.audit import AuditRecord, Finding, ServerRpo, audit_record, rpo_achieved

__all__ = [
    "NOT_RECORDED",
    "NOT_SIGNED",
    "NO_FINDINGS",
    "RPO_DEFINITION",
    "SELF_SIGNED",
    "AuditEvidence",
    "FieldChange",
    "FindingStep",
    "RpoSummary",
    "SignOff",
    "audit_evidence",
    "finding_histories",
    "launched_servers",
    "rpo_target",
]

NOT_RECORDED = "not recorded (run before DRS Desktop recorded tests)"
NO_FINDINGS = "no findings recorded"
NOT_SIGNED = "not signed off"
SELF_SIGNED = "self-signed: the reviewer is the run's own identity"
#: How the achieved RPO is computed (``views.audit``'s module docstring, in a report's words).
RPO_DEFINITION = (
    "Achieved RPO: how much data from before the reference point the recovered server lacks. The "
    "reference is the chosen point in time, or the run's start for a run on the latest data; the "
    "recovered data is from the chosen snapshot's time, or the recovery instance's point-in-time snapshot "
    "time. A snapshot DRS took as the run launched was behind its source by the replication lag read when "
    "the run started, so that lag counts too. Never below zero."
)

#: The fields of a finding an update may change, in the order a change is told.
_FIELDS = ("text", "severity", "owner", "due", "status")


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class FindingStep:
    """One journaled step of a finding: its creation (``changes`` empty) or an update, with the fields it
    changed (an update that changed nothing still counts: its comment is evidence)."""

    at: datetime
    by: str
    status: str
    comment: str
    created: bool
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class RpoSummary:
    """The worst achieved RPO against the target. ``result``: "met", "not met" or "unknown"."""

    servers: int
    worst: ServerRpo | None
    target: timedelta | None
    result: str
    met: int
    not_met: int
    unknown: int


@dataclass(frozen=True)
class SignOff:
    """A sign-off as the report shows it: ``current`` is the latest, earlier ones are superseded.
    ``self_signed``: the event says so, or its ARN is the run's own."""

    event: ReviewSignedOff
    self_signed: bool
    current: bool


@dataclass(frozen=True)
class AuditEvidence:
    """Everything the report's audit sections show. ``rpo_target_problem`` says why the target is not
    known ("" when it is, or when the plan revision sets none: ``rpo_target_set``)."""

    test: TestRecorded | None
    reference_at: datetime
    reference_is_point: bool
    rpo: tuple[ServerRpo, ...]
    rpo_summary: RpoSummary
    rpo_target_set: bool
    rpo_target_problem: str
    findings: tuple[Finding, ...]  # open ones first, then closed, each in the order it was added
    histories: Mapping[str, tuple[FindingStep, ...]]
    sign_offs: tuple[SignOff, ...]  # oldest first; the last is current
    points: Mapping[str, RecoveryPoint]  # the recorded recovery point of each server

    @property
    def sign_off(self) -> SignOff | None:
        return self.sign_offs[-1] if self.sign_offs else None


def rpo_target(document: Mapping[str, Any] | None, problem: str = "") -> tuple[int | None, str]:
    """The pinned plan document's RPO target in minutes, and why it is not known ("" when known or
    unset). A value that is not a positive whole number is a problem, never a guess."""
    if document is None:
        return None, problem or "the pinned plan revision is not available"
    value = document.get("rpo_minutes")
    if value is None:
        return None, ""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None, f"the pinned plan revision's rpo_minutes is not a whole number of minutes: {value!r}"
    return value, ""


def finding_histories(events: Iterable[object]) -> dict[str, tuple[FindingStep, ...]]:
    """Each finding's steps, in journal order, with the fields each update changed."""
    current: dict[str, dict[str, str]] = {}
    steps: dict[str, list[FindingStep]] = {}
    for event in events:
        if isinstance(event, FindingAdded) and event.finding_id not in current:
            current[event.finding_id] = _fields(event)
            steps[event.finding_id] = [
                FindingStep(event.at, event.by, event.status.value, "", created=True, changes=())
            ]
        elif isinstance(event, FindingUpdated) and event.finding_id in current:
            old, new = current[event.finding_id], _fields(event)
            changes = tuple(
                FieldChange(name, old[name], new[name]) for name in _FIELDS if old[name] != new[name]
            )
            current[event.finding_id] = new
            steps[event.finding_id].append(
                FindingStep(event.at, event.by, event.status.value, event.comment, False, changes)
            )
    return {finding_id: tuple(found) for finding_id, found in steps.items()}


def _fields(event: FindingAdded | FindingUpdated) -> dict[str, str]:
    return {
        "text": event.text,
        "severity": event.severity.value,
        "owner": event.owner,
        "due": event.due,
        "status": event.status.value,
    }


def launched_servers(state: ExecutionState, record: AuditRecord) -> tuple[str, ...]:
    """The servers whose RPO the run measures: every server that launched, in plan order, then any
    other server a recovery point was recorded for (so nothing recorded is left out)."""
    ordered = [sid for wave in state.spec.waves for sid in wave.server_ids]
    launched = [sid for sid in ordered if state.servers[sid].launched_at is not None]
    place = {sid: index for index, sid in enumerate(ordered)}
    others = sorted(
        (sid for sid in record.points if sid not in launched),
        key=lambda sid: (place.get(sid, len(place)), sid),
    )
    return (*launched, *others)


def _summary(rows: tuple[ServerRpo, ...], target: timedelta | None) -> RpoSummary:
    met = sum(1 for r in rows if r.met is True)
    not_met = sum(1 for r in rows if r.met is False)
    known = [r for r in rows if r.achieved is not None]
    worst = max(known, key=lambda r: (r.achieved, r.server_id)) if known else None
    if not rows:
        result = "unknown"
    elif not_met:
        result = "not met"
    elif met == len(rows):
        result = "met"
    else:
        result = "unknown"
    return RpoSummary(len(rows), worst, target, result, met, not_met, len(rows) - met - not_met)


def audit_evidence(
    annotations: Iterable[object],
    state: ExecutionState,
    *,
    plan_document: Mapping[str, Any] | None,
    plan_problem: str = "",
    run_arn: str = "",
) -> AuditEvidence:
    """The audit sections of the run of ``state`` from its journal's ``annotations``; the RPO target
    from its pinned ``plan_document`` (``plan_problem``: why that document is missing)."""
    events = tuple(annotations)
    record = audit_record(events)
    minutes, problem = rpo_target(plan_document, plan_problem)
    spec = state.spec
    reference = spec.point_in_time or spec.started_at
    rows = rpo_achieved(record, launched_servers(state, record), reference_at=reference, rpo_minutes=minutes)
    target = None if minutes is None else timedelta(minutes=minutes)
    findings = tuple(f for f in record.findings if f.open) + tuple(f for f in record.findings if not f.open)
    count = len(record.sign_offs)
    sign_offs = tuple(
        SignOff(s, s.self_signed or bool(run_arn and s.arn == run_arn), current=number == count - 1)
        for number, s in enumerate(record.sign_offs)
    )
    return AuditEvidence(
        test=record.test,
        reference_at=reference,
        reference_is_point=spec.point_in_time is not None,
        rpo=rows,
        rpo_summary=_summary(rows, target),
        rpo_target_set=minutes is not None,
        rpo_target_problem=problem,
        findings=findings,
        histories=finding_histories(events),
        sign_offs=sign_offs,
        points=record.points,
    )
