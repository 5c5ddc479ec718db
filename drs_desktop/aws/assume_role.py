"""Credentials of an IAM role (``RoleToAssume``), assumed from a source profile and renewed by themselves.

A plan's target in another account is reached through a role. A drill can outlast the role's session (an
hour by default), so the credentials are botocore ``RefreshableCredentials`` whose refresh is our own
sts:AssumeRole call: botocore asks for new ones 15 minutes before the expiry (blocking the callers in the
last 10), in whichever thread signs a request, and nobody has to act when the role needs no MFA.

Why our own refresh rather than botocore's assume-role profile provider: a plan names the role itself
(no profile has to be written for it), and an MFA role must ask a person through the application's
dialog (``MfaPrompter``), not ``getpass`` on a terminal the GUI does not have. Without a prompter an MFA
role raises ``DrsAuthError(code="MfaRequired")``.

The credentials are registered on the botocore session through its credential resolver (a provider
inserted first), a public botocore extension point. They are shared by every session built from one
``AwsTarget`` value (its ``CredentialCache``), so a run's gateways and threads assume the role once, and
an MFA role asks for one code per session of the role, not one per thread.

The expiry is judged on the desktop's wall clock against STS's ``Expiration``; when AWS still says a
session expired (a clock far off, a laptop that slept, a session revoked), ``renew`` makes the next
request assume the role again (``DrsGateway`` does it, then resends a read).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import ClientError

from drs_desktop.aws.errors import map_error
from drs_desktop.domain.connection import MfaChallenge
from drs_desktop.domain.drs.errors import DrsAuthError, DrsError

logger = logging.getLogger(__name__)

__all__ = [
    "EXPIRED_CODES",
    "METHOD",
    "MfaCancelled",
    "MfaPrompter",
    "RoleCredentials",
    "RoleProvider",
    "RoleToAssume",
    "ask_mfa_code",
]

#: Asked for a code; returns it, or "" when the operator cancelled.
MfaPrompter = Callable[[MfaChallenge], str]
#: Builds the STS client of the role's source profile (``aws.session`` gives it; called at each refresh).
SourceSts = Callable[[bool], Any]

#: botocore's ``method`` of these credentials (what ``session.get_credentials().method`` says).
METHOD = "drs-desktop-assume-role"
#: Error codes of AWS saying the request's credentials have expired.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})

_CODE = re.compile(r"^\d{6}$")


class MfaCancelled(DrsAuthError):
    """The operator closed the MFA dialog (or it timed out) without a code."""


def ask_mfa_code(prompter: MfaPrompter, challenge: MfaChallenge) -> str:
    """``prompter``'s code for ``challenge``, checked: ``MfaCancelled`` when none was entered,
    ``DrsAuthError`` (InvalidMfaCode) when it is not six digits. Nothing is sent before this passes."""
    code = (prompter(challenge) or "").strip()
    if not code:
        raise MfaCancelled("No MFA code was entered", code="MfaCancelled")
    if not _CODE.match(code):
        raise DrsAuthError("An MFA code is six digits", code="InvalidMfaCode")
    return code


@dataclass(frozen=True)
class RoleToAssume:
    """An IAM role reached with sts:AssumeRole, signed with the credentials of ``source_profile``.

    ``external_id`` and ``mfa_serial`` are sent when the role's trust policy asks for them (neither is a
    secret; the MFA code is asked for at each AssumeRole and never kept). ``duration_seconds`` is the
    session length asked for (STS caps it at the role's MaxSessionDuration, one hour when chained).
    """

    role_arn: str
    source_profile: str
    external_id: str = ""
    mfa_serial: str = ""
    session_name: str = "drs-desktop"
    duration_seconds: int = 3600

    def __post_init__(self) -> None:
        if not self.role_arn.startswith("arn:") or ":role/" not in self.role_arn:
            raise ValueError(f"{self.role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        if not self.source_profile.strip():
            raise ValueError("a role needs a source profile whose credentials sign AssumeRole")
        if not 900 <= self.duration_seconds <= 43200:
            raise ValueError("duration_seconds is between 900 and 43200 (STS's limits)")


class RoleCredentials(DeferredRefreshableCredentials):
    """The role's temporary credentials; the first use assumes the role, and so does each refresh."""

    def __init__(self, role: RoleToAssume, source_sts: SourceSts, *, prompter: MfaPrompter | None) -> None:
        super().__init__(refresh_using=self._assume, method=METHOD)
        self.role = role
        self.prompter = prompter  # the latest one given (the GUI's dialog, or None on a CLI without MFA)
        self._source_sts = source_sts
        self._state = threading.Lock()
        self._expires_at: datetime | None = None
        self._renew = False
        self._assumed_at = float("-inf")  # monotonic time of the last AssumeRole answered

    @property
    def expires_at(self) -> datetime | None:
        """When the credentials in use stop working (STS's Expiration); None before the first AssumeRole."""
        with self._state:
            return self._expires_at

    @property
    def needs_person(self) -> bool:
        """Each AssumeRole of an MFA role needs a code someone types."""
        return bool(self.role.mfa_serial)

    def refresh_needed(self, refresh_in: Any = None) -> bool:
        """botocore's test (time left under ``refresh_in``), or a renewal ``renew`` asked for. An MFA role
        is not refreshed early (botocore would ask for a code 15 minutes ahead, on whichever thread makes
        the next call, a run's loop included, and wait there for a person): the engine holds its target
        for the operator before the expiry (``CredentialsNeeded``), and a renewal builds new credentials;
        only credentials that have run out are assumed again in place."""
        with self._state:
            if self._renew:
                return True
        if self.needs_person:
            return bool(super().refresh_needed(0))
        return bool(super().refresh_needed(refresh_in))

    def renew(self, *, since: float) -> None:
        """AWS said the credentials expired for a request sent at monotonic time ``since``: assume the role
        again before the next request, unless another thread already did after ``since``."""
        with self._state:
            if self._assumed_at <= since:
                self._renew = True

    def _assume(self) -> dict[str, Any]:
        """botocore's ``refresh_using``: one sts:AssumeRole with the source profile's credentials."""
        role = self.role
        params: dict[str, Any] = {
            "RoleArn": role.role_arn,
            "RoleSessionName": role.session_name,
            "DurationSeconds": role.duration_seconds,
        }
        if role.external_id:
            params["ExternalId"] = role.external_id
        if role.mfa_serial:
            if self.prompter is None:
                raise DrsAuthError(
                    f"The role {role.role_arn} needs a code from the MFA device {role.mfa_serial} each time "
                    "it is assumed, and nobody can be asked for one here (a background check, or a command "
                    "without a prompt): the desktop application asks for it when a run or a refresh starts",
                    code="MfaRequired",
                    operation="AssumeRole",
                )
            challenge = MfaChallenge(
                profile=role.source_profile, mfa_serial=role.mfa_serial, role_arn=role.role_arn
            )
            params.update(SerialNumber=role.mfa_serial, TokenCode=ask_mfa_code(self.prompter, challenge))
        try:
            # No retries with a one-time code: the first attempt spends it.
            answer = self._source_sts(not role.mfa_serial).assume_role(**params)
        except ClientError as exc:
            raise _refused(exc, role) from exc
        except DrsError:
            raise
        except Exception as exc:
            raise map_error(exc, "AssumeRole", mutating=False) from exc
        issued = answer["Credentials"]
        expires = issued["Expiration"]
        if isinstance(expires, datetime) and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        with self._state:
            self._expires_at = expires
            self._renew = False
            self._assumed_at = time.monotonic()
        logger.info("assumed %s from profile %s (until %s)", role.role_arn, role.source_profile, expires)
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": expires.isoformat() if isinstance(expires, datetime) else str(expires),
        }


def _refused(exc: ClientError, role: RoleToAssume) -> DrsError:
    """STS's refusal as the domain error: AccessDenied is a credentials problem of this target."""
    error = map_error(exc, "AssumeRole", mutating=False)
    if error.code not in ("AccessDenied", "AccessDeniedException") and not isinstance(error, DrsAuthError):
        return error
    asked = ["the role's trust policy (it must trust the source profile's account or user)"]
    if role.external_id:
        asked.append("the external ID")
    if role.mfa_serial:
        asked.append("the MFA code and device")
    return DrsAuthError(
        f"Could not assume the role {role.role_arn} with the credentials of profile {role.source_profile!r}: "
        f"{error.message}. Check {', '.join(asked)}",
        code=error.code or "AccessDenied",
        operation="AssumeRole",
        status=error.status,
        request_id=error.request_id,
    )


class RoleProvider(CredentialProvider):
    """Gives botocore's credential resolver the role's shared credentials (inserted before any other
    source: ``resolver.insert_before("env", RoleProvider(credentials))``)."""

    METHOD = METHOD
    CANONICAL_NAME = "custom-drs-desktop-role"

    def __init__(self, credentials: RoleCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RoleCredentials:
        return self._credentials
