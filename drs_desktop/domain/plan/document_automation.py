"""Automation steps in the plan file (format 3, ``drs-desktop/plan@3``): read and written.

A wave's ``before`` and ``after`` hold, besides ``{approval: ...}`` and ``{wait_minutes: N}``, steps of the
form ``{kind: health-check|ssm|lambda|script, name, ...}`` (docs/plan-format.md, "Format 3")::

    - kind: health-check
      name: db answers
      probe: tcp
      port: 5432
      timeout: 5m          # the policy: timeout, retries, on_failure, run_in (all optional)
      on_failure: fail-wave

Structure only, like ``domain.plan.document``: shapes, types, the enum spellings and the duration
notation. What the values mean (ports, patterns, servers of the wave, secrets in keys) is
``domain.plan.validation_automation``'s job. A value that is not JSON (a payload holding a date, a NaN)
is refused here, because it could not be written back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from drs_desktop.domain.plan.automation import (
    DEFAULT_POLICY,
    STEP_KINDS,
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.document_base import (
    AmbiguousBoolean,
    AmbiguousNumber,
    ShapeReader,
    join_path,
    quote,
    type_name,
)

__all__ = [
    "KIND_KEYS",
    "POLICY_KEYS",
    "automation_step_to_document",
    "duration_text",
    "read_automation_step",
]

POLICY_KEYS = ("timeout", "retries", "on_failure", "run_in")
#: Each kind's keys in the canonical order (``kind`` and ``name`` first, the policy last).
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "health-check": (
        "kind",
        "name",
        "servers",
        "probe",
        "port",
        "path",
        "expect_status",
        "expect_body",
        "interval",
        "must_pass",
        "reach",
        "via",
        *POLICY_KEYS,
    ),
    "ssm": ("kind", "name", "servers", "document", "document_version", "parameters", *POLICY_KEYS),
    "lambda": ("kind", "name", "function", "payload", *POLICY_KEYS),
    "script": ("kind", "name", "path", "arguments", "environment", *POLICY_KEYS),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "health-check": ("name", "probe", "port"),
    "ssm": ("name", "document"),
    "lambda": ("name", "function"),
    "script": ("name", "path"),
}
_DEFAULT_HEALTH = HealthCheckStep(name="", probe=Probe.TCP, port=0)
#: ``expect_status: any``: no status is expected (an HTTP check on the body only).
ANY_STATUS = "any"
_DURATION = re.compile(r"^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")
_MAX_PAYLOAD_DEPTH = 16

E = TypeVar("E", bound=StrEnum)

# ------------------------------------------------------------------------------------------- export


def duration_text(seconds: int) -> str:
    """``5m``, ``90s`` -> ``1m30s``, ``1h30m``: the canonical spelling of a positive number of seconds."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def _duration_out(seconds: int) -> str | int:
    # A duration no plan may hold (0, negative) is written as the bare number, so an invalid plan still
    # round-trips and validation names it.
    return duration_text(seconds) if seconds > 0 else seconds


def automation_step_to_document(step: AutomationStep) -> dict[str, Any]:
    """The canonical document of ``step``: keys in ``KIND_KEYS`` order, defaults left out."""
    doc: dict[str, Any] = {"kind": STEP_KINDS[type(step)], "name": step.name}
    if isinstance(step, HealthCheckStep):
        if step.servers:
            doc["servers"] = list(step.servers)
        doc["probe"] = step.probe.value
        doc["port"] = step.port
        if step.path != _DEFAULT_HEALTH.path:
            doc["path"] = step.path
        if step.expect_status != _DEFAULT_HEALTH.expect_status:
            doc["expect_status"] = ANY_STATUS if step.expect_status is None else step.expect_status
        if step.expect_body is not None:
            doc["expect_body"] = step.expect_body
        if step.interval_seconds != _DEFAULT_HEALTH.interval_seconds:
            doc["interval"] = _duration_out(step.interval_seconds)
        if step.must_pass is not None:
            doc["must_pass"] = step.must_pass
        if step.reach is not Reach.PRIVATE:
            doc["reach"] = step.reach.value
        if step.via is not None:
            doc["via"] = step.via
    elif isinstance(step, SsmStep):
        if step.servers:
            doc["servers"] = list(step.servers)
        doc["document"] = step.document
        if step.document_version is not None:
            doc["document_version"] = step.document_version
        if step.parameters:
            doc["parameters"] = {key: list(values) for key, values in step.parameters.items()}
    elif isinstance(step, LambdaStep):
        doc["function"] = step.function
        if step.payload:
            doc["payload"] = _json_ready(step.payload)
    else:
        doc["path"] = step.path
        if step.arguments:
            doc["arguments"] = list(step.arguments)
        if step.environment:
            doc["environment"] = dict(step.environment)
    doc.update(_policy_to_document(step.policy))
    return doc


def _policy_to_document(policy: StepPolicy) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if policy.timeout_seconds != DEFAULT_POLICY.timeout_seconds:
        doc["timeout"] = _duration_out(policy.timeout_seconds)
    if policy.retries != DEFAULT_POLICY.retries:
        doc["retries"] = policy.retries
    if policy.on_failure is not DEFAULT_POLICY.on_failure:
        doc["on_failure"] = policy.on_failure.value
    if policy.run_in is not DEFAULT_POLICY.run_in:
        doc["run_in"] = policy.run_in.value
    return doc


def _json_ready(value: object) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


# ------------------------------------------------------------------------------------------- import


def read_automation_step(reader: ShapeReader, value: Mapping[Any, Any], path: str) -> AutomationStep | None:
    """The automation step ``value`` (a mapping holding ``kind``) describes; None, with the problems
    added to ``reader``, when it cannot be read."""
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in KIND_KEYS:
        kinds = ", ".join(KIND_KEYS)
        got = f"unknown step kind {quote(kind)}" if isinstance(kind, str) else f"got {type_name(kind)}"
        reader.add(join_path(path, "kind"), f"{got}; a step's kind is one of: {kinds}")
        return None
    fields = reader.mapping(value, path, KIND_KEYS[kind], _REQUIRED[kind], f"a {kind} step")
    if fields is None:
        return None
    step = _Step(reader, fields, path)
    before = len(reader.problems)
    name = step.text("name") or ""
    policy = step.policy()
    built: AutomationStep
    if kind == "health-check":
        built = HealthCheckStep(
            name=name,
            probe=step.enum("probe", Probe, Probe.TCP),
            port=step.integer("port", "a port number", 0),
            servers=step.servers(),
            path=step.text("path") or _DEFAULT_HEALTH.path,
            expect_status=step.status(),
            expect_body=step.text("expect_body"),
            interval_seconds=step.duration("interval", _DEFAULT_HEALTH.interval_seconds),
            must_pass=step.optional_integer("must_pass", "a number of targets"),
            reach=step.enum("reach", Reach, Reach.PRIVATE),
            via=step.text("via"),
            policy=policy,
        )
    elif kind == "ssm":
        built = SsmStep(
            name=name,
            document=step.text("document") or "",
            parameters=step.parameters(),
            servers=step.servers(),
            document_version=step.text("document_version"),
            policy=policy,
        )
    elif kind == "lambda":
        built = LambdaStep(
            name=name, function=step.text("function") or "", payload=step.payload(), policy=policy
        )
    else:
        built = ScriptStep(
            name=name,
            path=step.text("path") or "",
            arguments=reader.string_list(fields.get("arguments"), join_path(path, "arguments"), "arguments"),
            environment=step.environment(),
            policy=policy,
        )
    return built if len(reader.problems) == before else None


class _Step:
    """One step's fields, read with the reader's strict shapes; every problem goes to the reader."""

    def __init__(self, reader: ShapeReader, fields: Mapping[str, Any], path: str) -> None:
        self.reader = reader
        self.fields = fields
        self.path = path

    def at(self, key: str) -> str:
        return join_path(self.path, key)

    def text(self, key: str) -> str | None:
        value = self.fields.get(key)
        return None if value is None else self.reader.string(value, self.at(key))

    def servers(self) -> tuple[str, ...]:
        return self.reader.string_list(self.fields.get("servers"), self.at("servers"), "source server IDs")

    def integer(self, key: str, what: str, default: int) -> int:
        found = self.optional_integer(key, what)
        return default if found is None else found

    def optional_integer(self, key: str, what: str) -> int | None:
        value = self.fields.get(key)
        if value is None:
            return None
        return read_integer(self.reader, value, self.at(key), what)

    def enum(self, key: str, kind: type[E], default: E) -> E:
        value = self.fields.get(key)
        if value is None:
            return default
        choices = ", ".join(member.value for member in kind)
        if isinstance(value, str) and value in {member.value for member in kind}:
            return kind(value)
        got = quote(value) if isinstance(value, str) else type_name(value)
        self.reader.add(self.at(key), f"must be one of {choices}; got {got}")
        return default

    def duration(self, key: str, default: int) -> int:
        value = self.fields.get(key)
        if value is None:
            return default
        found = read_duration(self.reader, value, self.at(key))
        return default if found is None else found

    def status(self) -> int | None:
        value = self.fields.get("expect_status")
        if value is None:
            return _DEFAULT_HEALTH.expect_status
        if value == ANY_STATUS:
            return None
        found = read_integer(
            self.reader, value, self.at("expect_status"), f"an HTTP status or {ANY_STATUS!r}"
        )
        return _DEFAULT_HEALTH.expect_status if found is None else found

    def policy(self) -> StepPolicy:
        return StepPolicy(
            timeout_seconds=self.duration("timeout", DEFAULT_POLICY.timeout_seconds),
            retries=self.integer("retries", "a number of retries", DEFAULT_POLICY.retries),
            on_failure=self.enum("on_failure", OnFailure, DEFAULT_POLICY.on_failure),
            run_in=self.enum("run_in", RunIn, DEFAULT_POLICY.run_in),
        )

    def parameters(self) -> dict[str, tuple[str, ...]]:
        """SSM parameters: each a string or a list of strings (SSM takes lists; one string is one item)."""
        out: dict[str, tuple[str, ...]] = {}
        for key, item in self.string_keyed("parameters", "parameter names to values").items():
            where = join_path(self.at("parameters"), key)
            if isinstance(item, list | tuple):
                out[key] = self.reader.string_list(item, where, "strings")
            else:
                text = self.reader.string(item, where)
                if text is not None:
                    out[key] = (text,)
        return out

    def environment(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, item in self.string_keyed("environment", "variable names to values").items():
            text = self.reader.string(item, join_path(self.at("environment"), key))
            if text is not None:
                out[key] = text
        return out

    def payload(self) -> dict[str, Any]:
        value = self.fields.get("payload")
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.reader.add(self.at("payload"), f"must be a JSON object (a mapping), got {type_name(value)}")
            return {}
        found = _json_value(self.reader, value, self.at("payload"), 0)
        return found if isinstance(found, dict) else {}

    def string_keyed(self, key: str, what: str) -> dict[str, Any]:
        value = self.fields.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.reader.add(self.at(key), f"must be a mapping of {what}, got {type_name(value)}")
            return {}
        out: dict[str, Any] = {}
        for name, item in value.items():
            if isinstance(name, str) and self.reader.string(name, self.at(key)) is not None:
                out[name] = item
            elif not isinstance(name, str):
                self.reader.add(self.at(key), f"names must be strings, got {type_name(name)} {quote(name)}")
        return out


def read_integer(reader: ShapeReader, value: object, path: str, what: str) -> int | None:
    """A whole number written in plain digits; ``what`` names it in the refusal."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, AmbiguousNumber):
        reader.add(path, value.problem())
    elif isinstance(value, str):
        reader.add(path, f"must be {what} (a whole number), got a string ({quote(value)})")
    else:
        reader.add(path, f"must be {what} (a whole number), got {type_name(value)}")
    return None


def read_duration(reader: ShapeReader, value: object, path: str) -> int | None:
    """Seconds, from a whole number of seconds or ``90s``, ``5m``, ``1h30m`` (whole hours, minutes and
    seconds, in that order)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    shape = "a duration: a whole number of seconds, or 90s, 5m, 1h30m"
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is not None and any(match.groups()):
            hours, minutes, seconds = (int(group) if group else 0 for group in match.groups())
            return hours * 3600 + minutes * 60 + seconds
        if value.startswith("-"):
            reader.add(path, f"must be a positive duration, got {quote(value)}")
        else:
            reader.add(path, f"must be {shape}; got {quote(value)}")
        return None
    if isinstance(value, AmbiguousNumber):
        reader.add(path, value.problem())
    else:
        reader.add(path, f"must be {shape}; got {type_name(value)}")
    return None


def _json_value(reader: ShapeReader, value: object, path: str, depth: int) -> object:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None); problems for the rest."""
    if depth > _MAX_PAYLOAD_DEPTH:
        reader.add(path, f"nests deeper than {_MAX_PAYLOAD_DEPTH} levels")
        return None
    if isinstance(value, Mapping):
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                reader.add(path, f"keys must be strings, got {type_name(key)} {quote(key)}")
                continue
            if reader.string(key, path) is not None:
                out[key] = _json_value(reader, item, join_path(path, key), depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(reader, item, join_path(path, i), depth + 1) for i, item in enumerate(value)]
    if isinstance(value, str):
        return reader.string(value, path)
    if isinstance(value, AmbiguousNumber | AmbiguousBoolean):
        reader.add(path, value.problem())
        return None
    if isinstance(value, float) and not math.isfinite(value):
        reader.add(path, f"{value} is not a JSON number")
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    reader.add(
        path, f"must be JSON data (a string, number, boolean, null, list or mapping), got {type_name(value)}"
    )
    return None
