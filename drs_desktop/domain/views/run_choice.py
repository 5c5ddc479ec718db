"""The run dialog's second choice, per run: run the plan here (every feature) or in DRS (server-side).

``NativeOffer`` is what the dialog shows of "Run in DRS" for the plan and mode chosen: the run in DRS
prepared and its preflight, or the one sentence that says why the plan cannot run in DRS (not published,
changed in DRS, a point in time chosen, ...), plus what a run in DRS would lose of this plan in particular
(``plan_differences``: its approval gates, the waves that would no longer run side by side) and the
executions of its native plan DRS still runs, which the operator may attach to instead. Frozen values: the
execution desk builds one on its task thread and hands it to the GUI thread. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.native.assess import assess
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan
from drs_desktop.domain.preflight.checks import PreflightReport

__all__ = ["HERE_GIVES", "HERE_LACKS", "ActiveNativeRun", "NativeOffer", "plan_differences"]


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
