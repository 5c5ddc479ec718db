"""Links between local plans and the native DRS recovery plans they were published as (or imported from).

One row per local plan (``native_plan_links``, migration 0009): the target (account, Region), the native
plan's ARN, the revision published (its ID and content hash), DRS's steps as read back when the publish
was complete (the items of ListRecoveryPlanSteps, JSON), the native plan's name and description as
published, when and by whom. A publish marks the link ``pending_revision_id`` before it sends anything
(migration 0011) and clears it once DRS's steps equal what was meant, so a link never claims a publish
that did not finish, and what DRS holds of an unfinished one is known to be ours, not drift. A corrupt
steps column is reported (``StorageError``), never taken as "no steps". One native plan has one link:
linking an ARN another plan holds is refused (``LinkTaken``), never a silent replacement.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drs_desktop.domain.errors import StorageError
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now

_COLUMNS = (
    "plan_id, account_id, region, recovery_plan_arn, revision_id, content_hash, steps, published_at, "
    "published_by, pending_revision_id, native_name, native_description"
)


@dataclass(frozen=True)
class NativeLink:
    plan_id: str
    account_id: str
    region: str
    recovery_plan_arn: str
    revision_id: str
    content_hash: str
    steps: tuple[Mapping[str, Any], ...]  # DRS's step items, in order, as read back after the publish
    published_at: datetime
    published_by: str = ""
    pending_revision_id: str = ""  # a publish of this revision started and did not finish ("" none)
    native_name: str = ""  # the native plan's name as published ("" on links made before schema 11)
    native_description: str = ""

    @property
    def incomplete(self) -> bool:
        return bool(self.pending_revision_id)


class LinkTaken(StorageError):
    """The native plan is linked to another local plan already: nothing was written."""


def save_link(
    db: Database,
    *,
    plan_id: str,
    account_id: str,
    region: str,
    recovery_plan_arn: str,
    revision_id: str,
    content_hash: str,
    steps: Sequence[Mapping[str, Any]],
    published_by: str = "",
    now: datetime | None = None,
    pending_revision_id: str = "",
    native_name: str = "",
    native_description: str = "",
) -> NativeLink:
    """Write the link of ``plan_id`` (a plan has one native plan), replacing its earlier one; ``LinkTaken``
    when another plan's link holds ``recovery_plan_arn``."""
    text = json.dumps([dict(s) for s in steps], sort_keys=True, separators=(",", ":"), default=str)
    at = to_db_time(now or utc_now())
    with db.transaction() as conn:
        other = conn.execute(
            "SELECT plan_id FROM native_plan_links WHERE recovery_plan_arn = ? AND plan_id != ?",
            (recovery_plan_arn, plan_id),
        ).fetchone()
        if other is not None:
            raise LinkTaken(
                f"the native plan {recovery_plan_arn} is linked to another local plan (ID {other[0]}); "
                "unlink that plan first (`native unlink`)"
            )
        conn.execute("DELETE FROM native_plan_links WHERE plan_id = ?", (plan_id,))
        conn.execute(
            f"INSERT INTO native_plan_links ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                plan_id,
                account_id,
                region,
                recovery_plan_arn,
                revision_id,
                content_hash,
                text,
                at,
                published_by,
                pending_revision_id,
                native_name,
                native_description,
            ),
        )
    link = get_link(db, plan_id)
    assert link is not None
    return link


def get_link(db: Readable, plan_id: str) -> NativeLink | None:
    with db.reader() as conn:
        rows = _rows(conn, f"SELECT {_COLUMNS} FROM native_plan_links WHERE plan_id = ?", (plan_id,))
    return _link(rows[0]) if rows else None


def link_for_arn(db: Readable, recovery_plan_arn: str) -> NativeLink | None:
    with db.reader() as conn:
        rows = _rows(
            conn,
            f"SELECT {_COLUMNS} FROM native_plan_links WHERE recovery_plan_arn = ?",
            (recovery_plan_arn,),
        )
    return _link(rows[0]) if rows else None


def list_links(db: Readable) -> list[NativeLink]:
    with db.reader() as conn:
        rows = _rows(conn, f"SELECT {_COLUMNS} FROM native_plan_links ORDER BY published_at", ())
    return [_link(row) for row in rows]


def delete_link(db: Database, plan_id: str) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM native_plan_links WHERE plan_id = ?", (plan_id,))


def _rows(conn: sqlite3.Connection, query: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows: list[sqlite3.Row] = cursor.execute(query, params).fetchall()
    return rows


def _link(row: sqlite3.Row) -> NativeLink:
    try:
        steps = json.loads(str(row["steps"]))
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise ValueError("not a list of step objects")
    except ValueError as exc:
        raise StorageError(
            f"the native plan link of plan {row['plan_id']} has unreadable steps ({exc}); publish the plan "
            "again to rewrite it"
        ) from exc
    return NativeLink(
        plan_id=str(row["plan_id"]),
        account_id=str(row["account_id"]),
        region=str(row["region"]),
        recovery_plan_arn=str(row["recovery_plan_arn"]),
        revision_id=str(row["revision_id"]),
        content_hash=str(row["content_hash"]),
        steps=tuple(steps),
        published_at=from_db_time(str(row["published_at"])),
        published_by=str(row["published_by"]),
        pending_revision_id=str(row["pending_revision_id"] or ""),
        native_name=str(row["native_name"] or ""),
        native_description=str(row["native_description"] or ""),
    )


def revision_number(db: Readable, revision_id: str) -> int | None:
    """The number of the revision with this ID (None when it is gone): what a link names, for people."""
    with db.reader() as conn:
        row = conn.execute("SELECT revision FROM plan_revisions WHERE id = ?", (revision_id,)).fetchone()
    return int(row[0]) if row is not None else None
