"""A desktop's GUI sync parts on real threads, wired as app.py wires them, beside a second desktop home.

Desktop A is the GUI under test: its Plans pane on a ``local`` thread, the sync worker on a ``sync``
thread (``TeamSync`` with a one-attempt client and a backoff that never sleeps, so a stopped emulator
fails the round at once), the status-bar item, and a ChangeHub connected as ``DesktopApp._build_sync``
connects it. Desktop B is another home with its own ``SyncService`` (tests/sync/desktops.py). Both
talk to the same moto server over HTTP with the real boto3 client.

The worker's timers are set far out: the tests start every round themselves and wait for its answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from drs_desktop.aws.sync_schema import SyncTableTarget, dynamodb_client
from drs_desktop.domain.views.sync_status import SyncSettings
from drs_desktop.services.team_sync import SyncRound, TeamSync, save_sync_settings
from drs_desktop.storage.db import Database
from drs_desktop.ui.change_hub import ChangeHub
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from drs_desktop.ui.sync.sync_conflicts_dialog import SyncConflictsDialog
from drs_desktop.ui.sync.sync_status_widget import SyncStatusWidget
from drs_desktop.workers.sync_worker import SyncTasks, SyncWorker
from drs_desktop.workers.tasks import TaskThread
from tests.sync.desktops import NO_WAIT, TABLE, Desktop, desktop, init_table
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.feed_helpers import FakeClock
from tests.ui.pane_tasks import desktop_clock, pane_threads

TIMEOUT = 15_000
FAR = 3_600_000  # ms: the worker's own timers never fire during a test


def one_attempt(target: SyncTableTarget) -> Any:
    return dynamodb_client(target, max_attempts=1, timeout=5)


@dataclass
class SyncRig:
    qtbot: QtBot
    db: Database
    other: Desktop
    emulator: DynamoDbEmulator
    plans: PlansPaneWidget
    worker: SyncWorker
    status: SyncStatusWidget
    hub: ChangeHub
    rounds: list[SyncRound] = field(default_factory=list)
    dialog: SyncConflictsDialog | None = None

    def text(self) -> str:
        return self.status.text()

    def sync(self) -> SyncRound:
        """One round, as "Sync now" asks it; its answer once the GUI thread has it."""
        count = len(self.rounds)
        self.worker.sync_now(manual=True)
        self.qtbot.waitUntil(lambda: len(self.rounds) > count and not self.worker.is_busy(), timeout=TIMEOUT)
        return self.rounds[-1]

    def open_conflicts(self) -> SyncConflictsDialog:
        """What a click on the status item opens (app.py: ``open_sync_conflicts``)."""
        if self.dialog is None:
            self.dialog = SyncConflictsDialog(self.worker)
            self.qtbot.addWidget(self.dialog)
        self.dialog.reload()
        self.dialog.show()
        return self.dialog


@contextmanager
def sync_rig(
    qtbot: QtBot, tmp_path: Path, emulator: DynamoDbEmulator, *, enabled: bool = True
) -> Iterator[SyncRig]:
    init_table(emulator)
    other = desktop(tmp_path, "b", emulator)
    db = Database.open(tmp_path / "a" / "drs.sqlite3")
    setup = save_sync_settings(
        db,
        SyncSettings(table=TABLE, region=REGION, endpoint=emulator.endpoint_url, enabled=enabled),
        client_factory=one_attempt,
    )
    assert setup.saved and setup.table_ok, setup.message
    clock = FakeClock()

    def team_sync() -> TeamSync:
        return TeamSync(db, monotonic=clock, backoff=NO_WAIT, client_factory=one_attempt)

    tasks: SyncTasks = TaskThread("test-sync", team_sync, close=TeamSync.close)
    try:
        with pane_threads(db) as threads:
            plans = PlansPaneWidget(clock=desktop_clock)
            qtbot.addWidget(plans)
            plans.connect_tasks(threads.local)
            worker = SyncWorker(tasks, interval_ms=FAR, debounce_ms=FAR)
            status = SyncStatusWidget()
            qtbot.addWidget(status)
            status.connect_worker(worker)
            hub = ChangeHub()
            # As DesktopApp._wire_changes and _build_sync connect them.
            plans.plans_changed.connect(hub.announce_plans)
            hub.plans_changed.connect(plans.on_plans_changed)
            hub.plans_changed.connect(worker.local_change)
            hub.executions_changed.connect(worker.local_change)
            worker.changes_pulled.connect(lambda kinds: hub.announce_plans() if "plans" in kinds else None)
            rig = SyncRig(qtbot, db, other, emulator, plans, worker, status, hub)
            worker.round_finished.connect(rig.rounds.append)
            status.conflicts_requested.connect(rig.open_conflicts)
            plans.refresh()
            worker.start()
            qtbot.waitUntil(lambda: worker.status() is not None and not worker.is_busy(), timeout=TIMEOUT)
            try:
                yield rig
            finally:
                worker.stop()
                if rig.dialog is not None:
                    rig.dialog.close()
    finally:
        assert tasks.stop(), "the sync thread did not stop"
        other.db.close()
        db.close()
