""" "Run in DRS" for the run dialog, built on the execution desk's task thread (it reads DRS).

``native_offer`` asks ``ExecutionServices.prepare_native`` for the run in DRS of the operator's choice
and turns its answer into the frozen ``NativeOffer`` the dialog shows: the preflight and the prepared run
(opaque to the ui), or the one sentence why the plan cannot run in DRS (``NativePlanError``,
``ExecutionSetupError``: not published, changed in DRS, a point in time chosen...; or DRS could not be
read), with what a run in DRS lacks for this plan in particular (``plan_differences``) and the executions
of its native plan DRS still runs. A refusal is an answer, not an error: the dialog keeps "Run in DRS"
disabled with it, and the local run is still offered.

These values live here rather than in ``domain.views`` because they join the preflight and the native
plan mapping, which the views may not import (``tests/test_package_layout.py``); all but
``native_offer`` are pure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.native.assess import assess
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.executions import ExecutionSetupError
from drs_desktop.services.native_common import NativePlanError
from drs_desktop.services.native_run import GIVES, LACKS

__all__ = [
    "DRS_GIVES",
    "DRS_LACKS",
    "HERE_GIVES",
    "HERE_LACKS",
    "ActiveNativeRun",
    "NativeOffer",
    "native_offer",
    "plan_differences",
]

#: What a run in DRS gives and lacks against a run here (``services.native_run``), for the run dialog.
DRS_GIVES: tuple[str, ...] = GIVES
DRS_LACKS: tuple[str, ...] = LACKS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveNativeRun:
    """An execution of the plan's native plan that DRS has not ended (one at a time: it blocks a start)."""

    arn: str
    mode: str  # DRILL | RECOVERY
    status: str  # CREATED | IN_PROGRESS | CANCELLING
    started_at: datetime | None = None

    def describe(self) -> str:
        started = f", started {self.started_at:%Y-%m-%d %H:%M} UTC" if self.started_at else ""
        return f"{self.mode} {self.status.replace('_', ' ')}{started}: {self.arn}"


@dataclass(frozen=True)
class NativeOffer:
    """ "Run in DRS" for one choice of plan and mode. ``refusal`` set: it cannot (``prepared`` and
    ``report`` None). ``prepared`` is the services' prepared run, opaque here: the desk starts it."""

    plan_name: str
    prepared: object | None = None
    report: PreflightReport | None = None
    refusal: str = ""
    active: tuple[ActiveNativeRun, ...] = ()
    differences: tuple[str, ...] = ()
    native_name: str = ""
    linked_revision: int = 0

    @property
    def available(self) -> bool:
        return self.prepared is not None and self.report is not None and not self.refusal


def plan_differences(plan: RecoveryPlan | None, point_in_time: datetime | None) -> tuple[str, ...]:
    """What a run in DRS of ``plan`` lacks that a run here of it has, in sentences for the operator."""
    lines: list[str] = []
    if point_in_time is not None:
        lines.append(
            f"a point in time is chosen ({point_in_time:%Y-%m-%d %H:%M} UTC): a run in DRS launches from "
            "the latest recovery point"
        )
    if plan is None:
        return tuple(lines)
    gates = sum(isinstance(s, ApprovalStep) for w in plan.waves for s in (*w.before, *w.after))
    if gates:
        lines.append(
            f"this plan has {gates} approval gate{'s' * (gates != 1)}: a run in DRS cannot have "
            f"{'them' if gates != 1 else 'it'}"
        )
    found = assess(plan, plan.name)
    if not found.problems:
        lines.extend(found.notes)  # e.g. waves that run side by side here run one after another in DRS
    return tuple(lines)


#: What a run here gives and lacks against a run in DRS (``services.native_run`` says it of a run in DRS).
HERE_GIVES = (
    "every feature: approval gates, pause, a point in time, waves side by side, retry of single servers",
)
HERE_LACKS = ("runs while this desktop is open: closed or asleep, it waits, and goes on when it opens again",)


def native_offer(services: ExecutionServices, choice: RunChoice) -> NativeOffer:
    """The run in DRS of ``choice``, or why there is none (see the module docstring)."""
    plan: RecoveryPlan | None = None
    try:
        plan = services.plan(choice.plan_name, choice.revision)
    except DrsDesktopError as exc:  # no such plan: the local check says so too
        return NativeOffer(choice.plan_name, refusal=str(exc))
    differences = plan_differences(plan, choice.point_in_time)
    try:
        preparation = services.prepare_native(choice)
    except (NativePlanError, ExecutionSetupError) as exc:
        return NativeOffer(choice.plan_name, refusal=str(exc), differences=differences)
    except DrsDesktopError as exc:
        logger.warning("the check of a run in DRS of %r failed: %s", choice.plan_name, exc)
        return NativeOffer(
            choice.plan_name,
            refusal=f"DRS could not be read for a run in DRS: {exc}",
            differences=differences,
        )
    native = preparation.prepared.native
    return NativeOffer(
        choice.plan_name,
        prepared=preparation.prepared,
        report=preparation.report,
        active=tuple(
            ActiveNativeRun(arn=e.arn, mode=e.mode, status=e.status, started_at=e.started_at)
            for e in preparation.active
        ),
        differences=differences,
        native_name=native.native_name if native is not None else "",
        linked_revision=preparation.linked_revision,
    )
