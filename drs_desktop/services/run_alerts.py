"""Run events as alerts: a run held, failed, succeeded, or past its RTO target, said once per run.

``run_alerts_due`` is pure: from an execution's state (and the runner's clock) it says which alerts hold
now, each with a key that names it within the run: ``failed``, ``succeeded``, ``rto-breached``, a hold by
the moment it began (``held:<blocked_since>``, so a second hold later in the run is said too) and an
approval gate by its key. ``RunAlerts`` is the runner's listener (``ExecutionRunner.add_listener``):
after each journaled event it claims each due alert in ``alert_run_sent`` (migration 0017) and hands the
claimed ones to a thread of its own, which reads the plan's routes and sends (``services.alerts``).

Why claimed in a table, before sending: a run resumed after a crash replays its journal without calling
listeners, and its first look at the state finds the same conditions again; the claim makes the second
look a no-op, so nothing is said twice (at most once: a crash between the claim and the send loses that
alert, and the route's last delivery shows it was not sent). Why a thread: a webhook may take seconds
to time out, and the runner's thread must never wait for it; an alert never blocks or fails a run
(every failure is logged and recorded on the route, never raised into the runner).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime

from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.engine.events import Event, Outcome
from drs_desktop.domain.engine.queries import execution_status, failed_waves, pending_approvals
from drs_desktop.domain.engine.state import ExecutionState, ExecutionStatus
from drs_desktop.domain.views.evidence import rto_achieved
from drs_desktop.secrets import SecretStore
from drs_desktop.services.alerts import AlertSender, RouteResult
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.storage import alert_routes as store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["RunAlerts", "attach_run_alerts", "run_alerts_due"]


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def run_alerts_due(
    state: ExecutionState, now: datetime, *, plan_name: str, execution_id: str
) -> list[tuple[str, Alert]]:
    """The (key, alert) pairs that hold for this run now, in the order they should be said."""
    spec = state.spec
    mode = spec.mode.value.lower()
    due: list[tuple[str, Alert]] = []
    end = state.finished_at or now

    def alert(kind: AlertKind, level: AlertLevel, title: str, detail: str, at: datetime) -> Alert:
        return Alert(
            kind=kind,
            level=level,
            plan_name=plan_name,
            title=title,
            detail=detail,
            execution_id=execution_id,
            at=at,
        )

    status = execution_status(state)
    if status is ExecutionStatus.HELD and state.blocked_since is not None:
        waves = [state.spec.waves[i].name for i in failed_waves(state)]
        detail = (
            f"Failed wave(s): {', '.join(waves)}. "
            if waves
            else "An automation step or a target's credentials wait. "
        ) + "Retry, skip the wave, or cancel in DRS Desktop."
        due.append(
            (
                f"held:{state.blocked_since.isoformat()}",
                alert(
                    AlertKind.RUN_HELD,
                    AlertLevel.WARNING,
                    f"{plan_name}: {mode} held for a decision",
                    detail,
                    now,
                ),
            )
        )
    if state.finished is None:
        for gate in pending_approvals(state):
            wave, phase, step = gate.key
            due.append(
                (
                    f"approval:{wave}:{phase.value}:{step}",
                    alert(
                        AlertKind.RUN_HELD,
                        AlertLevel.WARNING,
                        f"{plan_name}: {mode} waits for approval (wave {gate.wave_name})",
                        gate.message,
                        now,
                    ),
                )
            )
    target = spec.rto_target
    if target is not None:
        achieved = rto_achieved(state)
        elapsed = achieved if achieved is not None else end - spec.started_at
        if elapsed > target and (
            achieved is not None or state.finished is None or state.finished is not None
        ):
            over = "took" if achieved is not None else "has run"
            due.append(
                (
                    "rto-breached",
                    alert(
                        AlertKind.RTO_BREACHED,
                        AlertLevel.CRITICAL,
                        f"{plan_name}: {mode} passed its RTO target",
                        f"The {mode} {over} {_minutes(elapsed.total_seconds())} against an RTO target of "
                        f"{_minutes(target.total_seconds())}.",
                        end,
                    ),
                )
            )
    if state.finished is Outcome.FAILED:
        waves = [state.spec.waves[i].name for i in failed_waves(state)]
        detail = f"Failed wave(s): {', '.join(waves)}." if waves else "See the run's evidence report."
        due.append(
            (
                "failed",
                alert(AlertKind.RUN_FAILED, AlertLevel.CRITICAL, f"{plan_name}: {mode} failed", detail, end),
            )
        )
    elif state.finished is Outcome.SUCCEEDED:
        rto = rto_achieved(state)
        detail = f"RTO achieved: {_minutes(rto.total_seconds())}." if rto is not None else ""
        due.append(
            (
                "succeeded",
                alert(
                    AlertKind.RUN_SUCCEEDED, AlertLevel.INFO, f"{plan_name}: {mode} succeeded", detail, end
                ),
            )
        )
    return due


class RunAlerts:
    """One run's alert producer and its sending thread. ``listener`` goes to ``add_listener``; ``check``
    looks at the state once (at attach, for a run resumed after a crash); ``close`` sends what was
    handed over and ends the thread (the CLI, before it returns)."""

    def __init__(
        self,
        db: Database,
        *,
        plan_id: str,
        plan_name: str,
        execution_id: str,
        clock: Callable[[], datetime],
        sender_factory: Callable[[], AlertSender],
    ) -> None:
        self._db = db
        self._plan_id = plan_id
        self._plan_name = plan_name
        self._execution_id = execution_id
        self._clock = clock
        self._sender_factory = sender_factory
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: Every route result of this run's alerts, in order (the CLI prints them; tests read them).
        self.results: list[tuple[Alert, RouteResult]] = []

    def listener(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        self.check(after)

    def check(self, state: ExecutionState) -> None:
        """Claim and hand over the alerts due for ``state``; never raises into the runner."""
        try:
            if not store.list_routes(self._db, self._plan_id):
                return  # no route: nothing is claimed, so a route added later still hears of the end
            for key, alert in run_alerts_due(
                state, self._clock(), plan_name=self._plan_name, execution_id=self._execution_id
            ):
                if store.claim_run_alert(self._db, self._execution_id, key, alert.kind, self._clock()):
                    self._hand_over(alert)
        except Exception:
            logger.exception("run alerts of execution %s could not be checked", self._execution_id)

    def _hand_over(self, alert: Alert) -> None:
        with self._lock:
            self._queue.put(alert)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="run-alerts", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        sender = self._sender_factory()
        try:
            while True:
                try:
                    alert = self._queue.get(timeout=5.0)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                try:
                    if alert is None:
                        return
                    routes = store.list_routes(self._db, self._plan_id)
                    for result in sender.send(alert, routes):
                        self.results.append((alert, result))
                except Exception:
                    logger.exception("an alert of execution %s could not be sent", self._execution_id)
                finally:
                    self._queue.task_done()
        finally:
            sender.close()

    def close(self, timeout: float = 30.0) -> None:
        """Send what is queued, then end the thread."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._queue.put(None)
        thread.join(timeout)


def attach_run_alerts(
    db: Database,
    runner: ExecutionRunner,
    *,
    target: Callable[[], AwsTarget] | None,
    secrets: SecretStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RunAlerts:
    """Attach the run-event producer to an ``ExecutionRunner`` and look at its state once (a run resumed
    after a crash may have ended, or been held, with its alert not yet claimed)."""
    record = runner.record
    now = clock or runner.now
    store_ = secrets

    def sender() -> AlertSender:
        return AlertSender(db, store_ or SecretStore(), target=target, clock=now)

    alerts = RunAlerts(
        db,
        plan_id=record.plan_id,
        plan_name=record.plan_name,
        execution_id=record.execution_id,
        clock=now,
        sender_factory=sender,
    )
    runner.add_listener(alerts.listener)
    alerts.check(runner.state)
    return alerts
