"""The status bar's sync line for every state, as a pure function (domain/views/sync_status.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from drs_desktop.domain.views.sync_status import SyncProgress, SyncStatus, status_details, status_text

AS_OF = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
OK = SyncStatus(
    configured=True,
    enabled=True,
    table="team-sync",
    queued=0,
    conflicts=0,
    last_sync_at=datetime(2026, 3, 2, 12, 4, 10, tzinfo=UTC),
    last_error=None,
    failing_since=None,
    as_of=AS_OF,
)
ERROR = "DescribeTable: DynamoDB could not be reached for the sync table team-sync: Could not connect to x"


@pytest.mark.parametrize(
    ("status", "progress", "text"),
    [
        (None, None, "Sync: reading…"),
        (replace(OK, configured=False), None, "Sync: off"),
        (replace(OK, enabled=False, queued=3), None, "Sync: off"),
        (OK, None, "Sync: up to date · 12:04 UTC"),
        (replace(OK, last_sync_at=datetime(2026, 3, 1, 23, 0, tzinfo=UTC)), None,
         "Sync: up to date · 2026-03-01 23:00 UTC"),
        (replace(OK, last_sync_at=None), None, "Sync: not synced yet"),
        (replace(OK, queued=3), None, "Sync: 3 changes waiting · last 12:04 UTC"),
        (replace(OK, queued=1, last_sync_at=None), None, "Sync: 1 change waiting · never synced"),
        (replace(OK, conflicts=2, queued=3), None, "Sync: 2 conflicts · last 12:04 UTC"),
        (OK, SyncProgress("pushing", 12, 40), "Sync: pushing 12 of 40…"),
        (OK, SyncProgress("pulling", 3), "Sync: pulling… (3 changes so far)"),
        (OK, SyncProgress("checking"), "Sync: checking the table…"),
        (replace(OK, last_error=ERROR, failing_since=datetime(2026, 3, 2, 12, 3, tzinfo=UTC)), None,
         "Sync: offline since 12:03 UTC — DynamoDB could not be reached for the sync table team-sync"),
        (replace(OK, last_error="Access denied: the identity lacks dynamodb:GetItem on the sync table t",
                 failing_since=AS_OF, transient=False, conflicts=1), None,
         "Sync: failing since 12:30 UTC — Access denied: the identity lacks dynamodb:GetItem on the sync "
         "table t · 1 conflict"),
    ],
)  # fmt: skip
def test_the_line_for_each_state(status: SyncStatus | None, progress: SyncProgress | None, text: str) -> None:
    assert status_text(status, progress) == text


def test_never_up_to_date_after_a_failed_attempt() -> None:
    failing = replace(OK, last_error="boom", failing_since=AS_OF)
    assert "up to date" not in status_text(failing)
    assert "Failing since 12:30 UTC: boom" in status_details(failing)
    assert "Last successful sync: 12:04 UTC" in status_details(failing)
