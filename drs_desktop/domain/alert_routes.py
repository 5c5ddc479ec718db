"""Where a plan's alerts go (issue 18): an SNS topic, or a Slack, Teams or plain JSON webhook.

A route names its target without holding a secret: a topic ARN is not one (it says where, and only
credentials allowed to publish reach it), but a webhook URL is (whoever has it may post), so a webhook
route keeps only a reference to the OS keyring entry holding the URL (``secret_ref``). Routes are local
to this desktop, never synced: delivery depends on this desktop's credentials and keyring, and two
desktops with the same route would send every alert twice. Pure data and checks, stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.errors import DrsDesktopError

__all__ = [
    "RUN_KINDS",
    "AlertRoute",
    "RouteError",
    "RouteKind",
    "check_topic_arn",
    "parse_kinds",
    "topic_region",
]

#: arn:PARTITION:sns:REGION:ACCOUNT:NAME (topic names: 1-256 of letters, digits, - and _; .fifo allowed).
_TOPIC_ARN = re.compile(
    r"^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([A-Za-z0-9_-]{1,251}(?:\.fifo)?)$"
)
#: The run events the run-event producer makes (``services.run_alerts``).
RUN_KINDS = (AlertKind.RUN_HELD, AlertKind.RUN_FAILED, AlertKind.RUN_SUCCEEDED, AlertKind.RTO_BREACHED)


class RouteError(DrsDesktopError):
    """A route that cannot be stored as given (the message says what to change)."""


class RouteKind(StrEnum):
    SNS = "sns"
    SLACK = "slack"
    TEAMS = "teams"
    JSON = "json"

    @property
    def is_webhook(self) -> bool:
        return self is not RouteKind.SNS


@dataclass(frozen=True, kw_only=True)
class AlertRoute:
    """One route of one plan. ``target``: the topic ARN (SNS) or the keyring reference of the webhook
    URL; ``label`` what the operator calls it (never the URL). ``kinds``: the alert kinds it takes
    (``AlertKind.TEST`` always goes, it is the test button's). The last delivery is what the last send
    to this route did: when, whether delivered, and the error (already free of the secret)."""

    route_id: str
    plan_id: str
    kind: RouteKind
    label: str
    target: str
    kinds: frozenset[AlertKind]
    enabled: bool = True
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_delivered_at: datetime | None = None
    last_error: str = ""

    def takes(self, kind: AlertKind) -> bool:
        return self.enabled and (kind is AlertKind.TEST or kind in self.kinds)

    @property
    def last_outcome(self) -> str:
        """One phrase for the screen: never sent, delivered (when), or the error."""
        if self.last_attempt_at is None:
            return "never sent"
        if self.last_error:
            return f"failed at {self.last_attempt_at:%Y-%m-%d %H:%M} UTC: {self.last_error}"
        return f"delivered at {self.last_attempt_at:%Y-%m-%d %H:%M} UTC"


def check_topic_arn(arn: str) -> str:
    """``arn`` stripped, or RouteError saying what an SNS topic ARN looks like."""
    cleaned = arn.strip()
    if not _TOPIC_ARN.match(cleaned):
        raise RouteError(f"{cleaned!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT-ID:TOPIC-NAME)")
    return cleaned


def topic_region(arn: str) -> str:
    """The Region of a topic ARN (SNS publishes in the topic's own Region)."""
    match = _TOPIC_ARN.match(arn)
    if match is None:
        raise RouteError(f"{arn!r} is not an SNS topic ARN")
    return match.group(1)


def parse_kinds(text: str | list[str] | tuple[str, ...]) -> frozenset[AlertKind]:
    """Alert kinds from their names (comma-separated text or a list); "all" is every kind but the test.
    An unknown name is a RouteError listing the known ones, never a silently dropped kind."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise RouteError("a route needs at least one alert kind")
    if names == ["all"]:
        return frozenset(k for k in AlertKind if k is not AlertKind.TEST)
    known = {k.value: k for k in AlertKind}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RouteError(f"unknown alert kind {unknown[0]!r}; known: all, {', '.join(known)}")
    return frozenset(known[n] for n in names)
