"""Running a plan in DRS: the preparation and preflight of a run in DRS, and attaching to one.

A run in DRS is an execution like any other (journal, live progress, history, evidence, cleanup) whose
spec names the native plan (``engine.native``). It runs the revision of the plan that is published in
DRS (its link), with DRS's steps as they are now, which must still be those published: a native plan
changed in DRS since is refused with what changed (``native diff`` shows it; ``native adopt`` or a new
publish settles it). Preparing reads DRS and launches nothing.

``attach`` makes this desktop follow an execution of the linked native plan started elsewhere (another
desktop, the console): nothing is started, its jobs are followed and a drill's instances can be cleaned
up from here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_plans import NativeExecutionView
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.domain.engine.native_state import NATIVE_ACTIVE, NativeRunSpec
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.native.drift import describe_drift, same_steps
from drs_desktop.domain.native.run_map import run_layout
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.domain.preflight.rules import Check, CheckStatus
from drs_desktop.services.executions import (
    ExecutionSetupError,
    PreparedExecution,
    RunRequest,
    create_execution,
    run_inventory,
)
from drs_desktop.services.native_common import (
    NativePlanError,
    linked_here,
    linked_plan,
    linked_steps,
    target_of,
)
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight import preflight
from drs_desktop.services.runner import Clock, ExecutionRunner
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

#: The preflight check of a run in DRS's own conditions (the link, drift, another execution in DRS).
NATIVE = "native-plan"

#: What a run in DRS gives and lacks against a run here, for the run dialog and ``native run --help``.
GIVES = (
    "runs in AWS: it goes on with this desktop closed, asleep or offline",
    "retry, skip and cancel from any desktop or the DRS console",
)
LACKS = (
    "no approval gates (DRS has none) and no pause",
    "waves run one after another, one job per wave (at most 100 servers, 20 steps)",
    "no point in time: DRS launches from the latest recovery point",
    "followed while a desktop is open: the live view, job log, evidence and drill cleanup come from it",
)


@dataclass(frozen=True)
class NativePreparation:
    """What a run in DRS would run, its preflight, and the executions of its native plan DRS has that are
    not over (one of them blocks a start; this desktop may attach to it instead)."""

    prepared: PreparedExecution
    report: PreflightReport
    link: native_links.NativeLink
    active: tuple[NativeExecutionView, ...]
    linked_revision: int


def prepare_native_run(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    *,
    refresh_inventory: bool = True,
    reads: PatientReads | None = None,
) -> tuple[PreparedExecution, native_links.NativeLink, tuple[NativeExecutionView, ...], list[Check]]:
    """Read the link, the native plan and its executions; the prepared run and the native checks.
    ``NativePlanError`` or ``ExecutionSetupError`` when the plan cannot run in DRS at all."""
    read = reads or PatientReads()
    if request.point_in_time is not None:
        raise ExecutionSetupError("a run in DRS launches from the latest recovery point: no point in time")
    latest = plan_store.load_plan(db, request.plan_name)
    link = native_links.get_link(db, latest.revision.plan_id)
    if link is None:
        raise NativePlanError(
            f"plan {latest.revision.name!r} is not published to DRS from this desktop: publish it first "
            f"(`drs-desktop native publish {latest.revision.name}` or Publish in the Plans pane; a plan a "
            "teammate published is found in DRS by its tag and linked, not created again)"
        )
    runs = NativeRunsGateway(gateway)
    account, region = read(lambda: target_of(runs), "GetCallerIdentity")
    linked_here(link, account, region)
    if link.incomplete:
        raise NativePlanError(
            f"the last publish of {latest.revision.name!r} did not finish: publish it again first"
        )
    number = native_links.revision_number(db, link.revision_id)
    if number is None:
        raise NativePlanError("the revision published to DRS is gone from this desktop: publish again")
    if request.revision is not None and request.revision != number:
        raise NativePlanError(
            f"DRS holds revision {number} of {latest.revision.name!r}, not {request.revision}: publish "
            f"revision {request.revision} first, or run revision {number}"
        )
    stored = plan_store.load_plan(db, request.plan_name, number)
    view = read(lambda: linked_plan(runs, link, latest.revision.name), "GetRecoveryPlan")
    if view is None:
        raise NativePlanError(f"the native plan {link.recovery_plan_arn} no longer exists in DRS")
    live = [v.step for v in read(lambda: runs.list_steps(link.recovery_plan_arn), "ListRecoveryPlanSteps")]
    published = linked_steps(link)
    if not same_steps(live, published):
        lines = describe_drift(published, live, where="in DRS")
        raise NativePlanError(
            "the native plan was changed in DRS since it was published, so it would not run the plan as "
            f"published: {'; '.join(lines[:4])}. See `drs-desktop native diff {latest.revision.name}`"
        )
    try:
        layout = run_layout(stored.plan, live)
    except ValueError as exc:
        raise NativePlanError(f"the native plan's steps are not this plan's: {exc}") from exc
    executions = read(lambda: runs.list_executions(link.recovery_plan_arn), "ListRecoveryPlanExecutions")
    active = tuple(e for e in executions if e.status in NATIVE_ACTIVE)
    inventory = run_inventory(db, gateway, refresh=refresh_inventory, read=read)
    plan = _as_published(stored.plan, layout.optional)
    native = NativeRunSpec(
        plan_arn=link.recovery_plan_arn,
        client_token="",
        steps=layout.steps,
        account_id=link.account_id,
        region=link.region,
        native_name=view.name,
    )
    prepared = PreparedExecution(
        dataclasses.replace(stored, plan=plan), inventory, layout.wave_servers, None, {}, native=native
    )
    checks = _native_checks(latest.revision.revision, number, view.name, active)
    return prepared, link, active, checks


def _as_published(plan: RecoveryPlan, optional: dict[str, tuple[str, ...]]) -> RecoveryPlan:
    """The plan with each wave's optional servers as DRS has them (the impact DRS acts on)."""
    waves = tuple(dataclasses.replace(w, optional=optional.get(w.name, ())) for w in plan.waves)
    return dataclasses.replace(plan, waves=waves)


def _native_checks(
    latest: int, linked: int, native_name: str, active: Sequence[NativeExecutionView]
) -> list[Check]:
    checks = [Check(NATIVE, CheckStatus.PASS, f"native plan {native_name!r} is revision {linked}, unchanged")]
    if latest != linked:
        checks.append(
            Check(
                NATIVE,
                CheckStatus.WARN,
                f"DRS holds revision {linked}; revision {latest} is not published: the run in DRS runs "
                f"revision {linked}",
            )
        )
    for execution in active:
        checks.append(
            Check(
                NATIVE,
                CheckStatus.FAIL,
                f"an execution of this native plan is {execution.status} in DRS ({execution.mode}, "
                f"{execution.arn}): DRS runs one at a time; attach to it, or wait for it to end",
            )
        )
    return checks


def prepare_native(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    *,
    now: datetime,
    refresh_inventory: bool = True,
    reads: PatientReads | None = None,
) -> NativePreparation:
    """The run in DRS and its preflight: the checks of the servers a local run has too (replication,
    lag, launch settings, other runs), the native plan's own, and the calls it makes."""
    prepared, link, active, checks = prepare_native_run(
        db, gateway, request, refresh_inventory=refresh_inventory, reads=reads
    )
    report = preflight(db, gateway, prepared, request, now=now, reads=reads)
    merged = dataclasses.replace(report, checks=(*checks, *report.checks))
    number = native_links.revision_number(db, link.revision_id) or 0
    return NativePreparation(prepared, merged, link, active, number)


def attach(
    db: Database,
    gateway: DrsGateway,
    request: RunRequest,
    execution_arn: str,
    *,
    clock: Clock | None = None,
    reads: PatientReads | None = None,
) -> ExecutionRunner:
    """Journal a new execution that follows ``execution_arn`` (an execution of the plan's native plan
    started elsewhere) and return its runner. Its mode is DRS's; nothing is started."""
    read = reads or PatientReads()
    prepared, link, _, _ = prepare_native_run(db, gateway, request, refresh_inventory=True, reads=reads)
    runs = NativeRunsGateway(gateway)
    execution = read(lambda: runs.get_execution(execution_arn), "GetRecoveryPlanExecution")
    if execution.plan_arn != link.recovery_plan_arn:
        raise NativePlanError(
            f"{execution_arn} is an execution of {execution.plan_arn}, not of the native plan "
            f"{link.recovery_plan_arn} linked to {request.plan_name!r}"
        )
    assert prepared.native is not None
    native = dataclasses.replace(prepared.native, execution_arn=execution.arn, client_token="attached")
    mode = Mode(execution.mode)
    runner = create_execution(
        db,
        gateway,
        dataclasses.replace(prepared, native=native),
        dataclasses.replace(request, mode=mode),
        clock=clock,
        reads=reads,
    )
    logger.info("attached execution %s to %s", runner.execution_id, execution.arn)
    return runner
