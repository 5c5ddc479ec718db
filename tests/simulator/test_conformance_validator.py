"""conformance.validate_output / validate_error on hand-made parsed responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drs_desktop.simulator.conformance import validate_error, validate_output


def job(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "jobID": "drsjob-0123456789abcdef0",
        "arn": "arn:aws:drs:us-east-1:123456789012:job/drsjob-0123456789abcdef0",
        "type": "LAUNCH",
        "status": "PENDING",
        "creationDateTime": "2024-06-15T15:00:00.000Z",
        "participatingServers": [{"sourceServerID": "s-0123456789abcdef0", "launchStatus": "PENDING"}],
        "tags": {"resourceArn": "arn:aws:drs:us-east-1:123456789012:job/drsjob-0123456789abcdef0"},
    }
    base.update(overrides)
    return base


def response(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(items), "ResponseMetadata": {"HTTPStatusCode": 200}}


def test_conforming_response_has_no_problems() -> None:
    assert validate_output("DescribeJobs", response(job(), job())) == []


def test_required_member_missing() -> None:
    item = job()
    del item["jobID"]
    assert validate_output("DescribeJobs", response(item)) == ["items[0].jobID: required member missing"]


def test_enum_pattern_and_length() -> None:
    problems = validate_output(
        "DescribeJobs",
        response(job(status="FAILED", jobID="job-1", participatingServers=[{"sourceServerID": "s-1"}])),
    )
    assert any(p.startswith("items[0].status: Member must satisfy enum value set") for p in problems)
    assert any(p.startswith("items[0].jobID: Member must have length") for p in problems)
    assert any(p.startswith("items[0].participatingServers[0].sourceServerID:") for p in problems)


def test_member_unknown_to_the_shape() -> None:
    problems = validate_output("DescribeJobs", response(job(replicationStatus="HEALTHY")))
    assert problems == ["items[0].replicationStatus: member not in shape Job"]
    assert validate_output("DescribeJobs", {"items": [], "extra": 1}) == [
        "extra: member not in shape DescribeJobsResponse"
    ]


def test_wrong_types() -> None:
    problems = validate_output("DescribeJobs", response(job(tags=["a"], participatingServers={})))
    assert "items[0].tags: expected a map, got list" in problems
    assert "items[0].participatingServers: expected a list, got dict" in problems


def test_real_drs_offset_timestamps_are_tolerated_unless_strict() -> None:
    real = response(job(creationDateTime="2024-09-16T04:42:46.324841+00:00"))
    assert validate_output("DescribeJobs", real) == []
    strict = validate_output("DescribeJobs", real, strict_patterns=True)
    assert len(strict) == 1 and "regular expression" in strict[0]
    assert validate_output("DescribeJobs", response(job(creationDateTime="2024-09-16 04:42:46"))) != []


def test_timestamp_shapes_must_parse_to_aware_datetimes() -> None:
    def networks(value: Any) -> dict[str, Any]:
        return {
            "items": [{"sourceNetworkID": "sn-0123456789abcdef0", "lastRecovery": {"apiCallDateTime": value}}]
        }

    assert validate_output("DescribeSourceNetworks", networks(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))) == []
    assert validate_output("DescribeSourceNetworks", networks("2024-01-01T00:00:00Z")) == [
        "items[0].lastRecovery.apiCallDateTime: expected a datetime after parsing, got str"
    ]
    naive = validate_output("DescribeSourceNetworks", networks(dt.datetime(2024, 1, 1)))
    assert naive == ["items[0].lastRecovery.apiCallDateTime: timestamp parsed without a time zone"]


def test_list_and_number_limits() -> None:
    actions = {"items": [{"actionId": "x"}] * 201}
    problems = validate_output("ListLaunchActions", actions)
    assert "items: Member must have length less than or equal to 200" in problems
    log = {"items": [{"eventData": {"attemptCount": 10}}]}
    assert validate_output("DescribeJobLogItems", log) == [
        "items[0].eventData.attemptCount: Member must have value less than or equal to 9"
    ]


def test_operation_without_output_shape() -> None:
    assert validate_output("TagResource", {"ResponseMetadata": {}}) == []
    assert validate_output("TagResource", {"x": 1}) != []


def test_validate_error() -> None:
    throttled = {
        "Error": {"Code": "ThrottlingException", "Message": "slow"},
        "ResponseMetadata": {},
        "message": "slow",
        "retryAfterSeconds": "3",
    }
    assert validate_error(throttled) == []
    assert validate_error({**throttled, "retryAfterSeconds": 3}) == [
        "retryAfterSeconds: expected a string, got int"
    ]
    conflict = {"Error": {"Code": "ConflictException"}, "code": "OTHER"}
    assert validate_error(conflict) == [
        "code: body code 'OTHER' differs from the exception name 'ConflictException'"
    ]
    assert validate_error({"Error": {"Code": "Nope"}}) == ["Error.Code 'Nope' is not a modeled DRS error"]
