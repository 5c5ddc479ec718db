"""A run held for a target's credentials says so at the top of the progress view, with the one thing to do.

The state is the engine's own, built by applying the events a run journals when a target refuses its
credentials (an MFA role with nobody to give the code, an expired SSO sign-in); the widget is real,
offscreen. Renewing sends a ``RENEW`` control for that target; once the engine journals it the banner
goes and the servers it held are still pending, never failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.accounts import credential_holds
from drs_desktop.domain.engine.controls import (
    ControlAction,
    ControlRequest,
    available_controls,
    control_event,
)
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import CredentialsNeeded, StartFailed, StartRequested
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import (
    ExecutionSpec,
    ExecutionState,
    ExecutionStatus,
    Mode,
    ServerStatus,
    WaveSpec,
)
from drs_desktop.domain.views.progress import ProgressTracker
from drs_desktop.ui.executions.progress_widget import ProgressWidget

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
A, B = "s-aaaaaaaaaaaaaaaa1", "s-bbbbbbbbbbbbbbbb1"


def held_state() -> ExecutionState:
    spec = ExecutionSpec(
        execution_id="e-1",
        mode=Mode.DRILL,
        started_at=T0,
        waves=(WaveSpec(name="Data", server_ids=(A, B)),),
        plan_name="Spread",
        targets=("home", "break-glass"),
        server_targets={A: "home", B: "break-glass"},
    )
    state = initial_state(spec)
    glass = next(c for c in state.chunks.values() if c.target == "break-glass")
    at = T0 + timedelta(seconds=5)
    for event in (
        StartRequested(chunk_id=glass.chunk_id, at=at, target="break-glass"),
        StartFailed(
            chunk_id=glass.chunk_id,
            reason="MfaRequired",
            definite=True,
            auth=True,
            at=at,
            target="break-glass",
        ),
        CredentialsNeeded(target="break-glass", reason="MfaRequired: an MFA code is needed", at=at),
    ):
        state = apply(state, event)
    return state


def test_the_engine_holds_only_the_refused_target_and_spends_no_attempt() -> None:
    state = held_state()
    (hold,) = credential_holds(state)
    assert hold.target == "break-glass"
    glass = state.chunks[state.servers[B].chunk_id or ""]
    assert (glass.failures, state.servers[B].status) == (0, ServerStatus.PENDING)
    commands = decide(state, T0 + timedelta(seconds=6))
    assert all(getattr(c, "target", "") != "break-glass" for c in commands), commands
    assert available_controls(state, T0).renew_targets == ("break-glass",)


def test_the_banner_asks_for_the_targets_credentials_and_renews_them(qtbot: QtBot) -> None:
    state = held_state()
    now = T0 + timedelta(seconds=10)
    snapshot = ProgressTracker().update(state, now)
    assert snapshot is not None and snapshot.status is ExecutionStatus.HELD
    # Every row names its target: the same hostname in two accounts is two servers.
    assert [row.label for row in snapshot.servers[0]] == [f"{A} · home", f"{B} · break-glass"]
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    sent: list[ControlRequest] = []
    widget.control_requested.connect(lambda _execution_id, request: sent.append(request))
    widget.show_snapshot(snapshot)

    banner = widget.banner
    assert banner.isVisible()
    assert "credentials of target “break-glass”" in banner.title.text()
    assert "MfaRequired" in banner.detail.text()
    assert banner.choices() == ["Renew credentials", "Cancel run…"]

    banner.chosen.emit(ControlAction.RENEW)
    assert sent == [ControlRequest(ControlAction.RENEW, target="break-glass")]
    renewed = apply(state, control_event(sent[0], state, at=now, by="ops"))
    assert credential_holds(renewed) == ()
    assert renewed.audit[-1].action == "renew" and renewed.audit[-1].by == "ops"
    after = ProgressTracker().update(renewed, now)
    assert after is not None
    widget.show_snapshot(after)
    assert banner.isHidden()
