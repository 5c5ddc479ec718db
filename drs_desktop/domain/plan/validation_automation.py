"""What is wrong with a wave's automation steps (health checks, SSM documents, Lambda functions, scripts).

Checked in the plan, before anything runs, so that a step fails on the worst day for a reason of that day
and never for a typo: a server that is not the wave's, a check that must pass on more targets than it
has, a probe that cannot go where it is sent, a timeout no run could honour, a name SSM or Lambda would
refuse (their own patterns, botocore's models), and a key that looks like it holds a secret (a plan file
is exported, shared and kept in version control, so it never holds one: the same rule as the targets').

Pure: ``(path, message, is_error)`` triples, like ``domain.plan.validation_launch``; the paths are the
plan file's (``waves[0].after[1].port``). Whether the document, the function or the script exist is
preflight's question, not this module's.

This is the one place the rules of a valid step live. The plan editor's forms show the first of
``step_problems`` (a step alone: ``wave_servers=None``) through ``domain.plan.edit_automation``, so a
step the editor accepts is one validation accepts, and the two cannot drift apart. A message either
names what it is about ("'x' is not an SSM document name") or is a predicate of its field ("must be
...", "holds ...", "is not JSON ..."), which a reader shows after the field's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath

from drs_desktop.domain.plan.automation import (
    AUTOMATION_STEPS,
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.document_base import join_path, quote
from drs_desktop.domain.plan.document_v2 import secret_key_message
from drs_desktop.domain.plan.model import SERVER_ID_PATTERN, Wave
from drs_desktop.domain.safe_text import name_problem, text_problem
from drs_desktop.domain.script_trust import code_variable_problem

__all__ = [
    "FUNCTION_PATTERN",
    "INSTANCE_ID_PATTERN",
    "MAX_PORT",
    "MAX_RETRIES",
    "MAX_TIMEOUT_SECONDS",
    "SSM_DOCUMENT_PATTERN",
    "automation_problems",
    "step_problems",
]

Found = list[tuple[str, str, bool]]

#: The longest a step may take: a day. A longer step is a typo, and holds the run past any RTO.
MAX_TIMEOUT_SECONDS = 24 * 3600
#: Retries after a failed attempt (each attempt is journaled; more than this is a loop, not a retry).
MAX_RETRIES = 10
MAX_PORT = 65535
#: SSM SendCommand's DocumentName (botocore's ``DocumentARN`` shape: a name or an ARN).
SSM_DOCUMENT_PATTERN = re.compile(r"[a-zA-Z0-9_\-.:/]{3,128}")
#: SendCommand's DocumentVersion.
SSM_VERSION_PATTERN = re.compile(r"\$LATEST|\$DEFAULT|[1-9][0-9]*")
#: Lambda Invoke's FunctionName (botocore's ``NamespacedFunctionName``, 1 to 256 characters): a name, a
#: partial ARN (``123456789012:function:name``) or an ARN, each with an optional version or alias.
FUNCTION_PATTERN = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
#: An EC2 instance ID (the instance an SSM-reached health check probes from).
INSTANCE_ID_PATTERN = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def automation_problems(wave: Wave, path: str, wave_servers: Sequence[str] | None) -> Found:
    """Every problem of ``wave``'s automation steps; ``wave_servers`` is the wave's servers, None when
    they are not all known here (a tag group without its inventory: membership is not judged then)."""
    found: Found = []
    names: dict[str, str] = {}
    for side, steps in (("before", wave.before), ("after", wave.after)):
        for index, step in enumerate(steps):
            if not isinstance(step, AUTOMATION_STEPS):
                continue
            where = join_path(join_path(path, side), index)
            found.extend(
                (f"{where}.{key}", message, True) for key, message in step_problems(step, wave_servers)
            )
            if step.name.strip():
                first = names.setdefault(step.name, where)
                if first != where:
                    found.append(
                        (
                            join_path(where, "name"),
                            f"another step of this wave is named {quote(step.name)} ({first}); the "
                            "evidence tells them apart by place only",
                            False,
                        )
                    )
    return found


def step_problems(step: AutomationStep, wave_servers: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Every error of one step, in field order, as ``(key, message)``: ``key`` is the path inside the step
    (``port``, ``servers[0]``, ``parameters.commands[1]``). ``wave_servers`` is the wave's servers, None
    when they are not known (a step alone in the editor, a tag group without its inventory): the step's
    servers are then not judged against the wave, nor ``must_pass`` against a wave's count."""
    checker = _Checker(wave_servers)
    checker.step(step)
    return checker.found


class _Checker:
    def __init__(self, wave_servers: Sequence[str] | None) -> None:
        self.found: list[tuple[str, str]] = []
        self.wave_servers = wave_servers

    def error(self, key: str, message: str) -> None:
        self.found.append((key, message))

    def step(self, step: AutomationStep) -> None:
        if not step.name.strip():
            self.error("name", "a step needs a name (the progress view and the evidence show it)")
        else:
            self.name(step.name, "name")
        if isinstance(step, HealthCheckStep):
            self.health_check(step)
        elif isinstance(step, SsmStep):
            self.ssm(step)
        elif isinstance(step, LambdaStep):
            self.lambda_(step)
        else:
            self.script(step)
        self.policy(step.policy)

    def name(self, value: str, key: str) -> None:
        problem = name_problem(value)
        if problem is not None:
            self.error(key, problem)

    # -- the kinds

    def health_check(self, step: HealthCheckStep) -> None:
        targets = self.servers(step.servers)
        if not 1 <= step.port <= MAX_PORT:
            self.error("port", f"must be a port number from 1 to {MAX_PORT}, got {step.port}")
        web = step.probe in (Probe.HTTP, Probe.HTTPS)
        if step.expect_body is not None and not web:
            self.error(
                "expect_body", f"a body is only read by an http or https probe, not {step.probe.value}"
            )
        if web:
            if not step.path.startswith("/"):
                self.error("path", f"an HTTP path starts with '/', got {quote(step.path)}")
            else:
                self.name(step.path, "path")
            if step.expect_status is not None and not 100 <= step.expect_status <= 599:
                self.error(
                    "expect_status", f"must be an HTTP status from 100 to 599, got {step.expect_status}"
                )
            if step.expect_status is None and step.expect_body is None:
                self.error(
                    "expect_status", "with no status and no body expected, the check would pass on anything"
                )
        if step.expect_body is not None:
            if not step.expect_body:
                self.error("expect_body", "must not be empty (leave it out to check the status only)")
            if "\n" in step.expect_body or "\r" in step.expect_body:
                # A probe through SSM matches it with grep -F, which reads each line as a pattern of its own.
                self.error("expect_body", "must be one line (a line break would match any one of its lines)")
            else:
                self.text(step.expect_body, "expect_body")
        if step.must_pass is not None:
            if step.must_pass < 1:
                self.error(
                    "must_pass",
                    f"must be at least 1, got {step.must_pass} (none given: every target must pass)",
                )
            elif targets is not None and step.must_pass > targets:
                self.error(
                    "must_pass",
                    f"{step.must_pass} must pass, but the check has {targets} target{'s' * (targets != 1)}",
                )
        self.duration(step.interval_seconds, "interval")
        if 0 < step.policy.timeout_seconds <= step.interval_seconds:
            self.error(
                "interval",
                f"the interval ({step.interval_seconds}s) must be shorter than the timeout "
                f"({step.policy.timeout_seconds}s), or the check is probed once",
            )
        self.reach(step)

    def reach(self, step: HealthCheckStep) -> None:
        if step.reach is Reach.SSM:
            if step.via is None or not INSTANCE_ID_PATTERN.fullmatch(step.via):
                got = "nothing" if step.via is None else quote(step.via)
                self.error("via", f"reach ssm probes from an EC2 instance: give its ID (i-...), got {got}")
        elif step.reach is Reach.LAMBDA:
            if step.via is None:
                self.error("via", "reach lambda probes from a Lambda function: give its name or ARN")
            else:
                self.function(step.via, "via")
        elif step.via is not None:
            self.error(
                "via", f"only reach ssm or lambda probe through something; reach {step.reach.value} does not"
            )

    def ssm(self, step: SsmStep) -> None:
        self.servers(step.servers)
        if not step.document.strip():
            self.error(
                "document", "an SSM step needs the document to run (its name or ARN, e.g. AWS-RunShellScript)"
            )
        elif not SSM_DOCUMENT_PATTERN.fullmatch(step.document):
            self.error(
                "document",
                f"{quote(step.document)} is not an SSM document name or ARN (3 to 128 letters, digits and "
                "_-.:/, e.g. AWS-RunShellScript)",
            )
        version = step.document_version
        if version is not None and not SSM_VERSION_PATTERN.fullmatch(version):
            self.error(
                "document_version", f"must be $DEFAULT, $LATEST or a version number, got {quote(version)}"
            )
        for key, values in step.parameters.items():
            where = join_path("parameters", key)
            if not key.strip():
                self.error("parameters", "a parameter name must not be empty")
            elif not self.secret(key, where):
                self.name(key, where)
            if not values:
                self.error(where, f"SSM parameter {quote(key)} needs a value")
            for index, value in enumerate(values):
                self.text(value, join_path(where, index))

    def lambda_(self, step: LambdaStep) -> None:
        if not step.function.strip():
            self.error("function", "a Lambda step needs the function to invoke (its name or ARN)")
        else:
            self.function(step.function, "function")
        self.payload(step.payload)

    def payload(self, payload: object) -> None:
        """A JSON object (the run adds its facts to it), that JSON can write, with no secret in its keys."""
        if not isinstance(payload, Mapping):
            self.error("payload", "must be a JSON object ({...}); the run adds its facts to it")
            return
        try:
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self.error("payload", f"is not JSON: {exc}")
            return
        self.secret_keys(payload, "payload")

    def function(self, value: str, key: str) -> None:
        if not 1 <= len(value) <= 256 or not FUNCTION_PATTERN.fullmatch(value):
            self.error(
                key,
                f"{quote(value)} is not a Lambda function name or ARN (1 to 256 characters, as Invoke takes)",
            )

    def script(self, step: ScriptStep) -> None:
        if not step.path.strip():
            self.error("path", "a local script needs the path of the program to run")
        elif not (PurePosixPath(step.path).is_absolute() or PureWindowsPath(step.path).is_absolute()):
            self.error(
                "path", f"must be an absolute path (the desktop runs it by path), got {quote(step.path)}"
            )
        else:
            self.name(step.path, "path")
        for index, argument in enumerate(step.arguments):
            self.text(argument, join_path("arguments", index))
        for key, value in step.environment.items():
            where = join_path("environment", key)
            if self.secret(key, where):
                continue
            if not _ENV_NAME.fullmatch(key):
                self.error(where, f"{quote(key)} is not an environment variable name (letters, digits, _)")
            elif key.upper().startswith("DRS_"):
                self.error(where, f"names starting DRS_ are the run's facts, which the desktop sets ({key})")
            elif (problem := code_variable_problem(key)) is not None:
                self.error(where, problem)
            self.text(value, where)

    # -- shared

    def servers(self, servers: tuple[str, ...]) -> int | None:
        """Checks the step's own servers; the number of targets it has (None: not known here)."""
        seen: set[str] = set()
        members = set(self.wave_servers) if self.wave_servers is not None else None
        for index, server_id in enumerate(servers):
            where = join_path("servers", index)
            if not SERVER_ID_PATTERN.match(server_id):
                self.error(
                    where, f"{quote(server_id)} is not a DRS source server ID (s- and 17 letters or digits)"
                )
            elif server_id in seen:
                self.error(where, f"{server_id} is listed twice")
            elif members is not None and server_id not in members:
                self.error(where, f"{server_id} is not a server of this wave")
            seen.add(server_id)
        if servers:
            return len(seen)
        return len(self.wave_servers) if self.wave_servers is not None else None

    def policy(self, policy: StepPolicy) -> None:
        self.duration(policy.timeout_seconds, "timeout")
        if not 0 <= policy.retries <= MAX_RETRIES:
            self.error("retries", f"must be from 0 to {MAX_RETRIES}, got {policy.retries}")

    def duration(self, seconds: int, key: str) -> None:
        if seconds <= 0:
            self.error(key, f"must be more than 0 seconds, got {seconds}")
        elif seconds > MAX_TIMEOUT_SECONDS:
            self.error(key, f"must be at most 24h ({MAX_TIMEOUT_SECONDS} seconds), got {seconds}")

    def text(self, value: str, key: str) -> None:
        problem = text_problem(value)
        if problem is not None:
            self.error(key, problem)

    def secret(self, key: str, where: str) -> bool:
        message = secret_key_message(key)
        if message is not None:
            self.error(where, message)
        return message is not None

    def secret_keys(self, value: object, where: str) -> None:
        """The secret-key rule on every key of a JSON payload, at every depth."""
        if isinstance(value, Mapping):
            for key, item in value.items():
                inner = join_path(where, str(key))
                self.secret(str(key), inner)
                self.secret_keys(item, inner)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                self.secret_keys(item, join_path(where, index))
