"""Uninitialized-account mode: everything but InitializeService answers UninitializedAccountException."""

from __future__ import annotations

import pytest

from drs_desktop.simulator.backend import DrsBackend

from .helpers import error_of


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("DescribeSourceServers", {}),
        ("DescribeJobs", {}),
        ("StartRecovery", {"sourceServers": [{"sourceServerID": "s-00000000000000000"}]}),
        ("ListRecoveryPlans", {}),
        (
            "ListTagsForResource",
            {"resourceArn": "arn:aws:drs:us-east-1:123456789012:job/drsjob-00000000000000000"},
        ),
    ],
)
def test_uninitialized_account_refuses_everything(operation: str, params: dict[str, object]) -> None:
    backend = DrsBackend({"initialized": False, "fleet": {"generated": {"count": 3}}})
    err = error_of(backend, operation, params)
    assert err.code == "UninitializedAccountException"


def test_initialize_service_opens_the_account() -> None:
    backend = DrsBackend({"initialized": False, "fleet": {"generated": {"count": 3}}})
    assert backend.handle("InitializeService", {}) == {}
    assert len(backend.handle("DescribeSourceServers", {})["items"]) == 3
    backend.set_initialized(False)
    assert error_of(backend, "DescribeJobs", {}).code == "UninitializedAccountException"


def test_unsupported_operations_are_named(small: DrsBackend) -> None:
    err = error_of(small, "StartFailbackLaunch", {"recoveryInstanceIDs": ["i-0123456789abcdef0"]})
    assert err.code == "ValidationException" and err.members["reason"] == "unknownOperation"
    assert "StartFailbackLaunch" in err.message
    assert "StartRecovery" in small.supported_operations()


def test_caller_identity(small: DrsBackend) -> None:
    identity = small.caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"].startswith("arn:aws:iam::123456789012:")
    assert identity["UserId"].startswith("AIDA")
