"""A target a plan (or the settings' target list) names: an AWS account and Region, and how to reach it.

Kernel: the plan (``domain.plan``), the settings registry and the connection settings all hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlanTarget"]


@dataclass(frozen=True)
class PlanTarget:
    """An AWS account and Region a plan's servers are in, and how to reach it (never a secret).

    Reached through an AWS profile (``profile``), or an IAM role assumed with the credentials of
    ``source_profile`` (``role_arn``, with ``external_id`` and ``mfa_serial`` where the role's trust
    policy asks for them). Validation (``domain.plan.validation_targets``) checks that exactly one way
    is given; the dataclass only holds what the file says.
    """

    name: str
    account: str = ""
    region: str = ""
    profile: str = ""
    role_arn: str = ""
    source_profile: str = ""
    external_id: str = ""
    mfa_serial: str = ""
