"""The plan editor's automation steps, driven through the real widgets offscreen: add each kind through its
form, edit it, remove it, undo and redo, a bad payload refused as it is typed, and the saved plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.automation import (
    AUTOMATION_STEPS,
    AutomationStep,
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.revisions import PlanRevision
from drs_desktop.ui.plans.automation_step_dialog import AutomationStepDialog
from drs_desktop.ui.plans.health_check_form import HealthCheckForm
from drs_desktop.ui.plans.lambda_step_form import LambdaStepForm
from drs_desktop.ui.plans.plan_editor_widget import PlanEditorWidget
from drs_desktop.ui.plans.script_step_form import ScriptStepForm
from drs_desktop.ui.plans.ssm_step_form import SsmStepForm
from drs_desktop.ui.plans.step_text import describe_step
from drs_desktop.ui.plans.steps_editor_widget import StepsEditorWidget
from tests.ui.plan_helpers import A, B, sample_inventory, sample_plan

REVISION = PlanRevision("id-1", "Payroll", 1, datetime(2025, 1, 1, tzinfo=UTC), "hash")


@pytest.fixture
def editor(qtbot: QtBot) -> PlanEditorWidget:
    widget = PlanEditorWidget()
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.set_inventory(sample_inventory())
    widget.load_plan(sample_plan(), REVISION)
    widget.select_refs([("wave", "DB")])
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def current(editor: PlanEditorWidget) -> RecoveryPlan:
    plan = editor.plan()
    assert plan is not None
    return plan


def after_steps(editor: PlanEditorWidget) -> StepsEditorWidget:
    return editor.wave_properties.after_steps


def open_add(editor: PlanEditorWidget, kind: str) -> AutomationStepDialog:
    steps = after_steps(editor)
    steps.add_actions[kind].trigger()
    dialog = steps.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


# -------------------------------------------------------------------------- filling each form


def fill_health_check(form: object) -> None:
    assert isinstance(form, HealthCheckForm)
    form.name_edit.setText("db up")
    form.probe_combo.setCurrentIndex(form.probe_combo.findData(Probe.HTTP))
    form.port_spin.setValue(8080)
    form.path_edit.setText("/health")
    form.body_edit.setText("ok")
    form.servers.set_checked(A)
    form.servers.set_checked(B)
    form.must_pass_spin.setValue(1)


def fill_ssm(form: object) -> None:
    assert isinstance(form, SsmStepForm)
    form.name_edit.setText("patch")
    form.document_edit.setText("AWS-RunShellScript")
    form.parameters.add_row("commands", "systemctl restart app")
    form.parameters.add_row("commands", "curl -fsS localhost:8080")
    form.parameters.add_row("workingDirectory", "/srv")
    form.servers.set_checked(B)
    form.policy.on_failure_combo.setCurrentIndex(form.policy.on_failure_combo.findData(OnFailure.FAIL_WAVE))


def fill_lambda(form: object) -> None:
    assert isinstance(form, LambdaStepForm)
    form.name_edit.setText("dns")
    form.function_edit.setText("move-dns:live")
    form.payload_edit.setPlainText('{"zone": "example.com", "ttl": 60}')
    form.policy.run_in_combo.setCurrentIndex(form.policy.run_in_combo.findData(RunIn.RECOVERY))


def fill_script(form: object) -> None:
    assert isinstance(form, ScriptStepForm)
    form.name_edit.setText("smoke")
    form.path_edit.setText("/opt/runbooks/smoke test.sh")
    form.arguments_edit.setText('--fast "two words"')
    form.environment.add_row("APP_URL", "http://app.internal:8080/?a=b")
    form.policy.timeout_spin.setValue(90)
    form.policy.timeout_unit.setCurrentIndex(0)  # seconds
    form.policy.retries_spin.setValue(2)
    form.policy.on_failure_combo.setCurrentIndex(form.policy.on_failure_combo.findData(OnFailure.WARN))


CASES: dict[str, tuple[Callable[[object], None], AutomationStep]] = {
    "health-check": (
        fill_health_check,
        HealthCheckStep(
            "db up", Probe.HTTP, 8080, servers=(A, B), path="/health", expect_body="ok", must_pass=1
        ),
    ),
    "ssm": (
        fill_ssm,
        SsmStep(
            "patch",
            "AWS-RunShellScript",
            {
                "commands": ("systemctl restart app", "curl -fsS localhost:8080"),
                "workingDirectory": ("/srv",),
            },
            servers=(B,),
            policy=StepPolicy(on_failure=OnFailure.FAIL_WAVE),
        ),
    ),
    "lambda": (
        fill_lambda,
        LambdaStep(
            "dns",
            "move-dns:live",
            {"zone": "example.com", "ttl": 60},
            policy=StepPolicy(run_in=RunIn.RECOVERY),
        ),
    ),
    "script": (
        fill_script,
        ScriptStep(
            "smoke",
            "/opt/runbooks/smoke test.sh",
            ("--fast", "two words"),
            {"APP_URL": "http://app.internal:8080/?a=b"},
            policy=StepPolicy(timeout_seconds=90, retries=2, on_failure=OnFailure.WARN),
        ),
    ),
}


def test_add_step_offers_every_kind(editor: PlanEditorWidget) -> None:
    titles = [a.text() for a in after_steps(editor).add_menu.actions() if not a.isSeparator()]
    assert titles == [
        "Approval",
        "Wait",
        "Health check…",
        "SSM document…",
        "Lambda function…",
        "Local script…",
    ]


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_added_through_its_form_and_undone(editor: PlanEditorWidget, kind: str) -> None:
    fill, expected = CASES[kind]
    before = current(editor)
    dialog = open_add(editor, kind)
    assert not dialog.ok_button.isEnabled()  # an empty form: no name yet
    fill(dialog.form)
    assert dialog.problem() == ""
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    assert not dialog.isVisible()
    wave = current(editor).waves[1]
    assert wave.after == (expected,)
    steps = after_steps(editor)
    assert steps.list.item(0).text() == describe_step(expected)
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert current(editor) == before
    editor.undo_stack.redo()
    assert current(editor).waves[1].after == (expected,)


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_edited_in_its_form(editor: PlanEditorWidget, kind: str) -> None:
    fill, expected = CASES[kind]
    dialog = open_add(editor, kind)
    fill(dialog.form)
    dialog.ok_button.click()
    steps = after_steps(editor)
    steps.select(0)
    assert steps.summary_label.text() == describe_step(expected)
    steps.edit_button.click()
    edit = steps.dialog
    assert edit is not None and edit is not dialog
    assert edit.step() == expected  # the form shows the step as it is: accepting it changes nothing
    edit.form.name_edit.setText("renamed")
    edit.form.policy.retries_spin.setValue(3)
    edit.ok_button.click()
    changed = current(editor).waves[1].after[0]
    assert type(changed) is type(expected)
    assert isinstance(changed, AUTOMATION_STEPS)
    assert changed.name == "renamed" and changed.policy.retries == 3
    assert editor.undo_stack.count() == 2
    editor.undo_stack.undo()
    assert current(editor).waves[1].after == (expected,)


def test_a_form_accepted_unchanged_is_no_edit(editor: PlanEditorWidget) -> None:
    fill, _expected = CASES["ssm"]
    dialog = open_add(editor, "ssm")
    fill(dialog.form)
    dialog.ok_button.click()
    steps = after_steps(editor)
    steps.select(0)
    steps.edit_current()
    assert steps.dialog is not None
    steps.dialog.ok_button.click()
    assert editor.undo_stack.count() == 1


def test_a_bad_payload_is_refused_as_it_is_typed(editor: PlanEditorWidget, qtbot: QtBot) -> None:
    dialog = open_add(editor, "lambda")
    form = dialog.form
    assert isinstance(form, LambdaStepForm)
    form.name_edit.setText("dns")
    form.function_edit.setText("move-dns")
    assert dialog.ok_button.isEnabled()  # an empty payload is an empty object
    qtbot.keyClicks(form.payload_edit, '{"zone": ')
    assert dialog.problem().startswith("Payload: line 1, column 10")
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # Enter in the dialog: refused too
    assert dialog.isVisible() and current(editor).waves[1].after == ()
    qtbot.keyClicks(form.payload_edit, '"example.com"}')
    assert dialog.problem() == "" and dialog.ok_button.isEnabled()
    form.payload_edit.setPlainText("[1, 2]")
    assert "must be a JSON object" in dialog.problem()
    form.payload_edit.setPlainText('{"db": {"password": "hunter2"}}')
    assert "looks like a secret" in dialog.problem() and not dialog.ok_button.isEnabled()


def test_other_unreadable_fields_disable_ok(editor: PlanEditorWidget) -> None:
    dialog = open_add(editor, "script")
    fill_script(dialog.form)
    form = dialog.form
    assert isinstance(form, ScriptStepForm)
    form.arguments_edit.setText('--name "unclosed')
    assert "Arguments: No closing quotation" in dialog.problem()
    assert not dialog.ok_button.isEnabled()
    form.arguments_edit.setText("--fast")
    form.environment.add_row("APP_URL", "again")
    assert "'APP_URL' is set twice" in dialog.problem()
    form.environment.set_rows([("", "a value")])
    assert "no variable" in dialog.problem()
    form.environment.set_rows([])
    form.path_edit.setText("smoke.sh")
    assert dialog.problem().startswith("Program: must be an absolute path")


def test_cancel_adds_nothing(editor: PlanEditorWidget) -> None:
    before = current(editor)
    dialog = open_add(editor, "health-check")
    fill_health_check(dialog.form)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert current(editor) == before and editor.undo_stack.count() == 0
    assert after_steps(editor).dialog is None


def test_removing_an_automation_step_undoes(editor: PlanEditorWidget) -> None:
    dialog = open_add(editor, "lambda")
    fill_lambda(dialog.form)
    dialog.ok_button.click()
    with_step = current(editor)
    steps = after_steps(editor)
    steps.select(0)
    steps.remove_button.click()
    assert current(editor).waves[1].after == ()
    editor.undo_stack.undo()
    assert current(editor) == with_step


def test_servers_are_the_waves_own_with_hostnames(editor: PlanEditorWidget) -> None:
    dialog = open_add(editor, "health-check")
    form = dialog.form
    assert isinstance(form, HealthCheckForm)
    labels = [form.servers.list.item(row).text() for row in range(form.servers.list.count())]
    assert labels == [f"db-01 ({A})", f"db-02 ({B})"]
    assert form.servers.hint.text() == "None checked: runs on every server of the wave."
    dialog.reject()
    editor.select_refs([("wave", "Web")])
    dialog = open_add(editor, "ssm")
    form = dialog.form
    assert isinstance(form, SsmStepForm)
    ids = [form.servers.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(form.servers.list.count())]
    assert A not in ids and len(ids) == 2  # Web's servers, not DB's


def test_a_tag_selector_wave_offers_the_servers_it_selects(qtbot: QtBot) -> None:
    editor = PlanEditorWidget()
    qtbot.addWidget(editor)
    plan = sample_plan()
    editor.set_inventory(sample_inventory())
    editor.load_plan(
        RecoveryPlan("Tags", protection_groups=plan.protection_groups, waves=(Wave("W", ("dbs",)),))
    )
    dialog = open_add(editor, "health-check")
    form = dialog.form
    assert isinstance(form, HealthCheckForm)
    ids = [form.servers.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(form.servers.list.count())]
    assert ids == [A, B]


def test_a_step_naming_a_server_the_wave_lost_keeps_it(editor: PlanEditorWidget) -> None:
    step = HealthCheckStep("db up", Probe.TCP, 5432, servers=("s-00000000000000099",))
    editor.add_step("after", step)
    steps = after_steps(editor)
    steps.select(0)
    dialog = steps.edit_current()
    assert dialog is not None
    form = dialog.form
    assert isinstance(form, HealthCheckForm)
    assert form.servers.list.item(2).text() == "s-00000000000000099 (not in this wave)"
    assert dialog.step() == step


def test_health_check_fields_follow_the_choices(editor: PlanEditorWidget) -> None:
    dialog = open_add(editor, "health-check")
    form = dialog.form
    assert isinstance(form, HealthCheckForm)
    form.name_edit.setText("port")
    form.probe_combo.setCurrentIndex(form.probe_combo.findData(Probe.TCP))
    assert not form.path_edit.isEnabled() and not form.body_edit.isEnabled()
    form.reach_combo.setCurrentIndex(form.reach_combo.findData(Reach.SSM))
    assert form.via_edit.isEnabled()
    assert "EC2 instance" in dialog.problem()
    form.via_edit.setText("i-0123456789abcdef0")
    assert dialog.problem() == ""
    dialog.ok_button.click()
    step = current(editor).waves[1].after[0]
    assert isinstance(step, HealthCheckStep)
    assert (step.probe, step.expect_status, step.reach, step.via) == (
        Probe.TCP,
        200,  # the model's default, ignored by a TCP probe
        Reach.SSM,
        "i-0123456789abcdef0",
    )


def test_the_script_form_chooses_a_file_and_says_it_is_not_trusted(editor: PlanEditorWidget) -> None:
    dialog = open_add(editor, "script")
    form = dialog.form
    assert isinstance(form, ScriptStepForm)
    assert form.trust_note.isVisible()
    assert "before its first run" in form.trust_note.text()
    form.browse_button.click()
    chooser = form.file_dialog
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    chooser.fileSelected.emit("/opt/runbooks/failover.sh")
    chooser.reject()
    assert form.path_edit.text() == "/opt/runbooks/failover.sh"


def test_the_saved_plan_has_the_steps(editor: PlanEditorWidget, qtbot: QtBot) -> None:
    for kind, (fill, _expected) in CASES.items():
        dialog = open_add(editor, kind)
        fill(dialog.form)
        dialog.ok_button.click()
    with qtbot.waitSignal(editor.save_requested) as saved:
        editor.save()
    plan = saved.args[0]
    assert isinstance(plan, RecoveryPlan)
    assert plan.waves[1].after == tuple(expected for _fill, expected in CASES.values())
    assert plan.waves[2].after == (WaitStep(5),)  # the other waves' steps untouched


def test_the_step_line_says_what_where_how_long_and_on_failure() -> None:
    step = HealthCheckStep("db up", Probe.HTTP, 8080, servers=(A, B), path="/health")
    assert (
        describe_step(step) == "Health check 'db up': HTTP :8080/health on 2 servers, 5 min, hold on failure"
    )
    ssm = SsmStep("patch", "AWS-RunShellScript", policy=StepPolicy(3600, 1, OnFailure.FAIL_WAVE, RunIn.DRILL))
    assert describe_step(ssm) == (
        "SSM document 'patch': AWS-RunShellScript on the wave's servers, 1 h, 1 retry, "
        "fail the wave on failure, drill only"
    )
