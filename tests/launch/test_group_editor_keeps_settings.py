"""The group editor does not edit launch settings (yet), so editing a group's members, selector or name
in it must keep the group's launch settings, never drop them (the plan would lose them on save)."""

from __future__ import annotations

import dataclasses

from pytestqt.qtbot import QtBot

from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings
from drs_desktop.ui.groups.group_editor_widget import GroupEditorWidget
from tests.ui.plan_helpers import sample_plan


def test_a_group_edited_in_the_form_keeps_its_launch_settings(qtbot: QtBot) -> None:
    settings = LaunchSettings(LaunchFields(instance_type="r5.large", os_byol=True))
    plan = sample_plan()
    groups = tuple(dataclasses.replace(g, launch_settings=settings) for g in plan.protection_groups)
    plan = dataclasses.replace(plan, protection_groups=groups)
    editor = GroupEditorWidget()
    qtbot.addWidget(editor)
    editor.set_plan(plan)
    editor.edit_group(plan.group("dbs"))
    assert not editor.is_dirty(), "opening a group is not an edit"
    editor.name_edit.setText("databases")
    editor.set_tag(0, "tier", "app")
    edited = editor.group()
    assert (edited.name, edited.tags, edited.launch_settings) == ("databases", {"tier": "app"}, settings)
    editor.edit_group(None, new_name="fresh")
    assert editor.group().launch_settings.is_empty(), "a new group starts with none"
