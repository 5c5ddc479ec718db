"""A plan's declared target (``domain.plan.model.PlanTarget``) as the ``AwsTarget`` the aws layer talks to.

The plan file names where its servers are and how to reach them, never a secret: a profile of the AWS
config files, or a role assumed from a source profile (with the external ID and MFA device its trust
policy asks for). Validation (``domain.plan.validation_targets``) has already checked that exactly one way
is given; what cannot become a target here (a role without its source profile, a malformed ARN) is a
``ValueError`` with the target's name.
"""

from __future__ import annotations

from drs_desktop.aws import config_files
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
    if profile is not None:
        of_profile = _mfa_role_of_profile(profile)
        if of_profile is not None:
            return AwsTarget(
                profile=None, region=plan_target.region, endpoint_url=endpoint_url, role=of_profile
            )
    return AwsTarget(profile=profile, region=plan_target.region, endpoint_url=endpoint_url)


def _mfa_role_of_profile(profile: str) -> RoleToAssume | None:
    """A profile of the config files that assumes a role with MFA, as the role: botocore would ask for
    the code with ``getpass`` on a terminal the desktop application does not have (and from a worker
    thread); the application's own AssumeRole asks its prompter. None for any other profile."""
    values = config_files.profile_values(profile)
    role_arn, serial, source = values.get("role_arn"), values.get("mfa_serial"), values.get("source_profile")
    if not role_arn or not serial:
        return None
    if not source:
        raise ValueError(
            f"profile {profile!r} assumes a role with MFA without source_profile; DRS Desktop needs a "
            "source_profile to sign the AssumeRole call"
        )
    return RoleToAssume(
        role_arn=str(role_arn),
        source_profile=str(source),
        external_id=str(values.get("external_id") or ""),
        mfa_serial=str(serial),
    )
