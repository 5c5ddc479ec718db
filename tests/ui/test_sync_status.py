"""The status bar's sync item says what is true: up to date, changes waiting, pushing n of N, offline
since when (never "up to date" after a failed attempt), back again; and a round brings the other
desktop's plan into the Plans pane. Real threads, the moto server over HTTP, two desktop homes."""

from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from drs_desktop.domain.views.sync_status import SyncProgress
from drs_desktop.storage.plans import save_plan
from tests.sync.conftest import dynamodb
from tests.sync.desktops import init_table, plan
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.ui.sync_rig import TIMEOUT, SyncRig, sync_rig

UP_TO_DATE = re.compile(r"^Sync: up to date · \d\d:\d\d UTC$")

__all__ = ["dynamodb"]  # the moto server fixtures (tests/sync), used by name


def _queued(rig: SyncRig) -> int:
    status = rig.worker.status()
    return -1 if status is None else status.queued


def test_up_to_date_then_waiting_then_pushing_then_up_to_date(
    qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    with sync_rig(qtbot, tmp_path, dynamodb) as rig:
        assert UP_TO_DATE.match(rig.text()), rig.text()  # the first round, at start, found nothing to do
        assert "Last successful sync: " in rig.status.toolTip()

        save_plan(rig.db, plan("Shop", "s-1"))  # a local save: a revision and the plan's head queued
        rig.hub.announce_plans()  # what the Plans pane announces after its save
        qtbot.waitUntil(lambda: rig.text().startswith("Sync: 2 changes waiting · last "), timeout=TIMEOUT)
        assert rig.text().endswith(" UTC"), rig.text()

        seen: list[str] = []
        steps: list[SyncProgress | None] = []
        rig.worker.progressed.connect(steps.append)
        rig.worker.progressed.connect(lambda _step: seen.append(rig.text()))
        answer = rig.sync()
        assert answer.error is None
        assert SyncProgress("pushing", 0, 2) in steps
        assert "Sync: pushing 2 of 2…" in seen, seen  # the push reported its count as it went
        assert steps[-1] is None  # the round ended
        assert UP_TO_DATE.match(rig.text()), rig.text()


def test_offline_says_since_when_and_the_error_never_up_to_date(
    qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    with sync_rig(qtbot, tmp_path, dynamodb) as rig:
        assert UP_TO_DATE.match(rig.text())
        dynamodb.stop()
        answer = rig.sync()
        assert answer.error is not None
        text = rig.text()
        assert re.match(r"^Sync: offline since \d\d:\d\d UTC — .*could not be reached", text), text
        assert "up to date" not in text and "\n" not in text
        tip = rig.status.toolTip()
        assert "Last successful sync: " in tip and "never" not in tip.split("Last successful sync: ")[1][:6]
        since = text.split(" — ")[0]

        save_plan(rig.db, plan("Offline edit", "s-2"))  # an edit made offline waits, the item stays true
        rig.hub.announce_plans()
        qtbot.waitUntil(lambda: _queued(rig) == 2)
        assert rig.text().startswith("Sync: offline since")

        rig.sync()  # a second failure: still offline since the first one
        assert rig.text().split(" — ")[0] == since

        dynamodb.start()  # back, but empty: the desktop starts over on the new table and says so
        init_table(dynamodb)
        answer = rig.sync()
        assert answer.error is None, answer.error
        assert any("starting over" in note for note in answer.notes)
        assert UP_TO_DATE.match(rig.text()), rig.text()
        assert _queued(rig) == 0


def test_a_round_brings_the_other_desktops_plan_into_the_plans_pane(
    qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    with sync_rig(qtbot, tmp_path, dynamodb) as rig:
        assert rig.plans.plan_names() == []
        save_plan(rig.other.db, plan("Payroll", "s-9"))
        rig.other.service.sync_now()
        answer = rig.sync()
        assert "plans" in answer.pulled
        assert not rig.worker.debounce.isActive()  # announcing what it pulled starts no round of its own
        qtbot.waitUntil(lambda: rig.plans.plan_names() == ["Payroll"], timeout=TIMEOUT)
        assert UP_TO_DATE.match(rig.text())  # the pulled plan is not queued back: nothing waits


def test_off_until_switched_on(qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator) -> None:
    with sync_rig(qtbot, tmp_path, dynamodb, enabled=False) as rig:
        assert rig.text() == "Sync: off"
        assert rig.rounds == []  # no round at start while switched off
        save_plan(rig.db, plan("Shop", "s-1"))
        rig.hub.announce_plans()
        qtbot.waitUntil(lambda: _queued(rig) == 2)
        assert rig.text() == "Sync: off"
        assert not rig.worker.debounce.isActive()  # a save does not sync while switched off
