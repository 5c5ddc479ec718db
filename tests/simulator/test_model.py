"""The router built from botocore's DRS model."""

from __future__ import annotations

from urllib.parse import quote

from drs_desktop.simulator.model import (
    Segment,
    _match_segments,
    _parse_request_uri,
    load_model,
    operation_names,
)

JOB_ARN = "arn:aws:drs:us-east-1:123456789012:job/drsjob-0123456789abcdef0"


def test_model_is_loaded_once_and_lists_every_operation() -> None:
    model = load_model()
    assert load_model() is model
    names = operation_names()
    assert len(names) == len(model.service_model.operation_names) >= 50
    for expected in ("StartRecovery", "DescribeJobs", "TagResource", "CreateRecoveryPlan"):
        assert expected in names


def test_every_operation_routes_back_to_itself() -> None:
    model = load_model()
    for name in model.operation_names:
        http = model.operation(name).http
        path = http["requestUri"].split("?")[0].replace("{resourceArn}", quote(JOB_ARN, safe=""))
        match = model.match(http["method"], path)
        assert match.operation == name, (name, path)


def test_percent_encoded_arn_label_is_decoded() -> None:
    match = load_model().match("DELETE", "/tags/" + quote(JOB_ARN, safe=""))
    assert match.operation == "UntagResource"
    assert match.labels == {"resourceArn": JOB_ARN}


def test_unencoded_slash_in_a_plain_label_does_not_route() -> None:
    match = load_model().match("GET", "/tags/" + JOB_ARN)
    assert match.operation is None
    assert match.allowed_methods == frozenset()


def test_wrong_method_on_a_known_path_reports_the_allowed_methods() -> None:
    model = load_model()
    assert model.match("GET", "/DescribeJobs").allowed_methods == {"POST"}
    assert model.match("PUT", "/tags/abc").allowed_methods == {"GET", "POST", "DELETE"}
    assert model.match("POST", "/NoSuchOperation").operation is None
    assert model.match("POST", "/NoSuchOperation").allowed_methods == frozenset()


def test_empty_label_does_not_match() -> None:
    assert load_model().match("GET", "/tags/").operation is None


def test_greedy_label_takes_the_remaining_segments() -> None:
    segments, _ = _parse_request_uri("/objects/{Bucket}/{Key+}/meta")
    assert segments[2] == Segment(label="Key", greedy=True)
    labels = _match_segments(segments, ["objects", "b", "a%20b", "c", "meta"])
    assert labels == {"Bucket": "b", "Key": "a b/c"}
    assert _match_segments(segments, ["objects", "b", "meta"]) is None


def test_error_shapes_are_looked_up_service_wide() -> None:
    model = load_model()
    quota = model.error_shape("ServiceQuotaExceededException")
    assert quota is not None
    assert quota.metadata["error"]["httpStatusCode"] == 402
    assert model.error_shape("NoSuchError") is None
    assert set(model.error_codes) >= {"ThrottlingException", "ValidationException", "ConflictException"}


def test_bad_escapes_never_raise() -> None:
    model = load_model()
    # "%ZZ" is no escape, so it stays literal (validation then rejects it as an ARN)...
    assert model.match("GET", "/tags/%ZZ").labels == {"resourceArn": "%ZZ"}
    # ...while an escape that decodes to invalid UTF-8 routes nowhere.
    assert model.match("GET", "/tags/%C3%28").operation is None
