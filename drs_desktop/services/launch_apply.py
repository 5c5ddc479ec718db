"""Apply a plan's desired launch settings: journaled, a few servers at a time, crash-safe, verified.

The preview (``services.launch_state.preview_plan``) says what would change; an apply makes it so. The
apply is one record with its servers (``storage.launch_applies``), written before the first call: for
each server the writes meant for it (the new template version's members, based on the version the
preview read; the DRS fields) and the values the preview read. Then each server goes through its steps
(``services.launch_apply_steps``): check that nothing changed since the preview, a new template version
(ClientToken of the apply and the server, a description naming the apply), made the default,
UpdateLaunchConfiguration, read back and verified. Each ends VERIFIED, FAILED (with the reason, saying
what a half-done server holds) or SKIPPED (blocked by the preview, or changed since it).

A crash, a Ctrl-C or a write whose outcome stayed unknown leaves the record RUNNING with each server's
step (and the write sent without its answer) in the journal: ``resume_apply`` (``launch-settings apply
--resume ID``, and every new apply on the same target first) redoes from there; all writes are
idempotent, so nothing is done twice. Workers are threads, each with its own gateways (DESIGN §3.5), and
journal through the process's one writer; the progress callback is called from the workers, one call
at a time, right after the journal took the step (a GUI posts it to its own thread). When the callback
raises, the workers stop between two steps and the exception propagates: that is how the GUI cancels,
and how a test interrupts an apply at an exact step.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.ec2 import LaunchTemplateData
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.diff import Destination, ServerLaunchPlan
from drs_desktop.domain.plan.launch_preview import LaunchPreview
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.services.launch_apply_steps import ServerSteps, Stopped, WriteUnclear, version_description
from drs_desktop.services.launch_state import LaunchState, preview_plan
from drs_desktop.storage.db import Database, utc_now
from drs_desktop.storage.launch_applies import (
    ApplyRecord,
    ApplyServer,
    ApplyStatus,
    ServerStep,
    create_apply,
    finish_apply,
    load_apply,
    save_server,
    unfinished_applies,
)

logger = logging.getLogger(__name__)

#: Servers applied at once (each worker has its own DRS and EC2 clients).
DEFAULT_WORKERS = 4


class ApplyNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ApplyProgress:
    """One step of one server recorded: ``ended`` servers of ``total`` have ended so far."""

    apply_id: str
    server_id: str
    hostname: str
    step: ServerStep
    ended: int
    total: int
    reason: str = ""


ProgressCallback = Callable[[ApplyProgress], None]


@dataclass(frozen=True)
class ApplyOutcome:
    """A finished (or interrupted) apply, the preview it came from, and the earlier applies it resumed."""

    record: ApplyRecord
    preview: LaunchPreview | None = None
    resumed: tuple[ApplyRecord, ...] = ()

    @property
    def interrupted(self) -> bool:
        return self.record.status is ApplyStatus.RUNNING

    def summary(self) -> str:
        """How the apply ended, in one paragraph: the servers by how they ended, what is left half-changed,
        and the first failures' reasons (what the GUI says after an apply)."""
        record = self.record
        ends = (ServerStep.VERIFIED, ServerStep.FAILED, ServerStep.SKIPPED)
        counts = ", ".join(
            f"{record.count(step)} {step.value.lower()}" for step in ends if record.count(step)
        )
        text = f"Apply {record.apply_id[:8]}: {counts or 'nothing to apply'}."
        if self.interrupted:
            half = "; ".join(s.half_changed() for s in record.half_changed)
            text += f" Not finished ({half or 'answers lost'}): the next apply resumes it."
        failed = [
            f"{s.hostname or s.server_id}: {s.reason}" for s in record.servers if s.step is ServerStep.FAILED
        ]
        if failed:
            text += " Failed: " + "; ".join(failed[:3]) + (" …" if len(failed) > 3 else "")
        return text


def new_apply(
    stored: StoredPlan,
    preview: LaunchPreview,
    *,
    region: str,
    account_id: str = "",
    endpoint_url: str = "",
    profile: str = "",
    operator: str = "",
    now: datetime | None = None,
    apply_id: str | None = None,
) -> ApplyRecord:
    """The record of an apply of ``preview``: its applicable servers (PENDING) and its blocked ones
    (SKIPPED with the preview's errors); servers with nothing to change are not part of it."""
    at = now or utc_now()
    servers: list[ApplyServer] = []
    for position, plan in enumerate(s for s in preview.servers if s.blocked or s.drs or s.template):
        servers.append(_server(position, plan))
    return ApplyRecord(
        apply_id=apply_id or uuid.uuid4().hex,
        plan_id=stored.revision.plan_id,
        plan_name=stored.revision.name,
        revision=stored.revision.revision,
        region=region,
        status=ApplyStatus.RUNNING,
        created_at=at,
        updated_at=at,
        servers=tuple(servers),
        account_id=account_id,
        endpoint_url=endpoint_url,
        profile=profile,
        operator=operator,
    )


def _server(position: int, plan: ServerLaunchPlan) -> ApplyServer:
    if plan.blocked:
        reason = "blocked by the preview: " + "; ".join(p.message for p in plan.errors)
        return ApplyServer(plan.server_id, position, plan.hostname, ServerStep.SKIPPED, reason=reason)
    template = plan.template
    data = None
    if template is not None:
        data = LaunchTemplateData(
            subnet_id=template.subnet_id,
            security_group_ids=template.security_group_ids or (),
            instance_type=template.instance_type,
            private_ip=template.private_ip,
            instance_tags=tuple(sorted((template.tags or {}).items())),
        )
    before = {c.field: c.before for c in plan.changes if c.destination is Destination.DRS}
    return ApplyServer(
        server_id=plan.server_id,
        position=position,
        hostname=plan.hostname,
        template_id=template.template_id if template is not None else "",
        base_version=template.base_version if template is not None else None,
        template_data=data,
        drs_update=plan.drs,
        drs_before=before if plan.drs is not None else None,
    )


def run_apply(
    db: Database,
    record: ApplyRecord,
    drs: DrsGateway,
    ec2: Ec2Gateway,
    *,
    on_progress: ProgressCallback | None = None,
    workers: int = DEFAULT_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utc_now,
) -> ApplyRecord:
    """Take every server of ``record`` that has not ended to its end; the record as the journal holds it
    afterwards (DONE when every server ended, RUNNING when one was left for a resume)."""
    todo = [s for s in record.servers if not s.step.ended]
    total = len(record.servers)
    ended = total - len(todo)
    description = version_description(record.apply_id, record.plan_name, record.revision)
    stop = threading.Event()
    work: queue.Queue[ApplyServer] = queue.Queue()
    for server in todo:
        work.put(server)
    failures: list[BaseException] = []
    progress_lock = threading.Lock()
    counts = {"ended": ended}

    def save(server: ApplyServer, pending: bool) -> None:
        save_server(db, record.apply_id, server, now=now())
        if pending:
            return
        with progress_lock:  # one call at a time, in the order the journal took them
            if server.step.ended:
                counts["ended"] += 1
            if on_progress is None or stop.is_set():
                return
            try:
                on_progress(
                    ApplyProgress(
                        record.apply_id,
                        server.server_id,
                        server.hostname,
                        server.step,
                        counts["ended"],
                        total,
                        server.reason,
                    )
                )
            except BaseException as exc:  # the caller stops the apply: right here, between two steps
                failures.append(exc)
                stop.set()
                raise Stopped from exc

    def worker() -> None:
        own_drs = drs.for_another_thread()
        own_ec2 = ec2.for_another_thread()
        steps = ServerSteps(
            apply_id=record.apply_id,
            description=description,
            drs=own_drs,
            ec2=own_ec2,
            save=save,
            stop=stop,
            sleep=sleep,
        )
        try:
            while not stop.is_set():
                try:
                    server = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    steps.advance(server)
                except WriteUnclear as unclear:  # left as the journal says, for a resume
                    logger.warning("launch settings apply %s: %s", record.apply_id, unclear)
        except Stopped:
            return
        except BaseException as exc:  # raised on the calling thread once every worker stopped
            failures.append(exc)
            stop.set()
        finally:
            own_drs.close()
            own_ec2.close()

    count = max(1, min(workers, len(todo)))
    threads = [threading.Thread(target=worker, name=f"launch-apply-{i}", daemon=True) for i in range(count)]
    for thread in threads if todo else []:
        thread.start()
    try:
        for thread in threads if todo else []:
            while thread.is_alive():
                thread.join(0.2)  # a timeout keeps Ctrl-C deliverable on the calling thread
    except BaseException:
        stop.set()  # the workers stop between two steps; the journal says where each server is
        for thread in threads:
            if thread.is_alive():
                thread.join()
        raise
    if failures:
        raise failures[0]
    final = _load(db, record.apply_id)
    if all(s.step.ended for s in final.servers):
        finish_apply(db, record.apply_id, now=now())
        final = _load(db, record.apply_id)
    logger.info(
        "launch settings apply %s: %d verified, %d failed, %d skipped, %d left",
        record.apply_id,
        final.count(ServerStep.VERIFIED),
        final.count(ServerStep.FAILED),
        final.count(ServerStep.SKIPPED),
        sum(1 for s in final.servers if not s.step.ended),
    )
    return final


def _load(db: Database, apply_id: str) -> ApplyRecord:
    record = load_apply(db, apply_id)
    if record is None:
        raise ApplyNotFound(f"no launch settings apply {apply_id}")
    return record


def resume_apply(
    db: Database,
    apply_id: str,
    drs: DrsGateway,
    ec2: Ec2Gateway,
    **options: object,
) -> ApplyRecord:
    """Finish an interrupted apply from where its journal stands (a DONE one is returned as it is)."""
    record = _load(db, apply_id)
    if record.status is ApplyStatus.DONE:
        return record
    logger.info("resuming launch settings apply %s (%d half-changed)", apply_id, len(record.half_changed))
    return run_apply(db, record, drs, ec2, **options)  # type: ignore[arg-type]


def unfinished_here(db: Database, drs: DrsGateway) -> list[ApplyRecord]:
    """The interrupted applies of the target ``drs`` talks to (same Region and endpoint)."""
    target = drs.target
    return [
        r
        for r in unfinished_applies(db)
        if r.region == target.region and r.endpoint_url == (target.endpoint_url or "")
    ]


def finish_unfinished(
    db: Database, drs: DrsGateway, ec2: Ec2Gateway, **options: object
) -> tuple[ApplyRecord, ...]:
    """Resume every interrupted apply of this target, oldest first: what a new apply does before its
    preview, so that it compares against a finished state."""
    return tuple(resume_apply(db, r.apply_id, drs, ec2, **options) for r in unfinished_here(db, drs))


def start_apply(
    db: Database,
    stored: StoredPlan,
    preview: LaunchPreview,
    drs: DrsGateway,
    *,
    account_id: str = "",
    operator: str = "",
    now: datetime | None = None,
) -> ApplyRecord:
    """Journal a new apply of ``preview`` (nothing is sent yet)."""
    target = drs.target
    record = new_apply(
        stored,
        preview,
        region=target.region,
        account_id=account_id,
        endpoint_url=target.endpoint_url or "",
        profile=target.profile or "",
        operator=operator,
        now=now,
    )
    return create_apply(db, record)


def apply_plan(
    db: Database,
    stored: StoredPlan,
    inventory: Inventory,
    drs: DrsGateway,
    ec2: Ec2Gateway,
    *,
    operator: str = "",
    on_progress: ProgressCallback | None = None,
    workers: int = DEFAULT_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[ApplyOutcome, LaunchState]:
    """Resume this target's interrupted applies, preview ``stored`` against DRS and EC2 now, and apply it."""
    options = {"on_progress": on_progress, "workers": workers, "sleep": sleep}
    resumed = finish_unfinished(db, drs, ec2, **options)
    preview, state = preview_plan(stored, inventory, drs, ec2)
    record = start_apply(db, stored, preview, drs, account_id=inventory.account_id, operator=operator)
    final = run_apply(db, record, drs, ec2, on_progress=on_progress, workers=workers, sleep=sleep)
    return ApplyOutcome(final, preview, resumed), state
