"""The Settings pane's "Team sync" section: the team's DynamoDB table, the switch, and "Sync now".

Saving stores where this desktop syncs (table, profile, Region, optional endpoint: never a credential)
and the switch, then checks the table, on the ``settings`` task thread like every other save of the pane
(``SettingsService.save_sync``: DescribeTable and the table header over the network). The answer is
shown in words: a DRS Desktop sync table, or what is wrong (no such table, not a sync table, made for a
newer DRS Desktop, an IAM action missing, credentials refused), as ``drs-desktop sync now`` says it.

The rounds themselves are the sync worker's (``workers.sync_worker``): the composition root hears
``saved`` (read the state again, sync at once if switched on) and ``sync_now_requested``, and feeds the
section the worker's status line (``show_status``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from drs_desktop.domain.views.sync_status import SyncSettings, SyncSetup, SyncStatus, status_text
from drs_desktop.workers.pane_tasks import SettingsService, SettingsTasks
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

DEFAULT_PROFILE_TEXT = "(default credential chain)"
_ERROR_STYLE = "color: #b00020"
_WARNING_STYLE = "color: #8a4b00"


class SyncSettingsWidget(QGroupBox):
    """The Team sync section; ``connect_tasks`` gives it the ``settings`` thread."""

    saved = Signal(object)  # SyncSettings, once stored
    sync_now_requested = Signal()

    def __init__(self, regions: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__("Team sync: share plans and history through the team's DynamoDB table", parent)
        self.setObjectName("settings-sync")
        self._ask: Requester[SettingsService] = Requester(self, self._failed)
        self._settings: SyncSettings | None = None
        self._saving = False

        self.table_edit = QLineEdit()
        self.table_edit.setObjectName("sync-table")
        self.table_edit.setPlaceholderText("drs-desktop-sync (created once with drs-desktop sync init)")
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("sync-profile")
        self.profile_combo.setEditable(True)
        self.region_combo = QComboBox()
        self.region_combo.setObjectName("sync-region")
        self.region_combo.setEditable(True)
        self.region_combo.addItems(["", *regions])
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setObjectName("sync-endpoint")
        self.endpoint_edit.setPlaceholderText("optional: a VPC endpoint (https://…) or a local emulator")
        self.enable_check = QCheckBox("Enable sync: in the background, every minute and soon after a save")
        self.enable_check.setObjectName("sync-enable")
        # What the switch also does, said where it is flipped (services.execution_lease).
        self.enable_check.setToolTip(
            "With sync on, every run this desktop drives also holds its lease in the table, so that no "
            "other desktop drives it at the same time. When the table cannot be reached, a run cannot "
            "start: turn sync off to run without that check."
        )
        self.save_button = QPushButton("Save and check the table")
        self.save_button.setObjectName("sync-save")
        self.save_button.clicked.connect(self.save)
        self.sync_now_button = QPushButton("Sync now")
        self.sync_now_button.setObjectName("sync-now")
        self.sync_now_button.setToolTip("Pull the team's changes, push this desktop's, pull again")
        self.sync_now_button.clicked.connect(self.sync_now_requested.emit)
        self.check_label = QLabel()
        self.check_label.setObjectName("sync-check")
        self.check_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("sync-state")
        self.status_label.setWordWrap(True)
        self.desktop_label = QLabel()
        self.desktop_label.setObjectName("sync-desktop-id")

        form = QFormLayout(self)
        form.addRow("Table", self.table_edit)
        form.addRow("Profile", self.profile_combo)
        form.addRow("Region", self.region_combo)
        form.addRow("Endpoint", self.endpoint_edit)
        form.addRow(self.enable_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.sync_now_button)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        form.addRow(self.check_label)
        form.addRow(self.desktop_label)
        self.set_profiles(())
        self._update_buttons()

    # -- wiring ---------------------------------------------------------------------------------------

    def connect_tasks(self, tasks: SettingsTasks) -> None:
        self._ask.connect(tasks)

    def load(self) -> None:
        self._ask("load_sync", lambda s: s.sync_settings(), self.show_settings)

    # -- actions --------------------------------------------------------------------------------------

    def wanted(self) -> SyncSettings:
        text = self.profile_combo.currentText().strip()
        index = self.profile_combo.findText(text)
        profile = self.profile_combo.itemData(index) if index >= 0 else text  # a name typed in
        return SyncSettings(
            table=self.table_edit.text().strip(),
            region=self.region_combo.currentText().strip(),
            profile=str(profile or "").strip(),
            endpoint=self.endpoint_edit.text().strip(),
            enabled=self.enable_check.isChecked(),
        )

    def save(self) -> None:
        """Store the section and check the table, on the settings thread."""
        wanted = self.wanted()
        self._saving = True
        self._update_buttons()
        self._say(f"Saving and checking the table {wanted.table}…" if wanted.table else "Saving…")
        self._ask("save_sync", lambda s: s.save_sync(wanted), self._saved)

    # -- showing --------------------------------------------------------------------------------------

    def settings(self) -> SyncSettings | None:
        return self._settings

    def check_text(self) -> str:
        return self.check_label.text()

    def set_profiles(self, profiles: Sequence[str]) -> None:
        """The profiles of the AWS config files (the pane's snapshot); the one set stays offered."""
        current = self._settings.profile if self._settings is not None else ""
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        self.profile_combo.addItem(DEFAULT_PROFILE_TEXT, "")
        for name in profiles:
            self.profile_combo.addItem(name, name)
        self._select_profile(current)
        self.profile_combo.blockSignals(False)

    def show_settings(self, settings: SyncSettings) -> None:
        self._settings = settings
        self.table_edit.setText(settings.table)
        self.region_combo.setEditText(settings.region)
        self.endpoint_edit.setText(settings.endpoint)
        self.enable_check.setChecked(settings.enabled)
        self._select_profile(settings.profile)
        self.desktop_label.setText(f"This desktop's ID: {settings.desktop_id}" if settings.desktop_id else "")
        self._update_buttons()

    def show_status(self, status: SyncStatus) -> None:
        """The sync worker's line (the status bar's), beside "Sync now"."""
        self.status_label.setText(status_text(status))

    def show_progress(self, text: str) -> None:
        self.status_label.setText(text)

    # -- answers --------------------------------------------------------------------------------------

    def _saved(self, setup: SyncSetup) -> None:
        self._saving = False
        self.show_settings(setup.settings)
        style = "" if setup.table_ok else (_ERROR_STYLE if not setup.saved else _WARNING_STYLE)
        self._say(setup.message, style)
        if setup.saved:
            self.saved.emit(setup.settings)

    def _failed(self, operation: str, message: str) -> None:
        self._saving = False
        self._update_buttons()
        self._say(message, _ERROR_STYLE)

    def _say(self, text: str, style: str = "") -> None:
        self.check_label.setText(text)
        self.check_label.setStyleSheet(style)

    def _select_profile(self, name: str) -> None:
        index = self.profile_combo.findData(name)
        if index < 0:
            self.profile_combo.addItem(f"{name}", name)
            index = self.profile_combo.count() - 1
        self.profile_combo.setCurrentIndex(index)

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(not self._saving)
        self.sync_now_button.setEnabled(not self._saving and bool(self._settings and self._settings.table))
