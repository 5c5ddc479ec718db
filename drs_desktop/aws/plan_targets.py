"""A plan target (``domain.plan.model.PlanTarget``) as the ``AwsTarget`` its gateway talks to."""

from __future__ import annotations

from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.plan.model import PlanTarget


def aws_target_of(target: PlanTarget, *, endpoint_url: str | None) -> AwsTarget:
    """Where ``target``'s calls go and with which credentials (its profile)."""
    if target.role_arn:
        raise DrsAuthError(
            f"target {target.name!r} assumes a role, which this build cannot do yet", code="RoleUnsupported"
        )
    return AwsTarget(profile=target.profile or None, region=target.region, endpoint_url=endpoint_url)
