"""One clock in demo mode: every time the GUI stamps or shows is on the run's clock (the embedded
simulator's virtual clock), so nothing ends before it began. The whole application (DesktopApp, demo
mode) with its real panes, task threads, execution desk and loop threads, against the embedded simulator
over loopback; its virtual clock is put days ahead of the wall clock and sped up, so a drill runs in
a second or two of real time and a time stamped by the wall clock would stand out by days."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.targets import DEMO_LABEL
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from drs_desktop.ui.target_badge import TargetBadgeWidget
from tests.services.settings_fixtures import memory_keyring_fixture  # noqa: F401

TIMEOUT = 30_000
AHEAD = timedelta(days=3)
#: Virtual seconds per real second while the test runs (the demo's own is 60).
FAST = 3000.0


def plan_file(path: Path, name: str, server: str) -> Path:
    path.write_text(
        f"format: drs-desktop/plan@1\nname: {name}\nwaves:\n  - name: Web\n    servers: [{server}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def demo(qtbot: QtBot, tmp_path: Path, memory_keyring: object) -> Iterator[DesktopApp]:
    desktop = DesktopApp(AppPaths(tmp_path / "home"), demo=True)
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        yield desktop
    finally:
        desktop.shutdown()


def test_demo_times_are_on_the_run_clock(qtbot: QtBot, demo: DesktopApp, tmp_path: Path) -> None:
    sim, window, db = demo.simulator, demo.window, demo.db
    assert sim is not None and window is not None and db is not None
    servers = window.pane("servers")
    assert isinstance(servers, ServersPaneWidget)
    qtbot.waitUntil(lambda: not servers.is_busy(), timeout=TIMEOUT)  # the first refresh, before the jump
    sim.clock.advance(AHEAD.total_seconds())
    sim.clock.set_scale(FAST)
    wall = datetime.now(UTC)
    assert demo.clock.now() - wall > AHEAD - timedelta(minutes=1), "the application reads the virtual clock"

    # The inventory's age: stamped on DRS's (the simulator's) clock.
    with qtbot.waitSignal(servers.inventory_refreshed, timeout=TIMEOUT) as refreshed:
        servers.refresh()
    inventory = refreshed.args[0]
    assert isinstance(inventory, Inventory) and inventory.fetched_at is not None
    assert inventory.fetched_at - wall > AHEAD - timedelta(minutes=1)
    assert f"{inventory.fetched_at:%Y-%m-%d %H:%M}" in servers.stamp_text()

    # A drill of a one-server plan, started from the run dialog (which shows where it runs).
    plans = demo.plans_pane
    assert plans is not None
    server = sim.backend.server_id_of("pay-web-01")
    plans.import_file(plan_file(tmp_path / "drill.yaml", "Clock drill", server))
    qtbot.waitUntil(lambda: "Clock drill" in plans.plan_names(), timeout=TIMEOUT)
    started: list[ExecutionRecord] = []
    ended: list[str] = []
    demo.execution_desk.started.connect(started.append)
    demo.execution_desk.finished.connect(lambda execution_id, _outcome: ended.append(execution_id))
    demo.open_run_dialog()
    (dialog,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible()]
    dialog.plan_combo.setCurrentText("Clock drill")
    runs_at = dialog.findChild(TargetBadgeWidget, "run-targets")
    assert runs_at is not None and runs_at.texts() == [f"{DEMO_LABEL} · {sim.region}"]
    point = datetime.fromtimestamp(dialog.point_edit.dateTime().toSecsSinceEpoch(), UTC)
    assert abs(point - demo.clock.now()) < timedelta(hours=1), "the point in time offered is virtual"
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.report() is not None, timeout=TIMEOUT)
    report = dialog.report()
    assert report is not None
    assert report.ok, [c.message for c in report.failures]
    dialog.run_button.click()
    qtbot.waitUntil(lambda: bool(started), timeout=TIMEOUT)
    execution_id = started[0].execution_id
    qtbot.waitUntil(lambda: execution_id in ended, timeout=TIMEOUT)
    record = execution_store.get_execution(db, execution_id)
    assert record.finished_at is not None
    assert record.started_at >= inventory.fetched_at - timedelta(seconds=1)
    assert demo.live_progress.findChild(TargetBadgeWidget, "progress-targets").texts() == [  # type: ignore[union-attr]
        f"{DEMO_LABEL} · {sim.region}"
    ]

    # A plan saved after the drill is saved after it, on the list too.
    plans.import_file(plan_file(tmp_path / "after.yaml", "After the drill", server))
    qtbot.waitUntil(lambda: "After the drill" in plans.plan_names(), timeout=TIMEOUT)
    saved = plan_store.load_plan(db, "After the drill").revision.saved_at
    assert saved >= record.finished_at >= record.started_at
    qtbot.waitUntil(
        lambda: len(plans.plan_list.findItems("After the drill", Qt.MatchFlag.MatchExactly)) == 1,
        timeout=TIMEOUT,
    )
    (item,) = plans.plan_list.findItems("After the drill", Qt.MatchFlag.MatchExactly)
    shown = datetime.strptime(item.text(2), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert shown >= record.started_at.replace(second=0, microsecond=0)

    # The report's time of generation (the History tab's report, on the local thread).
    rendered: list[str] = []
    demo.local_tasks.run_task(lambda s: s.history.render(execution_id, "json"), rendered.append)
    qtbot.waitUntil(lambda: bool(rendered), timeout=TIMEOUT)
    generated = datetime.fromisoformat(json.loads(rendered[0])["generated"]["at"])
    assert generated >= record.finished_at
    # The PDF's too (its page says "generated <time>").
    pdfs: list[PdfReport] = []
    demo.local_tasks.run_task(lambda s: s.history.pdf_report(execution_id), pdfs.append)
    qtbot.waitUntil(lambda: bool(pdfs), timeout=TIMEOUT)
    stamp = re.search(r"generated (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)Z", pdfs[0].html)
    assert stamp is not None, pdfs[0].html[:400]
    assert datetime.fromisoformat(stamp.group(1)).replace(tzinfo=UTC) >= record.finished_at.replace(
        microsecond=0
    )

    # The drill's cleanup from the History tab (the aws thread): journaled on the same clock.
    cleaned: list[object] = []
    demo.aws_tasks.run_task(lambda s: s.history.cleanup(execution_id, "alice"), cleaned.append)
    qtbot.waitUntil(lambda: bool(cleaned), timeout=TIMEOUT)
    journal = execution_store.load_journal(db, execution_id)
    (asked,) = [entry for entry in journal if entry.type == "CleanupRequested"]
    assert asked.at >= record.finished_at
    assert all(later.at >= asked.at for later in journal if later.seq > asked.seq)

    window.grab().save(str(tmp_path / "demo-window.png"))
    window.statusBar().grab().save(str(tmp_path / "demo-status.png"))
