"""The Settings page's targets table on its real settings thread: add, edit and remove, each stored at once;
a bad entry shown at its field, the dialog kept open with everything typed, nothing stored."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.targets import Target
from drs_desktop.services.inventory_targets import listed_targets, save_listed_targets
from drs_desktop.storage.db import Database
from drs_desktop.ui.settings.target_dialog import ROLE, TargetDialog
from tests.secrets.memory_keyring import install_memory
from tests.services.settings_fixtures import aws_files_fixture, db_fixture  # noqa: F401
from tests.ui.test_settings_pane import TIMEOUT, Rig, open_pane

PROD = PlanTarget("prod-eu", account="123456789012", region="eu-west-1", profile="dr-admin")
ROLE_ARN = "arn:aws:iam::210987654321:role/DrsOperator"


@pytest.fixture
def rig(
    qtbot: QtBot, db: Database, tmp_path: Path, aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Rig]:
    install_memory(monkeypatch)
    save_listed_targets(db, (PROD,))
    with open_pane(qtbot, db, tmp_path) as running:
        running.pane.set_running_target(Target(account="111111111111", region="us-east-1", profile="base"))
        yield running


def type_into(dialog: TargetDialog, **values: str) -> None:
    for field, text in values.items():
        dialog.edits[field].setText(text)


def saved(rig: Rig, qtbot: QtBot, wanted: tuple[PlanTarget, ...]) -> None:
    qtbot.waitUntil(lambda: rig.pane.status_text() == "Targets saved.", timeout=TIMEOUT)
    assert listed_targets(rig.db) == wanted
    assert rig.pane.targets_widget.targets() == wanted


def test_the_table_lists_the_connected_target_first_then_the_stored_ones(rig: Rig) -> None:
    assert rig.pane.targets_widget.texts() == [
        ["connected", "111111111111", "us-east-1", "profile base (the AWS box above)"],
        ["prod-eu", "123456789012", "eu-west-1", "profile dr-admin"],
    ]


def test_add_a_role_target_with_a_bad_field_first(rig: Rig, qtbot: QtBot, tmp_path: Path) -> None:
    widget = rig.pane.targets_widget
    qtbot.mouseClick(widget.add_button, Qt.MouseButton.LeftButton)
    dialog = widget.dialog()
    assert dialog is not None and dialog.isVisible()
    dialog.how_combo.setCurrentIndex(dialog.how_combo.findData(ROLE))
    assert dialog.edits["profile"].isHidden() and not dialog.edits["role_arn"].isHidden()
    type_into(
        dialog,
        name="prod-eu",  # taken
        account="21098765432",  # 11 digits
        region="us-west-2",
        role_arn=ROLE_ARN,
        source_profile="base",
        external_id="ext-5a1d",
    )
    dialog.save()
    errors = dialog.error_texts()
    assert "duplicate target name 'prod-eu'" in errors["name"]
    assert "is not an AWS account ID (12 digits)" in errors["account"]
    assert set(errors) == {"name", "account"}
    assert dialog.isVisible() and dialog.edits["role_arn"].text() == ROLE_ARN  # nothing typed is lost
    assert listed_targets(rig.db) == (PROD,)
    shot = Path(os.environ.get("DRS_SCREENSHOTS", str(tmp_path))) / "settings-target-dialog.png"
    assert dialog.grab().save(str(shot))

    type_into(dialog, name="recovery", account="210987654321")
    dialog.save()
    wanted = PlanTarget(
        "recovery",
        account="210987654321",
        region="us-west-2",
        role_arn=ROLE_ARN,
        source_profile="base",
        external_id="ext-5a1d",
    )
    saved(rig, qtbot, (PROD, wanted))
    assert widget.texts()[2] == [
        "recovery",
        "210987654321",
        "us-west-2",
        "role DrsOperator from base (external ID)",
    ]
    shot = Path(os.environ.get("DRS_SCREENSHOTS", str(tmp_path))) / "settings-targets.png"
    rig.pane.resize(900, 1000)
    assert rig.pane.grab().save(str(shot))


def test_edit_then_remove(rig: Rig, qtbot: QtBot) -> None:
    widget = rig.pane.targets_widget
    assert not widget.edit_button.isEnabled()
    widget.select(0)
    assert widget.edit_button.isEnabled() and widget.remove_button.isEnabled()
    dialog = widget.edit()
    assert dialog is not None and dialog.edits["profile"].text() == "dr-admin"
    type_into(dialog, region="eu-central-1", profile="AKIAIOSFODNN7EXAMPLE")
    dialog.save()
    assert "never holds a secret" in dialog.error_texts()["profile"]
    assert "AKIAIOSFODNN7EXAMPLE" not in " ".join(dialog.error_texts().values())
    type_into(dialog, profile="base")
    dialog.save()
    moved = PlanTarget("prod-eu", account="123456789012", region="eu-central-1", profile="base")
    saved(rig, qtbot, (moved,))
    widget.select(0)
    with qtbot.waitSignal(rig.pane.targets_changed, timeout=TIMEOUT) as changed:
        qtbot.mouseClick(widget.remove_button, Qt.MouseButton.LeftButton)
    assert changed.args == [()]
    assert listed_targets(rig.db) == ()
    assert widget.texts() == [["connected", "111111111111", "us-east-1", "profile base (the AWS box above)"]]
