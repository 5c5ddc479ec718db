"""What each of the GUI's task threads owns, and the thread types the panes ask through.

The panes (Plans, Groups, Servers, History, Settings) ask for everything with ``TaskThread.run_task``
(``workers.tasks``) on three threads, split by what their work waits for, so that no kind of work waits
behind another (DESIGN §3.4):

- ``local``: SQLite only. Plans and groups, the history's listing, details and reports, the cached
  inventory and its "Used by" column. A plan opens at once even while DRS is slow.
- ``aws``: DRS over the network. The inventory refresh (which may wait for an MFA code from a dialog),
  a drill's cleanup (which waits for DRS to terminate its instances), extending a staging account's
  servers into the recovery account, and native DRS recovery plans (status, publish, import, drift).
- ``settings``: the keyring (which may block on an unlock prompt), the AWS config files and the IAM
  Identity Center sign-in (which polls until the operator confirms in a browser).
- ``readiness``: the dashboard's background preflight of every plan (DRS reads for each), and its
  overview of the history.
- ``lease-watch``: the History tab's driver strip reads the lease of the unfinished run it shows every
  ``HEARTBEAT_INTERVAL`` seconds (one DynamoDB read), so a slow table never holds up the other panes.

Each thread builds its services on itself (``resources``) and closes them there as it stops, so every
SQLite reader and boto3 client is a plain attribute of a service used by one thread only (DESIGN §3.5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.services.alerts import AlertDesk, RouteResult
from drs_desktop.services.audit_desk import AuditDesk
from drs_desktop.services.connection import MfaPrompter
from drs_desktop.services.execution_takeover import LeaseLook
from drs_desktop.services.extended_servers import ExtendedServersService
from drs_desktop.services.history import ExecutionHistory
from drs_desktop.services.inventory import InventoryService
from drs_desktop.services.launch_apply import ApplyOutcome, ApplyProgress
from drs_desktop.services.launch_drift import AcceptedDrift, LaunchDriftService
from drs_desktop.services.native_desk import (
    DiffResult,
    ImportReport,
    NativeDesk,
    NativeListing,
    PlanStatus,
    PublishResult,
    StatusReading,
)
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.services.readiness import ReadinessService
from drs_desktop.services.retention import RetentionOutcome, RetentionService
from drs_desktop.services.schedule_desk import ScheduleDesk, ScheduleView
from drs_desktop.services.schedules import ProfileCheck
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.services.settings_page import SettingsService
from drs_desktop.workers.tasks import TaskThread

logger = logging.getLogger(__name__)

# SettingsService, ReadinessService and the native plans' answers are named here too: the ui layer may
# not import services, and their panes need the types.
__all__ = [
    "AcceptedDrift",
    "AlertDesk",
    "ApplyOutcome",
    "ApplyProgress",
    "AwsServices",
    "AwsTasks",
    "DiffResult",
    "ExtendedServersService",
    "ImportReport",
    "LaunchDriftService",
    "LeaseLook",
    "LeaseTasks",
    "LocalServices",
    "LocalTasks",
    "NativeDesk",
    "NativeListing",
    "PlanStatus",
    "ProfileCheck",
    "PublishResult",
    "ReadinessService",
    "ReadinessTasks",
    "RetentionOutcome",
    "RetentionService",
    "RouteResult",
    "ScheduleDesk",
    "ScheduleTasks",
    "ScheduleView",
    "ScriptTrustService",
    "SettingsService",
    "SettingsTasks",
    "StatusReading",
    "alert_desk",
    "launch_drift",
    "native_desk",
    "retention",
    "script_trust",
]


def _close_all(
    owner: str,
    *services: PlanLibrary
    | ExecutionHistory
    | InventoryService
    | ExtendedServersService
    | NativeDesk
    | LaunchDriftService
    | AlertDesk
    | AuditDesk
    | None,
) -> None:
    """Close every service, even when one fails (each holds its own reader or clients)."""
    for service in services:
        if service is None:
            continue
        try:
            service.close()
        except Exception:
            logger.exception("closing the %s thread's %s failed", owner, type(service).__name__)


@dataclass
class LocalServices:
    """The ``local`` thread's services: reads and writes of the database, no network. ``scripts`` is
    this desktop's trust in local scripts (it reads and hashes files: local disk, like the database)."""

    plans: PlanLibrary
    history: ExecutionHistory
    inventory: InventoryService
    scripts: ScriptTrustService | None = None
    retention: RetentionService | None = None  # issue 18: list, then delete what the operator confirmed
    audit: AuditDesk | None = None  # issue 18: a run's findings and sign-off (journal appends: local disk)

    def close(self) -> None:
        _close_all("local", self.plans, self.history, self.inventory, self.audit)


@dataclass
class AwsServices:
    """The ``aws`` thread's services, and how it asks the operator for an MFA code. ``extended`` lists
    and extends staging accounts' servers (the Servers pane's "Extend servers" dialog); ``native``
    publishes, imports and compares native DRS recovery plans (the Plans pane and its dialogs);
    ``launch`` reads launch settings drift and accepts it (the Servers view, the plan editor, the
    dashboard)."""

    inventory: InventoryService
    history: ExecutionHistory
    mfa: MfaPrompter | None = None
    extended: ExtendedServersService | None = None
    native: NativeDesk | None = None
    launch: LaunchDriftService | None = None
    #: A plan's alert routes and their test button (issue 18).
    alerts: AlertDesk | None = None

    def close(self) -> None:
        _close_all("aws", self.inventory, self.history, self.extended, self.native, self.launch, self.alerts)


def native_desk(services: AwsServices) -> NativeDesk:
    """The ``aws`` thread's native plans service; a clear error where the thread was built without one."""
    if services.native is None:
        raise DrsDesktopError("native DRS plans are not available here (no service on the aws thread)")
    return services.native


def launch_drift(services: AwsServices) -> LaunchDriftService:
    """The ``aws`` thread's launch drift service; a clear error where the thread was built without one."""
    if services.launch is None:
        raise DrsDesktopError("launch settings are not available here (no service on the aws thread)")
    return services.launch


def alert_desk(services: AwsServices) -> AlertDesk:
    """The ``aws`` thread's alert routes; a clear error where the thread was built without them."""
    if services.alerts is None:
        raise DrsDesktopError("alert routes are not available here (no service on the aws thread)")
    return services.alerts


def script_trust(services: LocalServices) -> ScriptTrustService:
    """The ``local`` thread's script trust service; a clear error where the thread was built without one."""
    if services.scripts is None:
        raise DrsDesktopError("trusted scripts are not available here (no service on the local thread)")
    return services.scripts


def audit_desk(services: LocalServices) -> AuditDesk:
    """The ``local`` thread's audit desk; a clear error where the thread was built without one."""
    if services.audit is None:
        raise DrsDesktopError(
            "findings and sign-offs are not available here (no service on the local thread)"
        )
    return services.audit


def retention(services: LocalServices) -> RetentionService:
    """The ``local`` thread's retention service; a clear error where the thread was built without one."""
    if services.retention is None:
        raise DrsDesktopError("retention is not available here (no service on the local thread)")
    return services.retention


LocalTasks = TaskThread[LocalServices]
AwsTasks = TaskThread[AwsServices]
SettingsTasks = TaskThread[SettingsService]
#: The dashboard's own thread (``readiness``): its checks read DRS for every plan, and an operator's
#: inventory refresh on ``aws`` must not wait behind them.
ReadinessTasks = TaskThread[ReadinessService]
#: The driver strip's own thread (``lease-watch``): a lease read every 5 s, never behind a listing or a
#: cleanup, and none of theirs behind a table that does not answer.
LeaseTasks = TaskThread[LeaseLook]
#: The plan's "Schedule…" dialog's own thread (``schedules``): the profile check reads the keyring and
#: calls STS, saving writes the scheduler's entry (docs/scheduled-drills.md).
ScheduleTasks = TaskThread[ScheduleDesk]
