"""What the runner needs of the SSM, Lambda and EC2 gateways for automation steps (``aws.ssm``,
``aws.lambda_fn``, ``aws.ec2``), and how it reads a Lambda function's answer: shared by the steps' calls
(``automation_calls``) and a health check's rounds (``health_reach``), so neither imports the other."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from drs_desktop.domain.automation_calls import LambdaResult, SsmInvocation
from drs_desktop.domain.ec2 import InstanceView


class SsmCalls(Protocol):
    """What the runner needs of ``aws.ssm.SsmGateway``."""

    def send_command(
        self,
        comment: str,
        document: str,
        instance_ids: Sequence[str],
        parameters: Mapping[str, Sequence[str]],
        timeout: int,
        document_version: str | None = None,
    ) -> str: ...

    def find_commands_by_comment(self, comment: str, invoked_after: datetime) -> list[str]: ...

    def invocations(self, command_id: str) -> list[SsmInvocation]: ...

    def agent_online(self, instance_ids: Sequence[str]) -> dict[str, bool]: ...


class LambdaCalls(Protocol):
    """What the runner needs of ``aws.lambda_fn.LambdaGateway``."""

    def invoke(self, function: str, payload: Mapping[str, Any], *, timeout: float) -> LambdaResult: ...


class InstanceReads(Protocol):
    def instances(self, ids: Sequence[str]) -> list[InstanceView]: ...


def judge_lambda(answer: LambdaResult) -> tuple[bool, str]:
    """A function that raised, answered an HTTP error, or answered ``{"ok": false}`` failed."""
    if answer.function_error:
        message = ""
        try:
            data = json.loads(answer.body)
            message = str(data.get("errorMessage", "")) if isinstance(data, dict) else ""
        except ValueError:
            pass
        return False, f"the function raised ({answer.function_error})" + (f": {message}" if message else "")
    if answer.status_code >= 300:
        return False, f"Lambda answered HTTP {answer.status_code}"
    try:
        data = json.loads(answer.body) if answer.body else None
    except ValueError:
        return True, "answered (not JSON)"
    if isinstance(data, dict) and data.get("ok") is False:
        why = next((str(data[k]) for k in ("reason", "message", "detail", "error") if data.get(k)), "")
        return False, "the function answered ok: false" + (f": {why}" if why else "")
    return True, "answered"
