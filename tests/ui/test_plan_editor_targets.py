"""The plan editor across targets: every target's servers in the inventory panel, drags that add servers
with their target (at the model's mime data and at the view), undo, the tree's labels, saved files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.domain.plan.edit_parts import add_group
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.domain.plan.targets import entry_target, unplaced
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.domain.settings.target_list import CONNECTED_NAME
from drs_desktop.domain.targets import Target
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from drs_desktop.ui.groups.group_editor_widget import GroupEditorWidget
from drs_desktop.ui.plans.inventory_model import TARGET_COLUMN, WAVE_COLUMN
from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.plan_model import PROBLEMS_ROLE
from tests.ui.plan_helpers import A, F, sample_inventory, sample_plan, sid, watched
from tests.ui.test_plan_editor import drop_on_view

REVISION = PlanRevision("id-1", "Payroll", 1, datetime(2025, 1, 1, tzinfo=UTC), "hash")
CONNECTED = PlanTarget(CONNECTED_NAME, account="111122223333", region="eu-west-1", profile="default")
STAGING = PlanTarget("staging-01", account="222222222222", region="eu-west-1", profile="stage1")
EU = PlanTarget("eu-02", account="333333333333", region="eu-central-1", profile="eu2")
S1, S2, S3 = sid(201), sid(202), sid(203)


def parts() -> tuple[TargetInventory, ...]:
    staging = Inventory(
        servers=(
            SourceServer(S1, hostname="pay-web-01", replication_state="CONTINUOUS", tags={"tier": "web"}),
            SourceServer(S2, hostname="pay-web-02", replication_state="CONTINUOUS", tags={"tier": "web"}),
        ),
        account_id=STAGING.account,
        region=STAGING.region,
    )
    eu = Inventory(
        servers=(SourceServer(S3, hostname="eu-db-01", replication_state="CONTINUOUS"),),
        account_id=EU.account,
        region=EU.region,
    )
    badge = Target(account=CONNECTED.account, region=CONNECTED.region, profile="default")
    return (
        TargetInventory(CONNECTED_NAME, badge, sample_inventory(), connected=True, declaration=CONNECTED),
        TargetInventory("staging-01", Target(account=STAGING.account, region=STAGING.region), staging,
                        declaration=STAGING),
        TargetInventory("eu-02", Target(account=EU.account, region=EU.region), eu, declaration=EU),
    )  # fmt: skip


@pytest.fixture
def editor(qtbot: QtBot) -> PlanEditorWidget:
    widget = PlanEditorWidget()
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.set_parts(parts())
    widget.load_plan(sample_plan(), REVISION)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def current(editor: PlanEditorWidget) -> RecoveryPlan:
    plan = editor.plan()
    assert plan is not None
    return plan


def inventory_index(editor: PlanEditorWidget, server_id: str, target: str) -> int:
    row = editor.inventory_panel.model.row_of("server", server_id, target)
    assert row >= 0, (server_id, target)
    return row


def test_the_panel_lists_every_targets_servers_and_filters_by_target(editor: PlanEditorWidget) -> None:
    panel = editor.inventory_panel
    model = panel.model
    with watched(model):
        row = inventory_index(editor, S1, "staging-01")
        assert model.index(row, TARGET_COLUMN).data() == "staging-01"
        assert model.index(row, 2).data() == "pay-web-01"
        assert model.index(inventory_index(editor, A, CONNECTED_NAME), TARGET_COLUMN).data() == CONNECTED_NAME
    assert "9 servers of 3 targets" in panel.status.text()
    assert panel.target_combo.isVisibleTo(panel) and panel.target_combo.count() == 4
    panel.target_combo.setCurrentIndex(panel.target_combo.findData("eu-02"))
    shown = [panel.proxy.index(r, 0).data() for r in range(panel.proxy.rowCount())]
    assert shown == ["net", "dbs", S3]  # the plan's groups stay listed; one target's servers
    panel.target_combo.setCurrentIndex(0)
    assert panel.proxy.rowCount() == 2 + 9


def test_a_plan_built_by_drags_from_two_targets_saves_a_valid_format_2_plan(
    editor: PlanEditorWidget, qtbot: QtBot
) -> None:
    proxy = editor.inventory_panel.proxy
    model = editor.inventory_panel.model
    # At the model: the two staging servers' mime data dropped onto wave Web.
    data = model.mimeData([model.index(inventory_index(editor, S1, "staging-01"), 0),
                           model.index(inventory_index(editor, S2, "staging-01"), 0)])  # fmt: skip
    assert editor.model.dropMimeData(data, Qt.DropAction.CopyAction, -1, 0, editor.model.index(2, 0))
    plan = current(editor)
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01"]
    assert entry_target(plan, plan.waves[2], S1) == "staging-01"
    assert entry_target(plan, plan.waves[1], A) == CONNECTED_NAME  # what was there is placed
    # At the view: the EU server dragged from the panel (filtered to its target) onto wave DB.
    editor.inventory_panel.target_combo.setCurrentIndex(editor.inventory_panel.target_combo.findData("eu-02"))
    eu_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == S3)
    db = editor.tree.visualRect(editor.model.index(1, 0))
    eu_data = proxy.mimeData([proxy.index(eu_row, 0)])
    assert drop_on_view(editor, eu_data, db.center(), Qt.DropAction.CopyAction)
    plan = current(editor)
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01", "eu-02"]
    assert entry_target(plan, plan.waves[1], S3) == "eu-02"
    assert unplaced(plan) == []
    assert [p for p in validate_plan(plan, editor.inventory()) if p.severity is Severity.ERROR] == []
    assert model.index(inventory_index(editor, S3, "eu-02"), WAVE_COLUMN).data() == "DB"
    # Saved: the document is format 2, reads back as the same plan, with the right targets.
    with qtbot.waitSignal(editor.save_requested) as saved:
        editor.save()
    text = dump_plan(saved.args[0], "yaml")
    assert "\nformat: drs-desktop/plan@2\n" in text
    loaded = parse_plan_text(text, "built.yaml")
    assert loaded.plan == plan
    assert {t.name: (t.account, t.region, t.profile) for t in loaded.plan.targets} == {
        CONNECTED_NAME: ("111122223333", "eu-west-1", "default"),
        "staging-01": ("222222222222", "eu-west-1", "stage1"),
        "eu-02": ("333333333333", "eu-central-1", "eu2"),
    }


def test_undo_takes_the_target_entries_away_and_redo_brings_them_back(editor: PlanEditorWidget) -> None:
    model = editor.inventory_panel.model
    data = model.mimeData([model.index(inventory_index(editor, S1, "staging-01"), 0)])
    assert editor.model.dropMimeData(data, Qt.DropAction.CopyAction, -1, 0, editor.model.index(2, 0))
    after = current(editor)
    assert after.targets and editor.undo_stack.count() == 1  # one step, the declarations with it
    editor.undo_stack.undo()
    assert current(editor) == sample_plan()
    assert current(editor).targets == () and all(not w.server_targets for w in current(editor).waves)
    assert "\nformat: drs-desktop/plan@1\n" in dump_plan(current(editor), "yaml")
    editor.undo_stack.redo()
    assert current(editor) == after


def test_connected_servers_keep_a_plan_without_targets_in_format_1(editor: PlanEditorWidget) -> None:
    editor.inventory_panel.view.selectionModel().select(
        editor.inventory_panel.proxy.index(2 + 5, 0),  # F, the connected target's unplaced server
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    servers, _groups, targets = editor.inventory_panel.selected_with_targets()
    assert servers == [F] and targets == [CONNECTED_NAME]
    assert editor.add_entries_to_wave(servers, [], 2, targets=targets)
    assert current(editor).targets == () and current(editor).waves[2].servers[-1] == F


def test_the_tree_names_each_servers_target_and_shows_target_problems_in_place(
    editor: PlanEditorWidget,
) -> None:
    model = editor.inventory_panel.model
    data = model.mimeData([model.index(inventory_index(editor, S1, "staging-01"), 0)])
    assert editor.model.dropMimeData(data, Qt.DropAction.CopyAction, -1, 0, editor.model.index(2, 0))
    tree = editor.model
    with watched(tree):
        web = tree.index(2, 0)
        labels = [tree.index(r, 1, web).data() for r in range(tree.rowCount(web))]
        assert labels == ["web-01 · connected", "web-02 · connected", "pay-web-01 · staging-01"]
        assert tree.index(2, 3, web).data() == "CONTINUOUS"  # looked up in its own target's inventory
        # A group whose target is not said, in a plan of several targets: the problem is at its row.
        plan = current(editor)
        groups = tuple(replace(g, target=None) if g.name == "net" else g for g in plan.protection_groups)
        unsaid = replace(plan, protection_groups=groups)
        assert editor.edit("unsay", lambda _p: unsaid)
        group_row = tree.index(0, 0, tree.index(0, 0))
        problems = group_row.data(PROBLEMS_ROLE)
        assert problems and "say which this group is in" in problems[0].message
        assert tree.index_for_path("protection_groups[0]") == group_row


def test_a_groups_target_is_chosen_in_the_group_editor_and_its_preview_follows(qtbot: QtBot) -> None:
    editor = GroupEditorWidget()
    qtbot.addWidget(editor)
    editor.set_parts(parts())
    editor.set_plan(sample_plan())
    editor.edit_group(None, new_name="web")
    editor.set_tag(0, "tier", "web")
    choices = [editor.target_combo.itemText(r) for r in range(editor.target_combo.count())]
    assert choices[0] == "Plan default (the connected target)"
    assert "staging-01 (222222222222 · eu-west-1), not in the plan yet" in choices
    assert editor.preview_ids() == [sid(3), sid(4)]  # web-01, web-02 of the connected target
    assert editor.select_target("staging-01")
    assert editor.preview_ids() == [S1, S2]  # resolved in staging-01's cached inventory
    assert editor.group().target == "staging-01" and editor.problem() == ""
    # Saved as the Groups pane saves it: the group added, then put in its target (declared).
    plan = editor.with_chosen_target(add_group(sample_plan(), editor.group()), "web")
    assert [t.name for t in plan.targets] == [CONNECTED_NAME, "staging-01"]
    assert plan.group("web") is not None and plan.group("web").target == "staging-01"  # type: ignore[union-attr]
    assert plan.group("dbs").target == CONNECTED_NAME  # type: ignore[union-attr]
    assert [p for p in validate_plan(plan) if p.severity is Severity.ERROR] == []
    # Reopened in that plan: the group's own target is chosen, and the default is no longer offered.
    editor.set_plan(plan)
    editor.edit_group(plan.group("web"))
    assert editor.chosen_target() == STAGING and not editor.is_dirty()
    assert editor.target_combo.itemText(0).startswith(CONNECTED_NAME)


def test_a_cut_label_in_the_tree_keeps_its_target(editor: PlanEditorWidget) -> None:
    """Seen in a real window: "s01-00255 · staging-01" and "s06-00255 · staging-06" both showed as
    "…· staging…" in the tree, so an operator could not tell servers of two targets apart. The tree's
    column holds such a label whole and elides a longer one in the middle, keeping the target."""
    tree, view = editor.tree, editor.inventory_panel.view
    assert tree.textElideMode() is Qt.TextElideMode.ElideMiddle
    room = tree.columnWidth(1) - 8
    shown = [
        tree.fontMetrics().elidedText(label, tree.textElideMode(), room)
        for label in (
            "s01-00255 · staging-01",
            "s06-00255 · staging-06",
            "s01-00001 (staging 200000000001) · connected",
        )
    ]
    assert shown[0] == "s01-00255 · staging-01" and shown[1] == "s06-00255 · staging-06", shown  # whole
    assert shown[2].endswith("· connected") and "…" in shown[2], shown  # an extended server's long label
    # The inventory keeps its end cut: its target has a column of its own, and an extended server's
    # hostname ends with its staging account ("s01-00001 (staging 200000000001)"), the same for all.
    assert view.textElideMode() is Qt.TextElideMode.ElideRight
