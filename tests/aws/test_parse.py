"""The response parsers and the error mapping, on literal dicts shaped like DRS's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from drs_desktop.aws.drs_parse import (
    account_from_arn,
    format_timestamp,
    parse_duration,
    parse_job,
    parse_job_log_entry,
    parse_recovery_instance,
    parse_snapshot,
    parse_source_server,
    parse_timestamp,
)
from drs_desktop.aws.errors import map_error, retry_after_of
from drs_desktop.domain.drs.errors import (
    DrsAuthError,
    DrsConflict,
    DrsError,
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsQuotaExceeded,
    DrsRejected,
    DrsThrottled,
    DrsUnavailable,
    DrsUninitialized,
)
from drs_desktop.domain.engine.events import JobStatus, LaunchStatus

JOB_ARN = "arn:aws:drs:us-east-1:123456789012:job/drsjob-1280788c7e46a1006"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # real DRS (reference §12.1): microseconds and +00:00
        ("2024-09-16T04:42:46.324841+00:00", datetime(2024, 9, 16, 4, 42, 46, 324841, tzinfo=UTC)),
        # documented form: milliseconds and Z
        ("2024-06-15T15:00:00.000Z", datetime(2024, 6, 15, 15, 0, tzinfo=UTC)),
        ("2024-06-15T15:00:00Z", datetime(2024, 6, 15, 15, 0, tzinfo=UTC)),
        ("2024-06-15T15:00:00.5Z", datetime(2024, 6, 15, 15, 0, 0, 500000, tzinfo=UTC)),
        ("2024-06-15T15:00:00.123456789Z", datetime(2024, 6, 15, 15, 0, 0, 123456, tzinfo=UTC)),
        ("2024-06-15T17:00:00+02:00", datetime(2024, 6, 15, 15, 0, tzinfo=UTC)),
        ("2024-06-15T15:00:00", datetime(2024, 6, 15, 15, 0, tzinfo=UTC)),  # no zone: UTC
    ],
)
def test_both_timestamp_forms_parse_to_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", [None, "", "yesterday", "2024-13-45T99:00:00Z", 1718463600])
def test_unreadable_timestamps_are_none(text: object) -> None:
    assert parse_timestamp(text) is None


def test_filter_timestamps_use_the_model_pattern() -> None:
    moment = datetime(2026, 1, 5, 9, 30, 1, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(moment) == "2026-01-05T08:30:01.123Z"
    assert format_timestamp(moment, round_up=True) == "2026-01-05T08:30:01.124Z"
    assert format_timestamp(datetime(2026, 1, 5, tzinfo=UTC), round_up=True) == "2026-01-05T00:00:00.000Z"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 5))  # naive: ambiguous


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1M30S", 90),
        ("PT3S", 3),
        ("PT0.5S", 0.5),
        ("P1DT2H", 93600),
        ("P129DT2H17M29S", 11153849),
        ("PT2H", 7200),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [None, "", "P", "PT", "90 seconds", "1:30"])
def test_unreadable_durations_are_none(text: object) -> None:
    assert parse_duration(text) is None


def test_source_server_fields() -> None:
    server = parse_source_server(
        {
            "sourceServerID": "s-3482d1cd91c3407dd",
            "arn": "arn:aws:drs:us-east-1:123456789012:source-server/s-3482d1cd91c3407dd",
            "tags": {"Name": "shop-web-01", "Tier": "web"},
            "lastLaunchResult": "SUCCEEDED",
            "dataReplicationInfo": {"lagDuration": "PT1M30S", "dataReplicationState": "CONTINUOUS"},
            "lifeCycle": {
                "lastLaunch": {
                    "initiated": {"apiCallDateTime": "2026-01-05T08:00:00.000Z", "type": "DRILL"},
                    "status": "LAUNCHED",
                }
            },
            "sourceProperties": {
                "identificationHints": {"hostname": "shop-web-01", "fqdn": "shop-web-01.example.com"},
                "os": {"fullString": "Red Hat Enterprise Linux release 9.3 (Plow)"},
            },
        }
    )
    assert server.source_server_id == "s-3482d1cd91c3407dd"
    assert server.hostname == "shop-web-01"
    assert server.tags == {"Name": "shop-web-01", "Tier": "web"}
    assert server.replication_state == "CONTINUOUS"
    assert server.lag_seconds == 90
    assert server.os.startswith("Red Hat")
    assert server.last_launch_status == "SUCCEEDED"
    assert server.last_launched_at == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert account_from_arn(server.arn) == "123456789012"


def test_a_bare_source_server_still_parses() -> None:
    server = parse_source_server(
        {
            "sourceServerID": "s-00000000000000001",
            "sourceProperties": {"identificationHints": {"fqdn": "db.x.y"}},
        }
    )
    assert (server.hostname, server.lag_seconds, server.last_launched_at) == ("db", None, None)
    assert server.ips == ()


def test_a_source_servers_ips_come_primary_interface_first_each_once() -> None:
    server = parse_source_server(
        {
            "sourceServerID": "s-00000000000000001",
            "sourceProperties": {
                "networkInterfaces": [
                    {"macAddress": "0a:1", "ips": ["192.168.7.4", "10.0.1.15"], "isPrimary": False},
                    {"macAddress": "0a:2", "ips": ["10.0.1.15", "10.0.1.16", 7], "isPrimary": True},
                    "not an interface",
                ]
            },
        }
    )
    assert server.ips == ("10.0.1.15", "10.0.1.16", "192.168.7.4")


def test_job_with_drs_own_tag_and_post_launch_runs() -> None:
    job = parse_job(
        {
            "jobID": "drsjob-1280788c7e46a1006",
            "arn": JOB_ARN,
            "type": "LAUNCH",
            "initiatedBy": "START_DRILL",
            "creationDateTime": "2026-01-05T08:00:00.000000+00:00",
            "endDateTime": "2026-01-05T08:09:01.115Z",
            "status": "COMPLETED",
            "tags": {"drs-desktop:chunk": "c1", "resourceArn": JOB_ARN},
            "participatingServers": [
                {
                    "sourceServerID": "s-3482d1cd91c3407dd",
                    "recoveryInstanceID": "i-953b441b896bc7d65",
                    "launchStatus": "LAUNCHED",
                    "launchActionsStatus": {
                        "ssmAgentDiscoveryDatetime": "2026-01-05T08:12:11.044826+00:00",
                        "runs": [
                            {
                                "runId": "r1",
                                "status": "FAILED",
                                "failureReason": "exit 1",
                                "action": {"actionId": "a1", "name": "Verify", "optional": True},
                            },
                        ],
                    },
                },
                {
                    "sourceServerID": "s-847466e069fb49d35",
                    "launchStatus": "PENDING",
                    "launchActionsStatus": {"runs": []},
                },
            ],
        }
    )
    assert job.status is JobStatus.COMPLETED and not job.is_active
    assert job.is_drill is True
    assert job.tags["resourceArn"] == JOB_ARN and job.tags["drs-desktop:chunk"] == "c1"
    assert job.created_at == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert job.ended_at == datetime(2026, 1, 5, 8, 9, 1, 115000, tzinfo=UTC)
    first = job.server("s-3482d1cd91c3407dd")
    assert first is not None and first.post_launch is not None
    assert first.post_launch.failed[0].failure_reason == "exit 1"
    assert first.post_launch.failed[0].optional is True
    engine = job.to_engine()
    assert engine.servers[0].ec2_instance_id == "i-953b441b896bc7d65"
    assert engine.servers[1].recovery_instance_id is None
    assert engine.servers[1].launch_status is LaunchStatus.PENDING


def test_unknown_enum_values_read_as_still_running() -> None:
    job = parse_job(
        {
            "jobID": "drsjob-00000000000000001",
            "status": "PAUSED",
            "participatingServers": [{"sourceServerID": "s-00000000000000001", "launchStatus": "WARMING"}],
        }
    )
    assert job.status is JobStatus.STARTED
    assert job.servers[0].launch_status is LaunchStatus.IN_PROGRESS
    assert job.is_drill is None


def test_job_without_id_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_job({"status": "PENDING"})


def test_log_entry_instance_and_snapshot() -> None:
    entry = parse_job_log_entry(
        {
            "logDateTime": "2026-01-05T08:07:45Z",
            "event": "CONVERSION_FAIL",
            "eventData": {"sourceServerID": "s-1", "conversionServerID": "i-1", "rawError": "disk"},
        }
    )
    assert (entry.event, entry.source_server_id, entry.raw_error, entry.conversion_server_id) == (
        "CONVERSION_FAIL",
        "s-1",
        "disk",
        "i-1",
    )
    assert entry.to_engine(datetime(2030, 1, 1, tzinfo=UTC)).detail == "disk"
    missing_time = parse_job_log_entry({"event": "JOB_START", "eventData": {}})
    assert missing_time.to_engine(datetime(2030, 1, 1, tzinfo=UTC)).at == datetime(2030, 1, 1, tzinfo=UTC)

    instance = parse_recovery_instance(
        {
            "recoveryInstanceID": "i-953b441b896bc7d65",
            "ec2InstanceID": "i-953b441b896bc7d65",
            "sourceServerID": "s-1",
            "jobID": "drsjob-1",
            "isDrill": True,
            "ec2InstanceState": "SHUTTING-DOWN",
            "pointInTimeSnapshotDateTime": "2026-01-05T08:00:02.198981+00:00",
        }
    )
    assert instance.ec2_state == "SHUTTING-DOWN" and instance.is_drill is True
    assert instance.point_in_time == datetime(2026, 1, 5, 8, 0, 2, 198981, tzinfo=UTC)
    assert instance.to_engine().job_id == "drsjob-1"

    in_progress = parse_snapshot(
        {"snapshotID": "pit-1", "sourceServerID": "s-1", "expectedTimestamp": "2026-01-05T08:10:00Z"}
    )
    assert in_progress.timestamp is None and in_progress.taken_at is None
    assert in_progress.expected_timestamp == datetime(2026, 1, 5, 8, 10, tzinfo=UTC)
    untimed = parse_snapshot(
        {
            "snapshotID": "pit-2",
            "sourceServerID": "s-1",
            "expectedTimestamp": "2026-01-05T08:10:00Z",
            "ebsSnapshots": ["snap-0123456789abcdef0"],
        }
    )
    assert untimed.timestamp is None and untimed.ebs_snapshots == ("snap-0123456789abcdef0",)
    assert untimed.taken_at == datetime(2026, 1, 5, 8, 10, tzinfo=UTC)


# -- error mapping --------------------------------------------------------------------------------


def client_error(code: str, status: int, **extra: object) -> ClientError:
    response: dict[str, object] = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1", "HTTPHeaders": {}},
        **extra,
    }
    return ClientError(response, "StartRecovery")


@pytest.mark.parametrize(
    ("code", "status", "kind", "definite"),
    [
        ("ConflictException", 409, DrsConflict, True),
        ("ServiceQuotaExceededException", 402, DrsQuotaExceeded, True),
        ("ValidationException", 400, DrsRejected, True),
        ("ResourceNotFoundException", 404, DrsNotFound, True),
        ("UninitializedAccountException", 400, DrsUninitialized, True),
        ("ThrottlingException", 429, DrsThrottled, True),
        ("InternalServerException", 500, DrsOutcomeUnknown, False),
        ("503", 503, DrsOutcomeUnknown, False),
        ("UnrecognizedClientException", 403, DrsAuthError, True),
    ],
)
def test_mutating_call_errors(code: str, status: int, kind: type[DrsError], definite: bool) -> None:
    error = map_error(client_error(code, status), "StartRecovery", mutating=True)
    assert type(error) is kind
    assert error.definite is definite
    assert error.code == code and error.operation == "StartRecovery" and error.request_id == "req-1"


def test_read_call_5xx_is_unavailable_and_definite() -> None:
    error = map_error(
        client_error("InternalServerException", 500, retryAfterSeconds=3), "DescribeJobs", mutating=False
    )
    assert isinstance(error, DrsUnavailable)
    assert error.definite and error.transient and error.retry_after == 3.0


def test_retry_after_from_body_member_or_header() -> None:
    assert retry_after_of({"retryAfterSeconds": "7"}) == 7.0
    assert retry_after_of({"ResponseMetadata": {"HTTPHeaders": {"retry-after": "2"}}}) == 2.0
    assert retry_after_of({"retryAfterSeconds": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_of({}) is None


def test_quota_and_validation_details_are_kept() -> None:
    quota = map_error(
        client_error("ServiceQuotaExceededException", 402, quotaCode="L-B827C881"),
        "StartRecovery",
        mutating=True,
    )
    assert quota.quota_code == "L-B827C881"
    rejected = map_error(
        client_error(
            "ValidationException", 400, fieldList=[{"name": "sourceServers", "message": "too many"}]
        ),
        "StartRecovery",
        mutating=True,
    )
    assert rejected.fields == (("sourceServers", "too many"),)


@pytest.mark.parametrize(
    "exc",
    [
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_network_failures(exc: Exception) -> None:
    unknown = map_error(exc, "TerminateRecoveryInstances", mutating=True)
    assert isinstance(unknown, DrsOutcomeUnknown) and not unknown.definite
    read = map_error(exc, "DescribeJobs", mutating=False)
    assert isinstance(read, DrsUnavailable) and read.definite and read.transient


def test_client_side_failures_are_definite() -> None:
    assert isinstance(map_error(NoCredentialsError(), "StartRecovery", mutating=True), DrsAuthError)
    rejected = map_error(ParamValidationError(report="bad"), "StartRecovery", mutating=True)
    assert isinstance(rejected, DrsRejected) and rejected.definite


def test_staging_area_of_an_extended_server_and_of_one_that_is_not() -> None:
    from drs_desktop.aws.drs_parse import parse_extensible_server

    staging_arn = "arn:aws:drs:us-east-1:222222222222:source-server/s-0123456789abcdef0"
    failed = parse_source_server(
        {
            "sourceServerID": "s-1111111111111111a",
            "stagingArea": {
                "status": "EXTENSION_ERROR",
                "stagingAccountID": "222222222222",
                "stagingSourceServerArn": staging_arn,
                "errorMessage": "staging server disconnected",
            },
        }
    )
    assert failed.is_extended and failed.staging_server_id == "s-0123456789abcdef0"
    assert failed.extended_from() == (
        "extended from staging account 222222222222 (server s-0123456789abcdef0): EXTENSION_ERROR "
        "(staging server disconnected)"
    )
    plain = parse_source_server({"sourceServerID": "s-1", "stagingArea": {"status": "NOT_EXTENDED"}})
    assert not plain.is_extended and plain.extension_status == "" and plain.extended_from() == ""
    item = parse_extensible_server(
        {"arn": staging_arn, "hostname": "db01", "tags": {"a": None}}, "999999999999"
    )
    assert (item.source_server_id, item.staging_account_id, dict(item.tags)) == (
        "s-0123456789abcdef0",
        "222222222222",  # the ARN's account, whatever was asked
        {"a": ""},
    )


def test_an_aws_hosted_server_s_instance_is_read_and_a_malformed_one_is_not_guessed() -> None:
    from drs_desktop.aws.drs_parse import parse_source_server

    def item(instance: object) -> dict[str, object]:
        hints: dict[str, object] = {"hostname": "web"}
        if instance is not None:
            hints["awsInstanceID"] = instance
        return {"sourceServerID": "s-1234567890abcdef0", "sourceProperties": {"identificationHints": hints}}

    assert parse_source_server(item("i-0123456789abcdef0")).aws_instance_id == "i-0123456789abcdef0"
    server = parse_source_server(item("vm-42"))
    assert server.aws_instance_id == "" and server.hostname == "web"
    assert parse_source_server(item(None)).aws_instance_id == ""
