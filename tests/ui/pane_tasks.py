"""The panes' task threads for tests, built as app.py builds them (``workers.pane_tasks``), always stopped.

A QThread left running aborts the whole pytest run, so every thread made here is stopped and waited for
when the ``with`` block ends, whatever the test did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import ConnectionResolver, MfaPrompter
from drs_desktop.services.extended_servers import ExtendedServersService
from drs_desktop.services.history import ExecutionHistory, GatewayFactory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.native_desk import NativeDesk
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.services.runner import Clock, Sleeper
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.storage.db import Database
from drs_desktop.workers.pane_tasks import AwsServices, AwsTasks, LocalServices, LocalTasks, SettingsTasks
from drs_desktop.workers.tasks import TaskThread


def desktop_clock() -> datetime:
    """The clock a pane under test stamps on where the test has no simulator: the desktop's, given
    explicitly (panes have no default clock: the app gives its one clock)."""
    return datetime.now(UTC)


@dataclass
class PaneThreads:
    local: LocalTasks
    aws: AwsTasks


@contextmanager
def pane_threads(
    db: Database,
    resolver: ConnectionResolver | None = None,
    *,
    history_gateways: GatewayFactory | None = None,
    inventory_gateways: Callable[[AwsTarget], DrsGateway] = DrsGateway,
    clock: Clock | None = None,
    sleep: Sleeper | None = None,
    mfa: MfaPrompter | None = None,
    should_stop: Callable[[], bool] | None = None,
    native_clock: Callable[[], datetime] = desktop_clock,
) -> Iterator[PaneThreads]:
    """The ``local`` and ``aws`` threads over ``db``; ``resolver`` says where DRS is for a refresh."""
    chosen = resolver or ConnectionResolver(db, SecretStore())

    def local() -> LocalServices:
        return LocalServices(
            PlanLibrary(db), ExecutionHistory(db), InventoryService(db, chosen), ScriptTrustService(db)
        )

    def aws() -> AwsServices:
        history = ExecutionHistory(db, history_gateways, clock=clock, sleep=sleep, should_stop=should_stop)
        extended = ExtendedServersService(db, chosen, gateway_factory=inventory_gateways)
        native = NativeDesk(
            db, chosen, gateway_factory=inventory_gateways, clock=native_clock, sleep=sleep, operator="tester"
        )
        return AwsServices(
            InventoryService(db, chosen, gateway_factory=inventory_gateways), history, mfa, extended, native
        )

    threads = PaneThreads(
        TaskThread("test-local", local, close=LocalServices.close),
        TaskThread("test-aws", aws, close=AwsServices.close),
    )
    try:
        yield threads
    finally:
        stopped = [threads.aws.stop(), threads.local.stop()]
        assert all(stopped), "a task thread did not stop"


@contextmanager
def settings_thread(service: Callable[[], SettingsService]) -> Iterator[SettingsTasks]:
    """The ``settings`` thread; ``service`` builds its SettingsService on it."""
    thread: SettingsTasks = TaskThread("test-settings", service)
    try:
        yield thread
    finally:
        assert thread.stop(), "the settings thread did not stop"
