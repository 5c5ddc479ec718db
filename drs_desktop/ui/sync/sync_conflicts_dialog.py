"""The open sync conflicts: each with both sides, what differs, and the three ways out.

A conflict is a plan (or a shared setting, an execution) that this desktop and another one both changed
since they last agreed; nothing of either side was applied or sent (docs/sync.md, "Conflicts"). The list
says what, who changed it on the other side and when; the selected one shows this desktop's version and
theirs side by side (a plan as its plan file) and the diff from mine to theirs, the plan history's own
diff (``domain.plan.diff``, shown as ``ui.diff_text`` writes it). Each choice says in one line
what it will do; the choice runs on the sync thread (``SyncWorker.resolve``) and the list is read again.

The dialog does no I/O: it asks the worker and shows its answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.views.sync_conflicts import CHOICE_LABELS, ConflictView, choice_text
from drs_desktop.ui.diff_text import diff_text
from drs_desktop.workers.sync_worker import SyncWorker

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"


def _moment(view: ConflictView) -> str:
    at = view.changed_at or view.detected_at
    prefix = "" if view.changed_at else "found "
    return prefix + f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class SyncConflictsDialog(QDialog):
    """Non-modal: the operator may look at the plan in the editor while deciding."""

    def __init__(self, worker: SyncWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync-conflicts")
        self.setWindowTitle("Sync conflicts")
        self.resize(980, 680)
        self._worker = worker
        self._views: tuple[ConflictView, ...] = ()
        self._busy = False

        self.title = QLabel("Reading the conflicts…")
        self.title.setWordWrap(True)
        self.conflicts = QTreeWidget()
        self.conflicts.setObjectName("sync-conflict-list")
        self.conflicts.setHeaderLabels(["Conflict", "Changed on the other side by", "Changed at"])
        self.conflicts.setRootIsDecorated(False)
        self.conflicts.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.conflicts.itemSelectionChanged.connect(self._show_selected)
        self.summary = QLabel()
        self.summary.setObjectName("sync-conflict-summary")
        self.summary.setWordWrap(True)
        self.mine_title = QLabel()
        self.theirs_title = QLabel()
        self.mine_view = self._text_view("sync-mine")
        self.theirs_view = self._text_view("sync-theirs")
        self.diff_view = self._text_view("sync-diff")
        sides = QSplitter(Qt.Orientation.Horizontal)
        for title, view in ((self.mine_title, self.mine_view), (self.theirs_title, self.theirs_view)):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            box_layout.addWidget(title)
            box_layout.addWidget(view, 1)
            sides.addWidget(box)
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.addWidget(self.conflicts)
        detail.addWidget(sides)
        detail.addWidget(self.diff_view)
        detail.setSizes([120, 330, 160])

        self.buttons: dict[str, QPushButton] = {}
        self.explanations: dict[str, QLabel] = {}
        choices = QGridLayout()
        for row, (choice, label) in enumerate(CHOICE_LABELS):
            button = QPushButton(label)
            button.setObjectName(f"sync-{choice.replace('_', '-')}")
            button.setAutoDefault(False)  # Enter must not pick a side: only a click does
            button.clicked.connect(lambda _checked=False, c=choice: self.choose(c))
            explanation = QLabel()
            explanation.setWordWrap(True)
            self.buttons[choice], self.explanations[choice] = button, explanation
            choices.addWidget(button, row, 0)
            choices.addWidget(explanation, row, 1)
        choices.setColumnStretch(1, 1)
        self.result_label = QLabel()
        self.result_label.setObjectName("sync-conflict-result")
        self.result_label.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(detail, 1)
        layout.addWidget(self.summary)
        layout.addLayout(choices)
        layout.addWidget(self.result_label)
        layout.addWidget(close)

        worker.conflicts_loaded.connect(self.set_conflicts)
        worker.resolved.connect(self._resolved)
        worker.failed.connect(self._failed)
        self._show_selected()

    @staticmethod
    def _text_view(name: str) -> QPlainTextEdit:
        view = QPlainTextEdit()
        view.setObjectName(name)
        view.setReadOnly(True)
        view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        return view

    # -- asking ---------------------------------------------------------------------------------------

    def reload(self) -> None:
        self._worker.load_conflicts()

    def choose(self, choice: str) -> None:
        view = self.selected()
        if view is None or self._busy or not view.can(choice):
            return
        self._busy = True
        self._update_buttons()
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"{dict(CHOICE_LABELS)[choice]}: {view.label}…")
        self._worker.resolve(view.kind, view.key, choice)

    # -- showing --------------------------------------------------------------------------------------

    def views(self) -> tuple[ConflictView, ...]:
        return self._views

    def selected(self) -> ConflictView | None:
        items = self.conflicts.selectedItems()
        if not items:
            return None
        index = int(items[0].data(0, Qt.ItemDataRole.UserRole))
        return self._views[index] if index < len(self._views) else None

    def set_conflicts(self, views: Sequence[ConflictView]) -> None:
        previous = self.selected()
        self._views = tuple(views)
        self.conflicts.clear()
        count = len(self._views)
        if count:
            self.title.setText(
                f"<b>{count} open conflict{'' if count == 1 else 's'}</b>: another desktop changed "
                "what this desktop changed too. Neither side is applied or sent until you choose."
            )
        else:
            self.title.setText("<b>No open conflicts.</b>")
        chosen = 0
        for index, view in enumerate(self._views):
            item = QTreeWidgetItem([view.label, view.who, _moment(view)])
            item.setData(0, Qt.ItemDataRole.UserRole, index)
            self.conflicts.addTopLevelItem(item)
            if previous is not None and (view.kind, view.key) == (previous.kind, previous.key):
                chosen = index
        for column in range(3):
            self.conflicts.resizeColumnToContents(column)
        first = self.conflicts.topLevelItem(chosen)
        if first is not None:
            self.conflicts.setCurrentItem(first)
        self._show_selected()

    def _show_selected(self) -> None:
        view = self.selected()
        if view is None:
            for widget in (self.mine_view, self.theirs_view, self.diff_view):
                widget.clear()
            self.mine_title.clear()
            self.theirs_title.clear()
            self.summary.clear()
            for explanation in self.explanations.values():
                explanation.clear()
            self._update_buttons()
            return
        self.summary.setText(f"<b>{view.label}</b>: {view.summary}.")
        self.mine_title.setText(f"<b>{view.mine_title}</b>")
        self.theirs_title.setText(f"<b>{view.theirs_title}</b>")
        self.mine_view.setPlainText(view.mine_text)
        self.theirs_view.setPlainText(view.theirs_text)
        if view.diff:
            header = f"What taking theirs would change here (this desktop → {view.who}):"
            self.diff_view.setPlainText(diff_text(header, view.diff))
        else:
            self.diff_view.setPlainText(view.diff_note)
        for choice, explanation in self.explanations.items():
            explanation.setText(choice_text(view, choice))
        self._update_buttons()

    def _update_buttons(self) -> None:
        view = self.selected()
        for choice, button in self.buttons.items():
            button.setEnabled(view is not None and not self._busy and view.can(choice))

    def _resolved(self, message: str) -> None:
        self._busy = False
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Done: {message}.")
        self._update_buttons()

    def _failed(self, operation: str, message: str) -> None:
        if operation not in ("conflicts", "resolve"):
            return
        self._busy = False
        self.result_label.setStyleSheet(_ERROR_STYLE)
        self.result_label.setText(message)
        self._update_buttons()
