"""The history worker: the execution history, its details, drill cleanup and report exports, run off
the GUI thread (DESIGN §3).

It lives on its own QThread (``WorkerThread``) and is driven by queued signals only, like
``PlansWorker``: every slot calls ``services.history.ExecutionHistory`` and answers with a past-tense
signal carrying frozen domain values, or with ``failed(operation, message)`` (operation names are the
slot names). A PDF is not made here: Qt's PDF writer lives in QtGui, which a worker may not import, so
``render_report(id, "html")`` hands the HTML to the GUI thread and the ui layer prints it.

A cleanup waits for DRS (the runner's real sleep between calls), so it occupies this thread for a
while; the other requests queue behind it. ``request_stop`` (any thread) cuts it short at shutdown.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from drs_desktop.domain.execution_history import HistoryFilter
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.workers.guarded import guarded

logger = logging.getLogger(__name__)


class HistoryWorker(QObject):
    """List, details, cleanup and exports of past executions."""

    executions_loaded = Signal(object, object)  # HistoryFilter, list[ExecutionSummary] newest first
    plan_names_loaded = Signal(object)  # list[str]: plans that have executions
    details_loaded = Signal(object)  # ExecutionView
    cleanup_finished = Signal(object)  # CleanupResult (refused ones too: ``refused`` says why)
    report_exported = Signal(str, str, str)  # execution ID, format, path written
    report_rendered = Signal(str, str, str)  # execution ID, format, the report's text
    failed = Signal(str, str)  # operation (the slot's name), message for the operator

    def __init__(self, history: ExecutionHistory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history

    def request_stop(self) -> None:
        """Thread-safe, called directly (not queued): cut a cleanup in progress short, at shutdown."""
        self._history.request_stop()

    @Slot()
    def close(self) -> None:
        """Release this thread's read connection; ``WorkerThread(on_stop=worker.close)`` calls it."""
        try:
            self._history.close()
        except Exception:
            logger.exception("closing the history worker's reader failed")

    @Slot(object)
    @guarded("load_executions")
    def load_executions(self, flt: HistoryFilter | None = None) -> None:
        chosen = flt if isinstance(flt, HistoryFilter) else HistoryFilter()
        self.executions_loaded.emit(chosen, self._history.executions(chosen))

    @Slot()
    @guarded("load_plan_names")
    def load_plan_names(self) -> None:
        self.plan_names_loaded.emit(self._history.plan_names())

    @Slot(str)
    @guarded("load_details")
    def load_details(self, execution_id: str) -> None:
        self.details_loaded.emit(self._history.view(execution_id))

    @Slot(str, str)
    @guarded("clean_up")
    def clean_up(self, execution_id: str, by: str = "") -> None:
        self.cleanup_finished.emit(self._history.cleanup(execution_id, by))

    @Slot(str, str, str)
    @guarded("export_report")
    def export_report(self, execution_id: str, fmt: str, path: str) -> None:
        written = self._history.export(execution_id, fmt, path)
        self.report_exported.emit(execution_id, fmt, str(written))

    @Slot(str, str)
    @guarded("render_report")
    def render_report(self, execution_id: str, fmt: str) -> None:
        self.report_rendered.emit(execution_id, fmt, self._history.render(execution_id, fmt))
