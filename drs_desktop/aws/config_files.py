"""What the AWS config files say about profiles and IAM Identity Center sessions, read through botocore.

botocore parses ``~/.aws/config`` and ``~/.aws/credentials`` (or AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE) exactly as the AWS CLI does, ``[sso-session NAME]`` sections included, so the
settings page offers the same profiles the operator sees in a terminal. Each call reads the files afresh:
an operator who edits them while the application runs sees the change on the next look.
"""

from __future__ import annotations

import logging
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError

from drs_desktop.domain.connection import AwsProfileInfo

logger = logging.getLogger(__name__)

__all__ = ["full_config", "profile_infos", "profile_values", "signs_in_with_sso", "sso_session_values"]

_SSO_KEYS = ("sso_start_url", "sso_session", "sso_account_id", "sso_role_name")


def full_config() -> dict[str, Any]:
    """botocore's merged view of the config files; ``{}`` when they cannot be read."""
    try:
        return dict(botocore.session.Session().full_config)
    except BotoCoreError as exc:
        logger.warning("Cannot read the AWS config files: %s", exc)
        return {}


def _section(config: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    values = config.get(kind, {}).get(name, {})
    return dict(values) if isinstance(values, dict) else {}


def profile_values(name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The keys of profile ``name`` ("" means "default"); ``{}`` for an unknown profile."""
    return _section(full_config() if config is None else config, "profiles", name or "default")


def sso_session_values(name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The keys of ``[sso-session name]``; ``{}`` when there is no such section."""
    return _section(full_config() if config is None else config, "sso_sessions", name)


def signs_in_with_sso(values: dict[str, Any]) -> bool:
    """Whether a profile with these keys signs in through IAM Identity Center (legacy ``sso_start_url``
    or an ``sso_session``)."""
    return any(key in values for key in _SSO_KEYS)


def profile_infos() -> list[AwsProfileInfo]:
    """Every profile, sorted by name, with its region and whether it signs in through SSO or needs MFA."""
    config = full_config()
    infos = []
    for name in sorted(config.get("profiles", {})):
        values = profile_values(name, config)
        region = values.get("region")
        mfa = values.get("mfa_serial") if values.get("role_arn") else None
        infos.append(
            AwsProfileInfo(
                name=str(name),
                region=str(region) if region else None,
                sso=signs_in_with_sso(values),
                mfa_serial=str(mfa) if mfa else None,
            )
        )
    return infos
