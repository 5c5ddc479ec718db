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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drs_desktop import APP_ID, APP_NAME, __version__
from drs_desktop.config import AppPaths
from drs_desktop.log_file import LogFile

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.domain.connection import ConnectionSettings
    from drs_desktop.domain.engine.record import ExecutionRecord
    from drs_desktop.domain.inventory import Inventory
    from drs_desktop.domain.lease import Lease
    from drs_desktop.domain.targets import Target
    from drs_desktop.domain.views.cadence import PlanCadence
    from drs_desktop.domain.views.progress import ProgressSnapshot
    from drs_desktop.domain.views.report import ExecutionView
    from drs_desktop.domain.views.report_chart import PdfReport
    from drs_desktop.simulator.embedded import EmbeddedSimulator
    from drs_desktop.storage.db import Database
    from drs_desktop.ui.change_hub import ChangeHub
    from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
    from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget
    from drs_desktop.ui.executions.progress_widget import ProgressWidget
    from drs_desktop.ui.groups.groups_pane_widget import GroupsPaneWidget
    from drs_desktop.ui.main_window import MainWindow
    from drs_desktop.ui.plans.plans_pane_widget import PlansPaneWidget
    from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget
    from drs_desktop.ui.settings.settings_pane_widget import SettingsPaneWidget
    from drs_desktop.ui.sync.sync_conflicts_dialog import SyncConflictsDialog
    from drs_desktop.workers.execution_desk import ExecutionDesk
    from drs_desktop.workers.launch_drift_watch import LaunchDriftWatch
    from drs_desktop.workers.pane_tasks import AwsTasks, LocalTasks, ScheduleTasks, SettingsTasks
    from drs_desktop.workers.tasks import TaskThread

logger = logging.getLogger(__name__)

#: Virtual seconds per real second in demo mode: a 20-minute drill plays in 20 seconds.
DEMO_TIME_SCALE = 60.0

#: The sizes of the application icon in ``resources/icons/`` (drs-desktop-<N>.png, drawn by
#: ``scripts/make_icons.py``): every one goes into the window icon, so that the title bar, the task bar
#: and the window switcher each get a drawn size instead of a scaled one.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _make_application(argv: Sequence[str]) -> QApplication:
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(_application_icon())
    return app


def _application_icon() -> QIcon:
    """The icon of every window (a few small PNGs, read once before the first window shows)."""
    from PySide6.QtGui import QIcon

    from drs_desktop.config import resource_path

    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path(f"icons/{APP_ID}-{size}.png")))
    return icon


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
        self.changes: ChangeHub | None = None  # built in _wire_changes
        self.launch_drift: LaunchDriftWatch | None = None  # built in _wire_changes
        self.dashboard_pane: DashboardPaneWidget | None = None
        self._on_shutdown: list[Callable[[], None]] = []
        # The one clock of every time the GUI stamps or shows (services.clock): DRS's, or in demo mode
        # the simulator's virtual clock. Hand ``clock.now`` to anything new that stamps a time.
        from drs_desktop.services.clock import AppClock

        self.clock = AppClock()
        self.running_target: Target | None = None  # where the panes' data and actions are (_set_target)
        self._sync_conflicts: SyncConflictsDialog | None = None

    def build(self) -> MainWindow:
        from drs_desktop.services.connection import load_connection_settings
        from drs_desktop.storage.db import Database
        from drs_desktop.ui.main_window import MainWindow

        # Opened before the window shows: a migration (with its backup) must finish before any pane reads.
        self.db = Database.open(self.paths.database)
        settings = load_connection_settings(self.db)
        self.demo = self.demo or settings.demo  # a demo chosen earlier starts as --demo
        if self.demo:
            self.simulator = start_demo_simulator()
            self._follow_simulator()
        window = MainWindow()
        self.window = window
        if self.simulator is not None:
            window.set_identity(
                profile="", region=self.simulator.region, account=self.simulator.account_id, demo=True
            )
            window.set_connection_state(f"simulator at {self.simulator.endpoint_url}")
        else:
            window.set_identity(profile="", region="", account="")
        self._set_target(self._demo_target() if self.demo else _aws_target(settings))
        self._build_connection(window, self.db)
        plans_pane = self._build_plans_pane(window, self.db)
        self.plans_pane = plans_pane
        self._build_groups_pane(window, self.db, plans_pane)
        self._build_executions_pane(window, self.db)
        servers_pane = self._build_servers_pane(window, self.db)
        self._build_settings_pane(window, self.db, servers_pane, plans_pane)
        self._build_dashboard_pane(window, self.db)
        self._build_sync(window, self.db)
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
        import getpass
        import threading

        from drs_desktop.services.alerts import AlertDesk
        from drs_desktop.services.audit_desk import AuditDesk
        from drs_desktop.services.extended_servers import ExtendedServersService
        from drs_desktop.services.history import ExecutionHistory, gateway_factory
        from drs_desktop.services.inventory import InventoryService
        from drs_desktop.services.native_desk import NativeDesk
        from drs_desktop.services.plan_editing import PlanLibrary
        from drs_desktop.services.retention import RetentionService
        from drs_desktop.services.script_trust import ScriptTrustService
        from drs_desktop.services.settings_page import SettingsService
        from drs_desktop.workers.pane_tasks import AwsServices, LocalServices
        from drs_desktop.workers.tasks import TaskThread

        resolver, secrets, ask_mfa = self.resolver, self.secrets, self.prompts.ask_mfa
        cleanup_stop = threading.Event()  # shutdown cuts a cleanup short (what it did is journaled)
        self._on_shutdown.append(cleanup_stop.set)

        from drs_desktop.aws.drs import DrsGateway

        clock = self.clock

        def drs(target: AwsTarget) -> DrsGateway:  # on the app's clock: an inventory's time is DRS's
            # A listed target reached through an MFA role asks the operator by dialog.
            return DrsGateway(target, drs_clock=clock, mfa_prompter=ask_mfa)

        operator = getpass.getuser()  # who the GUI's findings are recorded as (as its approvals are)

        def local() -> LocalServices:
            inventory = InventoryService(db, resolver, gateway_factory=drs)
            # Script trust stamps the desktop's own time, as the CLI does: trust is a fact of this machine,
            # not of DRS (nor of the demo's virtual clock).
            scripts = ScriptTrustService(db)
            return LocalServices(
                PlanLibrary(db, clock=clock.now),
                ExecutionHistory(db, clock=clock.now),
                inventory,
                scripts,
                RetentionService(db, clock=clock.now, reports_dir=self.paths.reports),
                audit=AuditDesk(db, clock=clock.now, operator=operator),
            )

        def cleanup_sleep(seconds: float) -> None:  # a wait of the clock, at its pace; shutdown ends it
            cleanup_stop.wait(clock.pace(seconds))

        from drs_desktop.aws.ec2 import Ec2Gateway
        from drs_desktop.services.launch_drift import LaunchDriftService

        def aws() -> AwsServices:
            launch = LaunchDriftService(
                db,
                lambda: DrsGateway(self.current_target, drs_clock=clock, mfa_prompter=ask_mfa),
                lambda: Ec2Gateway(self.current_target, mfa_prompter=ask_mfa),
                clock=clock.now,
            )
            history = ExecutionHistory(
                db,
                gateway_factory(self.current_target, clock),
                clock=clock.now,
                sleep=cleanup_sleep,
                should_stop=cleanup_stop.is_set,
            )
            return AwsServices(
                InventoryService(db, resolver, gateway_factory=drs),
                history,
                ask_mfa,
                ExtendedServersService(db, resolver, gateway_factory=drs),
                NativeDesk(db, resolver, gateway_factory=drs, clock=clock.now, sleep=cleanup_sleep),
                launch,
                alerts=AlertDesk(db, secrets, target=self.current_target, clock=clock.now),
            )

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

        pane = PlansPaneWidget(clock=self.clock.now)
        pane.connect_tasks(self.local_tasks)
        pane.connect_native(self.aws_tasks)  # native DRS plans: status, publish, import, drift
        pane.connect_schedules(self._schedule_tasks(db))  # unattended drill schedules
        window.set_pane_widget("plans", pane)
        pane.refresh()
        return pane

    def _schedule_tasks(self, db: Database) -> ScheduleTasks:
        """The ``schedules`` thread: the profile check (keyring, STS) and the scheduler's entries."""
        from drs_desktop.services.schedule_desk import ScheduleDesk
        from drs_desktop.workers.tasks import TaskThread

        resolver, secrets, paths = self.resolver, self.secrets, self.paths
        tasks: ScheduleTasks = TaskThread(
            "schedules",
            lambda: ScheduleDesk(
                db,
                secrets,
                paths,
                endpoint=lambda: resolver.demo_endpoint,
                demo=lambda: resolver.demo_endpoint is not None,
                clock=self.clock.now,
            ),
        )
        self._task_threads.append(tasks)
        return tasks

    def _build_groups_pane(self, window: MainWindow, db: Database, plans_pane: PlansPaneWidget) -> None:
        from drs_desktop.ui.groups.groups_pane_widget import GroupsPaneWidget

        # The Plans pane's thread: run_task hands the Groups pane's answers (its saves) to it alone.
        pane = GroupsPaneWidget(clock=self.clock.now)
        pane.connect_tasks(self.local_tasks)
        window.set_pane_widget("groups", pane)
        pane.refresh()
        self.groups_pane = pane

    def _build_executions_pane(self, window: MainWindow, db: Database) -> None:
        """Live progress and history in one pane; the run dialog opens from the window (Ctrl+R)."""
        import getpass

        from PySide6.QtWidgets import QTabWidget

        from drs_desktop.aws.drs import DrsGateway
        from drs_desktop.services.execution_lease import leases_for
        from drs_desktop.services.execution_session import ExecutionServices
        from drs_desktop.services.stranded_runs import end_demo_execution
        from drs_desktop.services.target_runs import TargetSessions
        from drs_desktop.ui.executions.close_guard import CloseGuard
        from drs_desktop.ui.executions.progress_widget import ProgressWidget
        from drs_desktop.ui.executions.stranded_runs_bar import StrandedRunsBar
        from drs_desktop.workers.execution_desk import ExecutionDesk

        # The runner's clock: DRS's own time (read from its answers, so a desktop clock that is off or
        # a laptop that slept changes no decision), which in demo mode is the simulator's virtual clock:
        # the application's one clock (services.clock.AppClock, a DrsClock, thread-safe) for every
        # gateway, and its pace (the demo's virtual waits slept at the demo's speed).
        drs_clock = self.clock
        clock = self.clock.now
        pace = self.clock.pace
        operator = getpass.getuser()

        # One set of credentials per declared target for the whole app: one MFA code serves the run
        # dialog's reads, the preflight and the run's own gateways (``services.target_runs``).
        target_sessions = TargetSessions(mfa_prompter=self.prompts.ask_mfa)

        def execution_services() -> ExecutionServices:
            """One thread's services (the desk's task thread, each execution's loop thread), built on
            that thread: its own gateway, because boto3 clients are not shared between threads."""
            gateway = DrsGateway(self.current_target, drs_clock=drs_clock)
            return ExecutionServices(
                db,
                gateway,
                clock=clock,
                operator=operator,
                sessions=target_sessions,
                # Team sync on: each run driven also holds its lease in the team's table (never a demo's).
                leases=None if self.resolver.demo_endpoint is not None else leases_for(db),
            )

        desk = ExecutionDesk(execution_services, pace=pace)

        def will_resume() -> bool:
            """Against AWS a run is picked up at the next start; a demo world ends with the app."""
            return self.resolver.demo_endpoint is None

        def stop_desk() -> None:
            """Stop the loops; in demo mode end what they drove, as the close dialog promised."""
            ending = [] if will_resume() else desk.active_ids()
            desk.stop()
            for execution_id in ending:
                end_demo_execution(db, execution_id, by=operator, at=clock())

        self._on_shutdown.append(stop_desk)
        live = ProgressWidget()
        live.connect_desk(desk)
        live.finding_button.connect_local(self.local_tasks)  # "Add finding…" on the run it follows
        CloseGuard(live.is_running, parent=window, will_resume=will_resume).install(window)

        history = self._build_history_tab()
        self._wire_takeover(db, history, desk)
        history_progress = ProgressWidget(read_only=True)
        history.set_detail_widget(history_progress, "Progress")
        history.view_loaded.connect(lambda view: self._show_history_progress(history_progress, view))
        history.view_loaded.connect(lambda view: history_progress.set_targets((_run_target(view.record),)))
        _name_run_targets(desk, live)

        tabs = QTabWidget()
        tabs.setObjectName("executions-tabs")
        tabs.addTab(live, "Live")
        tabs.addTab(history, "History")
        # Unfinished runs this session cannot resume (a demo world gone, another target), to be ended:
        # above the live view, the first thing the pane shows.
        stranded = StrandedRunsBar()
        stranded.connect_desk(desk)
        stranded.place_above(live)
        window.set_pane_widget("executions", tabs)
        history.refresh()
        # Only runs of this session's DRS target are resumed (a demo's world is new each start).
        live.pick_up_unfinished()
        stranded.refresh()
        self.stranded_runs = stranded
        self.execution_desk = desk
        self.history = history
        self.live_progress = live
        self.executions_tabs = tabs

    def _build_history_tab(self) -> ExecutionsPaneWidget:
        """The History tab: reads on the local task thread, a drill's cleanup on the aws one."""
        from drs_desktop.ui.executions.executions_pane_widget import ExecutionsPaneWidget

        history = ExecutionsPaneWidget(clock=self.clock.now)
        history.connect_tasks(self.local_tasks, self.aws_tasks)
        from drs_desktop.ui.settings.sso_dialog import SsoDialog

        history.connect_settings(self.settings_tasks, SsoDialog)  # the Audit tab's sign-off: profiles, STS
        return history

    def _wire_takeover(self, db: Database, history: ExecutionsPaneWidget, desk: ExecutionDesk) -> None:
        """The History tab's driver strip: leases read on a thread of their own (``lease-watch``), a
        confirmed takeover driven by the desk (live, as a resumed run), a refusal said on the strip."""
        from drs_desktop.services.execution_takeover import LeaseLook
        from drs_desktop.workers.pane_tasks import LeaseTasks
        from drs_desktop.workers.tasks import TaskThread

        demo = self.resolver.demo_endpoint is not None  # a demo's runs hold no lease
        tasks: LeaseTasks = TaskThread(
            "lease-watch",
            lambda: LeaseLook(db, (lambda: None) if demo else None),
            close=LeaseLook.close,
        )
        self._task_threads.append(tasks)
        history.connect_lease_tasks(tasks)
        strip = history.lease_strip
        taking: set[str] = set()

        def take_over(execution_id: str, seen: Lease | None, expired: bool) -> None:
            taking.add(execution_id)
            desk.take_over(execution_id, seen, expired)

        def opened(record: ExecutionRecord) -> None:
            if record.execution_id in taking:
                taking.discard(record.execution_id)
                self.live_progress.on_taken_over(record.execution_id, record.plan_name)
                self._show_live()

        def failed(operation: str, message: str) -> None:
            if operation == "take_over":
                taking.clear()
                strip.on_refused(message)

        strip.take_over_requested.connect(take_over)
        desk.resumed.connect(opened)
        desk.failed.connect(failed)

    def _show_history_progress(self, widget: ProgressWidget, view: ExecutionView) -> None:
        from drs_desktop.domain.views.event_log import history_snapshot

        # The log is the journal's, the same lines as the report's event list (``views.event_log``).
        widget.show_snapshot(history_snapshot(view, view.state.finished_at or self.clock.now()))

    def open_run_dialog(self) -> None:
        """Ctrl+R: preflight and start a drill or recovery of a saved plan."""
        from PySide6.QtCore import Qt

        from drs_desktop.ui.executions.run_dialog import RunDialog

        assert self.window is not None and self.plans_pane is not None
        names = self.plans_pane.plan_names()
        dialog = RunDialog(names, self.plans_pane.current_plan_name(), self.window, now=self.clock.now())
        if self.running_target is not None:
            dialog.set_targets((self.running_target,))
        dialog.connect_desk(self.execution_desk)
        dialog.trust_row.connect_local(self.local_tasks)  # "Trust…" for a script preflight found untrusted
        dialog.brief_panel.connect_local(self.local_tasks)  # the plan's test brief, edited for this run
        self.plans_pane.plans_listed.connect(dialog.set_plan_names)  # a plan saved meanwhile is offered
        dialog.run_requested.connect(self.live_progress.start_run)
        dialog.attach_requested.connect(self.live_progress.attach_run)  # follow a run DRS runs already
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._show_live)
        dialog.open()

    def _show_live(self) -> None:
        assert self.window is not None
        self.window.show_pane("executions")
        self.executions_tabs.setCurrentWidget(self.live_progress)

    def _build_servers_pane(self, window: MainWindow, db: Database) -> ServersPaneWidget:
        from drs_desktop.ui.servers.servers_pane_widget import ServersPaneWidget

        pane = ServersPaneWidget(clock=self.clock.now)  # each target's age on the app's one clock
        pane.connect_tasks(self.local_tasks, self.aws_tasks)
        pane.inventory_refreshed.connect(self._show_identity)
        pane.refresh_failed.connect(lambda message: window.set_connection_state(f"offline ({message})"))
        window.set_pane_widget("servers", pane)
        if self.running_target is not None:
            pane.start_target(self.running_target)  # whose servers it reads (an empty pane names it)
        self._wire_changes(pane)  # before the first reads: every answer from here on reaches every pane
        pane.load_cached()  # the offline view at once, with its "as of" stamp
        pane.refresh()  # then a background refresh; on failure the cache stays, under a banner
        return pane

    def _wire_changes(self, servers: ServersPaneWidget) -> None:
        """Who announces a change and who shows it, in one place (``ui.change_hub``): a plan saved in
        one pane, an inventory refreshed, an execution started or ended reach every pane showing them."""
        from drs_desktop.ui.change_hub import ChangeHub

        assert self.window is not None and self.plans_pane is not None and self.groups_pane is not None
        hub = ChangeHub(parent=self.window)
        plans, groups, history = self.plans_pane, self.groups_pane, self.history
        plans.plans_changed.connect(hub.announce_plans)
        groups.plan_changed.connect(hub.announce_plans)
        for listener in (plans.on_plans_changed, groups.on_plans_changed, servers.on_plans_changed):
            hub.plans_changed.connect(listener)
        servers.inventory_refreshed.connect(hub.announce_inventory)
        servers.cache_loaded.connect(lambda inventory: hub.announce_inventory(inventory, live=False))
        hub.inventory_changed.connect(plans.set_inventory)
        hub.inventory_changed.connect(groups.set_inventory)
        self.execution_desk.started.connect(hub.announce_executions)
        self.execution_desk.finished.connect(hub.announce_executions)
        history.cleanup_completed.connect(hub.announce_executions)
        history.executions_deleted.connect(hub.announce_executions)
        self.stranded_runs.ended.connect(lambda _execution_id: hub.announce_executions())
        hub.executions_changed.connect(history.request_list)
        self.changes = hub
        # Launch settings drift (issue 16): one reading of every plan on ``aws``, after each inventory
        # refresh and each saved plan, shown by the Servers view, the Plans pane (and the dashboard).
        from drs_desktop.workers.launch_drift_watch import LaunchDriftWatch

        watch = self.launch_drift = LaunchDriftWatch(parent=self.window)
        watch.connect_tasks(self.aws_tasks)
        servers.inventory_refreshed.connect(watch.read)
        hub.plans_changed.connect(watch.read)
        watch.drift_read.connect(servers.set_launch_drift)
        watch.drift_read.connect(plans.set_launch_drift)
        watch.read_failed.connect(servers.launch_not_read)

    def _build_dashboard_pane(self, window: MainWindow, db: Database) -> None:
        """The readiness dashboard (the first pane) on its own task thread, ``readiness``: its preflight
        of every plan reads DRS, and must not hold up the Servers pane's refresh on ``aws``."""
        import threading

        from drs_desktop.aws.drs import DrsGateway
        from drs_desktop.services.readiness import ReadinessService
        from drs_desktop.ui.dashboard.dashboard_pane_widget import DashboardPaneWidget
        from drs_desktop.workers.pane_tasks import ReadinessTasks
        from drs_desktop.workers.tasks import TaskThread

        clock = self.clock  # the app's one clock (services.clock): DRS's, or the demo simulator's
        # Shutdown ends a check at once, even one waiting out DRS's throttling, before the thread stops.
        checks_stop = threading.Event()
        self._on_shutdown.append(checks_stop.set)

        def readiness() -> ReadinessService:  # built on the readiness thread, its gateway too
            return ReadinessService(
                db,
                lambda: DrsGateway(self.current_target, drs_clock=clock),
                clock=clock.now,
                stop=checks_stop,
            )

        tasks: ReadinessTasks = TaskThread("readiness", readiness, close=ReadinessService.close)
        self._task_threads.append(tasks)
        pane = DashboardPaneWidget(clock=clock.now)
        assert self.changes is not None
        pane.connect_tasks(tasks)
        window.set_pane_widget("dashboard", pane)
        # The change hub's news and showing the pane re-read the overview (the database, the cached
        # inventory) and check only plans saved since their last check; every plan is checked by the
        # pane's timer and "Check now", never while the desk drives a run (DRS's quota is the run's).
        self.changes.plans_changed.connect(pane.reload)
        self.changes.inventory_changed.connect(pane.inventory_arrived)
        self.changes.executions_changed.connect(pane.reload)
        assert self.launch_drift is not None
        self.launch_drift.drift_read.connect(pane.set_launch_drift)
        pane.set_launch_drift(self.launch_drift.latest())
        window.pane_changed.connect(lambda key: pane.reload() if key == "dashboard" else None)
        desk = self.execution_desk
        desk.active_changed.connect(lambda count: pane.set_runs_active(count > 0))
        pane.set_runs_active(bool(desk.active_ids()))
        pane.cadence_shown.connect(lambda states, drift_known: self._say_readiness(db, states, drift_known))
        # The Plans pane's native plans readings: a linked plan changed in DRS is a material change.
        assert self.plans_pane is not None
        self.plans_pane.native.reading_changed.connect(pane.set_native_reading)
        reading = self.plans_pane.native.reading()
        if reading is not None:
            pane.set_native_reading(reading)
        pane.refresh()  # the first round of checks (then the timer's)
        self.dashboard_pane = pane

    def _say_readiness(self, db: Database, states: tuple[PlanCadence, ...], drift_known: bool) -> None:
        """The dashboard's cadence, drift and readiness, and the schedules' missed runs, to the plans'
        alert routes where news (``services.readiness_alerts``), on the ``aws`` thread that owns the
        alert sender; never the GUI thread (a webhook or SNS may be slow)."""
        from drs_desktop.services.readiness_alerts import send_readiness
        from drs_desktop.workers.pane_tasks import alert_desk

        now = self.clock.now()
        self.aws_tasks.run_task(
            lambda services: send_readiness(
                db, alert_desk(services).sender, states, now, drift_known=drift_known
            ),
            name="readiness alerts",
        )

    def _build_sync(self, window: MainWindow, db: Database) -> None:
        """Team sync in the background on a thread of its own, ``sync`` (workers.sync_worker): its state
        in the status bar, which opens the conflicts; a local save syncs soon, and what a round brings is
        announced on the change hub so the panes reload."""
        from drs_desktop.services.team_sync import TeamSync
        from drs_desktop.ui.sync.sync_status_widget import SyncStatusWidget
        from drs_desktop.workers.sync_worker import SyncTasks, SyncWorker
        from drs_desktop.workers.tasks import TaskThread

        assert self.changes is not None and self.settings_pane is not None
        tasks: SyncTasks = TaskThread("sync", lambda: TeamSync(db), close=TeamSync.close)
        self._task_threads.append(tasks)
        worker = self.sync_worker = SyncWorker(tasks, parent=window)
        self._on_shutdown.append(worker.stop)
        self.sync_status = SyncStatusWidget()
        self.sync_status.connect_worker(worker)
        self.sync_status.conflicts_requested.connect(self.open_sync_conflicts)
        window.statusBar().addPermanentWidget(self.sync_status)
        hub, settings = self.changes, self.settings_pane
        hub.plans_changed.connect(worker.local_change)
        hub.executions_changed.connect(worker.local_change)
        worker.changes_pulled.connect(self._announce_pulled)
        settings.sync_section.saved.connect(lambda _settings: worker.reconfigured())
        settings.sync_section.sync_now_requested.connect(lambda: worker.sync_now(manual=True))
        worker.status_changed.connect(settings.sync_section.show_status)
        worker.start()

    def _announce_pulled(self, kinds: frozenset[str]) -> None:
        """What a sync round (or a resolution) changed here reaches the panes that show it. Settings are
        read again by the Settings pane unless it is on screen (its fields may hold unsaved edits)."""
        assert self.changes is not None and self.window is not None
        if "plans" in kinds:
            self.changes.announce_plans()
        if "executions" in kinds:
            self.changes.announce_executions()
        if (
            "settings" in kinds
            and self.settings_pane is not None
            and self.window.current_pane() != "settings"
        ):
            self.settings_pane.load()

    def open_sync_conflicts(self) -> None:
        """The conflicts dialog (one, non-modal), its list read again each time it is opened."""
        from drs_desktop.ui.sync.sync_conflicts_dialog import SyncConflictsDialog

        if self._sync_conflicts is None:
            self._sync_conflicts = SyncConflictsDialog(self.sync_worker, self.window)
        self._sync_conflicts.reload()
        self._sync_conflicts.show()
        self._sync_conflicts.raise_()

    def _show_identity(self, inventory: Inventory) -> None:
        from dataclasses import replace

        assert self.window is not None
        demo = self.resolver.demo_endpoint is not None
        running = self.running_target
        if running is not None and not running.demo and not demo and inventory.region == running.region:
            self._set_target(replace(running, account=inventory.account_id))  # now the account is known
        # The target the application runs against names the profile (the badge's): the Settings pane's
        # snapshot may not be read yet after a restart, and "default profile" would then be false.
        if running is not None and not demo:
            profile = running.profile or ("typed access keys" if running.typed_keys else "")
        else:
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
        pane.connect_scripts(self.local_tasks)  # the trusted scripts: files and SQLite, the local thread
        self._on_shutdown.append(pane.cancel_sso)  # an SSO sign-in in progress stops polling
        window.set_pane_widget("settings", pane)
        # Apply saves without moving the application; a change of target is asked for first (by the
        # pane, naming both) and comes here once confirmed and saved.
        pane.target_switch_confirmed.connect(lambda target: self._switch_target(target, servers_pane))
        pane.set_switch_blocker(self._switch_blocked)
        pane.targets_changed.connect(lambda _targets: servers_pane.on_targets_changed())
        pane.first_run_needed.connect(lambda: self._offer_demo(pane, servers_pane, plans_pane))
        self.settings_pane = pane
        if self.running_target is not None:
            pane.set_running_target(self.running_target)
        pane.load()
        if self.simulator is None:
            pane.check_first_run()  # -> first_run_needed when there is no AWS configuration at all

    def _switch_blocked(self) -> str | None:
        """Why the target cannot change now: a run driven here keeps its target and its clock."""
        active = len(self.execution_desk.active_ids())
        if active:
            return f"{active} run(s) in progress; switch once they have ended"
        return None

    def _switch_target(self, target: Target, servers_pane: ServersPaneWidget) -> None:
        """Move to ``target`` (confirmed by the operator): the resolver, the clock, the badges, the data."""
        assert self.window is not None
        if target.demo:
            if self.simulator is None and not self._try_start_demo():
                return
            assert self.simulator is not None
            self.resolver.set_demo(self.simulator.endpoint_url, self.simulator.region)
            self._follow_simulator()
            self.window.set_connection_state(f"simulator at {self.simulator.endpoint_url}")
            self._set_target(self._demo_target())
        else:
            self.resolver.set_demo(None)  # back to AWS; a running simulator stays up, unused, until exit
            self.clock.follow_drs()
            self.window.set_connection_state("connecting…")
            self._set_target(target)
        self.demo = target.demo
        self.resolver.forget_mfa()
        logger.info("switched to %s", target.label)
        self._arrive(servers_pane)

    def _arrive(self, servers_pane: ServersPaneWidget) -> None:
        """After a change of target (the resolver and the clock already moved): every thread and pane
        leaves the previous target. Each task thread builds its services again after the tasks already
        asked (a gateway resolved its target once; the dashboard's checks were the old target's), so
        whatever is asked from here on reaches the new one; the execution loops build theirs as each
        starts. Then the panes drop what they show and read it again, runs of the new target are picked
        up and the others listed."""
        for tasks in self._task_threads:
            tasks.rebuild()
        self.execution_desk.rebuild_services()
        if self.plans_pane is not None:
            self.plans_pane.refresh_native()  # the links as the new target's DRS has them
        if self.changes is not None:
            self.changes.forget_inventory()  # the editors and the dashboard drop the old target's
        if self.launch_drift is not None:
            self.launch_drift.forget()  # the old target's launch settings
        assert self.running_target is not None
        servers_pane.start_target(self.running_target)
        servers_pane.load_cached()
        servers_pane.refresh()  # asked again by the pane if the previous target's is still under way
        self.live_progress.pick_up_unfinished()
        self.stranded_runs.refresh()

    def _follow_simulator(self) -> None:
        """The one clock follows the demo simulator's virtual clock (at whatever scale it runs)."""
        clock = self.simulator.clock if self.simulator is not None else None
        assert clock is not None
        self.clock.follow_simulator(clock.now, lambda: clock.scale)

    def _demo_target(self) -> Target:
        from drs_desktop.domain.targets import Target

        sim = self.simulator
        assert sim is not None
        return Target(demo=True, account=sim.account_id, region=sim.region, endpoint=sim.endpoint_url)

    def _set_target(self, target: Target) -> None:
        """Where the application is now: the window's badges, the settings page's demo box."""
        self.running_target = target
        if self.window is not None:
            self.window.set_targets((target,))
        if self.settings_pane is not None:
            self.settings_pane.set_running_target(target)

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
        self._follow_simulator()
        self._set_target(self._demo_target())
        # Remembered, so the next start is a demo too, and a sample plan to open.
        settings_pane.save_settings(
            ConnectionSettings(region=sim.region, demo=True), settings_pane.poll_spin.value()
        )
        plans_pane.import_file(resource_path("sample-plan.yaml"))
        self.window.set_identity(profile="", region=sim.region, account=sim.account_id, demo=True)
        self.window.set_connection_state(f"simulator at {sim.endpoint_url}")
        self._arrive(servers_pane)  # the threads and panes built for AWS move to the simulator
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


def write_pdf_report(report: PdfReport, path: str) -> Path:
    """``drs-desktop report --format pdf``: the GUI's PDF layout, run headless (``cli`` imports no Qt)."""
    from drs_desktop.ui.executions.report_pdf import write_pdf_headless

    return write_pdf_headless(report, path)


def run_gui(paths: AppPaths, *, demo: bool = False, argv: Sequence[str] = ()) -> int:
    """Start the desktop application and block until its window closes.

    With ``demo``, the built-in DRS simulator (the shipped demo estate) runs in-process on loopback for
    the life of the window, and the application talks to it instead of AWS.
    """
    app = _make_application([sys.argv[0], *argv])
    log_file = LogFile(paths)
    log_file.start()
    desktop = DesktopApp(paths, demo=demo)
    from drs_desktop.workers.os_signals import QuitOnSignal

    # A logout, a kill or Ctrl-C: the same orderly shutdown as a closed window, without asking (exit(),
    # not quit(): quit() asks the windows to close, and the close guard would ask a question nobody
    # answers). Held until the shutdown is done, so that a second signal meanwhile is only logged.
    signals = QuitOnSignal(lambda: app.exit(0))
    try:
        window = desktop.build()
        from drs_desktop.ui.startup_probe import PROBE_ENV, watch_startup

        probe = watch_startup(window, app, os.environ.get(PROBE_ENV))  # the start-up benchmark's
        window.show()
        from drs_desktop.workers.interpreter import start_full_collections, tune_interpreter

        tune_interpreter()
        start_full_collections(window)
        logger.info("DRS Desktop %s started (home %s, demo=%s)", __version__, paths.home, demo)
        code = int(app.exec())
        del probe  # held until the loop ends: Qt calls its event filter
        return code
    finally:
        desktop.shutdown()
        log_file.stop()
        signals.close()


def _name_run_targets(desk: ExecutionDesk, live: ProgressWidget) -> None:
    """The live view names where the run it shows acts: each driven run's target, remembered when it
    starts or is picked up, shown whenever the view shows that run (several may run side by side)."""
    targets: dict[str, Target] = {}

    def remember(record: ExecutionRecord) -> None:
        targets[record.execution_id] = _run_target(record)
        if live.following() in (None, record.execution_id):
            live.set_targets((targets[record.execution_id],))

    def shown(snapshot: ProgressSnapshot) -> None:
        target = targets.get(snapshot.execution_id)
        if target is not None and snapshot.execution_id == live.following():
            live.set_targets((target,))

    desk.started.connect(remember)
    desk.resumed.connect(remember)
    desk.progressed.connect(shown)


def _aws_target(settings: ConnectionSettings) -> Target:
    """The AWS target the stored settings name (its account once DRS has answered)."""
    from drs_desktop.domain.targets import settings_target

    return settings_target(settings, demo=False)


def _run_target(record: ExecutionRecord) -> Target:
    """Where a recorded run acts: its recorded target and identity."""
    from drs_desktop.domain.targets import target_of_execution

    return target_of_execution(record.options, record.identity)


def start_demo_simulator() -> EmbeddedSimulator:
    """The demo estate on a free loopback port, its clock running at DEMO_TIME_SCALE."""
    from drs_desktop.simulator.embedded import EmbeddedSimulator

    simulator = EmbeddedSimulator("demo", time_scale=DEMO_TIME_SCALE)
    simulator.start()
    logger.info("demo: DRS simulator at %s", simulator.endpoint_url)
    return simulator
