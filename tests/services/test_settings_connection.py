"""services.connection: settings, targets, typed keys, the first-run decision and MFA profiles."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.mfa import MfaCancelled
from drs_desktop.domain.connection import AccessKeyPair, ConnectionSettings, MfaChallenge
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsAuthError
from drs_desktop.domain.settings import SettingError
from drs_desktop.secrets import SecretStore
from drs_desktop.services import connection
from drs_desktop.services.connection import ConnectionResolver, has_aws_configuration
from drs_desktop.storage.db import Database
from tests.secrets.memory_keyring import MemoryKeyring, install_fail
from tests.services import aws_stubs
from tests.services.settings_fixtures import aws_files_fixture, db_fixture, memory_keyring_fixture  # noqa: F401

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_settings_default_then_round_trip(db: Database) -> None:
    assert connection.load_connection_settings(db) == ConnectionSettings("", "us-east-1", False, False)
    chosen = ConnectionSettings(profile="dr-admin", region=" eu-central-1 ", demo=True, use_typed_keys=True)
    saved = connection.save_connection_settings(db, chosen)
    assert saved == ConnectionSettings("dr-admin", "eu-central-1", True, True)
    assert connection.load_connection_settings(db) == saved


def test_save_settings_is_all_or_nothing(db: Database) -> None:
    with pytest.raises(SettingError):
        connection.save_settings(db, ConnectionSettings(profile="dr-admin", region="eu-central-1"), 0)
    assert connection.load_connection_settings(db).profile == ""  # the poll interval failed: nothing saved
    with pytest.raises(SettingError, match="not an AWS Region"):
        connection.save_connection_settings(db, ConnectionSettings(region="Frankfurt"))


def test_target_from_a_profile(db: Database, memory_keyring: MemoryKeyring) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="dr-admin", region="eu-central-1"))
    target = ConnectionResolver(db, SecretStore()).target()
    assert (target.profile, target.region, target.endpoint_url, target.credentials) == (
        "dr-admin",
        "eu-central-1",
        None,
        None,
    )


def test_target_with_typed_keys_from_the_keyring(db: Database, memory_keyring: MemoryKeyring) -> None:
    secrets = SecretStore()
    connection.save_connection_settings(db, ConnectionSettings(region="eu-west-2", use_typed_keys=True))
    with pytest.raises(DrsAuthError, match="No access keys are saved for 'default'"):
        ConnectionResolver(db, secrets).target()
    connection.store_keys(secrets, "", KEY_ID, SECRET)
    target = ConnectionResolver(db, secrets).target()
    assert target.credentials == AccessKeyPair(KEY_ID, SECRET, None)
    assert target.profile is None and target.region == "eu-west-2"
    assert SECRET not in target.describe() and SECRET not in repr(target)


def test_demo_target_points_at_the_simulator(db: Database, memory_keyring: MemoryKeyring) -> None:
    connection.save_connection_settings(
        db, ConnectionSettings(profile="dr-admin", region="eu-west-1", demo=True)
    )
    with pytest.raises(DrsAuthError, match="simulator is not running"):
        ConnectionResolver(db, SecretStore()).target()
    target = ConnectionResolver(
        db, SecretStore(), demo_endpoint="http://127.0.0.1:9999", demo_region="us-east-1"
    ).target()
    assert target.is_local and target.region == "us-east-1" and target.profile is None
    resolver = ConnectionResolver(db, SecretStore())
    resolver.set_demo("http://127.0.0.1:9999", "us-east-1")
    assert resolver.target().endpoint_url == "http://127.0.0.1:9999"
    assert resolver.expected_region() == "us-east-1"


def test_profiles_from_the_config_files(aws_files: Path) -> None:
    profiles = {p.name: p for p in connection.list_profiles()}
    assert sorted(profiles) == ["base", "corp-sso", "default", "dr-admin", "legacy-sso", "mfa-role"]
    assert profiles["corp-sso"].sso and profiles["legacy-sso"].sso and not profiles["dr-admin"].sso
    assert profiles["dr-admin"].region == "eu-central-1"
    assert profiles["mfa-role"].needs_mfa and not profiles["dr-admin"].needs_mfa


def test_first_run_decision(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, aws_files: Path
) -> None:
    assert has_aws_configuration(environ={})  # the config files have profiles
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    secrets = SecretStore()
    assert not has_aws_configuration(secrets, environ={})
    assert has_aws_configuration(
        secrets, environ={"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    )
    assert not has_aws_configuration(secrets, environ={"AWS_ACCESS_KEY_ID": KEY_ID})  # half a pair
    assert has_aws_configuration(secrets, environ={"AWS_PROFILE": "ci"})
    secrets.save_keys("default", AccessKeyPair(KEY_ID, SECRET))
    assert has_aws_configuration(secrets, environ={})
    assert not has_aws_configuration(secrets, labels=("other",), environ={})


def test_first_run_decision_without_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fail(monkeypatch)
    assert not has_aws_configuration(SecretStore(), environ={})


def test_mfa_profile_asks_once_and_reuses_the_credentials(
    db: Database, memory_keyring: MemoryKeyring, aws_files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    asked: list[MfaChallenge] = []

    def prompter(challenge: MfaChallenge) -> str:
        asked.append(challenge)
        return "123456"

    sts = aws_stubs.StsBehaviour()
    with aws_stubs.serve(sts=sts) as url:
        resolver = ConnectionResolver(db, SecretStore(), sts_endpoint_url=url)
        target = resolver.target(prompter)
        again = resolver.target(prompter)
    assert asked == [
        MfaChallenge(
            "mfa-role", "arn:aws:iam::123456789012:mfa/operator", "arn:aws:iam::123456789012:role/DrsOperator"
        )
    ]
    assert target == again and target.profile == "mfa-role"
    assert target.credentials == AccessKeyPair(
        aws_stubs.ASSUMED_KEY_ID, aws_stubs.ASSUMED_SECRET, aws_stubs.ASSUMED_TOKEN
    )
    [call] = sts.calls
    assert call["Action"] == "AssumeRole" and call["TokenCode"] == "123456"
    assert call["SerialNumber"] == "arn:aws:iam::123456789012:mfa/operator"
    assert (
        call["RoleArn"] == "arn:aws:iam::123456789012:role/DrsOperator" and call["DurationSeconds"] == "3600"
    )
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("drs_desktop"))
    assert "mfa-role" in ours  # our log lines are there, and name the profile only
    assert (
        aws_stubs.ASSUMED_SECRET not in ours and aws_stubs.ASSUMED_TOKEN not in ours and "123456" not in ours
    )


def test_mfa_credentials_are_renewed_before_they_expire(
    db: Database, memory_keyring: MemoryKeyring, aws_files: Path
) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    now = [datetime(2099, 1, 1, tzinfo=UTC) - timedelta(hours=1)]
    sts = aws_stubs.StsBehaviour()
    with aws_stubs.serve(sts=sts) as url:
        resolver = ConnectionResolver(db, SecretStore(), sts_endpoint_url=url, clock=lambda: now[0])
        resolver.target(lambda _c: "111111")
        now[0] += timedelta(minutes=56)  # inside the renewal margin of the 2099-01-01 expiry
        resolver.target(lambda _c: "222222")
    assert [call["TokenCode"] for call in sts.calls] == ["111111", "222222"]


def test_mfa_cancel_and_refusal(db: Database, memory_keyring: MemoryKeyring, aws_files: Path) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    sts = aws_stubs.StsBehaviour(refuse=True)
    with aws_stubs.serve(sts=sts) as url:
        resolver = ConnectionResolver(db, SecretStore(), sts_endpoint_url=url)
        with pytest.raises(MfaCancelled):
            resolver.target(lambda _c: "")
        with pytest.raises(DrsAuthError, match="six digits"):
            resolver.target(lambda _c: "12ab")
        assert sts.calls == []  # nothing was sent for a cancel or a malformed code
        with pytest.raises(DrsAccessDenied):
            resolver.target(lambda _c: "654321")
    assert len(sts.calls) == 1


def test_without_a_prompter_an_mfa_profile_is_left_to_botocore(
    db: Database, memory_keyring: MemoryKeyring, aws_files: Path
) -> None:
    connection.save_connection_settings(db, ConnectionSettings(profile="mfa-role", region="us-east-1"))
    target = ConnectionResolver(db, SecretStore()).target()  # the CLI: botocore prompts on its terminal
    assert target.profile == "mfa-role" and target.credentials is None
