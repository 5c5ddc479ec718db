"""When the dashboard asks DRS, and what it says meanwhile: the real pane on its real ``readiness`` task
thread against the simulator (tests/services/readiness_world.py). The change hub's news re-reads the
overview and checks only a plan saved since its check; no check while a run is in progress; a check
waiting out DRS's throttling ends when the service is stopped; a failed check stops saying "checking…";
an old check is shown with its age; cards are kept, not rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.dashboard import STALE_AFTER, Dashboard, PlanCard
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.storage.plans import get_plan, save_plan
from drs_desktop.ui.dashboard.dashboard_pane_widget import PAUSED_TEXT, DashboardPaneWidget
from drs_desktop.ui.dashboard.plan_card_widget import STALE_STYLE
from drs_desktop.workers.pane_tasks import ReadinessTasks
from drs_desktop.workers.tasks import TaskThread
from tests.services.readiness_world import World, readiness_world

TIMEOUT = 30_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with readiness_world(tmp_path) as built:
        yield built


def open_pane(
    qtbot: QtBot, world: World, stop: threading.Event | None = None
) -> tuple[DashboardPaneWidget, ReadinessTasks]:
    tasks: ReadinessTasks = TaskThread("readiness", lambda: world.service(stop), close=ReadinessService.close)
    pane = DashboardPaneWidget(clock=world.sim.clock.now)
    qtbot.addWidget(pane)
    pane.resize(1100, 900)
    pane.connect_tasks(tasks)
    return pane, tasks


def settled(pane: DashboardPaneWidget) -> bool:
    board = pane.dashboard()
    return board is not None and not board.checking and not pane.is_busy()


def cards(pane: DashboardPaneWidget) -> dict[str, PlanCard]:
    board = pane.dashboard()
    assert board is not None
    return {card.plan_name: card for card in board.cards}


def checked_all(qtbot: QtBot, pane: DashboardPaneWidget) -> dict[str, PlanCard]:
    pane.refresh()
    qtbot.waitUntil(lambda: settled(pane) and all(c.readiness for c in cards(pane).values()), timeout=TIMEOUT)
    return cards(pane)


def test_news_reads_the_overview_and_checks_only_a_plan_saved_since(qtbot: QtBot, world: World) -> None:
    pane, tasks = open_pane(qtbot, world)
    try:
        first = checked_all(qtbot, pane)
        # Any DescribeJobs now fails: a check would record an error on the card.
        world.sim.faults.server_errors("DescribeJobs", rate=1.0, status=503)
        world.sim.clock.advance(60)
        answers: list[Dashboard] = []
        pane.loaded.connect(answers.append)
        pane.reload()  # the change hub's news, or the pane shown
        qtbot.waitUntil(lambda: bool(answers) and settled(pane), timeout=TIMEOUT)
        assert world.sim.faults.injected() == {}, "an overview reads no DRS"
        assert answers[-1].updated_at == world.sim.clock.now(), "the overview was read again"
        assert {n: c.readiness for n, c in cards(pane).items()} == {n: c.readiness for n, c in first.items()}

        world.sim.faults.clear()
        save_plan(world.db, replace(get_plan(world.db, "Shop"), rto_minutes=60))
        world.sim.clock.advance(60)
        pane.reload()  # the hub's plans_changed
        qtbot.waitUntil(lambda: settled(pane) and not cards(pane)["Shop"].needs_check, timeout=TIMEOUT)
        shop, fax = cards(pane)["Shop"], cards(pane)["Fax"]
        assert shop.readiness is not None and shop.readiness.revision == 2
        assert shop.readiness.checked_at == world.sim.clock.now(), "the saved plan was checked now"
        assert fax.readiness == first["Fax"].readiness, "the other plan was not checked again"
    finally:
        tasks.stop()


def test_a_plan_unknown_for_want_of_an_inventory_is_checked_when_one_arrives(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with readiness_world(tmp_path, inventory=False) as world:  # the app at startup: nothing cached yet
        pane, tasks = open_pane(qtbot, world)
        try:
            before = checked_all(qtbot, pane)
            assert all(c.readiness is not None and not c.readiness.known for c in before.values())
            world.refresh_inventory()  # the Servers pane's first refresh lands
            world.sim.clock.advance(60)
            pane.reload()  # other news: a failed check is not retried on every one
            qtbot.waitUntil(lambda: settled(pane), timeout=TIMEOUT)
            assert cards(pane)["Shop"].readiness == before["Shop"].readiness
            pane.inventory_arrived(world.gateway.inventory())  # the hub's inventory_changed
            qtbot.waitUntil(
                lambda: (
                    settled(pane) and all(c.readiness and c.readiness.known for c in cards(pane).values())
                ),
                timeout=TIMEOUT,
            )
            shop = cards(pane)["Shop"].readiness
            assert shop is not None and shop.checked_at == world.sim.clock.now()
        finally:
            tasks.stop()


def test_no_check_while_a_run_is_in_progress_and_the_round_is_made_up_after(
    qtbot: QtBot, world: World
) -> None:
    pane, tasks = open_pane(qtbot, world)
    try:
        first = checked_all(qtbot, pane)
        world.sim.clock.advance(60)
        pane.set_runs_active(True)  # the execution desk drives a run
        assert pane.paused.isVisibleTo(pane) and pane.paused.text() == PAUSED_TEXT
        assert not pane.refresh_button.isEnabled()
        world.sim.faults.server_errors("DescribeJobs", rate=1.0, status=503)
        answers: list[Dashboard] = []
        pane.loaded.connect(answers.append)
        pane.timer.timeout.emit()  # the periodic round comes due
        qtbot.waitUntil(lambda: bool(answers) and settled(pane), timeout=TIMEOUT)
        assert world.sim.faults.injected() == {}, "no DRS call while a run is in progress"
        assert {n: c.readiness for n, c in cards(pane).items()} == {n: c.readiness for n, c in first.items()}

        world.sim.faults.clear()
        pane.set_runs_active(False)  # the run is over: the skipped round runs
        assert not pane.paused.isVisibleTo(pane)
        now = world.sim.clock.now()
        qtbot.waitUntil(
            lambda: (
                settled(pane)
                and all(c.readiness and c.readiness.checked_at == now for c in cards(pane).values())
            ),
            timeout=TIMEOUT,
        )
        assert pane.refresh_button.isEnabled()
    finally:
        tasks.stop()


def test_stopping_ends_a_check_that_waits_out_drs_throttling(qtbot: QtBot, world: World) -> None:
    stop = threading.Event()
    pane, tasks = open_pane(qtbot, world, stop)
    stopped = False
    try:
        # DRS throttles every DescribeJobs and asks for 10 minutes: the check waits (its budget is 2).
        world.sim.faults.throttle("DescribeJobs", rate=1.0, retry_after=600)
        pane.refresh()
        qtbot.waitUntil(lambda: world.sim.faults.injected().get("throttle", 0) >= 1, timeout=TIMEOUT)
        assert pane.is_busy() and tasks.isRunning()
        stop.set()  # what the app's shutdown does first
        stopped = tasks.stop()  # 10 s at most: without the stop event it would return False
        assert stopped, "the readiness thread did not end once stopped"
        assert tasks.isFinished()
        assert world.sim.faults.injected()["throttle"] == 1, "no read was sent again after the stop"
    finally:
        if not stopped:
            tasks.stop(timeout_ms=200_000)


def test_a_failed_check_stops_saying_checking_and_says_which_and_when(qtbot: QtBot, world: World) -> None:
    def no_gateway() -> None:  # what a keyring or profile problem raises while the client is built
        raise RuntimeError("the credentials could not be read")

    def service() -> ReadinessService:
        return ReadinessService(world.db, no_gateway, clock=world.sim.clock.now)  # type: ignore[arg-type]

    tasks: ReadinessTasks = TaskThread("readiness", service, close=ReadinessService.close)
    pane = DashboardPaneWidget(clock=world.sim.clock.now)
    qtbot.addWidget(pane)
    pane.connect_tasks(tasks)
    try:
        pane.refresh()
        qtbot.waitUntil(lambda: pane.error.isVisibleTo(pane) and settled(pane), timeout=TIMEOUT)
        text = pane.error.text()
        assert text.startswith("The DRS check of every plan failed at 08:")
        assert "the credentials could not be read" in text
        for name in ("Shop", "Fax"):
            card = pane.card(name)
            assert card is not None
            assert card.badge.text() == "NOT CHECKED", "the check is over: not 'checking…' forever"
        assert pane.refresh_button.isEnabled()
        pane.inventory_arrived(None)  # a target switch: the old target's failure says nothing of the new
        assert not pane.error.isVisibleTo(pane)
        qtbot.waitUntil(lambda: settled(pane), timeout=TIMEOUT)
        assert pane.error.isVisibleTo(pane), "the new target's plans were checked at once (and failed here)"
    finally:
        tasks.stop()


def test_an_old_check_is_shown_with_its_age_never_as_current(qtbot: QtBot, world: World) -> None:
    pane, tasks = open_pane(qtbot, world)
    try:
        checked_all(qtbot, pane)
        found = pane.card("Shop")
        assert found is not None and found.badge.text().startswith("READY")
        shop = found
        world.sim.clock.advance((STALE_AFTER + STALE_AFTER / 3).total_seconds())  # 20 min later
        pane.reload()
        qtbot.waitUntil(lambda: settled(pane) and "not current" in shop.checked.text(), timeout=TIMEOUT)
        assert shop.badge.text() == "READY, 20 min ago"
        assert shop.badge.styleSheet() == STALE_STYLE
        assert shop.checked.text().endswith("20 min ago: older than 15 min, not current")
        fax = pane.card("Fax")
        assert fax is not None and fax.badge.text() == "NOT READY, 20 min ago"
    finally:
        tasks.stop()


def test_cards_are_kept_and_filled_again_not_rebuilt(qtbot: QtBot, world: World) -> None:
    pane, tasks = open_pane(qtbot, world)
    try:
        checked_all(qtbot, pane)
        before = {name: pane.card(name) for name in ("Fax", "Shop")}
        assert pane.card_order() == ["Fax", "Shop"]
        save_plan(world.db, replace(get_plan(world.db, "Fax"), name="Audit"))
        pane.reload()
        qtbot.waitUntil(lambda: settled(pane) and pane.card("Audit") is not None, timeout=TIMEOUT)
        assert pane.card_order() == ["Audit", "Fax", "Shop"]
        assert pane.card("Fax") is before["Fax"] and pane.card("Shop") is before["Shop"]
    finally:
        tasks.stop()
