"""Server-side input validation, walking botocore's input shapes the way the DRS service does.

botocore checks only required members, types and minimums on the client (reference §2.4); maximums,
list sizes, patterns and enums reach the service unchanged, which answers with a 400 ValidationException
carrying ``reason`` and ``fieldList``. This module does the same for every operation in the model.

Choices, where the service's behaviour is not documented:

- Patterns are matched with ``re.fullmatch``: botocore strips the ``^...$`` anchors from the Smithy model
  (the published DRS Smithy model has ``^drsjob-[0-9a-zA-Z]{17}$``), so the intended match is anchored.
  A pattern Python cannot compile is skipped with one warning rather than failing every request.
- A value of the wrong JSON type cannot be deserialized at all, so it is reported with reason
  ``cannotParse``; constraint violations (required, length, range, pattern, enum, union) with reason
  ``fieldValidationFailed``. Every violation is reported, as AWS's "N validation errors detected" does.
- ``fieldList[].name`` is the member path: ``sourceServers[0].sourceServerID``, ``tags.<key>``.
- Members the shape does not know are ignored, as AWS services do for forward compatibility.
- JSON ``null`` for a member means "not set".
- Values of ``sensitive`` shapes (tags) are never echoed back in messages.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from drs_desktop.simulator.contract import SimulatorError, validation_error

logger = logging.getLogger(__name__)

# Java's int and long: the service deserializes into them, so larger numbers cannot parse.
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_MAX_REPORTED = 100  # fieldList entries; a 1,000-item list of bad IDs should not produce a 1 MB error


@dataclass(frozen=True)
class Issue:
    path: str
    message: str
    value: str | None  # already rendered for the message; None when sensitive or not scalar
    parse: bool  # a type error (cannotParse) rather than a constraint (fieldValidationFailed)


@functools.cache
def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a model pattern once; None when Python's ``re`` cannot (the model's are Java regexes)."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        logger.warning("Cannot compile model pattern %r (%s); not enforcing it", pattern, exc)
        return None


def _render(value: Any, sensitive: bool) -> str | None:
    if sensitive or isinstance(value, dict | list):
        return None
    text = str(value)
    return text if len(text) <= 128 else text[:125] + "..."


def check_string(shape: Shape, value: str) -> list[str]:
    """Constraint messages for a string value (shared with the output conformance checker)."""
    problems: list[str] = []
    enum = shape.enum
    if enum and value not in enum:
        problems.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    meta = shape.metadata
    length_ok = True
    if "min" in meta and len(value) < meta["min"]:
        problems.append(f"Member must have length greater than or equal to {meta['min']}")
        length_ok = False
    if "max" in meta and len(value) > meta["max"]:
        problems.append(f"Member must have length less than or equal to {meta['max']}")
        length_ok = False
    pattern = meta.get("pattern")
    # Skip the regex on a value whose length already failed: it could be huge, and one error suffices.
    if pattern and length_ok:
        compiled = compiled_pattern(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            problems.append(f"Member must satisfy regular expression pattern: {pattern}")
    return problems


def check_number(shape: Shape, value: int | float) -> list[str]:
    return _check_bounds(shape, value, "value")


def check_size(shape: Shape, size: int) -> list[str]:
    return _check_bounds(shape, size, "length")


def _check_bounds(shape: Shape, amount: int | float, what: str) -> list[str]:
    """The model's ``min``/``max`` on a number (its value) or a string, list or map (its length)."""
    meta = shape.metadata
    problems: list[str] = []
    if "min" in meta and amount < meta["min"]:
        problems.append(f"Member must have {what} greater than or equal to {meta['min']}")
    if "max" in meta and amount > meta["max"]:
        problems.append(f"Member must have {what} less than or equal to {meta['max']}")
    return problems


def parse_timestamp(value: Any) -> dt.datetime | None:
    """Epoch seconds (the rest-json body default) or ISO 8601; None when neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


class _Walker:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def problem(self, path: str, message: str, value: Any, sensitive: bool, *, parse: bool = False) -> None:
        self.issues.append(Issue(path, message, _render(value, sensitive), parse))

    def value(self, shape: Shape, value: Any, path: str, sensitive: bool) -> Any:
        sensitive = sensitive or bool(shape.metadata.get("sensitive"))
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self.structure(shape, value, path, sensitive)
        if kind == "list":
            assert isinstance(shape, ListShape)
            if not isinstance(value, list):
                self.problem(path, "Member must be a list", value, sensitive, parse=True)
                return None
            for message in check_size(shape, len(value)):
                self.problem(path, message, None, True)
            return [self.value(shape.member, item, f"{path}[{i}]", sensitive) for i, item in enumerate(value)]
        if kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, dict):
                self.problem(path, "Member must be a map", value, sensitive, parse=True)
                return None
            for message in check_size(shape, len(value)):
                self.problem(path, message, None, True)
            result = {}
            for key, item in value.items():
                for message in check_string(shape.key, key):
                    self.problem(path, f"Map key: {message}", key, sensitive)
                result[key] = self.value(shape.value, item, f"{path}.{key}", sensitive)
            return result
        if kind == "string":
            if not isinstance(value, str):
                self.problem(path, "Member must be a string", value, sensitive, parse=True)
                return None
            for message in check_string(shape, value):
                self.problem(path, message, value, sensitive)
            return value
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(path, f"Member must be an {kind}", value, sensitive, parse=True)
                return None
            low, high = _INT_RANGE[kind]
            if not low <= value <= high:
                self.problem(path, f"Member must fit in an {kind}", value, sensitive, parse=True)
                return None
            for message in check_number(shape, value):
                self.problem(path, message, value, sensitive)
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.problem(path, "Member must be a number", value, sensitive, parse=True)
                return None
            for message in check_number(shape, value):
                self.problem(path, message, value, sensitive)
            return float(value)
        if kind == "boolean":
            if not isinstance(value, bool):
                self.problem(path, "Member must be a boolean", value, sensitive, parse=True)
                return None
            return value
        if kind == "timestamp":
            parsed = parse_timestamp(value)
            if parsed is None:
                self.problem(path, "Member must be a timestamp", value, sensitive, parse=True)
            return parsed
        if kind == "blob":
            try:
                if not isinstance(value, str):
                    raise ValueError
                return base64.b64decode(value, validate=True)
            except (ValueError, binascii.Error):
                self.problem(path, "Member must be base64-encoded", None, True, parse=True)
                return None
        # Document types and anything newer: pass through unchecked.
        return value

    def structure(self, shape: StructureShape, value: Any, path: str, sensitive: bool) -> Any:
        if not isinstance(value, dict):
            self.problem(path or "body", "Member must be a structure", value, sensitive, parse=True)
            return None
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            result[name] = self.value(member, item, f"{path}.{name}" if path else name, sensitive)
        for name in shape.required_members:
            if value.get(name) is None:
                self.problem(f"{path}.{name}" if path else name, "Member must not be null", None, True)
        if shape.metadata.get("union") and path:
            count = sum(1 for name in shape.members if value.get(name) is not None)
            if count != 1:
                self.problem(path, f"Exactly one member must be set, found {count}", None, True)
        return result


def deserialize_input(shape: StructureShape | None, params: dict[str, Any]) -> dict[str, Any]:
    """Check ``params`` (JSON-decoded body, labels, query, headers merged) against the input shape.

    Returns the params with model types applied (timestamps as aware datetimes, blobs as bytes) and
    unknown members dropped; raises a ValidationException ``SimulatorError`` listing every violation.
    """
    if shape is None:
        return {}
    walker = _Walker()
    result = walker.structure(shape, params, "", False)
    if walker.issues:
        raise _validation_exception(walker.issues)
    return result if isinstance(result, dict) else {}


def _validation_exception(issues: list[Issue]) -> SimulatorError:
    parse = [i for i in issues if i.parse]
    # Deserialization fails before validation runs, so a type error hides the constraint errors.
    chosen = parse or issues
    reason = "cannotParse" if parse else "fieldValidationFailed"
    parts = []
    for issue in chosen[:_MAX_REPORTED]:
        shown = f"Value '{issue.value}' at" if issue.value is not None else "Value at"
        parts.append(f"{shown} '{issue.path}' failed to satisfy constraint: {issue.message}")
    count = len(chosen)
    noun = "error" if count == 1 else "errors"
    message = f"{count} validation {noun} detected: " + "; ".join(parts)
    if len(message) > 8000:
        message = message[:7997] + "..."
    return validation_error(
        message, reason=reason, fields=[(i.path, i.message) for i in chosen[:_MAX_REPORTED]]
    )


def cannot_parse(message: str) -> SimulatorError:
    """The body is not JSON (or not an object): DRS models this as reason ``cannotParse``."""
    return validation_error(message, reason="cannotParse")
