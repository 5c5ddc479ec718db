"""Composition root of the GUI: paths -> database -> services -> workers -> window.

Everything that starts the application goes through here, so the order of construction (and of shutdown,
in reverse) is written in one place. ``self_test`` is the packaged application's smoke test: CI runs it on
the built bundle to prove the Qt plugins, the resources, the window, the AWS clients, the keyring and a
tiny drill against the embedded simulator all work.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drs_desktop import APP_ID, APP_NAME, __version__
from drs_desktop.config import AppPaths

if TYPE_CHECKING:
    from PySide6.QtCore import QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.domain.connection import SettingsSnapshot
    from drs_desktop.domain.inventory import Inventory
    from drs_desktop.domain.views.report import ExecutionView
    from drs_desktop.simulator.embedded import EmbeddedSimulator
    from drs_desktop.storage.db import Database
    from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
    from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
    from drs_desktop.ui.executions.progress_widget import ProgressWidget
    from drs_desktop.ui.groups.groups_pane_widget import GroupsPaneWidget
    from drs_desktop.ui.main_window import MainWindow
    from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
    from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
    from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
    from drs_desktop.workers.pane_tasks import AwsTasks, LocalTasks, SettingsTasks
    from drs_desktop.workers.tasks import TaskThread

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
        self._task_threads: list[TaskThread[Any]] = []  # the panes' (workers.pane_tasks), in start order
        self.settings_pane: SettingsPaneWidget | None = None
        self.plans_pane: PlansPaneWidget | None = None
        self.groups_pane: GroupsPaneWidget | None = None
        self.dashboard_pane: DashboardPaneWidget | None = None
        self._on_shutdown: list[Callable[[], None]] = []

    def build(self) -> MainWindow:
        from drs_desktop.storage.db import Database
        from drs_desktop.storage.settings import get_bool
        from drs_desktop.ui.main_window import MainWindow

        # Opened before the window shows: a migration (with its backup) must finish before any pane reads.
        self.db = Database.open(self.paths.database)
        self.demo = self.demo or get_bool(self.db, "ui.demo_mode")  # a demo chosen earlier starts as --demo
        if self.demo:
            self.simulator = start_demo_simulator()
        window = MainWindow()
        self.window = window
        if self.simulator is not None:
            window.set_identity(
                profile="", region=self.simulator.region, account=self.simulator.account_id, demo=True
            )
            window.set_connection_state(f"simulator at {self.simulator.endpoint_url}")
        else:
            window.set_identity(profile="", region="", account="")
        self._build_connection(window, self.db)
        plans_pane = self._build_plans_pane(window, self.db)
        self.plans_pane = plans_pane
        self._build_groups_pane(window, self.db, plans_pane)
        self._build_executions_pane(window, self.db)
        servers_pane = self._build_servers_pane(window, self.db)
        self._build_settings_pane(window, self.db, servers_pane, plans_pane)
        self._build_dashboard_pane(window, self.db, servers_pane)
        window.add_command("Run plan…", "Ctrl+R", self.open_run_dialog)
        return window

    def _build_connection(self, window: MainWindow, db: Database) -> None:
        from drs_desktop.secrets import SecretStore
        from drs_desktop.services.connection import ConnectionResolver
        from drs_desktop.ui.settings.mfa_dialog import connect_mfa_prompts
        from drs_desktop.workers.credential_prompts import CredentialPrompts

        self.secrets = SecretStore()  # no keyring access until a worker needs it
        sim = self.simulator
        self.resolver = ConnectionResolver(
            db,
            self.secrets,
            demo_endpoint=sim.endpoint_url if sim else None,
            demo_region=sim.region if sim else None,
        )
        self.prompts = CredentialPrompts(parent=window)
        connect_mfa_prompts(self.prompts, window)  # MFA codes by dialog, never a terminal
        self._on_shutdown.append(self.prompts.close)  # a worker waiting for a code lets go
        self._build_task_threads(db)

    def _build_task_threads(self, db: Database) -> None:
        """The panes' three task threads (``workers.pane_tasks``: local, aws, settings). Each builds its
        services on itself, so their SQLite readers and boto3 clients belong to that thread alone."""
        import threading

        from drs_desktop.services.history import ExecutionHistory, gateway_factory
        from drs_desktop.services.inventory import InventoryService
        from drs_desktop.services.plan_editing import PlanLibrary
        from drs_desktop.services.settings_page import SettingsService
        from drs_desktop.workers.pane_tasks import AwsServices, LocalServices
        from drs_desktop.workers.tasks import TaskThread

        resolver, secrets, ask_mfa = self.resolver, self.secrets, self.prompts.ask_mfa
        cleanup_stop = threading.Event()  # shutdown cuts a cleanup short (what it did is journaled)
        self._on_shutdown.append(cleanup_stop.set)

        def local() -> LocalServices:
            return LocalServices(PlanLibrary(db), ExecutionHistory(db), InventoryService(db, resolver))

        def aws() -> AwsServices:
            history = ExecutionHistory(
                db, gateway_factory(self.current_target), should_stop=cleanup_stop.is_set
            )
            return AwsServices(InventoryService(db, resolver), history, ask_mfa)

        self.local_tasks: LocalTasks = TaskThread("local", local, close=LocalServices.close)
        self.aws_tasks: AwsTasks = TaskThread("aws", aws, close=AwsServices.close)
        self.settings_tasks: SettingsTasks = TaskThread("settings", lambda: SettingsService(db, secrets))
        self._task_threads += [self.local_tasks, self.aws_tasks, self.settings_tasks]

    def current_target(self) -> AwsTarget:
        """Where DRS is for this session (demo simulator, profile, typed keys, MFA). Called on worker
        threads only: it may read settings and the keyring, or wait for an MFA code from a dialog."""
        return self.resolver.target(self.prompts.ask_mfa)

    def _build_plans_pane(self, window: MainWindow, db: Database) -> PlansPaneWidget:
        from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget

        pane = PlansPaneWidget()
        pane.connect_tasks(self.local_tasks)
        window.set_pane_widget("plans", pane)
        pane.refresh()
        return pane

    def _build_groups_pane(self, window: MainWindow, db: Database, plans_pane: PlansPaneWidget) -> None:
        from drs_desktop.ui.groups.groups_pane_widget import GroupsPaneWidget

        # The Plans pane's thread: run_task hands the Groups pane's answers (its saves) to it alone.
        pane = GroupsPaneWidget()
        pane.connect_tasks(self.local_tasks)
        pane.plan_changed.connect(lambda _revision: plans_pane.refresh())
        window.set_pane_widget("groups", pane)
        pane.refresh()
        self.groups_pane = pane

    def _build_executions_pane(self, window: MainWindow, db: Database) -> None:
        """Live progress and history in one pane; the run dialog opens from the window (Ctrl+R)."""
        import getpass

        from PySide6.QtWidgets import QTabWidget

        from drs_desktop.aws.drs import DrsGateway
        from drs_desktop.aws.drs_clock import DrsClock
        from drs_desktop.services.execution_session import ExecutionServices, Pace
        from drs_desktop.ui.executions.close_guard import CloseGuard
        from drs_desktop.ui.executions.progress_widget import ProgressWidget
        from drs_desktop.workers.execution_desk import ExecutionDesk

        # The runner's clock: DRS's own time (read from its answers, so a desktop clock that is off or
        # a laptop that slept changes no decision), which in demo mode is the simulator's virtual clock.
        # One DrsClock (thread-safe) for every gateway: DRS has one time, whichever thread asks.
        pace: Pace | None = None
        if self.simulator is not None:  # the demo's desktop clock is the simulator's: no skew to report
            drs_clock = DrsClock(wall=self.simulator.clock.now)
            clock = self.simulator.clock.now
            pace = _demo_pace  # the engine's waits are virtual seconds: sleep them at the demo's speed
        else:
            drs_clock = DrsClock()
            clock = drs_clock.now
        operator = getpass.getuser()

        def execution_services() -> ExecutionServices:
            """One thread's services (the desk's task thread, each execution's loop thread), built on
            that thread: its own gateway, because boto3 clients are not shared between threads."""
            gateway = DrsGateway(self.current_target, drs_clock=drs_clock)
            return ExecutionServices(db, gateway, clock=clock, operator=operator)

        desk = ExecutionDesk(execution_services, pace=pace)
        self._on_shutdown.append(desk.stop)
        live = ProgressWidget()
        live.connect_desk(desk)
        CloseGuard(live.is_running, parent=window).install(window)

        history = self._build_history_tab()
        history_progress = ProgressWidget(read_only=True)
        history.set_detail_widget(history_progress, "Progress")
        history.view_loaded.connect(lambda view: self._show_history_progress(history_progress, view))
        # The list is the database's: a run that starts or ends changes it, so it is read again (an
        # operator must never read "0 executions" under a drill that just ran).
        desk.started.connect(lambda _record: history.request_list())
        desk.finished.connect(lambda _execution_id, _outcome: history.request_list())

        tabs = QTabWidget()
        tabs.setObjectName("executions-tabs")
        tabs.addTab(live, "Live")
        tabs.addTab(history, "History")
        window.set_pane_widget("executions", tabs)
        history.refresh()
        # A demo's simulator starts a fresh world each time: its executions cannot be picked up again.
        if self.simulator is None:
            live.pick_up_unfinished()
        self.execution_desk = desk
        self.live_progress = live
        self.executions_tabs = tabs

    def _build_history_tab(self) -> ExecutionsPaneWidget:
        """The History tab: reads on the local task thread, a drill's cleanup on the aws one."""
        from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget

        history = ExecutionsPaneWidget()
        history.connect_tasks(self.local_tasks, self.aws_tasks)
        return history

    @staticmethod
    def _show_history_progress(widget: ProgressWidget, view: ExecutionView) -> None:
        from datetime import UTC, datetime

        from drs_desktop.domain.views.progress import ProgressTracker

        at = view.state.finished_at or datetime.now(UTC)
        snapshot = ProgressTracker(view.hostnames, read_only=True).update(view.state, at, force=True)
        if snapshot is not None:
            widget.show_snapshot(snapshot)

    def open_run_dialog(self) -> None:
        """Ctrl+R: preflight and start a drill or recovery of a saved plan."""
        from PySide6.QtCore import Qt

        from drs_desktop.ui.executions.run_dialog import RunDialog

        assert self.window is not None and self.plans_pane is not None
        names = self.plans_pane.plan_names()
        clock_now = self.simulator.clock.now() if self.simulator is not None else None
        dialog = RunDialog(names, self.plans_pane.current_plan_name(), self.window, now=clock_now)
        dialog.connect_desk(self.execution_desk)
        dialog.run_requested.connect(self.live_progress.start_run)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._show_live)
        dialog.open()

    def _show_live(self) -> None:
        assert self.window is not None
        self.window.show_pane("executions")
        self.executions_tabs.setCurrentWidget(self.live_progress)

    def _build_servers_pane(self, window: MainWindow, db: Database) -> ServersPaneWidget:
        from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget

        pane = ServersPaneWidget()
        pane.connect_tasks(self.local_tasks, self.aws_tasks)
        pane.inventory_refreshed.connect(self._show_identity)
        # The editors validate against the inventory: a refresh reaches them at once, never "no inventory"
        # beside a Servers pane that has one.
        assert self.plans_pane is not None and self.groups_pane is not None
        pane.inventory_refreshed.connect(self.plans_pane.editor.set_inventory)
        pane.inventory_refreshed.connect(self.groups_pane.set_inventory)
        pane.refresh_failed.connect(lambda message: window.set_connection_state(f"offline ({message})"))
        window.set_pane_widget("servers", pane)
        pane.load_cached()  # the offline view at once, with its "as of" stamp
        pane.refresh()  # then a background refresh; on failure the cache stays, under a banner
        return pane

    def _build_dashboard_pane(
        self, window: MainWindow, db: Database, servers_pane: ServersPaneWidget
    ) -> None:
        """The readiness dashboard (the first pane) on its own task thread, ``readiness``: its preflight
        of every plan reads DRS, and must not hold up the Servers pane's refresh on ``aws``."""
        from datetime import UTC, datetime

        from drs_desktop.aws.drs import DrsGateway
        from drs_desktop.aws.drs_clock import DrsClock
        from drs_desktop.services.readiness import ReadinessService
        from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
        from drs_desktop.workers.pane_tasks import ReadinessTasks
        from drs_desktop.workers.tasks import TaskThread

        def now() -> datetime:  # the run's clock: the simulator's in demo mode
            return self.simulator.clock.now() if self.simulator is not None else datetime.now(UTC)

        def readiness() -> ReadinessService:  # built on the readiness thread, its gateway too
            drs_clock = DrsClock(wall=now) if self.simulator is not None else DrsClock()
            return ReadinessService(
                db, lambda: DrsGateway(self.current_target, drs_clock=drs_clock), clock=now
            )

        tasks: ReadinessTasks = TaskThread("readiness", readiness, close=ReadinessService.close)
        self._task_threads.append(tasks)
        pane = DashboardPaneWidget()
        pane.connect_tasks(tasks)
        window.set_pane_widget("dashboard", pane)
        # Fresh whenever what it shows may have changed: an inventory refresh, a run's end, the pane shown
        # (a plan saved elsewhere is seen there at the latest).
        servers_pane.inventory_refreshed.connect(lambda _inventory: pane.refresh())
        self.execution_desk.finished.connect(lambda _execution_id, _outcome: pane.refresh())
        window.pane_changed.connect(lambda key: pane.refresh() if key == "dashboard" else None)
        pane.refresh()
        self.dashboard_pane = pane

    def _show_identity(self, inventory: Inventory) -> None:
        assert self.window is not None
        demo = self.resolver.demo_endpoint is not None
        snapshot = self.settings_pane.snapshot() if self.settings_pane is not None else None
        profile = snapshot.connection.profile if snapshot is not None and not demo else ""
        self.window.set_identity(
            profile=profile, region=inventory.region, account=inventory.account_id, demo=demo
        )
        self.window.set_connection_state(
            f"simulator at {self.resolver.demo_endpoint}"
            if demo
            else f"online ({len(inventory.servers)} servers)"
        )

    def _build_settings_pane(
        self, window: MainWindow, db: Database, servers_pane: ServersPaneWidget, plans_pane: PlansPaneWidget
    ) -> None:
        from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget

        pane = SettingsPaneWidget()
        pane.connect_tasks(self.settings_tasks)
        self._on_shutdown.append(pane.cancel_sso)  # an SSO sign-in in progress stops polling
        window.set_pane_widget("settings", pane)
        pane.settings_applied.connect(lambda snapshot: self._reconnect(snapshot, servers_pane))
        pane.first_run_needed.connect(lambda: self._offer_demo(pane, servers_pane, plans_pane))
        pane.load()
        if self.simulator is None:
            pane.check_first_run()  # -> first_run_needed when there is no AWS configuration at all
        self.settings_pane = pane

    def _reconnect(self, snapshot: SettingsSnapshot, servers_pane: ServersPaneWidget) -> None:
        if snapshot.connection.demo and self.simulator is None and not self._try_start_demo():
            return
        if snapshot.connection.demo and self.simulator is not None:
            self.resolver.set_demo(self.simulator.endpoint_url, self.simulator.region)
        else:
            self.resolver.set_demo(None)  # back to AWS; a running simulator stays up, unused, until exit
        self.demo = snapshot.connection.demo
        self.resolver.forget_mfa()
        servers_pane.load_cached()
        servers_pane.refresh()

    def _offer_demo(
        self, settings_pane: SettingsPaneWidget, servers_pane: ServersPaneWidget, plans_pane: PlansPaneWidget
    ) -> None:
        from drs_desktop.ui.settings.first_run_dialog import FirstRunDialog

        assert self.window is not None
        window = self.window
        dialog = FirstRunDialog(window)
        dialog.demo_chosen.connect(lambda: self._start_demo(settings_pane, servers_pane, plans_pane))
        dialog.configure_chosen.connect(lambda: window.show_pane("settings"))
        dialog.open()

    def _start_demo(
        self, settings_pane: SettingsPaneWidget, servers_pane: ServersPaneWidget, plans_pane: PlansPaneWidget
    ) -> None:
        from drs_desktop.config import resource_path
        from drs_desktop.domain.connection import ConnectionSettings

        assert self.window is not None
        if self.simulator is None and not self._try_start_demo():
            return
        assert self.simulator is not None
        sim = self.simulator
        self.demo = True
        self.resolver.set_demo(sim.endpoint_url, sim.region)
        # Remembered, so the next start is a demo too, and a sample plan to open.
        settings_pane.save_settings(
            ConnectionSettings(region=sim.region, demo=True), settings_pane.poll_spin.value()
        )
        plans_pane.import_file(resource_path("sample-plan.yaml"))
        self.window.set_identity(profile="", region=sim.region, account=sim.account_id, demo=True)
        self.window.set_connection_state(f"simulator at {sim.endpoint_url}")
        servers_pane.refresh()
        self.window.show_pane("servers")

    def _try_start_demo(self) -> bool:
        """Start the demo simulator; on failure say so in the status bar and change nothing else."""
        assert self.window is not None
        try:
            self.simulator = start_demo_simulator()
        except Exception as error:
            logger.exception("the demo simulator did not start")
            self.window.set_connection_state(f"demo unavailable: {error}")
            return False
        return True

    def shutdown(self) -> None:
        """Stop the execution loops (the desk, among the shutdown steps) and the task threads (last
        started first, each waited for), then close the database, then the simulator."""
        for callback in reversed(self._on_shutdown):
            try:
                callback()
            except Exception:
                logger.exception("shutdown step failed")
        for tasks in reversed(self._task_threads):
            if not tasks.stop():
                logger.warning("waiting for task thread %s to finish its current task", tasks.name)
                tasks.wait()
        self._task_threads.clear()
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None


#: Full collections (generation 2) run on the GUI thread's timer this often, never on their own.
FULL_COLLECTION_INTERVAL_MS = 10 * 60 * 1000
#: Generation 2's threshold: so many generation-1 collections before an automatic full one, i.e. never.
_NO_AUTOMATIC_FULL_COLLECTION = 1_000_000_000
#: Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).
GIL_SWITCH_INTERVAL = 0.001


def tune_interpreter() -> None:
    """The application's interpreter settings, applied once the window is built (``run_gui``; the
    progress benchmark calls this same function, so it measures what ships).

    Why: the GUI thread must never stall 50 ms or more (DESIGN §3), and two things of the interpreter made
    it do so while a 1,000-server execution updated every second:

    - Garbage collection. A full collection walks every tracked object holding the GIL, and any thread may
      trigger it, an execution's loop thread included: 70-90 ms several times a minute. So the long-lived
      objects built so far, which never become garbage, leave the collector (``gc.freeze()``); full
      collections no longer start on their own (generation 2's threshold out of reach; generations 0 and
      1, a few ms each, keep Python's defaults); and ``start_full_collections`` runs one on the GUI thread
      every ``FULL_COLLECTION_INTERVAL_MS`` (5-15 ms measured), so cyclic garbage is still freed.
    - The GIL's switch interval. Painting the progress tree calls the Python model ~1,500 times, and each
      call takes the GIL back from whichever thread holds it; while a loop thread parses a DRS answer or
      builds a snapshot, each of those waits lasted up to Python's 5 ms. At 1 ms the stalls measured
      halved (worst 24-44 ms instead of 33-87, p99 3-6 ms instead of 6-11); the loop threads, which
      mostly sleep, lose nothing that matters.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_AUTOMATIC_FULL_COLLECTION)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def start_full_collections(parent: QObject) -> QTimer:
    """The GUI thread's timer for the full collections ``tune_interpreter`` took from Python."""
    from PySide6.QtCore import QTimer

    timer = QTimer(parent)
    timer.setObjectName("full-garbage-collection")
    timer.setInterval(FULL_COLLECTION_INTERVAL_MS)
    timer.timeout.connect(_collect_everything)
    timer.start()
    return timer


def _collect_everything() -> None:
    freed = gc.collect()
    logger.debug("full garbage collection: %d objects freed", freed)


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
        tune_interpreter()
        start_full_collections(window)
        logger.info("DRS Desktop %s started (home %s, demo=%s)", __version__, paths.home, demo)
        return int(app.exec())
    finally:
        desktop.shutdown()


def _demo_pace(seconds: float) -> float:
    """Real seconds for a wait of the demo's virtual clock, which runs DEMO_TIME_SCALE times faster."""
    return seconds / DEMO_TIME_SCALE


def start_demo_simulator() -> EmbeddedSimulator:
    """The demo estate on a free loopback port, its clock running at DEMO_TIME_SCALE."""
    from drs_desktop.simulator.embedded import EmbeddedSimulator

    simulator = EmbeddedSimulator("demo", time_scale=DEMO_TIME_SCALE)
    simulator.start()
    logger.info("demo: DRS simulator at %s", simulator.endpoint_url)
    return simulator


def self_test(paths: AppPaths) -> int:
    """Check every moving part without AWS; print one line per check; 0 when all are well.

    The window with every pane (offscreen, in demo mode: its workers talk to the embedded simulator), the
    DRS and STS clients built (never called), the keyring backend, and a one-server drill run to the end
    against the embedded simulator on its virtual clock, in a throwaway home so the operator's data is
    never touched. Nothing reaches AWS, whatever credentials the environment holds.
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
    # In demo mode every pane talks to the embedded simulator on loopback: built for AWS, the servers
    # pane's first refresh would call DRS with whatever credentials the environment holds.
    desktop = DesktopApp(paths, demo=True)
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
    from drs_desktop.domain.engine.events import Outcome
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
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

        def sleep(seconds: float) -> None:  # virtual time: a sleep moves the simulator's clock
            sim.clock.advance(max(seconds, 1.0))

        result = runner.run(sleep=sleep, max_steps=500)
        if result.outcome is not Outcome.SUCCEEDED:
            raise RuntimeError(f"drill ended {result.outcome} ({result.status})")
        launches = sim.backend.launch_records()
        if [r.source_server_id for r in launches] != [server]:
            raise RuntimeError(f"expected one launch of {server}, the simulator saw {len(launches)}")
        return f"1-server drill SUCCEEDED against the simulator ({runner.execution_id[:8]})"
