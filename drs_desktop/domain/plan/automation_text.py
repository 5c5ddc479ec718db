"""An automation step in one line, for the places that list a plan's steps (the dry run's calls, the
steps editor's list, messages): what it does, on what, and its policy when that is not the default.

Pure text from the model (``domain.plan.automation``); the plan file's spelling of durations
(``document_automation.duration_text``) so that what the operator reads is what the file says.
"""

from __future__ import annotations

from drs_desktop.domain.plan.automation import (
    DEFAULT_POLICY,
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    SsmStep,
    StepPolicy,
    step_kind,
)
from drs_desktop.domain.plan.document_automation import duration_text
from drs_desktop.domain.script_trust import command_line

__all__ = ["describe_automation"]


def describe_automation(step: AutomationStep) -> str:
    """``health-check 'db answers': tcp port 5432 on the wave's instances; timeout 5m, on failure
    fail-wave``."""
    return f"{step_kind(step)} {step.name!r}: {_what(step)}{_policy(step.policy)}"


def _on(servers: tuple[str, ...]) -> str:
    if not servers:
        return "the wave's instances"
    return f"{len(servers)} server{'s' * (len(servers) != 1)}"


def _what(step: AutomationStep) -> str:
    if isinstance(step, HealthCheckStep):
        probe = f"{step.probe.value} port {step.port}"
        if step.probe is not Probe.TCP:
            probe += f" {step.path}"
            if step.expect_status is not None:
                probe += f" status {step.expect_status}"
            if step.expect_body is not None:
                probe += f" body has {step.expect_body!r}"
        how_many = "all" if step.must_pass is None else f"{step.must_pass}"
        via = f" via {step.via}" if step.reach in (Reach.SSM, Reach.LAMBDA) and step.via else ""
        return f"{probe} on {_on(step.servers)} ({how_many} must pass, {step.reach.value} address{via})"
    if isinstance(step, SsmStep):
        version = f" version {step.document_version}" if step.document_version else ""
        return f"SSM document {step.document}{version} on {_on(step.servers)}"
    if isinstance(step, LambdaStep):
        return f"Lambda function {step.function}"
    return f"script {command_line(step.path, step.arguments)}"  # quoted as the trust confirmation shows it


def _policy(policy: StepPolicy) -> str:
    parts = [f"timeout {duration_text(policy.timeout_seconds) if policy.timeout_seconds > 0 else 0}"]
    if policy.retries != DEFAULT_POLICY.retries:
        parts.append(f"{policy.retries} retr{'y' if policy.retries == 1 else 'ies'}")
    parts.append(f"on failure {policy.on_failure.value}")
    if policy.run_in is not DEFAULT_POLICY.run_in:
        parts.append(f"{policy.run_in.value} only")
    return "; " + ", ".join(parts)
