"""An endpoint URL never carries a secret into the application: refused with one line that does not
repeat it (a user name, a password, a query string or a fragment), before any session is built."""

from __future__ import annotations

import pytest

from drs_desktop.aws.session import (
    AwsTarget,
    EndpointUrlError,
    check_endpoint_url,
    redact_endpoint_url,
)
from drs_desktop.domain.errors import DrsDesktopError

SECRET = "s3cr3t-P4ss"


@pytest.mark.parametrize(
    ("url", "shown", "why"),
    [
        (f"https://alice:{SECRET}@drs.example.com", "https://***@drs.example.com", "user name or password"),
        (f"https://{SECRET}@drs.example.com:8443/x", "https://***@drs.example.com:8443/x", "user name"),
        (
            f"https://alice:{SECRET}/x@drs.example.com",
            "https://***@drs.example.com",
            "user name",
        ),  # "/" in it
        (f"https://alice:a?{SECRET}@drs.example.com", "https://***@drs.example.com", "user name"),
        (f"https://drs.example.com/?X-Amz-Security-Token={SECRET}", "https://drs.example.com/?***", "query"),
        (f"https://drs.example.com/#{SECRET}", "https://drs.example.com/#***", "fragment"),
        (f"http://127.0.0.1:8080?token={SECRET}", "http://127.0.0.1:8080?***", "query"),
    ],
)
def test_secrets_in_an_endpoint_are_refused_without_being_repeated(url: str, shown: str, why: str) -> None:
    assert redact_endpoint_url(url) == shown
    with pytest.raises(EndpointUrlError) as caught:
        check_endpoint_url(url)
    message = str(caught.value)
    assert message.startswith(f"endpoint {shown} must not carry a ") and why in message
    assert SECRET not in message and "\n" not in message
    assert isinstance(caught.value, DrsDesktopError)  # the CLI and the GUI show it as one line
    with pytest.raises(EndpointUrlError) as again:
        AwsTarget(profile=None, region="us-east-1", endpoint_url=url)
    assert SECRET not in str(again.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4567",
        "http://localhost:1",
        "http://[::1]:9000",
        "https://vpce-1.drs.eu-west-1.vpce.amazonaws.com",
        "https://drs-fips.us-east-1.amazonaws.com/",
    ],
)
def test_plain_endpoints_are_accepted_unchanged(url: str) -> None:
    assert check_endpoint_url(url) == url
    assert AwsTarget(profile=None, region="us-east-1", endpoint_url=url).endpoint_url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("drs.example.com", "endpoint drs.example.com is not an http:// or https:// URL with a host"),
        (
            "ftp://drs.example.com",
            "endpoint ftp://drs.example.com is not an http:// or https:// URL with a host",
        ),
        ("http://127.0.0.1:port", "endpoint http://127.0.0.1:port is not a valid URL"),
    ],
)
def test_an_endpoint_that_is_not_a_url_is_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(EndpointUrlError) as caught:
        check_endpoint_url(url)
    assert str(caught.value) == message
