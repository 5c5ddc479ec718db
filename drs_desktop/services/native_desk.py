"""The GUI's native DRS plans: status, publish (preview first), nearest plan, import, drift (``NativeDesk``).

The Plans pane and its dialogs ask for these on the ``aws`` task thread (they read and write DRS); each
answer is a frozen value the GUI shows as it is. The use cases are ``services.native_plans``'s, shared
with the CLI; this adds what a window needs and a terminal does not:

- when a reading was made (``StatusReading.read_at``, on the app's clock), since a pane says how old
  what it shows is;
- the revision the operator looked at: ``publish`` and ``save_nearest`` refuse when the plan has a newer
  revision than the preview showed (saved meanwhile in the editor or another pane), so what is sent is
  what was on screen;
- the native plans of the target with their links (``listing``), so the import dialog lets the operator
  choose, and ``import_chosen`` imports only those.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_plans import NativePlansGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.native.fit import fit
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.services import native_plans as native
from drs_desktop.services.connection import ConnectionResolver, MfaPrompter
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "DiffResult",
    "ImportReport",
    "NativeDesk",
    "NativeListing",
    "PlanChanged",
    "PlanStatus",
    "PublishResult",
    "StatusReading",
]

PlanStatus = native.PlanStatus
PublishResult = native.PublishResult
ImportReport = native.ImportReport
DiffResult = native.DiffResult


class PlanChanged(native.NativePlanError):
    """The plan has a newer revision than the one the operator reviewed: nothing was sent."""


@dataclass(frozen=True)
class StatusReading:
    """Every plan's link status, read from DRS at ``read_at`` for ``target`` ("account/region")."""

    statuses: tuple[PlanStatus, ...]
    read_at: datetime
    target: str


@dataclass(frozen=True)
class NativeListing:
    """One native plan of the connected target, as the import dialog lists it."""

    arn: str
    name: str
    status: str
    linked_plan: str = ""  # the local plan linked to it ("" when none)
    linked_revision: int | None = None

    @property
    def linked(self) -> bool:
        return bool(self.linked_plan)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


class NativeDesk:
    """Native plan use cases for the one thread that owns it (the GUI's ``aws`` task thread): its own
    ``DrsGateway`` for the target in force, made on first use, closed by ``close`` on that thread."""

    def __init__(
        self,
        db: Database,
        resolver: ConnectionResolver,
        *,
        gateway_factory: Callable[[AwsTarget], DrsGateway] = DrsGateway,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] | None = None,
        operator: str | None = None,
    ) -> None:
        self._db = db
        self._resolver = resolver
        self._gateway_factory = gateway_factory
        self._clock = clock
        self._sleep = sleep
        self._operator = _operator() if operator is None else operator
        self._drs: DrsGateway | None = None
        self._native: NativePlansGateway | None = None

    # ----------------------------------------------------------------------------------- reads

    def status(self, mfa_prompter: MfaPrompter | None = None) -> StatusReading:
        gateway = self._gateway(mfa_prompter)
        statuses = native.status(self._db, gateway)
        target = f"{gateway.drs.caller_identity().account}/{gateway.drs.target.region}"
        return StatusReading(tuple(statuses), self._clock(), target)

    def preview(self, name: str, mfa_prompter: MfaPrompter | None = None) -> PublishResult:
        """What publishing the latest revision of ``name`` would send, or why it does not fit."""
        return native.publish(self._db, self._gateway(mfa_prompter), name, dry_run=True, clock=self._clock)

    def diff(self, name: str, mfa_prompter: MfaPrompter | None = None) -> DiffResult:
        return native.diff(self._db, self._gateway(mfa_prompter), name, clock=self._clock)

    def listing(self, mfa_prompter: MfaPrompter | None = None) -> tuple[NativeListing, ...]:
        """The target's native plans, each with the local plan linked to it (if any)."""
        gateway = self._gateway(mfa_prompter)
        names = {s.plan_id: s.name for s in plan_store.list_plans(self._db)}
        out = []
        for view in gateway.list_plans():
            link = native_links.link_for_arn(self._db, view.arn)
            if link is None or link.plan_id not in names:
                out.append(NativeListing(view.arn, view.name, view.status))
                continue
            number = native_links.revision_number(self._db, link.revision_id)
            out.append(NativeListing(view.arn, view.name, view.status, names[link.plan_id], number))
        return tuple(sorted(out, key=lambda item: item.name.casefold()))

    # ---------------------------------------------------------------------------------- writes

    def publish(
        self,
        name: str,
        expected_revision: int,
        mfa_prompter: MfaPrompter | None = None,
        *,
        expected_drs: str | None = None,
        overwrite: bool = False,
    ) -> PublishResult:
        """Publish ``name`` if its latest revision is still ``expected_revision`` (the one reviewed) and
        DRS's plan is still as the preview read it (``expected_drs``, its ``drs_digest``); changes made in
        DRS since the publish are undone only with ``overwrite`` (the operator's explicit choice)."""
        self._check_revision(name, expected_revision)
        gateway = self._gateway(mfa_prompter)
        sleep = {} if self._sleep is None else {"sleep": self._sleep}
        return native.publish(
            self._db,
            gateway,
            name,
            operator=self._operator,
            clock=self._clock,
            expected_drs=expected_drs,
            overwrite=overwrite,
            **sleep,  # type: ignore[arg-type]
        )

    def save_nearest(self, name: str, expected_revision: int) -> PlanRevision:
        """The nearest plan that fits, saved as the next revision of ``name``: an operator's choice, from
        the publish dialog (nothing else ever changes a plan to make it fit)."""
        stored = self._check_revision(name, expected_revision)
        report = fit(stored.plan, plan_name=stored.plan.name)
        if report.fits:
            raise native.NativePlanError(f"plan {stored.revision.name!r} fits already: nothing to save")
        if report.nearest is None:
            raise native.NativePlanError(
                f"plan {stored.revision.name!r} has no nearest plan that fits: edit it by hand"
            )
        plan = replace(report.nearest, name=stored.plan.name)
        comment = "the nearest plan that fits a native DRS plan: " + "; ".join(report.changes)[:400]
        return plan_store.save_plan(self._db, plan, comment=comment, author=self._operator, now=self._clock())

    def import_chosen(self, arns: Sequence[str], mfa_prompter: MfaPrompter | None = None) -> ImportReport:
        return native.import_plans(
            self._db,
            self._gateway(mfa_prompter),
            operator=self._operator,
            only=tuple(arns),
            clock=self._clock,
        )

    def adopt(
        self, name: str, mfa_prompter: MfaPrompter | None = None, *, expected_drs: str | None = None
    ) -> PlanRevision:
        """DRS's side of a drift merged into the next revision (the drift dialog's "Take DRS's"), if DRS
        is still as the diff shown read it (``expected_drs``)."""
        return native.adopt(
            self._db,
            self._gateway(mfa_prompter),
            name,
            operator=self._operator,
            clock=self._clock,
            expected_drs=expected_drs,
        )

    def unlink(self, name: str) -> bool:
        """Forget the plan's link (the panel's "Unlink"); nothing is sent to DRS."""
        return native.unlink(self._db, name)

    # --------------------------------------------------------------------------------- helpers

    def close(self) -> None:
        drs, self._drs, self._native = self._drs, None, None
        if drs is not None:
            drs.close()

    def _check_revision(self, name: str, expected: int) -> plan_store.StoredPlan:
        stored = plan_store.load_plan(self._db, name)
        if stored.revision.revision != expected:
            raise PlanChanged(
                f"plan {stored.revision.name!r} is at revision {stored.revision.revision} now, not "
                f"{expected} as reviewed: nothing was sent; review it again"
            )
        return stored

    def _gateway(self, mfa_prompter: MfaPrompter | None) -> NativePlansGateway:
        target = self._resolver.target(mfa_prompter)
        if self._drs is None or self._native is None or self._drs.target != target:
            self.close()
            self._drs = self._gateway_factory(target)
            self._native = NativePlansGateway(self._drs)
        return self._native
