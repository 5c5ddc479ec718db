"""One line per step for the wave panel's step list, e.g.
"Health check 'db up': HTTP :8080/health on 2 servers, 5 min, hold on failure".

The line says what runs, where, how long it may take and what its failure does, so an operator reading
the list needs no form open to review a plan. Durations read as everywhere else (``format_duration``).
"""

from __future__ import annotations

import shlex

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import ApprovalStep, Step, WaitStep

#: What each kind is called in the "Add step" menu, the form's title and the list.
KIND_TITLES = {
    "approval": "Approval",
    "wait": "Wait",
    "health-check": "Health check",
    "ssm": "SSM document",
    "lambda": "Lambda function",
    "script": "Local script",
}
ON_FAILURE_TEXT = {
    OnFailure.HOLD: "hold on failure",
    OnFailure.FAIL_WAVE: "fail the wave on failure",
    OnFailure.WARN: "warn on failure",
}
RUN_IN_TEXT = {RunIn.BOTH: "", RunIn.DRILL: "drill only", RunIn.RECOVERY: "recovery only"}
_REACH_TEXT = {Reach.PRIVATE: "", Reach.PUBLIC: " (public address)"}


def describe_step(step: Step) -> str:
    if isinstance(step, ApprovalStep):
        return f"Approval: {step.message}"
    if isinstance(step, WaitStep):
        return f"Wait {step.minutes} min"
    if isinstance(step, HealthCheckStep):
        what = _probe(step)
        title = "Health check"
    elif isinstance(step, SsmStep):
        what = f"{step.document} {_on(step.servers)}"
        title = "SSM document"
    elif isinstance(step, LambdaStep):
        what = step.function
        title = "Lambda function"
    else:
        what = shlex.join([step.path, *step.arguments])
        title = "Local script"
    return f"{title} {step.name!r}: {what}, {describe_policy(step.policy)}"


def describe_policy(policy: StepPolicy) -> str:
    """ "5 min, 2 retries, hold on failure, drill only": the policy as the list and the forms read it."""
    parts = [format_duration(policy.timeout_seconds, exact=True)]
    if policy.retries:
        parts.append(f"{policy.retries} {'retry' if policy.retries == 1 else 'retries'}")
    parts.append(ON_FAILURE_TEXT[policy.on_failure])
    if RUN_IN_TEXT[policy.run_in]:
        parts.append(RUN_IN_TEXT[policy.run_in])
    return ", ".join(parts)


def _probe(step: HealthCheckStep) -> str:
    target = f"{step.probe.value.upper()} :{step.port}"
    if step.probe is not Probe.TCP:
        target += step.path
    where = _on(step.servers)
    if step.must_pass is not None:  # "on 1 of 2 servers", "on 1 of the wave's servers"
        where = where.replace("on ", f"on {step.must_pass} of ", 1)
    if step.reach in (Reach.SSM, Reach.LAMBDA):
        via = "SSM on" if step.reach is Reach.SSM else "Lambda"
        return f"{target} {where} via {via} {step.via}"
    return f"{target} {where}{_REACH_TEXT[step.reach]}"


def _on(servers: tuple[str, ...]) -> str:
    if not servers:
        return "on the wave's servers"
    return f"on {len(servers)} server{'' if len(servers) == 1 else 's'}"
