"""AWS profiles holding the simulator's per-account keys, and a gateway factory for them.

The simulator decides the account by the access key, and ``aws.session.make_session`` signs a loopback
request with the profile's own keys when the profile exists, so a profile target reaches its own account.
Everything is real: the AWS files, the boto3 client, the HTTP, the simulator, the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget


def write_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Mapping[str, str]) -> Path:
    """A credentials file with one profile per ``keys`` entry (profile -> access key ID)."""
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "".join(
            f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = simulator-secret\n\n"
            for profile, key in keys.items()
        ),
        encoding="utf-8",
    )
    config = tmp_path / "aws-config"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return credentials


def profile_gateways(**gateway_options: object) -> Callable[[AwsTarget], DrsGateway]:
    """A DrsGateway factory with these options; a loopback target with a profile signs with the
    profile's own keys (``aws.session.make_session``), so it reaches its own account on the simulator."""

    def build(target: AwsTarget) -> DrsGateway:
        return DrsGateway(target, **gateway_options)  # type: ignore[arg-type]

    return build
