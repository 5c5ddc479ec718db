"""Publish a local plan as a native DRS recovery plan: create it, or bring it to the latest revision.

Publishing never trusts its own memory of DRS. Each round reads the native plan's steps back, asks the
domain's step_changes for what is still to do, and sends it (``native_apply.Applier``); a call whose
answer was lost, a throttle or an outage ends the round, and the next one reads back again, so a resent
call never duplicates a step. CreateRecoveryPlan and CreateRecoveryPlanStep carry idempotency tokens.

What makes a publish safe to repeat and honest when it stops halfway:

- before creating a plan, a native plan already tagged ``drs-desktop:plan`` = this plan's ID (a first
  publish cut short before its link was saved) is taken as the target, never a second one created;
- the link is marked "publish of revision N incomplete" before anything is sent (right after
  CreateRecoveryPlan for a new plan), and cleared only when DRS's steps read back equal the desired
  ones, so what DRS holds of an unfinished publish is known to be ours, not drift, and the next publish
  finishes it; a refusal halfway raises ``PublishIncomplete`` naming what was done and what is left;
- changes made in DRS since the link (drift) are shown by the preview and overwritten only when the
  caller says so (``overwrite``); ``expected_drs`` (the preview's ``drs_digest``) refuses a publish when
  DRS's plan changed since the preview was read;
- the native plan carries the local plan's tag: a link whose plan does not is refused (``linked_plan``);
- the plan's name and description reach DRS (UpdateRecoveryPlan) and ``drs-desktop:revision`` names the
  revision published (TagResource).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.native_plans import PLAN_TAG, REVISION_TAG, NativePlansGateway, NativePlanView
from drs_desktop.domain.drs.errors import DrsError, DrsOutcomeUnknown, DrsThrottled, DrsUnavailable
from drs_desktop.domain.native.drift import describe_drift, step_changes, steps_digest
from drs_desktop.domain.native.fit import FitProblem, fit, native_name
from drs_desktop.domain.native.steps import MAX_DESCRIPTION, NativeStep
from drs_desktop.services import native_apply
from drs_desktop.services.native_common import (
    Clock,
    NativePlanError,
    PublishIncomplete,
    find_tagged,
    linked_here,
    linked_plan,
    linked_steps,
    now_of,
    plan_inventory,
    target_of,
    token,
)
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

#: Rounds of read back, compare, send before a publish gives up (each round makes progress unless a call
#: was lost or refused on the way).
MAX_ROUNDS = 8
#: Seconds to wait after a lost answer or an outage when DRS gave no Retry-After.
BACKOFF_SECONDS = 2.0


class DriftNotConfirmed(NativePlanError):
    """DRS's plan was changed since the publish, and the caller did not say to overwrite those changes."""


class DrsChangedSincePreview(NativePlanError):
    """DRS's plan is not what the preview read: nothing was sent."""


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
    drift: tuple[str, ...] = ()  # changed in DRS since the link, which the publish overwrites
    drs_digest: str = ""  # DRS's plan as read (``steps_digest``): pass it back as ``expected_drs``
    notes: tuple[str, ...] = ()  # what is worth knowing and is no problem (the name DRS takes, inventory)
    read_at: datetime | None = None  # when DRS was read (the caller's clock)
    resumes: int | None = None  # the revision whose unfinished publish this one finishes

    @property
    def ok(self) -> bool:
        return self.outcome in ("published", "unchanged", "preview")


def drift_lines(
    link: native_links.NativeLink | None, view: NativePlanView | None, actual: Sequence[NativeStep]
) -> tuple[str, ...]:
    """What was changed in DRS since the link's publish (its name, description and steps), in words;
    () when there is no complete link to this native plan (an unfinished publish is ours, not drift)."""
    if link is None or link.incomplete or view is None or view.arn != link.recovery_plan_arn:
        return ()
    lines: list[str] = []
    if link.native_name and view.name != link.native_name:
        lines.append(f"The plan was renamed {view.name!r} in DRS (published as {link.native_name!r}).")
    if link.native_name and view.description != link.native_description:
        lines.append(f"The plan's description was changed in DRS to {view.description!r}.")
    lines.extend(describe_drift(linked_steps(link), actual))
    return tuple(lines)


def publish(
    db: Database,
    gateway: NativePlansGateway,
    name: str,
    *,
    operator: str = "",
    dry_run: bool = False,
    overwrite: bool = False,
    expected_drs: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock | None = None,
) -> PublishResult:
    """Publish the latest revision of plan ``name`` as a native plan (create it, or update it in place).
    ``clock`` stamps the link (the GUI's one clock, the simulator's in demo mode); the desktop's without."""
    stored = plan_store.load_plan(db, name)
    rev = stored.revision
    account, region = target_of(gateway)
    read_at = now_of(clock)
    inventory, inventory_note = plan_inventory(db, stored.plan, account, region, read_at)
    notes = [inventory_note] if inventory_note else []
    report = fit(stored.plan, plan_name=stored.plan.name, inventory=inventory)
    if not report.fits:
        return PublishResult(
            "does_not_fit",
            rev.name,
            rev.revision,
            problems=report.problems,
            nearest_changes=report.changes,
            notes=tuple(notes),
        )
    desired = tuple(report.steps)
    want_name, want_description = native_name(rev.name), stored.plan.description[:MAX_DESCRIPTION]
    if want_name != rev.name:
        notes.insert(0, f"DRS takes the plan's name as {want_name!r} (letters, digits, spaces, '-', '_')")
    link = linked_here(native_links.get_link(db, rev.plan_id), account, region)
    view = linked_plan(gateway, link, rev.name) if link is not None else None
    if link is not None and view is None:
        logger.warning(
            "native plan %s is gone from DRS; publishing %r again", link.recovery_plan_arn, rev.name
        )
    if view is None:
        view = find_tagged(gateway, rev.plan_id, want_name)
    views = gateway.list_steps(view.arn) if view is not None else []
    actual = [v.step for v in views]
    digest = steps_digest(actual, name=view.name, description=view.description) if view else ""
    drift = drift_lines(link, view, actual)
    resumes = (
        native_links.revision_number(db, link.pending_revision_id)
        if link is not None and link.incomplete
        else None
    )
    words = _plan_words(view, want_name, want_description) + native_apply.describe_changes(
        step_changes(desired, [(v.arn, v.step) for v in views])
    )
    if dry_run:
        return PublishResult(
            "preview",
            rev.name,
            rev.revision,
            view.arn if view is not None else "",
            actions=words,
            drift=drift,
            drs_digest=digest,
            notes=tuple(notes),
            read_at=read_at,
            resumes=resumes,
        )
    if expected_drs is not None and expected_drs != digest:
        raise DrsChangedSincePreview(
            f"DRS's native plan of {rev.name!r} changed since the preview was read: nothing was sent; "
            "preview again"
        )
    if drift and not overwrite:
        raise DriftNotConfirmed(
            f"DRS's native plan of {rev.name!r} was changed in DRS since the publish, and publishing would "
            "undo it: " + " ".join(drift) + " Nothing was sent; review the drift, then publish with "
            "overwrite (`--overwrite`), or take DRS's side (`native adopt`)"
        )
    naming = (want_name, want_description)
    return _send(db, gateway, stored, link, view, desired, naming, operator, sleep, clock)


def _plan_words(view: NativePlanView | None, name: str, description: str) -> tuple[str, ...]:
    if view is None:
        return (f"create native plan {name!r}",)
    words = []
    if view.name != name:
        words.append(f"rename the native plan {view.name!r} to {name!r}")
    if view.description != description:
        words.append("set the native plan's description")
    return tuple(words)


def _send(
    db: Database,
    gateway: NativePlansGateway,
    stored: plan_store.StoredPlan,
    link: native_links.NativeLink | None,
    view: NativePlanView | None,
    desired: tuple[NativeStep, ...],
    naming: tuple[str, str],
    operator: str,
    sleep: Callable[[float], None],
    clock: Clock | None,
) -> PublishResult:
    rev = stored.revision
    account, region = target_of(gateway)
    want_name, want_description = naming
    done: list[str] = []
    retried = 0
    plan_arn = view.arn if view is not None else ""
    arns = native_apply.server_arns(gateway, desired)

    def pending(arn: str) -> None:
        """Mark the link "publish of revision N incomplete" before anything (more) is sent."""
        same = link is not None and link.recovery_plan_arn == arn and not link.incomplete
        native_links.save_link(
            db,
            plan_id=rev.plan_id,
            account_id=account,
            region=region,
            recovery_plan_arn=arn,
            revision_id=link.revision_id if same and link else rev.revision_id,
            content_hash=link.content_hash if same and link else rev.content_hash,
            steps=list(link.steps) if same and link else [],
            published_by=link.published_by if same and link else operator,
            now=link.published_at if same and link else now_of(clock),
            pending_revision_id=rev.revision_id,
            native_name=link.native_name if same and link else want_name,
            native_description=link.native_description if same and link else want_description,
        )

    nonce = uuid.uuid4().hex
    applier = native_apply.Applier(
        gateway, plan_arn, arns, token=lambda step: token(rev.plan_id, rev.revision_id, nonce, repr(step))
    )
    try:
        if view is None:
            plan_arn, lost = _create_plan(gateway, want_name, want_description, rev, sleep)
            retried += lost
            done.append(f"created native plan {want_name!r} ({plan_arn})")
            applier.plan_arn = plan_arn
            pending(plan_arn)
        else:
            pending(plan_arn)
            if (view.name, view.description) != (want_name, want_description):
                gateway.update_plan(plan_arn, name=want_name, description=want_description)
                renamed = view.name != want_name
                done.append(f"renamed the native plan {want_name!r}" if renamed else "set the description")
        try:
            final, lost = applier.converge(desired, sleep=sleep, max_rounds=MAX_ROUNDS)
        finally:
            done.extend(applier.actions)
        retried += lost
        tags = {PLAN_TAG: rev.plan_id, REVISION_TAG: rev.revision_id}
        if view is not None and any(view.tags.get(k) != v for k, v in tags.items()):
            gateway.tag_plan(plan_arn, tags)  # a new plan was created with them
            done.append(f"tagged the native plan with revision {rev.revision}")
    except DrsError as exc:
        if not done:  # refused before anything changed in DRS: the link stays as it was
            _restore(db, rev.plan_id, link)
            raise
        left = _left(gateway, plan_arn, desired)
        said = "; ".join(done) if done else "nothing"
        still = "; ".join(left) if left else "(DRS could not be read back to tell)"
        raise PublishIncomplete(
            f"publish of {rev.name!r} revision {rev.revision} incomplete: {exc}. Done in DRS: {said}. "
            f"Still to do: {still}. Publish again to finish it",
            done=done,
            left=left,
            code=exc.code,
        ) from exc
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
        now=now_of(clock),
        native_name=want_name,
        native_description=want_description,
    )
    unchanged = not done and link is not None and link.revision_id == rev.revision_id and not link.incomplete
    logger.info("published %r revision %d as %s (%d call(s))", rev.name, rev.revision, plan_arn, len(done))
    return PublishResult(
        "unchanged" if unchanged else "published",
        rev.name,
        rev.revision,
        plan_arn,
        tuple(done),
        retried=retried,
    )


def _restore(db: Database, plan_id: str, link: native_links.NativeLink | None) -> None:
    if link is None:
        return  # a plan found by its tag holds an earlier unfinished publish of ours: keep it marked
    native_links.save_link(
        db,
        plan_id=plan_id,
        account_id=link.account_id,
        region=link.region,
        recovery_plan_arn=link.recovery_plan_arn,
        revision_id=link.revision_id,
        content_hash=link.content_hash,
        steps=list(link.steps),
        published_by=link.published_by,
        now=link.published_at,
        pending_revision_id=link.pending_revision_id,
        native_name=link.native_name,
        native_description=link.native_description,
    )


def _left(gateway: NativePlansGateway, plan_arn: str, desired: Sequence[NativeStep]) -> tuple[str, ...]:
    """What is still to send, read back after a refusal; () when DRS cannot be read either."""
    if not plan_arn:
        return ("create the native plan and its steps",)
    try:
        views = gateway.list_steps(plan_arn)
    except DrsError:
        return ()
    return native_apply.describe_changes(step_changes(desired, [(v.arn, v.step) for v in views]))


def _create_plan(
    gateway: NativePlansGateway,
    name: str,
    description: str,
    rev: plan_store.PlanRevision,
    sleep: Callable[[float], None],
) -> tuple[str, int]:
    """CreateRecoveryPlan with the token of (plan, revision), resent with the same token after a lost
    answer, a throttle or an outage: DRS answers a resend with the plan it already made."""
    client_token = token(rev.plan_id, rev.revision_id)
    tags = {PLAN_TAG: rev.plan_id, REVISION_TAG: rev.revision_id}
    lost = 0
    for attempt in range(MAX_ROUNDS):
        try:
            plan = gateway.create_plan(name, description, tags=tags, client_token=client_token)
            return plan.arn, lost
        except (DrsOutcomeUnknown, DrsUnavailable, DrsThrottled) as exc:
            if attempt == MAX_ROUNDS - 1:
                raise
            lost += 1
            logger.info("CreateRecoveryPlan: %s; sending it again with the same token", exc)
            sleep(exc.retry_after if exc.retry_after is not None else BACKOFF_SECONDS)
    raise AssertionError("unreachable")
