"""The settings registry and its overrides in the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.domain.settings import SETTINGS, Setting, SettingError, looks_like_secret_key, setting_for
from drs_desktop.storage.db import Database
from drs_desktop.storage.settings import (
    get_bool,
    get_int,
    get_setting,
    get_str,
    overrides,
    set_setting,
)

REQUIRED = {
    "aws.profile": (str, ""),
    "aws.region": (str, "us-east-1"),
    "engine.poll_interval_seconds": (int, 15),
    "engine.wave_timeout_minutes": (int, 120),
    "engine.cancel_grace_minutes": (int, 45),
    "ui.demo_mode": (bool, False),
    "inventory.max_age_minutes": (int, 60),
}


def _stored_keys(db: Database) -> list[str]:
    with db.reader() as conn:
        return [row[0] for row in conn.execute("SELECT key FROM settings ORDER BY key")]


def test_registry_declares_the_required_settings() -> None:
    for key, (kind, default) in REQUIRED.items():
        assert (SETTINGS[key].type, SETTINGS[key].default) == (kind, default), key
        assert SETTINGS[key].description
    assert SETTINGS["engine.poll_interval_seconds"].minimum == 1
    assert not any(looks_like_secret_key(key) for key in SETTINGS)


def test_defaults_apply_until_overridden(db: Database) -> None:
    assert {key: get_setting(db, key) for key in SETTINGS} == {k: d for k, (_, d) in REQUIRED.items()} | {
        key: s.default for key, s in SETTINGS.items() if key not in REQUIRED
    }
    assert _stored_keys(db) == []
    assert overrides(db) == {}


def test_set_get_and_persist(db_path: Path) -> None:
    with Database.open(db_path) as db:
        assert set_setting(db, "engine.poll_interval_seconds", 30) == 30
        set_setting(db, "aws.profile", "dr-operator")
        set_setting(db, "ui.demo_mode", True)
    with Database.open(db_path) as db:
        assert get_int(db, "engine.poll_interval_seconds") == 30
        assert get_str(db, "aws.profile") == "dr-operator"
        assert get_bool(db, "ui.demo_mode") is True
        assert get_setting(db, "aws.region") == "us-east-1"
        assert overrides(db) == {
            "aws.profile": "dr-operator",
            "engine.poll_interval_seconds": 30,
            "ui.demo_mode": True,
        }
        assert _stored_keys(db) == ["aws.profile", "engine.poll_interval_seconds", "ui.demo_mode"]


def test_setting_the_default_drops_the_override(db: Database) -> None:
    set_setting(db, "aws.region", "eu-west-1")
    set_setting(db, "engine.wave_timeout_minutes", 90)
    set_setting(db, "aws.region", "us-east-1")
    set_setting(db, "engine.wave_timeout_minutes", 120)
    assert _stored_keys(db) == []
    assert get_setting(db, "aws.region") == "us-east-1"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("engine.poll_interval_seconds", "15", "must be a whole number, got '15'"),
        ("engine.poll_interval_seconds", True, "must be a whole number, got True"),
        ("engine.poll_interval_seconds", 0, "must be at least 1, got 0"),
        ("engine.poll_interval_seconds", 2.5, "must be a whole number"),
        ("ui.demo_mode", 1, "must be true or false, got 1"),
        ("aws.region", None, "must be text, got None"),
        ("aws.profile", "two\nlines", "must be one line"),
        ("aws.profile", "AKIAIOSFODNN7EXAMPLE", "looks like an AWS access key"),
    ],
)
def test_bad_values_are_refused(db: Database, key: str, value: object, message: str) -> None:
    with pytest.raises(SettingError, match=f"^setting {key}: .*{message}"):
        set_setting(db, key, value)
    assert _stored_keys(db) == []


def test_unknown_keys_are_refused_with_a_suggestion(db: Database) -> None:
    with pytest.raises(SettingError, match=r"^unknown setting 'aws.regoin' \(did you mean 'aws.region'\?\)$"):
        set_setting(db, "aws.regoin", "eu-west-1")
    with pytest.raises(SettingError, match="unknown setting"):
        get_setting(db, "nope")


@pytest.mark.parametrize(
    "key", ["aws.secret_access_key", "aws.access_key_id", "sync.api-token", "proxy.password", "aws.Secret"]
)
def test_secret_looking_keys_are_refused(db: Database, key: str) -> None:
    with pytest.raises(SettingError, match="looks like a secret"):
        set_setting(db, key, "x")
    with pytest.raises(ValueError, match="looks like a secret"):
        Setting(key, str, "", "a secret in disguise")
    assert _stored_keys(db) == []


def test_choices_and_minimum_of_a_declared_setting() -> None:
    theme = Setting("ui.theme", str, "system", "Colour scheme", choices=("system", "light", "dark"))
    assert theme.validate("dark") == "dark"
    with pytest.raises(SettingError, match="must be one of 'system', 'light', 'dark', got 'blue'"):
        theme.validate("blue")
    with pytest.raises(SettingError, match="must be one of"):
        Setting("ui.other", str, "purple", "bad default", choices=("system",))
    ratio = Setting("engine.ratio", float, 0.5, "A fraction", minimum=0)
    assert ratio.validate(1) == 1.0 and isinstance(ratio.validate(1), float)
    with pytest.raises(SettingError, match="at least 0"):
        ratio.validate(-0.1)
    with pytest.raises(SettingError, match="must be a number"):
        ratio.validate(float("nan"))


def test_parse_text_from_a_command_line() -> None:
    assert setting_for("ui.demo_mode").parse(" Yes ") is True
    assert setting_for("ui.demo_mode").parse("off") is False
    assert setting_for("engine.poll_interval_seconds").parse("20") == 20
    assert setting_for("aws.profile").parse("prod") == "prod"
    with pytest.raises(SettingError, match="must be true or false, got 'maybe'"):
        setting_for("ui.demo_mode").parse("maybe")
    with pytest.raises(SettingError, match="must be at least 1"):
        setting_for("engine.poll_interval_seconds").parse("0")


def test_invalid_stored_value_falls_back_to_the_default(db: Database) -> None:
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 't')",
            [("engine.poll_interval_seconds", "-3"), ("aws.region", "not json"), ("future.key", "1")],
        )
    assert get_setting(db, "engine.poll_interval_seconds") == 15
    assert get_setting(db, "aws.region") == "us-east-1"
    assert "future.key" not in overrides(db)
    set_setting(db, "aws.profile", "p")
    assert "future.key" in _stored_keys(db)  # a newer version's setting is left alone


def test_typed_getters_check_the_type(db: Database) -> None:
    with pytest.raises(SettingError, match="not a whole number"):
        get_int(db, "aws.region")
    with pytest.raises(SettingError, match="not text"):
        get_str(db, "ui.demo_mode")
    with pytest.raises(SettingError, match="not true or false"):
        get_bool(db, "aws.profile")
