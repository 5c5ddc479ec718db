"""Native DRS recovery plans in the Plans pane: the link line, the publish dialog (a plan that fits, one
that does not and its nearest plan), import, drift shown and both resolutions. Real widgets offscreen,
the ``aws`` task thread's ``NativeDesk`` on the simulator over loopback HTTP with the real boto3 client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_plans import NativePlansGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.secrets import SecretStore
from drs_desktop.services import native_plans as service
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from drs_desktop.ui.plans.native_drift_dialog import NativeDriftDialog
from drs_desktop.ui.plans.native_import_dialog import NativeImportDialog
from drs_desktop.ui.plans.native_publish_dialog import NativePublishDialog
from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
from tests.services.settings_fixtures import db_fixture, memory_keyring_fixture  # noqa: F401
from tests.ui.pane_tasks import pane_threads

TIMEOUT = 15_000


@dataclass
class Rig:
    pane: PlansPaneWidget
    sim: EmbeddedSimulator
    db: Database
    servers: list[str]

    def client(self) -> Any:
        return boto3.client("drs", **self.sim.client_kwargs())

    def target(self) -> str:
        return f"{self.sim.account_id}/{self.sim.region}"


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def rig(qtbot: QtBot, db: Database, memory_keyring: object, sim: EmbeddedSimulator) -> Iterator[Rig]:
    resolver = ConnectionResolver(db, SecretStore(), demo_endpoint=sim.endpoint_url, demo_region=sim.region)
    servers = sorted(s["sourceServerID"] for s in _client(sim).describe_source_servers()["items"])
    with pane_threads(db, resolver, native_clock=sim.clock.now) as threads:
        pane = PlansPaneWidget(clock=sim.clock.now)
        qtbot.addWidget(pane)
        pane.connect_tasks(threads.local)
        pane.connect_native(threads.aws)
        pane.resize(1300, 700)
        pane.show()
        qtbot.waitExposed(pane)
        yield Rig(pane, sim, db, servers)


def _client(sim: EmbeddedSimulator) -> Any:
    return boto3.client("drs", **sim.client_kwargs())


def _plan(servers: list[str], name: str = "Payments") -> RecoveryPlan:
    waves = tuple(
        Wave(
            f"Tier {i + 1}",
            servers=tuple(servers[2 * i : 2 * i + 2]),
            before=(WaitStep(5),) if i == 1 else (),
        )
        for i in range(3)
    )
    return RecoveryPlan(name=name, description="test plan", waves=waves)


def _read(rig: Rig, qtbot: QtBot) -> None:
    """Refresh the list and DRS's links; wait until both are shown."""
    with qtbot.waitSignal(rig.pane.native.reading_changed, timeout=TIMEOUT):
        rig.pane.refresh()
    qtbot.waitUntil(lambda: not rig.pane.native.is_reading(), timeout=TIMEOUT)


def _open(rig: Rig, qtbot: QtBot, name: str) -> None:
    rig.pane.open_plan(name)
    qtbot.waitUntil(lambda: rig.pane.editor.stored_name() == name, timeout=TIMEOUT)


def _row(pane: PlansPaneWidget, name: str) -> Any:
    items = [pane.plan_list.topLevelItem(i) for i in range(pane.plan_list.topLevelItemCount())]
    return next(item for item in items if item is not None and item.text(0) == name)


def _idle(dialog: Any, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=TIMEOUT)


def _wait_steps(rig: Rig, plan_arn: str) -> list[int]:
    items = rig.client().list_recovery_plan_steps(recoveryPlanArn=plan_arn)["recoveryPlanSteps"]
    return [
        s["configuration"]["waitStepConfiguration"]["waitDurationMinutes"]
        for s in sorted(items, key=lambda s: s["stepOrder"])
        if "waitStepConfiguration" in s["configuration"]
    ]


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("DRS_DESKTOP_SCREENSHOTS")
    if folder:
        widget.grab().save(os.path.join(folder, name))


def test_link_line_and_publishing_a_plan_that_fits(rig: Rig, qtbot: QtBot) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    _read(rig, qtbot)
    _open(rig, qtbot, "Payments")
    pane = rig.pane
    assert pane.native.line.text() == "Not published to DRS."
    assert _row(pane, "Payments").text(3) == "—"
    assert rig.target() in pane.native.stamp.text() and " read " in pane.native.stamp.text()

    qtbot.mouseClick(pane.native.publish_button, Qt.MouseButton.LeftButton)
    dialog = pane.native.findChild(NativePublishDialog)
    assert dialog is not None and dialog.isVisible()
    _idle(dialog, qtbot)
    assert dialog.status_text() == "Publishing 'Payments' revision 1 will send to DRS:"
    details = dialog.details_text()
    assert "create native plan 'Payments'" in details and "create step 'Tier 1'" in details
    assert "DRS read " in details  # when the preview read DRS
    assert dialog.publish_button.isEnabled() and not dialog.nearest_button.isVisible()
    assert rig.client().list_recovery_plans()["recoveryPlans"] == []  # the preview sent nothing
    _shot(dialog, "native_publish_preview.png")

    with qtbot.waitSignal(pane.native.reading_changed, timeout=TIMEOUT):
        with qtbot.waitSignal(dialog.published, timeout=TIMEOUT) as sent:
            qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
            assert dialog.is_busy() and dialog.busy_bar.isVisible()
    result = sent.args[0]
    assert dialog.status_text() == f"Published 'Payments' revision 1 as {result.plan_arn}."
    assert "created step 'Tier 3'" in dialog.details_text() and not dialog.publish_button.isEnabled()
    (native,) = rig.client().list_recovery_plans()["recoveryPlans"]
    assert native["recoveryPlanArn"] == result.plan_arn and _wait_steps(rig, result.plan_arn) == [5]
    line = pane.native.line.text()
    assert line.startswith(f"Published revision 1 to 'Payments' in {rig.target()} at ") and line.endswith(
        " UTC."
    )
    assert _row(pane, "Payments").text(3) == "rev 1"
    assert not pane.native.drift_button.isEnabled()

    # An edit saved since: the line says the DRS copy is behind.
    edited = _plan(rig.servers)
    plan_store.save_plan(
        rig.db, RecoveryPlan(name=edited.name, waves=edited.waves[:2], description="two tiers")
    )
    _read(rig, qtbot)
    assert pane.native.line.text().endswith("; unpublished edits since (latest is revision 2).")
    assert _row(pane, "Payments").text(3) == "rev 1, edited"


def test_a_plan_that_does_not_fit_lists_its_problems_and_its_nearest_plan_is_saved_then_published(
    rig: Rig, qtbot: QtBot
) -> None:
    gated = Wave("Gated", servers=(rig.servers[0],), before=(ApprovalStep("go?"),))
    plan_store.save_plan(rig.db, RecoveryPlan(name="Gates", waves=(gated,)))
    _read(rig, qtbot)
    _open(rig, qtbot, "Gates")
    dialog = rig.pane.native.open_publish()
    assert dialog is not None
    _idle(dialog, qtbot)
    assert dialog.status_text().startswith("'Gates' revision 1 does not fit a native DRS plan:")
    details = dialog.details_text().splitlines()
    assert details.pop(0) == "Problems:"
    assert details[0].startswith("  " + "wave 1 'Gated', before step 1: An approval waits for a person")
    assert "The nearest plan that fits would change:" in details
    assert dialog.nearest_button.isVisible() and not dialog.publish_button.isEnabled()
    _shot(dialog, "native_publish_does_not_fit.png")

    with qtbot.waitSignal(dialog.plan_saved, timeout=TIMEOUT) as saved:
        qtbot.mouseClick(dialog.nearest_button, Qt.MouseButton.LeftButton)
    assert saved.args[0].revision == 2
    _idle(dialog, qtbot)
    assert (
        dialog.status_text()
        == "Saved the nearest plan as revision 2. Publishing 'Gates' revision 2 will send to DRS:"
    )
    assert not dialog.nearest_button.isVisible()
    first = plan_store.get_plan(rig.db, "Gates", 1)
    second = plan_store.get_plan(rig.db, "Gates")
    assert first.waves[0].before == (ApprovalStep("go?"),)  # the operator's revision is kept as it was
    assert isinstance(second.waves[0].before[0], WaitStep)

    with qtbot.waitSignal(dialog.published, timeout=TIMEOUT) as sent:
        qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    assert sent.args[0].revision == 2 and sent.args[0].outcome == "published"
    assert _wait_steps(rig, sent.args[0].plan_arn) == [second.waves[0].before[0].minutes]
    qtbot.waitUntil(lambda: rig.pane.native.line.text().startswith("Published revision 2 to 'Gates'"))


def test_publish_refuses_a_revision_saved_after_the_preview(rig: Rig, qtbot: QtBot) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    _read(rig, qtbot)
    _open(rig, qtbot, "Payments")
    dialog = rig.pane.native.open_publish()
    assert dialog is not None
    _idle(dialog, qtbot)
    edited = _plan(rig.servers)
    plan_store.save_plan(rig.db, RecoveryPlan(name=edited.name, waves=edited.waves[:1]))
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    _idle(dialog, qtbot)
    assert dialog.status_text().startswith("Not published: plan 'Payments' is at revision 2 now, not 1")
    assert rig.client().list_recovery_plans()["recoveryPlans"] == []


def test_import_lists_native_plans_marks_linked_ones_imports_the_chosen_and_says_what_was_skipped(
    rig: Rig, qtbot: QtBot
) -> None:
    client = rig.client()
    arns = {s["sourceServerID"]: s["arn"] for s in client.describe_source_servers()["items"]}
    console = client.create_recovery_plan(name="Console plan", description="made in the console")
    server_config = {"servers": [{"serverArn": arns[rig.servers[5]], "impactLevel": "CRITICAL"}]}
    client.create_recovery_plan_step(
        recoveryPlanArn=console["recoveryPlan"]["recoveryPlanArn"],
        stepName="Web",
        configuration={"serverStepConfiguration": server_config},
    )
    client.create_recovery_plan(name="Orders", description="a local plan has this name")
    plan_store.save_plan(rig.db, _plan(rig.servers))
    plan_store.save_plan(rig.db, _plan(rig.servers[6:], name="Orders"))
    drs = DrsGateway(AwsTarget(profile=None, region=rig.sim.region, endpoint_url=rig.sim.endpoint_url))
    try:
        assert service.publish(rig.db, NativePlansGateway(drs), "Payments").outcome == "published"
    finally:
        drs.close()
    _read(rig, qtbot)

    qtbot.mouseClick(rig.pane.native.import_button, Qt.MouseButton.LeftButton)
    dialog = rig.pane.native.findChild(NativeImportDialog)
    assert dialog is not None
    _idle(dialog, qtbot)
    assert dialog.rows() == [
        ("Console plan", "", True),
        ("Orders", "", True),
        ("Payments", "'Payments' (revision 1)", False),
    ]
    assert dialog.status_text() == "3 native plan(s), 1 linked already, 2 to choose from."
    assert not dialog.import_button.isEnabled()
    dialog.set_checked(["Console plan", "Orders"])
    assert dialog.import_button.text() == "Import 2 plans"
    _shot(dialog, "native_import.png")

    with qtbot.waitSignal(rig.pane.plans_changed, timeout=TIMEOUT):
        with qtbot.waitSignal(dialog.imported, timeout=TIMEOUT):
            qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    _idle(dialog, qtbot)
    lines = dialog.status_text().splitlines()
    assert lines[0].startswith("Imported 'Console plan' as revision 1 (from arn:")
    assert lines[1] == "Skipped 'Orders': a local plan of that name exists; rename it to import this one"
    assert ("Console plan", "'Console plan' (revision 1)", False) in dialog.rows()
    qtbot.waitUntil(lambda: "Console plan" in rig.pane.plan_names(), timeout=TIMEOUT)
    assert plan_store.get_plan(rig.db, "Console plan").waves[0].servers == (rig.servers[5],)


def test_drift_is_shown_then_ours_wins_then_theirs(rig: Rig, qtbot: QtBot) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    drs = DrsGateway(AwsTarget(profile=None, region=rig.sim.region, endpoint_url=rig.sim.endpoint_url))
    try:
        plan_arn = service.publish(rig.db, NativePlansGateway(drs), "Payments").plan_arn
    finally:
        drs.close()
    client = rig.client()
    steps = client.list_recovery_plan_steps(recoveryPlanArn=plan_arn)["recoveryPlanSteps"]
    wait = next(s for s in steps if "waitStepConfiguration" in s["configuration"])

    def set_wait(minutes: int) -> None:
        client.update_recovery_plan_step(
            recoveryPlanStepArn=wait["recoveryPlanStepArn"],
            configuration={"waitStepConfiguration": {"waitDurationMinutes": minutes}},
        )

    set_wait(30)
    _read(rig, qtbot)
    _open(rig, qtbot, "Payments")
    pane = rig.pane
    assert pane.native.line.text().startswith(
        f"Drift: changed in DRS since the publish of revision 1 to 'Payments' in {rig.target()}"
    )
    row = _row(pane, "Payments")
    assert row.text(3) == "drift" and not row.icon(3).isNull()
    assert pane.native.drift_button.isEnabled()
    _shot(pane, "native_plans_pane_drift.png")

    qtbot.mouseClick(pane.native.drift_button, Qt.MouseButton.LeftButton)
    dialog = pane.native.findChild(NativeDriftDialog)
    assert dialog is not None
    _idle(dialog, qtbot)
    assert dialog.status_text() == "'Payments': changed in DRS since revision 1 was published."
    assert f"Step {wait['stepName']!r} waits 30 minutes in DRS, not 5." in dialog.details_text()
    assert dialog.details_text().startswith("DRS read ")
    assert dialog.keep_line.text() == (
        "Publishes revision 1 of 'Payments' over DRS's plan: the changes made in DRS are undone."
    )
    assert dialog.take_line.text() == (
        "Saves DRS's steps as revision 2 of 'Payments' and links it: nothing is sent to DRS."
    )
    _shot(dialog, "native_drift.png")

    asked: list[str] = []

    def answer(yes: bool) -> Any:
        def confirm(title: str, line: str) -> bool:
            assert line.startswith((dialog.keep_line.text(), dialog.take_line.text()))  # its line, asked
            if title == "Take DRS's":  # and what the plan loses, before anything is saved
                assert "The plan changes (and loses):" in line and "[wait 45 min]" in line
            asked.append(title)
            return yes

        return confirm

    dialog.confirm = answer(False)
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    assert asked == ["Keep ours"] and not dialog.is_busy() and _wait_steps(rig, plan_arn) == [30]

    dialog.confirm = answer(True)
    with qtbot.waitSignal(dialog.resolved, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    _idle(dialog, qtbot)
    assert dialog.status_text().startswith("No drift: DRS's plan is as revision 1 of 'Payments'")
    assert _wait_steps(rig, plan_arn) == [5] and not dialog.keep_button.isEnabled()
    qtbot.waitUntil(lambda: pane.native.line.text().startswith("Published revision 1"), timeout=TIMEOUT)

    set_wait(45)
    dialog.request_diff()
    _idle(dialog, qtbot)
    assert "waits 45 minutes in DRS, not 5." in dialog.details_text()
    with qtbot.waitSignal(dialog.resolved, timeout=TIMEOUT) as taken:
        qtbot.mouseClick(dialog.take_button, Qt.MouseButton.LeftButton)
    assert asked == ["Keep ours", "Keep ours", "Take DRS's"] and taken.args[0].revision == 2
    _idle(dialog, qtbot)
    assert dialog.status_text().startswith("No drift: DRS's plan is as revision 2 of 'Payments'")
    assert dialog.keep_line.text().startswith("Publishes revision 2 of 'Payments'")  # said anew
    assert dialog.take_line.text().startswith("Saves DRS's steps as revision 3 of 'Payments'")
    assert plan_store.get_plan(rig.db, "Payments").waves[1].before == (WaitStep(45),)
    assert _wait_steps(rig, plan_arn) == [45]  # nothing was sent
    qtbot.waitUntil(lambda: pane.native.line.text().startswith("Published revision 2"), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: getattr(pane.editor.revision(), "revision", 0) == 2, timeout=TIMEOUT)


def test_a_failed_reading_never_passes_the_old_one_for_new_and_says_one_thing_before_any(
    rig: Rig, qtbot: QtBot
) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    pane = rig.pane
    rig.sim.faults.server_errors("ListRecoveryPlans")
    with qtbot.waitSignal(pane.native.reading_failed, timeout=TIMEOUT):
        pane.refresh()
    _open(rig, qtbot, "Payments")
    assert pane.native.line.text().startswith("DRS could not be read:")
    assert pane.native.stamp.text() == ""  # not "not read yet" and a failure at once
    rig.sim.faults.clear()
    _read(rig, qtbot)
    service.publish(rig.db, _native(rig), "Payments", sleep=lambda _s: None)
    _read(rig, qtbot)
    assert pane.native.line.text().startswith("Published revision 1")
    assert _row(pane, "Payments").text(3) == "rev 1"
    rig.sim.clock.advance(600)
    rig.sim.faults.server_errors("ListRecoveryPlans")
    with qtbot.waitSignal(pane.native.reading_failed, timeout=TIMEOUT):
        pane.native.refresh()
    line, stamp = pane.native.line.text(), pane.native.stamp.text()
    assert line.startswith("As DRS was read ") and "Published revision 1" in line
    assert "reading it again failed" in stamp and rig.target() in stamp
    row = _row(pane, "Payments")
    assert row.text(3).startswith("rev 1 (read ") and "reading it again failed" in row.toolTip(3)


def test_unlink_forgets_the_link_once_confirmed(rig: Rig, qtbot: QtBot) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    service.publish(rig.db, _native(rig), "Payments", sleep=lambda _s: None)
    _read(rig, qtbot)
    _open(rig, qtbot, "Payments")
    pane = rig.pane
    assert pane.native.unlink_button.isEnabled()
    asked: list[str] = []

    def confirm(name: str) -> bool:
        asked.append(name)
        return len(asked) > 1  # no the first time, yes the second

    pane.native.confirm_unlink = confirm
    qtbot.mouseClick(pane.native.unlink_button, Qt.MouseButton.LeftButton)
    assert asked == ["Payments"] and pane.native.line.text().startswith("Published revision 1")
    with qtbot.waitSignal(pane.native.reading_changed, timeout=TIMEOUT):
        qtbot.mouseClick(pane.native.unlink_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.native.line.text() == "Not published to DRS.", timeout=TIMEOUT)
    assert not pane.native.unlink_button.isEnabled()
    assert len(rig.client().list_recovery_plans()["recoveryPlans"]) == 1  # DRS left alone


def _native(rig: Rig) -> NativePlansGateway:
    drs = DrsGateway(AwsTarget(profile=None, region=rig.sim.region, endpoint_url=rig.sim.endpoint_url))
    return NativePlansGateway(drs)


def test_the_publish_dialog_lists_drift_and_publishes_over_it_only_when_told(rig: Rig, qtbot: QtBot) -> None:
    plan_store.save_plan(rig.db, _plan(rig.servers))
    arn = service.publish(rig.db, _native(rig), "Payments", sleep=lambda _s: None).plan_arn
    client = rig.client()
    steps = client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"]
    first = min(steps, key=lambda s: s["stepOrder"])
    client.delete_recovery_plan_step(recoveryPlanStepArn=first["recoveryPlanStepArn"])
    _read(rig, qtbot)
    _open(rig, qtbot, "Payments")
    dialog = rig.pane.native.open_publish()
    assert dialog is not None
    _idle(dialog, qtbot)
    assert "Changed in DRS since the publish, undone by this one:" in dialog.details_text()
    assert "'Tier 1'" in dialog.details_text() and "DRS read " in dialog.details_text()
    assert dialog.overwrite_box.isVisible() and not dialog.publish_button.isEnabled()
    dialog.overwrite_box.setChecked(True)
    assert dialog.publish_button.isEnabled()
    with qtbot.waitSignal(dialog.published, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    assert len(client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"]) == len(steps)
