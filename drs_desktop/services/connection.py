"""Which AWS account and region to talk to, with which credentials, and how the operator signs in.

The settings (profile, region, demo mode, "use typed keys") live in SQLite; typed keys live only in the
OS keyring (``secrets.SecretStore``); IAM Identity Center tokens live in botocore's SSO cache; MFA
credentials live in memory for their lifetime. This module puts them together into an ``AwsTarget``
(``ConnectionResolver``) and runs the sign-ins, Qt-free, so the CLI and the GUI share them. Nothing
here prompts on a terminal: the MFA code and the SSO user code travel through callbacks that the GUI
fills with dialogs.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drs_desktop.aws import config_files, mfa, sso
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import (
    DEFAULT_PROFILE_LABEL,
    AccessKeyPair,
    AwsProfileInfo,
    ConnectionSettings,
    MfaChallenge,
    SettingsSnapshot,
    SsoDeviceAuthorization,
    SsoLoginResult,
    StoredKeyInfo,
    key_label,
)
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.settings import SettingError
from drs_desktop.secrets import SecretStore
from drs_desktop.services.inventory_targets import listed_targets
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database, Readable

logger = logging.getLogger(__name__)

__all__ = [
    "ConnectionResolver",
    "MfaPrompter",
    "clear_keys",
    "has_aws_configuration",
    "list_profiles",
    "load_connection_settings",
    "save_connection_settings",
    "save_settings",
    "settings_snapshot",
    "sso_login",
    "store_keys",
]

PROFILE_KEY = "aws.profile"
REGION_KEY = "aws.region"
DEMO_KEY = "ui.demo_mode"
TYPED_KEYS_KEY = "aws.use_typed_keys"
POLL_KEY = "engine.poll_interval_seconds"

#: Asked for a one-time MFA code; returns it, or "" when the operator cancelled.
MfaPrompter = Callable[[MfaChallenge], str]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
#: Environment variables that give botocore credentials without any config file.
_ENV_CREDENTIALS: tuple[tuple[str, ...], ...] = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
)
#: MFA credentials are asked for again this long before they expire.
MFA_RENEW_MARGIN = timedelta(minutes=5)


# -- settings --------------------------------------------------------------------------------------


def load_connection_settings(db: Readable) -> ConnectionSettings:
    """The connection settings in force (defaults for what was never set)."""
    return ConnectionSettings(
        profile=settings_store.get_str(db, PROFILE_KEY),
        region=settings_store.get_str(db, REGION_KEY),
        demo=settings_store.get_bool(db, DEMO_KEY),
        use_typed_keys=settings_store.get_bool(db, TYPED_KEYS_KEY),
    )


def check_region(region: str) -> str:
    """``region`` trimmed, if it looks like an AWS Region code (us-east-1); SettingError if not."""
    cleaned = region.strip()
    if not _REGION.match(cleaned):
        raise SettingError(f"setting {REGION_KEY}: {region!r} is not an AWS Region code such as us-east-1")
    return cleaned


def save_connection_settings(db: Database, settings: ConnectionSettings) -> ConnectionSettings:
    """Validate and store ``settings`` in one transaction; return what is now in force."""
    region = check_region(settings.region)
    with db.transaction():
        settings_store.set_setting(db, PROFILE_KEY, settings.profile.strip())
        settings_store.set_setting(db, REGION_KEY, region)
        settings_store.set_setting(db, DEMO_KEY, settings.demo)
        settings_store.set_setting(db, TYPED_KEYS_KEY, settings.use_typed_keys)
    return load_connection_settings(db)


def save_settings(db: Database, connection: ConnectionSettings, poll_interval_seconds: int) -> None:
    """What the settings page's Apply saves: the connection and the poll interval, all or nothing."""
    with db.transaction():
        save_connection_settings(db, connection)
        settings_store.set_setting(db, POLL_KEY, poll_interval_seconds)


def list_profiles() -> tuple[AwsProfileInfo, ...]:
    """Profiles of the AWS config files, by name (the "(default)" choice is the empty profile)."""
    return tuple(config_files.profile_infos())


def settings_snapshot(db: Readable, secrets: SecretStore) -> SettingsSnapshot:
    """Everything the settings page shows. Reads the keyring: call it off the GUI thread."""
    connection = load_connection_settings(db)
    return SettingsSnapshot(
        connection=connection,
        poll_interval_seconds=settings_store.get_int(db, POLL_KEY),
        profiles=list_profiles(),
        keyring=secrets.status(),
        stored_keys=secrets.describe(connection.key_label),
        targets=listed_targets(db),
    )


# -- typed keys ------------------------------------------------------------------------------------


def store_keys(
    secrets: SecretStore, label: str, access_key_id: str, secret_access_key: str, session_token: str = ""
) -> StoredKeyInfo:
    """Keep typed keys under ``label`` (the OS keyring, or memory for this session); what to show."""
    keys = AccessKeyPair(access_key_id.strip(), secret_access_key.strip(), session_token.strip() or None)
    secrets.save_keys(key_label(label), keys)
    info = secrets.describe(key_label(label))
    assert info is not None  # just saved, in the keyring or in memory
    return info


def clear_keys(secrets: SecretStore, label: str) -> None:
    secrets.delete_keys(key_label(label))


# -- first run -------------------------------------------------------------------------------------


def has_aws_configuration(
    secrets: SecretStore | None = None,
    *,
    labels: Iterable[str] = (DEFAULT_PROFILE_LABEL,),
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Whether the operator has any way to reach AWS already: a profile in the AWS config files,
    credentials in the environment, or typed keys stored under one of ``labels``.

    The files and the environment are looked at first; the keyring (which may block on an unlock
    prompt) only when they have nothing.
    """
    env = os.environ if environ is None else environ
    if any(all(env.get(name) for name in group) for group in _ENV_CREDENTIALS):
        return True
    if config_files.profile_infos():
        return True
    if secrets is not None:
        return any(secrets.has_keys(key_label(label)) for label in labels)
    return False


# -- targets ---------------------------------------------------------------------------------------


class ConnectionResolver:
    """Builds the ``AwsTarget`` the settings ask for, for any worker thread, at any time.

    Shared by the workers of the GUI (thread-safe): each asks for ``target()`` before it talks to AWS,
    so a change on the settings page applies on the next refresh or poll. MFA credentials are kept in
    memory until shortly before they expire, so two workers do not ask for two codes. ``set_demo``
    switches to the embedded simulator (the first-run "Try the demo").
    """

    def __init__(
        self,
        db: Readable,
        secrets: SecretStore,
        *,
        demo_endpoint: str | None = None,
        demo_region: str | None = None,
        sts_endpoint_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._lock = threading.RLock()
        self._demo_endpoint = demo_endpoint
        self._demo_region = demo_region
        self._sts_endpoint_url = sts_endpoint_url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._mfa: dict[tuple[str, str], mfa.AssumedRole] = {}

    def set_demo(self, endpoint_url: str | None, region: str | None = None) -> None:
        """Talk to the simulator at ``endpoint_url`` from now on (None: back to the settings)."""
        with self._lock:
            self._demo_endpoint = endpoint_url
            self._demo_region = region

    @property
    def demo_endpoint(self) -> str | None:
        with self._lock:
            return self._demo_endpoint

    def settings(self) -> ConnectionSettings:
        return load_connection_settings(self._db)

    def expected_region(self) -> str:
        """The region a target would have now (no keyring, no network): for picking a cached inventory."""
        with self._lock:
            if self._demo_endpoint is not None and self._demo_region:
                return self._demo_region
        return self.settings().region

    def forget_mfa(self) -> None:
        """Drop MFA credentials (after a sign-out, or when AWS refused them)."""
        with self._lock:
            self._mfa.clear()

    def target(self, mfa_prompter: MfaPrompter | None = None) -> AwsTarget:
        """The target the settings describe now.

        Demo (a running simulator): its loopback endpoint. Typed keys: the keys stored under the
        profile's label (``DrsAuthError`` when there are none). A profile that assumes a role with MFA:
        temporary credentials, asking ``mfa_prompter`` for a code when there are none still valid
        (without a prompter the profile is left to botocore, which prompts on a terminal: the CLI).
        Anything else: the profile, read by botocore in each worker's own session.
        """
        with self._lock:
            demo_endpoint, demo_region = self._demo_endpoint, self._demo_region
        settings = self.settings()
        if demo_endpoint is not None:
            return AwsTarget(profile=None, region=demo_region or settings.region, endpoint_url=demo_endpoint)
        if settings.demo:
            raise DrsAuthError(
                "Demo mode is on but the built-in simulator is not running; restart DRS Desktop or turn "
                "demo mode off in Settings",
                code="DemoNotRunning",
            )
        profile = settings.profile or None
        if settings.use_typed_keys:
            keys = self._secrets.load_keys(settings.key_label)
            if keys is None:
                raise DrsAuthError(
                    f"No access keys are saved for {settings.key_label!r}; type them in Settings, or turn "
                    "off 'use access keys'",
                    code="NoStoredKeys",
                )
            return AwsTarget(profile=profile, region=settings.region, credentials=keys)
        target = AwsTarget(profile=profile, region=settings.region)
        if mfa_prompter is not None and mfa.mfa_challenge(settings.profile) is not None:
            return replace(target, credentials=self._mfa_credentials(settings, mfa_prompter))
        return target

    def _mfa_credentials(self, settings: ConnectionSettings, prompter: MfaPrompter) -> AccessKeyPair:
        key = (settings.profile, settings.region)
        with self._lock:
            # Held while the dialog is open: a second worker waits for the first one's code.
            assumed = self._mfa.get(key)
            if assumed is None or assumed.expires_at - MFA_RENEW_MARGIN <= self._clock():
                assumed = mfa.assume_role_with_mfa(
                    settings.profile, settings.region, prompter, endpoint_url=self._sts_endpoint_url
                )
                self._mfa[key] = assumed
            return assumed.credentials


# -- IAM Identity Center ---------------------------------------------------------------------------


def sso_login(
    profile: str,
    *,
    on_code: Callable[[SsoDeviceAuthorization], None],
    wait: Callable[[float], bool],
    endpoint_url: str | None = None,
    cache_dir: Path | None = None,
    now: Callable[[], datetime] | None = None,
) -> SsoLoginResult:
    """Sign ``profile`` in through IAM Identity Center's device flow, without a terminal.

    ``on_code`` receives the verification address and user code to show the operator; ``wait(seconds)``
    pauses between polls and returns True to cancel (``SsoLoginCancelled``). The token ends up in
    botocore's SSO cache, so every session of the profile works afterwards.
    """
    settings = sso.sso_settings(profile)
    client = sso.oidc_client(settings, endpoint_url=endpoint_url)
    try:
        pending = sso.start_sso_login(settings, client=client, now=now)
        on_code(pending.authorization)
        return sso.wait_for_sso_token(pending, client=client, wait=wait, now=now, cache_dir=cache_dir)
    finally:
        client.close()
