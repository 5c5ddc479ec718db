"""The GUI's background team sync: when to sync, on which thread, and what to tell the window.

The work runs on its own ``TaskThread`` ("sync"), whose resources are a ``services.team_sync.TeamSync``
built on that thread (its DynamoDB client and its SQLite reader belong to it alone, DESIGN §3.5). It is
its own thread, not the ``settings`` or ``aws`` one, because a round waits on the network for as long as
DynamoDB takes and nothing else should wait behind it; the GUI thread never waits at all: it asks
(``run_task``) and hears the answer.

When: every ``interval_ms`` (60 s) while the background sync is switched on, and ``debounce_ms`` after a
local save (the ChangeHub's ``plans_changed`` / ``executions_changed``, through ``local_change``), so a
burst of edits makes one round. One round at a time: a round asked while one runs is run once after it.
"Sync now" (``sync_now(manual=True)``) runs a round whenever a table is set, switched on or not, as
``drs-desktop sync now`` does.

What it tells: ``status_changed(SyncStatus)`` after every round and every status read, ``progressed``
(``SyncProgress`` while a round runs, None once it ended), ``changes_pulled(kinds)`` after a round or a
resolution that changed local data ("plans", "executions", "settings": the composition root announces
them on the ChangeHub so the panes reload; the announcement does not start another round),
``conflicts_loaded`` and ``resolved`` for the conflicts dialog, ``failed(operation, message)``.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from drs_desktop.domain.views.sync_conflicts import ConflictView
from drs_desktop.domain.views.sync_status import SyncProgress, SyncStatus
from drs_desktop.services.team_sync import ResolveAnswer, SyncRound, TeamSync
from drs_desktop.workers.tasks import TaskThread

logger = logging.getLogger(__name__)

__all__ = ["ConflictView", "SyncTasks", "SyncWorker", "TeamSync"]

SyncTasks = TaskThread[TeamSync]

#: A round every minute while the background sync is on (issue 14).
INTERVAL_MS = 60_000
#: After a local save, wait this long for more before a round: one round for a burst of edits.
DEBOUNCE_MS = 1_500


class SyncWorker(QObject):
    """Schedules rounds on the sync thread and relays what they found to the GUI thread."""

    status_changed = Signal(object)  # SyncStatus
    progressed = Signal(object)  # SyncProgress while a round runs; None once it ended
    round_finished = Signal(object)  # SyncRound
    changes_pulled = Signal(object)  # frozenset[str]: "plans", "executions", "settings"
    conflicts_loaded = Signal(object)  # tuple[ConflictView, ...]
    resolved = Signal(str)  # what the resolution did, in words
    failed = Signal(str, str)  # operation, message

    def __init__(
        self,
        tasks: SyncTasks,
        *,
        interval_ms: int = INTERVAL_MS,
        debounce_ms: int = DEBOUNCE_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._status: SyncStatus | None = None
        self._progress: SyncProgress | None = None
        self._busy = False
        self._again = False
        self._announcing = False
        self.timer = QTimer(self)
        self.timer.setObjectName("sync-timer")
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._scheduled)
        self.debounce = QTimer(self)
        self.debounce.setObjectName("sync-debounce")
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self._scheduled)

    # -- state ----------------------------------------------------------------------------------------

    def status(self) -> SyncStatus | None:
        return self._status

    def progress(self) -> SyncProgress | None:
        return self._progress

    def is_busy(self) -> bool:
        return self._busy

    def enabled(self) -> bool:
        status = self._status
        return status is not None and status.configured and status.enabled

    # -- asking ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Read the state; start the timer; a first round at once when the background sync is on."""
        self.timer.start()
        self._ask("start", lambda s: s.status(), self._started)

    def stop(self) -> None:
        """Before the thread stops (the app's shutdown): no more rounds are asked."""
        self.timer.stop()
        self.debounce.stop()

    def refresh_status(self) -> None:
        self._ask("status", lambda s: s.status(), self._show)

    def reconfigured(self) -> None:
        """The Team sync settings were saved: read the state again, and sync at once if switched on."""
        self._ask("status", lambda s: s.status(), self._started)

    def local_change(self, *_: object) -> None:
        """A plan or an execution changed here: show what waits, and sync soon (debounced)."""
        if self._announcing:
            return  # this worker's own announcement of what a round brought
        self.refresh_status()
        if self.enabled():
            self.debounce.start()

    def sync_now(self, *, manual: bool = False) -> None:
        """A round now (after the running one, if any). Unless ``manual``, only while switched on."""
        if not manual and not self.enabled():
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        self.debounce.stop()
        self._set_progress(SyncProgress("checking"))
        tasks = self._tasks
        self._ask(
            "sync",
            lambda s: s.sync_now(progress=tasks.progress),
            self._round_done,
            on_progress=self._set_progress,
        )

    def load_conflicts(self) -> None:
        self._ask("conflicts", lambda s: s.conflicts(), self.conflicts_loaded.emit)

    def resolve(self, kind: str, key: str, choice: str) -> None:
        """Resolve one conflict on the sync thread; then the list, the status, and a round to carry it
        out (keep mine is pushed by the next round)."""
        self._ask("resolve", lambda s: s.resolve(kind, key, choice), self._resolved)

    # -- answers --------------------------------------------------------------------------------------

    def _ask(self, operation: str, fn: Any, on_done: Any, on_progress: Any = None) -> None:
        def failed(message: str) -> None:
            if operation == "sync":
                self._busy = False
                self._set_progress(None)
                self.refresh_status()
            self.failed.emit(operation, message)

        self._tasks.run_task(
            fn, on_done, failed, on_progress=on_progress, owner=self, name=f"sync.{operation}"
        )

    def _started(self, status: SyncStatus) -> None:
        self._show(status)
        if self.enabled():
            self.sync_now()

    def _show(self, status: SyncStatus) -> None:
        self._status = status
        self.status_changed.emit(status)

    def _set_progress(self, progress: SyncProgress | None) -> None:
        if not self._busy and progress is not None:
            return  # a step reported after its round ended
        if progress == self._progress and progress is not None:
            return
        self._progress = progress
        self.progressed.emit(progress)

    def _scheduled(self) -> None:
        self.sync_now()

    def _round_done(self, answer: SyncRound) -> None:
        self._busy = False
        self._set_progress(None)
        self._show(answer.status)
        self.round_finished.emit(answer)
        if answer.pulled:
            self._announce(answer.pulled)
        if self._again:
            self._again = False
            self.sync_now(manual=True)

    def _resolved(self, answer: ResolveAnswer) -> None:
        self.resolved.emit(answer.message)
        self._show(answer.status)
        if answer.changed:
            self._announce(answer.changed)
        self.load_conflicts()
        self.sync_now(manual=True)

    def _announce(self, kinds: frozenset[str]) -> None:
        self._announcing = True
        try:
            self.changes_pulled.emit(kinds)
        finally:
            self._announcing = False
