""" "Import from DRS…": the connected target's native recovery plans, the chosen ones made local plans.

The list (``NativeDesk.listing``, on the ``aws`` task thread) marks the plans already linked to a local
plan; they cannot be chosen (importing one again would make a second local copy of it). The chosen ones
become local plans whose revision history starts with the import (``import_plans`` with ``only``), each
linked to its native plan; what was skipped is said with its reason (published from another desktop, a
local plan of that name, steps a local plan cannot hold).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.ui.plans.native_dialog_base import NativeTaskDialog
from drs_desktop.workers.pane_tasks import AwsTasks, ImportReport, NativeListing, native_desk

logger = logging.getLogger(__name__)


class NativeImportDialog(NativeTaskDialog):
    imported = Signal(object)  # ImportReport, when at least one plan was imported

    def __init__(self, tasks: AwsTasks, parent: QWidget | None = None) -> None:
        super().__init__(
            tasks, "native-import-dialog", "Import native recovery plans from DRS", (760, 420), parent
        )
        intro = QLabel(
            "The native recovery plans of the connected account and Region. Each one chosen becomes a "
            "local plan, linked to it; its revision history starts with the import. Plans linked already "
            "are marked and cannot be chosen again."
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("native-import-list")
        self.tree.setHeaderLabels(["Native plan", "Status", "Linked to"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(lambda *_: self._update_buttons())
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.refresh_button = QPushButton("List again")
        self.import_button.clicked.connect(self.import_checked)
        self.refresh_button.clicked.connect(self.request_listing)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(self._button_row(self.refresh_button, right=(self.import_button,)))
        self.request_listing()

    def request_listing(self) -> None:
        self._start(
            "Listing the native recovery plans in DRS…",
            lambda s: native_desk(s).listing(s.mfa),
            self.show_listing,
            "Listing failed",
            "native.listing",
        )

    def import_checked(self) -> None:
        arns = self.checked_arns()
        if not arns or self._busy:
            return
        self._start(
            f"Importing {len(arns)} native plan(s)…",
            lambda s: native_desk(s).import_chosen(arns, s.mfa),
            self.show_report,
            "Import failed",
            "native.import",
        )

    def show_listing(self, listing: tuple[NativeListing, ...]) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for entry in listing:
            linked = f"{entry.linked_plan!r} (revision {entry.linked_revision})" if entry.linked else ""
            item = QTreeWidgetItem([entry.name, entry.status, linked])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.arn)
            item.setToolTip(0, entry.arn)
            if entry.linked:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(2, "linked already: publish or compare it from the Plans pane")
            else:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        free = sum(1 for entry in listing if not entry.linked)
        if not listing:
            text = "DRS has no native recovery plan in this account and Region."
        else:
            text = (
                f"{len(listing)} native plan(s), {len(listing) - free} linked already, {free} to choose from."
            )
        self._set_busy(False, text)

    def show_report(self, report: ImportReport) -> None:
        lines = [
            f"Imported {name!r} as revision {revision} (from {arn})."
            for name, revision, arn in report.imported
        ]
        lines += [f"Skipped {reason}" for reason in report.skipped]
        report_text = "\n".join(lines) or "Nothing was imported."
        if report.imported:
            self.imported.emit(report)
        # List again (the imported plans are linked now), the report staying on screen.
        self._start(
            report_text,
            lambda s: native_desk(s).listing(s.mfa),
            lambda listing: self._relisted(listing, report_text),
            "Listing failed",
            "native.listing",
        )

    def _relisted(self, listing: tuple[NativeListing, ...], report_text: str) -> None:
        self.show_listing(listing)
        self._set_busy(False, report_text)

    # ------------------------------------------------------------------------------ helpers

    def rows(self) -> list[tuple[str, str, bool]]:
        """(name, linked-to text, checkable) of every row, for tests and screen readers."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                checkable = bool(item.flags() & Qt.ItemFlag.ItemIsUserCheckable)
                out.append((item.text(0), item.text(2), checkable))
        return out

    def set_checked(self, names: list[str]) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                state = Qt.CheckState.Checked if item.text(0) in names else Qt.CheckState.Unchecked
                item.setCheckState(0, state)

    def checked_arns(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.checkState(0) == Qt.CheckState.Checked:
                out.append(str(item.data(0, Qt.ItemDataRole.UserRole)))
        return out

    def _update_buttons(self) -> None:
        count = len(self.checked_arns())
        self.import_button.setText(f"Import {count} plan{'s' * (count != 1)}" if count else "Import")
        self.import_button.setEnabled(count > 0 and not self._busy)
        self.refresh_button.setEnabled(not self._busy)
