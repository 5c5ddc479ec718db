"""The plan's "Schedule…" dialog, offscreen, on a real ``schedules`` task thread (ScheduleDesk over a
temporary database, the simulator's STS): check the profile, save (systemd units written into a
temporary XDG_CONFIG_HOME, not enabled), read back, remove. Waits on the dialog's signal, never on time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.config import AppPaths
from drs_desktop.domain.schedule.model import EntryKind, Frequency
from drs_desktop.secrets import SecretStore
from drs_desktop.services.schedule_desk import ScheduleDesk
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import schedules as store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.plans.schedule_dialog import ScheduleDialog
from drs_desktop.workers.pane_tasks import ScheduleTasks
from drs_desktop.workers.tasks import TaskThread
from tests.cli.conftest import shop_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def test_the_dialog_checks_saves_and_removes(
    qtbot: QtBot, sim: EmbeddedSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    paths = AppPaths.resolve(tmp_path / "home")
    with Database.open(paths.database) as db:
        save_plan(db, shop_plan(sim))
        endpoint = sim.endpoint_url
        tasks: ScheduleTasks = TaskThread(
            "test-schedules", lambda: ScheduleDesk(db, SecretStore(), paths, endpoint=lambda: endpoint)
        )
        try:
            dialog = ScheduleDialog("Shop")
            qtbot.addWidget(dialog)
            with qtbot.waitSignal(dialog.viewed, timeout=20_000):
                dialog.connect_tasks(tasks)
            assert dialog.status.text().startswith("not scheduled.")
            assert not dialog.remove_button.isEnabled()

            dialog.region.setText(sim.region)
            with qtbot.waitSignal(dialog.answered, timeout=20_000) as checked:
                dialog.check_profile()
            assert checked.args[0].startswith(
                "Profile 'default' works unattended: GetCallerIdentity answered arn:"
            )

            dialog.every.setCurrentIndex(list(Frequency).index(Frequency.MONTHLY))
            dialog.day_of_month.setValue(15)
            dialog.soak.setValue(20)
            dialog.auto_approve.setChecked(True)
            dialog.report_dir.setText(str(tmp_path / "reports"))
            dialog.kind.setCurrentIndex(list(EntryKind).index(EntryKind.SYSTEMD))
            with qtbot.waitSignal(dialog.answered, timeout=20_000) as saved:
                dialog.save()
            lines = saved.args[0].splitlines()
            assert lines[0].startswith("scheduled 'Shop' monthly on day 15 at 02:30 (local time) as arn:")
            timer = next((tmp_path / "xdg" / "systemd" / "user").glob("*.timer"))
            assert f"wrote {timer}" in lines
            qtbot.waitUntil(lambda: dialog.status.text().startswith("no run yet"), timeout=20_000)
            assert dialog.remove_button.isEnabled()
            [stored] = store.list_schedules(db)
            assert stored.schedule.soak_minutes == 20 and stored.schedule.auto_approve
            assert stored.schedule.home == str(paths.home)

            with qtbot.waitSignal(dialog.answered, timeout=20_000) as removed:
                dialog.remove()
            assert f"deleted {timer}" in removed.args[0]
            qtbot.waitUntil(lambda: dialog.status.text().startswith("not scheduled."), timeout=20_000)
            assert store.list_schedules(db) == []
        finally:
            assert tasks.stop(), "the schedules thread did not stop"


def test_the_demo_cannot_schedule_and_says_why(
    qtbot: QtBot, sim: EmbeddedSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's simulator ends with the app: an entry saved there would drill real AWS at night. The
    profile check and the save both say so, and nothing is written or recorded."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    paths = AppPaths.resolve(tmp_path / "home")
    with Database.open(paths.database) as db:
        save_plan(db, shop_plan(sim))
        endpoint = sim.endpoint_url
        tasks: ScheduleTasks = TaskThread(
            "test-schedules",
            lambda: ScheduleDesk(db, SecretStore(), paths, endpoint=lambda: endpoint, demo=lambda: True),
        )
        try:
            dialog = ScheduleDialog("Shop")
            qtbot.addWidget(dialog)
            with qtbot.waitSignal(dialog.viewed, timeout=20_000):
                dialog.connect_tasks(tasks)
            with qtbot.waitSignal(dialog.answered, timeout=20_000) as checked:
                dialog.check_profile()
            assert "the demo's simulator lives only while DRS Desktop runs" in checked.args[0]
            assert "works unattended" not in checked.args[0]
            with qtbot.waitSignal(dialog.answered, timeout=20_000) as saved:
                dialog.save()
            assert "Leave the demo" in saved.args[0]
            assert store.list_schedules(db) == []
            assert not (tmp_path / "xdg" / "systemd").exists()
        finally:
            assert tasks.stop(), "the schedules thread did not stop"
