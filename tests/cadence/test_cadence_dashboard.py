"""The dashboard's cadence: the card's words, marker and tooltip, and the pane's summary line, with real
widgets offscreen and the real readiness task thread against the simulator."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.cadence import CadenceKind, plan_cadence
from drs_desktop.services.native_desk import StatusReading
from drs_desktop.services.native_plans import PlanStatus
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
from drs_desktop.ui.dashboard.plan_card_widget import PlanCardWidget
from drs_desktop.workers.pane_tasks import ReadinessTasks
from drs_desktop.workers.tasks import TaskThread
from tests.cadence.test_cadence_service import facts_of
from tests.services.readiness_world import World, readiness_world

TIMEOUT = 30_000
MONTHLY = Cadence(every_days=30, retest_days=14)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with readiness_world(tmp_path) as built:
        yield built


def open_pane(qtbot: QtBot, world: World) -> tuple[DashboardPaneWidget, ReadinessTasks]:
    tasks: ReadinessTasks = TaskThread("readiness", world.service, close=ReadinessService.close)
    pane = DashboardPaneWidget(clock=world.sim.clock.now)
    qtbot.addWidget(pane)
    pane.resize(1100, 900)
    pane.connect_tasks(tasks)
    return pane, tasks


def loaded(pane: DashboardPaneWidget) -> bool:
    return pane.dashboard() is not None and not pane.is_busy()


def test_the_card_says_overdue_by_three_days_in_words_with_its_reasons(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    assert world.drill("Shop") is Outcome.SUCCEEDED
    facts = facts_of(world, "Shop", MONTHLY)
    state = plan_cadence(facts, facts.drills[0].finished_at + timedelta(days=33))
    card = PlanCardWidget()
    qtbot.addWidget(card)
    card.resize(900, 600)
    card.show_cadence(state)
    text = card.cadence.text()
    assert text.startswith("OVERDUE: overdue by 3 days (every 30 days; last good drill ")
    assert "c62828" in card.cadence.styleSheet()  # red, and the words say it without the colour
    assert card.cadence.toolTip().startswith("• overdue by 3 days")
    card.grab().save(str(tmp_path / "card.png"))
    assert (tmp_path / "card.png").stat().st_size > 0


def test_a_failed_drill_reads_as_a_re_test_and_no_cadence_stays_grey(qtbot: QtBot, world: World) -> None:
    world.drill("Shop")
    facts = facts_of(world, "Shop", MONTHLY)
    failed = dataclasses.replace(facts.drills[0], execution_id="later", outcome="FAILED")
    later = dataclasses.replace(failed, finished_at=failed.finished_at + timedelta(days=2))
    state = plan_cadence(dataclasses.replace(facts, drills=(*facts.drills, later)), later.finished_at)
    card = PlanCardWidget()
    qtbot.addWidget(card)
    card.show_cadence(state)
    assert card.cadence.text().startswith("RE-TEST: failed, re-test due in 14 days")
    card.show_cadence(plan_cadence(facts_of(world, "Shop", Cadence()), later.finished_at))
    assert card.cadence.text() == "no cadence set"
    assert "c62828" not in card.cadence.styleSheet()


def test_the_pane_shows_each_plans_cadence_and_a_summary_line(qtbot: QtBot, world: World) -> None:
    world.drill("Shop")
    pane, tasks = open_pane(qtbot, world)
    try:
        pane.reload()
        qtbot.waitUntil(lambda: loaded(pane), timeout=TIMEOUT)
        shop = pane.card("Shop")
        assert shop is not None
        stored = plan_store.get_plan(world.db, "Shop")
        states = pane.cadence_states()
        assert set(states) == {"Shop", "Fax"}
        if stored.cadence.empty:  # until plan files store a cadence (format 4, another part of issue 18)
            assert shop.cadence.text() == "no cadence set"
            assert pane.cadence_summary.text().startswith(
                "Drill cadence: no plan has a cadence set (drill history as of"
            )
        assert pane.cadence_summary.isVisibleTo(pane)
    finally:
        tasks.stop()


def test_the_pane_says_overdue_by_three_days_of_a_stored_cadence(qtbot: QtBot, world: World) -> None:
    plan = plan_store.get_plan(world.db, "Shop")
    plan_store.save_plan(world.db, dataclasses.replace(plan, cadence=MONTHLY), comment="monthly drills")
    world.drill("Shop")
    world.sim.clock.advance(timedelta(days=33).total_seconds())
    pane, tasks = open_pane(qtbot, world)
    shown: list[tuple[object, bool]] = []
    pane.cadence_shown.connect(lambda states, drift_known: shown.append((states, drift_known)))
    try:
        pane.reload()
        qtbot.waitUntil(lambda: loaded(pane), timeout=TIMEOUT)
        shop = pane.card("Shop")
        assert shop is not None
        assert shop.cadence.text().startswith("OVERDUE: overdue by 3 days")
        # What the readiness alerts are handed (the composition root sends them on the aws thread).
        states, drift_known = shown[-1]
        assert {s.plan_name: s.kind.value for s in states}["Shop"] == "overdue"  # type: ignore[attr-defined]
        assert drift_known is False, "no launch drift reading yet: drift is not said, nor cleared"
        assert pane.cadence_summary.text().startswith("Drill cadence: 1 plan overdue (")  # Fax: no cadence
    finally:
        tasks.stop()


def test_a_native_plan_changed_in_drs_reaches_the_card_from_the_plans_panes_reading(
    qtbot: QtBot, world: World
) -> None:
    """The Plans pane reads every plan's native link from DRS; the dashboard's cadence takes that reading
    (``set_native_reading``): a linked plan whose native plan changed outside the app is CHANGED."""
    plan = plan_store.get_plan(world.db, "Shop")
    cadence = Cadence(every_days=90, after_changes=True)
    plan_store.save_plan(world.db, dataclasses.replace(plan, cadence=cadence), comment="after changes")
    world.drill("Shop")
    summary = next(s for s in plan_store.list_plans(world.db) if s.name == "Shop")
    native_links.save_link(
        world.db,
        plan_id=summary.plan_id,
        account_id="111122223333",
        region=world.sim.region,
        recovery_plan_arn="arn:aws:drs:plan/shop",
        revision_id=plan_store.load_plan(world.db, "Shop").revision.revision_id,
        content_hash="h",
        steps=(),
    )
    pane, tasks = open_pane(qtbot, world)
    try:
        pane.reload()
        qtbot.waitUntil(lambda: loaded(pane), timeout=TIMEOUT)
        before = pane.cadence_states()["Shop"]
        assert "native DRS plan: not read since this desktop started" in [r.text for r in before.reasons]
        read_at = world.sim.clock.now() - timedelta(hours=3)
        pane.set_native_reading(StatusReading((PlanStatus("Shop", 1, drift=True),), read_at, "acct/region"))
        after = pane.cadence_states()["Shop"]
        assert after.kind is CadenceKind.CHANGED
        assert "the native DRS plan was changed outside the app (read 3 h ago)" in [
            r.text for r in after.reasons
        ]
        shop = pane.card("Shop")
        assert shop is not None and "CHANGED" in shop.cadence.text()
    finally:
        tasks.stop()
