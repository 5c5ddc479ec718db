"""Extend servers from a staging account: pick the account, see its extensible servers, extend a selection.

A staging account replicates servers that the recovery account (the target the application runs against)
recovers once they are extended (CreateExtendedSourceServer). DRS lists only the staging accounts that
already have servers extended here, so the account box offers those and takes a typed 12-digit ID too.

Every DRS call runs on the ``aws`` task thread (DESIGN §3.4): the dialog asks and shows the answer, a busy
bar meanwhile, and never waits. The result of an extend is shown per server (extended as s-..., already
extended, failed and why), and the recovery account's inventory, refreshed by the service, leaves as
``inventory_refreshed`` for the Servers pane.

Before a server is extended, only its staging account can read its replication (ListExtensibleSourceServers
gives hostname, ARN and tags), so the Replication column says so; once extended, the server mirrors its
staging server's replication and the column shows it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.drs.extended import (
    ExtendOutcome,
    ExtendReport,
    ExtendStatus,
    ExtensibleListing,
    account_problem,
)
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import SourceServer
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, ExtendedServersService
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

COLUMNS = ("Hostname", "Staging server ID", "Staging account", "Replication", "Result")
HOSTNAME, STAGING_ID, ACCOUNT, REPLICATION, RESULT = range(len(COLUMNS))
_ERROR_STYLE = "color: #8a1c1c;"
_CHECKABLE = Qt.ItemFlag.ItemIsUserCheckable
_PROBLEMS = (ExtendStatus.FAILED, ExtendStatus.UNKNOWN)
NOT_VISIBLE_TIP = (
    "DRS shows a server's replication to its staging account only; once extended, the server here mirrors it"
)
_RESULT_COLOURS = {
    ExtendStatus.EXTENDED: "#2e7d32",
    ExtendStatus.ALREADY_EXTENDED: "#555555",
    ExtendStatus.FAILED: "#c62828",
    ExtendStatus.UNKNOWN: "#b26a00",
}


def _service(services: AwsServices) -> ExtendedServersService:
    if services.extended is None:
        raise DrsDesktopError("extending servers is not available on this thread")
    return services.extended


class ExtendServersDialog(QDialog):
    """Choose a staging account, list its extensible servers, extend the checked ones, see each result."""

    inventory_refreshed = Signal(object)  # Inventory: the recovery account's servers after an extend

    def __init__(self, target_label: str, parent: QWidget | None = None, *, region: str = "") -> None:
        """``target_label``: the target servers are extended into; ``region``: its Region, the only one
        whose staging servers DRS lists to it."""
        super().__init__(parent)
        self._region = region
        self.setObjectName("extend-servers-dialog")
        self.setWindowTitle("Extend servers from a staging account")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._aws: Requester[AwsServices] = Requester(self, self._failed)
        self._tasks: AwsTasks | None = None
        self._busy = False
        self._listing: ExtensibleListing | None = None
        self._rows: list[str] = []  # staging server ID of each row

        into = target_label or "the account DRS Desktop is connected to"
        intro = self.intro_label = QLabel(
            f"Servers replicated in a staging account are recovered in <b>{into}</b> once extended. "
            "DRS lists only staging accounts that already have servers extended here: type another "
            "account's 12-digit ID to extend its first servers."
        )
        intro.setWordWrap(True)
        self.account_combo = QComboBox()
        self.account_combo.setObjectName("extend-account")
        self.account_combo.setEditable(True)
        self.account_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.account_combo.setMinimumWidth(180)
        line = self.account_combo.lineEdit()
        if line is not None:  # always, for an editable combo box
            line.setPlaceholderText("staging account ID (12 digits)")
            line.returnPressed.connect(self.list_servers)
        self.account_combo.currentTextChanged.connect(self._account_edited)
        self.list_button = QPushButton("List servers")
        self.list_button.setObjectName("extend-list")
        self.list_button.clicked.connect(self.list_servers)
        self.account_error = QLabel()
        self.account_error.setObjectName("extend-account-error")
        self.account_error.setStyleSheet(_ERROR_STYLE)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("extend-table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # one line a row; a result's whole text is in its tooltip and below
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in ((HOSTNAME, 140), (STAGING_ID, 160), (ACCOUNT, 115), (REPLICATION, 120)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.itemChanged.connect(lambda _item: self._update_buttons())

        self.select_all_button = QPushButton("Select all")
        self.select_all_button.setObjectName("extend-select-all")
        self.select_all_button.clicked.connect(self._select_all)
        self.extend_button = QPushButton("Extend")
        self.extend_button.setObjectName("extend-run")
        self.extend_button.setDefault(False)
        self.extend_button.setAutoDefault(False)
        self.extend_button.clicked.connect(self.extend_checked)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.status_label = QLabel()
        self.status_label.setObjectName("extend-status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        account_row = QHBoxLayout()
        account_row.addWidget(QLabel("Staging account:"))
        account_row.addWidget(self.account_combo)
        account_row.addWidget(self.list_button)
        account_row.addWidget(self.account_error, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.select_all_button)
        buttons.addWidget(self.busy_bar)
        buttons.addStretch(1)
        buttons.addWidget(self.extend_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(account_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.resize(980, 480)
        self._update_buttons()

    # ---------------------------------------------------------------------------------- wiring

    def connect_tasks(self, aws: AwsTasks) -> None:
        """Ask DRS on ``aws`` from now on, and start with the staging accounts DRS lists."""
        self._aws.connect(aws)
        self._tasks = aws
        self._set_busy(True, "Asking DRS for the staging accounts with extended servers…")
        self._aws("staging_accounts", lambda s: _service(s).staging_accounts(s.mfa), self._accounts_listed)

    # ---------------------------------------------------------------------------------- actions

    def list_servers(self) -> None:
        """List the extensible servers of the account in the box (a typed ID is checked first)."""
        account = self.account_combo.currentText().strip()
        problem = account_problem(account)
        self.account_error.setText(problem)
        if problem or self._busy:
            return
        self._set_busy(True, f"Listing the extensible servers of staging account {account}…")
        self._aws("list", lambda s: _service(s).extensible(account, s.mfa), self._listed)

    def extend_checked(self) -> None:
        """Extend the checked servers of the listed account."""
        listing, tasks = self._listing, self._tasks
        chosen = self.checked_ids()
        if listing is None or tasks is None or not chosen or self._busy:
            return
        account = listing.staging_account_id
        self._set_busy(True, f"Extending {len(chosen)} server(s) of staging account {account}…")
        self._aws(
            "extend",
            lambda s: _service(s).extend(account, chosen, tasks.progress, s.mfa),
            self._extended,
            on_progress=lambda text: self.status_label.setText(str(text)),
        )

    # ---------------------------------------------------------------------------------- for tests

    def is_busy(self) -> bool:
        return self._busy

    def row_ids(self) -> list[str]:
        return list(self._rows)

    def checked_ids(self) -> list[str]:
        out = []
        for row, server_id in enumerate(self._rows):
            item = self.table.item(row, HOSTNAME)
            if item is not None and item.checkState() == Qt.CheckState.Checked and item.flags() & _CHECKABLE:
                out.append(server_id)
        return out

    def set_checked(self, server_ids: list[str]) -> None:
        for row, server_id in enumerate(self._rows):
            item = self.table.item(row, HOSTNAME)
            if item is not None and item.flags() & _CHECKABLE:
                checked = server_id in server_ids
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def result_text(self, server_id: str) -> str:
        item = self.table.item(self._rows.index(server_id), RESULT)
        return item.text() if item is not None else ""

    def cell_text(self, server_id: str, column: int) -> str:
        item = self.table.item(self._rows.index(server_id), column)
        return item.text() if item is not None else ""

    def status_text(self) -> str:
        return self.status_label.text()

    # ---------------------------------------------------------------------------------- answers

    def _accounts_listed(self, accounts: tuple[str, ...]) -> None:
        typed = self.account_combo.currentText()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self.account_combo.addItems(list(accounts))
        self.account_combo.setEditText(typed or (accounts[0] if accounts else ""))
        self.account_combo.blockSignals(False)
        if accounts:
            text = f"DRS lists {len(accounts)} staging account(s) with servers extended here."
        else:
            text = "No server is extended here yet: type the staging account's 12-digit ID."
        self._set_busy(False, text)

    def _listed(self, listing: ExtensibleListing) -> None:
        self._listing = listing
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self._rows = []
        for server in listing.extensible:
            self._add_row(
                server.source_server_id, server.hostname, listing.staging_account_id, checkable=True
            )
            self._set(len(self._rows) - 1, REPLICATION, "—", NOT_VISIBLE_TIP)
        for done in listing.extended:
            row = self._add_row(
                done.staging_server_id, done.hostname, done.staging_account_id, checkable=False
            )
            self._show_server(row, done)
            self._set(row, RESULT, f"already extended as {done.source_server_id}", done.extended_from())
        self.table.blockSignals(False)
        account = listing.staging_account_id
        where = f" in {self._region}" if self._region else ""
        text = (
            f"Staging account {account}{where}: {len(listing.extensible)} server(s) to extend, "
            f"{len(listing.extended)} already extended."
        )
        if not listing.extensible and not listing.extended:
            # Not "the account has no servers": DRS lists only the staging servers of this Region.
            region = self._region or "this Region"
            text += (
                f" DRS lists only the servers a staging account replicates in {region}; servers it "
                "replicates in another Region are extended from a target in that Region."
            )
        self._set_busy(False, text)

    def _extended(self, report: ExtendReport) -> None:
        self.table.blockSignals(True)
        for outcome in report.outcomes:
            self._show_outcome(outcome)
        self.table.blockSignals(False)
        text = report.summary()
        lines = [text[0].upper() + text[1:]]
        lines += [o.describe() for o in report.outcomes if not report.ok and o.status in _PROBLEMS]
        if report.refresh_error:
            lines.append(f"The server list was not refreshed: {report.refresh_error}")
        self._set_busy(False, "\n".join(lines))
        if report.inventory is not None:
            self.inventory_refreshed.emit(report.inventory)

    def _failed(self, operation: str, message: str) -> None:
        what = {"staging_accounts": "Listing the staging accounts", "list": "Listing the servers"}
        self._set_busy(False, f"{what.get(operation, 'Extending')} failed: {message}")
        self.status_label.setStyleSheet(_ERROR_STYLE)

    # ---------------------------------------------------------------------------------- internals

    def _add_row(self, server_id: str, hostname: str, account: str, *, checkable: bool) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._rows.append(server_id)
        name = QTableWidgetItem(hostname or "?")
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if checkable:
            name.setFlags(flags | _CHECKABLE)
            name.setCheckState(Qt.CheckState.Unchecked)
        else:
            name.setFlags(flags)
        self.table.setItem(row, HOSTNAME, name)
        self._set(row, STAGING_ID, server_id)
        self._set(row, ACCOUNT, account)
        self._set(row, RESULT, "")
        return row

    def _set(self, row: int, column: int, text: str, tip: str = "") -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None or column != HOSTNAME:
            item = QTableWidgetItem(text)
            self.table.setItem(row, column, item)
        item.setText(text)
        item.setToolTip(tip or text)
        return item

    def _show_server(self, row: int, server: SourceServer) -> None:
        self._set(
            row, REPLICATION, server.replication_state or "?", "mirrors the staging server's replication"
        )

    def _show_outcome(self, outcome: ExtendOutcome) -> None:
        if outcome.staging_server_id not in self._rows:
            return
        row = self._rows.index(outcome.staging_server_id)
        if outcome.server is not None:
            self._show_server(row, outcome.server)
        text = {
            ExtendStatus.EXTENDED: f"extended as {outcome.extended_server_id}",
            ExtendStatus.ALREADY_EXTENDED: f"already extended as {outcome.extended_server_id}",
            ExtendStatus.UNKNOWN: f"unknown: {outcome.message}",
            ExtendStatus.FAILED: f"failed: {outcome.message}",
        }[outcome.status]
        item = self._set(row, RESULT, text, outcome.describe())
        item.setForeground(QBrush(QColor(_RESULT_COLOURS[outcome.status])))
        if outcome.status in (ExtendStatus.EXTENDED, ExtendStatus.ALREADY_EXTENDED):
            name = self.table.item(row, HOSTNAME)
            if name is not None:  # done: it can no longer be extended
                name.setData(Qt.ItemDataRole.CheckStateRole, None)
                name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)

    def _select_all(self) -> None:
        self.set_checked(list(self._rows))

    def _account_edited(self, _text: str) -> None:
        self.account_error.setText("")

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.busy_bar.setVisible(busy)
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)
        self.list_button.setEnabled(not busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        count = len(self.checked_ids())
        self.extend_button.setText(f"Extend {count} server{'s' * (count != 1)}" if count else "Extend")
        self.extend_button.setEnabled(bool(count) and not self._busy)
        self.select_all_button.setEnabled(bool(self._rows) and not self._busy)
