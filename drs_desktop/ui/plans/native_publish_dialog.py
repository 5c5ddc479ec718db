""" "Publish to DRS…": what publishing a plan as a native DRS recovery plan sends, then sending it.

On opening, the dialog asks for the fit and the dry run (``NativeDesk.preview``, on the ``aws`` task
thread) and shows what will be sent, in words (create, update, delete, reorder), or, when the plan does
not fit, each problem with where it is and how the nearest plan that fits differs. The nearest plan is
only ever saved by the operator's click ("Save the nearest plan as a new revision"), as a new revision;
the dialog then previews that revision, to be published like any other. Publish sends exactly the
revision previewed: if the plan was saved meanwhile, or DRS's plan changed since the preview read it
(``PublishResult.drs_digest``), the service refuses and nothing is sent. Changes made in DRS since the
last publish (drift) are listed, and Publish stays off until "Overwrite the changes made in DRS" is
ticked. The preview says when DRS was read.

Publishing runs nothing: no drill, no recovery, no instance. DRS's refusal is shown in one line.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QVBoxLayout, QWidget

from drs_desktop.ui.plans.native_dialog_base import NativeTaskDialog, details_view, read_at_line
from drs_desktop.workers.pane_tasks import AwsTasks, PublishResult, native_desk

logger = logging.getLogger(__name__)


class NativePublishDialog(NativeTaskDialog):
    """Preview, nearest plan, publish: one plan, one target (the connected one)."""

    published = Signal(object)  # PublishResult of a publish that DRS accepted
    plan_saved = Signal(object)  # PlanRevision: the nearest plan saved as the plan's next revision

    def __init__(
        self,
        plan_name: str,
        tasks: AwsTasks,
        *,
        unsaved: bool = False,
        target: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, "native-publish-dialog", f"Publish {plan_name!r} to DRS", (720, 480), parent)
        self._name = plan_name
        self._preview: PublishResult | None = None
        self._note = ""  # said before the next preview's head (the nearest plan just saved)
        where = (
            f"the connected account and Region ({target})" if target else "the connected account and Region"
        )
        intro = (
            f"Publishing writes the latest saved revision of {plan_name!r} into a native DRS recovery plan "
            f"in {where}. It runs nothing: no drill, no recovery, no instance."
        )
        if unsaved:
            intro += " The editor has unsaved edits: they are not published (save them first)."
        self.intro_label = QLabel(intro)
        self.intro_label.setWordWrap(True)
        self.details = details_view("native-publish-details")
        self.nearest_button = QPushButton("Save the nearest plan as a new revision")
        self.nearest_button.setToolTip(
            "Saves the plan that fits, with the changes listed above, as the next revision of this plan; "
            "then shows what publishing it sends. Your current revision stays in the history."
        )
        self.nearest_button.hide()
        self.overwrite_box = QCheckBox("Overwrite the changes made in DRS (listed above)")
        self.overwrite_box.setObjectName("native-publish-overwrite")
        self.overwrite_box.hide()
        self.overwrite_box.toggled.connect(lambda _on: self._set_busy(self._busy, self.status_label.text()))
        self.publish_button = QPushButton("Publish")
        self.publish_button.setDefault(True)
        self.nearest_button.clicked.connect(self.save_nearest)
        self.publish_button.clicked.connect(self.publish)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.overwrite_box)
        layout.addLayout(self._button_row(self.nearest_button, right=(self.publish_button,)))
        self.request_preview()

    # ------------------------------------------------------------------------------ requests

    def request_preview(self) -> None:
        name = self._name
        self._preview = None
        self._start(
            f"Checking that {name!r} fits a native DRS plan, and reading DRS's copy…",
            lambda s: native_desk(s).preview(name, s.mfa),
            self.show_preview,
            "Reading DRS",
            "native.preview",
        )

    def publish(self) -> None:
        preview = self._preview
        if preview is None or self._busy or not preview.ok:
            return
        if preview.drift and not self.overwrite_box.isChecked():
            return
        name, revision, seen = self._name, preview.revision, preview.drs_digest
        overwrite = self.overwrite_box.isChecked()
        self._start(
            f"Publishing {name!r} revision {revision} to DRS…",
            lambda s: native_desk(s).publish(name, revision, s.mfa, expected_drs=seen, overwrite=overwrite),
            self.show_published,
            "Not published",
            "native.publish",
        )

    def save_nearest(self) -> None:
        preview = self._preview
        if preview is None or self._busy or preview.outcome != "does_not_fit":
            return
        name, revision = self._name, preview.revision
        self._start(
            f"Saving the nearest plan as the next revision of {name!r}…",
            lambda s: native_desk(s).save_nearest(name, revision),
            self.show_nearest_saved,
            "Saving the nearest plan failed",
            "native.save_nearest",
        )

    # ------------------------------------------------------------------------------ answers

    def show_preview(self, result: PublishResult) -> None:
        self._preview = result
        if result.outcome == "does_not_fit":
            head = f"{result.plan_name!r} revision {result.revision} does not fit a native DRS plan:"
            lines = ["Problems:"] + [
                f"  {p.where}: {p.text}" if p.where else f"  {p.text}" for p in result.problems
            ]
            if result.nearest_changes:
                lines += ["", "The nearest plan that fits would change:"]
                lines += [f"  {change}" for change in result.nearest_changes]
                head += " save the nearest plan (below) to publish that instead, or edit the plan."
            else:
                head += " no nearest plan fits; edit the plan."
            self.nearest_button.setVisible(bool(result.nearest_changes))
            self._show(head, lines, error=True)
            return
        self.nearest_button.hide()
        if result.actions:
            head = f"Publishing {result.plan_name!r} revision {result.revision} will send to DRS:"
        else:
            head = (
                f"DRS's steps already equal revision {result.revision} of {result.plan_name!r}: "
                "publishing sends no step and records this revision as published."
            )
        note, self._note = self._note, ""
        lines = [f"  {action}" for action in result.actions]
        if result.resumes is not None:
            lines += ["", f"This finishes the publish of revision {result.resumes}, which did not finish."]
        if result.drift:
            head += " It undoes changes made in DRS since the publish (below)."
            lines += ["", "Changed in DRS since the publish, undone by this one:"]
            lines += [f"  {line}" for line in result.drift]
        lines += [f"Note: {n}" for n in result.notes]
        if result.read_at is not None:
            lines += ["", read_at_line(result.read_at)]
        self.overwrite_box.setChecked(False)
        self.overwrite_box.setVisible(bool(result.drift))
        self._show(note + head, lines)

    def show_published(self, result: PublishResult) -> None:
        verb = "Published" if result.outcome == "published" else "Unchanged:"
        head = f"{verb} {result.plan_name!r} revision {result.revision} as {result.plan_arn}."
        lines = [f"  {action}" for action in result.actions] or ["  no call was needed"]
        if result.retried:
            lines.append(f"  ({result.retried} round(s) cut short by DRS and read back again)")
        self._preview = None  # sent: a second Publish needs a new preview
        self._show(head, ["DRS accepted:", *lines])
        self.published.emit(result)

    def show_nearest_saved(self, revision: object) -> None:
        number = getattr(revision, "revision", "?")
        self.plan_saved.emit(revision)
        self._note = f"Saved the nearest plan as revision {number}. "
        self.request_preview()
        self.status_label.setText(
            f"Saved the nearest plan as revision {number} of {self._name!r}; checking what publishing it "
            "sends…"
        )

    # ------------------------------------------------------------------------------ helpers

    def details_text(self) -> str:
        return self.details.toPlainText()

    def _show(self, head: str, lines: list[str], *, error: bool = False) -> None:
        self.details.setPlainText("\n".join(lines))
        self._set_busy(False, head, error=error)

    def _update_buttons(self) -> None:
        busy = self._busy
        preview = self._preview
        confirmed = preview is not None and (not preview.drift or self.overwrite_box.isChecked())
        self.publish_button.setEnabled(not busy and preview is not None and preview.ok and confirmed)
        self.nearest_button.setEnabled(not busy)
