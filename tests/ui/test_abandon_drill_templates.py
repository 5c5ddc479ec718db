"""Abandoning a drill that may have left launch templates pointed at the drill network: the dialog names
them and the command that sets them back (issue 16 item 4), shell-quoted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from drs_desktop.domain.engine.drill_net_events import TemplatesPointRequested
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.views.stranded import StrandedRun, what_is_in_drs
from drs_desktop.ui.executions.abandon_dialog import AbandonDialog, explanation
from tests.engine.helpers import T0
from tests.engine.test_drill_net import S1, S2, Journal


def record(plan_name: str) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id="e-1",
        plan_id="p",
        plan_revision_id="r",
        plan_name=plan_name,
        plan_revision=1,
        mode="DRILL",
        status="RUNNING",
        started_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        options={"target": {"endpoint_url": None, "region": "eu-west-1", "profile": "prod"}},
        identity={},
    )


def test_the_abandon_dialog_names_the_templates_maybe_left_pointed_and_the_restore_command(qtbot) -> None:  # type: ignore[no-untyped-def]
    j = Journal()
    j(TemplatesPointRequested(server_ids=(S1, S2), at=T0))  # the answers were never journaled
    run = what_is_in_drs(StrandedRun(record("Shop & Co's"), "its target is elsewhere", gone=False), j.state)
    assert set(run.templates_maybe_pointed) == {S1, S2} and run.in_drs
    text = explanation(run)
    assert "drs-desktop launch-settings restore --plan 'Shop & Co'\"'\"'s'" in text, text
    assert S1 in text and S2 in text
    dialog = AbandonDialog(run)
    qtbot.addWidget(dialog)
    assert not dialog.end_button.isEnabled(), "ended before the operator took the templates on"
    assert dialog.check_box is not None
    dialog.check_box.setChecked(True)
    assert dialog.end_button.isEnabled()
    # a drill whose templates were all put back says nothing about them
    clean = replace(run, templates_maybe_pointed=())
    assert "launch-settings restore" not in explanation(clean)
