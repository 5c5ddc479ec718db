"""What the native plan use cases share: their errors, the target, the link's checks and the inventory.

``services.native_plans`` (import, diff, adopt, status) and ``services.native_publish`` (publish) both
need these; they live here so that neither imports the other's internals.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from drs_desktop.aws.native_plans import PLAN_TAG, NativePlansGateway, NativePlanView
from drs_desktop.domain.drs.errors import DrsNotFound
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import age_text
from drs_desktop.domain.native.steps import NativeStep
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import native_links
from drs_desktop.storage.db import Readable

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class NativePlanError(DrsDesktopError):
    """A native plan operation that cannot be carried out as asked (not linked, another target...)."""


class PublishIncomplete(NativePlanError):
    """DRS refused a call (or stayed out of reach) halfway through a publish. ``done``: the calls DRS
    accepted, in words; ``left``: what is still to send (as read back, when DRS could be read). The link
    says "publish of revision N incomplete" and the next publish finishes it."""

    def __init__(self, message: str, *, done: Sequence[str], left: Sequence[str], code: str = "") -> None:
        super().__init__(message)
        self.done = tuple(done)
        self.left = tuple(left)
        self.code = code  # DRS's error code of the refusal


def now_of(clock: Clock | None) -> datetime | None:
    return clock() if clock is not None else None


def target_of(gateway: NativePlansGateway) -> tuple[str, str]:
    return gateway.drs.caller_identity().account, gateway.drs.target.region


def token(*parts: str) -> str:
    """A clientToken (at most 64 characters) that names these parts and nothing else."""
    return "drsd-" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


def linked_here(
    link: native_links.NativeLink | None, account: str, region: str
) -> native_links.NativeLink | None:
    if link is not None and (link.account_id, link.region) != (account, region):
        raise NativePlanError(
            f"the plan is linked to a native plan in account {link.account_id} Region {link.region}, not "
            f"{account} {region}: connect to that target"
        )
    return link


def linked_steps(link: native_links.NativeLink) -> list[NativeStep]:
    try:
        return [NativeStep.from_wire(item) for item in link.steps]
    except ValueError as exc:
        raise NativePlanError(f"the steps saved with the link cannot be read ({exc}); publish again") from exc


def linked_plan(
    gateway: NativePlansGateway, link: native_links.NativeLink, plan_name: str
) -> NativePlanView | None:
    """The linked native plan (None when it is gone from DRS), checked to carry this plan's tag: an ARN
    alone is not trusted to be the plan this desktop published (``NativePlanError`` otherwise)."""
    try:
        view = gateway.get_plan(link.recovery_plan_arn)
    except DrsNotFound:
        return None
    tag = view.tags.get(PLAN_TAG, "")
    if tag != link.plan_id:
        raise NativePlanError(
            f"the native plan {link.recovery_plan_arn} linked to {plan_name!r} carries "
            f"{PLAN_TAG}={tag or '(no tag)'}, not this plan's ID {link.plan_id}: it may not be the plan "
            f"published from here, so nothing was sent. Tag it in DRS, or `native unlink {plan_name}`"
        )
    return view


def find_tagged(gateway: NativePlansGateway, plan_id: str, name: str) -> NativePlanView | None:
    """A native plan tagged as published from local plan ``plan_id`` (a first publish that failed or was
    cut short before its link was saved), looking at the one named ``name`` first; None when none is."""
    listed = sorted(gateway.list_plans(), key=lambda summary: summary.name != name)
    for summary in listed:
        try:
            view = gateway.get_plan(summary.arn)
        except DrsNotFound:
            continue
        if view.tags.get(PLAN_TAG) == plan_id:
            logger.info("native plan %s is tagged with local plan %s: publishing into it", view.arn, plan_id)
            return view
    return None


def plan_inventory(
    db: Readable, plan: RecoveryPlan, account: str, region: str, now: datetime | None
) -> tuple[Inventory | None, str]:
    """The connected target's cached inventory, when the plan selects servers by tag, and a sentence
    saying how old it is (the servers a tag selects are those of that reading)."""
    if not any(group.is_tag_selector for group in plan.protection_groups):
        return None, ""
    inventory = inventory_store.load_inventory(db, account, region)
    if inventory is None:
        return None, (
            f"no inventory of {account}/{region} is cached: refresh the Servers pane to resolve tag groups"
        )
    age = age_text(inventory.fetched_at, now or datetime.now(UTC))
    return inventory, f"tag groups resolved in the inventory of {account}/{region} {age}"
