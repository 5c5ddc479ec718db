"""The conflicts dialog: opened from the status item, it lists each conflict with who changed it on the
other side, shows both plans and the plan history's diff, and each of its three buttons does what its
line says. Real threads, the moto server over HTTP, two desktop homes (A: the GUI, B: the other)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.plans import get_plan, save_plan
from drs_desktop.storage.sync_conflicts import open_conflicts
from drs_desktop.ui.sync.sync_conflicts_dialog import SyncConflictsDialog
from tests.sync.conftest import dynamodb
from tests.sync.desktops import plan
from tests.sync.dynamodb_emulator import DynamoDbEmulator
from tests.ui.sync_rig import TIMEOUT, SyncRig, sync_rig

NAMES = ("Keep", "Theirs", "Copy")

__all__ = ["dynamodb"]  # the moto server fixtures (tests/sync), used by name


def _three_conflicts(rig: SyncRig) -> None:
    """Three plans made on A and synced to B; B edits each (adds s-b) and pushes first; A edits each
    (adds s-a): A's next round meets three conflicts."""
    for name in NAMES:
        save_plan(rig.db, plan(name, "s-1"))
    assert rig.sync().error is None
    rig.other.service.sync_now()
    for name in NAMES:
        save_plan(rig.other.db, plan(name, "s-1", "s-b"), comment="B's edit")
    rig.other.service.sync_now()
    for name in NAMES:
        save_plan(rig.db, plan(name, "s-1", "s-a"))
    answer = rig.sync()
    assert len(answer.conflicts) == 3, answer


def _select(dialog: SyncConflictsDialog, name: str) -> None:
    for row in range(dialog.conflicts.topLevelItemCount()):
        item = dialog.conflicts.topLevelItem(row)
        assert item is not None
        if item.text(0) == f"plan {name!r}":
            dialog.conflicts.setCurrentItem(item)
            return
    raise AssertionError(f"no conflict on {name} in the list")


def _resolve(rig: SyncRig, dialog: SyncConflictsDialog, name: str, choice: str) -> None:
    _select(dialog, name)
    left = len(dialog.views()) - 1
    with rig.qtbot.waitSignal(rig.worker.resolved, timeout=TIMEOUT):
        rig.qtbot.mouseClick(dialog.buttons[choice], Qt.MouseButton.LeftButton)
    rig.qtbot.waitUntil(lambda: len(dialog.views()) == left, timeout=TIMEOUT)
    rig.qtbot.waitUntil(lambda: not rig.worker.is_busy(), timeout=TIMEOUT)  # the round that follows


def test_the_dialog_shows_both_sides_and_the_diff_and_each_button_does_what_it_says(
    qtbot: QtBot, tmp_path: Path, dynamodb: DynamoDbEmulator
) -> None:
    with sync_rig(qtbot, tmp_path, dynamodb) as rig:
        _three_conflicts(rig)
        assert re.match(r"^Sync: 3 conflicts · last \d\d:\d\d UTC$", rig.text()), rig.text()
        b_short = rig.other.desktop_id[:8]
        a_short = outbox.get_state(rig.db).desktop_id[:8]

        rig.status.click()  # the status item opens the dialog
        assert rig.dialog is not None
        dialog = rig.dialog
        qtbot.waitUntil(lambda: len(dialog.views()) == 3, timeout=TIMEOUT)
        assert "3 open conflicts" in dialog.title.text()
        _select(dialog, "Keep")
        item = dialog.conflicts.currentItem()
        assert item is not None
        assert item.text(1) == f"desktop {b_short}"  # who changed it on the other side
        assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$", item.text(2)), item.text(2)
        # Both sides in full, as plan files: mine has s-a, theirs (read from the table) has s-b.
        assert "s-a" in dialog.mine_view.toPlainText() and "s-b" not in dialog.mine_view.toPlainText()
        assert "s-b" in dialog.theirs_view.toPlainText() and "s-a" not in dialog.theirs_view.toPlainText()
        assert "not sent" in dialog.mine_title.text()
        assert f"desktop {b_short}'s version (team revision" in dialog.theirs_title.text()
        # The plan history's diff, from mine to theirs.
        diff = dialog.diff_view.toPlainText()
        assert diff.startswith(f"What taking theirs would change here (this desktop → desktop {b_short}):")
        assert "s-a" in diff and "s-b" in diff, diff
        # Each choice says in one line what it will do.
        assert dialog.explanations["keep_mine"].text().startswith("Push this desktop's version")
        assert dialog.explanations["take_theirs"].text().startswith(f"Apply desktop {b_short}'s version")
        copy_line = dialog.explanations["save_as_copy"].text()
        assert f"'Keep (copy from {a_short})'" in copy_line
        assert all(button.isEnabled() for button in dialog.buttons.values())

        # Keep mine: the next round pushes A's version over B's; B gets it.
        _resolve(rig, dialog, "Keep", "keep_mine")
        assert "keeping this desktop's" in dialog.result_label.text()
        rig.other.service.sync_now()
        assert get_plan(rig.other.db, "Keep") == plan("Keep", "s-1", "s-a")

        # Take theirs: A now has B's version; nothing of A's is pushed over it.
        _resolve(rig, dialog, "Theirs", "take_theirs")
        assert get_plan(rig.db, "Theirs") == plan("Theirs", "s-1", "s-b")
        rig.other.service.sync_now()
        assert get_plan(rig.other.db, "Theirs") == plan("Theirs", "s-1", "s-b")

        # Save as a copy: A's version under the name the line said, B's under the plan's own name; the
        # Plans pane lists the copy (the resolution announced the change).
        _resolve(rig, dialog, "Copy", "save_as_copy")
        copy = f"Copy (copy from {a_short})"
        assert get_plan(rig.db, copy).waves == plan(copy, "s-1", "s-a").waves
        assert get_plan(rig.db, "Copy") == plan("Copy", "s-1", "s-b")
        qtbot.waitUntil(lambda: copy in rig.plans.plan_names(), timeout=TIMEOUT)

        assert dialog.views() == () and "No open conflicts" in dialog.title.text()
        assert open_conflicts(rig.db) == []
        assert not any(button.isEnabled() for button in dialog.buttons.values())
        assert re.match(r"^Sync: up to date · \d\d:\d\d UTC$", rig.text()), rig.text()
        rig.other.service.sync_now()
        assert get_plan(rig.other.db, copy).waves == plan(copy, "s-1", "s-a").waves  # the copy travelled
