"""The settings page's use cases in one object, so the settings pane's task holds no storage or keyring.

``SettingsService`` wraps ``services.connection`` for one database and one secret store: snapshot,
save, typed keys, profiles, the first-run decision, the IAM Identity Center sign-in and the Team sync
section's table (``services.team_sync``). Every method
may touch disk, the keyring or the network: call them on a task thread. It holds no connection of its
own (the few settings rows are read through the database's shared connection), so nothing to close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from drs_desktop.aws.sso import SsoLoginCancelled
from drs_desktop.domain.connection import (
    AwsProfileInfo,
    ConnectionSettings,
    SettingsSnapshot,
    SsoDeviceAuthorization,
    SsoLoginResult,
    key_label,
)
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.views.sync_status import SyncSettings, SyncSetup
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection, inventory_targets, team_sync
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["SettingsService"]


class SettingsService:
    """Settings, keys, profiles, first run and SSO sign-in of one database and secret store."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        *,
        sso_endpoint_url: str | None = None,
        sso_cache_dir: Path | None = None,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._sso_endpoint_url = sso_endpoint_url
        self._sso_cache_dir = sso_cache_dir

    def snapshot(self) -> SettingsSnapshot:
        return connection.settings_snapshot(self._db, self._secrets)

    def save(self, settings: ConnectionSettings, poll_interval_seconds: int) -> SettingsSnapshot:
        connection.save_settings(self._db, settings, poll_interval_seconds)
        logger.info(
            "settings saved (profile %s, region %s, demo %s)",
            settings.profile or "(default)",
            settings.region,
            settings.demo,
        )
        return self.snapshot()

    def save_targets(self, targets: tuple[PlanTarget, ...]) -> SettingsSnapshot:
        """Store the target list (SettingError naming the target and field, and nothing stored, when
        one does not hold)."""
        inventory_targets.save_listed_targets(self._db, targets)
        return self.snapshot()

    def store_keys(
        self, label: str, access_key_id: str, secret_access_key: str, session_token: str = ""
    ) -> SettingsSnapshot:
        connection.store_keys(self._secrets, label, access_key_id, secret_access_key, session_token)
        return self.snapshot()

    def clear_keys(self, label: str) -> SettingsSnapshot:
        connection.clear_keys(self._secrets, label)
        return self.snapshot()

    def sync_settings(self) -> SyncSettings:
        """The Team sync section's settings (services.team_sync)."""
        return team_sync.load_sync_settings(self._db)

    def save_sync(self, wanted: SyncSettings) -> SyncSetup:
        """Store the Team sync settings and check the table (network: DescribeTable, the header)."""
        return team_sync.save_sync_settings(self._db, wanted)

    def profiles(self) -> tuple[AwsProfileInfo, ...]:
        return connection.list_profiles()

    def first_run_needed(self) -> bool:
        """True when the demo should be offered: no demo mode chosen and no way to reach AWS yet."""
        settings = connection.load_connection_settings(self._db)
        if settings.demo:
            return False
        labels = {key_label(""), settings.key_label}
        return not connection.has_aws_configuration(self._secrets, labels=labels)

    def sso_login(
        self,
        profile: str,
        *,
        on_code: Callable[[SsoDeviceAuthorization], None],
        wait: Callable[[float], bool],
        now: Callable[[], datetime] | None = None,
    ) -> SsoLoginResult:
        """Sign in with IAM Identity Center; ``wait(seconds)`` returns True to cancel. A sign-in cancelled
        before it started contacts nobody."""
        if wait(0):
            raise SsoLoginCancelled("The sign-in was cancelled")
        return connection.sso_login(
            profile,
            on_code=on_code,
            wait=wait,
            endpoint_url=self._sso_endpoint_url,
            cache_dir=self._sso_cache_dir,
            now=now,
        )
