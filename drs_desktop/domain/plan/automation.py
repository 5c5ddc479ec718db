"""Automation steps: what a wave runs before its launch or after it, besides approvals and waits.

A recovery is not done when DRS says LAUNCHED: the database must answer before the application tier
starts, a smoke test must pass. Four kinds, each with the same policy (``StepPolicy``: a timeout, retries,
what a failure does, and the modes it runs in):

- ``HealthCheckStep``: a TCP port open, or an HTTP status (and body) match, on the wave's recovered
  instances (or named servers), probed from the desktop (private or public address) or from inside the
  VPC (through SSM on an instance there, or a Lambda function in the VPC);
- ``SsmStep``: an SSM document run (Run Command) on the recovered instances, waiting for every invocation;
- ``LambdaStep``: a Lambda function invoked with a JSON payload (the run's facts are added to it);
- ``ScriptStep``: a local script on the operator's machine, run only if this desktop trusts it (path and
  SHA-256, never taken from a plan).

Pure data, frozen, no I/O. The plan file form is ``domain.plan.document_automation`` (plan format 3);
validation says what is wrong with a step; the engine runs them (``domain.engine.automation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OnFailure(StrEnum):
    """What a step's failure (after its retries) does to the run."""

    HOLD = "hold"  # the run holds for the operator: retry the step, mark it done, or fail the wave
    FAIL_WAVE = "fail-wave"  # the wave fails (as a critical server's failure does)
    WARN = "warn"  # a warning in the evidence; the wave goes on


class RunIn(StrEnum):
    """The modes a step runs in; in the other mode it is skipped (and the evidence says so)."""

    BOTH = "both"
    DRILL = "drill"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class StepPolicy:
    """Timeout of one attempt, retries after a failed attempt, what failing does, and when it runs."""

    timeout_seconds: int = 300
    retries: int = 0
    on_failure: OnFailure = OnFailure.HOLD
    run_in: RunIn = RunIn.BOTH


DEFAULT_POLICY = StepPolicy()


class Probe(StrEnum):
    TCP = "tcp"
    HTTP = "http"
    HTTPS = "https"


class Reach(StrEnum):
    """From where a health check probes the recovered instances."""

    PRIVATE = "private"  # from the desktop, to the recovery instance's private address
    PUBLIC = "public"  # from the desktop, to its public address (EC2 DescribeInstances)
    SSM = "ssm"  # from inside the VPC: a probe command sent through SSM to the instance ``via``
    LAMBDA = "lambda"  # from inside the VPC: the Lambda function ``via`` probes and answers


@dataclass(frozen=True)
class HealthCheckStep:
    """Passes once ``must_pass`` of the targets (None: all of them) answer as expected.

    Targets: the recovered instances of ``servers`` (source server IDs of the wave), or of every server
    of the wave when empty. Probed every ``interval_seconds`` until the policy's timeout."""

    name: str
    probe: Probe
    port: int
    servers: tuple[str, ...] = ()
    path: str = "/"
    expect_status: int | None = 200
    expect_body: str | None = None  # a substring the body must contain (HTTP/HTTPS only)
    interval_seconds: int = 10
    must_pass: int | None = None
    reach: Reach = Reach.PRIVATE
    via: str | None = None  # Reach.SSM: an EC2 instance ID; Reach.LAMBDA: a function name or ARN
    policy: StepPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class SsmStep:
    """An SSM document sent (Run Command) to the recovered instances of ``servers`` (empty: the wave's)."""

    name: str
    document: str
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    servers: tuple[str, ...] = ()
    document_version: str | None = None
    policy: StepPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class LambdaStep:
    """A Lambda function invoked once with ``payload`` (a JSON object) plus the run's facts; its answer
    decides: an error, or a body with ``"ok": false``, fails the attempt."""

    name: str
    function: str
    payload: Mapping[str, Any] = field(default_factory=dict, hash=False)
    policy: StepPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class ScriptStep:
    """A program on this desktop, run with ``arguments`` and ``environment`` plus the run's facts
    (``DRS_EXECUTION_ID``...); exit status 0 passes. Runs only if the desktop trusts the file."""

    name: str
    path: str
    arguments: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    policy: StepPolicy = DEFAULT_POLICY


AutomationStep = HealthCheckStep | SsmStep | LambdaStep | ScriptStep
AUTOMATION_STEPS = (HealthCheckStep, SsmStep, LambdaStep, ScriptStep)

#: The plan file's ``kind`` of each step (the evidence and the journal use the same words).
STEP_KINDS: dict[type, str] = {
    HealthCheckStep: "health-check",
    SsmStep: "ssm",
    LambdaStep: "lambda",
    ScriptStep: "script",
}


def step_kind(step: object) -> str:
    """``approval``, ``wait`` or an automation step's kind."""
    kind = STEP_KINDS.get(type(step))
    if kind is not None:
        return kind
    return type(step).__name__.removesuffix("Step").lower()


def runs_in(step: object, recovery: bool) -> bool:
    """Whether ``step`` runs in this mode (approvals and waits always do)."""
    policy = getattr(step, "policy", None)
    if not isinstance(policy, StepPolicy) or policy.run_in is RunIn.BOTH:
        return True
    return policy.run_in is (RunIn.RECOVERY if recovery else RunIn.DRILL)
