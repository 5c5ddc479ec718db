"""moto's server with IAM enforced, and an IAM user on it allowed only what a test says.

moto checks no permission by default; with ``INITIAL_NO_AUTH_ACTION_COUNT`` set it lets that many requests
through unchecked (the set-up: create the user, give it a policy, make its keys) and checks every later
one against the caller's IAM policies, answering a refusal with HTTP 403, as AWS does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import boto3
import pytest

from drs_desktop.domain.connection import AccessKeyPair
from tests.sync.dynamodb_emulator import KEY, REGION, DynamoDbEmulator

#: CreateUser, PutUserPolicy, CreateAccessKey.
SETUP_REQUESTS = 3


@pytest.fixture
def iam_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbEmulator]:
    """A moto server (its own process) that enforces IAM after the first SETUP_REQUESTS requests."""
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", str(SETUP_REQUESTS))
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def user_allowed(emulator: DynamoDbEmulator, name: str, actions: Sequence[str]) -> AccessKeyPair:
    """Keys of a new IAM user whose one policy allows ``actions`` on every resource (moto matches a
    policy's Resource against "*" for DynamoDB, so a table ARN there would allow nothing)."""
    iam = boto3.session.Session().client(
        "iam", endpoint_url=emulator.endpoint_url, region_name=REGION, aws_access_key_id=KEY,
        aws_secret_access_key=KEY,
    )  # fmt: skip
    iam.create_user(UserName=name)
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }
    iam.put_user_policy(UserName=name, PolicyName="test", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return AccessKeyPair(key["AccessKeyId"], key["SecretAccessKey"])
