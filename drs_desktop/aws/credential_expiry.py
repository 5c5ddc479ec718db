"""When a target's credentials stop working, and whether renewing them needs a person.

The engine plans around both: a run that will outlast credentials only a person can renew (an MFA role,
an IAM Identity Center sign-in, temporary keys typed in) must ask before they lapse, not fail a wave
halfway. Credentials that renew themselves (a role without MFA, an assume-role profile) only need the
expiry for display. Reads no network: the answers come from the credentials already fetched, the config
files and the SSO token cache.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.credentials import RefreshableCredentials

from drs_desktop.aws import config_files
from drs_desktop.aws.assume_role import RoleCredentials
from drs_desktop.aws.session import AwsTarget, profile_exists
from drs_desktop.aws.sso import sso_token_state

__all__ = ["credentials_expire_at", "refresh_needs_person"]


def credentials_expire_at(target: AwsTarget, credentials: Any) -> datetime | None:
    """When ``credentials`` (the session's, for ``target``) stop working; None for long-lived keys or
    when it cannot be known (typed keys carry no expiry). For an IAM Identity Center profile whose token
    cannot renew itself, the token's expiry: the role credentials renew themselves until then."""
    if isinstance(credentials, RoleCredentials):
        return credentials.expires_at
    if target.credentials is not None or target.role is not None:
        return None
    if target.profile and config_files.signs_in_with_sso(config_files.profile_values(target.profile)):
        token = sso_token_state(target.profile)
        if token.expires_at is not None and not token.renews_itself:
            return token.expires_at
    if isinstance(credentials, RefreshableCredentials):
        # botocore keeps the expiry of its temporary credentials (assume-role profiles, SSO role
        # credentials, credential_process) without a public accessor.
        expiry = getattr(credentials, "_expiry_time", None)
        if isinstance(expiry, datetime):
            return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
    return None


def refresh_needs_person(target: AwsTarget) -> bool:
    """Whether renewing ``target``'s credentials needs someone: an MFA role (a code per AssumeRole), an
    assume-role profile with ``mfa_serial``, an IAM Identity Center profile whose token does not renew
    itself (a sign-in), or typed temporary keys (new ones must be typed)."""
    if target.credentials is not None:
        return bool(target.credentials.session_token)
    if target.role is not None:
        return bool(target.role.mfa_serial)
    if not target.profile or (target.is_local and not profile_exists(target.profile)):
        return False
    values = config_files.profile_values(target.profile)
    if values.get("role_arn") and values.get("mfa_serial"):
        return True
    if config_files.signs_in_with_sso(values):
        return not sso_token_state(target.profile).renews_itself
    return False
