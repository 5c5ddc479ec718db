"""Scheduled unattended drills (issue 18, item 4): save, remove, list, and the missed-run alerts.

Why a profile check at save time: nobody is at the desk when the scheduler starts the drill, so a
profile that would ask a person for something (an MFA code, an IAM Identity Center sign-in, a keyring
unlock) fails at 02:30 with nobody to see it. ``check_profile`` refuses such a profile now, one clear
line per reason, and proves the rest works with one GetCallerIdentity (call it off the GUI thread).

A schedule is this desktop's own (``storage.schedules``): the entry it writes lives in this machine's
scheduler (``services.schedule_entries``). Saving writes the entry first and records it after; removing
takes the entry out first, so a failure leaves the record that says where the entry is.
"""

from __future__ import annotations

import logging
import os
import secrets as token_source
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from drs_desktop.aws import config_files
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget, is_loopback_url
from drs_desktop.config import HOME_ENV, AppPaths
from drs_desktop.domain.alert_events import Alert
from drs_desktop.domain.connection import AccessKeyPair, key_label
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.schedule.model import Schedule, ScheduleChoice, ScheduleError, check_schedule
from drs_desktop.domain.schedule.timing import LastRun, missed_alerts, schedule_status
from drs_desktop.secrets import SecretStore
from drs_desktop.services.connection import load_connection_settings
from drs_desktop.services.schedule_entries import (
    EntryWritten,
    Runner,
    default_kind,
    remove_entry,
    write_entry,
)
from drs_desktop.storage import schedules as store
from drs_desktop.storage.db import Database, Readable
from drs_desktop.storage.plans import load_plan

logger = logging.getLogger(__name__)

__all__ = [
    "ProfileCheck",
    "SaveResult",
    "ScheduleChoice",
    "ScheduleRow",
    "build_schedule",
    "check_profile",
    "find",
    "home_argument",
    "list_schedules",
    "missed",
    "new_schedule_id",
    "remove",
    "save",
    "typed_keys_for",
]

#: How far a profile's ``source_profile`` chain is followed (botocore refuses loops on its own).
_CHAIN = 5


def new_schedule_id() -> str:
    return token_source.token_hex(6)


def home_argument(paths: AppPaths) -> str:
    """``--home`` for the entry: "" when this is the default home, else its absolute path (also when it
    came from ``$DRS_DESKTOP_HOME``, which the scheduler's environment does not have)."""
    if os.environ.get(HOME_ENV) is None and paths.home == AppPaths.resolve(None).home:
        return ""
    return str(paths.home.absolute())


# -- the profile check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileCheck:
    """What the check found: ``problems`` (each one line) empty means the profile works unattended;
    ``identity`` the ARN GetCallerIdentity answered ("" when it was not reached)."""

    profile: str
    problems: tuple[str, ...]
    identity: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def typed_keys_for(db: Readable, profile: str) -> bool:
    """Whether the connection settings sign ``profile`` in with typed keys (kept in the keyring)."""
    settings = load_connection_settings(db)
    return settings.use_typed_keys and key_label(settings.profile) == key_label(profile)


def _person_needed(profile: str, config: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    name, seen = profile or "default", set()
    for _ in range(_CHAIN):
        if name in seen:
            break
        seen.add(name)
        values = config_files.profile_values(name, config)
        if values.get("role_arn") and values.get("mfa_serial"):
            problems.append(
                f"profile {name!r} assumes role {values['role_arn']} with MFA ({values['mfa_serial']}): a "
                "person must type a code; give the schedule a profile without mfa_serial"
            )
        if config_files.signs_in_with_sso(values):
            problems.append(
                f"profile {name!r} signs in through IAM Identity Center (sso_session/sso_start_url): its "
                "sign-in expires and needs a person; give the schedule a profile with its own credentials"
            )
        source = values.get("source_profile")
        if not source:
            break
        name = str(source)
    return problems


#: Variables that choose the default profile's credentials in this session's environment only.
_SESSION_ONLY = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _environment_only() -> list[str]:
    """The default profile's credentials as this session's environment chooses them: the scheduler
    starts the drill without that environment (its entry sets none), so a GetCallerIdentity that
    passes now on them proves nothing of 02:30. Names the variables, never their values."""
    found = [name for name in _SESSION_ONLY if os.environ.get(name)]
    if not found:
        return []
    return [
        f"the default profile's credentials come from this session's environment ({', '.join(found)}), "
        "which the scheduler does not pass on: give the schedule a named profile from the AWS config files"
    ]


def check_profile(
    db: Readable,
    profile: str,
    region: str,
    secrets: SecretStore,
    *,
    endpoint_url: str | None = None,
    config: dict[str, Any] | None = None,
) -> ProfileCheck:
    """Whether ``profile`` works with nobody at the desk: no MFA role and no SSO in its chain, not the
    default profile on credentials this session's environment chooses (the scheduler lacks it), its
    typed keys (when the settings use them) readable from an unlocked OS keyring, and a
    GetCallerIdentity with it that succeeds now. Network and keyring: never on the GUI thread."""
    config = config_files.full_config() if config is None else config
    local = is_loopback_url(endpoint_url)
    shown = profile or "default"
    if profile and not local and profile not in config.get("profiles", {}):
        return ProfileCheck(profile, (f"profile {shown!r} does not exist in the AWS config files",))
    problems = _person_needed(profile, config)
    if not local and not profile:
        problems += _environment_only()
    keys: AccessKeyPair | None = None
    if typed_keys_for(db, profile):
        status = secrets.status()
        if not status.persistent:
            problems.append(
                f"the access keys of {shown!r} come from the OS keyring, which is locked or absent "
                f"({status.backend}): a scheduled run could not read them"
            )
        else:
            keys = secrets.load_keys(key_label(profile))
            if keys is None:
                problems.append(
                    f"no access keys for {shown!r} could be read from the OS keyring ({status.backend})"
                )
    if problems:
        return ProfileCheck(profile, tuple(problems))
    region = region or load_connection_settings(db).region
    try:
        # typed keys sign on their own (the label only names them), as the unattended drill uses them
        target = AwsTarget(
            profile=None if keys else profile or None,
            region=region,
            endpoint_url=endpoint_url,
            credentials=keys,
        )
        gateway = DrsGateway(target, read_max_attempts=1)
        try:
            identity = gateway.caller_identity()
        finally:
            gateway.close()
    except (DrsError, ValueError) as exc:
        return ProfileCheck(profile, (f"GetCallerIdentity with profile {shown!r} failed: {exc}",))
    return ProfileCheck(profile, (), identity.arn or identity.account)


# -- save, remove, list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    stored: store.StoredSchedule
    written: EntryWritten
    identity: str
    removed_before: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """What the dialog and the CLI say: exactly what was written where, and what ran."""
        schedule = self.stored.schedule
        head = (
            f"scheduled {schedule.plan_name!r} {schedule.describe_when()} (local time) as "
            f"{self.identity or schedule.profile}, schedule {schedule.schedule_id}"
        )
        return [head, *self.removed_before, *self.written.lines()]


def save(
    db: Database,
    schedule: Schedule,
    *,
    secrets: SecretStore,
    program: Sequence[str],
    folder: Path,
    now: datetime,
    endpoint_url: str | None = None,
    enable: bool = False,
    run: Runner | None = None,
    check: Callable[[], ProfileCheck] | None = None,
) -> SaveResult:
    """Validate, check the profile, write the entry (replacing the plan's earlier schedule's), record it.

    ``check``: a profile check the caller already ran (the GUI runs it first, to show it); else it runs
    here. ``folder``: where a Task Scheduler XML is kept. ScheduleError with every reason on refusal."""
    check_schedule(schedule)
    result = (
        check()
        if check is not None
        else check_profile(db, schedule.profile, schedule.region, secrets, endpoint_url=endpoint_url)
    )
    if not result.ok:
        raise ScheduleError("the profile cannot run unattended: " + "; ".join(result.problems))
    extra: dict[str, Any] = {"run": run} if run is not None else {}
    removed: list[str] = []
    for old in store.list_schedules(db):
        if old.schedule.plan_id == schedule.plan_id:
            if (
                old.schedule.schedule_id != schedule.schedule_id
                or old.schedule.entry_kind != schedule.entry_kind
            ):
                removed += remove_entry(old.schedule, old.entry_paths, **extra)
            if old.schedule.schedule_id == schedule.schedule_id:
                schedule = replace(schedule, created_at=old.schedule.created_at)
    written = write_entry(schedule, program, folder=folder, enable=enable, **extra)
    stored = store.save_schedule(db, schedule, written.paths, now)
    logger.info(
        "schedule %s of plan %s saved (%s)", schedule.schedule_id, schedule.plan_id, schedule.entry_kind
    )
    return SaveResult(stored, written, result.identity, tuple(removed))


def find(db: Readable, key: str) -> store.StoredSchedule:
    """A schedule by its ID or its plan's name; ScheduleError when there is none."""
    found = store.get_schedule(db, key)
    if found is not None:
        return found
    matches = [s for s in store.list_schedules(db) if s.schedule.plan_name.casefold() == key.casefold()]
    if len(matches) == 1:
        return matches[0]
    raise ScheduleError(f"no schedule with ID or plan name {key!r}")


def remove(db: Database, key: str, *, run: Runner | None = None) -> list[str]:
    """Take the schedule's entry out, then forget it; what was done, one line each."""
    stored = find(db, key)
    extra: dict[str, Any] = {"run": run} if run is not None else {}
    done = remove_entry(stored.schedule, stored.entry_paths, **extra)
    store.delete_schedule(db, stored.schedule.schedule_id)
    return [*done, f"forgot schedule {stored.schedule.schedule_id} of {stored.schedule.plan_name!r}"]


def _local_converters(
    tz: tzinfo | None,
) -> tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]:
    """aware -> naive local wall time, and back. None: this machine's zone (DST rules included)."""
    if tz is None:
        return (lambda m: m.astimezone().replace(tzinfo=None), lambda n: n.astimezone())
    return (lambda m: m.astimezone(tz).replace(tzinfo=None), lambda n: n.replace(tzinfo=tz))


@dataclass(frozen=True)
class ScheduleRow:
    """A line of the schedule list: the schedule, where its entry is, its last run, and what to say."""

    stored: store.StoredSchedule
    last_run: LastRun | None
    status: str
    alert: Alert | None


def list_schedules(db: Readable, now: datetime, tz: tzinfo | None = None) -> list[ScheduleRow]:
    """Every schedule with its status: "last run ..." or "missed the run due ..."."""
    to_local, from_local = _local_converters(tz)
    rows = []
    for stored in store.list_schedules(db):
        last = store.last_run(db, stored.schedule.schedule_id)
        status = schedule_status(stored.schedule, last, now, to_local, from_local)
        rows.append(ScheduleRow(stored, last, status.text, status.alert))
    return rows


def missed(db: Readable, now: datetime, tz: tzinfo | None = None) -> list[Alert]:
    """An ``AlertKind.SCHEDULE_MISSED`` alert for each schedule whose last due run (plus a grace of two
    hours) has no recorded start, or whose last run recorded no report. For the alert sender."""
    to_local, from_local = _local_converters(tz)
    items = [(s.schedule, store.last_run(db, s.schedule.schedule_id)) for s in store.list_schedules(db)]
    return missed_alerts(items, now, to_local, from_local)


def _absolute(folder: str) -> str:
    return str(Path(folder.strip()).expanduser().absolute()) if folder.strip() else ""


def build_schedule(db: Readable, choice: ScheduleChoice, paths: AppPaths, now: datetime) -> Schedule:
    """The ``Schedule`` of ``choice``: the plan's ID looked up (PlanNotFoundError when there is no such
    plan), the plan's existing schedule's ID kept, ``--home`` when this home is not the default, the
    report folder made absolute. ScheduleError when it does not validate."""
    stored_plan = load_plan(db, choice.plan_name)
    plan_id = stored_plan.revision.plan_id
    existing = next((s.schedule for s in store.list_schedules(db) if s.schedule.plan_id == plan_id), None)
    return check_schedule(
        Schedule(
            schedule_id=existing.schedule_id if existing else new_schedule_id(),
            plan_id=plan_id,
            plan_name=stored_plan.revision.name,
            frequency=choice.frequency,
            hour=choice.hour,
            minute=choice.minute,
            weekday=choice.weekday,
            day_of_month=choice.day_of_month,
            profile=choice.profile.strip(),
            region=choice.region.strip(),
            soak_minutes=choice.soak_minutes,
            auto_approve=choice.auto_approve,
            report_dir=str(Path(choice.report_dir).expanduser().absolute())
            if choice.report_dir.strip()
            else "",
            entry_kind=choice.entry_kind or default_kind(),
            home=home_argument(paths),
            created_at=existing.created_at if existing else now,
        )
    )
