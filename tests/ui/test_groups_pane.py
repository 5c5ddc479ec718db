"""GroupsPaneWidget asking a real ``local`` task thread over a real database: create a tag group with a
live preview, edit it, pick explicit members, delete with the in-use rule; every change a new revision of
the plan. And the Groups and Plans panes on one thread: each gets its own answers only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.ui.groups.groups_pane_widget import GroupsPaneWidget
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.ui.pane_tasks import PaneThreads, desktop_clock, pane_threads
from tests.ui.plan_helpers import A, B, C, D, E, F, sample_inventory, sample_plan

TIMEOUT = 5000


@dataclass
class Pane:
    widget: GroupsPaneWidget
    library: PlanLibrary
    threads: PaneThreads


@pytest.fixture
def pane(qtbot: QtBot, tmp_path: Path) -> Iterator[Pane]:
    db = Database.open(tmp_path / "drs.sqlite3")
    save_inventory(db, sample_inventory())
    library = PlanLibrary(db)
    library.save_plan(RecoveryPlan(name="Alpha", waves=(Wave("W", servers=(F,)),)), "first")
    library.save_plan(sample_plan(), "first")  # "Payroll": groups net (E) and dbs (tier=db)
    try:
        with pane_threads(db) as threads:
            widget = GroupsPaneWidget(clock=desktop_clock)
            qtbot.addWidget(widget)
            widget.connect_tasks(threads.local)
            widget.resize(1300, 800)
            widget.show()
            qtbot.waitExposed(widget)
            widget.refresh()
            qtbot.waitUntil(lambda: widget.plan_name() == "Alpha", timeout=TIMEOUT)
            qtbot.waitUntil(lambda: widget.editor.pick_model.rowCount() == 6, timeout=TIMEOUT)
            yield Pane(widget, library, threads)
    finally:
        library.close()
        db.close()


def open_payroll(pane: Pane, qtbot: QtBot) -> GroupsPaneWidget:
    widget = pane.widget
    widget.plan_picker.setCurrentIndex(widget.plan_picker.findData("Payroll"))
    qtbot.waitUntil(lambda: widget.plan_name() == "Payroll", timeout=TIMEOUT)
    assert widget.group_names() == ["net", "dbs"]
    return widget


def wait_revision(pane: Pane, qtbot: QtBot, number: int) -> None:
    qtbot.waitUntil(
        lambda: pane.widget.revision() is not None and pane.widget.revision().revision == number,  # type: ignore[union-attr]
        timeout=TIMEOUT,
    )


def test_create_a_tag_group_with_a_live_preview(pane: Pane, qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    widget = open_payroll(pane, qtbot)
    editor = widget.editor
    qtmodeltester.check(editor.preview_model, force_py=True)
    widget.new_group()
    assert editor.name_edit.text() == "New group" and editor.tags_radio.isChecked()
    assert editor.preview_ids() == [] and "Add a tag" in editor.preview_text()
    assert not editor.save_button.isEnabled()
    editor.name_edit.setText("web")
    editor.set_tag(0, "tier", "web")
    assert editor.preview_ids() == [C, D], "the preview follows the selector as it is typed"
    assert editor.preview_text() == "Selects 2 servers."
    view = editor.preview_view
    whole = view.fontMetrics().horizontalAdvance(C)
    assert view.columnWidth(0) >= whole, "a server ID is shown whole, not cut"
    editor.set_tag(0, "tier", "db")
    assert editor.preview_ids() == [A, B]
    assert editor.preview_text() == "Selects 2 servers (2 need attention)."
    assert editor.preview_model.warnings()[0].note == "already in group 'dbs'"
    editor.set_tag(0, "tier", "web")
    editor.add_tag_row("os", "Windows")  # every tag must match: no server carries an "os" tag
    assert editor.preview_ids() == [] and editor.preview_text() == "Selects 0 servers."
    editor.tags_table.selectRow(1)
    editor.remove_tag_button.click()
    assert editor.preview_ids() == [C, D]
    assert editor.save_button.isEnabled()
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT) as saved:
        editor.save_button.click()
    assert saved.args[0].revision == 2
    assert widget.group_names() == ["net", "dbs", "web"]
    current = widget.group_list.currentItem()
    assert current is not None and current.text().startswith("web")
    assert "revision 2: protection group 'web' created" in widget.status_text()
    stored = pane.library.load_plan("Payroll")
    assert stored.revision.revision == 2 and stored.revision.comment == "protection group 'web' created"
    assert stored.plan.group("web") == ProtectionGroup("web", tags={"tier": "web"})
    assert not editor.is_dirty()


def test_edit_and_rename_a_group_in_every_wave(pane: Pane, qtbot: QtBot) -> None:
    widget = open_payroll(pane, qtbot)
    editor = widget.editor
    assert widget.select_group("net")
    assert editor.members_radio.isChecked() and editor.pick_model.checked_ids() == (E,)
    assert editor.preview_ids() == [E]
    editor.member_filter.setText("app")
    assert editor.pick_proxy.rowCount() == 1, "the member list filters by hostname"
    assert editor.pick_model.set_server_checked(F, True)
    editor.name_edit.setText("edge")
    assert editor.preview_ids() == [E, F]
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT):
        editor.save()
    stored = pane.library.load_plan("Payroll")
    assert stored.revision.comment == "protection group 'edge' edited (renamed from 'net')"
    assert stored.plan.group("edge") == ProtectionGroup("edge", server_ids=(E, F))
    assert stored.plan.waves[0].groups == ("edge",), "the wave follows the rename"
    assert widget.group_names() == ["edge", "dbs"]
    # A tag group edited: the value changes what it selects.
    assert widget.select_group("dbs")
    assert editor.tags_radio.isChecked() and editor.preview_ids() == [A, B]
    editor.set_tag(0, "tier", "app")
    assert editor.preview_model.warnings()[0].note == "already in group 'edge'"
    editor.name_edit.setText("edge")
    assert "already a protection group named 'edge'" in editor.problem_label.text()
    assert not editor.save_button.isEnabled()
    editor.name_edit.setText("dbs")
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT):
        editor.save()
    wait_revision(pane, qtbot, 3)
    assert pane.library.load_plan("Payroll").plan.group("dbs") == ProtectionGroup("dbs", tags={"tier": "app"})
    assert "problem" in widget.status_text(), "F is in two groups now: the saved revision says so"
    assert [r.revision for r in pane.library.history("Payroll")] == [1, 2, 3]


def test_delete_refuses_a_group_in_use_unless_told_to_take_it_out_of_its_waves(
    pane: Pane, qtbot: QtBot
) -> None:
    widget = open_payroll(pane, qtbot)
    asked: list[tuple[str, list[str]]] = []

    def refuse(name: str, waves: list[str]) -> bool:
        asked.append((name, waves))
        return False

    widget.confirm_delete = refuse
    widget.select_group("net")
    assert not widget.delete_selected()
    assert asked == [("net", ["Net"])]
    assert widget.status_text() == "Group 'net' is used by wave 'Net': kept."
    assert pane.library.load_plan("Payroll").revision.revision == 1, "nothing was saved"

    widget.confirm_delete = lambda name, waves: True
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT):
        assert widget.delete_selected()
    stored = pane.library.load_plan("Payroll")
    assert stored.revision.revision == 2
    assert stored.revision.comment == "protection group 'net' deleted and taken out of wave 'Net'"
    assert stored.plan.group("net") is None and stored.plan.waves[0].groups == ()
    assert widget.group_names() == ["dbs"]
    assert "problem" in widget.status_text(), "wave 'Net' is empty now, and the status says so"

    # A group no wave uses: asked with no waves, deleted.
    asked.clear()

    def agree(name: str, waves: list[str]) -> bool:
        asked.append((name, waves))
        return True

    widget.confirm_delete = agree
    widget.select_group("dbs")
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT):
        assert widget.delete_selected()
    assert asked == [("dbs", [])]
    assert pane.library.load_plan("Payroll").plan.protection_groups == ()
    assert widget.group_names() == []


def test_unsaved_edits_are_kept_unless_the_operator_discards_them(pane: Pane, qtbot: QtBot) -> None:
    widget = open_payroll(pane, qtbot)
    editor = widget.editor
    widget.select_group("dbs")
    editor.set_tag(0, "tier", "web")
    assert editor.is_dirty()
    widget.confirm_discard = lambda name: False
    widget.group_list.setCurrentRow(0)
    assert editor.original_name() == "dbs" and editor.preview_ids() == [C, D], "the edit survived"
    widget.confirm_discard = lambda name: True
    widget.group_list.setCurrentRow(0)
    assert editor.original_name() == "net" and not editor.is_dirty()


def test_another_panes_answers_are_ignored(pane: Pane, qtbot: QtBot) -> None:
    widget = open_payroll(pane, qtbot)
    other = pane.library.load_plan("Alpha")
    widget.show_plan(other)  # a plan this pane did not ask for
    assert widget.plan_name() == "Payroll"
    widget.on_plan_saved(other.revision, ())
    assert widget.plan_name() == "Payroll" and widget.group_names() == ["net", "dbs"]


def test_groups_and_plans_panes_on_one_thread_get_their_own_answers_only(pane: Pane, qtbot: QtBot) -> None:
    """The reason the second plans worker existed: a save by one pane must not reach the other's editor."""
    widget = open_payroll(pane, qtbot)
    plans = PlansPaneWidget(clock=desktop_clock)
    qtbot.addWidget(plans)
    plans.connect_tasks(pane.threads.local)  # the very thread the Groups pane asks
    plans.refresh()
    assert plans.open_plan("Payroll")
    qtbot.waitUntil(lambda: plans.editor.stored_name() == "Payroll", timeout=TIMEOUT)
    plans_status = plans.status_text()
    assert plans_status == "Opened 'Payroll' revision 1."

    # The Groups pane saves revision 2: the Plans pane's editor is not told it saved anything.
    widget.confirm_delete = lambda name, waves: True
    widget.select_group("dbs")
    with qtbot.waitSignal(widget.plan_changed, timeout=TIMEOUT) as saved:
        assert widget.delete_selected()
    assert saved.args[0].revision == 2
    assert plans.editor.revision().revision == 1  # type: ignore[union-attr]
    assert plans.status_text() == plans_status and not plans.editor.is_dirty()

    # The Plans pane opens another plan and saves: the Groups pane, idle, keeps its plan and its say.
    groups_status = widget.status_text()
    assert plans.open_plan("Alpha")
    qtbot.waitUntil(lambda: plans.editor.stored_name() == "Alpha", timeout=TIMEOUT)
    plans.editor.add_wave()
    plans.editor.save()
    qtbot.waitUntil(lambda: "Saved 'Alpha' as revision 2" in plans.status_text(), timeout=TIMEOUT)
    assert widget.plan_name() == "Payroll" and widget.revision().revision == 2  # type: ignore[union-attr]
    assert widget.status_text() == groups_status and widget.group_names() == ["net"]
    # Each pane's failure goes to that pane only.
    assert plans.open_plan("Nope")
    qtbot.waitUntil(lambda: plans.status_text().startswith("Could not load plan"), timeout=TIMEOUT)
    assert widget.status_text() == groups_status


def test_without_an_inventory_a_tag_selector_says_it_cannot_preview(qtbot: QtBot) -> None:
    from drs_desktop.ui.groups.group_editor_widget import GroupEditorWidget

    editor = GroupEditorWidget()
    qtbot.addWidget(editor)
    assert not editor.isEnabled(), "no plan chosen: nothing to edit"
    editor.set_plan(sample_plan())
    editor.edit_group(sample_plan().group("dbs"))
    assert editor.isEnabled() and editor.preview_ids() == []
    assert editor.preview_text().startswith("No cached inventory")
    editor.set_inventory(sample_inventory())
    assert editor.preview_ids() == [A, B]


def test_editing_a_group_keeps_its_target_and_opening_one_changes_nothing(qtbot: QtBot) -> None:
    """Plan format 2: the form does not show a group's target (yet), so it must keep it, not drop it
    (which would move the group to the connected account and mark every opened group as edited)."""
    import dataclasses

    from drs_desktop.domain.plan.model import PlanTarget
    from drs_desktop.ui.groups.group_editor_widget import GroupEditorWidget

    plan = sample_plan()
    target = PlanTarget(name="stage-a", account="111111111111", region="us-east-1", profile="pa")
    groups = tuple(dataclasses.replace(g, target="stage-a") for g in plan.protection_groups)
    plan = dataclasses.replace(plan, targets=(target,), protection_groups=groups)
    editor = GroupEditorWidget()
    qtbot.addWidget(editor)
    editor.set_plan(plan)
    editor.edit_group(plan.group("dbs"))
    assert not editor.is_dirty(), "opening a group is not an edit"
    editor.name_edit.setText("databases")
    assert editor.group().target == "stage-a" and editor.group().name == "databases"
