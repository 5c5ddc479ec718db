"""A run held for a target's credentials says so at the top of the progress view, with the one thing to do.

The state is the engine's own, built by applying the events a run journals when a target refuses its
credentials (an MFA role with nobody to give the code, an expired SSO sign-in); the widget is real,
offscreen. Renewing sends a ``RENEW`` control for that target; once the engine journals it the banner
goes and the servers it held are still pending, never failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
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
A, B, C = "s-aaaaaaaaaaaaaaaa1", "s-bbbbbbbbbbbbbbbb1", "s-cccccccccccccccc1"


def held_state(*refused: tuple[str, str]) -> ExecutionState:
    """A run across "home" and "break-glass" (and "staging-07" with ``refused``) whose ``refused``
    targets (name, reason) were refused their credentials; "break-glass" alone by default."""
    refused = refused or (("break-glass", "MfaRequired: an MFA code is needed"),)
    spec = ExecutionSpec(
        execution_id="e-1",
        mode=Mode.DRILL,
        started_at=T0,
        waves=(WaveSpec(name="Data", server_ids=(A, B, C)),),
        plan_name="Spread",
        targets=("home", "break-glass", "staging-07"),
        server_targets={A: "home", B: "break-glass", C: "staging-07"},
    )
    state = initial_state(spec)
    at = T0 + timedelta(seconds=5)
    for target, reason in refused:
        chunk = next(c for c in state.chunks.values() if c.target == target)
        for event in (
            StartRequested(chunk_id=chunk.chunk_id, at=at, target=target),
            StartFailed(
                chunk_id=chunk.chunk_id,
                reason=reason.split(":")[0],
                definite=True,
                auth=True,
                at=at,
                target=target,
            ),
            CredentialsNeeded(target=target, reason=reason, at=at),
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
    assert [row.label for row in snapshot.servers[0]] == [
        f"{A} · home",
        f"{B} · break-glass",
        f"{C} · staging-07",
    ]
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
    assert banner.detail.text().startswith("MfaRequired: an MFA code is needed."), (
        "the refusal is STS's or the sign-in's, not DRS's words"
    )
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


def _shown(qtbot: QtBot, state: ExecutionState) -> ProgressWidget:
    snapshot = ProgressTracker().update(state, T0 + timedelta(seconds=10))
    assert snapshot is not None
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    widget.show_snapshot(snapshot)
    return widget


def test_every_target_held_for_its_credentials_is_named_and_renew_says_which(qtbot: QtBot) -> None:
    state = held_state(
        ("break-glass", "MfaRequired: an MFA code is needed"),
        ("staging-07", "ExpiredToken: the SSO session expired"),
    )
    assert available_controls(state, T0).renew_targets == ("break-glass", "staging-07")
    widget = _shown(qtbot, state)
    sent: list[ControlRequest] = []
    widget.control_requested.connect(lambda _execution_id, request: sent.append(request))
    banner = widget.banner
    assert "“break-glass”" in banner.title.text()
    # Renewing break-glass alone leaves the run held: the operator must know staging-07 waits too.
    assert "target “staging-07” (ExpiredToken: the SSO session expired)" in banner.detail.text()
    assert banner.choices() == ["Renew “break-glass”", "Cancel run…"]
    banner.buttons[ControlAction.RENEW].click()
    assert sent == [ControlRequest(ControlAction.RENEW, target="break-glass")]

    renewed = apply(state, control_event(sent[0], state, at=T0 + timedelta(seconds=11), by="ops"))
    after = ProgressTracker().update(renewed, T0 + timedelta(seconds=11))
    assert after is not None
    widget.show_snapshot(after)
    assert "“staging-07”" in banner.title.text() and "Also held" not in banner.detail.text()
    assert banner.choices() == ["Renew credentials", "Cancel run…"]


def test_a_credentials_hold_notifies_the_desktop_once(qtbot: QtBot) -> None:
    """A run held for an MFA code waits for a person as a failure does: a window behind another one
    must still tell the operator."""
    state = held_state()
    widget = _shown(qtbot, state)
    again = ProgressTracker().update(state, T0 + timedelta(seconds=12))
    assert again is not None
    widget.show_snapshot(again)  # the same hold, a later snapshot: no second notification
    needed = [text for title, text in widget.notifications if title == "Credentials needed"]
    assert len(needed) == 1 and "“break-glass”" in needed[0]


def test_a_servers_target_stays_in_sight_in_the_tree_and_the_timeline(qtbot: QtBot) -> None:
    """Labels end with the target ("s-… · break-glass"); an end-elided or clipped label hid exactly
    the part that tells two servers of the same name apart."""
    widget = _shown(qtbot, held_state())
    tree = widget.tree
    assert tree.textElideMode() is Qt.TextElideMode.ElideMiddle
    label = f"{B} · break-glass"
    shown = tree.fontMetrics().elidedText(
        label, tree.textElideMode(), tree.columnWidth(0) - tree.indentation() * 2
    )
    assert shown.endswith("· break-glass"), shown
    timeline = widget.timeline
    rows = [n for n, row in enumerate(timeline.rows()) if row.label == label]
    assert rows, [row.label for row in timeline.rows()]
    painted = timeline.shown_label(rows[0])
    assert painted.endswith("break-glass") and "…" in painted, painted
