"""Native DRS recovery plans: import, diff, status, adopt, unlink; publish is ``services.native_publish``
(re-exported here). docs/native-plans.md.

The functions take an open ``Database`` and a ``NativePlansGateway`` (one DRS target); they run on a
worker thread or in the CLI, never on the GUI thread. A link whose publish did not finish
(``NativeLink.incomplete``) is ours half-sent, never drift: ``diff`` says what is left of it, ``status``
says "publish of revision N incomplete", and ``adopt`` waits until a publish finishes it. ``adopt``
merges DRS's steps into the stored plan (``domain.native.adopting``) and refuses when DRS changed since
the diff the operator saw (``DiffResult.drs_digest``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from drs_desktop.aws.native_plans import PLAN_TAG, NativeExecutionView, NativePlansGateway
from drs_desktop.domain.drs.errors import DrsError, DrsNotFound
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.native.adopting import merge_native
from drs_desktop.domain.native.drift import LOCAL, describe_drift, step_changes, steps_digest
from drs_desktop.domain.native.fit import FitProblem, fit
from drs_desktop.domain.native.importing import plan_from_native
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.services import native_apply
from drs_desktop.services.native_common import (
    Clock,
    NativePlanError,
    PublishIncomplete,
    linked_here,
    linked_plan,
    linked_steps,
    now_of,
    plan_inventory,
    target_of,
)
from drs_desktop.services.native_publish import (
    DriftNotConfirmed,
    DrsChangedSincePreview,
    PublishResult,
    drift_lines,
    publish,
)
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "DiffResult",
    "DriftNotConfirmed",
    "DrsChangedSincePreview",
    "ImportReport",
    "NativePlanError",
    "PlanStatus",
    "PublishIncomplete",
    "PublishResult",
    "adopt",
    "diff",
    "import_plans",
    "nearest_words",
    "publish",
    "status",
    "unlink",
]


@dataclass(frozen=True)
class ImportReport:
    imported: tuple[tuple[str, int, str], ...] = ()  # (local plan name, revision, native plan ARN)
    skipped: tuple[str, ...] = ()  # one sentence per native plan left alone


@dataclass(frozen=True)
class DiffResult:
    plan_name: str
    plan_arn: str
    linked_revision: int | None
    in_drs: tuple[str, ...]  # changed in DRS since the publish (drift), in words
    unpublished: tuple[str, ...]  # the latest revision's changes not published yet, in words
    incomplete: tuple[str, ...] = ()  # our unfinished publish: what DRS still lacks of it (not drift)
    drs_digest: str = ""  # DRS's plan as read for this diff: ``adopt`` refuses when it changed since
    adopt_changes: tuple[str, ...] = ()  # what "Take DRS's" would change in the latest revision
    read_at: datetime | None = None  # when DRS was read (the caller's clock)

    @property
    def drift(self) -> bool:
        return bool(self.in_drs)


@dataclass(frozen=True)
class PlanStatus:
    plan_name: str
    latest_revision: int
    plan_arn: str = ""
    linked_revision: int | None = None
    target: str = ""  # "account/region" of the link
    drift: bool | None = None  # None: not linked, or DRS could not be read
    unpublished: bool = False
    executions: tuple[NativeExecutionView, ...] = field(default_factory=tuple)
    note: str = ""
    published_at: datetime | None = None  # when the linked revision was published (or imported)
    native_name: str = ""  # the native plan's name in DRS now ("" when not linked or not read)
    incomplete_revision: int | None = None  # a publish of this revision did not finish


def import_plans(
    db: Database,
    gateway: NativePlansGateway,
    *,
    operator: str = "",
    only: Collection[str] | None = None,
    clock: Clock | None = None,
) -> ImportReport:
    """Every native plan of the target not linked yet becomes a local plan (first revision) and a link;
    with ``only``, just the native plans of those ARNs (the ones an operator chose)."""
    account, region = target_of(gateway)
    imported: list[tuple[str, int, str]] = []
    skipped: list[str] = []
    listed = gateway.list_plans()
    if only is not None:
        wanted = set(only)
        gone = wanted - {summary.arn for summary in listed}
        skipped.extend(f"{arn} is no longer in DRS; nothing imported for it" for arn in sorted(gone))
        listed = [summary for summary in listed if summary.arn in wanted]
    for summary in listed:
        linked = native_links.link_for_arn(db, summary.arn)
        if linked is not None:
            number = native_links.revision_number(db, linked.revision_id)
            skipped.append(f"{summary.name!r} is linked already (revision {number}); not imported again")
            continue
        plan_view = gateway.get_plan(summary.arn)
        origin = plan_view.tags.get(PLAN_TAG)
        if origin:
            skipped.append(
                f"{summary.name!r} was published by DRS Desktop from plan ID {origin}, not linked on this "
                "desktop; publish that plan here to link it"
            )
            continue
        if plan_store.plan_name_taken(db, summary.name):
            skipped.append(
                f"{summary.name!r}: a local plan of that name exists; rename it to import this one"
            )
            continue
        views = gateway.list_steps(summary.arn)
        try:
            plan = plan_from_native(summary.name, plan_view.description, [v.step for v in views])
        except ValueError as exc:
            skipped.append(f"{summary.name!r} cannot be a local plan: {exc}")
            continue
        rev = plan_store.save_plan(
            db, plan, comment=f"imported from DRS {summary.arn}", author=operator, now=now_of(clock)
        )
        # The tag is what a later publish checks before it sends anything over this plan (an ARN alone
        # is not trusted); its revision tag follows at the first publish.
        gateway.tag_plan(summary.arn, {PLAN_TAG: rev.plan_id})
        native_links.save_link(
            db,
            plan_id=rev.plan_id,
            account_id=account,
            region=region,
            recovery_plan_arn=summary.arn,
            revision_id=rev.revision_id,
            content_hash=rev.content_hash,
            steps=[v.item for v in views],
            published_by=operator,
            now=now_of(clock),
            native_name=plan_view.name,
            native_description=plan_view.description,
        )
        imported.append((rev.name, rev.revision, summary.arn))
    return ImportReport(tuple(imported), tuple(skipped))


def _linked(
    db: Database, gateway: NativePlansGateway, name: str
) -> tuple[plan_store.StoredPlan, native_links.NativeLink]:
    stored = plan_store.load_plan(db, name)
    link = native_links.get_link(db, stored.revision.plan_id)
    if link is None:
        raise NativePlanError(
            f"plan {stored.revision.name!r} is not linked to a native plan: publish it first"
        )
    account, region = target_of(gateway)
    linked_here(link, account, region)
    return stored, link


def diff(db: Database, gateway: NativePlansGateway, name: str, *, clock: Clock | None = None) -> DiffResult:
    """The linked revision's steps against DRS's now (drift), and against the latest revision's; for an
    unfinished publish, what DRS still lacks of it instead of drift."""
    stored, link = _linked(db, gateway, name)
    linked = linked_steps(link)
    read_at = now_of(clock)
    inventory, _ = plan_inventory(db, stored.plan, link.account_id, link.region, read_at)
    number = native_links.revision_number(db, link.revision_id)
    view = linked_plan(gateway, link, stored.revision.name)
    if view is None:
        gone = (f"the native plan {link.recovery_plan_arn} no longer exists in DRS",)
        return DiffResult(stored.revision.name, link.recovery_plan_arn, number, gone, (), read_at=read_at)
    views = gateway.list_steps(link.recovery_plan_arn)
    actual = [v.step for v in views]
    digest = steps_digest(actual, name=view.name, description=view.description)
    incomplete: tuple[str, ...] = ()
    if link.incomplete:
        incomplete = _unfinished(db, stored, link, views, inventory)
    in_drs = drift_lines(link, view, actual)
    unpublished: tuple[str, ...] = ()
    if stored.revision.revision_id != link.revision_id:
        report = fit(stored.plan, plan_name=stored.plan.name, inventory=inventory)
        if report.fits:
            unpublished = tuple(describe_drift(linked, report.steps, where=LOCAL))
        else:
            unpublished = tuple(f"the latest revision does not fit: {p.text}" for p in report.problems)
    try:
        _, adopt_changes = merge_native(
            stored.plan, actual, description=view.description, inventory=inventory
        )
    except ValueError as exc:
        adopt_changes = (f"DRS's steps cannot be a local plan: {exc}",)
    return DiffResult(
        stored.revision.name,
        link.recovery_plan_arn,
        number,
        in_drs,
        unpublished,
        incomplete=incomplete,
        drs_digest=digest,
        adopt_changes=tuple(adopt_changes),
        read_at=read_at,
    )


def _unfinished(
    db: Database,
    stored: plan_store.StoredPlan,
    link: native_links.NativeLink,
    views: Sequence[native_apply.NativeStepView],
    inventory: Inventory | None,
) -> tuple[str, ...]:
    number = native_links.revision_number(db, link.pending_revision_id)
    head = (
        f"The publish of revision {number} did not finish: DRS holds part of it (sent from here, not "
        "drift). Publish again to finish it."
    )
    if number is None:
        return (head,)
    pending = plan_store.get_plan(db, stored.revision.name, number)
    report = fit(pending, plan_name=pending.name, inventory=inventory)
    if not report.fits:
        return (head,)
    left = native_apply.describe_changes(step_changes(report.steps, [(v.arn, v.step) for v in views]))
    return (head, *(f"Still to send: {line}." for line in left))


def adopt(
    db: Database,
    gateway: NativePlansGateway,
    name: str,
    *,
    expected_drs: str | None = None,
    operator: str = "",
    clock: Clock | None = None,
) -> PlanRevision:
    """DRS's side wins a drift: DRS's steps are merged into the plan (``merge_native``) as its next
    revision, and the link follows it. ``expected_drs`` (the diff's ``drs_digest``): refused when DRS's
    plan changed since that diff was read, so what is adopted is what the operator saw."""
    stored, link = _linked(db, gateway, name)
    if link.incomplete:
        raise NativePlanError(
            f"the publish of {stored.revision.name!r} did not finish: DRS holds part of our own publish, "
            "not a change made in DRS. Publish again to finish it before taking DRS's side"
        )
    view = linked_plan(gateway, link, stored.revision.name)
    if view is None:
        raise NativePlanError(f"the native plan {link.recovery_plan_arn} no longer exists in DRS")
    views = gateway.list_steps(link.recovery_plan_arn)
    actual = [v.step for v in views]
    if expected_drs is not None and expected_drs != steps_digest(
        actual, name=view.name, description=view.description
    ):
        raise DrsChangedSincePreview(
            f"DRS's native plan of {stored.revision.name!r} changed since the difference was read: nothing "
            "was saved; compare again"
        )
    inventory, _ = plan_inventory(db, stored.plan, link.account_id, link.region, now_of(clock))
    plan, _ = merge_native(stored.plan, actual, description=view.description, inventory=inventory)
    rev = plan_store.save_plan(
        db, plan, comment=f"adopted from DRS {link.recovery_plan_arn}", author=operator, now=now_of(clock)
    )
    native_links.save_link(
        db,
        plan_id=rev.plan_id,
        account_id=link.account_id,
        region=link.region,
        recovery_plan_arn=link.recovery_plan_arn,
        revision_id=rev.revision_id,
        content_hash=rev.content_hash,
        steps=[v.item for v in views],
        published_by=operator,
        now=now_of(clock),
        native_name=view.name,
        native_description=view.description,
    )
    return rev


def unlink(db: Database, name: str) -> bool:
    """Forget the link of plan ``name`` (nothing is sent to DRS; the native plan stays). False when it
    had none."""
    stored = plan_store.load_plan(db, name)
    if native_links.get_link(db, stored.revision.plan_id) is None:
        return False
    native_links.delete_link(db, stored.revision.plan_id)
    logger.info("plan %r unlinked from its native plan", stored.revision.name)
    return True


def status(db: Database, gateway: NativePlansGateway) -> list[PlanStatus]:
    """Every local plan with its link, drift (yes/no) and its native executions, latest first."""
    account, region = target_of(gateway)
    # A failure to list DRS's plans fails the whole reading (raised): a status that reads nothing must not
    # pass for one that did (the GUI shows the failure and the age of its last good reading).
    names = {view.arn: view.name for view in gateway.list_plans()}
    out: list[PlanStatus] = []
    for summary in plan_store.list_plans(db):
        link = native_links.get_link(db, summary.plan_id)
        if link is None:
            out.append(PlanStatus(summary.name, summary.latest_revision, note="not published"))
            continue
        linked_revision = native_links.revision_number(db, link.revision_id)
        base = PlanStatus(
            summary.name,
            summary.latest_revision,
            plan_arn=link.recovery_plan_arn,
            linked_revision=linked_revision,
            target=f"{link.account_id}/{link.region}",
            unpublished=linked_revision != summary.latest_revision,
            published_at=link.published_at,
            native_name=names.get(link.recovery_plan_arn, ""),
        )
        if (link.account_id, link.region) != (account, region):
            out.append(_with(base, note="linked in another account or Region: not checked"))
            continue
        if link.incomplete:
            number = native_links.revision_number(db, link.pending_revision_id)
            base = _with(base, incomplete_revision=number, note=f"publish of revision {number} incomplete")
        try:
            actual = [v.step for v in gateway.list_steps(link.recovery_plan_arn)]
            renamed = bool(link.native_name) and names.get(link.recovery_plan_arn, link.native_name) != (
                link.native_name
            )
            steps_drift = bool(describe_drift(linked_steps(link), actual))
            drift = False if link.incomplete else renamed or steps_drift
            executions = tuple(gateway.list_executions(link.recovery_plan_arn))
        except DrsNotFound:
            out.append(_with(base, drift=True, note="the native plan no longer exists in DRS"))
            continue
        except (DrsError, NativePlanError) as exc:
            out.append(_with(base, note=f"DRS could not be read: {exc}"))
            continue
        out.append(_with(base, drift=drift, executions=executions))
    return out


def _with(status_: PlanStatus, **changes: object) -> PlanStatus:
    return dataclasses.replace(status_, **changes)  # type: ignore[arg-type]


def nearest_words(problems: Sequence[FitProblem], changes: Sequence[str]) -> list[str]:
    """The refusal in words: each problem, then the nearest plan's changes when there is one."""
    lines = [f"{p.where}: {p.text}" if p.where else p.text for p in problems]
    if changes:
        lines.append("the nearest plan that fits would change:")
        lines.extend(f"  {c}" for c in changes)
    return lines
