"""The readiness dashboard's data: for every saved plan, whether it is ready (a preflight as a drill),
its last drill and RTO, the RTO predicted from past drills, the servers breaking its RPO and what
changed since its last good drill. Qt-free: the GUI's dashboard asks through its own task thread.

Why two steps (``overview`` then ``check``): everything but readiness is local (the database and the
cached inventory) and answers at once; readiness needs DRS (the account's jobs, every server's launch
configuration) and may take seconds per plan. The pane shows the overview first, with the previous
preflight's result and its time, and the fresh one when the checks answer.

The service belongs to the one thread that calls it (DESIGN §3.5): its SQLite reader and its gateway
are plain attributes, opened on first use and closed by ``close()`` on that thread.

Why a stop event: a check can wait minutes for DRS (``PatientReads`` waits out throttling in place), and
closing the window must not wait for it. The event (``stop()``, from any thread; the app sets it at
shutdown before it stops the thread) is the reads' sleeper, so a wait ends the moment it is set, and is
looked at between plans. ``check``'s ``paused`` is the same between plans and after every wait: a run
that starts meanwhile gets DRS's API quota to itself. A plan whose check was cut short keeps its previous
result (and its time), never a made-up one.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import Mode, spec_from_json
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.domain.views.dashboard import Dashboard, PlanCard, Readiness
from drs_desktop.domain.views.drift import (
    BASELINE_KEY,
    ChangeSet,
    baseline_from_json,
    baseline_of,
    changes_since,
)
from drs_desktop.domain.views.history import ExecutionSummary, HistoryFilter
from drs_desktop.domain.views.readiness import (
    DrillPoint,
    WaveTiming,
    predict_rto,
    rpo_breaches,
    server_lags,
    wave_timings,
)
from drs_desktop.services.cadence import PartialCache, cadence_facts
from drs_desktop.services.executions import RunRequest, prepare_execution
from drs_desktop.services.history import SummaryCache, list_executions
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight import preflight
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database, LazyReader, Readable
from drs_desktop.storage.drill_outcomes import finished_drills

logger = logging.getLogger(__name__)

__all__ = ["DRILLS_CONSIDERED", "ChecksStopped", "ReadinessService", "readiness_of"]

#: Past drills read per plan (newest first): the last one, the RTO chart and the prediction's samples.
DRILLS_CONSIDERED = 20


class ChecksStopped(DrsDesktopError):
    """A check cut short (the app is closing, or a run started): its result is not recorded."""


def readiness_of(report: PreflightReport, revision: int | None = None) -> Readiness:
    """A preflight report as the dashboard keeps it: ready or not, and the failing checks' messages."""
    return Readiness(
        checked_at=report.checked_at,
        ok=report.ok,
        failures=tuple(check.message for check in report.failures),
        warnings=len(report.warnings),
        revision=revision,
    )


class ReadinessService:
    """The dashboard's reads for the thread that owns it. ``gateway`` builds the DRS gateway (on that
    thread, on first need); ``clock`` is the app's (the simulator's in demo mode), so every time the
    dashboard shows is on the run's clock. ``stop``: the event that ends a check in progress (see the
    module docstring); the composition root passes its own so that shutdown can set it."""

    def __init__(
        self,
        db: Database,
        gateway: Callable[[], DrsGateway] | None = None,
        *,
        clock: Callable[[], datetime],
        reads: PatientReads | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._db = db
        self._stop = stop if stop is not None else threading.Event()
        self._paused: Callable[[], bool] = _never
        self._make_gateway = gateway
        self._gateway: DrsGateway | None = None
        self._clock = clock
        self._reads = reads
        self._reader = LazyReader(db)
        self._summaries: SummaryCache = {}
        self._timings: dict[tuple[str, int], dict[str, WaveTiming]] = {}
        self._partial: PartialCache = {}  # the cadence's "was this drill partial", per journal length
        #: The last preflight of each plan, and the launch configurations it read.
        self._checked: dict[str, tuple[Readiness, Mapping[str, LaunchConfigView | None]]] = {}

    # -- the two steps

    def overview(self, *, checking: bool = False) -> Dashboard:
        """Every plan's card from the database and the cached inventory, with its last preflight."""
        db = self._reader()
        inventory = inventory_store.load_inventory(db)
        cards = []
        problems = []
        drills = finished_drills(db)
        for summary in plan_store.list_plans(db):
            try:
                plan = plan_store.get_plan(db, summary.name)
            except DrsDesktopError as error:
                problems.append(f"plan {summary.name!r} cannot be read: {error}")
                continue
            facts = None
            try:
                facts = cadence_facts(
                    db, plan, summary.plan_id, summary.latest_revision, inventory, self._partial, drills
                )
            except DrsDesktopError as error:
                problems.append(f"plan {summary.name!r}: cadence not read: {error}")
            # The card's "last good drill" is the cadence's (one rule: ``domain.views.cadence``).
            good_ids = None if facts is None else {d.execution_id for d in facts.drills if d.good}
            card = self._card(db, plan, inventory, summary.latest_revision, good_ids)
            if facts is not None:
                card = dataclasses.replace(card, cadence=facts)
            cards.append(card)
        return Dashboard(
            cards=tuple(cards),
            updated_at=self._clock(),
            inventory_at=inventory.fetched_at if inventory is not None else None,
            checking=checking,
            problems=tuple(problems),
        )

    def check(
        self, plan_names: Sequence[str] | None = None, *, paused: Callable[[], bool] | None = None
    ) -> Dashboard:
        """Preflight every plan (or those named) as a drill against DRS now, then the overview. Stops
        early once ``stop()`` was called or ``paused()`` (any thread's answer) turns true; the plans not
        checked keep their previous result."""
        revisions = {s.name: s.latest_revision for s in plan_store.list_plans(self._reader())}
        names = list(plan_names) if plan_names is not None else list(revisions)
        self._paused = paused or _never
        try:
            for name in names:
                if self._cut_short():
                    logger.info("dashboard: checks stopped before plan %r", name)
                    break
                result = self._preflight(name, revisions.get(name))
                if self._cut_short():
                    break  # the check was interrupted: what it says is not the plan's readiness
                self._checked[name] = result
        finally:
            self._paused = _never
        return self.overview()

    def stop(self) -> None:
        """From any thread: end a check in progress (its current wait at once) and every later one."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        """Release the reader and the gateway (on the readiness thread, no check running). The stop
        event is the app's, shared by the service a target switch builds next: closing leaves it be."""
        self._reader.close()
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None

    # -- one plan

    def _cut_short(self) -> bool:
        return self._stop.is_set() or self._paused()

    def _wait(self, seconds: float) -> None:
        """``PatientReads``' sleeper: the stop event's wait, so ``stop()`` ends it at once; no wait and
        no further read once stopped or paused."""
        if self._paused() or self._stop.wait(seconds) or self._paused():
            raise ChecksStopped("the readiness check was stopped")

    def _connect(self) -> DrsGateway:
        """The gateway, built on first need, with botocore's read retries off: botocore would resend a
        throttled read at once, in an uninterruptible sleep; ``PatientReads`` paces it instead."""
        if self._make_gateway is None:
            raise DrsDesktopError("no DRS connection is configured")
        if self._gateway is None:
            made = self._make_gateway()
            self._gateway = made.with_single_attempt_reads()
            if self._gateway is not made:
                made.close()
        return self._gateway

    def _preflight(
        self, name: str, revision: int | None
    ) -> tuple[Readiness, Mapping[str, LaunchConfigView | None]]:
        now = self._clock()
        try:
            gateway = self._connect()
            request = RunRequest(plan_name=name, mode=Mode.DRILL)
            reads = self._reads or PatientReads(sleep=self._wait)
            prepared = prepare_execution(self._db, gateway, request, refresh_inventory=False, reads=reads)
            report = preflight(self._db, gateway, prepared, request, now=now, reads=reads)
        except DrsDesktopError as error:
            logger.info("dashboard: plan %r not checked: %s", name, error)
            return Readiness(checked_at=now, ok=False, error=str(error), revision=revision), {}
        return readiness_of(report, prepared.stored.revision.revision), report.launch_configs

    def _card(
        self,
        db: Readable,
        plan: RecoveryPlan,
        inventory: Inventory | None,
        revision: int,
        good_ids: set[str] | None = None,
    ) -> PlanCard:
        """``good_ids``: the plan's good drills as the cadence decides them (a whole-plan drill that
        passed: no server failed); None when the cadence could not be read (then: succeeded, readable)."""
        resolved = list(
            dict.fromkeys(s for i in range(len(plan.waves)) for s in resolve_wave_servers(plan, i, inventory))
        )
        flt = HistoryFilter(plan_name=plan.name, mode=Mode.DRILL.value, limit=DRILLS_CONSIDERED)
        drills = list_executions(db, flt, cache=self._summaries)
        succeeded = [d for d in drills if d.outcome == Outcome.SUCCEEDED.value and d.problem == ""]
        good = succeeded if good_ids is None else [d for d in succeeded if d.execution_id in good_ids]
        # The RTO prediction learns from every drill that ran to success, a failed optional server or not:
        # its waves' times are real.
        timings = [self._wave_timings(db, d.record) for d in succeeded]
        lags = server_lags(resolved, inventory)
        checked = self._checked.get(plan.name)
        readiness, configs = checked if checked is not None else (None, {})
        return PlanCard(
            plan_name=plan.name,
            rto_target=_minutes(plan.rto_minutes),
            rpo_minutes=plan.rpo_minutes,
            server_count=len(resolved),
            readiness=readiness,
            last_drill=drills[0] if drills else None,
            last_good_drill=good[0] if good else None,
            prediction=predict_rto(plan, timings),
            lags=lags,
            breaches=rpo_breaches(lags, plan.rpo_minutes),
            changes=_changes(good[0], resolved, inventory, configs) if good and inventory else None,
            drills=tuple(
                DrillPoint(d.record.started_at, d.outcome, d.rto_achieved) for d in reversed(drills)
            ),
            revision=revision,
        )

    def _wave_timings(self, db: Readable, record: ExecutionRecord) -> dict[str, WaveTiming]:
        key = (record.execution_id, record.event_count)
        found = self._timings.get(key)
        if found is None:
            try:
                found = wave_timings(replayed_state(db, record))
            except (DrsDesktopError, ValueError, TypeError, KeyError) as error:
                logger.warning("execution %s: no wave times (%s)", record.execution_id, error)
                found = {}
            self._timings[key] = found
        return found


def _never() -> bool:
    return False


def _minutes(minutes: int | None) -> timedelta | None:
    return timedelta(minutes=minutes) if minutes else None


def _changes(
    drill: ExecutionSummary,
    resolved: Sequence[str],
    inventory: Inventory | None,
    configs: Mapping[str, LaunchConfigView | None],
) -> ChangeSet | None:
    """What changed since ``drill``: its spec's servers and recorded baseline against today's."""
    try:
        spec = spec_from_json(drill.record.spec)
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("execution %s: unreadable spec (%s)", drill.record.execution_id, error)
        return None
    drilled = [s for wave in spec.waves for s in wave.server_ids]
    baseline = baseline_from_json(drill.record.options.get(BASELINE_KEY))
    today = baseline_of(resolved, inventory, configs or None)
    return changes_since(drilled, baseline, today)
