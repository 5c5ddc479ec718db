"""A plan's declared target (``domain.plan.model.PlanTarget``) as the ``AwsTarget`` the aws layer talks to.

The plan file names where its servers are and how to reach them, never a secret: a profile of the AWS
config files, or a role assumed from a source profile (with the external ID and MFA device its trust
policy asks for). Validation (``domain.plan.validation_targets``) has already checked that exactly one way
is given; what cannot become a target here (a role without its source profile, a malformed ARN) is a
``ValueError`` with the target's name.
"""

from __future__ import annotations

from drs_desktop.aws.session import AwsTarget, RoleToAssume
from drs_desktop.domain.plan.model import PlanTarget

__all__ = ["aws_target_of"]


def aws_target_of(plan_target: PlanTarget, *, endpoint_url: str | None) -> AwsTarget:
    """The ``AwsTarget`` of ``plan_target``; ``endpoint_url`` is the DRS endpoint of the run (None: AWS;
    a loopback URL: the simulator, whose STS serves the role too).

    Build it once per target and run (its credential cache is shared by what is built from it: one
    AssumeRole, one MFA code, for all of a run's gateways)."""
    where = f"target {plan_target.name!r}"
    if not plan_target.region:
        raise ValueError(f"{where} has no region")
    if plan_target.role_arn:
        try:
            role = RoleToAssume(
                role_arn=plan_target.role_arn,
                source_profile=plan_target.source_profile,
                external_id=plan_target.external_id,
                mfa_serial=plan_target.mfa_serial,
            )
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        return AwsTarget(profile=None, region=plan_target.region, endpoint_url=endpoint_url, role=role)
    profile = plan_target.profile or None
    return AwsTarget(profile=profile, region=plan_target.region, endpoint_url=endpoint_url)
