"""Native DRS recovery plans: publish a local plan, import, diff, status, adopt (docs/native-plans.md).

Publishing never trusts its own memory of DRS. Each round reads the native plan's steps back, asks
the domain's step_changes for what is still to do, and sends it; a call whose answer was lost
(``DrsOutcomeUnknown``), or a throttle or an outage, ends the round, and the next one reads back again, so
a resent call never duplicates a step. The two calls DRS gives an idempotency token (CreateRecoveryPlan,
CreateRecoveryPlanStep) carry one as well: the plan's is derived from the local plan and the revision
published (a resend, even from another process, returns the same plan). The link is written only when
DRS's steps read back equal the desired ones.

The functions take an open ``Database`` and a ``NativePlansGateway`` (one DRS target); they run on a
worker thread or in the CLI, never on the GUI thread.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from drs_desktop.aws.native_plans import PLAN_TAG, REVISION_TAG, NativeExecutionView, NativePlansGateway
from drs_desktop.domain.drs.errors import (
    DrsError,
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsThrottled,
    DrsUnavailable,
)
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.native.drift import describe_drift, step_changes
from drs_desktop.domain.native.fit import FitProblem, fit, native_name
from drs_desktop.domain.native.importing import plan_from_native
from drs_desktop.domain.native.steps import NativeStep
from drs_desktop.services import native_apply
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

#: Rounds of read back, compare, send before a publish gives up (each round makes progress unless a call
#: was lost or refused on the way).
MAX_ROUNDS = 8
#: Seconds to wait after a lost answer or an outage when DRS gave no Retry-After.
BACKOFF_SECONDS = 2.0


class NativePlanError(DrsDesktopError):
    """A native plan operation that cannot be carried out as asked (not linked, another target...)."""


@dataclass(frozen=True)
class PublishResult:
    """What ``publish`` did (or, with ``dry_run``, would do). ``outcome``: published | unchanged |
    does_not_fit | preview."""

    outcome: str
    plan_name: str
    revision: int
    plan_arn: str = ""
    actions: tuple[str, ...] = ()  # what was (or would be) sent to DRS, in words
    problems: tuple[FitProblem, ...] = ()
    nearest_changes: tuple[str, ...] = ()  # how the nearest plan that fits differs, when there is one
    retried: int = 0  # rounds that ended on a lost answer, a throttle or an outage

    @property
    def ok(self) -> bool:
        return self.outcome in ("published", "unchanged", "preview")


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


Clock = Callable[[], datetime]


def _now(clock: Clock | None) -> datetime | None:
    return clock() if clock is not None else None


def _target(gateway: NativePlansGateway) -> tuple[str, str]:
    return gateway.drs.caller_identity().account, gateway.drs.target.region


def _token(*parts: str) -> str:
    """A clientToken (at most 64 characters) that names these parts and nothing else."""
    return "drsd-" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


def _linked_here(
    link: native_links.NativeLink | None, account: str, region: str
) -> native_links.NativeLink | None:
    if link is not None and (link.account_id, link.region) != (account, region):
        raise NativePlanError(
            f"the plan is linked to a native plan in account {link.account_id} Region {link.region}, not "
            f"{account} {region}: connect to that target"
        )
    return link


def publish(
    db: Database,
    gateway: NativePlansGateway,
    name: str,
    *,
    operator: str = "",
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock | None = None,
) -> PublishResult:
    """Publish the latest revision of plan ``name`` as a native plan (create it, or update it in place).
    ``clock`` stamps the link (the GUI's one clock, the simulator's in demo mode); the desktop's without."""
    stored = plan_store.load_plan(db, name)
    rev = stored.revision
    report = fit(stored.plan, plan_name=stored.plan.name)
    if not report.fits:
        return PublishResult(
            "does_not_fit", rev.name, rev.revision, problems=report.problems, nearest_changes=report.changes
        )
    desired = tuple(report.steps)
    account, region = _target(gateway)
    link = _linked_here(native_links.get_link(db, rev.plan_id), account, region)
    arns = native_apply.server_arns(gateway, desired)
    plan_arn = link.recovery_plan_arn if link is not None else ""
    if plan_arn and not _exists(gateway, plan_arn):
        logger.warning("native plan %s is gone from DRS; publishing %r creates it again", plan_arn, rev.name)
        plan_arn = ""
    if dry_run:
        actual = [(v.arn, v.step) for v in gateway.list_steps(plan_arn)] if plan_arn else []
        words = native_apply.describe_changes(step_changes(desired, actual))
        if not plan_arn:
            words = (f"create native plan {native_name(rev.name)!r}", *words)
        return PublishResult("preview", rev.name, rev.revision, plan_arn, actions=words)
    actions: list[str] = []
    retried = 0
    if not plan_arn:
        plan_arn, lost = _create_plan(gateway, stored.plan.description, rev, sleep)
        retried += lost
        actions.append(f"created native plan {plan_arn}")
    # One nonce per publish: a create resent within it carries the same token (DRS answers with the step
    # it made); a later publish of the same revision (after the step was deleted in DRS) gets new ones.
    nonce = uuid.uuid4().hex
    applier = native_apply.Applier(
        gateway, plan_arn, arns, token=lambda step: _token(rev.plan_id, rev.revision_id, nonce, repr(step))
    )
    final, lost = applier.converge(desired, sleep=sleep, max_rounds=MAX_ROUNDS)
    retried += lost
    actions.extend(applier.actions)
    native_links.save_link(
        db,
        plan_id=rev.plan_id,
        account_id=account,
        region=region,
        recovery_plan_arn=plan_arn,
        revision_id=rev.revision_id,
        content_hash=rev.content_hash,
        steps=[v.item for v in final],
        published_by=operator,
        now=_now(clock),
    )
    unchanged = not actions and link is not None and link.revision_id == rev.revision_id
    logger.info("published %r revision %d as %s (%d call(s))", rev.name, rev.revision, plan_arn, len(actions))
    return PublishResult(
        "unchanged" if unchanged else "published",
        rev.name,
        rev.revision,
        plan_arn,
        tuple(actions),
        retried=retried,
    )


def _exists(gateway: NativePlansGateway, plan_arn: str) -> bool:
    try:
        gateway.get_plan(plan_arn)
    except DrsNotFound:
        return False
    return True


def _create_plan(
    gateway: NativePlansGateway,
    description: str,
    rev: plan_store.PlanRevision,
    sleep: Callable[[float], None],
) -> tuple[str, int]:
    """CreateRecoveryPlan with the token of (plan, revision), resent with the same token after a lost
    answer, a throttle or an outage: DRS answers a resend with the plan it already made."""
    token = _token(rev.plan_id, rev.revision_id)
    tags = {PLAN_TAG: rev.plan_id, REVISION_TAG: rev.revision_id}
    lost = 0
    for attempt in range(MAX_ROUNDS):
        try:
            plan = gateway.create_plan(native_name(rev.name), description, tags=tags, client_token=token)
            return plan.arn, lost
        except (DrsOutcomeUnknown, DrsUnavailable, DrsThrottled) as exc:
            if attempt == MAX_ROUNDS - 1:
                raise
            lost += 1
            logger.info("CreateRecoveryPlan: %s; sending it again with the same token", exc)
            sleep(exc.retry_after if exc.retry_after is not None else BACKOFF_SECONDS)
    raise AssertionError("unreachable")


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
    account, region = _target(gateway)
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
            db, plan, comment=f"imported from DRS {summary.arn}", author=operator, now=_now(clock)
        )
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
            now=_now(clock),
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
    account, region = _target(gateway)
    _linked_here(link, account, region)
    return stored, link


def _linked_steps(link: native_links.NativeLink) -> list[NativeStep]:
    try:
        return [NativeStep.from_wire(item) for item in link.steps]
    except ValueError as exc:
        raise NativePlanError(f"the steps saved with the link cannot be read ({exc}); publish again") from exc


def diff(db: Database, gateway: NativePlansGateway, name: str) -> DiffResult:
    """The linked revision's steps against DRS's now (drift), and against the latest revision's."""
    stored, link = _linked(db, gateway, name)
    linked = _linked_steps(link)
    try:
        actual = [v.step for v in gateway.list_steps(link.recovery_plan_arn)]
        in_drs = tuple(describe_drift(linked, actual))
    except DrsNotFound:
        in_drs = (f"the native plan {link.recovery_plan_arn} no longer exists in DRS",)
    unpublished: tuple[str, ...] = ()
    if stored.revision.revision_id != link.revision_id:
        report = fit(stored.plan, plan_name=stored.plan.name)
        if report.fits:
            unpublished = tuple(describe_drift(linked, report.steps))
        else:
            unpublished = tuple(f"the latest revision does not fit: {p.text}" for p in report.problems)
    return DiffResult(
        stored.revision.name,
        link.recovery_plan_arn,
        native_links.revision_number(db, link.revision_id),
        in_drs,
        unpublished,
    )


def adopt(
    db: Database, gateway: NativePlansGateway, name: str, *, operator: str = "", clock: Clock | None = None
) -> plan_store.PlanRevision:
    """DRS's side wins a drift: DRS's steps become the plan's next revision, and the link follows it."""
    stored, link = _linked(db, gateway, name)
    views = gateway.list_steps(link.recovery_plan_arn)
    plan = plan_from_native(stored.plan.name, stored.plan.description, [v.step for v in views])
    rev = plan_store.save_plan(
        db, plan, comment=f"adopted from DRS {link.recovery_plan_arn}", author=operator, now=_now(clock)
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
        now=_now(clock),
    )
    return rev


def status(db: Database, gateway: NativePlansGateway) -> list[PlanStatus]:
    """Every local plan with its link, drift (yes/no) and its native executions, latest first."""
    account, region = _target(gateway)
    try:
        names = {view.arn: view.name for view in gateway.list_plans()}
    except DrsError as exc:  # each linked plan says so below, when its own read fails too
        logger.info("ListRecoveryPlans failed while reading the plans' status: %s", exc)
        names = {}
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
        try:
            actual = [v.step for v in gateway.list_steps(link.recovery_plan_arn)]
            drift = bool(describe_drift(_linked_steps(link), actual))
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
    import dataclasses

    return dataclasses.replace(status_, **changes)  # type: ignore[arg-type]


def nearest_words(problems: Sequence[FitProblem], changes: Sequence[str]) -> list[str]:
    """The refusal in words: each problem, then the nearest plan's changes when there is one."""
    lines = [f"{p.where}: {p.text}" if p.where else p.text for p in problems]
    if changes:
        lines.append("the nearest plan that fits would change:")
        lines.extend(f"  {c}" for c in changes)
    return lines
