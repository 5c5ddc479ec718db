"""The GUI's schedule service: one object on its own task thread (``schedules``) that the plan's
"Schedule…" dialog asks through ``run_task``.

Why a thread of its own: the profile check reads the AWS config files and the keyring (which may wait
for an unlock prompt) and calls STS; saving writes files and may run ``systemctl``. None of it may run on
the GUI thread, and none of it should wait behind a plan save or an inventory refresh. Every answer is a
frozen value the dialog shows as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from drs_desktop.config import AppPaths
from drs_desktop.domain.schedule.model import ScheduleChoice, ScheduleError
from drs_desktop.secrets import SecretStore
from drs_desktop.services import schedules
from drs_desktop.services.connection import list_profiles, load_connection_settings
from drs_desktop.services.schedule_entries import default_kind, program_argv
from drs_desktop.storage.db import Database

__all__ = ["DEMO_REFUSAL", "ScheduleDesk", "ScheduleView"]


@dataclass(frozen=True)
class ScheduleView:
    """What the dialog opens with: the plan's schedule (None: not scheduled) and its status line, the
    AWS profiles to offer, the Region in force, and this system's entry kind."""

    schedule: schedules.Schedule | None
    status: str
    entry_paths: tuple[str, ...]
    profiles: tuple[str, ...]
    region: str
    default_kind: str


#: Why the demo cannot schedule: its simulator lives in the app's process and ends with it, so an entry
#: the OS scheduler starts at night would find no demo to drill, and would drill real AWS with the
#: profile instead (the entry names no endpoint). A check against the demo's STS would promise otherwise.
DEMO_REFUSAL = (
    "the demo's simulator lives only while DRS Desktop runs: a scheduled drill would run against AWS "
    "with this profile. Leave the demo (Settings, Connection) to schedule a plan"
)


class ScheduleDesk:
    """Schedules of one database, for the GUI. ``endpoint``: a simulator's URL the profile check asks
    (None: AWS); ``demo``: whether the app runs the demo, where nothing can be scheduled
    (``DEMO_REFUSAL``)."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        paths: AppPaths,
        *,
        endpoint: Callable[[], str | None] = lambda: None,
        demo: Callable[[], bool] = lambda: False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._demo = demo
        self._db = db
        self._secrets = secrets
        self._paths = paths
        self._endpoint = endpoint
        self._clock = clock

    def view(self, plan_name: str) -> ScheduleView:
        rows = [
            r
            for r in schedules.list_schedules(self._db, self._clock())
            if r.stored.schedule.plan_name == plan_name
        ]
        row = rows[0] if rows else None
        return ScheduleView(
            schedule=row.stored.schedule if row else None,
            status=row.status if row else "not scheduled",
            entry_paths=row.stored.entry_paths if row else (),
            profiles=tuple(p.name for p in list_profiles()),
            region=load_connection_settings(self._db).region,
            default_kind=default_kind().value,
        )

    def check(self, profile: str, region: str) -> schedules.ProfileCheck:
        if self._demo():
            return schedules.ProfileCheck(profile, (DEMO_REFUSAL,))
        return schedules.check_profile(
            self._db, profile, region, self._secrets, endpoint_url=self._endpoint()
        )

    def save(self, choice: ScheduleChoice, enable: bool) -> list[str]:
        """Save the plan's schedule; the lines that say what was written where (ScheduleError: why not)."""
        if self._demo():
            raise ScheduleError(DEMO_REFUSAL)
        now = self._clock()
        schedule = schedules.build_schedule(self._db, choice, self._paths, now)
        result = schedules.save(
            self._db,
            schedule,
            secrets=self._secrets,
            program=program_argv(),
            folder=self._paths.home / "schedules",
            now=now,
            endpoint_url=self._endpoint(),
            enable=enable,
        )
        return result.lines()

    def remove(self, plan_name: str) -> list[str]:
        return schedules.remove(self._db, plan_name)
