"""The progress view's row of controls: pause, resume, cancel (and whether a drill's instances go with
it), retry, skip, approve, terminate a drill's instances.

The widgets, their order, and how they show what is allowed (``show_controls``). Which control applies to
which wave is decided in ``control_targets``, from the engine's ``AvailableControls`` and the row the
operator selected; a click runs the progress view's own method (the failure banner's buttons run the same
ones).
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QWidget

from drs_desktop.domain.engine.commands import AwaitApproval
from drs_desktop.domain.engine.controls import AvailableControls, ControlAction

logger = logging.getLogger(__name__)


class ControlsBar(QWidget):
    """The control buttons in a row, in the order an operator reads them, stretch at the end."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel…")
        self.terminate_check = QCheckBox("terminate drill instances")
        self.retry_button = QPushButton("Retry failed")
        self.skip_button = QPushButton("Skip wave")
        self.approve_button = QPushButton("Approve")
        self.cleanup_button = QPushButton("Terminate drill instances")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.pause_button,
            self.resume_button,
            self.cancel_button,
            self.terminate_check,
            self.retry_button,
            self.skip_button,
            self.approve_button,
            self.cleanup_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        self._row = row

    def add_widget(self, widget: QWidget) -> None:
        """One more control at the row's end (the progress view's "Add finding…")."""
        self._row.addWidget(widget)

    def show_controls(
        self,
        controls: AvailableControls,
        *,
        drill: bool,
        in_drs: bool,
        retry_wave: int | None,
        skip_wave: int | None,
        approval: AwaitApproval | None,
    ) -> None:
        """Enable each button exactly when ``controls`` allow it for the wave it would act on; a drill's
        termination controls show for a drill only, and a run in DRS (``in_drs``) has no pause and no
        approval steps, and retries a whole wave (DRS's step)."""
        for button in (self.pause_button, self.resume_button, self.approve_button):
            button.setVisible(not in_drs)  # DRS's executions have no pause and no approval steps
        self.retry_button.setText("Retry wave in DRS" if in_drs else "Retry failed")
        self.pause_button.setEnabled(controls.pause)
        self.resume_button.setEnabled(controls.resume)
        self.cancel_button.setEnabled(controls.cancel)
        self.terminate_check.setVisible(drill)
        self.terminate_check.setEnabled(controls.cancel_terminate)
        self.retry_button.setEnabled(
            retry_wave is not None and controls.allows(ControlAction.RETRY, retry_wave)
        )
        self.skip_button.setEnabled(skip_wave is not None and controls.allows(ControlAction.SKIP, skip_wave))
        self.approve_button.setEnabled(approval is not None)
        self.cleanup_button.setVisible(drill)
        self.cleanup_button.setEnabled(controls.cleanup)
