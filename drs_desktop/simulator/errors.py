"""Constructors for the modeled DRS errors the world raises, with DRS's quota codes (drs_api.md §7)."""

from __future__ import annotations

from typing import Any

from drs_desktop.simulator.contract import SimulatorError, validation_error

QUOTA_CONCURRENT_JOBS = "L-D88FAC3A"
QUOTA_SERVERS_PER_JOB = "L-B827C881"
QUOTA_SERVERS_IN_ALL_JOBS = "L-05AFA8C6"
QUOTA_REPLICATING_SERVERS = "L-C1D14A2B"
QUOTA_LAUNCH_ACTIONS = "L-0588D03B"
QUOTA_SOURCE_SERVERS = "L-E28BE5E0"
#: Not published by AWS; the simulator's own codes for its native-plan limits.
QUOTA_RECOVERY_PLANS = "L-SIM00001"
QUOTA_PLAN_STEPS = "L-SIM00002"

SERVER_BUSY = "One or more of the Source Servers included in API call are currently being processed by a Job"


def not_found(resource_id: str, resource_type: str, message: str | None = None) -> SimulatorError:
    return SimulatorError(
        "ResourceNotFoundException",
        message or f"{resource_type} {resource_id} not found",
        resourceId=resource_id,
        resourceType=resource_type,
    )


def conflict(
    message: str, resource_id: str | None = None, resource_type: str | None = None
) -> SimulatorError:
    members: dict[str, Any] = {}
    if resource_id is not None:
        members["resourceId"] = resource_id
    if resource_type is not None:
        members["resourceType"] = resource_type
    return SimulatorError("ConflictException", message, **members)


def quota_exceeded(quota_code: str, message: str, resource_type: str | None = None) -> SimulatorError:
    members: dict[str, Any] = {"serviceCode": "drs", "quotaCode": quota_code}
    if resource_type is not None:
        members["resourceType"] = resource_type
    return SimulatorError("ServiceQuotaExceededException", message, **members)


def invalid(message: str, field: str | None = None) -> SimulatorError:
    if field is None:
        return validation_error(message, reason="other")
    return validation_error(message, reason="fieldValidationFailed", fields=[(field, message)])


def uninitialized() -> SimulatorError:
    return SimulatorError(
        "UninitializedAccountException",
        "Account not initialized for Elastic Disaster Recovery. Call InitializeService first.",
    )


def unsupported(operation: str) -> SimulatorError:
    return validation_error(
        f"{operation} is not supported by the DRS Desktop simulator", reason="unknownOperation"
    )
