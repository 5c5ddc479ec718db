"""Who signs a run off: the STS identity of a named AWS profile, read on a session of its own.

A post-run review is signed by a person other than the operator (issue 18), who signs in with their own
profile (keys, a role, or an IAM Identity Center sign-in). Their identity must be what STS says of *their*
credentials, never of the operator's: so the session is made here, fresh, for that profile alone (no
gateway, no credential cache of the run is reused), asked once, and closed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from drs_desktop.aws.drs_clock import parse_http_date
from drs_desktop.aws.drs_parse import parse_caller_identity
from drs_desktop.aws.errors import map_error
from drs_desktop.aws.session import (
    AwsTarget,
    is_sso_profile,
    make_session,
    profile_exists,
    sso_login_hint,
    sts_client,
)
from drs_desktop.domain.drs.errors import DrsAuthError, DrsError
from drs_desktop.domain.drs.views import CallerIdentity

logger = logging.getLogger(__name__)

__all__ = ["profile_identity"]


def profile_identity(profile: str, *, region: str, endpoint_url: str | None = None) -> CallerIdentity:
    """STS GetCallerIdentity (``Arn``, ``Account``, ``UserId``) of ``profile``, on a new session.

    ``endpoint_url``: a loopback one (the simulator) also answers STS; any other is not used for STS
    (``aws.session.sts_client``). A profile that is not in the AWS config files, credentials that STS
    refuses, an SSO sign-in that expired (the message says how to sign in again) or an answer without an
    ARN are a ``DrsError`` with one clear line; nothing is cached.
    """
    name = profile.strip()
    if not name:
        raise DrsAuthError("name the AWS profile of the person who signs", code="ProfileNotFound")
    if not profile_exists(name):
        raise DrsAuthError(
            f"The AWS profile {name!r} does not exist in the AWS config files", code="ProfileNotFound"
        )
    target = AwsTarget(profile=name, region=region, endpoint_url=endpoint_url)
    hint = sso_login_hint(name) if is_sso_profile(name) else ""
    try:
        client = sts_client(make_session(target), target, retries=True)
    except DrsError:
        raise
    except Exception as exc:  # the profile's credentials could not even be set up
        raise map_error(exc, "GetCallerIdentity", mutating=False, auth_hint=hint) from exc
    try:
        response = client.get_caller_identity()
    except Exception as exc:
        raise map_error(exc, "GetCallerIdentity", mutating=False, auth_hint=hint) from exc
    finally:
        client.close()
    identity = dataclasses.replace(parse_caller_identity(response), answered_at=_answered_at(response))
    if not identity.arn or not identity.account:
        raise DrsError(
            f"STS answered for profile {name!r} without an ARN or account", code="MalformedIdentity"
        )
    logger.info("profile %s is %s", name, identity.arn)
    return identity


def _answered_at(response: Mapping[str, Any]) -> datetime | None:
    """AWS's time of the answer, from its ``Date`` header (None when absent or unreadable)."""
    metadata = response.get("ResponseMetadata")
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    return parse_http_date(headers.get("date")) if isinstance(headers, Mapping) else None
