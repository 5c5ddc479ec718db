"""Check parsed boto3 responses against botocore's DRS output shapes.

botocore's parser is lenient: it drops members it does not know, keeps strings that break the model's
patterns or enums, and never checks ``required``. A simulator that passes only botocore's parser could
still teach the app habits the real service would break, so the conformance tests walk the model's
output shape (never a copy of it) against every parsed response. The app may use the same checks to
flag a response from AWS that departs from the model.

Real DRS deviates from its own model in one known way (reference §5, §12): it sends ISO-8601 datetime
strings as ``2024-09-16T04:42:46.324841+00:00`` although the model's pattern demands ``...Z``. With
``strict_patterns=False`` (the default) that form is accepted for those shapes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from drs_desktop.simulator.model import load_model
from drs_desktop.simulator.validation import check_number, check_size, check_string

_ISO_Z_PATTERN_TAIL = r"(\.[0-9]+)?Z"
_REAL_DRS_DATETIME = re.compile(
    r"[1-9][0-9]*-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]+)?\+00:00"
)
_IGNORED_TOP_LEVEL = {"ResponseMetadata"}


class _Checker:
    def __init__(self, *, strict_patterns: bool) -> None:
        self.strict_patterns = strict_patterns
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '<root>'}: {message}")

    def value(self, shape: Shape, value: Any, path: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self.structure(shape, value, path)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            if not isinstance(value, list):
                self.add(path, f"expected a list, got {type(value).__name__}")
                return
            for message in check_size(shape, len(value)):
                self.add(path, message)
            for i, item in enumerate(value):
                self.value(shape.member, item, f"{path}[{i}]")
        elif kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, dict):
                self.add(path, f"expected a map, got {type(value).__name__}")
                return
            for message in check_size(shape, len(value)):
                self.add(path, message)
            for key, item in value.items():
                if not isinstance(key, str):
                    self.add(path, f"map key {key!r} is not a string")
                    continue
                self.string(shape.key, key, f"{path}<key {key!r}>")
                self.value(shape.value, item, f"{path}.{key}")
        elif kind == "string":
            if not isinstance(value, str):
                self.add(path, f"expected a string, got {type(value).__name__}")
                return
            self.string(shape, value, path)
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.add(path, f"expected an integer, got {type(value).__name__}")
                return
            for message in check_number(shape, value):
                self.add(path, message)
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.add(path, f"expected a number, got {type(value).__name__}")
                return
            for message in check_number(shape, value):
                self.add(path, message)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.add(path, f"expected a boolean, got {type(value).__name__}")
        elif kind == "timestamp":
            if not isinstance(value, dt.datetime):
                self.add(path, f"expected a datetime after parsing, got {type(value).__name__}")
            elif value.tzinfo is None:
                self.add(path, "timestamp parsed without a time zone")
        elif kind == "blob":
            if not isinstance(value, bytes | bytearray):
                self.add(path, f"expected bytes, got {type(value).__name__}")

    def string(self, shape: Shape, value: str, path: str) -> None:
        problems = check_string(shape, value)
        pattern = shape.metadata.get("pattern", "")
        if (
            problems
            and not self.strict_patterns
            and pattern.endswith(_ISO_Z_PATTERN_TAIL)
            and _REAL_DRS_DATETIME.fullmatch(value)
        ):
            # Real DRS's "+00:00" form: accept the pattern deviation but keep the length limits.
            problems = [p for p in problems if "regular expression" not in p]
        for message in problems:
            self.add(path, f"{message} (value {value[:80]!r})")

    def structure(self, shape: StructureShape, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.add(path, f"expected a structure, got {type(value).__name__}")
            return
        for name in value:
            if name not in shape.members and not (not path and name in _IGNORED_TOP_LEVEL):
                self.add(_join(path, str(name)), f"member not in shape {shape.name}")
        for name in shape.required_members:
            if value.get(name) is None:
                self.add(_join(path, name), "required member missing")
        if shape.metadata.get("union"):
            set_members = [n for n in shape.members if value.get(n) is not None]
            if len(set_members) != 1:
                self.add(path, f"union {shape.name} must have exactly one member set, has {set_members}")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                self.value(member, value[name], _join(path, name))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate_output(
    operation_name: str, response: Mapping[str, Any], *, strict_patterns: bool = False
) -> list[str]:
    """Problems with a parsed boto3 response (``ResponseMetadata`` ignored); empty when it conforms.

    Checks required members, types (a ``datetime`` for timestamps after parsing), enums, string
    lengths and patterns, number ranges, list and map sizes, unions, and members the shape does not have.
    """
    operation = load_model().operation(operation_name)
    checker = _Checker(strict_patterns=strict_patterns)
    shape = operation.output_shape
    if shape is None:
        extra = sorted(k for k in response if k not in _IGNORED_TOP_LEVEL)
        if extra:
            checker.add("", f"{operation_name} has no output shape, but the response has {extra}")
        return checker.problems
    checker.structure(shape, response, "")
    return checker.problems


def validate_error(response: Mapping[str, Any], *, strict_patterns: bool = False) -> list[str]:
    """Problems with a ``ClientError.response``: its code must be a modeled error, its members conform.

    botocore merges a modeled error's members (``fieldList``, ``retryAfterSeconds``...) into the top
    level of the response, beside ``Error`` and ``ResponseMetadata``.
    """
    error = response.get("Error") or {}
    code = error.get("Code")
    shape = load_model().error_shape(str(code))
    if shape is None:
        return [f"Error.Code {code!r} is not a modeled DRS error"]
    checker = _Checker(strict_patterns=strict_patterns)
    members = {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}
    checker.structure(shape, members, "")
    if "code" in members and members["code"] != code:
        checker.add("code", f"body code {members['code']!r} differs from the exception name {code!r}")
    return checker.problems


def validate_ec2_output(operation_name: str, response: Mapping[str, Any]) -> list[str]:
    """Problems with a parsed boto3 EC2 response against botocore's EC2 output shape (the same checks as
    ``validate_output``); empty when it conforms. EC2's model has no datetime patterns to relax."""
    from drs_desktop.simulator.ec2_protocol import ec2_model

    operation = ec2_model().operation_model(operation_name)
    checker = _Checker(strict_patterns=True)
    if operation.output_shape is not None:
        checker.structure(operation.output_shape, response, "")
    return checker.problems


def validate_json_output(service: str, operation_name: str, response: Mapping[str, Any]) -> list[str]:
    """Problems with a parsed boto3 SSM or Lambda response against botocore's output shape (the same
    checks as ``validate_output``, patterns strict); empty when it conforms. Members botocore binds to
    the status line or headers (Lambda Invoke's ``StatusCode``, ``FunctionError``) are checked too."""
    from drs_desktop.simulator.json_model import operation

    model = operation(service, operation_name)
    if model is None:
        return [f"{service} has no operation {operation_name}"]
    checker = _Checker(strict_patterns=True)
    if model.output_shape is not None:
        parsed = {k: v for k, v in response.items() if k != "Payload"}  # a stream, not a value
        checker.structure(model.output_shape, parsed, "")
    return checker.problems


def validate_sns_output(operation_name: str, response: Mapping[str, Any]) -> list[str]:
    """Problems with a parsed boto3 SNS response against botocore's SNS output shape (patterns strict);
    empty when it conforms."""
    from drs_desktop.simulator.sns import operation

    model = operation(operation_name)
    if model is None:
        return [f"SNS has no operation {operation_name}"]
    checker = _Checker(strict_patterns=True)
    if model.output_shape is not None:
        checker.structure(model.output_shape, response, "")
    return checker.problems
