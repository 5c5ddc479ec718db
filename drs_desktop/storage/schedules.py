"""This desktop's drill schedules and what their unattended runs recorded (migration 0018).

Why local only, like ``script_trust``: a schedule is an entry in this machine's scheduler that names a
profile of this machine's AWS files; a colleague's desktop could not run it. Nothing here queues a
``sync_outbox`` entry. A row that does not read back whole (an unknown frequency, a time that is not
HH:MM) is a ``StorageError`` naming the schedule, never a half-read schedule that a scheduler would run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.schedule.model import (
    EntryKind,
    Frequency,
    Schedule,
    ScheduleError,
    check_schedule,
    parse_time_of_day,
)
from drs_desktop.domain.schedule.timing import LastRun
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time

__all__ = [
    "StoredSchedule",
    "delete_schedule",
    "end_run",
    "get_schedule",
    "last_run",
    "list_schedules",
    "save_schedule",
    "start_run",
]

_COLUMNS = (
    "id, plan_id, plan_name, frequency, weekday, day_of_month, at_time, profile, region, soak_minutes, "
    "auto_approve, report_dir, entry_kind, entry_paths, home, created_at, updated_at"
)


@dataclass(frozen=True)
class StoredSchedule:
    """A schedule as saved, with where its entry was written (files, or ``crontab``)."""

    schedule: Schedule
    entry_paths: tuple[str, ...]
    updated_at: datetime


def save_schedule(
    db: Database, schedule: Schedule, entry_paths: tuple[str, ...], at: datetime
) -> StoredSchedule:
    """Store ``schedule`` (replacing the plan's earlier one: one schedule per plan)."""
    check_schedule(schedule)
    with db.transaction() as conn:
        conn.execute(
            "DELETE FROM schedules WHERE plan_id = ? AND id <> ?", (schedule.plan_id, schedule.schedule_id)
        )
        conn.execute(
            f"INSERT OR REPLACE INTO schedules ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            (
                schedule.schedule_id,
                schedule.plan_id,
                schedule.plan_name,
                schedule.frequency.value,
                schedule.weekday,
                schedule.day_of_month,
                schedule.at_text,
                schedule.profile,
                schedule.region,
                schedule.soak_minutes,
                int(schedule.auto_approve),
                schedule.report_dir,
                schedule.entry_kind.value,
                "\n".join(entry_paths),
                schedule.home,
                to_db_time(schedule.created_at),
                to_db_time(at),
            ),
        )
    stored = get_schedule(db, schedule.schedule_id)
    assert stored is not None
    return stored


def get_schedule(db: Readable, schedule_id: str) -> StoredSchedule | None:
    with db.reader() as conn:
        row = (
            _cursor(conn).execute(f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
        )
    return _stored(row) if row is not None else None


def list_schedules(db: Readable) -> list[StoredSchedule]:
    """Every schedule, by plan name."""
    with db.reader() as conn:
        rows = _cursor(conn).execute(f"SELECT {_COLUMNS} FROM schedules ORDER BY plan_name, id").fetchall()
    return [_stored(row) for row in rows]


def delete_schedule(db: Database, schedule_id: str) -> bool:
    """Forget the schedule and its runs; False when there was none."""
    with db.transaction() as conn:
        deleted = conn.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)).rowcount
    return deleted > 0


def start_run(db: Database, schedule_id: str, started_at: datetime) -> None:
    """Record that an unattended run began (before it checks anything: a crash still leaves a start)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO schedule_runs (schedule_id, started_at) VALUES (?, ?)",
            (schedule_id, to_db_time(started_at)),
        )


def end_run(
    db: Database,
    schedule_id: str,
    started_at: datetime,
    *,
    ended_at: datetime,
    outcome: str,
    detail: str = "",
    execution_id: str = "",
    report_path: str = "",
) -> None:
    """Record how the run begun at ``started_at`` ended."""
    with db.transaction() as conn:
        updated = conn.execute(
            "UPDATE schedule_runs SET ended_at = ?, outcome = ?, detail = ?, execution_id = ?, "
            "report_path = ? WHERE schedule_id = ? AND started_at = ?",
            (
                to_db_time(ended_at),
                outcome,
                detail,
                execution_id,
                report_path,
                schedule_id,
                to_db_time(started_at),
            ),
        ).rowcount
    if updated != 1:
        raise StorageError(f"schedule {schedule_id} has no run started at {to_db_time(started_at)}")


def last_run(db: Readable, schedule_id: str) -> LastRun | None:
    """The schedule's latest run, or None when it never ran."""
    with db.reader() as conn:
        row = (
            _cursor(conn)
            .execute(
                "SELECT started_at, ended_at, outcome, detail, execution_id, report_path FROM schedule_runs "
                "WHERE schedule_id = ? ORDER BY started_at DESC LIMIT 1",
                (schedule_id,),
            )
            .fetchone()
        )
    if row is None:
        return None
    try:
        return LastRun(
            started_at=from_db_time(str(row["started_at"])),
            ended_at=from_db_time(str(row["ended_at"])) if row["ended_at"] else None,
            outcome=str(row["outcome"]),
            detail=str(row["detail"]),
            execution_id=str(row["execution_id"]),
            report_path=str(row["report_path"]),
        )
    except ValueError as exc:
        raise StorageError(
            f"the last run of schedule {schedule_id} is damaged (a time does not read)"
        ) from exc


def _cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor


def _stored(row: sqlite3.Row) -> StoredSchedule:
    schedule_id = str(row["id"])
    try:
        hour, minute = parse_time_of_day(str(row["at_time"]))
        schedule = check_schedule(
            Schedule(
                schedule_id=schedule_id,
                plan_id=str(row["plan_id"]),
                plan_name=str(row["plan_name"]),
                frequency=Frequency(row["frequency"]),
                hour=hour,
                minute=minute,
                weekday=row["weekday"],
                day_of_month=row["day_of_month"],
                profile=str(row["profile"]),
                region=str(row["region"]),
                soak_minutes=int(row["soak_minutes"]),
                auto_approve=bool(row["auto_approve"]),
                report_dir=str(row["report_dir"]),
                entry_kind=EntryKind(row["entry_kind"]),
                home=str(row["home"]),
                created_at=from_db_time(str(row["created_at"])),
            )
        )
        updated_at = from_db_time(str(row["updated_at"]))
    except (ValueError, ScheduleError) as exc:
        raise StorageError(
            f"schedule {schedule_id} is damaged ({exc}); remove it and schedule the plan again"
        ) from exc
    paths = tuple(p for p in str(row["entry_paths"]).split("\n") if p)
    return StoredSchedule(schedule, paths, updated_at)
