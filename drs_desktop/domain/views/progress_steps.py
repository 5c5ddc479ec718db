"""A wave's automation steps as the progress view shows them: one ``StepRow`` per step, under its wave.

An operator watching a drill must see what the run does between waves (a health check probing, an SSM
smoke test waiting for its invocations, a Lambda function running), and, when a step holds the run, why:
its last attempt's detail and the targets that failed. Every word here is read from the engine's state
(``ExecutionState.automation``: ``StepRun`` and its attempts; the wave's ``StepRecord``s), never guessed:
a step the run has not reached says so, one whose outcome was lost says DRS Desktop does not know whether
it ran. Built on the execution's thread with the rest of the snapshot; no time in the words, so a row
changes only when the state does. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from drs_desktop.domain.engine.automation import SSM_ENDED, allowed_attempts, current_step, step_targets
from drs_desktop.domain.engine.automation_state import AttemptStatus, StepAttempt, StepRun, step_key
from drs_desktop.domain.engine.events import StepPhase
from drs_desktop.domain.engine.instances import lookups_pending
from drs_desktop.domain.engine.queries import may_progress
from drs_desktop.domain.engine.state import ExecutionState, StepRecord, WavePhase, WaveState
from drs_desktop.domain.plan.automation import (
    AUTOMATION_STEPS,
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    RunIn,
    SsmStep,
)

__all__ = ["HELD", "KIND_NAMES", "UNKNOWN_WARNING", "StepRow", "step_rows", "step_wave_detail"]

#: The status of a step that waits for the operator's decision (retry, mark done, fail the wave).
HELD = "WAITING FOR YOU"
NOT_RUN_YET = "NOT RUN YET"
NOT_RUN = "NOT RUN"
STARTING = "STARTING"
RUNNING = "RUNNING"
RETRYING = "RETRYING"
#: What a lost outcome of a Lambda function or a script means for the operator, said plainly.
UNKNOWN_WARNING = "DRS Desktop does not know whether it ran: check before retrying."
#: How the view names each kind.
KIND_NAMES = {"health-check": "health check", "ssm": "SSM document", "lambda": "Lambda function"}


@dataclass(frozen=True)
class StepRow:
    """One automation step of a wave. ``row``: its place among the wave's step rows (plan order, before
    steps first). ``status``: NOT RUN YET, NOT RUN, STARTING, RUNNING, RETRYING, PASSED, WARNED, FAILED,
    DONE, SKIPPED or WAITING FOR YOU (``HELD``). ``doing``: what it does or waits for now, in words.
    ``detail``: the last attempt's own detail; ``failed_targets``: "server (instance): why" each."""

    wave_index: int
    row: int
    key: str
    phase: StepPhase
    index: int
    kind: str
    name: str
    status: str
    doing: str = ""
    attempt: int = 0
    attempts_allowed: int = 0
    detail: str = ""
    failed_targets: tuple[str, ...] = ()
    output: str = ""  # the last attempt's output tail (a Lambda answer, a script's output)
    ref: str = ""  # the SSM command ID, the script's process ID
    unknown: bool = False  # its last attempt's outcome is lost: it may have run
    waiting: str = ""  # why an SSM send waits (its instances' agents not online yet), in SSM's words
    decided_by: str = ""
    comment: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def label(self) -> str:
        when = "before launch" if self.phase is StepPhase.BEFORE else "after launch"
        return f"{when}: {KIND_NAMES.get(self.kind, self.kind)} “{self.name}”"

    @property
    def held(self) -> bool:
        return self.status == HELD

    @property
    def summary(self) -> str:
        """The detail's first clause where the failed targets are listed apart (an SSM attempt's
        "0 of 2 invocation(s) succeeded", a health check's "timed out after 60 s: 1 of 2 target(s)
        passed"): the banner names each target on its own line, by hostname."""
        if not self.failed_targets:
            return self.detail
        cut = [i for i in (self.detail.find("; "), self.detail.find(" (")) if i > 0]
        return self.detail[: min(cut)] if cut else self.detail


def step_rows(
    state: ExecutionState, hostnames: Mapping[str, str] | None = None
) -> tuple[tuple[StepRow, ...], ...]:
    """Every wave's automation steps (approvals and waits have their own places: the prompt, the wave's
    detail), in plan order. ``hostnames`` name the failed targets (their server IDs otherwise)."""
    return tuple(_wave_steps(state, wave, hostnames or {}) for wave in state.waves)


def step_wave_detail(state: ExecutionState, wave: WaveState) -> str:
    """What a wave at an automation step waits for, for its own row ("" when it is at none)."""
    current = current_step(state, wave)
    if current is None:
        return ""
    key, step = current
    row = next((r for r in _wave_steps(state, wave, {}) if r.key == key), None)
    if row is None:
        return ""
    what = f"{KIND_NAMES.get(row.kind, row.kind)} “{step.name}”"
    if row.held:
        return f"{what}: waiting for you"
    return f"{what}: {row.doing}" if row.doing else what


def _wave_steps(state: ExecutionState, wave: WaveState, hostnames: Mapping[str, str]) -> tuple[StepRow, ...]:
    spec = state.spec.waves[wave.index]
    records = {(r.phase, r.step_index): r for r in wave.steps}
    current = current_step(state, wave)
    out: list[StepRow] = []
    for phase, steps in ((StepPhase.BEFORE, spec.before), (StepPhase.AFTER, spec.after)):
        for index, step in enumerate(steps):
            if not isinstance(step, AUTOMATION_STEPS):
                continue
            key = step_key(wave.index, phase, index)
            row = StepRow(
                wave_index=wave.index,
                row=len(out),
                key=key,
                phase=phase,
                index=index,
                kind=_kind(step),
                name=step.name,
                status=NOT_RUN_YET,
            )
            run = state.automation.get(key)
            if run is not None:
                row = _from_run(row, step, run, hostnames)
            elif current is not None and current[0] == key:
                row = _starting(state, row, step)
            else:
                row = _not_run(state, wave, row, step, records.get((phase, index)))
            out.append(row)
    return tuple(out)


def _kind(step: AutomationStep) -> str:
    if isinstance(step, HealthCheckStep):
        return "health-check"
    if isinstance(step, SsmStep):
        return "ssm"
    return "lambda" if isinstance(step, LambdaStep) else "script"


def _not_run(
    state: ExecutionState, wave: WaveState, row: StepRow, step: AutomationStep, record: StepRecord | None
) -> StepRow:
    if record is not None and record.outcome:  # ended without a run: not in this mode
        only = {RunIn.DRILL: "drill only", RunIn.RECOVERY: "recovery only"}.get(step.policy.run_in, "")
        return replace(
            row,
            status=record.outcome,
            doing=only,
            started_at=record.started_at,
            ended_at=record.ended_at,
        )
    over = state.finished is not None or state.stop is not None or wave.phase is WavePhase.SKIPPED
    return replace(row, status=NOT_RUN if over else NOT_RUN_YET)


def _starting(state: ExecutionState, row: StepRow, step: AutomationStep) -> StepRow:
    """The wave is at the step and no attempt was requested yet: say what it waits for."""
    targets = {t.server_id for t in step_targets(state, row.key, step)}
    if targets & set(lookups_pending(state)):
        doing = "waiting for DRS to name the recovered instances"
    elif not may_progress(state):
        doing = "waits until the run may go on"
    else:
        doing = "starting"
    return replace(row, status=STARTING, doing=doing)


def _from_run(row: StepRow, step: AutomationStep, run: StepRun, hostnames: Mapping[str, str]) -> StepRow:
    last = run.last
    allowed = allowed_attempts(step, run)
    row = replace(
        row,
        attempt=last.number if last is not None else 0,
        attempts_allowed=allowed,
        decided_by=run.decided_by,
        comment=run.comment,
        started_at=run.attempts[0].requested_at if run.attempts else None,
        ended_at=run.ended_at,
    )
    if last is None:
        return replace(row, status=STARTING, doing="starting")
    row = replace(
        row,
        detail=last.detail,
        failed_targets=_failed_targets(last, hostnames),
        output=last.output,
        ref=last.ref,
        unknown=last.status is AttemptStatus.UNKNOWN,
        waiting=last.waiting,
    )
    if run.outcome is not None:
        doing = f"decided by {run.decided_by}" if run.decided_by else ""
        doing += f": {run.comment}" if doing and run.comment else ""
        return replace(row, status=run.outcome.value, doing=doing)
    if run.held:
        if last.status is AttemptStatus.UNKNOWN:  # the banner and the tooltip say what that means
            doing = f"attempt {last.number}: outcome lost, it may have run"
        else:
            doing = f"attempt {last.number} of {allowed} failed"
        return replace(row, status=HELD, doing=doing)
    if last.status is AttemptStatus.FAILED:  # retries remain: the next attempt follows
        doing = f"attempt {last.number} failed; attempt {last.number + 1} of {allowed} next"
        return replace(row, status=RETRYING, doing=doing)
    # "attempt 2 of 3: ..." only where there may be more than one: the column is narrow.
    which = f"attempt {last.number} of {allowed}: " if allowed > 1 else ""
    return replace(row, status=RUNNING, doing=which + _doing(step, last))


def _doing(step: AutomationStep, last: StepAttempt) -> str:
    """What an attempt under way does now, from its facts."""
    if isinstance(step, HealthCheckStep):
        if not last.probes:
            return "probing"
        passed = sum(1 for t in last.targets if t.status == "PASS")
        need = step.must_pass if step.must_pass is not None else len(last.targets)
        return f"probing: {passed} of {len(last.targets)} passed ({need} needed)"
    if isinstance(step, SsmStep):
        if last.status is AttemptStatus.REQUESTED:
            if last.waiting:  # why, in SSM's words: ``StepRow.waiting`` (the tooltip)
                return "waiting for SSM agents"
            if last.looks or last.detail:
                return "its answer was lost: looking for the SSM command by its comment"
            return "sending the SSM command"
        if not last.targets:
            return f"SSM: command {last.ref} sent, no invocation read yet"
        done = sum(1 for t in last.targets if t.status in SSM_ENDED)
        return f"SSM: {done} of {len(last.targets)} invocations done"
    if isinstance(step, LambdaStep):
        return "Lambda function running"
    return f"script running (process {last.ref})" if last.ref else "script running"


def _failed_targets(last: StepAttempt, hostnames: Mapping[str, str]) -> tuple[str, ...]:
    """Each target that did not pass: its server (hostname where known) and instance, its status and
    detail, and its output's last line (an SSM invocation's: what the command said last)."""
    out = []
    for t in last.targets:
        if t.status in ("PASS", "Success"):
            continue
        who = hostnames.get(t.server_id) or t.server_id
        where = f" ({t.instance_id})" if t.instance_id else ""
        said = next((line for line in reversed(t.output.splitlines()) if line.strip()), "")
        out.append(f"{who}{where}: {t.status} {t.detail}".strip() + (f": “{said.strip()}”" if said else ""))
    return tuple(out)
