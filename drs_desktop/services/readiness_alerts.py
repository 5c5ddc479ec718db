"""Readiness alerts outside the app (issue 18): a plan's test overdue, its launch settings drifted, the
plan not ready, its scheduled drill missed, each said to the plan's routes once per occurrence.

The producers are pure and already exist: the cadence (``domain.views.cadence``, ``services.cadence``)
and the schedules' missed runs (``services.schedules.missed``). This module turns what they say now into
``Condition``s, one per plan and alert kind, each active or not with a *state*: a short text that stays
the same while the occurrence lasts (the overdue drill's last good and last failed run, the drifted
servers without the reading's age, the missed run's due time). ``send_conditions`` hands each to
``services.alerts.alert_on_change``, which sends only when the state differs from the one last alerted
for (plan, kind), persisted in SQLite: a dashboard refreshed every minute, or ``alerts check`` run by cron
every hour, says an overdue plan once, and again only after it was cleared (a good drill) and became
overdue again. An inactive condition records the empty state without sending.

Two callers: the GUI's dashboard after each cadence reading (drift and readiness included, on the ``aws``
task thread through ``AlertDesk.send_readiness``), and ``drs-desktop alerts check`` (cadence and
schedules only: the command reads no AWS, so drift and readiness are not known there and not said).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.cadence import PlanCadence
from drs_desktop.services.alerts import AlertSender, RouteResult, alert_on_change
from drs_desktop.services.cadence import cadence_alerts
from drs_desktop.services.schedules import missed
from drs_desktop.storage.db import Database
from drs_desktop.storage.schedules import list_schedules

logger = logging.getLogger(__name__)

__all__ = ["CLEARED", "Condition", "SentAlert", "conditions_of", "send_conditions", "send_readiness"]

#: The state recorded for a condition that does not hold now.
CLEARED = ""


@dataclass(frozen=True)
class Condition:
    """One plan's alert kind now: ``alert`` to send when ``active`` and its ``state`` is news."""

    alert: Alert
    state: str
    active: bool


@dataclass(frozen=True)
class SentAlert:
    """An alert that went out, with what each route did."""

    alert: Alert
    results: tuple[RouteResult, ...]


def conditions_of(
    states: Iterable[PlanCadence],
    now: datetime,
    *,
    missed: Sequence[Alert] = (),
    scheduled_plans: Iterable[str] = (),
    drift_known: bool = True,
    readiness_known: bool = True,
) -> list[Condition]:
    """The conditions of every plan in ``states`` (its cadence) and of every plan with a schedule.

    ``drift_known`` / ``readiness_known`` False: the caller read no launch drift or preflight, so those
    kinds are left as they were (neither said nor cleared) rather than cleared by ignorance."""
    conditions: list[Condition] = []
    for state in states:
        alerts = {alert.kind: alert for alert in cadence_alerts(None, state, now)}
        overdue = alerts.get(AlertKind.TEST_OVERDUE)
        conditions.append(
            _condition(state.plan_name, AlertKind.TEST_OVERDUE, overdue, _overdue_state(state), now)
        )
        if drift_known:
            drift = alerts.get(AlertKind.DRIFT)
            conditions.append(
                _condition(state.plan_name, AlertKind.DRIFT, drift, drift.detail if drift else CLEARED, now)
            )
        if readiness_known and state.not_ready is not None:
            ready = alerts.get(AlertKind.PLAN_NOT_READY)
            conditions.append(_condition(state.plan_name, AlertKind.PLAN_NOT_READY, ready, "not ready", now))
    by_plan = {alert.plan_name: alert for alert in missed}
    for plan_name in sorted(set(scheduled_plans) | set(by_plan)):
        alert = by_plan.get(plan_name)
        conditions.append(
            _condition(plan_name, AlertKind.SCHEDULE_MISSED, alert, alert.title if alert else CLEARED, now)
        )
    return conditions


def _overdue_state(state: PlanCadence) -> str:
    """What stays the same while one overdue occurrence lasts: its kind and the drills it is counted
    from (a new drill, good or failed, makes a new occurrence), never the growing day count."""
    good = state.last_good.execution_id if state.last_good else "-"
    failed = state.last_failed.execution_id if state.last_failed else "-"
    return f"{state.kind.value}|good {good}|failed {failed}"


def _condition(plan_name: str, kind: AlertKind, alert: Alert | None, state: str, now: datetime) -> Condition:
    if alert is not None:
        return Condition(alert, state, True)
    quiet = Alert(kind=kind, level=AlertLevel.INFO, plan_name=plan_name, title="", at=now)
    return Condition(quiet, CLEARED, False)


def send_conditions(db: Database, sender: AlertSender, conditions: Iterable[Condition]) -> list[SentAlert]:
    """Send each active condition whose state is news, record the others; off the GUI thread. One plan
    that cannot be looked up (deleted since) is logged and passed over, never stopping the rest."""
    sent: list[SentAlert] = []
    for condition in conditions:
        try:
            results = alert_on_change(
                db, sender, condition.alert, condition.state, clear=not condition.active
            )
        except DrsDesktopError as error:
            logger.warning("readiness alert for %r not sent: %s", condition.alert.plan_name, error)
            continue
        if results:
            sent.append(SentAlert(condition.alert, tuple(results)))
    return sent


def send_readiness(
    db: Database,
    sender: AlertSender,
    states: Iterable[PlanCadence],
    now: datetime,
    *,
    drift_known: bool,
    readiness_known: bool = True,
) -> list[SentAlert]:
    """Every plan's readiness conditions (``states``: the cadence as the caller read it) and every
    schedule's missed run, sent where news (see the module docstring)."""
    scheduled = [stored.schedule.plan_name for stored in list_schedules(db)]
    conditions = conditions_of(
        states,
        now,
        missed=missed(db, now),
        scheduled_plans=scheduled,
        drift_known=drift_known,
        readiness_known=readiness_known,
    )
    return send_conditions(db, sender, conditions)
