"""After a change of target, everything the application does is the new target's: the run dialog's
preflight and the run it starts (its recorded target, its launches), the Servers pane and the editors'
inventory, the unfinished runs picked up and listed. The whole application (DesktopApp) with its real
panes, task threads, execution desk and loops, against the embedded simulator over loopback; AWS without
credentials (``no_aws``), so a call that still went to AWS fails at once instead of reaching it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.app import DesktopApp
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.targets import DEMO_LABEL
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.run_dialog import RunDialog
from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
from drs_desktop.ui.settings.first_run_dialog import FirstRunDialog
from drs_desktop.ui.target_badge import TargetBadgeWidget
from tests.services.settings_fixtures import (  # noqa: F401
    db_fixture,
    memory_keyring_fixture,
    no_env_credentials_fixture,
)
from tests.ui import test_target_switch as switching
from tests.ui.execution_helpers import drill_session, shop_plan, step_until
from tests.ui.test_target_switch import open_switch_dialog, settings_pane

demo_app = switching.demo_app
no_aws = switching.no_aws

TIMEOUT = 30_000
#: Virtual seconds per real second while a drill runs (the demo's own is 60).
FAST = 3000.0
AWS_LABEL = "account ? · eu-west-1 · default profile"


def _aws_app(qtbot: QtBot, home: Path) -> DesktopApp:
    """The application on AWS (eu-west-1, no credentials anywhere), the first-run offer declined."""
    with Database.open(home / "drs-desktop.sqlite3") as db:
        from drs_desktop.services import connection

        connection.save_settings(db, connection.ConnectionSettings(region="eu-west-1"), 30)
    desktop = DesktopApp(AppPaths(home))
    window = desktop.build()
    qtbot.addWidget(window)
    window.show()
    pane = settings_pane(desktop)
    qtbot.waitUntil(lambda: pane.snapshot() is not None, timeout=TIMEOUT)
    for dialog in QApplication.topLevelWidgets():
        if isinstance(dialog, FirstRunDialog):
            dialog.reject()
    return desktop


def _switch(qtbot: QtBot, desktop: DesktopApp, *, demo: bool) -> None:
    """Through Settings, as the operator does: the demo box, Apply, then Switch in the question."""
    pane = settings_pane(desktop)
    pane.demo_check.setChecked(demo)
    dialog = open_switch_dialog(qtbot, pane)
    with qtbot.waitSignal(pane.target_switch_confirmed, timeout=TIMEOUT):
        dialog.switch_button.click()


def _plan_file(path: Path, server: str) -> Path:
    path.write_text(
        f"format: drs-desktop/plan@1\nname: Switched drill\nwaves:\n  - name: Web\n    servers: [{server}]\n",
        encoding="utf-8",
    )
    return path


def test_after_a_switch_to_the_demo_the_run_dialog_preflights_and_starts_on_the_simulator(
    qtbot: QtBot, tmp_path: Path, no_aws: None
) -> None:
    desktop = _aws_app(qtbot, tmp_path / "home")
    try:
        stranded: list[object] = []
        desktop.execution_desk.stranded_loaded.connect(stranded.append)
        # The desk's task thread has resolved its target (AWS) before the switch: the build's
        # unfinished and stranded lists read it.
        desktop.stranded_runs.refresh()
        qtbot.waitUntil(lambda: bool(stranded), timeout=TIMEOUT)

        _switch(qtbot, desktop, demo=True)
        sim = desktop.simulator
        assert sim is not None and desktop.running_target is not None and desktop.running_target.demo
        sim.clock.set_scale(FAST)
        plans = desktop.plans_pane
        assert plans is not None
        plans.import_file(_plan_file(tmp_path / "drill.yaml", sim.backend.server_id_of("pay-web-01")))
        qtbot.waitUntil(lambda: "Switched drill" in plans.plan_names(), timeout=TIMEOUT)

        started: list[ExecutionRecord] = []
        ended: list[str] = []
        desktop.execution_desk.started.connect(started.append)
        desktop.execution_desk.finished.connect(lambda execution_id, _outcome: ended.append(execution_id))
        desktop.open_run_dialog()
        (dialog,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, RunDialog) and w.isVisible()]
        dialog.plan_combo.setCurrentText("Switched drill")
        badge = dialog.findChild(TargetBadgeWidget, "run-targets")
        assert badge is not None and badge.texts() == [f"{DEMO_LABEL} · {sim.region}"]
        dialog.check_button.click()
        qtbot.waitUntil(
            lambda: dialog.report() is not None or dialog.verdict_text().startswith("The check failed"),
            timeout=TIMEOUT,
        )
        report = dialog.report()
        assert report is not None, dialog.verdict_text()  # before the fix: AWS, without credentials
        assert report.ok, [c.message for c in report.failures]
        launches_before = len(sim.backend.launch_records())
        dialog.run_button.click()
        qtbot.waitUntil(lambda: bool(started), timeout=TIMEOUT)
        record = started[0]
        # What the badge said is what the journal records: the run is the simulator's.
        target = record.options["target"]
        assert target["endpoint_url"] == sim.endpoint_url and target["region"] == sim.region
        qtbot.waitUntil(lambda: record.execution_id in ended, timeout=TIMEOUT)
        assert desktop.db is not None
        assert journal.get_execution(desktop.db, record.execution_id).outcome == "SUCCEEDED"
        launches = sim.backend.launch_records()[launches_before:]
        assert [launch.source_server_id for launch in launches] == [sim.backend.server_id_of("pay-web-01")]
        assert all(launch.is_drill and launch.outcome == "LAUNCHED" for launch in launches)
    finally:
        desktop.shutdown()


def test_after_a_switch_to_aws_the_servers_pane_and_editors_drop_the_demo_servers(
    qtbot: QtBot, demo_app: DesktopApp, tmp_path: Path
) -> None:
    window = demo_app.window
    assert window is not None
    servers = window.pane("servers")
    assert isinstance(servers, ServersPaneWidget)
    plans = demo_app.plans_pane
    assert plans is not None
    qtbot.waitUntil(lambda: servers.model.rowCount() > 0 and not servers.is_busy(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: plans.editor.inventory() is not None, timeout=TIMEOUT)
    demo_servers = servers.model.rowCount()

    _switch(qtbot, demo_app, demo=False)
    # At once: no demo server left on screen, and the pane says whose servers it reads.
    assert servers.model.rowCount() == 0, f"still {demo_servers} demo servers after the switch"
    assert servers.stamp_text() in (
        f"Reading the source servers of {AWS_LABEL}…",
        f"Reading the cached inventory of {AWS_LABEL}…",
    )
    assert plans.editor.inventory() is None, "the editors no longer validate against the demo's servers"
    # Then AWS answers (no credentials here): still no demo server, and the pane says what it shows.
    qtbot.waitUntil(lambda: not servers.is_busy() and bool(servers.banner_text()), timeout=TIMEOUT)
    assert servers.model.rowCount() == 0
    assert (
        servers.stamp_text()
        == f"No inventory of {AWS_LABEL} yet: press Refresh to read the source servers from DRS."
    )
    assert servers.banner_text().startswith("The inventory could not be refreshed:")
    assert plans.editor.inventory() is None
    window.resize(1000, 700)
    servers.grab().save(str(tmp_path / "servers-after-switch.png"))


def test_a_run_of_the_target_switched_to_is_picked_up_and_no_longer_listed(
    qtbot: QtBot, tmp_path: Path, no_aws: None
) -> None:
    """An unfinished drill against the session's simulator, seen from AWS: listed, not resumed. Back on
    the simulator it is picked up (the bar empties) and driven to its end there."""
    home = tmp_path / "home"
    sim = EmbeddedSimulator("small", seed=7).start()
    try:
        with Database.open(home / "drs-desktop.sqlite3") as db:
            save_plan(db, shop_plan(sim, approval=False))
            gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
            services = ExecutionServices(db, gateway, clock=sim.clock.now, operator="alice")
            session = drill_session(services)
            step_until(session, sim, lambda s: s.servers[0][0].job_id is not None)
            session.close()
            services.close()
            execution_id = session.execution_id
        desktop = _aws_app(qtbot, home)
    except BaseException:
        sim.stop()
        raise
    try:
        bar = desktop.stranded_runs
        qtbot.waitUntil(
            lambda: [r.record.execution_id for r in bar.runs()] == [execution_id], timeout=TIMEOUT
        )
        assert desktop.execution_desk.active_ids() == [], "never resumed against AWS"

        resumed: list[ExecutionRecord] = []
        ended: list[str] = []
        desktop.execution_desk.resumed.connect(resumed.append)
        desktop.execution_desk.finished.connect(lambda finished_id, _outcome: ended.append(finished_id))
        desktop.simulator = sim  # the session's simulator, up since an earlier demo (the app stops it)
        sim.clock.set_scale(FAST)
        _switch(qtbot, desktop, demo=True)
        qtbot.waitUntil(lambda: [r.execution_id for r in resumed] == [execution_id], timeout=TIMEOUT)
        qtbot.waitUntil(lambda: bar.runs() == [] and not bar.isVisible(), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: execution_id in ended, timeout=TIMEOUT)
        assert desktop.db is not None
        record = journal.get_execution(desktop.db, execution_id)
        assert record.outcome == "SUCCEEDED" and record.finished_at is not None
        jobs = {launch.job_id for launch in sim.backend.launch_records()}
        assert len(jobs) == 3, "the App and Web waves launched on the simulator after the pick-up"
    finally:
        desktop.shutdown()
