"""Which control the progress view's buttons send, to which wave, and when the status line may say what
was applied: the decisions behind the controls row, apart from its widgets (no Qt here).

A button is enabled exactly when the engine's ``AvailableControls`` of the shown snapshot allows it, for
the wave it would act on: the wave the operator selected, else the first held wave the action applies to
(for Skip also a wave waiting for servers other jobs hold; for Retry also a wave whose automation step
waits for a decision). A read-only view (history) or a read-only
snapshot allows nothing. After a control is sent the status line says "… sent" until a snapshot's audit
entries show it applied (``applied_text``): the engine may refuse it, and only the journal says it took.
"""

from __future__ import annotations

from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.controls import AvailableControls, ControlAction
from drs_desktop.domain.views.progress import ProgressSnapshot

__all__ = ["Pending", "applied_text", "shown_controls", "target_approval", "target_wave"]

#: A control sent and not yet seen applied: (execution, action, the snapshot's ``actions`` count when sent).
Pending = tuple[str, ControlAction, int]


def shown_controls(snapshot: ProgressSnapshot | None, read_only: bool) -> AvailableControls:
    """What the shown snapshot's engine would accept (nothing in a read-only view or snapshot)."""
    if snapshot is None or read_only or snapshot.read_only:
        return AvailableControls()
    return snapshot.controls


def target_wave(
    snapshot: ProgressSnapshot | None,
    controls: AvailableControls,
    action: ControlAction,
    selected: int | None,
) -> int | None:
    """The selected wave, else the first held wave the action applies to."""
    if selected is not None:
        return selected
    if snapshot is None:
        return None
    held = [w.index for w in snapshot.waves if w.held and controls.allows(action, w.index)]
    if not held and action is ControlAction.RETRY:  # a wave whose automation step waits for a decision
        held = [i for i in controls.step_waves if controls.allows(action, i)]
    if not held and action is ControlAction.SKIP:  # a wave waiting for servers other jobs hold
        held = [w.index for w in snapshot.waves if w.busy and controls.allows(action, w.index)]
    return held[0] if held else None


def target_approval(controls: AvailableControls, selected: int | None) -> AwaitApproval | None:
    """The selected wave's approval gate, else the first one waiting."""
    if selected is not None and controls.approval_for(selected) is not None:
        return controls.approval_for(selected)
    return controls.approvals[0] if controls.approvals else None


def applied_text(pending: Pending | None, snapshot: ProgressSnapshot) -> str | None:
    """What replaces "… sent" once the journal shows the control ``pending`` applied (its audit entry):
    None while it does not (or ``snapshot`` is another execution's)."""
    if pending is None or pending[0] != snapshot.execution_id:
        return None
    _, action_sent, count_then = pending
    since = max(0, len(snapshot.recent_actions) - (snapshot.actions - count_then))
    new = snapshot.recent_actions[since:]
    entry = next((e for e in new if e.action == action_sent.value.lower()), None)
    if snapshot.actions <= count_then or entry is None:
        return None
    action = entry.action.replace("_", " ").capitalize()
    detail = f" ({entry.detail})" if entry.detail else ""
    if snapshot.native is not None:  # journaled here; DRS acts on it, and a reading shows what it did
        return f"{action} journaled at {entry.at:%H:%M:%S} UTC by {entry.by}{detail}: sent to DRS."
    return f"{action} applied at {entry.at:%H:%M:%S} UTC by {entry.by}{detail}."
