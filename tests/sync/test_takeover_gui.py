"""The History tab's driver strip and the takeover confirmation (ui.executions.lease_strip,
ui.executions.takeover_dialog; issue 14 item 5): real widgets offscreen. The strip's lines and its
button are checked from readings given in order (the observer's clock is the readings' own ``at``);
one test reads a real lease on moto's DynamoDB server through the ``lease-watch`` task thread and stops
reading when the strip is hidden."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.aws import sync_lease
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.lease import LEASE_EXPIRY, Lease
from drs_desktop.domain.views.lease_view import LeaseReading
from drs_desktop.services.execution_lease import ExecutionLeases
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.execution_takeover import LeaseLook
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import sync_journal, sync_outbox
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.lease_strip import LeaseStrip
from drs_desktop.ui.executions.takeover_dialog import TakeoverDialog
from drs_desktop.workers.execution_desk import ExecutionDesk
from drs_desktop.workers.pane_tasks import LeaseTasks
from drs_desktop.workers.tasks import TaskThread
from tests.sync.desktops import target as lease_target
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator
from tests.sync.feed_helpers import FakeClock
from tests.sync.lease_helpers import TABLE, make_table
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, VirtualPace, drill_session

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway

RUN = "0f1e2d3c-run"


def reading(
    at: float,
    holder: str | None = "desk-a",
    heartbeat: int = 3,
    *,
    error: str = "",
    released: int | None = None,
) -> LeaseReading:
    lease = Lease(RUN, holder, heartbeat) if holder is not None else None
    free = heartbeat if holder is None else None
    return LeaseReading(
        RUN,
        at,
        None if error else lease,
        error=error,
        here="desk-b",
        writer="desk-a",
        free_heartbeat=free,
        released_events=released,
    )


def pulled_from_desk_a(db: Database, execution_id: str) -> None:
    """Mark a run of this database as if pulled from desk-a, which drives it."""
    with db.transaction() as conn:
        sync_journal.mark_foreign(conn, execution_id, "desk-a", "desk-b")


@pytest.fixture
def strip(qtbot: QtBot) -> LeaseStrip:
    widget = LeaseStrip()
    qtbot.addWidget(widget)
    widget.show()
    widget.watch(RUN, "Shop", "DRILL")  # no task thread: the test gives the readings
    return widget


def test_the_strip_says_one_true_line_and_enables_take_over_only_once_expired(strip: LeaseStrip) -> None:
    assert strip.isVisible() and strip.text() == "Reading who drives this run…"
    strip.on_reading(reading(100.0))
    assert strip.text() == "Driven by desktop desk-a · heartbeat seen 0 s ago"
    strip.on_reading(reading(104.0))
    assert strip.text() == "Driven by desktop desk-a · heartbeat seen 4 s ago"
    assert not strip.take_button.isEnabled()
    strip.on_reading(reading(260.0))
    assert strip.text() == "No heartbeat from desktop desk-a for 2 min 40 s · can be taken over in 20 s"
    assert not strip.take_button.isEnabled()
    strip.on_reading(reading(270.0, error="the table did not answer"))
    assert strip.text() == (
        "Cannot read the lease: the table did not answer · "
        "no expiry is counted while the table cannot be read"
    )
    assert not strip.take_button.isEnabled()
    strip.on_reading(reading(100.0 + LEASE_EXPIRY))
    assert strip.text() == "Desktop desk-a silent for 3 min"
    assert strip.take_button.isEnabled()
    strip.on_reading(reading(300.0, heartbeat=4))  # it beat again: the count starts over
    assert strip.text() == "Driven by desktop desk-a · heartbeat seen 0 s ago"
    assert not strip.take_button.isEnabled()


def test_a_free_lease_may_be_taken_and_a_refusal_is_said_in_one_line(strip: LeaseStrip) -> None:
    asked: list[tuple[object, ...]] = []
    sent: list[tuple[object, ...]] = []

    def confirm(*args: object) -> bool:
        asked.append(args)
        return True

    strip.confirm = confirm
    strip.take_over_requested.connect(lambda *args: sent.append(args))
    strip.on_reading(reading(10.0, holder=None, released=42))
    assert strip.text() == (
        "Stopped cleanly by its last driver (its whole journal is in the team's table) · no desktop drives it"
    )
    assert strip.take_button.isEnabled()
    strip.take_button.click()
    assert asked == [(RUN, "Shop", "DRILL", "")]
    assert sent == [(RUN, None, False)]
    assert strip.text() == "Taking the run over…" and not strip.take_button.isEnabled()
    assert not strip.take_over(), "no second takeover while one is on its way"

    strip.on_refused(f"Execution {RUN}: desktop desk-c took the lease over first")
    assert strip.note.isVisible()
    assert strip.note.text() == f"Not taken over: Execution {RUN}: desktop desk-c took the lease over first"
    strip.on_reading(reading(15.0, holder="desk-c", heartbeat=9))
    assert strip.text() == "Driven by desktop desk-c · heartbeat seen 0 s ago"
    assert not strip.take_button.isEnabled()


def test_an_expired_lease_is_taken_over_on_the_pair_watched_after_the_operator_confirms(
    strip: LeaseStrip,
) -> None:
    sent: list[tuple[object, ...]] = []
    strip.take_over_requested.connect(lambda *args: sent.append(args))
    strip.on_reading(reading(0.0))
    strip.on_reading(reading(LEASE_EXPIRY))
    strip.confirm = lambda *_args: False  # the operator cancelled
    assert not strip.take_over() and sent == []
    strip.confirm = lambda *_args: True
    assert strip.take_over()
    assert sent == [(RUN, Lease(RUN, "desk-a", 3), True)]


def test_a_recovery_is_taken_over_only_with_the_plan_name_typed(qtbot: QtBot) -> None:
    dialog = TakeoverDialog(RUN, "Shop", "RECOVERY", "desk-a")
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    assert "driven until now by desktop desk-a" in text
    assert "This desktop drives the run from now on" in text
    assert "first checked in DRS's records" in text and "(minutes)" in text
    assert "stops driving when it reconnects" in text and "kept aside there" in text
    assert not dialog.confirm_edit.isHidden() and not dialog.take_button.isEnabled()
    dialog.confirm_edit.setText("shop")  # exact, case included
    assert not dialog.take_button.isEnabled()
    dialog.accept()
    assert dialog.result() != TakeoverDialog.DialogCode.Accepted
    dialog.confirm_edit.setText("Shop")
    assert dialog.take_button.isEnabled()
    dialog.accept()
    assert dialog.result() == TakeoverDialog.DialogCode.Accepted

    drill = TakeoverDialog(RUN, "Shop", "DRILL", "")
    qtbot.addWidget(drill)
    assert drill.confirm_edit.isHidden() and drill.take_button.isEnabled()
    assert "no desktop (its lease is free)" in drill.text.text()


@pytest.fixture
def lease_tasks(db: Database, dynamodb: DynamoDbEmulator) -> Iterator[tuple[LeaseTasks, FakeClock]]:
    target = make_table(dynamodb)
    sync_outbox.configure(db, TABLE, region=REGION, endpoint=dynamodb.endpoint_url)
    leases = ExecutionLeases(target, "desk-b")
    clock = FakeClock()
    tasks: LeaseTasks = TaskThread(
        "lease-watch", lambda: LeaseLook(db, lambda: leases, monotonic=clock), close=LeaseLook.close
    )
    try:
        yield tasks, clock
    finally:
        assert tasks.stop()


def test_the_strip_reads_the_lease_on_its_thread_and_stops_when_hidden(
    qtbot: QtBot,
    db: Database,
    gateway: DrsGateway,
    sim: EmbeddedSimulator,
    dynamodb: DynamoDbEmulator,
    lease_tasks: tuple[LeaseTasks, FakeClock],
) -> None:
    services = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)
    session = drill_session(services)
    session.close()  # unfinished, nobody drives it here
    pulled_from_desk_a(db, session.execution_id)
    sync_lease.take(dynamodb.client(), TABLE, session.execution_id, "desk-a")
    tasks, clock = lease_tasks
    strip = LeaseStrip(interval_ms=20)
    qtbot.addWidget(strip)
    strip.connect_tasks(tasks)
    strip.show()
    strip.watch(session.execution_id, "Shop", "DRILL")
    qtbot.waitUntil(
        lambda: strip.text() == "Driven by desktop desk-a · heartbeat seen 0 s ago", timeout=TIMEOUT
    )
    clock.advance(LEASE_EXPIRY)
    qtbot.waitUntil(lambda: strip.text() == "Desktop desk-a silent for 3 min", timeout=TIMEOUT)
    assert strip.take_button.isEnabled()
    strip.hide()
    assert not strip.watching, "hidden: no more reads"
    strip.show()
    assert strip.watching
    strip.stop_watching()
    assert not strip.watching and not strip.isVisible()


def test_the_desk_opens_a_confirmed_takeover_live_and_says_a_refusal(
    qtbot: QtBot,
    db: Database,
    gateway: DrsGateway,
    sim: EmbeddedSimulator,
    dynamodb: DynamoDbEmulator,
    lease_tasks: tuple[LeaseTasks, FakeClock],
) -> None:
    """The strip's request as the composition root wires it: the desk opens the run on a loop of its
    own (``resumed``), or says why not (``failed("take_over", ...)``)."""
    services = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)
    session = drill_session(services)
    session.close()
    pulled_from_desk_a(db, session.execution_id)
    client = dynamodb.client()
    seen = sync_lease.take(client, TABLE, session.execution_id, "desk-a")
    leases = ExecutionLeases(lease_target(dynamodb), "desk-b")

    def factory() -> ExecutionServices:
        return ExecutionServices(
            db,
            DrsGateway(gateway.target),
            clock=sim.clock.now,
            operator="bob",
            poll_interval_seconds=30,
            leases=leases,
        )

    desk = ExecutionDesk(factory, pace=VirtualPace(sim))
    try:
        stale = Lease(seen.execution_id, seen.holder, seen.heartbeat - 1)
        with qtbot.waitSignal(desk.failed, timeout=TIMEOUT) as refused:
            desk.take_over(session.execution_id, stale, True)
        assert refused.args[0] == "take_over" and "desk-a is beating again" in refused.args[1]
        with qtbot.waitSignal(desk.resumed, timeout=TIMEOUT) as opened:
            desk.take_over(session.execution_id, seen, True)
        assert opened.args[0].execution_id == session.execution_id
        lease = sync_lease.read(client, TABLE, session.execution_id)
        assert lease is not None and lease.holder == "desk-b"
    finally:
        desk.stop()


def test_a_free_lease_not_given_back_after_a_clean_stop_waits_like_a_silent_one(strip: LeaseStrip) -> None:
    """No holder, but no clean stop said the journal is whole (a failed push, or a run started before
    team sync was on, which holds no lease): the takeover waits until nothing wrote to it for the expiry."""
    strip.on_reading(reading(10.0, holder=None, heartbeat=7))
    assert strip.text() == (
        "No desktop holds its lease, but it was not given back after a clean stop · can be taken over "
        "once nothing writes to it for 3 min (3 min left)"
    )
    assert not strip.take_button.isEnabled()
    strip.on_reading(reading(10.0 + LEASE_EXPIRY, holder=None, heartbeat=7))
    assert strip.text() == "No desktop holds its lease, and nothing wrote to it for 3 min"
    assert strip.take_button.isEnabled()
    strip.on_reading(reading(400.0, holder=None, heartbeat=8))  # someone wrote to it: the count restarts
    assert not strip.take_button.isEnabled()


def test_this_desktops_own_run_is_never_offered_for_a_takeover(strip: LeaseStrip) -> None:
    own = LeaseReading(RUN, 10.0, None, here="desk-b", writer=None, free_heartbeat=3, released_events=5)
    strip.on_reading(own)
    assert strip.text() == "This desktop's run · no desktop holds its lease now"
    assert not strip.take_button.isEnabled()


def test_the_live_tab_says_a_run_was_taken_over_not_picked_up_again(qtbot: QtBot) -> None:
    from drs_desktop.ui.executions.progress_widget import ProgressWidget

    progress = ProgressWidget()
    qtbot.addWidget(progress)
    progress.on_taken_over(RUN, "Shop")
    assert progress.status_text() == (
        f"Execution {RUN[:8]} of 'Shop' taken over: this desktop drives it now; DRS's records are checked "
        "before anything is launched."
    )


def test_this_desktops_own_run_held_by_another_desktop_can_be_taken_back_once_silent(
    strip: LeaseStrip,
) -> None:
    """A copy of this database, or a desktop that took this run over and then went silent, holds it:
    after the expiry this desktop may take it back, like any silent holder's run."""
    first = LeaseReading(RUN, 10.0, Lease(RUN, "desk-c", 4), here="desk-b", writer=None)
    strip.on_reading(first)
    assert not strip.take_button.isEnabled()
    strip.on_reading(
        LeaseReading(RUN, 10.0 + LEASE_EXPIRY, Lease(RUN, "desk-c", 4), here="desk-b", writer=None)
    )
    assert strip.text() == "Desktop desk-c silent for 3 min" and strip.take_button.isEnabled()
