"""Targets, sessions, clients and profiles (no network: building clients sends nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.aws.config_files import profile_infos
from drs_desktop.aws.session import (
    SIMULATOR_KEY,
    AwsTarget,
    drs_client,
    is_loopback_url,
    is_sso_profile,
    make_session,
    shared_data_loader,
    sts_client,
)
from drs_desktop.domain.connection import AccessKeyError, AccessKeyPair
from drs_desktop.domain.drs.errors import DrsAuthError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"

CONFIG = """
[default]
region = eu-west-1

[profile dr-admin]
region = eu-central-1

[profile corp-sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = DrsOperator
region = us-east-1

[profile legacy-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = DrsOperator

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
"""

CREDENTIALS = """
[keys-only]
aws_access_key_id = AKIAEXAMPLE000000001
aws_secret_access_key = secret
"""


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.write_text(CONFIG, encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    return tmp_path


def test_credentials_never_show_their_secrets() -> None:
    creds = AccessKeyPair("AKIAEXAMPLE000001234", SECRET, TOKEN)
    target = AwsTarget(profile=None, region="us-east-1", credentials=creds)
    for text in (repr(creds), str(creds), repr(target), str(target), target.describe()):
        assert SECRET not in text
        assert TOKEN not in text
        assert "AKIAEXAMPLE000001234" not in text
    assert "1234" in repr(creds)


def test_credentials_and_region_are_required() -> None:
    with pytest.raises(AccessKeyError):
        AccessKeyPair("AKIAEXAMPLE000001234", " ")
    with pytest.raises(ValueError):
        AwsTarget(profile=None, region="")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:1", True),
        ("http://[::1]:9000", True),
        ("http://127.5.0.1", True),
        ("https://drs.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:80", False),
        (None, False),
        ("not a url", False),
    ],
)
def test_loopback_detection(url: str | None, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_loopback_endpoint_gets_dummy_credentials_and_sts_on_the_same_port() -> None:
    target = AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:4567")
    session = make_session(target)
    assert session.get_credentials().get_frozen_credentials().access_key == SIMULATOR_KEY
    assert drs_client(session, target, retries=False).meta.endpoint_url == "http://127.0.0.1:4567"
    assert sts_client(session, target).meta.endpoint_url == "http://127.0.0.1:4567"


def test_real_endpoint_keeps_sts_on_aws() -> None:
    creds = AccessKeyPair("AKIAEXAMPLE000001234", SECRET)
    target = AwsTarget(
        None, "eu-west-1", endpoint_url="https://vpce-1.drs.eu-west-1.vpce.amazonaws.com", credentials=creds
    )
    session = make_session(target)
    assert session.get_credentials().get_frozen_credentials().secret_key == SECRET
    assert "amazonaws.com" in sts_client(session, target).meta.endpoint_url
    assert "vpce" not in sts_client(session, target).meta.endpoint_url


def test_mutating_clients_make_exactly_one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")  # the environment must not turn retries back on
    target = AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:4567")
    session = make_session(target)
    write = drs_client(session, target, retries=False)
    read = drs_client(session, target, retries=True)
    assert write.meta.config.retries["total_max_attempts"] == 1
    assert read.meta.config.retries["total_max_attempts"] == 3
    assert write.meta.config.read_timeout > 0 and write.meta.config.connect_timeout > 0


def test_sso_profiles_are_told_apart(aws_files: Path) -> None:
    assert is_sso_profile("corp-sso")
    assert is_sso_profile("legacy-sso")
    assert not is_sso_profile("dr-admin")
    assert not is_sso_profile("keys-only")
    assert not is_sso_profile("no-such-profile")


def test_no_config_files_means_no_profiles() -> None:
    assert profile_infos() == []  # the suite points AWS_CONFIG_FILE at the null device


def test_a_profile_that_does_not_exist_is_an_auth_error(aws_files: Path) -> None:
    with pytest.raises(DrsAuthError, match="nope"):
        make_session(AwsTarget(profile="nope", region="us-east-1"))
    session = make_session(AwsTarget(profile="keys-only", region="us-east-1"))
    assert session.get_credentials().get_frozen_credentials().access_key == "AKIAEXAMPLE000000001"


def test_expired_sso_session_is_an_auth_error_with_a_login_hint(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drs_desktop.aws.drs import DrsGateway

    monkeypatch.setenv("HOME", str(aws_files))  # no SSO token cache: the session has "expired"
    # A non-routable endpoint as a safety net: credential resolution fails before any connection.
    target = AwsTarget(profile="corp-sso", region="us-east-1", endpoint_url="http://192.0.2.1:9")
    gateway = DrsGateway(target, connect_timeout=0.2, read_max_attempts=1)
    with pytest.raises(DrsAuthError) as caught:
        gateway.describe_source_servers()
    assert caught.value.definite
    assert "aws sso login --profile corp-sso" in str(caught.value)


def test_sessions_share_one_data_loader_and_it_keeps_each_search_path_once() -> None:
    """Every session parses botocore's JSON once per process (a new loader per session parsed 1.2 MB of
    endpoints and the DRS model again, holding the GIL: the GUI stalled), and the shared loader does not
    grow a search path per boto3 session."""
    target = AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:9")
    sessions = [make_session(target) for _ in range(20)]
    loaders = {id(session._session.get_component("data_loader")) for session in sessions}
    assert loaders == {id(shared_data_loader())}
    paths = shared_data_loader().search_paths
    assert len(paths) == len(set(paths)), paths
    first = drs_client(sessions[0], target, retries=False).meta.service_model
    second = drs_client(sessions[1], target, retries=False).meta.service_model
    assert first._service_description is second._service_description, "the model was parsed once"


def test_an_aws_profile_variable_naming_no_profile_is_an_auth_error_not_a_crash(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_PROFILE naming a profile that does not exist: a session for the profile a target names still
    works, and one without a profile is the app's clear error (the shared loader reads no profile)."""
    monkeypatch.setenv("AWS_PROFILE", "missing")
    import drs_desktop.aws.session as session_module

    monkeypatch.setattr(session_module, "_loader", None)  # made afresh under this environment
    named = make_session(AwsTarget(profile="dr-admin", region="us-east-1"))
    assert named.profile_name == "dr-admin"
    with pytest.raises(DrsAuthError, match="missing"):
        make_session(AwsTarget(profile=None, region="us-east-1"))
