"""What SSM Run Command and Lambda answered an automation step, as the app reads it (``aws.ssm``,
``aws.lambda_fn``).

Stdlib only, frozen values: the engine and the evidence take these, never a botocore answer. SSM's own
words are kept (``Success``, ``TimedOut``, details such as ``ExecutionTimedOut`` or ``Undeliverable``)
so the evidence shows what an operator would read in the console.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

#: SSM's terminal invocation statuses: nothing changes after one of these.
TERMINAL_STATUSES = frozenset({"Success", "Failed", "TimedOut", "Cancelled"})
#: Characters of output the evidence keeps by default (the end of what SSM returned).
DEFAULT_TAIL_CHARS = 4000


def tail(text: str, chars: int = DEFAULT_TAIL_CHARS) -> str:
    """The last ``chars`` characters of ``text`` (the end of a run says how it ended)."""
    if chars <= 0:
        return ""
    return text if len(text) <= chars else text[-chars:]


@dataclass(frozen=True)
class SsmInvocation:
    """One instance's run of an SSM command. ``response_code`` is -1 until the run ends (and for runs
    that never ran: Undeliverable, DeliveryTimedOut); ``output``/``error_output`` are what SSM returned
    (SSM keeps the first 24,000 characters of stdout)."""

    command_id: str
    instance_id: str
    status: str  # Pending, InProgress, Delayed, Success, Failed, TimedOut, Cancelled, Cancelling
    details: (
        str  # SSM's StatusDetails: Success, Failed, ExecutionTimedOut, DeliveryTimedOut, Undeliverable...
    )
    response_code: int = -1
    output: str = ""
    error_output: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "Success"

    def output_tail(self, chars: int = DEFAULT_TAIL_CHARS) -> str:
        return tail(self.output, chars)


@dataclass(frozen=True)
class LambdaResult:
    """A RequestResponse invocation's answer. ``function_error`` is Lambda's ``X-Amz-Function-Error``
    (``Unhandled``: the function raised or timed out); ``body`` the answer as text; ``payload`` the body
    decoded as JSON (None when it is not JSON)."""

    status_code: int
    function_error: str | None
    body: str

    @property
    def payload(self) -> object | None:
        try:
            value: object = json.loads(self.body)
        except ValueError:
            return None
        return value

    @property
    def ok(self) -> bool:
        """No function error, and not an answer that says ``"ok": false``."""
        if self.function_error:
            return False
        payload = self.payload
        return not (isinstance(payload, dict) and payload.get("ok") is False)

    @property
    def error_message(self) -> str:
        """The function's ``errorMessage`` when it failed, else ''."""
        payload = self.payload
        if self.function_error and isinstance(payload, dict):
            return str(payload.get("errorMessage") or "")
        return ""
