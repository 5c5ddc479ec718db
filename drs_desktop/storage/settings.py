"""Settings overrides in the database; the registry itself (keys, types, defaults) is in domain.settings.

Only overrides are stored: a setting that was never set, or was reset, follows the default declared in
code, so a release can improve a default for everyone who has not chosen otherwise. Setting a value equal
to the default removes the override for the same reason. Overrides of keys this version does not know
(written by a newer version) are left alone.
"""

from __future__ import annotations

import json
import logging

from drs_desktop.domain.settings import SETTINGS, Setting, SettingError, setting_for
from drs_desktop.storage.db import Database, Readable, to_db_time, utc_now
from drs_desktop.storage.sync_outbox import enqueue_setting

logger = logging.getLogger(__name__)

__all__ = [
    "SETTINGS",
    "Setting",
    "SettingError",
    "get_bool",
    "get_int",
    "get_setting",
    "get_str",
    "overrides",
    "set_setting",
]


def get_setting(db: Readable, key: str) -> object:
    """The effective value of ``key``: its override if a valid one is stored, else its default."""
    setting = setting_for(key)
    with db.reader() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return _effective(setting, None if row is None else str(row[0]))


def get_int(db: Readable, key: str) -> int:
    value = get_setting(db, key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SettingError(f"setting {key} is not a whole number")
    return value


def get_str(db: Readable, key: str) -> str:
    value = get_setting(db, key)
    if not isinstance(value, str):
        raise SettingError(f"setting {key} is not text")
    return value


def get_bool(db: Readable, key: str) -> bool:
    value = get_setting(db, key)
    if not isinstance(value, bool):
        raise SettingError(f"setting {key} is not true or false")
    return value


def set_setting(db: Database, key: str, value: object) -> object:
    """Validate and store ``value`` as the override of ``key``; return the value stored.

    SettingError (one line) for an unknown or secret-looking key or a value that does not fit.
    """
    setting = setting_for(key)
    checked = setting.validate(value)
    with db.transaction() as conn:
        if checked == setting.default and type(checked) is type(setting.default):
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, json.dumps(setting.to_json(checked)), to_db_time(utc_now())),
            )
        enqueue_setting(conn, key)  # only a key the team shares (domain/settings/shared.py)
    logger.info("setting %s changed", key)
    return checked


def overrides(db: Readable) -> dict[str, object]:
    """Only the declared settings that have a valid stored override."""
    stored = _stored(db)
    result: dict[str, object] = {}
    for key, setting in SETTINGS.items():
        if key in stored:
            value = _effective(setting, stored[key])
            if value != setting.default or type(value) is not type(setting.default):
                result[key] = value
    return result


def unreadable(db: Readable, key: str) -> tuple[str, str] | None:
    """(the stored text, why it is not used) when ``key`` has a stored override that does not hold (a
    newer rule, an edit by hand): it reads as the default, and a save would replace it."""
    setting = SETTINGS[key]
    text = _stored(db).get(key)
    if text is None:
        return None
    try:
        setting.validate(json.loads(text))
    except (ValueError, SettingError) as exc:
        return text, str(exc)
    return None


def _stored(db: Readable) -> dict[str, str]:
    with db.reader() as conn:
        return {str(key): str(value) for key, value in conn.execute("SELECT key, value FROM settings")}


def _effective(setting: Setting, text: str | None) -> object:
    if text is None:
        return setting.default
    try:
        return setting.validate(json.loads(text))
    except (ValueError, SettingError) as exc:
        # A default changed its limits, or the row was edited by hand: fall back rather than fail.
        logger.warning("ignoring stored value of setting %s (%s); using the default", setting.key, exc)
        return setting.default
