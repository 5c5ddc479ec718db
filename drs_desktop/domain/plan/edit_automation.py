"""What the editor refuses in an automation step, with the sentence it shows, before the step enters a plan.

The editor's forms call ``automation_step_problem`` as the operator types (OK stays disabled while there
is one) and ``edit_parts`` calls ``check_automation_step`` on every add and replace, so a step that a
form did not check (a test, a future caller) is refused the same way. Pure, stdlib only.

The rules are not written here: they are plan validation's (``domain.plan.validation_automation``), run on
the step alone (``wave_servers=None``), so the editor refuses exactly what validation reports as an error
and the two cannot drift. What needs the wave (a step's servers belong to it, ``must_pass`` within the
wave's servers, two steps of one name) is only known to validation, shown in the problems list like every
other problem. This module only turns the first error into one sentence for the form: the field's label,
as the form shows it, before a message that does not name its field ("Port: must be ...").
"""

from __future__ import annotations

import re

from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, AutomationStep, HealthCheckStep
from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.validation_automation import step_problems

#: The forms' labels of a step's fields, by the key of the plan file.
_LABELS = {
    "name": "Name",
    "port": "Port",
    "expect_status": "HTTP status",
    "expect_body": "Body contains",
    "interval": "Probe every",
    "must_pass": "Must pass",
    "via": "Via",
    "servers": "Servers",
    "document": "Document",
    "document_version": "Version",
    "parameters": "Parameters",
    "function": "Function",
    "payload": "Payload",
    "path": "Program",
    "arguments": "Arguments",
    "environment": "Environment",
    "timeout": "Timeout",
    "retries": "Retries",
}
#: The first words of a message that is a predicate of its field (the validation's convention).
_PREDICATE = re.compile(r"(must|holds|is) ")
_FIELD = re.compile(r"[a-z_]+")


def check_automation_step(step: AutomationStep) -> AutomationStep:
    """``step`` unchanged, or ``PlanEditError`` with the first thing wrong with it."""
    problem = automation_step_problem(step)
    if problem:
        raise PlanEditError(problem)
    return step


def automation_step_problem(step: AutomationStep) -> str:
    """The first thing wrong with ``step`` as one sentence, "" when nothing is."""
    if not isinstance(step, AUTOMATION_STEPS):
        return f"unknown kind of step: {type(step).__name__}"
    problems = step_problems(step)
    if not problems:
        return ""
    key, message = problems[0]
    if not _PREDICATE.match(message):
        return message
    return f"{_label(step, key)}: {message}"


def _label(step: AutomationStep, key: str) -> str:
    field = _FIELD.match(key)
    name = field.group() if field else key
    if name == "path" and isinstance(step, HealthCheckStep):
        return "HTTP path"
    return _LABELS.get(name, name.replace("_", " ").capitalize())
