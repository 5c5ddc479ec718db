"""The execution history: list past executions with filters, find drills that left instances running,
clean them up, and export evidence reports. Qt-free: the CLI (``drs-desktop cleanup``) and the GUI's
History tab (through its task threads) share every function here.

Why the journal is replayed for a listing: the executions table holds a summary the runner keeps in
step, but "which drill instances are still running" and "what RTO was achieved" are only in the
journal, and a listing that disagreed with the report of the same execution would not be evidence. A
finished execution's journal never changes, so ``ExecutionHistory`` caches each summary by the
journal's length.

Cleanup is the runner's own path (as after a crash): resume the execution from its journal, journal a
``CleanupRequested`` control, and run the engine until it has nothing left to do. The engine then
terminates exactly the recovery instances this drill's own jobs launched, each one recorded as proof.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import AwsTarget, is_loopback_url
from drs_desktop.domain.engine.accounts import credential_holds
from drs_desktop.domain.engine.events import CleanupRequested, CredentialsRenewed
from drs_desktop.domain.engine.instances import instances_not_found, not_found_text, survey_not_found
from drs_desktop.domain.engine.queries import active_jobs, execution_status
from drs_desktop.domain.engine.queries import drill_instances_running as running_in_state
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import control_error
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.engine.terminations import awaiting_termination
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.evidence import rto_achieved
from drs_desktop.domain.views.history import CleanupResult, ExecutionSummary, HistoryFilter
from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.domain.views.report_chart import PdfReport
from drs_desktop.services import reports
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.services.journal_replay import replayed_state
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.report_period import PeriodReports
from drs_desktop.services.runner import Clock, ControlRefused, ExecutionRunner, Listener, Sleeper
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage.db import Database, LazyReader, Readable

logger = logging.getLogger(__name__)

__all__ = [
    "ExecutionHistory",
    "GatewayFactory",
    "SummaryCache",
    "cleanup",
    "default_actor",
    "drill_instances_running",
    "export_report",
    "gateway_factory",
    "list_executions",
    "recorded_target",
    "render_report",
    "summarize",
]

#: Builds the gateway that reaches the DRS an execution ran against.
GatewayFactory = Callable[[ExecutionRecord], DrsGateway]
#: Summaries by (execution ID, journal length): a journal only ever grows, so the key is exact.
SummaryCache = dict[tuple[str, int], ExecutionSummary]

#: Rows scanned when a filter needs more than SQL can answer (outcome, dates, instances running).
_SCAN_LIMIT = 10_000


def _never() -> bool:
    return False


# ---------------------------------------------------------------------------------------- reading


def summarize(db: Readable, record: ExecutionRecord) -> ExecutionSummary:
    """One history row. A journal that cannot be replayed gives a row with ``problem`` set."""
    try:
        state = replayed_state(db, record)
    except (DrsDesktopError, ValueError, TypeError, KeyError) as exc:
        logger.warning("execution %s cannot be replayed for the history: %s", record.execution_id, exc)
        return ExecutionSummary(
            record=record,
            status=record.status,
            outcome=record.outcome,
            problem=f"its journal cannot be replayed: {exc}",
        )
    return ExecutionSummary(
        record=record,
        status=execution_status(state).value,
        outcome=state.finished.value if state.finished is not None else None,
        rto_achieved=rto_achieved(state),
        rto_target=state.spec.rto_target,
        drill_instances_running=running_in_state(state) if state.is_drill else (),
        wave_count=len(state.spec.waves),
        server_count=len(state.servers),
    )


def list_executions(
    db: Readable, flt: HistoryFilter | None = None, *, cache: SummaryCache | None = None
) -> list[ExecutionSummary]:
    """Executions matching ``flt``, newest first, at most ``flt.limit``.

    Plan and mode go to SQL; outcome, dates and "drill instances still running" are tested here, the
    last on the replayed state (only drills are replayed for it when nothing else needs a replay).
    """
    flt = flt or HistoryFilter()
    needs_scan = bool(flt.outcome or flt.started_from or flt.started_before or flt.drill_instances_running)
    records = execution_store.list_executions(
        db,
        plan_name=flt.plan_name or None,
        mode=flt.mode or None,
        limit=_SCAN_LIMIT if needs_scan else max(flt.limit, 0),
    )
    rows: list[ExecutionSummary] = []
    for record in records:
        if len(rows) >= flt.limit:
            break
        if not flt.matches_record(record):
            continue
        summary = _cached_summary(db, record, cache)
        if flt.drill_instances_running and not summary.drill_instances_running:
            continue
        rows.append(summary)
    return rows


def _cached_summary(db: Readable, record: ExecutionRecord, cache: SummaryCache | None) -> ExecutionSummary:
    if cache is None:
        return summarize(db, record)
    key = (record.execution_id, record.event_count)
    found = cache.get(key)
    if found is None:
        found = summarize(db, record)
        cache[key] = found
    elif found.record != record:  # identity or status columns refreshed without a new event
        found = dataclasses.replace(found, record=record)
        cache[key] = found
    return found


def drill_instances_running(db: Readable, execution_id: str) -> tuple[str, ...]:
    """Recovery instance IDs the drill launched and has not terminated, from its replayed journal
    (empty for a recovery: its instances are production). ``execution_id`` may be a unique prefix."""
    record = execution_store.get_execution(db, execution_id)
    state = replayed_state(db, record)
    return running_in_state(state) if state.is_drill else ()


# ---------------------------------------------------------------------------------------- cleanup


def default_actor(record: ExecutionRecord) -> str:
    """Who a cleanup is recorded as when the caller names nobody: the identity that ran the drill."""
    identity = record.identity
    return str(identity.get("arn") or identity.get("account") or "drs-desktop")


def cleanup(
    db: Database,
    gateway: DrsGateway,
    execution_id: str,
    by: str = "",
    *,
    clock: Clock | None = None,
    sleep: Sleeper | None = None,
    listener: Listener | None = None,
    only_finished: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> CleanupResult:
    """Terminate the drill's own recovery instances and wait for DRS to accept it, journaled as proof.

    ``CleanupRequested`` is checked on the replayed journal first; only then is the runner resumed, the
    control journaled, and the engine run until it has nothing left to do (``sleep`` defaults to a real
    wait, ``clock`` to DRS's time as its answers tell it). A refused control (a recovery, a drill still
    running, nothing running) opens no runner, journals nothing, sends nothing, and says why.
    ``only_finished`` also refuses a drill being cancelled: the GUI cleans a live run up through that
    run's own runner, never with a second runner on the same journal.
    """
    now = clock or gateway.drs_clock.now
    record = execution_store.get_execution(db, execution_id)
    state = replayed_state(db, record)
    actor = by or default_actor(record)
    before = running_in_state(state) if state.is_drill else ()
    # Checked on the replayed state before a runner is opened: resuming an unfinished execution
    # journals a restart, which a refusal must not leave in a journal (nor in a live run's).
    problem = control_error(state, CleanupRequested(at=now(), by=actor))
    if only_finished and state.finished is None:
        problem = "the execution has not finished; clean it up from its progress view"
    if problem is not None:
        logger.info("cleanup of %s refused: %s", record.execution_id, problem)
        return CleanupResult(record.execution_id, before, before, by=actor, refused=problem)
    # The cleanup drives the execution: only while no other process does (services.driver_lock).
    lock = DriverLock(lock_path(db.path, record.execution_id), execution_id=record.execution_id)
    if not lock.acquire():
        problem = str(lock.busy_error())
        logger.info("cleanup of %s refused: %s", record.execution_id, problem)
        return CleanupResult(record.execution_id, before, before, by=actor, refused=problem)
    with lock:
        runner = ExecutionRunner.resume(db, gateway, record.execution_id, clock=now)
        # A cleanup asked for now tries the credentials it has now: a target held for refused ones
        # (``engine.accounts``) would otherwise send nothing and leave every instance there running.
        for hold in credential_holds(runner.state):
            runner.control(CredentialsRenewed(target=hold.target, at=now(), by=actor))
        try:
            runner.control(CleanupRequested(at=now(), by=actor))
        except ControlRefused as refused:  # the journal moved on since it was read
            logger.info("cleanup of %s refused: %s", record.execution_id, refused)
            return CleanupResult(record.execution_id, before, before, by=actor, refused=str(refused))
        if listener is not None:
            runner.add_listener(listener)
        logger.info("cleanup of %s by %s: %d drill instances", record.execution_id, actor, len(before))
        runner.run(sleep=sleep, return_on_approval=True, should_stop=should_stop or _never)
    result = _cleanup_result(state, runner.state, before, actor)
    logger.info("cleanup of %s: %s", record.execution_id, result.describe())
    return result


def _cleanup_result(
    before_state: ExecutionState, after: ExecutionState, before: tuple[str, ...], actor: str
) -> CleanupResult:
    """What the cleanup did, with a reason for everything it left running."""
    # The survey may have found instances of this execution the journal did not know: targeted too.
    found = [
        i.recovery_instance_id
        for i in after.instances.values()
        if i.recovery_instance_id not in before_state.instances and i.is_drill
    ]
    targeted = (*before, *sorted(found))
    left = running_in_state(after)
    why = tuple((i, _why_left(after, i)) for i in left)
    jobs = sorted(
        {
            i.terminate_job_id
            for i in after.instances.values()
            if i.recovery_instance_id in set(targeted) and i.terminate_job_id
        }
    )
    not_ours = tuple(
        (f.recovery_instance_id, f.server_id, f.reason)
        for f in sorted(after.foreign_instances.values(), key=lambda f: f.recovery_instance_id)
    )
    return CleanupResult(
        after.spec.execution_id,
        targeted,
        left,
        tuple(jobs),
        by=actor,
        why_left=why,
        not_ours=not_ours,
        not_found=(
            *(not_found_text(s, n) for s, n in instances_not_found(after)),
            *survey_not_found(after),
        ),
    )


def _why_left(state: ExecutionState, instance_id: str) -> str:
    instance = state.instances[instance_id]
    if awaiting_termination(state, instance):
        return f"its TERMINATE job {instance.terminate_job_id} has not ended in DRS yet; run cleanup again"
    if instance.terminate_error:
        return f"{instance.terminate_error} after {instance.terminate_attempts} attempt(s)"
    if active_jobs(state):
        return "a launch of this execution is still running in DRS; run cleanup again once it has ended"
    if not state.cleanup_surveyed and state.survey_again_at is not None:
        return "DRS has not listed every instance of this drill yet; cleanup looks again (run it again)"
    if not state.cleanup_surveyed:
        return "DRS's records could not be read yet; run cleanup again"
    if instance.terminate_requested_at is not None:
        return "termination requested, not yet confirmed by DRS"
    return "a launch of this execution is still running in DRS; run cleanup again once it has ended"


def recorded_target(record: ExecutionRecord, current: AwsTarget) -> AwsTarget:
    """Where the execution ran, for its cleanup: its recorded region and profile, else ``current``'s.

    When ``current`` is the simulator (demo mode), its endpoint wins: a loopback port recorded by an
    earlier session is gone. Typed keys (``current.credentials``) go only with ``current``'s profile.
    """
    saved: dict[str, Any] = dict(record.options.get("target") or {})
    region = str(saved.get("region") or current.region)
    if current.is_local:
        return AwsTarget(profile=None, region=region, endpoint_url=current.endpoint_url)
    endpoint = saved.get("endpoint_url")
    endpoint_url = str(endpoint) if endpoint and not is_loopback_url(str(endpoint)) else current.endpoint_url
    profile = str(saved.get("profile") or "") or current.profile
    same_profile = (profile or None) == (current.profile or None)
    return AwsTarget(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        credentials=current.credentials if same_profile else None,
    )


def gateway_factory(current: Callable[[], AwsTarget], drs_clock: DrsClock | None = None) -> GatewayFactory:
    """A factory for ``ExecutionHistory``: the gateway of ``recorded_target(record, current())``, on
    ``drs_clock`` when given (the GUI's one clock, ``services.clock.AppClock``)."""

    def make(record: ExecutionRecord) -> DrsGateway:
        return DrsGateway(recorded_target(record, current()), drs_clock=drs_clock)

    return make


# ---------------------------------------------------------------------------------------- reports


def render_report(db: Readable, execution_id: str, fmt: str, *, generated_at: datetime | None = None) -> str:
    """The evidence report of the execution as text ("html", "json" or "csv")."""
    return reports.render(reports.load_execution_view(db, execution_id), fmt, generated_at=generated_at)


def export_report(
    db: Readable,
    execution_id: str,
    fmt: str,
    path: str | os.PathLike[str],
    *,
    generated_at: datetime | None = None,
) -> Path:
    """Write the evidence report atomically to ``path``; returns the path written."""
    view = reports.load_execution_view(db, execution_id)
    return reports.write_report(view, fmt, path, generated_at=generated_at)


# ---------------------------------------------------------------------------------------- the object


class ExecutionHistory:
    """The history's use cases for the one thread that uses it (a GUI task thread builds it): reads
    through its own connection, a plain attribute opened on first use (as ``PlanLibrary`` does), cleanup
    through the shared one, summaries cached by journal length.

    ``gateway_factory`` builds the gateway of an execution's DRS for a cleanup; ``clock`` and ``sleep``
    are the runner's (real time unless a test drives the simulator's clock); ``should_stop`` (read from
    the cleanup's thread, set from any) makes a cleanup in progress return after its current call, at
    shutdown: what it did is journaled, and running the cleanup again finishes it.
    """

    def __init__(
        self,
        db: Database,
        gateway_factory: GatewayFactory | None = None,
        *,
        clock: Clock | None = None,
        sleep: Sleeper | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self._db = db
        self._gateway_factory = gateway_factory
        self._clock = clock
        self._sleep = sleep
        self._should_stop = should_stop or _never
        self._reader = LazyReader(db)
        self._cache: SummaryCache = {}

    def executions(self, flt: HistoryFilter | None = None) -> list[ExecutionSummary]:
        return list_executions(self._reader(), flt, cache=self._cache)

    def plan_names(self) -> list[str]:
        """Every plan name that has executions (also plans deleted since), sorted for a filter menu."""
        records = execution_store.list_executions(self._reader(), limit=_SCAN_LIMIT)
        return sorted({r.plan_name for r in records}, key=str.casefold)

    def view(self, execution_id: str) -> ExecutionView:
        return reports.load_execution_view(self._reader(), execution_id)

    def period_reports(self) -> PeriodReports:
        """The period roll-up (issue 18), read through this service's connection."""
        return PeriodReports(self._reader())

    def drill_instances_running(self, execution_id: str) -> tuple[str, ...]:
        return drill_instances_running(self._reader(), execution_id)

    def cleanup(self, execution_id: str, by: str = "") -> CleanupResult:
        """A finished drill's cleanup (see ``cleanup``); a run still going is refused."""
        if self._gateway_factory is None:
            raise DrsDesktopError("no DRS connection is configured for cleanup")
        record = execution_store.get_execution(self._reader(), execution_id)
        return cleanup(
            self._db,
            self._gateway_factory(record),
            record.execution_id,
            by,
            clock=self._clock,
            sleep=self._sleep,
            only_finished=True,
            should_stop=self._should_stop,
        )

    def render(self, execution_id: str, fmt: str) -> str:
        return render_report(self._reader(), execution_id, fmt, generated_at=self._now())

    def export(self, execution_id: str, fmt: str, path: str | os.PathLike[str]) -> Path:
        return export_report(self._reader(), execution_id, fmt, path, generated_at=self._now())

    def _now(self) -> datetime | None:
        """A report's time of generation: the history's clock (the GUI's one clock), else now."""
        return self._clock() if self._clock is not None else None

    def pdf_report(self, execution_id: str) -> PdfReport:
        """The PDF form, ready for the ui's layout function (which the task calls on this thread)."""
        return pdf_report(reports.load_execution_view(self._reader(), execution_id), generated_at=self._now())

    def close(self) -> None:
        """Close the read connection, on the thread that used it (a task thread does as it stops)."""
        self._reader.close()
