"""Lambda in the simulator: Invoke (RequestResponse, Event, DryRun), GetFunction, GetFunctionConfiguration.

Functions are registered by a scenario (``automation.lambda_functions``) or a test (``register``), each
with a behaviour (``automation_spec.FunctionSpec``): echo the payload, answer ``{"ok": true}`` or
``{"ok": false}``, raise (FunctionError ``Unhandled`` with ``errorMessage``), or answer a fixed JSON value;
after ``seconds`` of virtual time. One that runs past its ``timeout`` ends as Lambda ends it: status 200,
FunctionError ``Unhandled``, ``errorType: Sandbox.Timedout``, after exactly the timeout. Every invocation
is recorded (``invocations``) with the payload it received, so a test sees what the app sent.

``invoke`` runs under the backend's lock and returns the answer with the virtual time it is due; the
HTTP server waits for that time outside the lock (``automation_http``), so a slow function holds its
own connection only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from drs_desktop.simulator.automation_spec import FunctionSpec
from drs_desktop.simulator.json_model import InputError
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation request and response limit


@dataclass(frozen=True)
class LambdaInvocation:
    """One invocation as the function received it."""

    function: str
    request_id: str
    invocation_type: str
    payload: Any  # the decoded JSON payload (None when empty)
    at_ts: float


@dataclass(frozen=True)
class LambdaAnswer:
    """What Invoke answers, and when (virtual time) the answer is due."""

    status: int
    body: bytes
    function_error: str | None
    due_ts: float


class LambdaError(InputError):
    """A refusal Lambda answers in REST-JSON (``x-amzn-ErrorType`` and ``{"Type", "message"}``)."""


class LambdaService:
    """The Lambda side of one world; called under the backend's lock."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.functions: dict[str, FunctionSpec] = {f.name: f for f in world.scenario.automation.functions}
        self.invocations: list[LambdaInvocation] = []
        self._invoked = threading.Condition()

    def register(self, function: FunctionSpec) -> None:
        self.functions[function.name] = function

    def wait_invoked(self, count: int, timeout: float = 5.0) -> bool:
        """Block until ``count`` invocations were recorded (a test waits for a slow call to arrive)."""
        with self._invoked:
            return self._invoked.wait_for(lambda: len(self.invocations) >= count, timeout)

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.w.scenario.region}:{self.w.scenario.account_id}:function:{name}"

    def function(self, reference: str, qualifier: str | None = None) -> FunctionSpec:
        """A function by name, partial ARN (``123456789012:function:name``) or ARN; ResourceNotFound."""
        name = reference
        if ":function:" in reference:
            head, _, name = reference.partition(":function:")
            account = head.rsplit(":", 1)[-1]
            if account != self.w.scenario.account_id:
                name = ""
        name, _, version = name.partition(":")
        spec = self.functions.get(name)
        if spec is None or (version or qualifier or "$LATEST") != "$LATEST":
            raise LambdaError(
                "ResourceNotFoundException", f"Function not found: {self.arn(name or reference)}", 404
            )
        if spec.denied:
            raise LambdaError(
                "AccessDeniedException",
                f"User is not authorized to perform: lambda:InvokeFunction on resource: {self.arn(name)}",
                403,
            )
        return spec

    def invoke(
        self, reference: str, payload: bytes, invocation_type: str, qualifier: str | None, request_id: str
    ) -> LambdaAnswer:
        w = self.w
        spec = self.function(reference, qualifier)
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise LambdaError("RequestTooLargeException", "Request must be smaller than 6291456 bytes", 413)
        try:
            event = json.loads(payload) if payload.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise LambdaError(
                "InvalidRequestContentException", "Could not parse request body into json", 400
            ) from None
        kind = invocation_type or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaError("InvalidParameterValueException", f"Unsupported invocation type {kind}", 400)
        if kind == "DryRun":
            return LambdaAnswer(204, b"", None, w.now)
        with self._invoked:
            self.invocations.append(LambdaInvocation(spec.name, request_id, kind, event, w.now))
            self._invoked.notify_all()
        logger.debug("Lambda %s invoked (%s)", spec.name, kind)
        if kind == "Event":
            return LambdaAnswer(202, b"", None, w.now)
        if spec.seconds > spec.timeout:
            message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds"
            body = {"errorType": "Sandbox.Timedout", "errorMessage": message}
            return LambdaAnswer(200, json.dumps(body).encode(), "Unhandled", w.now + spec.timeout)
        due = w.now + spec.seconds
        if spec.behaviour == "raise":
            error: dict[str, Any] = {
                "errorMessage": spec.error_message,
                "errorType": "Exception",
                "requestId": request_id,
                "stackTrace": ['  File "/var/task/handler.py", line 7, in handler\n'],
            }
            return LambdaAnswer(200, json.dumps(error).encode(), "Unhandled", due)
        answer: Any
        if spec.behaviour == "echo":
            answer = event
        elif spec.behaviour == "ok":
            answer = {"ok": True}
        elif spec.behaviour == "not-ok":
            answer = {"ok": False, "reason": spec.error_message}
        else:
            answer = spec.answer
        return LambdaAnswer(200, json.dumps(answer).encode(), None, due)

    def configuration(self, reference: str, qualifier: str | None = None) -> dict[str, Any]:
        spec = self.function(reference, qualifier)
        code = hashlib.sha256(spec.name.encode()).digest()
        modified = dt.datetime.fromtimestamp(self.w.start_ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        return {
            "FunctionName": spec.name,
            "FunctionArn": self.arn(spec.name),
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{self.w.scenario.account_id}:role/{spec.name}-role",
            "Handler": "handler.handler",
            "CodeSize": 1024,
            "Description": f"simulated ({spec.behaviour})",
            "Timeout": spec.timeout,
            "MemorySize": 128,
            "LastModified": modified,
            "CodeSha256": base64.b64encode(code).decode(),
            "Version": "$LATEST",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        }

    def get_function(self, reference: str, qualifier: str | None = None) -> dict[str, Any]:
        config = self.configuration(reference, qualifier)
        return {
            "Configuration": config,
            "Code": {"RepositoryType": "S3", "Location": "https://awslambda.example.invalid/snapshot"},
        }
