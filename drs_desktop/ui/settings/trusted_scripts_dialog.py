"""The Settings page's list of the local scripts this desktop trusts, each with where it stands now, and
Revoke.

Why the status of each: a trusted script whose file changed (or whose link now leads elsewhere) no longer
runs, and the operator should see that here before a run's preflight says it. Each file is read and
hashed on the ``local`` task thread; the GUI thread only shows the answer. There is no "Trust" button:
trust is given by the confirmation that shows a step's whole command (``ui.script_trust_dialog``) or by
``drs-desktop scripts trust`` on a terminal.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import ScriptCheck
from drs_desktop.ui.settings.trusted_scripts_model import TrustedScriptsModel
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks, script_trust
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

__all__ = ["TrustedScriptsDialog"]

_ERROR_STYLE = "color: #b00020"


class TrustedScriptsDialog(QDialog):
    """Trusted scripts of this desktop; ``tasks`` is the ``local`` thread (the script trust service)."""

    def __init__(self, tasks: LocalTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trusted-scripts-dialog")
        self.setWindowTitle("Trusted scripts on this desktop")
        self._ask: Requester[LocalServices] = Requester(self, self._failed)
        self._ask.connect(tasks)
        self.model = TrustedScriptsModel()
        self.table = QTableView()
        self.table.setObjectName("trusted-scripts-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.status_label = QLabel()
        self.status_label.setObjectName("trusted-scripts-status")
        self.status_label.setWordWrap(True)
        self.revoke_button = QPushButton("Revoke")
        self.revoke_button.setObjectName("trusted-scripts-revoke")
        self.revoke_button.setToolTip("Stop trusting the selected script: a plan's step no longer runs it")
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.refresh_button = QPushButton("Check again")
        self.refresh_button.setObjectName("trusted-scripts-refresh")
        self.refresh_button.clicked.connect(lambda: self.load())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.revoke_button)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        row.addWidget(close)
        note = QLabel(
            "A plan's script step runs only the scripts trusted here, as they were when trusted. Trust is "
            "kept on this desktop only: never in a plan, an export or team sync."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(row)
        self.resize(820, 360)
        self._update_buttons()
        self.load()

    def load(self, note: str = "") -> None:
        """Read the list and look at each file again (on the local thread); ``note`` leads the answer."""
        self.status_label.setStyleSheet("")
        self.status_label.setText("checking the trusted scripts…")
        self._ask("list_scripts", lambda s: script_trust(s).checks(), lambda c: self._show(c, note))

    def revoke_selected(self) -> None:
        check = self.selected()
        if check is None:
            return
        path = check.path
        self.revoke_button.setEnabled(False)
        self._ask("revoke_script", lambda s: script_trust(s).revoke(path), lambda _gone: self._revoked(path))

    def selected(self) -> ScriptCheck | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.check_at(rows[0].row()) if rows else None

    def _show(self, checks: list[ScriptCheck], note: str = "") -> None:
        self.model.set_checks(checks)
        stale = sum(1 for c in checks if not c.runnable)
        if not checks:
            text = "No script is trusted on this desktop."
        elif stale:
            text = f"{len(checks)} trusted; {stale} would not run now (changed, missing or not executable)."
        else:
            text = f"{len(checks)} trusted, each as it was when trusted."
        self.status_label.setText(f"{note} {text}" if note else text)

    def _revoked(self, path: str) -> None:
        logger.info("script trust revoked from the settings: %s", path)
        self.load(note=f"Revoked: {terminal_safe(path)}.")

    def _update_buttons(self) -> None:
        self.revoke_button.setEnabled(self.selected() is not None)

    def _failed(self, operation: str, message: str) -> None:
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(f"{operation.replace('_', ' ')} failed: {message}")
        self._update_buttons()
