""" "Drift…": what was changed in DRS since the plan was published, and which side wins.

The difference (``NativeDesk.diff``, on the ``aws`` task thread) is in words, against the linked
revision: steps removed, added, renamed, reordered, servers added or removed, waits changed; and, apart,
the local edits not published yet. Two resolutions, each said in one line of what it does and confirmed
before anything is done:

- "Keep ours (publish)": the latest revision is published over DRS's plan; DRS's changes are undone.
- "Take DRS's (new revision)": DRS's steps are merged into the plan's next revision (what the native plan
  cannot hold is kept) and the link follows it; nothing is sent to DRS. The confirmation lists every
  change to the plan, what is lost first.

Both act on what the dialog showed: each is refused when DRS's plan changed since it was read (the
diff's ``drs_digest``), and the dialog says when that was. A publish that did not finish is shown as
ours, not drift; "Keep ours" finishes it. Neither runs anything in DRS: no drill, no recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from drs_desktop.ui.plans.native_dialog_base import NativeTaskDialog, details_view, read_at_line
from drs_desktop.workers.pane_tasks import AwsTasks, DiffResult, PlanStatus, PublishResult, native_desk

logger = logging.getLogger(__name__)


class NativeDriftDialog(NativeTaskDialog):
    resolved = Signal(object)  # PublishResult (kept ours) or PlanRevision (took DRS's)

    def __init__(self, status: PlanStatus, tasks: AwsTasks, parent: QWidget | None = None) -> None:
        super().__init__(
            tasks, "native-drift-dialog", f"Drift of {status.plan_name!r} in DRS", (760, 460), parent
        )
        self._status = status
        self._diff: DiffResult | None = None
        #: Asked before either resolution, with its one line; True goes on. Replaceable in tests.
        self.confirm: Callable[[str, str], bool] = self._ask
        self.details = details_view("native-drift-details")
        self.keep_button = QPushButton("Keep ours (publish)")
        self.take_button = QPushButton("Take DRS's (new revision)")
        self.keep_line = QLabel()
        self.take_line = QLabel()
        for line in (self.keep_line, self.take_line):
            line.setWordWrap(True)
        self._set_lines()
        self.keep_button.clicked.connect(self.keep_ours)
        self.take_button.clicked.connect(self.take_theirs)
        choices = QGridLayout()
        choices.addWidget(self.keep_button, 0, 0)
        choices.addWidget(self.keep_line, 0, 1)
        choices.addWidget(self.take_button, 1, 0)
        choices.addWidget(self.take_line, 1, 1)
        choices.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.details, 1)
        layout.addLayout(choices)
        layout.addLayout(self._button_row())
        self.request_diff()

    # ------------------------------------------------------------------------------ requests

    def request_diff(self) -> None:
        name = self._status.plan_name
        self._start(
            f"Comparing DRS's plan with what was published of {name!r}…",
            lambda s: native_desk(s).diff(name, s.mfa),
            self.show_diff,
            "Could not compare",
            "native.diff",
        )

    def keep_ours(self) -> None:
        diff = self._diff
        if self._busy or diff is None or not (diff.drift or diff.incomplete):
            return
        if not self.confirm("Keep ours", self.keep_line.text()):
            return
        name, latest, seen = self._status.plan_name, self._status.latest_revision, diff.drs_digest
        self._start(
            f"Publishing revision {latest} of {name!r} over DRS's plan…",
            lambda s: native_desk(s).publish(name, latest, s.mfa, expected_drs=seen, overwrite=True),
            self._kept,
            "Not published",
            "native.keep_ours",
        )

    def take_theirs(self) -> None:
        diff = self._diff
        if self._busy or diff is None or not diff.drift:
            return
        changes = "\n".join(f"  {line}" for line in diff.adopt_changes) or "  nothing else"
        if not self.confirm(
            "Take DRS's", f"{self.take_line.text()}\n\nThe plan changes (and loses):\n{changes}"
        ):
            return
        name, seen = self._status.plan_name, diff.drs_digest
        self._start(
            f"Saving DRS's steps as the next revision of {name!r}…",
            lambda s: native_desk(s).adopt(name, s.mfa, expected_drs=seen),
            self._taken,
            "Not saved",
            "native.take_theirs",
        )

    # ------------------------------------------------------------------------------ answers

    def show_diff(self, diff: DiffResult) -> None:
        self._diff = diff
        lines: list[str] = []
        if diff.read_at is not None:
            lines += [read_at_line(diff.read_at), ""]
        if diff.incomplete:
            lines += [
                "Our publish did not finish (not drift):",
                *(f"  {line}" for line in diff.incomplete),
                "",
            ]
        if diff.in_drs:
            head = f"{diff.plan_name!r}: changed in DRS since revision {diff.linked_revision} was published."
            lines += ["Changed in DRS:", *(f"  {line}" for line in diff.in_drs)]
        else:
            lines += ["DRS's steps equal the ones published: nothing to resolve."]
            head = (
                f"No drift: DRS's plan is as revision {diff.linked_revision} of {diff.plan_name!r} "
                "was published."
            )
        if diff.unpublished:
            lines += ["", "Edited here, not published yet:", *(f"  {line}" for line in diff.unpublished)]
        if diff.in_drs and diff.adopt_changes:
            lines += [
                "",
                "Taking DRS's would change the plan:",
                *(f"  {line}" for line in diff.adopt_changes),
            ]
        self.details.setPlainText("\n".join(lines).strip("\n"))
        self._set_busy(False, head)

    def _kept(self, result: PublishResult) -> None:
        self.resolved.emit(result)
        self.request_diff()
        self.status_label.setText(f"Published revision {result.revision}; comparing again…")

    def _taken(self, revision: object) -> None:
        self.resolved.emit(revision)
        number = getattr(revision, "revision", "?")
        self._status = _with_latest(self._status, number if isinstance(number, int) else None)
        self._set_lines()
        self.request_diff()
        self.status_label.setText(f"Saved DRS's steps as revision {number}; comparing again…")

    # ------------------------------------------------------------------------------ helpers

    def _set_lines(self) -> None:
        """What each resolution does, in one line each, for the plan's latest revision as known now."""
        latest, name = self._status.latest_revision, self._status.plan_name
        self.keep_line.setText(
            f"Publishes revision {latest} of {name!r} over DRS's plan: the changes made in DRS are undone."
        )
        self.take_line.setText(
            f"Saves DRS's steps as revision {latest + 1} of {name!r} and links it: nothing is sent to DRS."
        )

    def details_text(self) -> str:
        return self.details.toPlainText()

    def _drifted(self) -> bool:
        return self._diff is not None and self._diff.drift

    def _update_buttons(self) -> None:
        busy = self._busy
        enabled = not busy and self._drifted()
        unfinished = self._diff is not None and bool(self._diff.incomplete)
        self.keep_button.setEnabled(enabled or (not busy and unfinished))
        self.take_button.setEnabled(enabled)

    def _ask(self, title: str, line: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            f"{line}\n\nGo on?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes


def _with_latest(status: PlanStatus, latest: int | None) -> PlanStatus:
    from dataclasses import replace

    return status if latest is None else replace(status, latest_revision=latest, unpublished=False)
