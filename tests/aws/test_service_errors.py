"""One mapping for the services beside DRS: EC2's, SSM's and Lambda's errors each sorted by their own codes,
named by their own service, with what ``map_error`` knows (throttling, retry-after) kept."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from drs_desktop.aws.automation_client import AnswerUnreadable, map_service_error
from drs_desktop.aws.ec2 import map_ec2_error
from drs_desktop.aws.ec2_parse import Ec2ParseError
from drs_desktop.aws.errors import log_failure
from drs_desktop.aws.lambda_fn import LambdaGateway
from drs_desktop.aws.ssm import SsmGateway
from drs_desktop.domain.drs.errors import (
    DrsError,
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsRejected,
    DrsThrottled,
    DrsUnavailable,
)


def client_error(code: str, status: int = 400, retry_after: str | None = None) -> ClientError:
    headers = {"retry-after": retry_after} if retry_after else {}
    response = {
        "Error": {"Code": code, "Message": f"{code} says no"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1", "HTTPHeaders": headers},
    }
    return ClientError(response, "Op")


def ssm(exc: BaseException, *, mutating: bool = False) -> DrsError:
    return map_service_error(exc, "SSM", "SendCommand", mutating=mutating)


def ec2(exc: BaseException, *, mutating: bool = False) -> DrsError:
    return map_ec2_error(exc, "DescribeSubnets", mutating=mutating)


@pytest.mark.parametrize(
    ("mapped", "cls", "code"),
    [
        (lambda: ssm(client_error("InvalidDocument")), DrsNotFound, "InvalidDocument"),
        (
            lambda: ssm(client_error("ResourceNotFoundException", 404)),
            DrsNotFound,
            "ResourceNotFoundException",
        ),
        (lambda: ssm(client_error("InvalidParameters")), DrsRejected, "InvalidParameters"),
        (lambda: ec2(client_error("InvalidSubnetID.NotFound")), DrsNotFound, "InvalidSubnetID.NotFound"),
        (lambda: ec2(client_error("InvalidParameterValue")), DrsRejected, "InvalidParameterValue"),
        (lambda: ec2(client_error("InvalidVpcID.Malformed")), DrsRejected, "InvalidVpcID.Malformed"),
    ],
    ids=[
        "ssm-document",
        "lambda-function",
        "ssm-parameters",
        "ec2-not-found",
        "ec2-rejected",
        "ec2-malformed",
    ],
)
def test_each_service_sorts_its_own_codes(mapped: object, cls: type[DrsError], code: str) -> None:
    error = mapped()  # type: ignore[operator]
    assert type(error) is cls and error.code == code
    assert error.transient is False and error.definite and error.request_id == "req-1"


def test_the_service_is_named_and_throttling_keeps_its_retry_after() -> None:
    throttled = ec2(client_error("RequestLimitExceeded", 503, retry_after="7"))
    assert isinstance(throttled, DrsThrottled) and throttled.retry_after == 7.0
    unreachable = ec2(ConnectionRefusedError("refused"))
    assert isinstance(unreachable, DrsUnavailable) and unreachable.message.startswith(
        "EC2 could not be reached"
    )
    lost = ssm(ConnectionResetError("reset by peer"), mutating=True)
    assert isinstance(lost, DrsOutcomeUnknown) and "SSM" in lost.message and "DRS" not in lost.message


@pytest.mark.parametrize(
    ("mapped", "service"),
    [
        (lambda mutating: ssm(AnswerUnreadable("no Command"), mutating=mutating), "SSM"),
        (lambda mutating: ec2(Ec2ParseError("no Subnets"), mutating=mutating), "EC2"),
    ],
    ids=["ssm", "ec2"],
)
def test_an_unreadable_answer_is_unknown_after_a_write_and_unavailable_after_a_read(
    mapped: object, service: str
) -> None:
    write = mapped(True)  # type: ignore[operator]
    read = mapped(False)  # type: ignore[operator]
    assert isinstance(write, DrsOutcomeUnknown) and isinstance(read, DrsUnavailable)
    assert write.code == read.code == "MalformedResponse"
    assert read.message.startswith(f"{service}'s answer could not be read: no ")


def test_a_failure_is_a_warning_unless_a_read_will_pass_by_itself(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("drs_desktop.aws.test")
    throttled = ec2(client_error("RequestLimitExceeded", 503))
    with caplog.at_level(logging.INFO, logger=log.name):
        log_failure(log, "EC2", "DescribeSubnets", throttled, mutating=False)
        log_failure(log, "EC2", "CreateLaunchTemplateVersion", throttled, mutating=True)
        log_failure(log, "SSM", "GetDocument", ssm(client_error("InvalidDocument")), mutating=False)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "EC2 DescribeSubnets failed: RequestLimitExceeded (DrsThrottled)"),
        (logging.WARNING, "EC2 CreateLaunchTemplateVersion failed: RequestLimitExceeded (DrsThrottled)"),
        (logging.WARNING, "SSM GetDocument failed: InvalidDocument (DrsNotFound)"),
    ]


def test_the_gateways_take_the_same_settings_and_refuse_others() -> None:
    ssm_gateway = SsmGateway(lambda: pytest.fail("resolved early"), page_size=5, read_timeout=9.0)
    lambda_gateway = LambdaGateway(lambda: pytest.fail("resolved early"), read_timeout=9.0, max_attempts=0)
    assert ssm_gateway._clients.service == "ssm" and lambda_gateway._clients.service == "lambda"
    assert ssm_gateway._clients._read_timeout == lambda_gateway._clients._read_timeout == 9.0
    assert lambda_gateway._clients._max_attempts == 1  # at least the one attempt
    with pytest.raises(TypeError, match="page_size"):
        LambdaGateway(lambda: pytest.fail("resolved early"), page_size=5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"1\.\.50"):
        SsmGateway(lambda: pytest.fail("resolved early"), page_size=51)
