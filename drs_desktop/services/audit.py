"""A run's annotations for its audit (issue 18): findings added and updated, and the sign-off of its
review, journaled whatever state the run is in. Qt-free: the CLI (``cli_audit``) and the GUI call these.

Only an execution's driver appends to its journal (``storage.executions``), so where an annotation goes
depends on who drives the run now:

- **nobody** (a finished run, or one whose driver stopped): this process takes the execution's driver
  lock (``services.driver_lock``), appends with ``expected_last`` and releases it. The append queues the
  journal and the head for team sync, and the annotation travels with ``"core": false`` (an older
  DRS Desktop skips it);
- **another process here** (a ``run`` in a terminal, the GUI): the annotation goes through the control
  inbox (``storage.control_inbox``), and the driver journals it between two steps, stamped with its clock.
  If the driver stops before it takes it, this process decides the row itself under the lock;
- **this process's own loop** (the GUI's execution thread): ``submit_live`` hands it to the loop's
  ``submit``, the runner's own control path;
- **another desktop** (an execution that came through team sync): refused, naming that desktop. Its
  journal is appended to by its driver alone; an entry made here would fork its lineage (docs/sync.md,
  "More than one driver"), so the finding is added on the desktop that ran it (or after a takeover).

Every entry is checked first (``services.audit_input``); a refusal or a bad entry journals nothing.
Times of annotations made here are the desktop's clock (UTC); the driver restamps what it journals.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from drs_desktop.domain.drs.views import CallerIdentity
from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    ReviewSignedOff,
    Severity,
)
from drs_desktop.domain.engine.events import Event, event_to_json
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.audit import AuditRecord, audit_record
from drs_desktop.services.audit_identity import same_identity
from drs_desktop.services.audit_input import (
    MAX_LINE,
    AnnotationInputError,
    check_due,
    check_line,
    check_severity,
    check_status,
    check_text,
    new_finding_id,
)
from drs_desktop.services.driver_lock import DriverLock, describe_driver, lock_path
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database, Readable
from drs_desktop.storage.sync_apply import foreign_writer

logger = logging.getLogger(__name__)

__all__ = [
    "Annotated",
    "AnnotationInputError",
    "AnnotationRefused",
    "add_finding",
    "annotate",
    "audit_of",
    "finding_added",
    "finding_updated",
    "sign_off",
    "signed_off",
    "submit_live",
    "update_finding",
]

#: How long an annotation handed to a live driver is waited for (it looks at its inbox every second).
INBOX_WAIT_SECONDS = 15.0
Clock = Callable[[], datetime]
IdentityOf = Callable[[str], CallerIdentity]
#: The annotation events ``annotate`` journals.
A = TypeVar("A", FindingAdded, FindingUpdated, ReviewSignedOff)


class AnnotationRefused(DrsDesktopError):
    """The annotation cannot be journaled here now (the message says why and where it can)."""


@dataclass(frozen=True)
class Annotated(Generic[A]):
    """What became of an annotation: ``journaled`` (with its journal ``seq``), ``queued`` for a live
    driver that has not taken it yet (``inbox_id``), or ``refused`` by that driver (``reason``)."""

    execution_id: str
    event: A
    state: str
    seq: int | None = None
    inbox_id: int | None = None
    reason: str | None = None
    driver: str = ""

    @property
    def journaled(self) -> bool:
        return self.state == inbox.JOURNALED

    def describe(self) -> str:
        what = type(self.event).__name__
        if self.state == inbox.JOURNALED:
            return f"{what} journaled for execution {self.execution_id} (journal entry {self.seq})"
        if self.state == inbox.REFUSED:
            return f"{what} refused by the driver: {self.reason}"
        return f"{what} queued: {self.driver}; it journals it before its next step"


def _now() -> datetime:
    return datetime.now(UTC)


def audit_of(db: Readable, execution_id: str) -> AuditRecord:
    """The run's annotations folded (``domain.views.audit``): for the GUI's findings list and the CLI."""
    record = journal.get_execution(db, execution_id)
    return audit_record(journal.read_journal(db, record).events)


def finding_added(
    record: AuditRecord,
    *,
    text: str,
    severity: str | Severity,
    owner: str = "",
    due: str = "",
    at: datetime,
    by: str = "",
) -> FindingAdded:
    """A new finding from what the operator typed, with an ID unique in ``record``'s run;
    ``AnnotationInputError`` (one line) for an entry that cannot be journaled as typed."""
    return FindingAdded(
        finding_id=new_finding_id({f.finding_id for f in record.findings}),
        text=check_text(text, "the finding's text"),
        severity=check_severity(severity),
        owner=check_line(owner, "the owner"),
        due=check_due(due),
        status=FindingStatus.OPEN,
        at=at,
        by=by,
    )


def finding_updated(
    record: AuditRecord,
    finding_id: str,
    *,
    text: str | None = None,
    severity: str | Severity | None = None,
    owner: str | None = None,
    due: str | None = None,
    status: str | FindingStatus | None = None,
    comment: str = "",
    at: datetime,
    by: str = "",
) -> FindingUpdated:
    """The finding's new state: every field as it stands, with the ones given changed (None: kept).
    ``AnnotationInputError`` for an unknown finding, a bad entry, or an update that changes nothing and
    says nothing (no comment)."""
    current = record.finding(finding_id.strip())
    if current is None:
        known = ", ".join(f.finding_id for f in record.findings) or "none yet"
        raise AnnotationInputError(f"this run has no finding {finding_id!r} (its findings: {known})")
    event = FindingUpdated(
        finding_id=current.finding_id,
        text=current.text if text is None else check_text(text, "the finding's text"),
        severity=current.severity if severity is None else check_severity(severity),
        owner=current.owner if owner is None else check_line(owner, "the owner"),
        due=current.due if due is None else check_due(due),
        status=current.status if status is None else check_status(status),
        comment=check_text(comment, "the comment", required=False),
        at=at,
        by=by,
    )
    unchanged = (event.text, event.severity, event.owner, event.due, event.status) == (
        current.text,
        current.severity,
        current.owner,
        current.due,
        current.status,
    )
    if unchanged and not event.comment:
        raise AnnotationInputError(f"nothing to change on finding {current.finding_id}: give a new value")
    return event


def add_finding(
    db: Database,
    execution_id: str,
    *,
    text: str,
    severity: str | Severity,
    owner: str = "",
    due: str = "",
    by: str = "",
    clock: Clock = _now,
    wait_seconds: float = INBOX_WAIT_SECONDS,
) -> Annotated[FindingAdded]:
    """Journal a new finding on the execution, whatever its state (see the module's docstring for where
    it goes). For the GUI's "Add finding" on a run it does not drive itself; call it off the GUI thread.
    Raises ``AnnotationInputError`` (bad entry) or ``AnnotationRefused`` (a run of another desktop)."""
    record = journal.get_execution(db, execution_id)
    _refuse_foreign(db, record.execution_id)
    event = finding_added(
        audit_of(db, record.execution_id),
        text=text,
        severity=severity,
        owner=owner,
        due=due,
        at=clock(),
        by=by,
    )
    return annotate(db, record.execution_id, event, by=by, wait_seconds=wait_seconds)


def update_finding(
    db: Database,
    execution_id: str,
    finding_id: str,
    *,
    text: str | None = None,
    severity: str | Severity | None = None,
    owner: str | None = None,
    due: str | None = None,
    status: str | FindingStatus | None = None,
    comment: str = "",
    by: str = "",
    clock: Clock = _now,
    wait_seconds: float = INBOX_WAIT_SECONDS,
) -> Annotated[FindingUpdated]:
    """Journal a finding's new state (fields None are kept as they stand; ``comment`` explains the
    change). The same routes and errors as ``add_finding``."""
    record = journal.get_execution(db, execution_id)
    _refuse_foreign(db, record.execution_id)
    event = finding_updated(
        audit_of(db, record.execution_id),
        finding_id,
        text=text,
        severity=severity,
        owner=owner,
        due=due,
        status=status,
        comment=comment,
        at=clock(),
        by=by,
    )
    return annotate(db, record.execution_id, event, by=by, wait_seconds=wait_seconds)


def signed_off(
    run_identity: dict[str, str] | None,
    signer: CallerIdentity,
    *,
    profile: str,
    review: str,
    accepted: bool,
    at: datetime,
    by: str = "",
) -> ReviewSignedOff:
    """The sign-off event for ``signer`` (what STS said of their profile), with ``self_signed`` set when
    they are the run's own identity (``services.audit_identity``)."""
    return ReviewSignedOff(
        arn=signer.arn,
        account=signer.account,
        user_id=signer.user_id,
        profile=check_line(profile, "the profile"),
        review=check_text(review, "the review"),
        accepted=accepted,
        self_signed=same_identity(run_identity or {}, signer),
        at=at,
        by=by or signer.arn,
    )


def sign_off(
    db: Database,
    execution_id: str,
    *,
    profile: str,
    review: str,
    identity_of: IdentityOf,
    accepted: bool = True,
    by: str = "",
    clock: Clock = _now,
    wait_seconds: float = INBOX_WAIT_SECONDS,
) -> Annotated[ReviewSignedOff]:
    """Sign a finished run's review off as the person of AWS profile ``profile``.

    ``identity_of(profile)`` asks STS who that is on a session of its own (``aws.signer.profile_identity``
    with the run's Region and endpoint; a test or the GUI may pass another). Refused for a run that has
    not finished and for a run of another desktop; the review text is required. The event records the
    signer's ARN, account, UserId, the profile, the review, accepted or not, and ``self_signed``, at
    STS's time of the answer (``clock`` only when STS gave none). Call it off the GUI thread (STS is
    asked)."""
    name = check_line(profile, "the profile", limit=MAX_LINE)
    if not name:
        raise AnnotationInputError("name the AWS profile of the person who signs (--profile)")
    text = check_text(review, "the review")
    record = journal.get_execution(db, execution_id)
    _refuse_foreign(db, record.execution_id)
    if not _finished(db, record):
        raise AnnotationRefused(
            f"execution {record.execution_id} has not finished: its review is signed off once it has"
        )
    signer = identity_of(name)
    # Dated by AWS's answer (STS's Date) where it gave one: the desktop's clock may be off, and a
    # sign-off dated before the run it reviews would be no evidence.
    at = signer.answered_at or clock()
    event = signed_off(
        dict(record.identity), signer, profile=name, review=text, accepted=accepted, at=at, by=by
    )
    return annotate(db, record.execution_id, event, by=by or signer.arn, wait_seconds=wait_seconds)


def submit_live(submit: Callable[[Event], bool], event: FindingAdded | FindingUpdated) -> None:
    """For the GUI's own live run: hand an annotation (from ``finding_added``/``finding_updated`` on the
    loop's latest events) to its loop's ``submit`` (``workers.execution_loop.ExecutionLoop.submit``): the
    runner journals it between two steps. ``AnnotationRefused`` when the loop has ended (then call
    ``add_finding``/``update_finding``, which journal it directly)."""
    if not submit(event):
        raise AnnotationRefused("the run's loop has ended: add the finding to the execution instead")


def annotate(
    db: Database,
    execution_id: str,
    event: A,
    *,
    by: str = "",
    wait_seconds: float = INBOX_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Annotated[A]:
    """Journal a checked annotation on the execution: directly under its driver lock when nobody
    drives it, else through its driver's inbox (waiting up to ``wait_seconds`` for it to decide)."""
    record = journal.get_execution(db, execution_id)
    _refuse_foreign(db, record.execution_id)
    lock = DriverLock(lock_path(db.path, record.execution_id), execution_id=record.execution_id)
    if lock.acquire():
        with lock:
            seq = _append(db, record.execution_id, event)
        logger.info("%s journaled on %s (entry %d)", type(event).__name__, record.execution_id, seq)
        return Annotated(record.execution_id, event, inbox.JOURNALED, seq=seq)
    driver = describe_driver(record.execution_id, lock.holder())
    sender = f"{by or 'operator'} (pid {os.getpid()} on {socket.gethostname()})"
    row_id = inbox.submit(db, record.execution_id, event_to_json(event), submitted_by=sender)
    deadline = time.monotonic() + wait_seconds
    while True:
        row = inbox.get_control(db, row_id)
        if row.state == inbox.QUEUED and lock.acquire():
            with lock:  # the driver stopped before it took it: decide it here, as its driver would
                row = _decide_here(db, record.execution_id, row_id, event)
        if row.state != inbox.QUEUED or time.monotonic() >= deadline:
            break
        sleep(0.2)
    return Annotated(
        record.execution_id, event, row.state, seq=row.seq, inbox_id=row_id, reason=row.reason, driver=driver
    )


def _decide_here(db: Database, execution_id: str, row_id: int, event: Event) -> inbox.InboxControl:
    """Journal a queued annotation (its row marked in the same transaction), holding the lock."""
    try:
        inbox.journal_control(
            db, row_id, execution_id, event_to_json(event), expected_last=_last_seq(db, execution_id)
        )
    except inbox.InboxConflictError:
        pass  # the driver decided it after all
    return inbox.get_control(db, row_id)


def _append(db: Database, execution_id: str, event: Event) -> int:
    return journal.append_events(
        db, execution_id, [event_to_json(event)], expected_last=_last_seq(db, execution_id)
    )


def _last_seq(db: Readable, execution_id: str) -> int:
    entries = journal.load_journal(db, execution_id)
    return entries[-1].seq if entries else 0


def _refuse_foreign(db: Readable, execution_id: str) -> None:
    writer = foreign_writer(db, execution_id)
    if writer is not None:
        raise AnnotationRefused(
            f"execution {execution_id} was run on desktop {writer} and reached this desktop through team "
            f"sync: only its own desktop appends to its journal (an entry from here would fork it); add "
            f"findings and sign-offs on desktop {writer}"
        )


def _finished(db: Readable, record: ExecutionRecord) -> bool:
    """Whether the journal says the run has finished (the listing may lag it, never lead it)."""
    return replayed_state(db, record).finished is not None
