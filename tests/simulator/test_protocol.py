"""The REST-JSON protocol through the real boto3 client: typed errors, validation, encodings, pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import Shape

from drs_desktop.simulator.conformance import validate_error, validate_output
from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.model import load_model
from tests.simulator.fake_world import FakeWorld, arn, job_id, server_id

JOB_ARN = arn("job", job_id(1))


def _sample(name: str, shape: Shape) -> Any:
    """A value for an error member, derived from the model so every modeled member is exercised."""
    if shape.type_name in ("integer", "long"):
        return 3
    if shape.type_name == "list":
        return [{"name": "sourceServers", "message": "too many"}]
    if shape.enum:
        return shape.enum[-1]
    if name == "retryAfterSeconds":
        return "7"
    return f"{name}-value"


ERROR_CODES = sorted(load_model().error_codes)


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_modeled_error_arrives_as_its_typed_exception(code: str, world: FakeWorld, drs: Any) -> None:
    shape = load_model().error_shape(code)
    assert shape is not None
    members = {n: _sample(n, m) for n, m in shape.members.items() if n not in ("message", "code")}
    world.errors["DescribeJobs"] = SimulatorError(code, f"{code} happened", **members)
    exc_type = getattr(drs.exceptions, code)
    with pytest.raises(exc_type) as info:
        drs.describe_jobs()
    response = info.value.response
    assert response["Error"] == {"Code": code, "Message": f"{code} happened"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == shape.metadata["error"]["httpStatusCode"]
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == code
    assert response["ResponseMetadata"]["RequestId"] == headers["x-amzn-requestid"]
    for name, value in members.items():
        assert response[name] == value, name
    if "code" in shape.members:
        assert response["code"] == code  # the sharp edge: never a different body code
    assert validate_error(response) == []


def test_retry_after_types_follow_the_model(world: FakeWorld, drs: Any) -> None:
    world.errors["DescribeJobs"] = SimulatorError("ThrottlingException", "slow down", retryAfterSeconds="9")
    with pytest.raises(drs.exceptions.ThrottlingException) as throttled:
        drs.describe_jobs()
    assert throttled.value.response["retryAfterSeconds"] == "9"
    assert throttled.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "9"
    world.errors["DescribeJobs"] = SimulatorError("InternalServerException", "oops", retryAfterSeconds=4)
    with pytest.raises(drs.exceptions.InternalServerException) as internal:
        drs.describe_jobs()
    assert internal.value.response["retryAfterSeconds"] == 4


def test_quota_error_is_402_and_not_retried(world: FakeWorld, drs: Any) -> None:
    world.errors["StartRecovery"] = SimulatorError(
        "ServiceQuotaExceededException", "Too many servers", quotaCode="L-B827C881", serviceCode="drs"
    )
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as info:
        drs.start_recovery(sourceServers=[{"sourceServerID": server_id(1)}], isDrill=True)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert info.value.response["quotaCode"] == "L-B827C881"


def test_a_body_code_from_the_backend_never_overrides_the_exception_name(world: FakeWorld, drs: Any) -> None:
    error = SimulatorError("ConflictException", "busy", resourceId=server_id(1))
    error.members["code"] = "SOME_CODE"
    world.errors["DeleteJob"] = error
    with pytest.raises(drs.exceptions.ConflictException) as info:
        drs.delete_job(jobID=job_id(1))
    assert info.value.response["code"] == "ConflictException"


def test_unmodeled_error_code_is_a_plain_client_error(world: FakeWorld, drs: Any) -> None:
    world.errors["DescribeJobs"] = SimulatorError("SomethingElse", "odd", status=418)
    with pytest.raises(ClientError) as info:
        drs.describe_jobs()
    assert type(info.value) is ClientError
    assert info.value.response["Error"]["Code"] == "SomethingElse"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 418


def test_backend_crash_is_a_500_without_internals(world: FakeWorld, drs: Any, caplog: Any) -> None:
    world.crash.add("DescribeJobs")
    with pytest.raises(drs.exceptions.InternalServerException) as info:
        drs.describe_jobs()
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "secret-internal-detail" not in str(response)
    assert "Traceback" not in str(response)
    assert "secret-internal-detail" in caplog.text  # the traceback went to the log


def test_output_member_unknown_to_the_shape_is_a_500_in_strict_mode(world: FakeWorld, drs: Any) -> None:
    world.results["DescribeJobs"] = {"items": [], "bogus": 1}
    with pytest.raises(drs.exceptions.InternalServerException):
        drs.describe_jobs()


def test_output_of_the_wrong_type_is_a_500(world: FakeWorld, drs: Any) -> None:
    world.results["DescribeJobs"] = {"items": [{"jobID": 12}]}
    with pytest.raises(drs.exceptions.InternalServerException):
        drs.describe_jobs()


def test_success_status_codes_come_from_the_model(world: FakeWorld, drs: Any) -> None:
    started = drs.start_recovery(
        sourceServers=[{"sourceServerID": server_id(1)}], isDrill=True, tags={"run": "1"}
    )
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert validate_output("StartRecovery", started) == []
    deleted = drs.delete_job(jobID=started["job"]["jobID"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert drs.initialize_service()["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_tags_travel_in_a_percent_encoded_uri_and_repeated_query(world: FakeWorld, drs: Any) -> None:
    drs.tag_resource(resourceArn=JOB_ARN, tags={"a": "1", "b c": "2", "d": "3"})
    drs.untag_resource(resourceArn=JOB_ARN, tagKeys=["a", "b c"])
    listed = drs.list_tags_for_resource(resourceArn=JOB_ARN)
    assert listed["tags"] == {"d": "3"}
    assert world.calls[1] == ("UntagResource", {"resourceArn": JOB_ARN, "tagKeys": ["a", "b c"]})


def test_timestamp_shapes_are_sent_in_their_format_and_parse_to_datetime(world: FakeWorld, drs: Any) -> None:
    when = dt.datetime(2024, 9, 16, 4, 42, 46, 324841, tzinfo=dt.UTC)
    world.results["DescribeSourceNetworks"] = {
        "items": [
            {
                "sourceNetworkID": "sn-0123456789abcdef0",
                "launchedVpcID": "vpc-0123abcd",
                "lastRecovery": {"apiCallDateTime": when, "jobID": job_id(1)},
            }
        ]
    }
    response = drs.describe_source_networks()
    parsed = response["items"][0]["lastRecovery"]["apiCallDateTime"]
    assert isinstance(parsed, dt.datetime)
    assert parsed == when.replace(microsecond=324000)  # ISO 8601 with milliseconds, as AWS sends
    assert validate_output("DescribeSourceNetworks", response) == []


# --- server-side input validation (what botocore does not check) -------------------------------------


def _validation(drs_raw: Any, call: str, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(drs_raw.exceptions.ValidationException) as info:
        getattr(drs_raw, call)(**kwargs)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert validate_error(response) == []
    return response


def test_missing_required_member(drs_raw: Any) -> None:
    response = _validation(drs_raw, "start_recovery", isDrill=True)
    assert response["reason"] == "fieldValidationFailed"
    assert response["fieldList"] == [{"name": "sourceServers", "message": "Member must not be null"}]


def test_pattern_is_enforced_anchored(drs_raw: Any) -> None:
    response = _validation(drs_raw, "describe_job_log_items", jobID="xdrsjob-0123456789abcdef")
    assert response["fieldList"][0]["name"] == "jobID"
    assert "regular expression" in response["fieldList"][0]["message"]


def test_enum_and_nested_member_paths(drs_raw: Any) -> None:
    response = _validation(
        drs_raw,
        "update_launch_configuration",
        sourceServerID=server_id(1),
        launchDisposition="RUNNING",
        licensing={"osByol": True},
    )
    assert response["fieldList"] == [
        {"name": "launchDisposition", "message": "Member must satisfy enum value set: [STOPPED, STARTED]"}
    ]


def test_list_too_long_and_every_violation_reported(drs_raw: Any) -> None:
    servers = [{"sourceServerID": server_id(n)} for n in range(201)] + [{"sourceServerID": "s-bad"}]
    response = _validation(drs_raw, "start_recovery", sourceServers=servers)
    names = [f["name"] for f in response["fieldList"]]
    assert names == ["sourceServers", "sourceServers[201].sourceServerID"]
    assert "2 validation errors detected" in response["Error"]["Message"]


def test_max_results_above_the_model_maximum(drs_raw: Any) -> None:
    response = _validation(drs_raw, "list_launch_actions", resourceId=server_id(1), maxResults=5000)
    assert response["fieldList"][0]["name"] == "maxResults"


def test_wrong_type_is_cannot_parse(drs_raw: Any) -> None:
    response = _validation(drs_raw, "describe_jobs", maxResults="ten")
    assert response["reason"] == "cannotParse"
    assert response["fieldList"][0]["name"] == "maxResults"


def test_union_needs_exactly_one_member(drs_raw: Any) -> None:
    plan_arn = "arn:aws:drs:us-east-1:123456789012:recovery-plan/rp-1"
    response = _validation(
        drs_raw,
        "create_recovery_plan_step",
        recoveryPlanArn=plan_arn,
        stepName="wave 1",
        configuration={},
    )
    assert response["fieldList"][0]["name"] == "configuration"


def test_sensitive_tag_values_are_not_echoed(drs_raw: Any) -> None:
    response = _validation(drs_raw, "tag_resource", resourceArn=JOB_ARN, tags={"k": "s3cr3t" * 100})
    assert "s3cr3t" not in response["Error"]["Message"]
    assert response["fieldList"][0]["name"] == "tags.k"


def test_botocore_still_validates_minimums_client_side(drs: Any) -> None:
    with pytest.raises(ParamValidationError):
        drs.start_recovery(sourceServers=[])


# --- pagination ----------------------------------------------------------------------------------------


def test_paginator_collects_every_item_once(world: FakeWorld, drs: Any) -> None:
    pages = list(drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 7}))
    ids = [s["sourceServerID"] for page in pages for s in page["items"]]
    assert len(pages) == 4
    assert ids == [s["sourceServerID"] for s in world.servers]
    tokens = [p["nextToken"] for p in pages if p.get("nextToken")]
    assert len(tokens) == len(set(tokens)) == 3
    assert all(JOB_ARN not in t and "offset" not in t for t in tokens)
    for page in pages:
        assert validate_output("DescribeSourceServers", page) == []


def test_forged_or_foreign_token_is_rejected(world: FakeWorld, drs: Any) -> None:
    first = drs.describe_source_servers(maxResults=5)
    with pytest.raises(drs.exceptions.ValidationException) as forged:
        drs.describe_source_servers(nextToken="bm90LWEtdG9rZW4=")
    assert forged.value.response["fieldList"][0]["name"] == "nextToken"
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(
            nextToken=first["nextToken"], filters={"sourceServerIDs": [server_id(1), server_id(2)]}
        )
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_jobs(nextToken=first["nextToken"])
