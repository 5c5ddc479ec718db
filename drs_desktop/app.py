"""Composition root of the GUI: paths -> database -> services -> workers -> window.

Everything that starts the application goes through here, so the order of construction (and of shutdown,
in reverse) is written in one place. ``self_test`` is the packaged application's smoke test: CI runs it on
the built bundle to prove the Qt plugins, the resources, the window, the AWS clients, the keyring and a
tiny drill against the embedded simulator all work.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from drs_desktop import APP_ID, APP_NAME, __version__
from drs_desktop.config import AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.simulator.embedded import EmbeddedSimulator
    from drs_desktop.storage.db import Database
    from drs_desktop.ui.main_window import MainWindow
    from drs_desktop.ui.plans_pane_widget import PlansPaneWidget
    from drs_desktop.workers.thread import WorkerThread

logger = logging.getLogger(__name__)

#: Virtual seconds per real second in demo mode: a 20-minute drill plays in 20 seconds.
DEMO_TIME_SCALE = 60.0


def _make_application(argv: Sequence[str]) -> QApplication:
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    return app


class DesktopApp:
    """Builds the window and its workers on one database, and takes them down in reverse order."""

    def __init__(self, paths: AppPaths, *, demo: bool = False) -> None:
        self.paths = paths
        self.demo = demo
        self.simulator: EmbeddedSimulator | None = None
        self.db: Database | None = None
        self.window: MainWindow | None = None
        self._threads: list[WorkerThread] = []
        self._on_shutdown: list[Callable[[], None]] = []

    def build(self) -> MainWindow:
        from drs_desktop.storage.db import Database
        from drs_desktop.ui.main_window import MainWindow

        if self.demo:
            self.simulator = start_demo_simulator()
        # Opened before the window shows: a migration (with its backup) must finish before any pane reads.
        self.db = Database.open(self.paths.database)
        window = MainWindow()
        self.window = window
        if self.simulator is not None:
            window.set_identity(
                profile="", region=self.simulator.region, account=self.simulator.account_id, demo=True
            )
            window.set_connection_state(f"simulator at {self.simulator.endpoint_url}")
        else:
            window.set_identity(profile="", region="", account="")
        plans_pane = self._build_plans_pane(window, self.db)
        self._build_groups_pane(window, self.db, plans_pane)
        self._build_executions_pane(window, self.db)
        return window

    def current_target(self) -> AwsTarget:
        """Where DRS is for this session: the demo simulator, or the configured profile and region.
        Called on worker threads (it reads settings), never on the GUI thread."""
        from drs_desktop.aws.session import AwsTarget
        from drs_desktop.storage.settings import get_str

        if self.simulator is not None:
            return AwsTarget(
                profile=None, region=self.simulator.region, endpoint_url=self.simulator.endpoint_url
            )
        assert self.db is not None
        return AwsTarget(
            profile=get_str(self.db, "aws.profile") or None, region=get_str(self.db, "aws.region")
        )

    def _build_plans_pane(self, window: MainWindow, db: Database) -> PlansPaneWidget:
        from drs_desktop.services.plan_editing import PlanLibrary
        from drs_desktop.ui.plans_pane_widget import PlansPaneWidget
        from drs_desktop.workers.plans_worker import PlansWorker

        worker = PlansWorker(PlanLibrary(db))
        pane = PlansPaneWidget()
        pane.connect_worker(worker)
        self._start(worker, "plans", on_stop=worker.close)
        window.set_pane_widget("plans", pane)
        pane.refresh()
        return pane

    def _build_groups_pane(self, window: MainWindow, db: Database, plans_pane: PlansPaneWidget) -> None:
        from drs_desktop.services.plan_editing import PlanLibrary
        from drs_desktop.ui.groups_pane_widget import GroupsPaneWidget
        from drs_desktop.workers.plans_worker import PlansWorker

        # Its own worker: answers to the Groups pane's saves must not reach the Plans editor.
        worker = PlansWorker(PlanLibrary(db))
        pane = GroupsPaneWidget()
        pane.connect_worker(worker)
        pane.plan_changed.connect(lambda _revision: plans_pane.refresh())
        self._start(worker, "groups", on_stop=worker.close)
        window.set_pane_widget("groups", pane)
        pane.refresh()

    def _build_executions_pane(self, window: MainWindow, db: Database) -> None:
        from drs_desktop.services.history import ExecutionHistory, gateway_factory
        from drs_desktop.ui.executions_pane_widget import ExecutionsPaneWidget
        from drs_desktop.workers.history_worker import HistoryWorker

        worker = HistoryWorker(ExecutionHistory(db, gateway_factory(self.current_target)))
        pane = ExecutionsPaneWidget()
        pane.connect_worker(worker)
        self._on_shutdown.append(worker.request_stop)
        self._start(worker, "history", on_stop=worker.close)
        window.set_pane_widget("executions", pane)
        pane.refresh()
        self.executions_pane = pane

    def _start(self, worker: object, name: str, *, on_stop: Callable[[], None] | None = None) -> None:
        from drs_desktop.workers.thread import WorkerThread

        thread = WorkerThread(worker, name, on_stop=on_stop)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def shutdown(self) -> None:
        """Stop workers (quit + wait), then close the database, then the simulator."""
        for callback in reversed(self._on_shutdown):
            try:
                callback()
            except Exception:
                logger.exception("shutdown step failed")
        for thread in reversed(self._threads):
            thread.stop()
        self._threads.clear()
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None


def run_gui(paths: AppPaths, *, demo: bool = False, argv: Sequence[str] = ()) -> int:
    """Start the desktop application and block until its window closes.

    With ``demo``, the built-in DRS simulator (the shipped demo estate) runs in-process on loopback for
    the life of the window, and the application talks to it instead of AWS.
    """
    app = _make_application([sys.argv[0], *argv])
    desktop = DesktopApp(paths, demo=demo)
    try:
        window = desktop.build()
        window.show()
        logger.info("DRS Desktop %s started (home %s, demo=%s)", __version__, paths.home, demo)
        return int(app.exec())
    finally:
        desktop.shutdown()


def start_demo_simulator() -> EmbeddedSimulator:
    """The demo estate on a free loopback port, its clock running at DEMO_TIME_SCALE."""
    from drs_desktop.simulator.embedded import EmbeddedSimulator

    simulator = EmbeddedSimulator("demo", time_scale=DEMO_TIME_SCALE)
    simulator.start()
    logger.info("demo: DRS simulator at %s", simulator.endpoint_url)
    return simulator


def self_test(paths: AppPaths) -> int:
    """Check every moving part without AWS; print one line per check; 0 when all are well.

    The window with every pane (offscreen), the DRS and STS clients built (no call to AWS), the keyring
    backend, and a one-server drill run to the end against the embedded simulator on its virtual clock,
    in a throwaway home so the operator's data is never touched.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _make_application([sys.argv[0]])
    problems: list[str] = []
    lines: list[str] = [f"{APP_NAME} {__version__}, Qt platform {app.platformName()}, home {paths.home}"]
    with tempfile.TemporaryDirectory(prefix="drs-desktop-self-test-") as scratch:
        _check(problems, lines, "window", lambda: _check_window(app, AppPaths(Path(scratch) / "gui")))
        _check(problems, lines, "aws clients", _check_clients)
        _check(problems, lines, "keyring", _check_keyring)
        _check(problems, lines, "drill", lambda: _check_drill(Path(scratch) / "drill"))
    for line in lines:
        print(f"self-test: {line}")
    for problem in problems:
        print(f"self-test: FAILED {problem}", file=sys.stderr)
    print(f"self-test: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


def _check(problems: list[str], lines: list[str], name: str, check: Callable[[], str]) -> None:
    try:
        lines.append(f"{name}: {check()}")
    except Exception as error:  # the self-test reports every failure, it never stops at the first
        logger.exception("self-test %s failed", name)
        problems.append(f"{name}: {type(error).__name__}: {error}")


def _check_window(app: QApplication, paths: AppPaths) -> str:
    desktop = DesktopApp(paths)
    try:
        window = desktop.build()
        window.show()
        app.processEvents()
        for key in window.pane_keys():
            window.show_pane(key)
            app.processEvents()
            if window.current_pane() != key:
                raise RuntimeError(f"pane {key} did not open")
        if not window.isVisible():
            raise RuntimeError("main window is not visible")
        window.close()
        app.processEvents()
        return f"{len(window.pane_keys())} panes"
    finally:
        desktop.shutdown()


def _check_clients() -> str:
    import boto3

    session = boto3.session.Session(aws_access_key_id="self-test", aws_secret_access_key="self-test")
    drs = session.client("drs", region_name="us-east-1")
    session.client("sts", region_name="us-east-1")
    operations = drs.meta.service_model.operation_names
    if "StartRecovery" not in operations or "CreateRecoveryPlan" not in operations:
        raise RuntimeError("botocore's DRS model lacks StartRecovery or the native recovery plan operations")
    return f"drs ({len(operations)} operations) and sts built"


def _check_keyring() -> str:
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _check_drill(home: Path) -> str:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.domain.execution_events import Outcome
    from drs_desktop.domain.execution_state import Mode
    from drs_desktop.domain.plan import RecoveryPlan, Wave
    from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
    from drs_desktop.simulator.embedded import EmbeddedSimulator
    from drs_desktop.storage.db import Database
    from drs_desktop.storage.plans import save_plan

    with EmbeddedSimulator("small", seed=1) as sim, Database.open(home / "drs-desktop.sqlite3") as db:
        server = sim.backend.server_id_of("shop-web-01")
        save_plan(db, RecoveryPlan(name="Self-test", waves=(Wave(name="Web", servers=(server,)),)))
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        request = RunRequest(plan_name="Self-test", mode=Mode.DRILL, poll_interval_seconds=30)
        clock: Callable[[], datetime] = sim.clock.now
        runner = create_execution(db, gateway, prepare_execution(db, gateway, request), request, clock=clock)
        result = runner.run(sleep=lambda seconds: sim.clock.advance(max(seconds, 1.0)), max_steps=500)
        if result.outcome is not Outcome.SUCCEEDED:
            raise RuntimeError(f"drill ended {result.outcome} ({result.status})")
        launches = sim.backend.launch_records()
        if [r.source_server_id for r in launches] != [server]:
            raise RuntimeError(f"expected one launch of {server}, the simulator saw {len(launches)}")
        return f"1-server drill SUCCEEDED against the simulator ({runner.execution_id[:8]})"
