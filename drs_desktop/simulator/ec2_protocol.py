"""EC2's query protocol for the simulator: form parameters in, EC2's XML out, read from botocore's EC2 model.

EC2 is not DRS's REST-JSON: a request is a form-encoded POST to ``/`` with ``Action`` and
``Version=2016-11-15``; lists are flattened (``Filter.1.Value.2``, ``LaunchTemplateData.NetworkInterface.1
.SubnetId``); an answer is ``<XxxResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`` with a
``requestId``, its members named by the model's ``locationName`` and every list an ``<item>`` sequence;
an error is ``<Response><Errors><Error><Code>...`` with ``<RequestID>``. The names come from the installed
botocore model (``queryName``, else ``locationName`` capitalised, for input; ``locationName`` for output),
never from a hand copy, so what parses here parses against AWS. A member the output shape does not know
is a bug here, and raises rather than being silently dropped as botocore's parser would.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from drs_desktop.simulator.protocol import HttpResponse

logger = logging.getLogger(__name__)

EC2_VERSION = "2016-11-15"
EC2_NAMESPACE = f"http://ec2.amazonaws.com/doc/{EC2_VERSION}/"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_CONTENT = ("Content-Type", "text/xml;charset=UTF-8")


class Ec2Error(Exception):
    """An EC2 error answer: ``code`` as EC2 spells it (``InvalidSubnetID.NotFound``), HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class OutputShapeError(Exception):
    """The simulator built an answer its own output shape does not allow (a bug here, answered 500)."""


@functools.cache
def ec2_model() -> ServiceModel:
    """botocore's EC2 service model (loaded once per process; immutable, so threads share it)."""
    return botocore.session.get_session().get_service_model("ec2")


def operation(action: str) -> OperationModel | None:
    model = ec2_model()
    return model.operation_model(action) if action in model.operation_names else None


# -- input ---------------------------------------------------------------------------------------------


def _input_name(member_name: str, shape: Shape) -> str:
    """The serialized name of a member, as botocore's EC2 serializer writes it."""
    query = shape.serialization.get("queryName")
    if query:
        return str(query)
    name = shape.serialization.get("name")
    if name:
        return str(name[0].upper() + name[1:])
    return member_name


def parse_form(action: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of ``action`` from a flat form, by the model's input shape, under the model's member
    names. An unknown parameter, a value of the wrong type or a missing required member is refused as
    EC2 refuses it (UnknownParameter, InvalidParameterValue, MissingParameter)."""
    op = operation(action)
    assert op is not None
    consumed: set[str] = {"Action", "Version"}
    shape = op.input_shape
    params = _structure(shape, "", form, consumed) if shape is not None else {}
    unknown = sorted(set(form) - consumed)
    if unknown:
        raise Ec2Error("UnknownParameter", f"The parameter {unknown[0]} is not recognized")
    if shape is not None:
        for name in shape.required_members:
            if name not in params:
                wire = _input_name(name, shape.members[name])
                raise Ec2Error("MissingParameter", f"The request must contain the parameter {wire}")
    return params


def _structure(shape: StructureShape, prefix: str, form: Mapping[str, str], used: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = prefix + _input_name(name, member)
        value = _value(member, key, form, used)
        if value is not None:
            out[name] = value
    return out


def _value(shape: Shape, key: str, form: Mapping[str, str], used: set[str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not any(k.startswith(key + ".") for k in form):
            return None
        return _structure(shape, key + ".", form, used)
    if kind == "list":
        assert isinstance(shape, ListShape)
        indexes = sorted(
            {
                int(rest.split(".", 1)[0])
                for k in form
                if k.startswith(key + ".") and (rest := k[len(key) + 1 :]).split(".", 1)[0].isdigit()
            }
        )
        if not indexes:
            return None
        items = [_value(shape.member, f"{key}.{i}", form, used) for i in indexes]
        return [item for item in items if item is not None]
    if key not in form:
        return None
    used.add(key)
    raw = form[key]
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise Ec2Error("InvalidParameterValue", f"Invalid value '{raw}' for {key}") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise Ec2Error("InvalidParameterValue", f"Invalid value '{raw}' for {key}: true or false")
        return raw.lower() == "true"
    if kind in ("float", "double"):
        try:
            return float(raw)
        except ValueError:
            raise Ec2Error("InvalidParameterValue", f"Invalid value '{raw}' for {key}") from None
    return raw


# -- output --------------------------------------------------------------------------------------------


def _tag(name: str, shape: Shape) -> str:
    return str(shape.serialization.get("name") or name)


def _render(shape: Shape, value: Any, path: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path}: expected a structure, got {type(value).__name__}")
        unknown = [k for k in value if k not in shape.members]
        if unknown:
            raise OutputShapeError(f"{path}: {unknown[0]} is not a member of {shape.name}")
        parts = []
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            tag = _tag(name, member)
            parts.append(f"<{tag}>{_render(member, item, f'{path}.{name}')}</{tag}>")
        return "".join(parts)
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list | tuple):
            raise OutputShapeError(f"{path}: expected a list, got {type(value).__name__}")
        tag = str(shape.member.serialization.get("name") or "item")
        return "".join(
            f"<{tag}>{_render(shape.member, item, f'{path}[{i}]')}</{tag}>" for i, item in enumerate(value)
        )
    if kind == "boolean":
        if not isinstance(value, bool):
            raise OutputShapeError(f"{path}: expected a boolean, got {value!r}")
        return "true" if value else "false"
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise OutputShapeError(f"{path}: expected an integer, got {value!r}")
        return str(value)
    if kind == "timestamp":
        if isinstance(value, int | float):
            value = dt.datetime.fromtimestamp(value, dt.UTC)
        if not isinstance(value, dt.datetime):
            raise OutputShapeError(f"{path}: expected a timestamp, got {value!r}")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if not isinstance(value, str):
        raise OutputShapeError(f"{path}: expected a string, got {value!r}")
    return escape(value)


def document(action: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    """EC2's answer to ``action``: ``result`` (model member names) rendered by the output shape."""
    op = operation(action)
    assert op is not None
    body = ""
    if op.output_shape is not None:
        body = _render(op.output_shape, result, action)
    elif result:
        raise OutputShapeError(f"{action} has no output shape, but the result has {sorted(result)}")
    xml = (
        f'{_XML_HEAD}<{action}Response xmlns="{EC2_NAMESPACE}"><requestId>{request_id}</requestId>'
        f"{body}</{action}Response>"
    )
    return HttpResponse(200, [_CONTENT, ("x-amzn-RequestId", request_id)], xml.encode())


def error(request_id: str, code: str, message: str, status: int = 400) -> HttpResponse:
    """EC2's error document."""
    xml = (
        f"{_XML_HEAD}<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}"
        f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
    )
    return HttpResponse(status, [_CONTENT, ("x-amzn-RequestId", request_id)], xml.encode())
