"""What may be said outside the app (issue 18): a run's end or hold, an RTO breach, a readiness change.

The producers (the runner's end, the readiness and cadence views, the scheduled-drill checks) make
``Alert`` values; ``services.alerts`` sends them to the plan's routes (an SNS topic, Slack or Teams
webhooks). Pure data, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertKind(StrEnum):
    """Every kind a route may subscribe to. The value is what the message and the settings name."""

    RUN_HELD = "run-held"  # a run waits for a person (a failed wave, a held step, an approval)
    RUN_FAILED = "run-failed"
    RUN_SUCCEEDED = "run-succeeded"
    RTO_BREACHED = "rto-breached"
    PLAN_NOT_READY = "plan-not-ready"
    TEST_OVERDUE = "test-overdue"
    DRIFT = "drift"  # launch settings drifted from their desired state
    SCHEDULE_MISSED = "schedule-missed"  # a scheduled drill did not run, or did not report
    TEST = "test"  # the settings' test button


class AlertLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One thing to say. ``title`` is one line; ``detail`` a few; ``execution_id`` empty for a plan's
    readiness. Never carries a secret: it is sent to third parties as it is."""

    kind: AlertKind
    level: AlertLevel
    plan_name: str
    title: str
    detail: str = ""
    execution_id: str = ""
    at: datetime
