"""IAM Identity Center sign-in without a terminal: the device flow against a loopback sso-oidc stub,
and the token cache in the format botocore's own SSO providers read."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest
from botocore.tokens import SSOTokenProvider
from botocore.utils import JSONFileCache, SSOTokenLoader

from drs_desktop.aws import sso
from drs_desktop.domain.connection import SsoDeviceAuthorization
from drs_desktop.services import connection
from tests.services import aws_stubs
from tests.services.settings_fixtures import aws_files_fixture  # noqa: F401


def login(
    profile: str, url: str, cache: Path, *, cancel_after: int | None = None, now: object = None
) -> tuple[object, list[SsoDeviceAuthorization], list[float]]:
    codes: list[SsoDeviceAuthorization] = []
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return cancel_after is not None and len(waits) >= cancel_after

    result = connection.sso_login(
        profile,
        on_code=codes.append,
        wait=wait,
        endpoint_url=url,
        cache_dir=cache,
        now=now,  # type: ignore[arg-type]
    )
    return result, codes, waits


def test_settings_of_session_and_legacy_profiles(aws_files: Path) -> None:
    corp = sso.sso_settings("corp-sso")
    assert (corp.start_url, corp.region, corp.session_name, corp.scopes) == (
        "https://corp.awsapps.com/start",
        "us-east-1",
        "corp",
        ("sso:account:access",),
    )
    assert corp.cache_key == hashlib.sha1(b"corp").hexdigest()
    legacy = sso.sso_settings("legacy-sso")
    assert legacy.session_name is None and legacy.scopes == ()
    assert legacy.cache_key == hashlib.sha1(b"https://legacy.awsapps.com/start").hexdigest()
    with pytest.raises(sso.SsoLoginError, match="not an IAM Identity Center profile"):
        sso.sso_settings("dr-admin")
    with pytest.raises(sso.SsoLoginError, match="does not exist"):
        sso.sso_settings("nope")


def test_device_flow_caches_a_token_botocore_reads(
    aws_files: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "sso-cache"
    behaviour = aws_stubs.OidcBehaviour(pending=3, slow_down_at=(2,), interval=1)
    with aws_stubs.serve(oidc=behaviour) as url:
        result, codes, waits = login("corp-sso", url, cache)
    # The operator was shown the address and code, and the polling honoured interval and slow-down.
    [code] = codes
    assert (code.user_code, code.verification_uri) == (aws_stubs.USER_CODE, aws_stubs.VERIFICATION_URI)
    assert code.verification_uri_complete.endswith(f"user_code={aws_stubs.USER_CODE}")
    assert code.profile == "corp-sso" and code.interval_seconds == 1
    assert waits == [1.0, 6.0, 6.0]  # pending, slow down (+5), pending, then the token
    paths = [path for path, _ in behaviour.requests]
    assert paths == ["/client/register", "/device_authorization", "/token", "/token", "/token", "/token"]
    assert behaviour.requests[0][1]["scopes"] == ["sso:account:access"]
    assert behaviour.requests[1][1]["startUrl"] == "https://corp.awsapps.com/start"
    assert behaviour.requests[2][1]["grantType"] == "urn:ietf:params:oauth:grant-type:device_code"

    path = cache / f"{hashlib.sha1(b'corp').hexdigest()}.json"
    assert result.cache_file == str(path)  # type: ignore[attr-defined]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())
    assert set(token) == {
        "startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
        "registrationExpiresAt", "refreshToken",
    }  # fmt: skip
    assert token["accessToken"] == aws_stubs.ACCESS_TOKEN and token["refreshToken"] == aws_stubs.REFRESH_TOKEN
    assert token["registrationExpiresAt"] == "2026-04-05T08:00:00Z"
    expires = datetime.strptime(token["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(hours=7, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=8)

    # botocore's own SSO token provider (used by every session of the profile) reads it as is.
    session = botocore.session.Session(profile="corp-sso")
    provider = SSOTokenProvider(session, cache=JSONFileCache(str(cache)), profile_name="corp-sso")
    assert provider.load_token().get_frozen_token().token == aws_stubs.ACCESS_TOKEN

    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("drs_desktop"))
    assert "corp-sso" in ours
    for secret in (
        aws_stubs.ACCESS_TOKEN,
        aws_stubs.REFRESH_TOKEN,
        aws_stubs.CLIENT_SECRET,
        "stub-device-code",
    ):
        assert secret not in ours


def test_legacy_profile_token_has_the_legacy_shape(aws_files: Path, tmp_path: Path) -> None:
    with aws_stubs.serve(oidc=aws_stubs.OidcBehaviour(pending=0)) as url:
        login("legacy-sso", url, tmp_path)
    start_url = "https://legacy.awsapps.com/start"
    token = SSOTokenLoader(cache=JSONFileCache(str(tmp_path)))(start_url)  # botocore's legacy loader
    assert set(token) == {"startUrl", "region", "accessToken", "expiresAt"}
    assert token["accessToken"] == aws_stubs.ACCESS_TOKEN and token["startUrl"] == start_url


@pytest.mark.parametrize(("outcome", "message"), [("denied", "denied"), ("expired", "expired")])
def test_denied_or_expired_sign_in_fails_and_caches_nothing(
    aws_files: Path, tmp_path: Path, outcome: str, message: str
) -> None:
    with aws_stubs.serve(oidc=aws_stubs.OidcBehaviour(pending=1, outcome=outcome)) as url:
        with pytest.raises(sso.SsoLoginError, match=message):
            login("corp-sso", url, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_cancel_stops_polling(aws_files: Path, tmp_path: Path) -> None:
    behaviour = aws_stubs.OidcBehaviour(pending=100)
    with aws_stubs.serve(oidc=behaviour) as url:
        with pytest.raises(sso.SsoLoginCancelled):
            login("corp-sso", url, tmp_path / "cache", cancel_after=3)
    assert behaviour.token_polls == 3
    assert not (tmp_path / "cache").exists()


def test_code_expiry_ends_the_wait(aws_files: Path, tmp_path: Path) -> None:
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    clock = [start]

    def now() -> datetime:
        clock[0] += timedelta(minutes=4)  # each look at the clock is a poll later
        return clock[0]

    behaviour = aws_stubs.OidcBehaviour(pending=100, expires_in=600)
    with aws_stubs.serve(oidc=behaviour) as url:
        with pytest.raises(sso.SsoLoginError, match="expired"):
            login("corp-sso", url, tmp_path, now=now)
    assert behaviour.token_polls == 2  # 4 and 8 minutes in; at 12 the 10-minute code has expired


def test_a_sign_in_cancelled_before_it_starts_contacts_nobody(aws_files: Path, tmp_path: Path) -> None:
    """The settings pane's cancel may overtake its queued sign-in: SettingsService refuses at once."""
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services.settings_page import SettingsService
    from drs_desktop.storage.db import Database

    behaviour = aws_stubs.OidcBehaviour(pending=0)
    with aws_stubs.serve(oidc=behaviour) as url, Database.open(tmp_path / "drs.sqlite3") as db:
        service = SettingsService(db, SecretStore(), sso_endpoint_url=url, sso_cache_dir=tmp_path / "sso")
        codes: list[SsoDeviceAuthorization] = []
        with pytest.raises(sso.SsoLoginCancelled, match="The sign-in was cancelled"):
            service.sso_login("corp-sso", on_code=codes.append, wait=lambda _seconds: True)
    assert behaviour.requests == [] and codes == []
    assert not (tmp_path / "sso").exists()
