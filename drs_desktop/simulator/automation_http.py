"""The HTTP side of SSM Run Command (JSON 1.1) and Lambda (REST-JSON) in the simulator's server.

SSM posts to ``/`` with ``X-Amz-Target: AmazonSSM.<Operation>`` and ``application/x-amz-json-1.1``; its
errors are ``{"__type": code, "message": ...}`` (400; InternalServerError 500). Lambda's routes are
``POST /2015-03-31/functions/{FunctionName}/invocations`` (Invoke), ``GET .../functions/{FunctionName}``
(GetFunction) and ``GET .../functions/{FunctionName}/configuration``; its errors carry
``x-amzn-ErrorType`` and ``{"Type": "User", "message": ...}``. Both answer from the world the request's
credentials reach (the estate), like EC2.

Transport faults apply only to rules named for these services exactly (``ssm:SendCommand``,
``lambda:Invoke``; ``*`` stays DRS's): before the action ``throttle``, ``server_error``, ``drop``; after
it ``drop_after`` and ``server_error_after`` (the command is sent, the function ran, the answer is
lost): what the app's gateways classify as an unknown outcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote

from drs_desktop.simulator.contract import AFTER_ACTION_FAULTS, TransportFault
from drs_desktop.simulator.ec2_protocol import OutputShapeError
from drs_desktop.simulator.json_model import InputError, parse_body, render_output
from drs_desktop.simulator.lambda_fn import LambdaAnswer, LambdaService
from drs_desktop.simulator.protocol import HttpResponse

logger = logging.getLogger(__name__)

SSM_TARGET_PREFIX = "AmazonSSM."
LAMBDA_PREFIX = "/2015-03-31/functions/"
_SSM_JSON = "application/x-amz-json-1.1"


class AutomationWorld(Protocol):
    """What a world offers these services (``backend.DrsBackend``)."""

    def automation_fault(self, key: str) -> TransportFault | None: ...

    def ssm_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def lambda_call(self, action: Callable[[LambdaService], Any]) -> Any: ...


def is_ssm(headers: Mapping[str, str]) -> bool:
    return (headers.get("x-amz-target") or "").startswith(SSM_TARGET_PREFIX)


def is_lambda(raw_path: str) -> bool:
    return raw_path.startswith(LAMBDA_PREFIX)


def ssm_refusal(request_id: str, code: str, message: str, status: int = 400) -> HttpResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return HttpResponse(status, [("Content-Type", _SSM_JSON), ("x-amzn-RequestId", request_id)], body)


def lambda_refusal(request_id: str, code: str, message: str, status: int) -> HttpResponse:
    body = json.dumps({"Type": "User" if status < 500 else "Service", "message": message}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", code),
    ]
    return HttpResponse(status, headers, body)


def _before(
    fault: TransportFault | None, error: Callable[[str, str, int], HttpResponse]
) -> HttpResponse | bool:
    """The answer a before-the-action fault gives (None inside: drop), or True to go on."""
    if fault is None or fault.kind in AFTER_ACTION_FAULTS:
        return True
    if fault.kind == "throttle":
        return error("ThrottlingException", "Rate exceeded", 400)
    if fault.kind == "server_error":
        return error("InternalServerError", "Service encountered an internal error", 500)
    if fault.kind == "drop":
        return HttpResponse(-1)
    logger.warning("Fault %s does not apply to SSM or Lambda; ignored", fault.kind)
    return True


def _after(
    fault: TransportFault | None, response: HttpResponse, error: Callable[..., HttpResponse]
) -> HttpResponse | None:
    if fault is None or fault.kind not in AFTER_ACTION_FAULTS:
        return response
    if fault.kind == "drop_after":
        return None
    return error("InternalServerError", "Service encountered an internal error", 500)


def ssm_respond(
    world: AutomationWorld, headers: Mapping[str, str], body: bytes, request_id: str
) -> HttpResponse | None:
    """SSM's answer to one JSON 1.1 request (None: drop the connection)."""
    operation = (headers.get("x-amz-target") or "")[len(SSM_TARGET_PREFIX) :]

    def error(code: str, message: str, status: int = 400) -> HttpResponse:
        return ssm_refusal(request_id, code, message, status)

    fault = world.automation_fault(f"ssm:{operation}")
    before = _before(fault, error)
    if isinstance(before, HttpResponse):
        return None if before.status == -1 else before
    try:
        params = parse_body("ssm", operation, body) if _known("ssm", operation) else None
        if params is None:
            raise InputError("InvalidAction", f"The simulator does not serve SSM {operation or '(none)'}")
        result = world.ssm_call(operation, params)
        payload = json.dumps(render_output("ssm", operation, result)).encode()
        response = HttpResponse(200, [("Content-Type", _SSM_JSON), ("x-amzn-RequestId", request_id)], payload)
    except InputError as exc:
        response = error(exc.code, exc.message, exc.status)
    except OutputShapeError:
        logger.exception(
            "SSM %s built an answer its output shape refuses (request %s)", operation, request_id
        )
        response = error("InternalServerError", "An internal error has occurred", 500)
    except Exception:
        logger.exception("SSM %s failed (request %s)", operation, request_id)
        response = error("InternalServerError", "An internal error has occurred", 500)
    return _after(fault, response, error)


def _known(service: str, operation: str) -> bool:
    from drs_desktop.simulator.json_model import operation as model_operation

    return bool(operation) and model_operation(service, operation) is not None


def lambda_respond(
    world: AutomationWorld,
    method: str,
    raw_path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
    request_id: str,
    wait: Callable[[float], bool],
) -> HttpResponse | None:
    """Lambda's answer (None: drop). ``wait(ts)`` blocks until virtual time ``ts``: False when the
    server is stopping (then nothing is answered)."""

    def error(code: str, message: str, status: int = 400) -> HttpResponse:
        if code == "ThrottlingException":
            code, status = "TooManyRequestsException", 429
        if code == "InternalServerError":
            code = "ServiceException"
        return lambda_refusal(request_id, code, message, status)

    rest = raw_path[len(LAMBDA_PREFIX) :]
    name, _, tail = rest.partition("/")
    name = unquote(name)
    qualifier = next(iter(query.get("Qualifier") or []), None)
    routes = {
        ("POST", "invocations"): "Invoke",
        ("GET", ""): "GetFunction",
        ("GET", "configuration"): "GetFunctionConfiguration",
    }
    operation = routes.get((method, tail))
    if operation is None or not name:
        return error("UnknownOperationException", f"No Lambda operation at {method} {raw_path}", 404)
    fault = world.automation_fault(f"lambda:{operation}")
    before = _before(fault, error)
    if isinstance(before, HttpResponse):
        return None if before.status == -1 else before
    try:
        if operation == "Invoke":
            kind = headers.get("x-amz-invocation-type") or "RequestResponse"
            answer: LambdaAnswer = world.lambda_call(
                lambda s: s.invoke(name, body, kind, qualifier, request_id)
            )
            if not wait(answer.due_ts):
                return None
            reply = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
            if answer.status == 200:
                reply.append(("X-Amz-Executed-Version", "$LATEST"))
            if answer.function_error:
                reply.append(("X-Amz-Function-Error", answer.function_error))
            response = HttpResponse(answer.status, reply, answer.body)
        else:
            if operation == "GetFunction":
                result = world.lambda_call(lambda s: s.get_function(name, qualifier))
            else:
                result = world.lambda_call(lambda s: s.configuration(name, qualifier))
            payload = json.dumps(render_output("lambda", operation, result)).encode()
            response = HttpResponse(
                200, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], payload
            )
    except InputError as exc:
        response = error(exc.code, exc.message, exc.status)
    except Exception:
        logger.exception("Lambda %s failed (request %s)", operation, request_id)
        response = error("ServiceException", "An internal error has occurred", 500)
    return _after(fault, response, error)
