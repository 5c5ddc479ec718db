"""AWS profiles holding the simulator's per-account keys, and the gateway factory that signs with them.

``aws.session.make_session`` gives a loopback endpoint the simulator's dummy keys whatever the profile
(until the sessions change lets a profile's own keys through on loopback), and the simulator decides the
account by the key. ``profile_gateways`` does what that change does: it reads the profile's keys from the
AWS files with botocore and signs with them, so a profile target reaches its own account on the simulator.
Everything else is real: the boto3 client, the HTTP, the simulator, the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ProfileNotFound

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.drs.errors import DrsAuthError


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
    """A DrsGateway factory that signs a loopback target's requests with its profile's own keys."""

    def build(target: AwsTarget) -> DrsGateway:
        if target.profile and target.credentials is None and target.is_local:
            try:
                found = boto3.session.Session(profile_name=target.profile).get_credentials()
            except ProfileNotFound as exc:  # as make_session says it
                raise DrsAuthError(
                    f"The AWS profile {target.profile!r} does not exist in the AWS config files",
                    code="ProfileNotFound",
                ) from exc
            if found is not None:
                frozen = found.get_frozen_credentials()
                keys = AccessKeyPair(frozen.access_key, frozen.secret_key, frozen.token)
                target = replace(target, credentials=keys)
        return DrsGateway(target, **gateway_options)  # type: ignore[arg-type]

    return build
