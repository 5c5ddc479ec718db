"""A plan's revisions, and what changed between two of them.

The dialog does no I/O: it asks for a diff or a revision through signals, which the plans pane asks
its task thread for, and shows the answer with ``show_diff``. It is opened non-modal (``show``), so
the operator can keep it beside the editor while comparing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.ui.diff_text import diff_text

logger = logging.getLogger(__name__)


class PlanHistoryDialog(QDialog):
    """Revisions newest first; select one (compared with the one before) or two, then Compare."""

    diff_requested = Signal(str, int, int)  # plan name, old revision, new revision
    revision_open_requested = Signal(str, int)  # plan name, revision

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plan-history")
        self.setWindowTitle("Plan history")
        self.resize(760, 520)
        self._name = ""
        self.revisions = QTreeWidget()
        self.revisions.setObjectName("revisions")
        self.revisions.setHeaderLabels(["Revision", "Saved (UTC)", "Comment", "Author"])
        self.revisions.setRootIsDecorated(False)
        self.revisions.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.revisions.itemSelectionChanged.connect(self._update_buttons)
        self.diff_view = QPlainTextEdit()
        self.diff_view.setObjectName("diff")
        self.diff_view.setReadOnly(True)
        self.diff_view.setPlaceholderText("Select a revision (or two) and press Compare.")
        self.title = QLabel()
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare_selected)
        self.open_button = QPushButton("Open this revision")
        self.open_button.setToolTip("Open it in the editor; saving it makes it the latest revision again")
        self.open_button.clicked.connect(self._open_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.compare_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.revisions)
        splitter.addWidget(self.diff_view)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self._update_buttons()

    def plan_name(self) -> str:
        return self._name

    def set_revisions(self, name: str, revisions: Sequence[PlanRevision]) -> None:
        self._name = name
        self.title.setText(f"<b>{name}</b>: {len(revisions)} revision{'' if len(revisions) == 1 else 's'}")
        self.revisions.clear()
        for revision in sorted(revisions, key=lambda r: r.revision, reverse=True):
            item = QTreeWidgetItem(
                [
                    str(revision.revision),
                    f"{revision.saved_at:%Y-%m-%d %H:%M:%S}",
                    revision.comment,
                    revision.author,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, revision.revision)
            self.revisions.addTopLevelItem(item)
        self.diff_view.clear()
        items = self._items()
        if items:
            self.revisions.setCurrentItem(items[0])
        self._update_buttons()

    def select_revisions(self, *numbers: int) -> None:
        self.revisions.clearSelection()
        for item in self._items():
            if item.data(0, Qt.ItemDataRole.UserRole) in numbers:
                item.setSelected(True)

    def selected_pair(self) -> tuple[int, int] | None:
        """(old, new) to compare: two selected revisions, or one and the revision before it."""
        chosen = sorted(
            int(item.data(0, Qt.ItemDataRole.UserRole)) for item in self.revisions.selectedItems()
        )
        if len(chosen) == 2:
            return chosen[0], chosen[1]
        if len(chosen) == 1 and chosen[0] > 1:
            return chosen[0] - 1, chosen[0]
        return None

    def compare_selected(self) -> None:
        pair = self.selected_pair()
        if pair is not None:
            self.diff_view.setPlainText(f"Comparing revision {pair[0]} with {pair[1]}…")
            self.diff_requested.emit(self._name, pair[0], pair[1])

    def show_diff(self, name: str, old: int, new: int, lines: Sequence[str]) -> None:
        if name != self._name:
            return
        self.diff_view.setPlainText(diff_text(f"Revision {old} → {new}:", lines))

    def diff_text(self) -> str:
        return self.diff_view.toPlainText()

    def _items(self) -> list[QTreeWidgetItem]:
        items = (self.revisions.topLevelItem(row) for row in range(self.revisions.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _open_selected(self) -> None:
        items = self.revisions.selectedItems()
        if len(items) == 1:
            self.revision_open_requested.emit(self._name, int(items[0].data(0, Qt.ItemDataRole.UserRole)))

    def _update_buttons(self) -> None:
        self.compare_button.setEnabled(self.selected_pair() is not None)
        self.open_button.setEnabled(len(self.revisions.selectedItems()) == 1)
