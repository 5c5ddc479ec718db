"""IAM Identity Center (SSO) sign-in without a terminal: the OAuth device authorization flow.

``aws sso login`` and botocore's SSO providers expect a terminal (or a browser the CLI opens), which a
double-clicked desktop application does not have. The flow itself is three calls of the ``sso-oidc``
API, which need no AWS credentials (they are sent unsigned):

1. ``RegisterClient`` registers DRS Desktop as a public OAuth client (for ``[sso-session]`` profiles with
   the ``sso:account:access`` scope, so botocore can refresh the token later);
2. ``StartDeviceAuthorization`` returns a verification address and a user code for the operator to
   confirm in a browser (the GUI shows them in a dialog);
3. ``CreateToken`` is polled, at the interval the service asks for, until the operator has confirmed
   (``AuthorizationPendingException`` until then, ``SlowDownException`` to poll less often).

The token is then cached exactly where and how botocore's SSO credential and token providers read it:
``~/.aws/sso/cache/<sha1 of the sso-session name, or of the start URL for a legacy profile>.json``, in
botocore's format, written by botocore's own ``JSONFileCache``. From then on every boto3 session of the
profile signs in by itself, in any thread, until the token expires; the AWS CLI shares the same cache.

Tokens, device codes and client secrets are never logged and never in a ``repr``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import JSONFileCache

from drs_desktop.aws.config_files import full_config, profile_values, sso_session_values
from drs_desktop.domain.connection import SsoDeviceAuthorization, SsoLoginResult
from drs_desktop.domain.drs.errors import DrsAuthError

logger = logging.getLogger(__name__)

__all__ = [
    "CLIENT_NAME",
    "DEFAULT_SCOPES",
    "PendingSsoLogin",
    "SsoLoginCancelled",
    "SsoLoginError",
    "SsoSettings",
    "default_cache_dir",
    "oidc_client",
    "sso_settings",
    "sso_token_state",
    "start_sso_login",
    "wait_for_sso_token",
    "write_token_cache",
]

CLIENT_NAME = "drs-desktop"
#: botocore's default registration scope for ``[sso-session]`` profiles (it makes refresh tokens possible).
DEFAULT_SCOPES = ("sso:account:access",)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Seconds added to the polling interval when the service answers SlowDownException (RFC 8628 §3.5).
SLOW_DOWN_STEP = 5
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class SsoLoginError(DrsAuthError):
    """The sign-in failed (denied, expired, misconfigured profile, service unreachable)."""


class SsoLoginCancelled(SsoLoginError):
    """The operator cancelled the sign-in."""


@dataclass(frozen=True)
class SsoSettings:
    """Where a profile signs in: start URL and region, and the ``[sso-session]`` name when it has one."""

    profile: str
    start_url: str
    region: str
    session_name: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def cache_key(self) -> str:
        """botocore's cache key: SHA-1 of the session name, or of the start URL for a legacy profile."""
        source = self.session_name if self.session_name is not None else self.start_url
        return hashlib.sha1(source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PendingSsoLogin:
    """A device authorization in progress: what the operator sees, and what polling needs (hidden)."""

    settings: SsoSettings
    authorization: SsoDeviceAuthorization
    device_code: str = field(repr=False)
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    registration_expires_at: datetime


def default_cache_dir() -> Path:
    """botocore's SSO token cache folder, ``~/.aws/sso/cache``."""
    return Path(os.path.expanduser(os.path.join("~", ".aws", "sso", "cache")))


def sso_settings(profile: str, config: dict[str, Any] | None = None) -> SsoSettings:
    """The sign-in settings of ``profile``; ``SsoLoginError`` for a profile that does not use SSO."""
    config = full_config() if config is None else config
    values = profile_values(profile, config)
    shown = profile or "default"
    if not values:
        raise SsoLoginError(f"The AWS profile {shown!r} does not exist in the AWS config files")
    session_name = values.get("sso_session")
    if session_name:
        session = sso_session_values(str(session_name), config)
        if not session:
            raise SsoLoginError(
                f"Profile {shown!r} names sso_session {session_name!r}, which is not configured"
            )
        start_url, region = session.get("sso_start_url"), session.get("sso_region")
        raw_scopes = str(session.get("sso_registration_scopes") or "")
        scopes = tuple(s.strip() for s in raw_scopes.split(",") if s.strip()) or DEFAULT_SCOPES
        name: str | None = str(session_name)
    else:
        start_url, region = values.get("sso_start_url"), values.get("sso_region")
        scopes, name = (), None
    if not start_url or not region:
        raise SsoLoginError(
            f"Profile {shown!r} is not an IAM Identity Center profile (no start URL and region)"
        )
    return SsoSettings(shown, str(start_url), str(region), name, scopes)


@dataclass(frozen=True)
class SsoTokenState:
    """What the token cache says about a profile's sign-in: when the token expires (None: no token
    cached) and whether botocore can renew it by itself (an ``[sso-session]`` token with a refresh token)."""

    expires_at: datetime | None
    renews_itself: bool


def sso_token_state(profile: str, *, cache_dir: Path | None = None) -> SsoTokenState:
    """The cached token of ``profile`` (no network; an unreadable cache reads as "no token")."""
    try:
        settings = sso_settings(profile)
        token = JSONFileCache(str(cache_dir or default_cache_dir()))[settings.cache_key]
    except (SsoLoginError, KeyError, ValueError, OSError):
        return SsoTokenState(None, False)
    expires = None
    try:
        # Written as ...Z by this module and the AWS CLI, ...UTC by older botocore.
        expires = datetime.fromisoformat(str(token.get("expiresAt")).replace("UTC", "+00:00"))
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    except ValueError:
        logger.warning("The cached IAM Identity Center token of %s has no readable expiry", profile)
    renews = bool(token.get("refreshToken")) and settings.session_name is not None
    return SsoTokenState(expires, renews)


def oidc_client(settings: SsoSettings, *, endpoint_url: str | None = None) -> Any:
    """An unsigned ``sso-oidc`` client for ``settings``' region (AWS_ENDPOINT_URL_SSO_OIDC is honoured)."""
    config = Config(
        signature_version=UNSIGNED,
        connect_timeout=10,
        read_timeout=30,
        retries={"mode": "standard", "total_max_attempts": 3},
        user_agent_extra=CLIENT_NAME,
    )
    return botocore.session.Session().create_client(
        "sso-oidc", region_name=settings.region, endpoint_url=endpoint_url, config=config
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _failure(exc: Exception, what: str) -> SsoLoginError:
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        return SsoLoginError(f"IAM Identity Center refused to {what} ({code or 'error'})", code=code)
    return SsoLoginError(
        f"IAM Identity Center could not be reached to {what}: {exc}", code=type(exc).__name__
    )


def start_sso_login(
    settings: SsoSettings, *, client: Any = None, now: Callable[[], datetime] | None = None
) -> PendingSsoLogin:
    """Register the client and start the device authorization: the operator's code and address."""
    client = client if client is not None else oidc_client(settings)
    clock = now or (lambda: datetime.now(UTC))
    try:
        register_args: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": "public"}
        if settings.scopes:
            register_args["scopes"] = list(settings.scopes)
        registration = client.register_client(**register_args)
        device = client.start_device_authorization(
            clientId=registration["clientId"],
            clientSecret=registration["clientSecret"],
            startUrl=settings.start_url,
        )
    except (ClientError, BotoCoreError) as exc:
        raise _failure(exc, "start the sign-in") from exc
    started = clock()
    uri = str(device["verificationUri"])
    authorization = SsoDeviceAuthorization(
        profile=settings.profile,
        verification_uri=uri,
        verification_uri_complete=str(device.get("verificationUriComplete") or uri),
        user_code=str(device["userCode"]),
        expires_at=started + timedelta(seconds=int(device.get("expiresIn") or 600)),
        interval_seconds=max(1, int(device.get("interval") or 5)),
    )
    secret_expiry = registration.get("clientSecretExpiresAt")
    registered_until = (
        datetime.fromtimestamp(int(secret_expiry), UTC) if secret_expiry else started + timedelta(days=90)
    )
    logger.info("IAM Identity Center sign-in started for profile %s", settings.profile)
    return PendingSsoLogin(
        settings=settings,
        authorization=authorization,
        device_code=str(device["deviceCode"]),
        client_id=str(registration["clientId"]),
        client_secret=str(registration["clientSecret"]),
        registration_expires_at=registered_until,
    )


def wait_for_sso_token(
    pending: PendingSsoLogin,
    *,
    client: Any = None,
    wait: Callable[[float], bool],
    now: Callable[[], datetime] | None = None,
    cache_dir: Path | None = None,
) -> SsoLoginResult:
    """Poll CreateToken until the operator confirms, then cache the token for botocore.

    ``wait(seconds)`` pauses between polls and returns True when the operator cancelled (an
    ``Event.wait``); it is the only way this function waits, so tests pass one that returns at once.
    """
    client = client if client is not None else oidc_client(pending.settings)
    clock = now or (lambda: datetime.now(UTC))
    interval = float(pending.authorization.interval_seconds)
    polls = 0
    while True:
        if clock() >= pending.authorization.expires_at:
            raise SsoLoginError("The sign-in code expired before it was confirmed; start the sign-in again")
        polls += 1
        try:
            token = client.create_token(
                grantType=DEVICE_GRANT,
                deviceCode=pending.device_code,
                clientId=pending.client_id,
                clientSecret=pending.client_secret,
            )
        except ClientError as exc:
            code = _error_code(exc)
            if code == "AuthorizationPendingException":
                pass
            elif code == "SlowDownException":
                interval += SLOW_DOWN_STEP
            elif code == "ExpiredTokenException":
                raise SsoLoginError(
                    "The sign-in code expired before it was confirmed; start the sign-in again", code=code
                ) from exc
            elif code == "AccessDeniedException":
                raise SsoLoginError("The sign-in was denied in the browser", code=code) from exc
            else:
                raise _failure(exc, "issue a token") from exc
        except BotoCoreError as exc:
            raise _failure(exc, "issue a token") from exc
        else:
            logger.info(
                "IAM Identity Center sign-in confirmed for %s after %d poll(s)",
                pending.settings.profile,
                polls,
            )
            expires_at = clock() + timedelta(seconds=int(token.get("expiresIn") or 3600))
            path = write_token_cache(
                pending.settings,
                access_token=str(token["accessToken"]),
                expires_at=expires_at,
                refresh_token=token.get("refreshToken"),
                client_id=pending.client_id,
                client_secret=pending.client_secret,
                registration_expires_at=pending.registration_expires_at,
                cache_dir=cache_dir,
            )
            return SsoLoginResult(pending.settings.profile, expires_at, str(path))
        if wait(interval):
            raise SsoLoginCancelled("The sign-in was cancelled")


def write_token_cache(
    settings: SsoSettings,
    *,
    access_token: str,
    expires_at: datetime,
    refresh_token: str | None,
    client_id: str,
    client_secret: str,
    registration_expires_at: datetime,
    cache_dir: Path | None = None,
) -> Path:
    """Write the token where botocore reads it (its own JSONFileCache: a private temporary file, synced,
    then renamed, mode 0600); return the file's path."""
    folder = cache_dir if cache_dir is not None else default_cache_dir()
    token: dict[str, Any] = {
        "startUrl": settings.start_url,
        "region": settings.region,
        "accessToken": access_token,
        "expiresAt": _utc_text(expires_at),
    }
    if settings.session_name is not None:
        # botocore refreshes [sso-session] tokens with the registration kept beside them.
        token.update(
            clientId=client_id,
            clientSecret=client_secret,
            registrationExpiresAt=_utc_text(registration_expires_at),
        )
        if refresh_token:
            token["refreshToken"] = str(refresh_token)
    JSONFileCache(str(folder))[settings.cache_key] = token
    path = folder / f"{settings.cache_key}.json"
    logger.info("IAM Identity Center token for %s cached (expires %s)", settings.profile, token["expiresAt"])
    return path


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)
