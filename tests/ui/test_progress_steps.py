"""The progress view shows each wave's automation steps as they run, and a held step is decided from the
failure banner: "Retry step", "Mark done" (with a comment for the audit) and "Fail wave" send the right
control, and the run goes on. A real drill on the simulator (DRS, EC2, SSM, Lambda over loopback HTTP,
the automation tests' world), driven from the test's thread; the widgets are real, offscreen."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.views.progress import ProgressSnapshot
from drs_desktop.domain.views.progress_steps import UNKNOWN_WARNING, StepRow
from drs_desktop.services.execution_session import ExecutionServices, ExecutionSession
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.progress_model import LAST_EVENT, PHASE, STATUS, STEP_ROLE
from drs_desktop.ui.executions.progress_widget import ProgressWidget
from tests.automation.test_automation_runs import WEB_PORT, save, scenario
from tests.ui.execution_helpers import drill_session

pytestmark = pytest.mark.timeout(180)

#: Set to a folder to keep the screenshots (looked at by hand); the tests grab them either way.
SHOTS = os.environ.get("DRS_DESKTOP_SHOTS", "")


def grab(widget: ProgressWidget, name: str, tmp_path: Path) -> None:
    widget.tree.expandAll()
    QApplication.processEvents()
    assert widget.grab().save(str(Path(SHOTS or tmp_path) / name))


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        yield database


@pytest.fixture
def services(db: Database, sim: EmbeddedSimulator) -> Iterator[ExecutionServices]:
    gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    made = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice", poll_interval_seconds=30)
    yield made
    gateway.close()


WEB_READY = HealthCheckStep(
    name="web ready",
    probe=Probe.HTTP,
    port=WEB_PORT,
    path="/health",
    expect_body="READY",
    reach=Reach.PUBLIC,
    policy=StepPolicy(timeout_seconds=60, on_failure=OnFailure.WARN),
)
SMOKE = SsmStep(
    name="smoke",
    document="Team-Smoke",
    parameters={"url": ("http://shop",)},
    policy=StepPolicy(timeout_seconds=600),
)
DNS = LambdaStep(name="dns", function="dns-cutover", payload={"zone": "shop.example"})


def drive_until(
    session: ExecutionSession, sim: EmbeddedSimulator, done: Callable[[ProgressSnapshot], bool]
) -> list[ProgressSnapshot]:
    """Drive the run on the test's thread until ``done``: each sleep first lets what runs beside the loop
    (a Lambda function) answer, then moves the virtual clock (at most 10 s)."""
    seen: list[ProgressSnapshot] = []

    def pace(seconds: float) -> float:
        session.runner.wait_beside(2.0)
        sim.clock.advance(min(max(seconds, 1.0), 10.0))
        return 0.0

    session.drive(seen.append, should_stop=lambda: bool(seen) and done(seen[-1]), pace=pace)
    assert seen and done(seen[-1]), "the run never got there"
    return seen


def step_of(snapshot: ProgressSnapshot, name: str) -> StepRow:
    return next(r for rows in snapshot.steps for r in rows if r.name == name)


def held(snapshot: ProgressSnapshot) -> bool:
    return any(r.held for rows in snapshot.steps for r in rows)


def shown_widget(qtbot: QtBot) -> tuple[ProgressWidget, list[ControlRequest]]:
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    sent: list[ControlRequest] = []
    widget.control_requested.connect(lambda _execution_id, request: sent.append(request))
    return widget, sent


def step_line(widget: ProgressWidget, wave: int, name: str) -> QModelIndex:
    """The tree's line of a step: a child of its wave, after the wave's servers."""
    model = widget.model
    parent = model.index(wave, 0)
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        step = model.step_at(index)
        if step is not None and step.name == name:
            assert row >= len(widget.snapshot().servers[wave]), "steps follow the servers"  # type: ignore[union-attr]
            assert index.data(STEP_ROLE) == step.key
            return index
    raise AssertionError(f"no line for step {name!r}")


def cell(widget: ProgressWidget, line: QModelIndex, column: int) -> str:
    return str(widget.model.index(line.row(), column, line.parent()).data())


def test_steps_show_as_they_run_and_mark_done_sends_the_comment_and_the_run_goes_on(
    qtbot: QtBot,
    qtmodeltester: object,
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    tmp_path: Path,
) -> None:
    save(db, sim, after=(WEB_READY, SMOKE))
    widget, sent = shown_widget(qtbot)
    session = drill_session(services)
    first = session.snapshot()
    widget.show_snapshot(first)
    assert [(s.name, s.status) for s in first.steps[1]] == [
        ("web ready", "NOT RUN YET"),
        ("smoke", "NOT RUN YET"),
    ]
    line = step_line(widget, 1, "web ready")
    assert cell(widget, line, 0) == "after launch: health check “web ready”"
    assert cell(widget, line, STATUS) == "NOT RUN YET"

    seen = drive_until(session, sim, held)
    doing = [step_of(s, "web ready").doing for s in seen if step_of(s, "web ready").status == "RUNNING"]
    assert any(d == "probing: 1 of 2 passed (2 needed)" for d in doing), doing
    ssm = [step_of(s, "smoke").doing for s in seen if step_of(s, "smoke").status == "RUNNING"]
    assert "SSM: 0 of 2 invocations done" in ssm, ssm
    running = next(s for s in seen if step_of(s, "smoke").doing == "SSM: 0 of 2 invocations done")
    assert running.waves[1].detail == "SSM document “smoke”: SSM: 0 of 2 invocations done", (
        "the wave says what it waits for"
    )

    stuck = seen[-1]
    widget.show_snapshot(stuck)
    qtmodeltester.check(widget.model)  # type: ignore[attr-defined]
    warned = step_line(widget, 1, "web ready")
    assert cell(widget, warned, STATUS) == "WARNED", "only shop-web-01 listens: it timed out, and warns"
    assert "timed out after 60 s: 1 of 2 target(s) passed" in cell(widget, warned, LAST_EVENT)
    smoke = step_line(widget, 1, "smoke")
    assert cell(widget, smoke, STATUS) == "WAITING FOR YOU"
    assert "exit 3" in cell(widget, smoke, LAST_EVENT)
    tooltip = str(smoke.data(Qt.ItemDataRole.ToolTipRole))
    assert "failed: shop-web-01 (i-" in tooltip and "exit status 3”" in tooltip, "each failed target"
    assert stuck.status is ExecutionStatus.HELD

    banner = widget.banner
    assert banner.isVisible()
    assert banner.title.text() == (
        "Wave 2 “web”: the SSM document step “smoke” (after launch) failed, the run waits for your decision"
    )
    detail = banner.detail.text()
    assert detail.startswith("Attempt 1 of 1: 0 of 2 invocation(s) succeeded\nFailed: shop-web-01 (i-")
    assert detail.count("Failed: ") == 2 and "exit 3" in detail and "s-" not in detail, "by hostname"
    assert not detail.startswith("DRS:"), "the step's words are not DRS's"
    assert banner.choices() == ["Retry step", "Mark done…", "Fail wave…", "Cancel run…"]
    assert [n[0] for n in widget.notifications].count("Automation step needs you") == 1
    assert widget.retry_button.isEnabled(), "the toolbar's Retry aims at the held step's wave too"
    grab(widget, "held-step.png", tmp_path)

    asked: list[str] = []

    def no_comment(_title: str, prompt: str) -> str:
        asked.append(prompt)
        return "  "

    widget.ask_comment = no_comment
    qtbot.mouseClick(banner.buttons[ControlAction.STEP_DONE], Qt.MouseButton.LeftButton)
    assert sent == [] and "a comment is needed" in widget.status_text(), "no comment, nothing sent"
    widget.ask_comment = lambda _title, _prompt: "checked the shop by hand"
    qtbot.mouseClick(banner.buttons[ControlAction.STEP_DONE], Qt.MouseButton.LeftButton)
    assert "audit trail" in asked[0]
    assert sent == [ControlRequest(ControlAction.STEP_DONE, wave_index=1, comment="checked the shop by hand")]
    assert session.submit(sent.pop())

    final = drive_until(session, sim, lambda s: s.finished)[-1]
    widget.show_snapshot(final)
    assert final.outcome is Outcome.SUCCEEDED
    assert banner.isHidden()
    smoke = step_line(widget, 1, "smoke")
    assert cell(widget, smoke, STATUS) == "DONE by alice"
    assert cell(widget, smoke, PHASE) == "decided by alice: checked the shop by hand"
    grab(widget, "step-done.png", tmp_path)
    qtmodeltester.check(widget.model)  # type: ignore[attr-defined]
    session.close()


def test_a_lost_lambda_answer_says_it_may_have_run_and_retry_step_runs_it_again(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    cutover = LambdaStep(name="cutover", function="dns-cutover", policy=StepPolicy(run_in=RunIn.RECOVERY))
    save(db, sim, after=(DNS, cutover))
    sim.faults.lose_answer("lambda:Invoke", count=1)
    widget, sent = shown_widget(qtbot)
    session = drill_session(services)
    stuck = drive_until(session, sim, held)[-1]
    widget.show_snapshot(stuck)
    banner = widget.banner
    assert (
        banner.title.text()
        == "Wave 2 “web”: the Lambda function step “dns” (after launch) may have run, its outcome is lost"
    )
    assert banner.detail.text().startswith(UNKNOWN_WARNING)
    assert UNKNOWN_WARNING == "DRS Desktop does not know whether it ran: check before retrying."
    line = step_line(widget, 1, "dns")
    assert cell(widget, line, STATUS) == "WAITING FOR YOU"
    assert cell(widget, line, PHASE) == "attempt 1: outcome lost, it may have run"
    assert UNKNOWN_WARNING in str(line.data(Qt.ItemDataRole.ToolTipRole))

    questions: list[str] = []

    def decline(_title: str, question: str) -> bool:
        questions.append(question)
        return False

    widget.confirm = decline
    qtbot.mouseClick(banner.buttons[ControlAction.RETRY], Qt.MouseButton.LeftButton)
    assert sent == [] and UNKNOWN_WARNING in questions[0], "a retry of what may have run is confirmed"
    widget.confirm = lambda _title, _question: True
    qtbot.mouseClick(banner.buttons[ControlAction.RETRY], Qt.MouseButton.LeftButton)
    assert sent == [ControlRequest(ControlAction.RETRY, wave_index=1)]
    assert session.submit(sent.pop())

    final = drive_until(session, sim, lambda s: s.finished)[-1]
    widget.show_snapshot(final)
    assert final.outcome is Outcome.SUCCEEDED
    assert len(sim.backend.lambdas.invocations) == 2, "run once more, on the operator's word"
    dns = step_of(final, "dns")
    assert (dns.status, dns.attempt, dns.attempts_allowed) == ("PASSED", 2, 2)
    assert cell(widget, step_line(widget, 1, "dns"), STATUS) == "PASSED"
    skipped = step_line(widget, 1, "cutover")
    assert (cell(widget, skipped, STATUS), cell(widget, skipped, PHASE)) == ("SKIPPED", "recovery only")
    session.close()


def test_fail_wave_is_confirmed_fails_the_wave_and_the_banner_offers_skip(
    qtbot: QtBot, services: ExecutionServices, sim: EmbeddedSimulator, db: Database
) -> None:
    save(db, sim, after=(SMOKE,))
    widget, sent = shown_widget(qtbot)
    session = drill_session(services)
    widget.show_snapshot(drive_until(session, sim, held)[-1])
    banner = widget.banner
    widget.confirm = lambda _title, _question: False
    qtbot.mouseClick(banner.buttons[ControlAction.STEP_FAIL], Qt.MouseButton.LeftButton)
    assert sent == [], "declined: nothing sent"
    widget.confirm = lambda _title, _question: True
    qtbot.mouseClick(banner.buttons[ControlAction.STEP_FAIL], Qt.MouseButton.LeftButton)
    assert sent == [ControlRequest(ControlAction.STEP_FAIL, wave_index=1)]
    assert session.submit(sent.pop())

    failed = drive_until(session, sim, lambda s: step_of(s, "smoke").status == "FAILED" and s.waves[1].held)
    widget.show_snapshot(failed[-1])
    assert banner.isVisible()
    title = banner.title.text()
    assert title.startswith("Wave 2 “web” failed: the SSM document step “smoke” (after launch) failed")
    assert "(failed by alice)" in banner.title.text()
    assert "Skip wave" in banner.choices() and "Mark done…" not in banner.choices()
    assert cell(widget, step_line(widget, 1, "smoke"), STATUS) == "FAILED"
    qtbot.mouseClick(banner.buttons[ControlAction.SKIP], Qt.MouseButton.LeftButton)
    assert sent == [ControlRequest(ControlAction.SKIP, wave_index=1)]
    assert session.submit(sent.pop())
    final = drive_until(session, sim, lambda s: s.finished)[-1]
    widget.show_snapshot(final)
    assert final.finished and banner.isHidden()
    assert step_of(final, "smoke").status == "FAILED"
    session.close()
