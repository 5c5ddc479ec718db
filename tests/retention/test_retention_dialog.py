"""History's "Apply retention…" dialog, offscreen on real widgets and a real ``local`` task thread, over
a history of real runs: it names every run that goes and every one kept with why, deletes only after the
checkbox and the button that names the count, and the history refreshes after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.services.retention import RetentionService
from drs_desktop.storage import executions as journal
from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
from drs_desktop.ui.executions.retention_dialog import RetentionDialog
from drs_desktop.ui.settings.retention_setting_widget import RetentionSettingWidget
from drs_desktop.workers.pane_tasks import LocalServices, LocalTasks
from drs_desktop.workers.tasks import TaskThread
from tests.services.history_estate import Estate, build_estate
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[Estate]:
    with build_estate(tmp_path) as built:
        yield built


@contextmanager
def local_thread(estate: Estate) -> Iterator[LocalTasks]:
    later = estate.clock() + timedelta(days=40)

    def local() -> LocalServices:
        db = estate.db
        return LocalServices(
            PlanLibrary(db),
            ExecutionHistory(db),
            InventoryService(db, None),  # type: ignore[arg-type]
            retention=RetentionService(db, clock=lambda: later),
        )

    thread: LocalTasks = TaskThread("test-local-retention", local, close=LocalServices.close)
    try:
        yield thread
    finally:
        assert thread.stop(), "the local thread did not stop"


def _column(table, column: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_the_dialog_names_what_goes_and_why_the_rest_stays_and_deletes_only_once_confirmed(
    qtbot: QtBot, estate: Estate
) -> None:
    with local_thread(estate) as tasks:
        dialog = RetentionDialog(tasks)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.load()
        qtbot.waitUntil(lambda: dialog.plan is not None, timeout=TIMEOUT)
        assert dialog.plan is not None and dialog.plan.cutoff is None  # the setting: keep everything
        assert dialog.goes_table.rowCount() == 0 and "keeps everything" in dialog.summary.text()
        assert not dialog.delete_button.isEnabled()

        dialog.days_spin.setValue(30)
        dialog.list_button.click()
        qtbot.waitUntil(lambda: dialog.goes_table.rowCount() == 2, timeout=TIMEOUT)
        assert _column(dialog.goes_table, 0) == ["CRM", "CRM"]
        assert sorted(_column(dialog.goes_table, 1)) == ["Drill", "Recovery"]
        assert _column(dialog.goes_table, 4) == ["succeeded", "succeeded"]
        why = dict(zip(_column(dialog.kept_table, 0), _column(dialog.kept_table, 4), strict=True))
        assert "5 drill instance(s) still running" in why["Shop"]
        assert why["Fax"].startswith("not finished")

        assert dialog.delete_button.text() == "Delete 2 execution(s)"
        assert not dialog.delete_button.isEnabled(), "not before the checkbox"
        assert dialog.delete_listed() is False
        assert len(journal.list_executions(estate.db)) == 4
        dialog.confirm_check.setChecked(True)
        assert dialog.delete_button.isEnabled()
        with qtbot.waitSignal(dialog.deleted, timeout=TIMEOUT) as deleted:
            dialog.delete_button.click()
        assert len(deleted.args[0].deleted) == 2
        qtbot.waitUntil(lambda: dialog.goes_table.rowCount() == 0 and not dialog._busy, timeout=TIMEOUT)
        assert "Deleted 2 execution(s)" in dialog.status_text()
        assert {r.plan_name for r in journal.list_executions(estate.db)} == {"Shop", "Fax"}


def test_the_history_pane_opens_it_and_refreshes_after_a_deletion(qtbot: QtBot, estate: Estate) -> None:
    with local_thread(estate) as local, pane_threads(estate.db) as threads:
        pane = ExecutionsPaneWidget(clock=estate.clock)
        qtbot.addWidget(pane)
        pane.connect_tasks(local, threads.aws)
        pane.show()
        pane.refresh()
        qtbot.waitUntil(lambda: pane.model.rowCount() == 4, timeout=TIMEOUT)
        dialog = pane.apply_retention()
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.plan is not None, timeout=TIMEOUT)
        dialog.days_spin.setValue(30)
        dialog.request_plan()
        qtbot.waitUntil(lambda: dialog.goes_table.rowCount() == 2, timeout=TIMEOUT)
        dialog.confirm_check.setChecked(True)
        with qtbot.waitSignal(pane.executions_deleted, timeout=TIMEOUT):
            assert dialog.delete_listed()
        qtbot.waitUntil(lambda: pane.model.rowCount() == 2, timeout=TIMEOUT)
        dialog.close()


def test_the_settings_section_reads_and_saves_the_setting_and_deletes_nothing(
    qtbot: QtBot, estate: Estate
) -> None:
    with local_thread(estate) as tasks:
        section = RetentionSettingWidget()
        qtbot.addWidget(section)
        section.connect_tasks(tasks)
        qtbot.waitUntil(section.save_button.isEnabled, timeout=TIMEOUT)
        assert section.days_spin.value() == 0
        section.days_spin.setValue(30)
        assert section.save()
        qtbot.waitUntil(lambda: "Saved: 30 days" in section.status.text(), timeout=TIMEOUT)
        assert RetentionService(estate.db).days() == 30
        assert len(journal.list_executions(estate.db)) == 4
