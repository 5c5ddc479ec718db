"""Panes that keep themselves current: the ChangeHub the composition root owns, on the real app and panes.

A plan saved in one pane reaches the others (Groups picker, Plans list, run dialog, Servers "Used by"),
each says when its list was read, an empty text shows only once a read answered empty, and a cache read
that answers late never replaces a newer inventory in the editors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.change_hub import ChangeHub, is_newer, updated_text
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.ui.pane_tasks import pane_threads
from tests.ui.plan_helpers import A, sample_inventory

TIMEOUT = 10_000
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def desktop(qtbot: QtBot, tmp_path: Path) -> Iterator[DesktopApp]:
    app = DesktopApp(AppPaths(tmp_path / "home"))
    try:
        window = app.build()
        qtbot.addWidget(window)
        window.show()
        yield app
    finally:
        app.shutdown()


def test_is_newer_prefers_the_later_read_and_never_none() -> None:
    old, new = (
        replace(sample_inventory(), fetched_at=T0),
        replace(sample_inventory(), fetched_at=T0 + timedelta(1)),
    )
    assert is_newer(old, None) and is_newer(new, old) and not is_newer(old, new)
    assert not is_newer(None, old) and not is_newer(replace(old, fetched_at=None), old)
    hub = ChangeHub()
    told: list[object] = []
    hub.inventory_changed.connect(told.append)
    assert hub.announce_inventory(new, live=False)
    assert not hub.announce_inventory(old, live=False), "a late cache read does not replace a newer one"
    assert hub.inventory() is new
    assert hub.announce_inventory(old), "a refresh from DRS is the newest by definition"
    assert hub.announce_inventory(new, live=False)
    hub.forget_inventory()  # a target switch: the new target's cache may be older on its own clock
    assert told[-1] is None, "the panes hear that the old target's inventory is gone"
    assert hub.announce_inventory(old, live=False) and hub.inventory() is old
    assert updated_text(T0, T0) == "updated 08:00:00 UTC"
    assert updated_text(T0, T0 + timedelta(days=1)) == "updated 2026-01-05 08:00:00 UTC"


def test_a_plan_saved_in_the_plans_pane_reaches_every_pane_showing_plans(
    desktop: DesktopApp, qtbot: QtBot
) -> None:
    plans, groups = desktop.plans_pane, desktop.groups_pane
    assert plans is not None and groups is not None and desktop.window is not None
    qtbot.waitUntil(lambda: "No plans yet" in groups.status_text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: plans.list_stamp.text().startswith("No plans yet"), timeout=TIMEOUT)
    assert "updated" in plans.list_stamp.text() and groups.list_stamp.text().startswith("0 plans, updated")

    (run,) = [a for a in desktop.window.actions() if a.text() == "Run plan…"]
    run.trigger()
    (dialog,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible()]
    assert dialog.plan_combo.count() == 0

    plans.new_plan()
    assert plans.editor.add_entries_to_wave([A], [], 0)
    plans.editor.save()
    qtbot.waitUntil(lambda: groups.plan_name() == "New plan", timeout=TIMEOUT)
    assert groups.list_stamp.text().startswith("1 plan, updated")
    assert "No plans yet" not in groups.status_text()
    qtbot.waitUntil(lambda: plans.list_stamp.text().startswith("1 plan, updated"), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: dialog.plan_combo.count() == 1, timeout=TIMEOUT)
    assert dialog.plan_combo.itemText(0) == "New plan", "the open run dialog offers the plan saved meanwhile"
    dialog.reject()


def test_a_group_saved_in_the_groups_pane_reaches_the_open_plan_in_the_editor(
    qtbot: QtBot, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with Database.open(home / "drs-desktop.sqlite3") as db:
        save_plan(db, RecoveryPlan(name="Shop", waves=(Wave(name="Web", servers=(A,)),)))
    desktop = DesktopApp(AppPaths(home))
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        plans, groups = desktop.plans_pane, desktop.groups_pane
        assert plans is not None and groups is not None
        qtbot.waitUntil(lambda: plans.plan_names() == ["Shop"], timeout=TIMEOUT)
        plans.open_plan("Shop")
        qtbot.waitUntil(lambda: plans.editor.revision() is not None, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: groups.plan_name() == "Shop", timeout=TIMEOUT)
        groups.new_group()
        groups.editor.members_radio.setChecked(True)
        groups.editor.pick_model.set_checked((A,))
        assert groups.save_group("", groups.editor.group())
        qtbot.waitUntil(lambda: plans.editor.revision().revision == 2, timeout=TIMEOUT)  # type: ignore[union-attr]
        assert plans.editor.plan() is not None and plans.editor.plan().group("New group") is not None  # type: ignore[union-attr]
    finally:
        desktop.shutdown()


def test_empty_texts_wait_for_the_answer(qtbot: QtBot, tmp_path: Path) -> None:
    """Before the task thread answers, panes say they are reading, never "no plans" or "no inventory"."""
    db = Database.open(tmp_path / "drs.sqlite3")
    try:
        with pane_threads(db) as threads:
            pane = PlansPaneWidget(clock=lambda: T0)
            qtbot.addWidget(pane)
            pane.connect_tasks(threads.local)
            assert pane.list_stamp.text() == "Reading the saved plans…"
            assert "No cached inventory" not in pane.editor.inventory_panel.status.text()
            with qtbot.waitSignal(pane.plans_listed, timeout=TIMEOUT):
                pane.refresh()  # answers come through the event loop: nothing is shown before it runs
                assert pane.editor.inventory_panel.status.text() == "Reading the cached inventory…"
            assert pane.list_stamp.text().startswith("No plans yet")
            qtbot.waitUntil(
                lambda: pane.editor.inventory_panel.status.text().startswith("No cached inventory"),
                timeout=TIMEOUT,
            )
    finally:
        db.close()


def test_a_late_cache_read_never_replaces_a_newer_inventory(qtbot: QtBot, tmp_path: Path) -> None:
    db = Database.open(tmp_path / "drs.sqlite3")
    save_inventory(db, sample_inventory(), now=T0)  # the cache: read at T0
    newer = replace(sample_inventory(extra=2), fetched_at=T0 + timedelta(hours=1))
    try:
        with pane_threads(db) as threads:
            pane = PlansPaneWidget(clock=lambda: T0)
            qtbot.addWidget(pane)
            pane.connect_tasks(threads.local)
            pane.refresh()  # asks for the plans, then for the cached inventory
            pane.set_inventory(newer)  # a refresh from DRS arrives before the cache answers
            pane.on_plans_changed()  # one more read behind the cache read on the same thread
            with qtbot.waitSignals([pane.plans_listed, pane.plans_listed], timeout=TIMEOUT):
                pass
            assert pane.editor.inventory() is newer
            assert "8 servers" in pane.editor.inventory_panel.status.text()
    finally:
        db.close()


def test_the_stamps_read_the_apps_clock(qtbot: QtBot, tmp_path: Path) -> None:
    """The pane stamps on the clock it is given (the app gives its own: the demo's in demo mode)."""
    db = Database.open(tmp_path / "drs.sqlite3")
    try:
        with pane_threads(db) as threads:
            pane = PlansPaneWidget(clock=lambda: T0 + timedelta(minutes=30))
            qtbot.addWidget(pane)
            pane.connect_tasks(threads.local)
            with qtbot.waitSignal(pane.plans_listed, timeout=TIMEOUT):
                pane.refresh()
            assert pane.list_stamp.text() == "No plans yet: New or Import… (updated 08:30:00 UTC)"
    finally:
        db.close()


def test_the_app_stamps_on_the_simulator_clock_in_demo_mode(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = DesktopApp(AppPaths(tmp_path / "home"), demo=True)
    try:
        window = desktop.build()
        qtbot.addWidget(window)
        assert desktop.simulator is not None and desktop.changes is not None
        desktop.simulator.clock.advance(2 * 86_400)  # the demo's clock, two days ahead of the desktop's
        plans = desktop.plans_pane
        assert plans is not None and plans.clock == desktop.clock.now
        ahead = plans.clock() - datetime.now(UTC)
        assert timedelta(days=1) < ahead < timedelta(days=3), "the panes stamp on the simulator's clock"
        qtbot.waitUntil(lambda: plans.editor.inventory() is not None, timeout=15_000)
        assert desktop.changes.inventory() is plans.editor.inventory()
    finally:
        desktop.shutdown()
