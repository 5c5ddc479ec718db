"""Refusals ``sync init`` must explain in one line: an IAM action missing (moto's server enforcing IAM),
a profile without credentials, a profile that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.aws.sync_schema import INIT_ACTIONS, RUNTIME_ACTIONS
from drs_desktop.aws.sync_table import SyncTableTarget, create_table
from drs_desktop.domain.sync_errors import SyncAccessDenied, SyncAuthError
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.iam_emulator import iam_dynamodb, user_allowed

__all__ = ["iam_dynamodb"]  # the fixture, used by name

TABLE = "team-sync"


def test_access_denied_names_the_missing_action_and_the_table(iam_dynamodb: DynamoDbEmulator) -> None:
    """An operator with the everyday statement only (no CreateTable) runs init on a new table."""
    keys = user_allowed(iam_dynamodb, "operator", RUNTIME_ACTIONS)
    target = SyncTableTarget(
        table=TABLE, region=REGION, endpoint_url=iam_dynamodb.endpoint_url, credentials=keys
    )

    with pytest.raises(SyncAccessDenied) as caught:
        create_table(target)

    message = str(caught.value)
    assert f"dynamodb:CreateTable on the sync table {TABLE}" in message
    assert "<" not in message and "\n" not in message  # moto's XML body is not quoted
    assert caught.value.operation == "CreateTable"


def test_both_statements_are_enough_for_init(iam_dynamodb: DynamoDbEmulator) -> None:
    keys = user_allowed(iam_dynamodb, "admin", RUNTIME_ACTIONS + INIT_ACTIONS)
    target = SyncTableTarget(
        table=TABLE, region=REGION, endpoint_url=iam_dynamodb.endpoint_url, credentials=keys
    )

    result = create_table(target)

    assert result.created and result.header_written and result.pitr.enabled is True
    assert result.header.created_by.endswith(":user/admin")  # STS answers whoever asks


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    config = tmp_path / "aws-config"
    config.write_text(text, encoding="utf-8")
    empty = tmp_path / "aws-credentials"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe from a laptop
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_a_profile_without_credentials_is_named(
    dynamodb: DynamoDbEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, monkeypatch, "[profile sync-team]\nregion = us-east-1\n")
    target = SyncTableTarget(
        table=TABLE, region=REGION, profile="sync-team", endpoint_url=dynamodb.endpoint_url
    )

    with pytest.raises(SyncAuthError) as caught:
        create_table(target)

    assert "'sync-team'" in str(caught.value) and "\n" not in str(caught.value)
    assert dynamodb.client().list_tables()["TableNames"] == []


def test_a_profile_that_does_not_exist_is_named(
    dynamodb: DynamoDbEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, monkeypatch, "")
    target = SyncTableTarget(
        table=TABLE, region=REGION, profile="nowhere", endpoint_url=dynamodb.endpoint_url
    )

    with pytest.raises(SyncAuthError, match="profile 'nowhere' for the sync table team-sync does not exist"):
        create_table(target)
