"""Schedules the tests share: awkward on purpose (spaces, a percent sign, a quote, a dollar)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from drs_desktop.domain.schedule.model import EntryKind, Frequency, Schedule

CREATED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AWKWARD_PLAN = 'Q3 "shop" 100% $HOME'


def a_schedule(**changes: object) -> Schedule:
    base = Schedule(
        schedule_id="a1b2c3d4e5f6",
        plan_id="plan-1",
        plan_name="Shop",
        frequency=Frequency.DAILY,
        hour=2,
        minute=30,
        profile="drill-bot",
        soak_minutes=30,
        auto_approve=True,
        report_dir="/srv/drill reports",
        entry_kind=EntryKind.SYSTEMD,
        created_at=CREATED,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
