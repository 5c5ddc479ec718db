"""``LambdaGateway``: a Lambda function invoked for an automation step, and whether it exists.

Invoke has no idempotency token: it goes out once (``automation_client``: one attempt, a read timeout
above the step's timeout, so a slow function's answer is waited for). A dropped connection, a read
timeout or a 5xx after sending is ``DrsOutcomeUnknown``: the function may have run, so the engine holds
the run for the operator (retry, mark done, or fail) rather than invoking it again. A function that
raised or timed out is an answer (``LambdaResult.function_error``), not an exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from drs_desktop.aws.automation_client import AnswerUnreadable, ServiceGateway
from drs_desktop.domain.automation_calls import LambdaResult
from drs_desktop.domain.drs.errors import DrsNotFound

logger = logging.getLogger(__name__)

#: Lambda's limit on a synchronous answer; more is not read.
MAX_ANSWER_BYTES = 6 * 1024 * 1024


class LambdaGateway(ServiceGateway):
    """Lambda of one ``AwsTarget`` (settings: ``automation_client.ClientSettings``)."""

    service = "lambda"

    def invoke(self, function: str, payload: Mapping[str, Any], *, timeout: float) -> LambdaResult:
        """Invoke ``function`` (name or ARN) once, synchronously, with ``payload`` as JSON; ``timeout``
        is the step's (seconds): the answer is waited for that long and a margin more."""
        try:
            body = json.dumps(payload, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the payload is not JSON: {exc}") from None
        client = self._clients.sender(timeout)

        def call() -> LambdaResult:
            answer = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=body)
            status = answer.get("StatusCode")
            if isinstance(status, bool) or not isinstance(status, int):
                raise AnswerUnreadable(f"StatusCode is {status!r}")
            stream = answer.get("Payload")
            raw = stream.read(MAX_ANSWER_BYTES + 1) if stream is not None else b""
            if len(raw) > MAX_ANSWER_BYTES:
                raise AnswerUnreadable("the answer is larger than Lambda's 6 MB")
            error = answer.get("FunctionError")
            if error is not None and not isinstance(error, str):
                raise AnswerUnreadable(f"FunctionError is {error!r}")
            return LambdaResult(status, error or None, raw.decode("utf-8", errors="replace"))

        result = self._clients.call("Invoke", call, mutating=True)
        logger.info(
            "Lambda %s answered %d%s",
            function,
            result.status_code,
            f" ({result.function_error})" if result.function_error else "",
        )
        return result

    def function_exists(self, function: str) -> bool:
        """Whether the caller can see ``function``; one it may not read raises DrsAccessDenied."""
        client = self._clients.reader()
        try:
            self._clients.call(
                "GetFunctionConfiguration", lambda: client.get_function_configuration(FunctionName=function)
            )
        except DrsNotFound:
            return False
        return True
