""" "Alerts…": where one plan's alerts go (issue 18): SNS topics and Slack, Teams or JSON webhooks.

Every operation runs on the ``aws`` task thread (``AlertDesk``): adding a webhook writes its URL to the
OS keyring (which may block on an unlock prompt), and Test publishes to SNS and posts to the webhooks
over the network; the GUI thread only shows answers. The URL is typed into a password-style field and
never shown again: the list says "URL in the OS keyring" for a webhook and the ARN for a topic. Test
sends ``AlertKind.TEST`` to every enabled route and shows each route's real outcome, delivered or the
error (without the URL), as the service recorded it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import AlertRoute, RouteKind
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, RouteResult, alert_desk
from drs_desktop.workers.tasks import Requester

logger = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b00020"
_READING = "Reading the routes…"
_KIND_NAMES = {
    RouteKind.SNS: "SNS topic",
    RouteKind.SLACK: "Slack webhook",
    RouteKind.TEAMS: "Teams webhook (Workflows)",
    RouteKind.JSON: "JSON webhook",
}
#: The kinds a route may take, in the order the check boxes show them (the test always goes).
_CHOICES = [k for k in AlertKind if k is not AlertKind.TEST]


class AlertRoutesDialog(QDialog):
    """One plan's alert routes: the list, add, remove and Test."""

    def __init__(self, plan_name: str, tasks: AwsTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alert-routes-dialog")
        self.setWindowTitle(f"Alerts of {plan_name!r}")
        self.resize(760, 460)
        self._plan = plan_name
        self._ask: Requester[AwsServices] = Requester(self, self._failed)
        self._ask.connect(tasks)
        self.routes: list[AlertRoute] = []
        #: The last test's outcome per route (what the screen says), for tests and the status line.
        self.last_results: list[RouteResult] = []

        self.route_list = QTreeWidget()
        self.route_list.setObjectName("alert-route-list")
        self.route_list.setHeaderLabels(["Route", "Kind", "Where", "Alerts", "Last delivery"])
        self.route_list.setRootIsDecorated(False)
        self.route_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.route_list.currentItemChanged.connect(lambda *_: self._update_buttons())

        self.kind_box = QComboBox()
        for route_kind in RouteKind:
            self.kind_box.addItem(_KIND_NAMES[route_kind], route_kind)
        self.kind_box.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("e.g. ops channel (shown instead of the URL)")
        self.target_edit = QLineEdit()
        self.target_edit.setObjectName("alert-route-target")
        self.kind_checks: dict[AlertKind, QCheckBox] = {}
        checks = QGridLayout()
        for i, kind in enumerate(_CHOICES):
            box = QCheckBox(kind.value)
            box.setChecked(kind in (AlertKind.RUN_HELD, AlertKind.RUN_FAILED, AlertKind.RTO_BREACHED))
            self.kind_checks[kind] = box
            checks.addWidget(box, i // 4, i % 4)
        self.add_button = QPushButton("Add route")
        self.add_button.clicked.connect(self.add_route)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Send a test alert to every enabled route and show what each did")
        self.test_button.clicked.connect(self.send_test)
        self.status = QLabel(_READING)
        self.status.setObjectName("alert-routes-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # names and paths shown as typed
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Kind", self.kind_box)
        form.addRow("Label", self.label_edit)
        self.target_label = QLabel()
        form.addRow(self.target_label, self.target_edit)
        form.addRow("Send", checks)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.test_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.route_list, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.status)
        self._kind_changed()
        self._update_buttons()
        self.refresh()

    # -- requests (each runs on the aws thread)

    def refresh(self) -> None:
        plan = self._plan
        self._ask("alert_routes", lambda s: alert_desk(s).routes(plan), self._show_routes)

    def add_route(self) -> None:
        kind = RouteKind(self.kind_box.currentData())
        chosen = [k for k, box in self.kind_checks.items() if box.isChecked()]
        if not chosen:
            self._say("Tick at least one kind of alert to send.", error=True)
            return
        plan, label, target = self._plan, self.label_edit.text(), self.target_edit.text()
        self._set_busy(True, "Adding the route…")
        self._ask(
            "add_alert_route",
            lambda s: alert_desk(s).add(plan, kind, label, target, chosen),
            lambda answer: self._added(answer[0], answer[1]),
        )

    def remove_selected(self) -> None:
        route = self._selected()
        if route is None:
            return
        self._set_busy(True, f"Removing {route.label}…")
        self._ask(
            "remove_alert_route", lambda s: alert_desk(s).remove(route.route_id), lambda _: self.refresh()
        )

    def send_test(self) -> None:
        plan = self._plan
        self._set_busy(True, "Sending a test alert to every route…")
        self._ask("test_alert_routes", lambda s: alert_desk(s).test(plan), self._tested)

    # -- answers (on the GUI thread)

    def _show_routes(self, routes: list[AlertRoute]) -> None:
        self.routes = list(routes)
        self.route_list.clear()
        for route in routes:
            where = route.target if route.kind is RouteKind.SNS else "URL in the OS keyring"
            kinds = ", ".join(sorted(k.value for k in route.kinds))
            item = QTreeWidgetItem([route.label, route.kind.value, where, kinds, route.last_outcome])
            item.setData(0, Qt.ItemDataRole.UserRole, route.route_id)
            if route.last_error:
                item.setToolTip(4, route.last_error)
            self.route_list.addTopLevelItem(item)
        # The status line keeps what an add or a test just said; it is replaced only by "no routes".
        self._set_busy(
            False, None if routes else "No routes yet: this plan's alerts go nowhere outside the app."
        )
        if routes and self.status.text() == _READING:
            self._say("")

    def _added(self, route: AlertRoute, persistent: bool) -> None:
        self.target_edit.clear()
        self.label_edit.clear()
        note = f"Added {route.label}."
        if not persistent:
            note += " No usable OS keyring: the URL is kept until DRS Desktop closes, then lost."
        self.refresh()
        self._say(note, error=not persistent)

    def _tested(self, results: list[RouteResult]) -> None:
        self.last_results = list(results)
        self.refresh()
        if not results:
            self._say("No enabled route to test.", error=True)
            return
        lines = [result.line() for result in results]
        self._say("\n".join(lines), error=not all(r.delivered for r in results))

    def _failed(self, operation: str, message: str) -> None:
        self._set_busy(False, None)
        self._say(message, error=True)

    # -- helpers

    def _kind_changed(self) -> None:
        kind = RouteKind(self.kind_box.currentData())
        if kind is RouteKind.SNS:
            self.target_label.setText("Topic ARN")
            self.target_edit.setEchoMode(QLineEdit.EchoMode.Normal)
            self.target_edit.setPlaceholderText("arn:aws:sns:REGION:ACCOUNT-ID:TOPIC")
        else:
            self.target_label.setText("Webhook URL")
            # The URL is the secret: typed like a password, stored in the OS keyring only.
            self.target_edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.target_edit.setPlaceholderText("https://… (stored in the OS keyring, never shown again)")

    def _selected(self) -> AlertRoute | None:
        item = self.route_list.currentItem()
        if item is None:
            return None
        route_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.routes if r.route_id == route_id), None)

    def _set_busy(self, busy: bool, text: str | None) -> None:
        for button in (self.add_button, self.test_button):
            button.setEnabled(not busy)
        self.remove_button.setEnabled(not busy and self._selected() is not None)
        if text is not None:
            self._say(text)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self._selected() is not None)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
