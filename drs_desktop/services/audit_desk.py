"""The desktop's handle on a run's audit (issue 18): the Audit tab's reads and writes, and the sign-off's
identity check, on top of ``services.audit`` (the same functions ``drs-desktop executions finding`` and
``sign-off`` call, so the GUI and the CLI journal the same events by the same rules).

``AuditDesk`` lives on the GUI's ``local`` task thread: it reads a run's annotations through its own
reader, and journals findings and sign-offs through the shared connection under the run's driver lock
(``services.audit.annotate``): local disk only. STS is never asked there: the sign-off dialog asks it
first on the ``settings`` thread (``signer_identity``, which may wait for an IAM Identity Center sign-in
in a browser), shows the operator who that is, and ``sign_off`` then journals *that* identity (the
``identity_of`` the service lets a caller pass), so what is signed is what the operator saw.

Who records a finding (``by``) is the desktop's operator, as for the GUI's other controls (approvals,
pauses); without one, the run's own identity, as the CLI's default (``history.default_actor``). A sign-off
is by the identity STS gave, and dated by the app's clock (DRS's time) when the operator signs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drs_desktop.aws.signer import profile_identity
from drs_desktop.domain.drs.views import CallerIdentity
from drs_desktop.domain.engine.annotation_events import FindingAdded, ReviewSignedOff
from drs_desktop.domain.views.audit import AuditRecord
from drs_desktop.services import audit
from drs_desktop.services.audit_identity import same_identity
from drs_desktop.services.history import default_actor
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database, LazyReader
from drs_desktop.storage.settings import get_str
from drs_desktop.storage.sync_apply import foreign_writer

logger = logging.getLogger(__name__)

__all__ = ["AuditDesk", "AuditView", "SignerTarget", "signer_identity"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SignerTarget:
    """Where a signer's STS is asked: the run's own Region and endpoint (the simulator's in a demo), as
    ``drs-desktop executions sign-off`` asks it. ``problem``: why it cannot be asked (no Region known)."""

    region: str
    endpoint_url: str | None = None
    problem: str = ""


@dataclass(frozen=True)
class AuditView:
    """What the Audit tab shows of one run: its annotations folded, and what decides its buttons."""

    execution_id: str
    plan_name: str
    mode: str
    record: AuditRecord
    #: The journal says the run has finished (a sign-off is taken only then).
    finished: bool
    #: The identity the run was run as (``arn``, ``account``, ``user_id``), for "self-signed".
    run_identity: Mapping[str, str] = field(default_factory=dict)
    #: The desktop that ran it when it came through team sync (annotations are refused here), else None.
    foreign_writer: str | None = None
    signer: SignerTarget = field(default_factory=lambda: SignerTarget(""))

    def self_signed_by(self, signer: CallerIdentity) -> bool:
        """Whether ``signer`` is the run's own identity (the report would say "self-signed")."""
        return same_identity(self.run_identity, signer)


def signer_identity(target: SignerTarget, profile: str) -> CallerIdentity:
    """What STS says of ``profile`` on a session of its own (``aws.signer.profile_identity``), against
    the run's Region and endpoint. Network (and a profile's credential process): call it off the GUI
    thread. A ``DrsError`` with one line when the profile does not exist or STS refuses it."""
    if target.problem:
        raise audit.AnnotationRefused(target.problem)
    return profile_identity(profile, region=target.region, endpoint_url=target.endpoint_url)


class AuditDesk:
    """A run's findings and sign-off for one thread (the GUI's ``local`` one): its reader is its own."""

    def __init__(self, db: Database, *, clock: Clock | None = None, operator: str = "") -> None:
        self._db = db
        self._operator = operator
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._reader = LazyReader(db)

    def view(self, execution_id: str) -> AuditView:
        reader = self._reader()
        record = journal.get_execution(reader, execution_id)
        found = audit.audit_of(reader, record.execution_id)
        return AuditView(
            execution_id=record.execution_id,
            plan_name=record.plan_name,
            mode=record.mode,
            record=found,
            finished=replayed_state(reader, record).finished is not None,
            run_identity={k: str(v) for k, v in dict(record.identity).items()},
            foreign_writer=foreign_writer(reader, record.execution_id),
            signer=self._signer_target(record.options),
        )

    def add_finding(
        self, execution_id: str, *, text: str, severity: str, owner: str = "", due: str = ""
    ) -> audit.Annotated[FindingAdded]:
        """Journal a new finding (``services.audit.add_finding``); its errors as they are."""
        record = journal.get_execution(self._reader(), execution_id)
        return audit.add_finding(
            self._db,
            record.execution_id,
            text=text,
            severity=severity,
            owner=owner,
            due=due,
            by=self._operator or default_actor(record),
            clock=self._clock,
        )

    def new_finding(
        self, execution_id: str, *, text: str, severity: str, owner: str = "", due: str = ""
    ) -> FindingAdded:
        """A checked finding for the GUI's own live run, not journaled: the progress view hands it to its
        loop (``services.audit.submit_live``), whose runner journals it between two steps."""
        reader = self._reader()
        record = journal.get_execution(reader, execution_id)
        return audit.finding_added(
            audit.audit_of(reader, record.execution_id),
            text=text,
            severity=severity,
            owner=owner,
            due=due,
            at=self._clock(),
            by=self._operator or default_actor(record),
        )

    def update_finding(
        self,
        execution_id: str,
        finding_id: str,
        *,
        text: str | None = None,
        severity: str | None = None,
        owner: str | None = None,
        due: str | None = None,
        status: str | None = None,
        comment: str = "",
    ) -> audit.Annotated:
        """Journal a finding's new state (``services.audit.update_finding``): None keeps a field."""
        record = journal.get_execution(self._reader(), execution_id)
        return audit.update_finding(
            self._db,
            record.execution_id,
            finding_id,
            text=text,
            severity=severity,
            owner=owner,
            due=due,
            status=status,
            comment=comment,
            by=self._operator or default_actor(record),
            clock=self._clock,
        )

    def sign_off(
        self, execution_id: str, *, profile: str, review: str, accepted: bool, signer: CallerIdentity
    ) -> audit.Annotated[ReviewSignedOff]:
        """Journal the review's sign-off as ``signer``, the identity STS gave for ``profile`` when the
        dialog checked it (``signer_identity``): ``services.audit.sign_off`` with that identity."""

        def identity_of(name: str) -> CallerIdentity:
            if name != profile.strip():  # the service passes the profile it checked; never another
                raise audit.AnnotationRefused(
                    f"the identity checked is profile {profile!r}'s, not {name!r}'s"
                )
            # Dated when the operator signs, by the app's clock (DRS's time), not when STS was asked.
            return dataclasses.replace(signer, answered_at=None)

        return audit.sign_off(
            self._db,
            execution_id,
            profile=profile,
            review=review,
            identity_of=identity_of,
            accepted=accepted,
            clock=self._clock,
        )

    def close(self) -> None:
        self._reader.close()

    def _signer_target(self, options: Mapping[str, object]) -> SignerTarget:
        """The run's Region and endpoint (the CLI's rule: the recorded target's, else ``aws.region``)."""
        target = options.get("target")
        recorded = dict(target) if isinstance(target, Mapping) else {}
        region = str(recorded.get("region") or "") or get_str(self._reader(), "aws.region")
        endpoint = str(recorded.get("endpoint_url") or "") or None
        if not region:
            return SignerTarget("", endpoint, "no AWS Region for STS: set the Region in Settings")
        return SignerTarget(region, endpoint)
