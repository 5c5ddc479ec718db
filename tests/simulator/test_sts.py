"""STS AssumeRole and GetCallerIdentity against the simulator with the real boto3/botocore clients:
external ID and MFA (right and wrong), expiry on the virtual clock, and botocore's own assume-role
profile provider, refreshing credentials before they expire."""

from __future__ import annotations

import copy
import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import (
    EXTERNAL_ID,
    MFA_CODE,
    MFA_SERIAL,
    NO_RETRY,
    RECOVERY,
    STAGING,
    STAGING_KEY,
    TWO_ACCOUNTS,
    all_servers,
    client,
)

OPERATOR = f"arn:aws:iam::{RECOVERY}:role/Operator"
BREAK_GLASS = f"arn:aws:iam::{RECOVERY}:role/BreakGlass"


sim = accounts_scenario.two_accounts_sim


def _error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _with(sim: EmbeddedSimulator, credentials: dict[str, Any], service: str = "drs") -> Any:
    return client(
        sim,
        service,
        key=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )


def test_assume_role_with_the_external_id_reaches_the_roles_account(sim: EmbeddedSimulator) -> None:
    sts = client(sim, "sts", key=STAGING_KEY)  # a staging account's user assumes the recovery role
    before = datetime.now(UTC).replace(microsecond=0)
    answer = sts.assume_role(RoleArn=OPERATOR, RoleSessionName="drill-1", ExternalId=EXTERNAL_ID)
    after = datetime.now(UTC)
    credentials = answer["Credentials"]

    identity = _with(sim, credentials, "sts").get_caller_identity()
    servers = all_servers(_with(sim, credentials))

    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{RECOVERY}:assumed-role/Operator/drill-1"
    assert identity["Account"] == RECOVERY
    assert identity["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert identity["UserId"].endswith(":drill-1")
    assert len(servers) == 3 and all(f":{RECOVERY}:" in s["arn"] for s in servers)
    # One hour by default; the manual clock stands still, so botocore sees the hour in real time: the
    # answer's Expiration is an hour after the moment it was made (whole seconds), whatever the load.
    assert before + timedelta(hours=1) <= credentials["Expiration"] <= after + timedelta(hours=1)


@pytest.mark.parametrize("external_id", [None, "ext-wrong"])
def test_a_missing_or_wrong_external_id_is_access_denied(
    sim: EmbeddedSimulator, external_id: str | None
) -> None:
    sts = client(sim, "sts", key=STAGING_KEY)
    kwargs: dict[str, Any] = {"RoleArn": OPERATOR, "RoleSessionName": "drill-1"}
    if external_id is not None:
        kwargs["ExternalId"] = external_id
    code, message, status = _error(sts.assume_role, **kwargs)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{STAGING}:user/drs-desktop-simulator is not authorized to perform: "
        f"sts:AssumeRole on resource: {OPERATOR}"
    )


def test_mfa_roles_need_the_serial_and_the_right_code(sim: EmbeddedSimulator) -> None:
    sts = client(sim, "sts", key=STAGING_KEY)
    base = {"RoleArn": BREAK_GLASS, "RoleSessionName": "break-glass"}

    missing = _error(sts.assume_role, **base)
    wrong = _error(sts.assume_role, **base, SerialNumber=MFA_SERIAL, TokenCode="000000")
    other_device = _error(sts.assume_role, **base, SerialNumber=MFA_SERIAL + "x", TokenCode=MFA_CODE)
    answer = sts.assume_role(**base, SerialNumber=MFA_SERIAL, TokenCode=MFA_CODE)

    assert missing[0] == wrong[0] == other_device[0] == "AccessDenied"
    assert "MultiFactorAuthentication failed" in wrong[1]
    assert "not authorized to perform: sts:AssumeRole" in missing[1]
    assert _with(sim, answer["Credentials"], "sts").get_caller_identity()["Account"] == RECOVERY


def test_unknown_roles_and_bad_durations_are_refused(sim: EmbeddedSimulator) -> None:
    sts = client(sim, "sts", key=STAGING_KEY)
    unknown = _error(sts.assume_role, RoleArn=f"arn:aws:iam::{RECOVERY}:role/Nobody", RoleSessionName="s1")
    too_long = _error(
        sts.assume_role, RoleArn=OPERATOR, RoleSessionName="s1", ExternalId=EXTERNAL_ID, DurationSeconds=7200
    )
    assert unknown[0] == "AccessDenied"
    # The role's MaxSessionDuration is IAM's default hour.
    assert too_long[:2] == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


def test_session_credentials_expire_on_the_virtual_clock(sim: EmbeddedSimulator) -> None:
    sts = client(sim, "sts", key=STAGING_KEY)
    credentials = sts.assume_role(
        RoleArn=OPERATOR, RoleSessionName="short", ExternalId=EXTERNAL_ID, DurationSeconds=900
    )["Credentials"]
    drs, own_sts = _with(sim, credentials), _with(sim, credentials, "sts")
    assert len(drs.describe_source_servers()["items"]) == 3
    sim.clock.advance(899)
    assert len(drs.describe_source_servers()["items"]) == 3

    sim.clock.advance(1)
    drs_error = _error(drs.describe_source_servers)
    sts_error = _error(own_sts.get_caller_identity)

    expired = "The security token included in the request is expired"
    assert drs_error == ("ExpiredTokenException", expired, 403)
    assert (sts_error[0], sts_error[2]) == ("ExpiredToken", 403)  # the request's own credentials: 403
    # A long-term key is not affected.
    assert len(client(sim).describe_source_servers()["items"]) == 3


def test_the_control_api_expires_a_session_now(sim: EmbeddedSimulator) -> None:
    credentials = client(sim, "sts").assume_role(
        RoleArn=OPERATOR, RoleSessionName="to-expire", ExternalId=EXTERNAL_ID
    )["Credentials"]
    drs = _with(sim, credentials)
    drs.describe_jobs()
    body = json.dumps({"expire": credentials["AccessKeyId"]}).encode()
    request = urllib.request.Request(f"{sim.endpoint_url}/_sim/sessions", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        expired = json.loads(answer.read())["expired"]
    assert expired == [credentials["AccessKeyId"]]
    assert _error(drs.describe_jobs)[0] == "ExpiredTokenException"
    with urllib.request.urlopen(f"{sim.endpoint_url}/_sim/accounts") as answer:
        sessions = json.loads(answer.read())["sessions"]
    assert [(s["access_key_id"], s["expired"]) for s in sessions] == [(credentials["AccessKeyId"], True)]


def _profile_session(
    sim: EmbeddedSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> boto3.Session:
    """A boto3 Session whose profile assumes the Operator role from a staging key, all through a config
    file as a person would write it; the simulator's endpoint comes from ``endpoint_url`` there."""
    config = tmp_path / "config"
    config.write_text(
        "[profile staging]\n"
        f"aws_access_key_id = {STAGING_KEY}\n"
        "aws_secret_access_key = secret\n"
        "[profile recovery]\n"
        f"role_arn = {OPERATOR}\n"
        f"external_id = {EXTERNAL_ID}\n"
        "role_session_name = drs-desktop\n"
        "source_profile = staging\n"
        "region = us-east-1\n"
        f"endpoint_url = {sim.endpoint_url}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return boto3.Session(profile_name="recovery")


def test_botocores_assume_role_profile_refreshes_before_the_simulator_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 60x a one-hour session lasts a real minute, inside botocore's 15-minute refresh window: botocore
    assumes the role again before each call, so calls go on across three virtual hours, while the first
    session's keys, used as they are, expire with the simulator's hour."""
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3, time_scale=60) as sim:
        session = _profile_session(sim, tmp_path, monkeypatch)
        drs = session.client("drs", config=NO_RETRY)
        first = session.get_credentials().get_frozen_credentials()
        used = []
        for _ in range(9):  # 9 x 20 virtual minutes
            assert len(drs.describe_source_servers()["items"]) == 3
            used.append(session.get_credentials().get_frozen_credentials().access_key)
            sim.clock.advance(20 * 60)
        identity = session.client("sts", config=NO_RETRY).get_caller_identity()
        issued = sim.estate.identities.sessions()
        stale = client(sim, key=first.access_key, secret=first.secret_key, token=first.token)
        stale_error = _error(stale.describe_jobs)

    assert identity["Arn"] == f"arn:aws:sts::{RECOVERY}:assumed-role/Operator/drs-desktop"
    assert len(set(used)) > 1 and first.access_key.startswith("ASIA")
    assert {s.access_key for s in issued} >= set(used)
    assert stale_error[0] == "ExpiredTokenException"


def test_on_a_manual_clock_botocore_keeps_its_session_and_the_expiry_is_the_simulators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manual clock does not move with real time, so botocore (an hour left, by the real clock) does not
    refresh; moving the virtual clock past the hour expires the session: ExpiredTokenException, which a
    client must tell from a failed launch."""
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3) as sim:
        session = _profile_session(sim, tmp_path, monkeypatch)
        drs = session.client("drs", config=NO_RETRY)
        drs.describe_jobs()
        before = session.get_credentials().get_frozen_credentials().access_key
        sim.clock.advance(3599)
        drs.describe_jobs()
        sim.clock.advance(1)
        code = _error(drs.describe_jobs)[0]
        after = session.get_credentials().get_frozen_credentials().access_key
    assert code == "ExpiredTokenException"
    assert before == after


def test_the_control_cli_lists_sessions_and_expires_them(
    sim: EmbeddedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from drs_desktop.simulator.control_cli import main

    credentials = client(sim, "sts").assume_role(
        RoleArn=OPERATOR, RoleSessionName="cli", ExternalId=EXTERNAL_ID
    )["Credentials"]
    assert main(["--endpoint", sim.endpoint_url, "accounts"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["--endpoint", sim.endpoint_url, "session", "expire", "all"]) == 0
    expired = json.loads(capsys.readouterr().out)
    assert main(["--endpoint", sim.endpoint_url, "session", "expire", "ASIANOSUCHKEY"]) == 1

    assert [s["access_key_id"] for s in listed["sessions"]] == [credentials["AccessKeyId"]]
    assert [a["account_id"] for a in listed["accounts"]] == [RECOVERY, STAGING]
    assert expired == {"expired": [credentials["AccessKeyId"]]}
    assert _error(_with(sim, credentials).describe_jobs)[0] == "ExpiredTokenException"


def test_a_temporary_key_without_its_token_is_refused(sim: EmbeddedSimulator) -> None:
    """AWS accepts an ASIA key only with its session token: a caller that drops the token (keys typed
    without it) must fail here as it would against AWS, not pass."""
    credentials = client(sim, "sts", key=STAGING_KEY).assume_role(
        RoleArn=OPERATOR, RoleSessionName="no-token", ExternalId=EXTERNAL_ID
    )["Credentials"]
    no_token = {**credentials, "SessionToken": None}
    code, _, status = _error(_with(sim, no_token).describe_source_servers)
    assert status == 403 and code != "ExpiredTokenException"
    assert _error(_with(sim, no_token, "sts").get_caller_identity)[0] == "InvalidClientTokenId"


def test_role_chaining_is_limited_to_one_hour() -> None:
    """AssumeRole signed with a session the simulator issued (role chaining) refuses DurationSeconds over
    an hour with STS's words, even for a role whose MaxSessionDuration is 12 hours; without
    DurationSeconds the chained session lasts one hour. A long-term key may ask for the 12 hours."""
    scenario = copy.deepcopy(TWO_ACCOUNTS)
    scenario["accounts"][1]["roles"] = [{"name": "ReadOnly", "max_session_seconds": 43200}]
    read_only = f"arn:aws:iam::{STAGING}:role/ReadOnly"
    with EmbeddedSimulator(scenario, seed=3) as sim:
        first = client(sim, "sts").assume_role(
            RoleArn=OPERATOR, RoleSessionName="hop1", ExternalId=EXTERNAL_ID
        )["Credentials"]
        chained_sts = _with(sim, first, "sts")
        refused = _error(
            chained_sts.assume_role, RoleArn=read_only, RoleSessionName="hop2", DurationSeconds=7200
        )
        chained = chained_sts.assume_role(RoleArn=read_only, RoleSessionName="hop2")["Credentials"]
        direct = client(sim, "sts").assume_role(
            RoleArn=read_only, RoleSessionName="direct", DurationSeconds=43200
        )["Credentials"]
        sessions = {s.access_key: s for s in sim.estate.identities.sessions()}

    assert refused == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
    )
    hop2 = sessions[chained["AccessKeyId"]]
    assert hop2.account_id == STAGING
    assert hop2.expires_ts - hop2.issued_ts == 3600
    long = sessions[direct["AccessKeyId"]]
    assert long.expires_ts - long.issued_ts == 43200
