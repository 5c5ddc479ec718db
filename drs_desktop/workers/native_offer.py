""" "Run in DRS" for the run dialog, built on the execution desk's task thread (it reads DRS).

``native_offer`` asks ``ExecutionServices.prepare_native`` for the run in DRS of the operator's choice
and turns its answer into the frozen ``views.run_choice.NativeOffer`` the dialog shows: the preflight and
the prepared run, or the one sentence why the plan cannot run in DRS (``NativePlanError``,
``ExecutionSetupError``: not published, changed in DRS, a point in time chosen...; or DRS could not be
read), with what a run in DRS lacks for this plan in particular. A refusal is an answer, not an error: the
dialog keeps "Run in DRS" disabled with it, and the local run is still offered.
"""

from __future__ import annotations

import logging

from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.views.run_choice import ActiveNativeRun, NativeOffer, plan_differences
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.services.executions import ExecutionSetupError
from drs_desktop.services.native_common import NativePlanError
from drs_desktop.services.native_run import GIVES, LACKS

__all__ = ["DRS_GIVES", "DRS_LACKS", "native_offer"]

#: What a run in DRS gives and lacks against a run here (``services.native_run``), for the run dialog.
DRS_GIVES: tuple[str, ...] = GIVES
DRS_LACKS: tuple[str, ...] = LACKS

logger = logging.getLogger(__name__)


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
