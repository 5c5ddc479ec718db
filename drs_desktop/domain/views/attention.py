"""What needs the operator now: the failure-first banner's content, from a ``ProgressSnapshot``.

During an incident an operator must not hunt through a 1,000-row tree for the one red row: when a server
fails or the run is held (a wave failed and waits for a decision, an approval gate, a pause, a server
another DRS job holds), the progress view puts one sentence at its top naming the server and DRS's own
reason, with the choices that apply now (the same ``AvailableControls`` the toolbar obeys), and scrolls
to the row. ``key`` changes only when a new situation arises, so the desktop is notified once per
failure, not once per poll. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

from drs_desktop.domain.engine.controls import ControlAction
from drs_desktop.domain.engine.state import ExecutionStatus, ServerStatus
from drs_desktop.domain.views.progress import ProgressSnapshot, ServerRow, WaveRow
from drs_desktop.domain.views.progress_steps import KIND_NAMES, UNKNOWN_WARNING, StepRow

__all__ = ["Attention", "attention"]


@dataclass(frozen=True)
class Attention:
    """One thing the operator must decide. ``kind``: failed, held, step (a held automation step),
    step-failed (a wave an automation step failed), approval, paused or busy.
    ``row`` is the (wave index, server row) to scroll to, or (wave index, None) for a wave (``step``: the
    held automation step, whose row follows the wave's servers). ``choices`` are the
    controls that apply now, in the order the banner shows them."""

    kind: str
    title: str
    detail: str
    wave_index: int
    row: int | None
    choices: tuple[ControlAction, ...]
    key: tuple[object, ...]
    target: str = ""  # for "credentials": the target whose credentials the run waits for
    step: StepRow | None = None  # for "step": the automation step that waits for a decision

    @property
    def severe(self) -> bool:
        """A failure (red), rather than a wait for a person (amber)."""
        return self.kind in ("failed", "held", "credentials", "step", "step-failed")


def _wave_name(wave: WaveRow) -> str:
    return f"Wave {wave.index + 1} “{wave.name}”"


def _choices(
    snapshot: ProgressSnapshot, wave_index: int, *actions: ControlAction
) -> tuple[ControlAction, ...]:
    controls = snapshot.controls
    found: list[ControlAction] = []
    for action in actions:
        if action is ControlAction.APPROVE:
            allowed = controls.approval_for(wave_index) is not None
        elif action is ControlAction.RESUME:
            allowed = controls.resume
        elif action is ControlAction.CANCEL:
            allowed = controls.cancel
        elif action is ControlAction.RENEW:
            allowed = bool(controls.renew_targets)
        else:
            allowed = controls.allows(action, wave_index)
        if allowed:
            found.append(action)
    return tuple(found)


def _failed(snapshot: ProgressSnapshot) -> tuple[WaveRow, ServerRow] | None:
    """The first failed server, a critical one of a held wave first."""
    failed = [
        (snapshot.waves[row.wave_index], row)
        for rows in snapshot.servers
        for row in rows
        if row.status is ServerStatus.FAILED
    ]
    failed.sort(key=lambda pair: (not pair[0].held, not pair[1].critical, pair[0].index, pair[1].row))
    return failed[0] if failed else None


def attention(snapshot: ProgressSnapshot) -> Attention | None:
    """What the banner says for ``snapshot``, or None when nothing waits for the operator. A finished
    execution needs no decision here (its end state is the header's)."""
    if snapshot.read_only:
        return None
    retry, skip, cancel = ControlAction.RETRY, ControlAction.SKIP, ControlAction.CANCEL
    for hold in snapshot.credential_holds:  # a finished drill's cleanup may wait for them too
        where = f"target “{hold.target}”" if hold.target else "the connected target"
        return Attention(
            kind="credentials",
            title=f"The run is held: AWS refused the credentials of {where}, or they are about to expire",
            detail=f"{hold.problem}. Renew them (an MFA code, aws sso login, new keys), then press "
            "Renew: its calls go out again, nothing was launched with the refused ones.",
            wave_index=0,
            row=None,
            choices=_choices(snapshot, 0, ControlAction.RENEW, cancel),
            key=(snapshot.execution_id, "credentials", hold.target, hold.since),
            target=hold.target,
        )
    if snapshot.finished:
        return None
    found = _failed(snapshot)
    if found is not None:
        wave, server = found
        reason = server.reason or "DRS gave no reason"
        impact = "critical" if server.critical else "optional"
        title = f"{server.label} failed ({impact}, {_wave_name(wave)})"
        if wave.held:
            title += ": the run is held until you decide"
        return Attention(
            kind="held" if wave.held else "failed",
            title=title,
            detail=reason,
            wave_index=wave.index,
            row=server.row,
            choices=_choices(snapshot, wave.index, retry, skip, cancel),
            key=(snapshot.execution_id, "failed", server.server_id, server.retries),
        )
    step = next((r for rows in snapshot.steps for r in rows if r.held), None)
    if step is not None:
        return _held_step(snapshot, step)
    failed_step = next((r for rows in snapshot.steps for r in rows if r.status == "FAILED"), None)
    if failed_step is not None and snapshot.waves[failed_step.wave_index].held:
        return _failed_step(snapshot, failed_step)
    if snapshot.status is ExecutionStatus.PAUSED:
        pause = next((a for a in reversed(snapshot.recent_actions) if a.action == "pause"), None)
        by = f" by {pause.by or 'the engine'} at {pause.at:%H:%M:%S} UTC" if pause is not None else ""
        return Attention(
            kind="paused",
            title=f"The run is paused{by}: nothing new starts until it is resumed",
            detail="DRS jobs already running go on.",
            wave_index=next((w.index for w in snapshot.waves if w.started_at and not w.ended_at), 0),
            row=None,
            choices=_choices(snapshot, 0, ControlAction.RESUME, cancel),
            key=(snapshot.execution_id, "paused"),
        )
    for gate in snapshot.approvals:
        wave = snapshot.waves[gate.wave_index]
        return Attention(
            kind="approval",
            title=f"{_wave_name(wave)} waits for your approval",
            detail=gate.message,
            wave_index=wave.index,
            row=None,
            choices=_choices(snapshot, wave.index, ControlAction.APPROVE, skip, cancel),
            key=(snapshot.execution_id, "approval", gate.key),
        )
    for wave in snapshot.waves:
        if not wave.busy:
            continue
        held = next((row for row in snapshot.servers[wave.index] if row.waiting), None)
        return Attention(
            kind="busy",
            title=f"{_wave_name(wave)} waits for servers another DRS job holds",
            detail=held.waiting if held is not None else wave.detail,
            wave_index=wave.index,
            row=held.row if held is not None else None,
            choices=_choices(snapshot, wave.index, skip, cancel),
            key=(snapshot.execution_id, "busy", wave.index),
        )
    return None


def _held_step(snapshot: ProgressSnapshot, step: StepRow) -> Attention:
    """A step that failed (policy hold) or whose outcome was lost: what it found, the targets that
    failed, and the decisions the engine takes now. A lost Lambda or script outcome may have run: the
    operator must hear that before a retry runs it again."""
    wave = snapshot.waves[step.wave_index]
    what = _step_name(step)
    if step.unknown:
        title = f"{_wave_name(wave)}: {what} may have run, its outcome is lost"
        lines = [UNKNOWN_WARNING, f"Attempt {step.attempt}: {step.detail or 'no answer came back'}"]
    else:
        title = f"{_wave_name(wave)}: {what} failed, the run waits for your decision"
        lines = [f"Attempt {step.attempt} of {step.attempts_allowed}: {step.summary or 'no detail given'}"]
    lines.extend(f"Failed: {target}" for target in step.failed_targets[:5])
    if len(step.failed_targets) > 5:
        lines.append(f"… and {len(step.failed_targets) - 5} more target(s)")
    if step.output:
        lines.append(f"Output: {step.output[-300:]}")
    actions = (ControlAction.RETRY, ControlAction.STEP_DONE, ControlAction.STEP_FAIL, ControlAction.CANCEL)
    return Attention(
        kind="step",
        title=title,
        detail="\n".join(lines),
        wave_index=wave.index,
        row=len(snapshot.servers[wave.index]) + step.row,
        choices=_choices(snapshot, wave.index, *actions),
        key=(snapshot.execution_id, "step", step.key, step.attempt),
        step=step,
    )


def _failed_step(snapshot: ProgressSnapshot, step: StepRow) -> Attention:
    """A wave an automation step failed (its policy, or the operator's "Fail wave"): the run holds for
    skip or cancel, with no failed server to name."""
    wave = snapshot.waves[step.wave_index]
    by = f" (failed by {step.decided_by})" if step.decided_by else ""
    return Attention(
        kind="step-failed",
        title=f"{_wave_name(wave)} failed: {_step_name(step)} failed{by}; the run is held until you decide",
        detail=step.detail or "no detail given",
        wave_index=wave.index,
        row=len(snapshot.servers[wave.index]) + step.row,
        choices=_choices(snapshot, wave.index, ControlAction.RETRY, ControlAction.SKIP, ControlAction.CANCEL),
        key=(snapshot.execution_id, "step-failed", step.key),
    )


def _step_name(step: StepRow) -> str:
    when = "before launch" if step.phase.value == "BEFORE" else "after launch"
    return f"the {KIND_NAMES.get(step.kind, step.kind)} step “{step.name}” ({when})"
