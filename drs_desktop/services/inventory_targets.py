"""The settings' list of targets, and the one place a listed target becomes an ``AwsTarget``.

``aws_target_for`` is that place: the inventory refresh (and anything else that reads a listed target)
goes through it, so a role target (``role_arn`` assumed from ``source_profile``, with external ID and
MFA) needs only this function to build its session.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from drs_desktop.aws.plan_targets import aws_target_of
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.settings.target_list import TARGETS_KEY
from drs_desktop.domain.targets import Target, is_loopback_endpoint
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database, Readable

logger = logging.getLogger(__name__)

__all__ = ["aws_target_for", "badge_target", "listed_targets", "save_listed_targets"]


def listed_targets(db: Readable) -> tuple[PlanTarget, ...]:
    """The targets the settings list besides the connected one (validated; none when never set)."""
    value = settings_store.get_setting(db, TARGETS_KEY)
    assert isinstance(value, tuple)
    return value


def save_listed_targets(db: Database, targets: tuple[PlanTarget, ...]) -> tuple[PlanTarget, ...]:
    """Validate and store the whole list (SettingError naming the target and field when it does not
    hold: nothing is stored then); return what is now in force. A stored list that cannot be read any
    more (it reads as empty) is copied to a file beside the database first, never lost silently."""
    found = settings_store.unreadable(db, TARGETS_KEY)
    if found is not None:
        text, why = found
        kept = db.path.parent / f"aws-targets-unreadable-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        kept.write_text(text, encoding="utf-8")
        logger.warning("the stored target list could not be read (%s); it was kept in %s", why, kept)
    settings_store.set_setting(db, TARGETS_KEY, targets)
    logger.info("target list saved: %d target(s)", len(targets))
    return listed_targets(db)


def aws_target_for(target: PlanTarget, *, endpoint_url: str | None) -> AwsTarget:
    """Where and how to reach a listed target: the one place a stored target becomes an ``AwsTarget``
    (its profile, or its role assumed from its source profile: ``aws.plan_targets.aws_target_of``), at
    ``endpoint_url`` (the demo simulator's) when given. A target that cannot be built is a DrsAuthError
    naming it, so only its own refresh fails."""
    try:
        return aws_target_of(target, endpoint_url=endpoint_url)
    except ValueError as exc:
        raise DrsAuthError(str(exc), code="InvalidTarget") from None


def badge_target(target: PlanTarget, *, endpoint_url: str | None) -> Target:
    """What the target badge and the Target column show of a listed target (its colour included)."""
    if is_loopback_endpoint(endpoint_url):
        # A listed account on the demo simulator is still that account: not the one DEMO badge.
        return Target(account=target.account, region=target.region, profile=target.profile, endpoint="")
    return Target(
        account=target.account,
        region=target.region,
        profile=target.profile or (f"role from {target.source_profile}" if target.role_arn else ""),
        endpoint=endpoint_url or "",
    )
