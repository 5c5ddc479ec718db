"""A plan's alert routes, and sending an ``Alert`` to them (issue 18: alerts outside the app).

``send(alert, routes)`` goes to each route on its own: one that fails (a webhook answering 500, a topic
the credentials may not publish to) never stops the others, and each route's result is recorded on the
route (``storage.alert_routes.record_delivery``) and logged by its label, never by its URL. It does
network I/O, so it runs off the GUI thread: on the ``aws`` task thread for the test button, on the run
alerts' own thread for a run's events (``services.run_alerts``).

Routes are local to this desktop and never synced: a webhook URL is a secret and lives in the OS keyring
only (the route keeps the reference of its entry); a topic ARN could travel, but a route delivers with
this desktop's credentials, and two desktops holding the same routes would say every alert twice.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.session import AwsTarget
from drs_desktop.aws.sns import SnsGateway
from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.alert_routes import AlertRoute, RouteError, RouteKind, check_topic_arn
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.secrets import SecretStore
from drs_desktop.services.webhooks import DEFAULT_TIMEOUT, WebhookError, check_webhook_url, post_webhook
from drs_desktop.storage import alert_routes as store
from drs_desktop.storage.db import Database, Readable
from drs_desktop.storage.plans import load_plan

logger = logging.getLogger(__name__)

__all__ = [
    "AlertDesk",
    "AlertSender",
    "RouteResult",
    "add_route",
    "alert_for_test_button",
    "alert_on_change",
    "remove_route",
    "routes_of_plan",
    "sns_message",
]

_REF_PREFIX = "alert-webhook-"


@dataclass(frozen=True)
class RouteResult:
    """What sending one alert to one route did: ``delivered``, and ``detail`` (SNS's message ID or the
    webhook's status when delivered; the error, free of secrets, when not)."""

    route_id: str
    label: str
    kind: RouteKind
    delivered: bool
    detail: str

    def line(self) -> str:
        state = "delivered" if self.delivered else "FAILED"
        return f"{self.label} ({self.kind.value}): {state}: {self.detail}"


def plan_id_of(db: Readable, plan_name: str) -> str:
    """The ID of the plan called ``plan_name`` (``PlanNotFound`` from storage when there is none)."""
    return load_plan(db, plan_name).revision.plan_id


def routes_of_plan(db: Readable, plan_name: str) -> list[AlertRoute]:
    return store.list_routes(db, plan_id_of(db, plan_name))


def add_route(
    db: Database,
    secrets: SecretStore,
    *,
    plan_name: str,
    kind: RouteKind,
    label: str,
    target: str,
    kinds: Iterable[AlertKind],
    now: datetime,
) -> tuple[AlertRoute, bool]:
    """Add a route to a plan. ``target``: the topic ARN (SNS) or the webhook URL, which goes to the OS
    keyring (never to the database). Returns the route and whether its secret is kept across restarts
    (False: no usable keyring, kept in memory for this session only)."""
    kind = RouteKind(kind)  # a value from a widget or a command line may arrive as its text
    plan_id = plan_id_of(db, plan_name)
    chosen = frozenset(AlertKind(k) for k in kinds)
    if not chosen:
        raise RouteError("a route needs at least one alert kind")
    label = " ".join(label.split())
    route_id = str(uuid.uuid4())
    persistent = True
    if kind is RouteKind.SNS:
        stored_target = check_topic_arn(target)
        label = label or stored_target.rsplit(":", 1)[-1]
    else:
        url = check_webhook_url(target)
        if not label:
            raise RouteError("name the webhook route (the label is shown; the URL never is)")
        stored_target = f"{_REF_PREFIX}{route_id}"
        persistent = secrets.save_secret(stored_target, url)
    route = AlertRoute(
        route_id=route_id,
        plan_id=plan_id,
        kind=kind,
        label=label,
        target=stored_target,
        kinds=chosen,
        created_at=now,
    )
    try:
        saved = store.save_route(db, route)
    except Exception:
        if kind.is_webhook:
            secrets.delete_secret(stored_target)
        raise
    logger.info("alert route %s (%s) added to plan %s", label, kind.value, plan_name)
    return saved, persistent


def remove_route(db: Database, secrets: SecretStore, route_id: str) -> bool:
    """Remove a route and, for a webhook, its URL from the keyring; False when there was no such route."""
    route = store.get_route(db, route_id)
    if route is None:
        return False
    store.delete_route(db, route_id)
    if route.kind.is_webhook:
        secrets.delete_secret(route.target)
    logger.info("alert route %s (%s) removed", route.label, route.kind.value)
    return True


def alert_for_test_button(plan_name: str, now: datetime) -> Alert:
    """The alert the test button sends."""
    return Alert(
        kind=AlertKind.TEST,
        level=AlertLevel.INFO,
        plan_name=plan_name,
        title=f"Test alert from DRS Desktop for plan {plan_name}",
        detail="If you can read this, alerts of this plan reach this channel.",
        at=now,
    )


def sns_message(alert: Alert) -> str:
    """The text an SNS topic's subscribers (email, SMS, a queue) get for ``alert``."""
    lines = [alert.title]
    if alert.detail:
        lines += ["", alert.detail]
    lines += [
        "",
        f"Plan: {alert.plan_name}",
        f"Kind: {alert.kind.value} ({alert.level.value})",
        f"When: {alert.at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if alert.execution_id:
        lines.append(f"Execution: {alert.execution_id}")
    lines += ["", "Sent by DRS Desktop."]
    return "\n".join(lines)


def alert_on_change(
    db: Database, sender: AlertSender, alert: Alert, state: str, *, clear: bool = False
) -> list[RouteResult]:
    """For the readiness producers (plan not ready, test overdue, drift, schedule missed): send ``alert``
    to the plan's routes only when ``state`` (a short text naming the condition, e.g. "overdue since
    2026-01-05") differs from the last one alerted for (plan, kind); ``clear`` records the state
    without sending (the condition went away: the next occurrence is news again). Off the GUI thread."""
    plan_id = plan_id_of(db, alert.plan_name)
    if not store.set_plan_state(db, plan_id, alert.kind, state, alert.at) or clear:
        return []
    return sender.send(alert, store.list_routes(db, plan_id))


class AlertSender:
    """Sends alerts to routes on the calling thread (never the GUI's). Owns its SNS gateways (one per
    target, closed by ``close``), so it belongs to one thread like every gateway (DESIGN §3.5).

    ``target``: the AWS target whose credentials publish to SNS (None: an SNS route fails, saying so);
    ``clock``: the time recorded as each route's last attempt; ``ssl_context`` and ``timeout`` are the
    webhooks' (tests trust their own certificate)."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        *,
        target: Callable[[], AwsTarget] | None,
        clock: Callable[[], datetime],
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sns_factory: Callable[[AwsTarget], SnsGateway] = SnsGateway,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._target = target
        self._clock = clock
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._sns_factory = sns_factory
        self._sns: SnsGateway | None = None

    def send(self, alert: Alert, routes: Sequence[AlertRoute]) -> list[RouteResult]:
        """Send ``alert`` to every route that takes its kind, each on its own; the result of each."""
        results = []
        for route in routes:
            if not route.takes(alert.kind):
                continue
            try:
                detail = self._deliver(route, alert)
                result = RouteResult(route.route_id, route.label, route.kind, True, detail)
            except (WebhookError, DrsError, RouteError) as exc:
                result = RouteResult(route.route_id, route.label, route.kind, False, str(exc))
            except Exception as exc:  # a route must never take the others (or a run) down with it
                logger.exception("alert route %s failed unexpectedly", route.label)
                result = RouteResult(route.route_id, route.label, route.kind, False, type(exc).__name__)
            self._record(route, result)
            results.append(result)
        return results

    def close(self) -> None:
        if self._sns is not None:
            self._sns.close()
            self._sns = None

    def _deliver(self, route: AlertRoute, alert: Alert) -> str:
        if route.kind is RouteKind.SNS:
            if self._target is None:
                raise RouteError("no AWS target to publish with (connect to AWS first)")
            if self._sns is None:
                self._sns = self._sns_factory(self._target())
            attributes = {"kind": alert.kind.value, "level": alert.level.value, "plan": alert.plan_name}
            message_id = self._sns.publish(
                route.target, sns_message(alert), subject=alert.title, attributes=attributes
            )
            return f"SNS message {message_id}"
        url = self._secrets.load_secret(route.target)
        if url is None:
            raise RouteError(
                "the webhook URL is not in the OS keyring (or this session's memory): remove the route and "
                "add it again"
            )
        status = post_webhook(route.kind, url, alert, timeout=self._timeout, ssl_context=self._ssl_context)
        return f"HTTP {status}"

    def _record(self, route: AlertRoute, result: RouteResult) -> None:
        try:
            store.record_delivery(
                self._db, route.route_id, self._clock(), "" if result.delivered else result.detail
            )
        except Exception:
            logger.exception("the delivery of alert route %s could not be recorded", route.label)
        if result.delivered:
            logger.info("alert delivered to route %s (%s): %s", route.label, route.kind.value, result.detail)
        else:
            logger.warning("alert to route %s (%s) failed: %s", route.label, route.kind.value, result.detail)


class AlertDesk:
    """The GUI's alert routes, on the ``aws`` task thread (its test publishes to SNS and posts to
    webhooks, and adding a webhook writes the keyring: neither may run on the GUI thread). ``target``
    resolves this session's AWS target when an SNS route is tested."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        *,
        target: Callable[[], AwsTarget],
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._clock = clock
        self._sender = AlertSender(db, secrets, target=target, clock=clock)

    def routes(self, plan_name: str) -> list[AlertRoute]:
        return routes_of_plan(self._db, plan_name)

    def add(
        self, plan_name: str, kind: RouteKind, label: str, target: str, kinds: Iterable[AlertKind]
    ) -> tuple[AlertRoute, bool]:
        return add_route(
            self._db,
            self._secrets,
            plan_name=plan_name,
            kind=kind,
            label=label,
            target=target,
            kinds=kinds,
            now=self._clock(),
        )

    def remove(self, route_id: str) -> bool:
        return remove_route(self._db, self._secrets, route_id)

    @property
    def sender(self) -> AlertSender:
        """The thread's sender, for the readiness alerts the dashboard hands here
        (``services.readiness_alerts.send_readiness``)."""
        return self._sender

    def test(self, plan_name: str) -> list[RouteResult]:
        """Send the test alert to every enabled route of the plan; each route's outcome."""
        return self._sender.send(alert_for_test_button(plan_name, self._clock()), self.routes(plan_name))

    def close(self) -> None:
        self._sender.close()
