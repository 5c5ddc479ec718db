"""What the editor refuses in an automation step, with the sentence it shows, before the step enters a plan.

The editor's forms call ``automation_step_problem`` as the operator types (OK stays disabled while there
is one) and ``edit_parts`` calls ``check_automation_step`` on every add and replace, so a step that a
form did not check (a test, a future caller) is refused the same way. Pure, stdlib only.

These are the rules a single step can be judged by on its own. What needs the plan or the inventory
(a step's servers belong to its wave, ``must_pass`` within the servers a tag selector finds) is plan
validation's (``domain.plan.validation``), shown in the problems list like every other problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath

from drs_desktop.domain.plan.automation import (
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.document import quote
from drs_desktop.domain.plan.document_v2 import secret_key_message
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.model import SERVER_ID_PATTERN

#: One attempt of a step runs at most a day; a longer one is a mistake in the unit.
MAX_STEP_TIMEOUT_SECONDS = 24 * 3600
#: Retries after a failed attempt (each attempt is journaled; more than this is a loop, not a retry).
MAX_STEP_RETRIES = 10
MAX_PORT = 65535
#: SSM's DocumentARN/name pattern (SendCommand's DocumentName), as botocore's model gives it.
SSM_DOCUMENT_PATTERN = re.compile(r"^[a-zA-Z0-9_\-.:/]{3,128}\Z")
#: Lambda's FunctionName pattern for Invoke, as botocore's model gives it (a name, a partial or a whole ARN,
#: with an optional qualifier), anchored.
LAMBDA_FUNCTION_PATTERN = re.compile(
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9\-_.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?\Z"
)
MAX_FUNCTION_LENGTH = 256
#: SendCommand's DocumentVersion: $LATEST, $DEFAULT or a version number.
SSM_VERSION_PATTERN = re.compile(r"^(\$LATEST|\$DEFAULT|[1-9][0-9]*)\Z")
INSTANCE_ID_PATTERN = re.compile(r"^i-[0-9a-f]{8,17}\Z")
#: An environment variable's name as every shell reads it (POSIX: letters, digits, underscore).
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


def check_automation_step(step: AutomationStep) -> AutomationStep:
    """``step`` unchanged, or ``PlanEditError`` with the first thing wrong with it."""
    problem = automation_step_problem(step)
    if problem:
        raise PlanEditError(problem)
    return step


def automation_step_problem(step: AutomationStep) -> str:
    """The first thing wrong with ``step`` as one sentence, "" when nothing is."""
    if not step.name.strip():
        return "a step needs a name (the progress view and the evidence show it)"
    problem = _policy(step.policy)
    if problem:
        return problem
    if isinstance(step, HealthCheckStep):
        return _health_check(step)
    if isinstance(step, SsmStep):
        return _ssm(step)
    if isinstance(step, LambdaStep):
        return _lambda(step)
    if isinstance(step, ScriptStep):
        return _script(step)
    return f"unknown kind of step: {type(step).__name__}"


def _policy(policy: StepPolicy) -> str:
    if not 1 <= policy.timeout_seconds <= MAX_STEP_TIMEOUT_SECONDS:
        return f"the timeout must be between 1 second and 24 hours, not {policy.timeout_seconds} seconds"
    if not 0 <= policy.retries <= MAX_STEP_RETRIES:
        return f"retries must be between 0 and {MAX_STEP_RETRIES}, not {policy.retries}"
    return ""


def _servers(servers: tuple[str, ...]) -> str:
    for server_id in servers:
        if not SERVER_ID_PATTERN.match(server_id):
            return f"{quote(server_id)} is not a DRS source server ID"
    if len(set(servers)) != len(servers):
        return "a server is named twice"
    return ""


def _health_check(step: HealthCheckStep) -> str:
    if not 1 <= step.port <= MAX_PORT:
        return f"the port must be between 1 and {MAX_PORT}, not {step.port}"
    http = step.probe in (Probe.HTTP, Probe.HTTPS)
    if http and not step.path.startswith("/"):
        return f"the HTTP path must start with '/', not {quote(step.path)}"
    if http and step.expect_status is not None and not 100 <= step.expect_status <= 599:
        return f"an HTTP status is between 100 and 599, not {step.expect_status}"
    if not http and step.expect_body:
        return "a body check needs an HTTP or HTTPS probe (a TCP probe only opens the port)"
    if step.interval_seconds < 1:
        return "the interval between probes must be at least 1 second"
    if step.interval_seconds >= step.policy.timeout_seconds:
        return "the interval between probes must be shorter than the timeout (or it probes once)"
    if step.must_pass is not None and step.must_pass < 1:
        return "at least one server must pass (leave it at 'all' for every server)"
    if step.must_pass is not None and step.servers and step.must_pass > len(step.servers):
        return f"{step.must_pass} must pass, but the check names {len(step.servers)} servers"
    via = (step.via or "").strip()
    if step.reach is Reach.SSM and not INSTANCE_ID_PATTERN.match(via):
        return "probing through SSM needs the EC2 instance to probe from (i-...)"
    if step.reach is Reach.LAMBDA and not LAMBDA_FUNCTION_PATTERN.match(via):
        return "probing through Lambda needs the function's name or ARN"
    return _servers(step.servers)


def _ssm(step: SsmStep) -> str:
    if not step.document.strip():
        return "an SSM step needs the document to run (its name or ARN, e.g. AWS-RunShellScript)"
    if not SSM_DOCUMENT_PATTERN.match(step.document):
        return (
            f"{quote(step.document)} is no SSM document name (3 to 128 letters, digits and _ - . : /, "
            "e.g. AWS-RunShellScript)"
        )
    version = step.document_version
    if version is not None and not SSM_VERSION_PATTERN.match(version):
        return f"the document version is $LATEST, $DEFAULT or a number, not {quote(version)}"
    for name, values in step.parameters.items():
        if not name.strip():
            return "an SSM parameter needs a name"
        if secret := secret_key_message(name):
            return secret
        if not values:
            return f"SSM parameter {quote(name)} needs a value"
    return _servers(step.servers)


def _lambda(step: LambdaStep) -> str:
    if not step.function.strip():
        return "a Lambda step needs the function to invoke (its name or ARN)"
    if len(step.function) > MAX_FUNCTION_LENGTH or not LAMBDA_FUNCTION_PATTERN.match(step.function):
        return f"{quote(step.function)} is no Lambda function name or ARN"
    return payload_problem(step.payload)


def payload_problem(payload: object) -> str:
    """Why ``payload`` cannot be a Lambda step's payload ("" when it can): a JSON object, no secrets."""
    if not isinstance(payload, Mapping):
        return "the payload must be a JSON object ({...}); the run adds its facts to it"
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"the payload is not JSON: {exc}"
    return _secret_in(payload)


def _secret_in(value: object) -> str:
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = secret_key_message(str(key)) or _secret_in(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _secret_in(item)
            if found:
                return found
    return ""


def _script(step: ScriptStep) -> str:
    if not step.path.strip():
        return "a local script needs the path of the program to run"
    if not (PurePosixPath(step.path).is_absolute() or PureWindowsPath(step.path).is_absolute()):
        return f"the script's path must be absolute, not {quote(step.path)} (it runs from any directory)"
    for name in step.environment:
        if not ENV_NAME_PATTERN.match(name):
            return f"{quote(name)} is no environment variable name (letters, digits and _)"
        if name.upper().startswith("DRS_"):
            return f"{quote(name)}: names starting DRS_ are the run's facts, set by the desktop"
        if secret := secret_key_message(name):
            return secret
    return ""
