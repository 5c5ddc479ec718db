"""Profiles that assume a role with MFA (``role_arn`` + ``mfa_serial``), with the code asked by a dialog.

botocore's assume-role credential provider asks for the code with ``getpass`` on the terminal. It does
take a ``prompter`` in its constructor, but there is no public way to give one to the provider a boto3
session builds (only the private ``_prompter`` attribute), and that provider would prompt again on
whichever thread happens to refresh the credentials an hour later. So the application does the one
AssumeRole call itself, with public boto3 API only: the source profile's credentials sign
``sts:AssumeRole`` with ``SerialNumber`` and ``TokenCode`` (the code comes from a callback the GUI fills
with a dialog), and the temporary credentials go into the ``AwsTarget`` as an ``AccessKeyPair``, so
every worker thread's session uses them without prompting. When they expire the caller asks again.

Honoured profile keys: role_arn, mfa_serial, source_profile, external_id, role_session_name,
duration_seconds. ``credential_source`` with MFA is not supported (said so, rather than guessed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3.session
from botocore.exceptions import ProfileNotFound

from drs_desktop.aws.assume_role import MfaCancelled, MfaPrompter, ask_mfa_code
from drs_desktop.aws.config_files import full_config, profile_values
from drs_desktop.aws.errors import map_error
from drs_desktop.aws.session import USER_AGENT_EXTRA, client_config
from drs_desktop.domain.connection import AccessKeyPair, MfaChallenge
from drs_desktop.domain.drs.errors import DrsAuthError

logger = logging.getLogger(__name__)

__all__ = [
    "AssumedRole",
    "MfaCancelled",
    "MfaPrompter",
    "ask_mfa_code",
    "assume_role_with_mfa",
    "mfa_challenge",
]


@dataclass(frozen=True)
class AssumedRole:
    """Temporary credentials of the role a profile assumes, and when they stop working."""

    credentials: AccessKeyPair
    expires_at: datetime


def mfa_challenge(profile: str, config: dict[str, Any] | None = None) -> MfaChallenge | None:
    """What to ask for ``profile`` when it assumes a role with MFA; None when it does not need a code."""
    values = profile_values(profile, full_config() if config is None else config)
    role_arn, serial = values.get("role_arn"), values.get("mfa_serial")
    if not role_arn or not serial:
        return None
    return MfaChallenge(profile=profile or "default", mfa_serial=str(serial), role_arn=str(role_arn))


def assume_role_with_mfa(
    profile: str,
    region: str,
    prompter: MfaPrompter,
    *,
    endpoint_url: str | None = None,
    config: dict[str, Any] | None = None,
) -> AssumedRole:
    """Ask ``prompter`` for a code and assume ``profile``'s role with it (one STS call, no retries of
    the code: a one-time code is spent by the first attempt)."""
    config = full_config() if config is None else config
    challenge = mfa_challenge(profile, config)
    if challenge is None:
        raise DrsAuthError(f"The AWS profile {profile or 'default'!r} does not assume a role with MFA")
    values = profile_values(profile, config)
    source = values.get("source_profile")
    if not source:
        raise DrsAuthError(
            f"The AWS profile {challenge.profile!r} uses MFA without source_profile; DRS Desktop needs a "
            "source_profile to sign the AssumeRole call",
            code="UnsupportedProfile",
        )
    code = ask_mfa_code(prompter, challenge)
    kwargs: dict[str, Any] = {
        "RoleArn": challenge.role_arn,
        "RoleSessionName": str(
            values.get("role_session_name") or f"{USER_AGENT_EXTRA}-{int(datetime.now(UTC).timestamp())}"
        ),
        "SerialNumber": challenge.mfa_serial,
        "TokenCode": code,
    }
    if values.get("external_id"):
        kwargs["ExternalId"] = str(values["external_id"])
    if values.get("duration_seconds"):
        try:
            kwargs["DurationSeconds"] = int(values["duration_seconds"])
        except ValueError:
            logger.warning("profile %s: duration_seconds is not a number; using the role's default", profile)
    try:
        session = boto3.session.Session(profile_name=str(source), region_name=region)
        sts = session.client(
            "sts", region_name=region, endpoint_url=endpoint_url, config=client_config(retries=False)
        )
        response = sts.assume_role(**kwargs)
    except ProfileNotFound as exc:
        raise DrsAuthError(
            f"The source profile {source!r} of {challenge.profile!r} does not exist", code="ProfileNotFound"
        ) from exc
    except Exception as exc:
        raise map_error(exc, "AssumeRole", mutating=False) from exc
    issued = response["Credentials"]
    expires = issued["Expiration"]
    if isinstance(expires, datetime) and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    logger.info("assumed the role of profile %s with MFA (until %s)", challenge.profile, expires)
    return AssumedRole(
        credentials=AccessKeyPair(
            access_key_id=str(issued["AccessKeyId"]),
            secret_access_key=str(issued["SecretAccessKey"]),
            session_token=str(issued["SessionToken"]),
        ),
        expires_at=expires,
    )
