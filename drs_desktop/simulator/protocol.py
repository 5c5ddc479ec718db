"""DRS's REST-JSON protocol: HTTP request -> (operation, params), and results/errors -> HTTP response.

Everything is driven by botocore's service model (``model.load_model``): the router, where each input
member lives (body, URI label, query string, header), the input validation, the output serialization
and the error shapes. Nothing here does I/O; ``server`` feeds bytes in and writes bytes out. Success
bodies go through converters compiled once per output shape, with the model-walking ``OutputSerializer``
as the reference they hand over to for anything unusual (see "output fast path").

Answers to malformed requests, chosen to match what AWS front ends give (Smithy's restJson1 malformed-
request rules, which the AWS SDK protocol tests pin down) and documented here because the service does
not publish them:

======================================  ======  ==================================================
request                                 status  ``x-amzn-ErrorType``
======================================  ======  ==================================================
unknown path                            404     UnknownOperationException (boto3: ClientError)
known path, wrong method                405     UnknownOperationException, with an ``Allow`` header
body that is not JSON / not an object   400     ValidationException, reason ``cannotParse``
body with a non-JSON ``Content-Type``   415     UnsupportedMediaTypeException
  (or with none)
body larger than the limit              413     RequestEntityTooLargeException (connection closed)
no ``Content-Length`` (chunked upload)  411     LengthRequiredException (connection closed)
======================================  ======  ==================================================

Smithy servers answer unparsable JSON with ``SerializationException``; DRS models the
``ValidationExceptionReason`` value ``cannotParse`` for exactly this case, so the simulator sends the
modeled ValidationException, which boto3 raises as ``client.exceptions.ValidationException``.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import functools
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from botocore.model import ListShape, MapShape, Shape, StructureShape

from drs_desktop.simulator.contract import SimulatorError
from drs_desktop.simulator.model import DrsModel
from drs_desktop.simulator.validation import cannot_parse, deserialize_input, parse_timestamp

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
_JSON_MEDIA_TYPES = {"application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1"}
# Errors that carry a Retry-After header in the model; the simulator always sends one for them.
_RETRY_AFTER_DEFAULT = {"ThrottlingException": "1", "InternalServerException": "1"}


class ProtocolError(SimulatorError):
    """An error the protocol layer raises before the backend runs (routing, media type, body size)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        headers: Sequence[tuple[str, str]] = (),
        close: bool = False,
    ) -> None:
        super().__init__(code, message, status=status)
        self.headers = tuple(headers)
        self.close = close


class OutputShapeError(ValueError):
    """The backend returned something the output shape cannot carry (a bug in the world, not the caller)."""


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False  # close the connection after writing (the request body may be unread)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


def route(
    model: DrsModel, method: str, raw_path: str, query: dict[str, list[str]]
) -> tuple[str, dict[str, str]]:
    """The operation for ``method`` + path and its decoded URI labels, or a 404/405 SimulatorError."""
    match = model.match(method, raw_path, query)
    if match.operation is not None:
        return match.operation, match.labels
    if match.allowed_methods:
        allowed = ", ".join(sorted(match.allowed_methods))
        raise ProtocolError(
            "UnknownOperationException",
            f"Method {method} is not allowed on {raw_path}; allowed: {allowed}",
            status=405,
            headers=[("Allow", allowed)],
        )
    raise ProtocolError("UnknownOperationException", f"Unknown operation: {method} {raw_path}", status=404)


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_MEDIA_TYPES or media.endswith("+json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_body(body: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, an object at the top, no NaN/Infinity. Empty means ``{}``."""
    if not body.strip():
        return {}
    try:
        decoded = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise cannot_parse(f"Unable to parse the request body as JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise cannot_parse("The request body must be a JSON object")
    return decoded


def _from_text(shape: Shape, text: str) -> Any:
    """A URI label, query value or header value converted to the member's type (as the service does)."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text  # left as a string so validation reports a cannotParse type error
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def parse_input(
    model: DrsModel,
    operation: str,
    *,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
    content_type: str | None,
) -> dict[str, Any]:
    """Gather and validate an operation's input from every location the model binds members to."""
    input_shape = model.operation(operation).input_shape
    if input_shape is None:
        return {}
    raw: dict[str, Any] = {}
    body_members = {
        name: m for name, m in input_shape.members.items() if m.serialization.get("location") is None
    }
    if body_members and body.strip():
        if not is_json_media_type(content_type):
            raise ProtocolError(
                "UnsupportedMediaTypeException",
                f"Unsupported Content-Type {content_type or '(none)'}: expected {JSON_CONTENT_TYPE}",
                status=415,
            )
        payload_name = input_shape.serialization.get("payload")
        decoded = parse_json_body(body)
        if payload_name:
            raw[payload_name] = decoded
        else:
            raw.update({k: v for k, v in decoded.items() if k in body_members})
    lowered_headers = {k.lower(): v for k, v in headers.items()}
    for name, member in input_shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri" and wire_name in labels:
            raw[name] = _from_text(member, labels[wire_name])
        elif location == "querystring":
            if isinstance(member, MapShape):
                raw[name] = {k: v[0] if member.value.type_name != "list" else v for k, v in query.items()}
            elif wire_name in query:
                values = query[wire_name]
                if isinstance(member, ListShape):
                    raw[name] = [_from_text(member.member, v) for v in values]
                else:
                    raw[name] = _from_text(member, values[0])
        elif location == "header" and wire_name.lower() in lowered_headers:
            raw[name] = _from_text(member, lowered_headers[wire_name.lower()])
    return deserialize_input(input_shape, raw)


def parse_query(raw_query: str) -> dict[str, list[str]]:
    return parse_qs(raw_query, keep_blank_values=True)


# --- output -------------------------------------------------------------------------------------------


def format_timestamp(value: Any, fmt: str, path: str) -> Any:
    parsed = value if isinstance(value, dt.datetime) else parse_timestamp(value)
    if parsed is None:
        raise OutputShapeError(f"{path}: {value!r} is not a timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    if fmt == "iso8601":
        return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"
    if fmt == "rfc822":
        return format_datetime(parsed, usegmt=True)
    return round(parsed.timestamp(), 3)


class OutputSerializer:
    """Turns backend values into JSON-ready values, walking the output shape.

    Wrong types always fail (they would reach the client as garbage). Members the shape does not know
    are dropped with a warning, or fail when ``strict`` (the conformance tests run strict, because
    botocore's parser silently drops them and a parsed-response check could not see them).
    """

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict

    def value(self, shape: Shape, value: Any, path: str, *, default_ts: str = "unixTimestamp") -> Any:
        kind = shape.type_name
        if isinstance(value, enum.Enum):
            value = value.value
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self.structure(shape, value, path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
                raise OutputShapeError(f"{path}: expected a list, got {type(value).__name__}")
            return [self.value(shape.member, v, f"{path}[{i}]") for i, v in enumerate(value) if v is not None]
        if kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, Mapping):
                raise OutputShapeError(f"{path}: expected a map, got {type(value).__name__}")
            return {
                str(k): self.value(shape.value, v, f"{path}.{k}") for k, v in value.items() if v is not None
            }
        if kind == "string":
            if not isinstance(value, str):
                raise OutputShapeError(f"{path}: expected a string, got {type(value).__name__}")
            return value
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise OutputShapeError(f"{path}: expected an integer, got {type(value).__name__}")
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise OutputShapeError(f"{path}: expected a finite number, got {value!r}")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise OutputShapeError(f"{path}: expected a boolean, got {type(value).__name__}")
            return value
        if kind == "timestamp":
            return format_timestamp(value, shape.serialization.get("timestampFormat", default_ts), path)
        if kind == "blob":
            if isinstance(value, str):
                value = value.encode()
            if not isinstance(value, bytes | bytearray):
                raise OutputShapeError(f"{path}: expected bytes, got {type(value).__name__}")
            return base64.b64encode(value).decode("ascii")
        return value

    def structure(self, shape: StructureShape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path or shape.name}: expected a structure, got {type(value).__name__}")
        self._unknown(shape, value, path)
        result = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue  # headers / status code are written by the caller
            item = value.get(name)
            if item is None:
                continue
            wire = member.serialization.get("name", name)
            result[wire] = self.value(member, item, f"{path}.{name}" if path else name)
        return result

    def _unknown(self, shape: StructureShape, value: Mapping[str, Any], path: str) -> None:
        unknown = sorted(str(k) for k in value if k not in shape.members)
        if not unknown:
            return
        where = path or shape.name
        if self.strict:
            raise OutputShapeError(f"{where}: members not in shape {shape.name}: {unknown}")
        logger.warning("Dropping members unknown to %s at %s: %s", shape.name, where, unknown)

    def header_value(self, shape: Shape, value: Any, path: str) -> str:
        if shape.type_name == "timestamp":
            return str(format_timestamp(value, shape.serialization.get("timestampFormat", "rfc822"), path))
        if shape.type_name == "boolean":
            return "true" if value else "false"
        if isinstance(value, enum.Enum):
            value = value.value
        return str(value)


# --- output fast path -----------------------------------------------------------------------------
#
# ``OutputSerializer`` above is the reference: it walks the shape for every value and names the path of
# whatever it rejects. Walking the model per item was most of the cost of a 4,000-server listing, so a
# success body first goes through converters compiled once per output shape. They take the values the
# world returns (plain dicts and lists, str, int, bool) with one exact-type check each, carry no paths,
# and neither log nor keep state. Anything else (an enum, a tuple, a wrong type, a member the shape does
# not know, or any exception at all) abandons the fast result and the reference walker redoes the whole
# document, so the body, the warning or the ``OutputShapeError`` are exactly the reference's.

Converter = Callable[[Any], Any]


class _Slow(Exception):
    """The fast path met a value it does not handle; the reference walker takes over."""


class _Never:
    """No value has this exact type: values of such a shape always go through their converter."""


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _as_string(value: Any) -> Any:
    value = _unwrap(value)
    if not isinstance(value, str):
        raise _Slow
    return value


def _as_integer(value: Any) -> Any:
    value = _unwrap(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Slow
    return value


def _as_number(value: Any) -> Any:
    value = _unwrap(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Slow
    return value


def _as_boolean(value: Any) -> Any:
    value = _unwrap(value)
    if not isinstance(value, bool):
        raise _Slow
    return value


def _as_blob(value: Any) -> Any:
    value = _unwrap(value)
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, bytes | bytearray):
        raise _Slow
    return base64.b64encode(value).decode("ascii")


# Scalars whose JSON value is the Python value: the exact type that passes unchecked, and the converter
# for everything else (enums and subclasses pass, wrong types raise _Slow).
_SCALARS: dict[str, tuple[type, Converter]] = {
    "string": (str, _as_string),
    "integer": (int, _as_integer),  # type(True) is bool, so booleans take the checked path
    "long": (int, _as_integer),
    "float": (_Never, _as_number),  # NaN is a float: always checked
    "double": (_Never, _as_number),
    "boolean": (bool, _as_boolean),
    "blob": (_Never, _as_blob),
}


def _member_plan(shape: Shape, structures: dict[str, Converter]) -> tuple[type, Converter]:
    """``(exact type, converter)`` for values of ``shape``: ``v if type(v) is exact else convert(v)``."""
    kind = shape.type_name
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "unixTimestamp")
        return _Never, lambda value: format_timestamp(_unwrap(value), fmt, "")
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _Never, _structure_converter(shape, structures)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return _Never, _list_converter(*_member_plan(shape.member, structures))
    if kind == "map":
        assert isinstance(shape, MapShape)
        return _Never, _map_converter(*_member_plan(shape.value, structures))
    return _Never, _unwrap  # document types and anything newer: passed through, as the reference does


def _list_converter(exact: type, item: Converter) -> Converter:
    def convert(value: Any) -> Any:
        if type(value) is not list:
            raise _Slow
        return [v if type(v) is exact else item(v) for v in value if v is not None]

    return convert


def _map_converter(exact: type, item: Converter) -> Converter:
    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise _Slow
        return {
            (k if type(k) is str else str(k)): (v if type(v) is exact else item(v))
            for k, v in value.items()
            if v is not None
        }

    return convert


def _structure_converter(shape: StructureShape, structures: dict[str, Converter]) -> Converter:
    if shape.name in structures:
        return structures[shape.name]
    known = frozenset(shape.members)
    fields: list[tuple[str, str, type, Converter]] = []

    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise _Slow
        result = {}
        for name, wire, exact, member in fields:
            item = value.get(name)
            if item is not None:
                result[wire] = item if type(item) is exact else member(item)
        # Every key became one body member (the usual case), or the reference decides about the others:
        # members unknown to the shape warn or fail there; known ones set to None or bound to a header
        # are skipped there too, so they need no hand-over.
        if len(result) != len(value) and not value.keys() <= known:
            raise _Slow
        return result

    # Registered before its members are compiled, so a recursive shape refers to itself.
    structures[shape.name] = convert
    for name, member_shape in shape.members.items():
        if member_shape.serialization.get("location"):
            continue  # headers / status code are written by the caller
        wire = member_shape.serialization.get("name", name)
        fields.append((name, wire, *_member_plan(member_shape, structures)))
    return convert


# json.dumps(body, separators=(",", ":"), ensure_ascii=False) is this encoder's ``encode``.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@functools.cache
def _document_encoder(shape: StructureShape) -> Callable[[Any], str]:
    """The JSON text of an output body, with its lists of structures encoded one element at a time.

    The text is byte for byte ``_json`` of the reference document: without indent or sorting, JSON of an
    object or array is its members' JSON joined with ``,``. Encoding each server of a page right after
    converting it is faster than encoding the page at once, and its copy dies young instead of reaching
    the oldest GC generation, where a thousand of them helped trigger full collections of the process.
    """
    structures: dict[str, Converter] = {}
    known = frozenset(shape.members)
    fields: list[tuple[str, str, type, Converter, Converter | None]] = []
    for name, member_shape in shape.members.items():
        if member_shape.serialization.get("location"):
            continue  # headers / status code are written by the caller
        wire = member_shape.serialization.get("name", name)
        exact, member = _member_plan(member_shape, structures)
        element = None
        if isinstance(member_shape, ListShape) and isinstance(member_shape.member, StructureShape):
            element = _structure_converter(member_shape.member, structures)
        fields.append((name, _ENCODER.encode(wire) + ":", exact, member, element))
    if len({key for _, key, *_ in fields}) != len(fields):
        # Two members on one wire name: a dict keeps the first one's place and the last one's value.
        whole = _structure_converter(shape, structures)
        return lambda value: _ENCODER.encode(whole(value))
    encode = _ENCODER.encode

    def encode_document(value: Any) -> str:
        if type(value) is not dict:
            raise _Slow
        parts = []
        for name, key, exact, member, element in fields:
            item = value.get(name)
            if item is None:
                continue
            if element is None:
                parts.append(key + encode(item if type(item) is exact else member(item)))
            elif type(item) is list:
                parts.append(key + "[" + ",".join([encode(element(v)) for v in item if v is not None]) + "]")
            else:
                raise _Slow
        if len(parts) != len(value) and not value.keys() <= known:
            raise _Slow  # see _structure_converter
        return "{" + ",".join(parts) + "}"

    return encode_document


def _body_json(shape: StructureShape, result: Mapping[str, Any], serializer: OutputSerializer) -> bytes:
    encode = _document_encoder(shape)
    try:
        text = encode(result)
    except Exception:
        # Not necessarily an error: the reference handles what the fast path does not. When it is one,
        # the reference raises it, with its path.
        return _json(serializer.structure(shape, result, ""))
    return text.encode("utf-8")


def _base_headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-RequestId", request_id)]


def _json(body: Mapping[str, Any]) -> bytes:
    return _ENCODER.encode(body).encode("utf-8")


def serialize_output(
    model: DrsModel, operation: str, result: Mapping[str, Any] | None, request_id: str, *, strict: bool
) -> HttpResponse:
    """A success response: status from the model (202 StartRecovery, 204 DeleteJob...), body, headers."""
    op = model.operation(operation)
    status = int(op.http.get("responseCode", 200))
    headers = _base_headers(request_id)
    shape = op.output_shape
    serializer = OutputSerializer(strict=strict)
    result = result or {}
    if shape is None:
        if result:
            if strict:
                raise OutputShapeError(
                    f"{operation} has no output shape but the backend returned {list(result)}"
                )
            logger.warning("%s has no output shape; dropping %s", operation, sorted(result))
        body: bytes = b"" if status == 204 else b"{}"
        return HttpResponse(status, headers, body)
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location is None or result.get(name) is None:
            continue
        if location == "statusCode":
            status = int(result[name])
        elif location == "header":
            wire = member.serialization.get("name", name)
            headers.append((wire, serializer.header_value(member, result[name], name)))
        elif location == "headers":
            prefix = member.serialization.get("name", "")
            headers.extend((f"{prefix}{k}", str(v)) for k, v in result[name].items())
    payload_name = shape.serialization.get("payload")
    if payload_name:
        payload_shape = shape.members[payload_name]
        serializer._unknown(shape, result, "")
        payload = result.get(payload_name)
        document = serializer.value(payload_shape, payload, payload_name) if payload is not None else {}
    elif status != 204:
        return HttpResponse(status, headers, _body_json(shape, result, serializer))
    else:
        document = serializer.structure(shape, result, "")
    if status == 204:
        if document:
            logger.warning("%s answers 204; dropping body members %s", operation, sorted(document))
        return HttpResponse(status, headers, b"")
    return HttpResponse(status, headers, _json(document))


def serialize_error(model: DrsModel, error: SimulatorError, request_id: str) -> HttpResponse:
    """An error response botocore turns into the typed exception (reference §2.2).

    Always sends ``x-amzn-ErrorType`` (the header wins over any body field), sets a body ``code`` equal
    to the exception name where the shape has one (a different body ``code`` would otherwise leak into
    ``Error.Code``), and puts header-bound members such as ``retryAfterSeconds`` in their header.
    """
    code = error.code
    shape = model.error_shape(code)
    members = dict(error.members)
    if shape is not None:
        status = error.status or int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    else:
        status = error.status or 400
    headers = _base_headers(request_id)
    headers.append(("x-amzn-ErrorType", code))
    close = False
    if isinstance(error, ProtocolError):
        headers.extend(error.headers)
        close = error.close
    body: dict[str, Any] = {"message": error.message}
    if shape is None:
        return HttpResponse(status, headers, _json(body), close=close)
    if "retryAfterSeconds" in shape.members and members.get("retryAfterSeconds") is None:
        default = _RETRY_AFTER_DEFAULT.get(code)
        if default is not None:
            members["retryAfterSeconds"] = default
    if "code" in shape.members:
        given = members.get("code")
        if given is not None and given != code:
            logger.warning("Error %s carried code=%r; sending the exception name instead", code, given)
        members["code"] = code
    serializer = OutputSerializer(strict=False)
    for name, value in members.items():
        member = shape.members.get(name)
        if member is None or value is None or name == "message":
            if member is None and name != "message":
                logger.warning("Error %s: member %r is not in the error shape; dropped", code, name)
            continue
        location = member.serialization.get("location")
        if location == "header":
            headers.append((member.serialization.get("name", name), str(value)))
        else:
            try:
                body[name] = serializer.value(member, value, name)
            except OutputShapeError:
                logger.warning("Error %s: member %r has the wrong type; dropped", code, name, exc_info=True)
    return HttpResponse(status, headers, _json(body), close=close)


def internal_error(
    request_id: str, model: DrsModel, message: str = "An internal error occurred"
) -> HttpResponse:
    return serialize_error(model, SimulatorError("InternalServerException", message), request_id)
