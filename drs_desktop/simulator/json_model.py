"""botocore's JSON models for the simulator's SSM (JSON 1.1) and Lambda (REST-JSON) halves.

DRS's protocol layer (``protocol``) is built around DRS's own model; SSM Run Command and Lambda Invoke
need far less of it: a body checked against the operation's input shape (the same walker as DRS's,
``validation.deserialize_input``) and an answer rendered by the output shape. Names and types come from
the installed botocore model, never from a copy, so what parses here parses against AWS. A member the
output shape does not know is a bug here and raises (``OutputShapeError``) rather than being dropped
silently as botocore's parser would.

Both services answer timestamps in a JSON body as epoch seconds (botocore's ``unixtimestamp``), except
where a member says otherwise (Lambda's ``LastModified`` is a string in its model).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.ec2_protocol import OutputShapeError
from drs_desktop.simulator.validation import deserialize_input

#: The services served from these helpers (botocore's service names).
SERVICES = ("ssm", "lambda")


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of ``name`` (loaded once per process; immutable, so threads share it)."""
    if name not in SERVICES:
        raise ValueError(f"{name} is not served through json_model")
    return botocore.session.get_session().get_service_model(name)


def operation(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    return model.operation_model(name) if name in model.operation_names else None


class InputError(Exception):
    """A request body the service refuses before it acts: ``code`` as the service names it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def parse_body(
    service: str, name: str, body: bytes, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The operation's parameters: the JSON body (plus ``extra``: labels, headers) checked against its
    input shape. Not JSON, not an object, a wrong type, a missing required member: ``InputError``
    (SerializationException for what cannot be read, ValidationException for the rest)."""
    op = operation(service, name)
    assert op is not None
    params: dict[str, Any] = {}
    if body.strip():
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError("SerializationException", f"The request body is not JSON: {exc}") from None
        if not isinstance(decoded, dict):
            raise InputError("SerializationException", "The request body must be a JSON object")
        params.update(decoded)
    params.update(extra or {})
    try:
        return deserialize_input(op.input_shape, params)
    except SimulatorError as exc:
        raise InputError("ValidationException", exc.message) from None


def render(shape: Shape, value: Any, path: str) -> Any:
    """``value`` (model member names) as the JSON the shape says; an unknown member raises."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path}: expected a structure, got {type(value).__name__}")
        unknown = [k for k in value if k not in shape.members]
        if unknown:
            raise OutputShapeError(f"{path}: {unknown[0]} is not a member of {shape.name}")
        return {
            shape.members[k].serialization.get("name", k): render(shape.members[k], v, f"{path}.{k}")
            for k, v in value.items()
            if v is not None
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list | tuple):
            raise OutputShapeError(f"{path}: expected a list, got {type(value).__name__}")
        return [render(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path}: expected a map, got {type(value).__name__}")
        return {str(k): render(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            value = value.timestamp()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OutputShapeError(f"{path}: expected a timestamp, got {value!r}")
        return round(float(value), 3)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise OutputShapeError(f"{path}: expected a boolean, got {value!r}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise OutputShapeError(f"{path}: expected an integer, got {value!r}")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OutputShapeError(f"{path}: expected a number, got {value!r}")
        return value
    if kind == "blob":
        if not isinstance(value, bytes):
            raise OutputShapeError(f"{path}: expected bytes, got {type(value).__name__}")
        return base64.b64encode(value).decode("ascii")
    if not isinstance(value, str):
        raise OutputShapeError(f"{path}: expected a string, got {value!r}")
    return value


def render_output(service: str, name: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of ``name``'s answer (members bound to the body only)."""
    op = operation(service, name)
    assert op is not None
    shape = op.output_shape
    if shape is None:
        if result:
            raise OutputShapeError(f"{name} has no output shape, but the result has {sorted(result)}")
        return {}
    rendered = render(shape, result, name)
    assert isinstance(rendered, dict)
    return rendered
