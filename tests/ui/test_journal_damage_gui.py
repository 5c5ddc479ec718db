"""The GUI meeting a journal it cannot read, or one cut short: the history pane and the live progress view
show one line (never a crash), and a journal missing entries still shows, under a warning.

Real widgets offscreen, real workers and loops on real QThreads, a database of real runs against the simulator
whose journals are then damaged as a newer DRS Desktop or a damaged disk would leave them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from drs_desktop.workers.execution_desk import ExecutionDesk
from tests.services.history_estate import Estate, build_estate
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 10_000
NEWER_OR_DAMAGED = "written by a newer DRS Desktop, or damaged"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """The history estate with two journals damaged: the waiting Fax drill's entry 2 is of an event type
    this version does not know; the finished Shop drill lost entries 3 and 4."""
    with build_estate(tmp_path_factory.mktemp("journal-damage")) as built:
        with built.db.transaction() as conn:
            (payload,) = conn.execute(
                "SELECT payload FROM execution_events WHERE execution_id = ? AND seq = 2",
                (built.fax_waiting,),
            ).fetchone()
            conn.execute(
                "UPDATE execution_events SET type = 'FromTheFuture', payload = ? "
                "WHERE execution_id = ? AND seq = 2",
                (json.dumps({**json.loads(payload), "type": "FromTheFuture"}), built.fax_waiting),
            )
            conn.execute(
                "DELETE FROM execution_events WHERE execution_id = ? AND seq IN (3, 4)", (built.shop_left,)
            )
            _COUNTS.update(
                (execution_id, _count(conn, execution_id))
                for execution_id in (built.fax_waiting, built.shop_left)
            )
        yield built


#: Journal entries per damaged execution right after the damage: nothing may add to them.
_COUNTS: dict[str, int] = {}


def _count(conn: sqlite3.Connection, execution_id: str) -> int:
    return int(
        conn.execute(
            "SELECT COUNT(*) FROM execution_events WHERE execution_id = ?", (execution_id,)
        ).fetchone()[0]
    )


def unreadable_line(estate: Estate) -> str:
    return (
        f"execution {estate.fax_waiting}: journal entry 2 has event type 'FromTheFuture' that this "
        f"version does not know: {NEWER_OR_DAMAGED}"
    )


@pytest.fixture
def history_pane(qtbot: QtBot, estate: Estate) -> Iterator[ExecutionsPaneWidget]:
    with pane_threads(
        estate.db, history_gateways=lambda record: estate.gateway, clock=estate.clock, sleep=estate.sleep
    ) as threads:
        widget = ExecutionsPaneWidget(clock=estate.clock)
        qtbot.addWidget(widget)
        widget.connect_tasks(threads.local, threads.aws)
        widget.show()
        widget.refresh()
        qtbot.waitUntil(lambda: widget.model.rowCount() == 4, timeout=TIMEOUT)
        yield widget


def test_history_pane_shows_an_unreadable_journal_as_one_line(
    history_pane: ExecutionsPaneWidget, estate: Estate, qtbot: QtBot
) -> None:
    widget = history_pane
    rows = [widget.model.summary_at(row) for row in range(widget.model.rowCount())]
    (fax,) = [s for s in rows if s is not None and s.execution_id == estate.fax_waiting]
    assert fax.problem == f"its journal cannot be replayed: {unreadable_line(estate)}"

    assert widget.select_execution(estate.fax_waiting)
    expected = f"Could not load details: {unreadable_line(estate)}"
    qtbot.waitUntil(lambda: widget.status_text() == expected, timeout=TIMEOUT)
    assert widget.details.message.text() == f"Could not load the details: {unreadable_line(estate)}"
    assert not widget.export_button.isEnabled()

    # Nothing crashed: the task thread goes on answering, and a readable execution still opens.
    with qtbot.waitSignal(widget.view_loaded, timeout=TIMEOUT) as loaded:
        widget.select_execution(estate.crm_cleaned)
    assert loaded.args[0].record.execution_id == estate.crm_cleaned
    assert loaded.args[0].journal_warning == ""


def test_history_pane_shows_a_journal_cut_short_under_a_warning(
    history_pane: ExecutionsPaneWidget, estate: Estate, qtbot: QtBot
) -> None:
    widget = history_pane
    with qtbot.waitSignal(widget.view_loaded, timeout=TIMEOUT) as loaded:
        widget.select_execution(estate.shop_left)
    warning = (
        f"warning: execution {estate.shop_left}: its journal is cut short (entries 3 to 4 are missing); "
        "what it shows may be incomplete"
    )
    assert loaded.args[0].journal_warning == warning
    assert widget.status_text() == warning
    assert widget.details.body.isVisible() and widget.details.field_text("id") == estate.shop_left
    assert widget.details.field_text("journal").endswith("(cut short: entries are missing)")
    assert widget.export_button.isEnabled()  # the evidence can still be exported, warning included

    with qtbot.waitSignal(widget.view_loaded, timeout=TIMEOUT):
        widget.select_execution(estate.crm_cleaned)
    assert widget.status_text() == ""  # the warning belonged to the other execution


def test_live_progress_says_which_journal_it_cannot_pick_up(estate: Estate, qtbot: QtBot) -> None:
    def services() -> ExecutionServices:  # each thread its own gateway, as the composition root does
        gateway = DrsGateway(estate.gateway.target)
        return ExecutionServices(estate.db, gateway, clock=estate.clock, operator="alice")

    desk = ExecutionDesk(services)
    live = ProgressWidget()
    qtbot.addWidget(live)
    live.connect_desk(desk)
    try:
        with qtbot.waitSignal(desk.unfinished_loaded, timeout=TIMEOUT) as loaded:
            live.pick_up_unfinished()
        assert estate.fax_waiting in [record.execution_id for record in loaded.args[0]]
        expected = f"Could not resume: {unreadable_line(estate)}"
        qtbot.waitUntil(lambda: live.status_text() == expected, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: estate.fax_waiting not in desk.active_ids(), timeout=TIMEOUT)
    finally:
        desk.stop()


def test_reading_a_damaged_journal_wrote_nothing(estate: Estate) -> None:
    """Neither the panes nor the refused pick-up changed the damaged journals (no RunnerRestarted)."""
    with estate.db.reader() as conn:
        (kind,) = conn.execute(
            "SELECT type FROM execution_events WHERE execution_id = ? AND seq = 2", (estate.fax_waiting,)
        ).fetchone()
        missing = conn.execute(
            "SELECT COUNT(*) FROM execution_events WHERE execution_id = ? AND seq IN (3, 4)",
            (estate.shop_left,),
        ).fetchone()[0]
        counts = {execution_id: _count(conn, execution_id) for execution_id in _COUNTS}
    assert (kind, missing) == ("FromTheFuture", 0)
    assert counts == _COUNTS and len(counts) == 2
