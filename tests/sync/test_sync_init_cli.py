"""``drs-desktop sync init`` end to end against moto's server: what it prints, the policy on stdout, and its
exit codes (0 set up, 2 a target that cannot be used, 1 with one line for what AWS refused)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.sync_schema import INIT_ACTIONS, RUNTIME_ACTIONS
from drs_desktop.cli import main
from tests.services.target_profiles import write_profiles
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.iam_emulator import iam_dynamodb, user_allowed

__all__ = ["iam_dynamodb"]  # the fixture, used by name

TABLE = "team-sync"
ROOT = Path(__file__).resolve().parents[2]


def _init(capsys: pytest.CaptureFixture[str], *extra: str, table: str = TABLE) -> tuple[int, str, str]:
    code = main(["sync", "init", "--table", table, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _policy_resources(policy: dict[str, Any]) -> set[str]:
    return {statement["Resource"] for statement in policy["Statement"]}


def test_init_creates_the_table_and_prints_the_policy_for_its_arn(
    dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _init(capsys, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url)

    assert code == 0, err
    arn = dynamodb.client().describe_table(TableName=TABLE)["Table"]["TableArn"]
    policy = json.loads(out)  # stdout holds the policy alone
    assert _policy_resources(policy) == {arn}
    assert [s["Action"] for s in policy["Statement"]] == [list(RUNTIME_ACTIONS), list(INIT_ACTIONS)]
    assert f"created the table {TABLE} (PAY_PER_REQUEST)" in err
    assert "point-in-time recovery: on (switched on now)" in err
    assert "header: schema 1, min_app_version " in err and "created_by arn:aws:sts::" in err

    code, out, err = _init(capsys, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url)

    assert code == 0, err
    assert f"the table {TABLE} is already set up: nothing changed" in err
    assert "created the table" not in err and "wrote the" not in err
    assert _policy_resources(json.loads(out)) == {arn}


def test_the_region_comes_from_the_profile_when_not_given(
    dynamodb: DynamoDbEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_profiles(tmp_path, monkeypatch, {"team": "AKIATEAMEXAMPLE"})
    (tmp_path / "aws-config").write_text("[profile team]\nregion = eu-west-3\n", encoding="utf-8")

    code, out, err = _init(capsys, "--profile", "team", "--endpoint-url", dynamodb.endpoint_url)

    assert code == 0, err
    assert "eu-west-3 (profile team)" in err
    assert all(":eu-west-3:" in r for r in _policy_resources(json.loads(out)))
    regional = dynamodb.client(region_name="eu-west-3")
    assert regional.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--table", "x", "--region", REGION], "not a DynamoDB table name"),
        (["--table", TABLE, "--region", REGION, "--endpoint-url", "http://192.0.2.10:8000"], "plain http"),
        (
            ["--table", TABLE, "--region", REGION, "--endpoint-url", "https://a:secret@example.com"],
            "user name",
        ),
        (["--table", TABLE], "no AWS Region for the table"),
    ],
)
def test_a_target_that_cannot_be_used_exits_2_with_one_line(
    args: list[str], words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)

    code = main(["sync", "init", *args])
    captured = capsys.readouterr()

    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and words in captured.err
    assert "secret" not in captured.err


def test_a_missing_table_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "init", "--region", REGION]) == 2
    assert "--table" in capsys.readouterr().err


def test_access_denied_exits_1_naming_the_action(
    iam_dynamodb: DynamoDbEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = user_allowed(iam_dynamodb, "operator", RUNTIME_ACTIONS)
    credentials = write_profiles(tmp_path, monkeypatch, {"operator": keys.access_key_id})
    profile = f"[operator]\naws_access_key_id = {keys.access_key_id}\n"
    credentials.write_text(f"{profile}aws_secret_access_key = {keys.secret_access_key}\n", encoding="utf-8")

    code, out, err = _init(
        capsys, "--profile", "operator", "--region", REGION, "--endpoint-url", iam_dynamodb.endpoint_url
    )

    assert code == 1
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert (
        last.startswith("drs-desktop: error: ") and f"dynamodb:CreateTable on the sync table {TABLE}" in last
    )
    assert keys.secret_access_key not in err


def test_a_table_with_other_keys_exits_1_untouched(
    dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    client = dynamodb.client()
    client.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    code, out, err = _init(
        capsys, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url, table="orders"
    )

    assert code == 1 and out == ""
    assert "is not a DRS Desktop sync table" in err.strip().splitlines()[-1]
    assert client.scan(TableName="orders")["Items"] == []


def test_the_installed_command_runs_as_a_process(dynamodb: DynamoDbEmulator) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "drs_desktop", "sync", "init", "--table", TABLE, "--region", REGION,
               "--endpoint-url", dynamodb.endpoint_url]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Statement"][0]["Sid"] == "DrsDesktopSync"
    assert "point-in-time recovery: on" in done.stderr
