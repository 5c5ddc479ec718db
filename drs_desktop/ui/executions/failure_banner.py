"""The failure-first banner at the top of the progress view: which server, DRS's reason, the choices.

It shows ``views.attention``'s answer for the latest snapshot and offers only the choices that answer
names (the snapshot's ``AvailableControls``); a click emits ``chosen`` with the ``ControlAction``, and
the progress view runs the same method its toolbar button runs, so the banner can never do what the
toolbar would refuse. Red for a failure, amber for a wait on a person; hidden when nothing waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.engine.accounts import CredentialHold
from drs_desktop.domain.engine.controls import ControlAction
from drs_desktop.domain.views.attention import Attention

logger = logging.getLogger(__name__)

_SEVERE = "QFrame#failure-banner { background: #fdecea; border: 1px solid #c62828; border-radius: 4px; }"
_WAITING = "QFrame#failure-banner { background: #fff4e5; border: 1px solid #ef6c00; border-radius: 4px; }"
_TEXT_SEVERE = "color: #8e0000;"
_TEXT_WAITING = "color: #663c00;"
#: The banner's buttons, in the order shown, with their labels.
LABELS: dict[ControlAction, str] = {
    ControlAction.RETRY: "Retry",
    ControlAction.SKIP: "Skip wave",
    ControlAction.APPROVE: "Approve",
    ControlAction.RESUME: "Resume",
    ControlAction.RENEW: "Renew credentials",
    ControlAction.STEP_DONE: "Mark done…",
    ControlAction.STEP_FAIL: "Fail wave…",
    ControlAction.CANCEL: "Cancel run…",
}
#: A held automation step's Retry runs the step again, not the wave's servers: its label says so.
RETRY_STEP = "Retry step"


class FailureBanner(QFrame):
    chosen = Signal(object)  # ControlAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("failure-banner")
        self.title = QLabel()
        self.title.setObjectName("failure-banner-title")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QLabel()
        self.detail.setObjectName("failure-banner-detail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[ControlAction, QPushButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for action, label in LABELS.items():
            button = QPushButton(label)
            button.setObjectName(f"banner-{action.value.lower()}")
            button.clicked.connect(lambda _checked=False, a=action: self.chosen.emit(a))
            self.buttons[action] = button
            row.addWidget(button)
        row.addStretch(1)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addLayout(text, 1)
        layout.addLayout(row)
        self._attention: Attention | None = None
        self._seen: set[tuple[object, ...]] = set()
        self._scrolled: set[tuple[object, ...]] = set()  # situations whose row was scrolled to
        self.hide()

    def attention(self) -> Attention | None:
        return self._attention

    def show_attention(self, attention: Attention | None, holds: Sequence[CredentialHold] = ()) -> None:
        """Show ``attention`` (hide the banner for None). ``holds`` are every target the run holds for
        its credentials (the snapshot's): the attention names the first, and an operator who renewed
        only that one would find the run still held, so the others are named too, and the Renew
        button says which target it renews."""
        self._attention = attention
        if attention is None:
            self.hide()
            return
        self.setStyleSheet(_SEVERE if attention.severe else _WAITING)
        colour = _TEXT_SEVERE if attention.severe else _TEXT_WAITING
        self.title.setStyleSheet(colour)
        self.detail.setStyleSheet(colour)
        self.title.setText(attention.title)
        # Only a failure's reason is DRS's own words; a credentials problem is STS's, the sign-in's or
        # the runner's (credentials about to expire), so it carries no "DRS:".
        drs = attention.kind in ("failed", "held")
        detail = f"DRS: {attention.detail}" if drs else attention.detail
        others = [h for h in holds if h.target != attention.target] if attention.kind == "credentials" else []
        if others:
            named = "; ".join(f"target “{h.target or 'connected'}” ({h.problem})" for h in others)
            detail += f"\nAlso held for their credentials, renew each in turn: {named}."
        self.detail.setText(detail)
        self.buttons[ControlAction.RETRY].setText(
            RETRY_STEP if attention.kind == "step" else LABELS[ControlAction.RETRY]
        )
        renew = self.buttons[ControlAction.RENEW]
        renew.setText(
            f"Renew “{attention.target}”" if others and attention.target else LABELS[ControlAction.RENEW]
        )
        for action, button in self.buttons.items():
            button.setVisible(action in attention.choices)
        self.show()

    def follow(
        self,
        found: Attention | None,
        tree: QTreeView,
        notify: Callable[[str, str], None],
        holds: Sequence[CredentialHold] = (),
    ) -> None:
        """Show ``found`` (``holds``: see ``show_attention``); a new situation (a new ``key``) also
        scrolls ``tree`` (the progress tree) to its row, once that row is in (a large run's lines come
        a slice at a time), and, for a failure, a server another job holds or a target held for its
        credentials, tells the desktop through ``notify`` once (approvals have their own prompt and
        notification; a pause is the operator's own doing)."""
        self.show_attention(found, holds)
        if found is None:
            return
        if found.key not in self._scrolled:
            model = tree.model()
            wave = model.index(found.wave_index, 0)
            target = model.index(found.row, 0, wave) if found.row is not None else wave
            if target.isValid():
                self._scrolled.add(found.key)
                tree.expand(wave)
                tree.scrollTo(target, QAbstractItemView.ScrollHint.PositionAtCenter)
        if found.key in self._seen:
            return
        self._seen.add(found.key)
        if found.kind in ("failed", "held", "busy", "credentials", "step", "step-failed"):
            # A run held for credentials waits for a person as surely as a failure does: an operator
            # whose window is behind another one must hear of it before the hold turns into lost time.
            titles = {
                "busy": "Servers held by another job",
                "credentials": "Credentials needed",
                "step": "Automation step needs you",
                "step-failed": "Automation step failed",
            }
            notify(titles.get(found.kind, "Server failed"), f"{found.title}. {found.detail}")

    def choices(self) -> list[str]:
        """The labels of the buttons offered now (what tests and screenshots check)."""
        return [
            b.text()
            for a, b in self.buttons.items()
            if a in (self._attention.choices if self._attention else ())
        ]
