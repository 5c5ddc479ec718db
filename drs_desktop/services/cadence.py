"""Every plan's drill cadence (issue 18, item 3): the facts read from the database, the state decided by
``domain.views.cadence``, the alerts of a worsening, and the CLI's lines.

Qt-free; the GUI reads it on its ``local`` / readiness task thread (through ``ReadinessService``), the
CLI on its main thread. What is read:

- every plan's finished drills in one lean read of the ``executions`` rows (outcome and end, no journal
  replay: ``storage.drill_outcomes``), newest first, counted down to the plan's last good drill;
- whether a successful drill was *partial* (its journal's ``TestRecorded``) and whether a server of it
  ended FAILED (the journal replayed): read only for successful drills newer than the last good one
  (usually one journal per plan). What a good drill is: ``domain.views.cadence`` (``GOOD_DRILL_RULE``);
- the servers of the last good drill (its spec: the pinned revision as it resolved then) and of the
  current revision resolved with the cached inventory, named by the inventory's (or the drill's
  recorded) hostnames;
- launch drift and the native plan's status only as the caller last read them (``LaunchDrift``,
  ``StatusReading``): reading DRS is not this module's business, and a reading's age goes with it.

``cadence_alerts`` is pure: the alert sender (another part of issue 18) calls it with a plan's state
before and after and sends what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.engine.annotation_events import TestRecorded, TestType
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import ServerStatus, spec_from_json
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.domain.views.cadence import (
    CadenceFacts,
    CadenceKind,
    DrillFact,
    NativeKnowledge,
    NativeStatusLike,
    PlanCadence,
    ServerMembership,
    plan_cadence,
    with_readings,
)
from drs_desktop.domain.views.drift import BASELINE_KEY, baseline_from_json
from drs_desktop.domain.views.launch_drift import LaunchDrift
from drs_desktop.services.journal_replay import replay_journal
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Readable
from drs_desktop.storage.drill_outcomes import DrillOutcome, finished_drills

logger = logging.getLogger(__name__)

__all__ = [
    "CadenceReading",
    "DrillRead",
    "NativeStatusLike",
    "PartialCache",
    "cadence_alerts",
    "cadence_facts",
    "cadence_to_json",
    "plan_cadence_facts",
    "read_cadence",
    "read_drill",
    "with_readings",
]

#: Drill rows read per page while looking for the last good drill.
PAGE = 20
_ENDED = frozenset({Outcome.SUCCEEDED.value, Outcome.FAILED.value, Outcome.CANCELLED.value})


@dataclass(frozen=True)
class CadenceReading:
    """Every plan's cadence at ``at``, and the plans that could not be read (one line each)."""

    plans: tuple[PlanCadence, ...]
    at: datetime
    problems: tuple[str, ...] = ()

    @property
    def needs_test(self) -> tuple[PlanCadence, ...]:
        return tuple(p for p in self.plans if p.needs_test)


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class DrillRead:
    """What a successful drill's journal says for the cadence: partial or whole, how many servers ended
    FAILED, and why it could not be read ("" when it could)."""

    partial: bool = False
    failed_servers: int = 0
    problem: str = ""


#: A successful drill's journal as read, by (execution ID, journal length): a journal only grows, so the
#: key is exact. (The name is older than the failed-server count it now also keeps.)
PartialCache = dict[tuple[str, int], DrillRead]


def _drill_read(db: Readable, record: ExecutionRecord, cache: PartialCache | None = None) -> DrillRead:
    key = (record.execution_id, record.event_count)
    if cache is not None and key in cache:
        return cache[key]
    found = read_drill(db, record)
    if cache is not None:
        cache[key] = found
    return found


def read_drill(db: Readable, record: ExecutionRecord) -> DrillRead:
    """The drill's journal replayed (``services.journal_replay``, as every reader replays it): whether it
    was journaled as a partial test (the last ``TestRecorded``) and how many servers ended FAILED. A
    journal that cannot be read or replayed is a ``problem``: the drill is then not counted good (its
    evidence is missing), and the reason is listed."""
    try:
        replayed = replay_journal(db, record)
    except (DrsDesktopError, ValueError, TypeError, KeyError) as error:
        logger.warning("execution %s: journal not read for the cadence (%s)", record.execution_id, error)
        return DrillRead(problem=f"its journal cannot be read ({error})")
    recorded = [e for e in replayed.events if isinstance(e, TestRecorded)]
    failed = sum(1 for s in replayed.state.servers.values() if s.status is ServerStatus.FAILED)
    return DrillRead(bool(recorded) and recorded[-1].test_type is TestType.PARTIAL, failed)


def plan_drills(
    db: Readable, rows: Sequence[DrillOutcome], cache: PartialCache | None = None
) -> tuple[tuple[DrillFact, ...], ExecutionRecord | None]:
    """The plan's finished drills (``rows``, newest first) down to its last good drill
    (``domain.views.cadence``'s rule), and that drill's record (None: none). Older drills do not change
    the cadence; only the successful ones on the way are read whole (their journal says whether they
    were partial and whether a server failed)."""
    facts: list[DrillFact] = []
    for row in rows:
        if row.outcome not in _ENDED:
            continue
        fact = DrillFact(row.execution_id, row.finished_at, row.outcome, False, row.plan_revision)
        if fact.outcome == Outcome.SUCCEEDED.value:
            record = execution_store.get_execution(db, row.execution_id)
            read = _drill_read(db, record, cache)
            fact = replace(
                fact, partial=read.partial, failed_servers=read.failed_servers, problem=read.problem
            )
            if fact.good:
                facts.append(fact)
                return tuple(facts), record
        facts.append(fact)
    return tuple(facts), None


def _resolved(plan: RecoveryPlan, inventory: Inventory | None) -> tuple[str, ...] | None:
    if inventory is None:
        return None
    ids = (s for i in range(len(plan.waves)) for s in resolve_wave_servers(plan, i, inventory))
    return tuple(dict.fromkeys(ids))


def _membership(
    good: ExecutionRecord | None, plan: RecoveryPlan, inventory: Inventory | None, revision: int
) -> ServerMembership | None:
    if good is None:
        return None
    names: dict[str, str] = {}
    drilled: tuple[str, ...] | None
    try:
        spec = spec_from_json(good.spec)
        drilled = tuple(dict.fromkeys(s for wave in spec.waves for s in wave.server_ids))
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("execution %s: unreadable spec (%s)", good.execution_id, error)
        drilled = None
    for server_id, seen in (baseline_from_json(good.options.get(BASELINE_KEY)) or {}).items():
        if seen.hostname:
            names[server_id] = seen.hostname
    if inventory is not None:
        names.update({s.source_server_id: s.hostname for s in inventory.servers if s.hostname})
    at = inventory.fetched_at if inventory is not None else None
    return ServerMembership(drilled, _resolved(plan, inventory), names, at, revision)


def cadence_facts(
    db: Readable,
    plan: RecoveryPlan,
    plan_id: str,
    revision: int,
    inventory: Inventory | None,
    cache: PartialCache | None = None,
    drills_by_plan: Mapping[str, Sequence[DrillOutcome]] | None = None,
) -> CadenceFacts:
    """What the cadence of one saved plan is decided from, as far as the database and the cached
    inventory know; drift and native readings are added by ``with_readings``. ``drills_by_plan``: every
    plan's finished drills as ``finished_drills`` read them (read here when not given)."""
    by_plan = drills_by_plan if drills_by_plan is not None else finished_drills(db)
    drills, good = plan_drills(db, by_plan.get(plan_id, ()), cache)
    try:
        link = native_links.get_link(db, plan_id)
    except DrsDesktopError as error:  # a corrupt link row: said, not taken as "not linked"
        logger.warning("plan %r: native link unreadable (%s)", plan.name, error)
        native: NativeKnowledge | None = NativeKnowledge("", None, None, f"link unreadable: {error}")
    else:
        native = NativeKnowledge(link.recovery_plan_arn) if link is not None else None
    return CadenceFacts(
        plan_name=plan.name,
        cadence=plan.cadence,
        drills=drills,
        servers=_membership(good, plan, inventory, revision),
        native=native,
    )


def plan_cadence_facts(db: Readable, plan_id: str) -> tuple[CadenceFacts | None, str]:
    """The cadence facts of the plan with ``plan_id`` as it is now (a renamed plan is still found), for a
    run's evidence report; None and why when the plan was deleted or cannot be read."""
    try:
        summary = next((s for s in plan_store.list_plans(db) if s.plan_id == plan_id), None)
        if summary is None:
            return None, "the plan no longer exists (deleted since the run)"
        plan = plan_store.get_plan(db, summary.name)
        inventory = inventory_store.load_inventory(db)
        return cadence_facts(db, plan, plan_id, summary.latest_revision, inventory), ""
    except DrsDesktopError as error:
        logger.warning("plan %s: cadence not read for the report (%s)", plan_id, error)
        return None, f"the plan's cadence cannot be read: {error}"


def read_cadence(
    db: Readable,
    now: datetime,
    *,
    drift: LaunchDrift | None = None,
    native: Iterable[NativeStatusLike] = (),
    native_read_at: datetime | None = None,
    not_ready: Mapping[str, bool] | None = None,
) -> CadenceReading:
    """Every live plan's cadence at ``now``; a plan that cannot be read is a problem line, never left out
    silently."""
    inventory = inventory_store.load_inventory(db)
    by_plan = finished_drills(db)
    cache: PartialCache = {}
    statuses = tuple(native)
    states: list[PlanCadence] = []
    problems: list[str] = []
    for summary in plan_store.list_plans(db):
        try:
            plan = plan_store.get_plan(db, summary.name)
            facts = cadence_facts(
                db, plan, summary.plan_id, summary.latest_revision, inventory, cache, by_plan
            )
        except DrsDesktopError as error:
            problems.append(f"plan {summary.name!r} cannot be read: {error}")
            continue
        verdict = (not_ready or {}).get(summary.name)
        facts = with_readings(facts, drift, statuses, native_read_at, verdict)
        states.append(plan_cadence(facts, now))
    return CadenceReading(tuple(states), now, tuple(problems))


# ---------------------------------------------------------------------------------------------- alerts


def cadence_alerts(before: PlanCadence | None, after: PlanCadence, now: datetime) -> tuple[Alert, ...]:
    """The alerts of ``after`` being worse than ``before`` (None: not known before, e.g. the first
    reading since the app started: everything bad in ``after`` is new). Only a worsening alerts: the same
    state a day later (overdue by 4 days after 3) says nothing again.

    - ``TEST_OVERDUE`` (warning): the plan became overdue, never tested, or its re-test overdue;
    - ``DRIFT`` (warning): a launch settings drift reason that ``before`` did not have;
    - ``PLAN_NOT_READY`` (critical): the readiness service says not ready, and did not before.
    """
    alerts: list[Alert] = []
    name = after.plan_name
    was_overdue = before is not None and before.kind.overdue
    if after.kind.overdue and not was_overdue:
        alerts.append(
            Alert(
                kind=AlertKind.TEST_OVERDUE,
                level=AlertLevel.WARNING,
                plan_name=name,
                title=f"{name}: drill {after.headline}",
                detail="\n".join(r.text for r in after.reasons if r.kind is not CadenceKind.UNKNOWN),
                at=now,
            )
        )
    drift_now = _drift_reasons(after)
    drift_before = _drift_reasons(before) if before is not None else set()
    if drift_now - drift_before:
        alerts.append(
            Alert(
                kind=AlertKind.DRIFT,
                level=AlertLevel.WARNING,
                plan_name=name,
                title=f"{name}: launch settings drifted from their desired state",
                detail="\n".join(sorted(drift_now)),
                at=now,
            )
        )
    if after.not_ready is True and (before is None or before.not_ready is not True):
        alerts.append(
            Alert(
                kind=AlertKind.PLAN_NOT_READY,
                level=AlertLevel.CRITICAL,
                plan_name=name,
                title=f"{name}: not ready (its preflight fails)",
                detail=after.line(),
                at=now,
            )
        )
    return tuple(alerts)


def _drift_reasons(state: PlanCadence) -> set[str]:
    """The drift reason's servers part (its age left out, so the same drift read again is not new)."""
    prefix = "launch settings drifted"
    return {
        r.text.rsplit(" (read ", 1)[0]
        for r in state.reasons
        if r.kind is CadenceKind.CHANGED and r.text.startswith(prefix)
    }


# ---------------------------------------------------------------------------------------------- output


def cadence_to_json(state: PlanCadence) -> dict[str, Any]:
    """One plan's cadence for ``plan cadence --json``: times in ISO-8601."""
    return {
        "plan": state.plan_name,
        "state": state.kind.value,
        "headline": state.headline,
        "needs_test": state.needs_test,
        "due_on": state.due_on.isoformat() if state.due_on is not None else None,
        "next_due": state.next_due,
        "last_good_drill": _drill_json(state.last_good),
        "failed_drill": _drill_json(state.last_failed),
        "reasons": [
            {
                "kind": r.kind.value,
                "text": r.text,
                "days": r.days,
                "known_at": r.known_at.isoformat() if r.known_at is not None else None,
            }
            for r in state.reasons
        ],
    }


def _drill_json(drill: DrillFact | None) -> dict[str, Any] | None:
    if drill is None:
        return None
    return {
        "execution_id": drill.execution_id,
        "finished_at": drill.finished_at.isoformat(),
        "outcome": drill.outcome,
        "failed_servers": drill.failed_servers,
        "partial": drill.partial,
        "revision": drill.revision,
    }
