"""A plan's alert routes, the last readiness state alerted, and a run's alerts already claimed
(``alert_routes``, ``alert_plan_state``, ``alert_run_sent``: migration 0017).

Local to this desktop, like script trust: nothing here queues a ``sync_outbox`` entry. A webhook's URL
is never in these tables, only the reference of its keyring entry (``AlertRoute.target``). A row that
does not read back whole (an unknown route kind or alert kind, an unreadable time) is a
``StorageError`` naming the route, never a half-read route.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import AlertRoute, RouteKind
from drs_desktop.domain.errors import StorageError
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time

__all__ = [
    "claim_run_alert",
    "delete_route",
    "get_route",
    "list_routes",
    "record_delivery",
    "run_alerts_claimed",
    "save_route",
    "set_plan_state",
]

_COLUMNS = (
    "route_id, plan_id, kind, label, target, kinds, enabled, created_at, last_attempt_at, "
    "last_delivered_at, last_error"
)


def save_route(db: Database, route: AlertRoute) -> AlertRoute:
    """Store ``route`` (a new one, or one of the same ID replaced) and return it as stored."""
    with db.transaction() as conn:
        conn.execute(
            f"INSERT OR REPLACE INTO alert_routes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                route.route_id,
                route.plan_id,
                route.kind.value,
                route.label,
                route.target,
                ",".join(sorted(k.value for k in route.kinds)),
                int(route.enabled),
                to_db_time(route.created_at),
                to_db_time(route.last_attempt_at) if route.last_attempt_at else None,
                to_db_time(route.last_delivered_at) if route.last_delivered_at else None,
                route.last_error,
            ),
        )
    stored = get_route(db, route.route_id)
    assert stored is not None
    return stored


def get_route(db: Readable, route_id: str) -> AlertRoute | None:
    with db.reader() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM alert_routes WHERE route_id = ?", (route_id,)).fetchone()
    return _route(row) if row is not None else None


def list_routes(db: Readable, plan_id: str) -> list[AlertRoute]:
    """The routes of one plan, oldest first."""
    with db.reader() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM alert_routes WHERE plan_id = ? ORDER BY created_at, rowid", (plan_id,)
        ).fetchall()
    return [_route(row) for row in rows]


def delete_route(db: Database, route_id: str) -> bool:
    """Forget a route; False when there was none. The caller deletes its keyring entry."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM alert_routes WHERE route_id = ?", (route_id,)).rowcount > 0


def record_delivery(db: Database, route_id: str, at: datetime, error: str) -> None:
    """What the last send to ``route_id`` did: delivered (``error`` empty) or the error (no secret)."""
    with db.transaction() as conn:
        if error:
            conn.execute(
                "UPDATE alert_routes SET last_attempt_at = ?, last_error = ? WHERE route_id = ?",
                (to_db_time(at), error, route_id),
            )
        else:
            conn.execute(
                "UPDATE alert_routes SET last_attempt_at = ?, last_delivered_at = ?, last_error = '' "
                "WHERE route_id = ?",
                (to_db_time(at), to_db_time(at), route_id),
            )


def set_plan_state(db: Database, plan_id: str, kind: AlertKind, state: str, at: datetime) -> bool:
    """Record ``state`` as the last alerted state of (plan, kind); True when it differs from the one
    recorded (so the caller sends the alert), False when it is the same (nothing to say)."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT state FROM alert_plan_state WHERE plan_id = ? AND kind = ?", (plan_id, kind.value)
        ).fetchone()
        if row is not None and row[0] == state:
            return False
        conn.execute(
            "INSERT OR REPLACE INTO alert_plan_state (plan_id, kind, state, updated_at) VALUES (?, ?, ?, ?)",
            (plan_id, kind.value, state, to_db_time(at)),
        )
        return True


def claim_run_alert(db: Database, execution_id: str, key: str, kind: AlertKind, at: datetime) -> bool:
    """Claim a run's alert for sending: True the first time (send it), False when it was claimed
    before (by this process or one before a crash)."""
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO alert_run_sent (execution_id, alert_key, kind, claimed_at) "
            "VALUES (?, ?, ?, ?)",
            (execution_id, key, kind.value, to_db_time(at)),
        )
        return cursor.rowcount > 0


def run_alerts_claimed(db: Readable, execution_id: str) -> list[tuple[str, AlertKind]]:
    """The (key, kind) of every alert claimed for a run, in the order claimed."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT alert_key, kind FROM alert_run_sent WHERE execution_id = ? ORDER BY claimed_at, rowid",
            (execution_id,),
        ).fetchall()
    try:
        return [(str(key), AlertKind(kind)) for key, kind in rows]
    except ValueError as exc:
        raise StorageError(f"an alert of execution {execution_id} has an unknown kind: {exc}") from None


def _route(row: sqlite3.Row | tuple[object, ...]) -> AlertRoute:
    (route_id, plan_id, kind, label, target, kinds, enabled, created, attempt, delivered, error) = tuple(row)
    try:
        return AlertRoute(
            route_id=str(route_id),
            plan_id=str(plan_id),
            kind=RouteKind(str(kind)),
            label=str(label),
            target=str(target),
            kinds=frozenset(AlertKind(k) for k in str(kinds).split(",")),
            enabled=bool(enabled),
            created_at=from_db_time(str(created)),
            last_attempt_at=from_db_time(str(attempt)) if attempt else None,
            last_delivered_at=from_db_time(str(delivered)) if delivered else None,
            last_error=str(error),
        )
    except (ValueError, TypeError) as exc:
        raise StorageError(f"alert route {route_id} cannot be read: {exc}") from None
