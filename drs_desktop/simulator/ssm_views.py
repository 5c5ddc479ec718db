"""SSM's answers built from the simulator's commands and invocations (``ssm``): the views, statuses
and pages, kept apart so the world half stays about what happens on the clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.simulator.json_model import InputError

GET_OUTPUT_LIMIT = 24_000  # GetCommandInvocation: the first 24,000 characters of stdout
LIST_OUTPUT_LIMIT = 2_500  # ListCommandInvocations' CommandPlugins[].Output
DELIVERY_SECONDS = 1.0  # Pending -> InProgress for an online agent
DEFAULT_EXECUTION_TIMEOUT = 3600
DEFAULT_DELIVERY_TIMEOUT = 3600
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
PLUGIN = {"AWS-RunShellScript": "aws:runShellScript", "AWS-RunPowerShellScript": "aws:runPowerShellScript"}


@dataclass
class Invocation:
    instance_id: str
    platform: str
    status: str = "Pending"
    details: str = "Pending"
    response_code: int = -1
    started_ts: float | None = None
    ended_ts: float | None = None
    stdout: str = ""
    stderr: str = ""


@dataclass
class Command:
    command_id: str
    document: str
    comment: str
    parameters: dict[str, list[str]]
    requested_ts: float
    timeout_seconds: int
    execution_timeout: int
    invocations: dict[str, Invocation] = field(default_factory=dict)


def command_status(command: Command) -> tuple[str, str]:
    """The command's status from its invocations' (SSM's CommandStatus and its details)."""
    statuses = [i.status for i in command.invocations.values()]
    details = {i.details for i in command.invocations.values()}
    if all(s == "Pending" for s in statuses):
        return "Pending", "Pending"
    if any(s not in TERMINAL for s in statuses):
        return "InProgress", "InProgress"
    if all(s == "Success" for s in statuses):
        return "Success", "Success"
    if details & {"Failed", "InvalidPlatform"}:
        return "Failed", "Failed"
    if details <= {"Undeliverable", "Success"}:
        return "Failed", "Undeliverable"
    if "ExecutionTimedOut" in details:
        return "TimedOut", "Execution Timed Out"
    return "TimedOut", "Delivery Timed Out"


def command_view(command: Command) -> dict[str, Any]:
    invocations = list(command.invocations.values())
    status, details = command_status(command)
    return {
        "CommandId": command.command_id,
        "DocumentName": command.document,
        "DocumentVersion": "$DEFAULT",
        "Comment": command.comment,
        "ExpiresAfter": command.requested_ts + command.timeout_seconds + command.execution_timeout,
        "Parameters": {k: list(v) for k, v in command.parameters.items()},
        "InstanceIds": list(command.invocations),
        "Targets": [],
        "RequestedDateTime": command.requested_ts,
        "Status": status,
        "StatusDetails": details,
        "MaxConcurrency": "50",
        "MaxErrors": "0",
        "TargetCount": len(invocations),
        "CompletedCount": sum(1 for i in invocations if i.status in TERMINAL),
        "ErrorCount": sum(
            1 for i in invocations if i.details in ("Failed", "ExecutionTimedOut", "InvalidPlatform")
        ),
        "DeliveryTimedOutCount": sum(1 for i in invocations if i.details == "DeliveryTimedOut"),
        "TimeoutSeconds": command.timeout_seconds,
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
    }


def invocation_view(command: Command, inv: Invocation, details: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "CommandId": command.command_id,
        "InstanceId": inv.instance_id,
        "InstanceName": "",
        "Comment": command.comment,
        "DocumentName": command.document,
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": command.requested_ts,
        "Status": inv.status,
        "StatusDetails": inv.details,
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [],
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
    }
    if details:
        plugin: dict[str, Any] = {
            "Name": PLUGIN.get(command.document, "aws:runShellScript"),
            "Status": inv.status,
            "StatusDetails": inv.details,
            "ResponseCode": inv.response_code,
            "Output": inv.stdout[:LIST_OUTPUT_LIMIT],
        }
        if inv.started_ts is not None:
            plugin["ResponseStartDateTime"] = inv.started_ts
        if inv.ended_ts is not None:
            plugin["ResponseFinishDateTime"] = inv.ended_ts
        view["CommandPlugins"] = [plugin]
    return view


def page(items: list[Any], params: dict[str, Any], operation: str) -> tuple[list[Any], str | None]:
    size = params.get("MaxResults") or 50
    token = params.get("NextToken")
    start = 0
    if token:
        prefix = hashlib.sha256(operation.encode()).hexdigest()[:8]
        if not token.startswith(prefix + ":") or not token[9:].isdigit():
            raise InputError("InvalidNextToken", "The specified token is not valid")
        start = int(token[9:])
    end = start + size
    following = f"{hashlib.sha256(operation.encode()).hexdigest()[:8]}:{end}" if end < len(items) else None
    return items[start:end], following
