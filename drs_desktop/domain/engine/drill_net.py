"""A drill into its plan's drill network: launch templates pointed before a chunk launches, restored after.

DRS launches a recovery instance from its launch template's default version. For a drill whose spec has a
``DrillNetSpec``, the engine therefore (the runner contract of ``engine.decide`` holds throughout: intent
journaled before a write, answers after):

- starts a QUEUED chunk only once every one of its servers' templates is POINTED: a drill version (the
  production version P with the drill subnet and security groups) is their default. Until then it emits
  ``PointTemplates`` for them. A server whose point failed (or that has no launch template) is failed and
  taken out of its chunk: it is never launched into the production network by a drill meant for the drill
  network;
- restores P as the default (``RestoreTemplates``) once nothing can launch the server any more: its job
  has ended (or was left running), or it never started (skipped, cancelled, failed before a job);
- finishes the run only once no template may still be a drill version of it (``pending``): every pointed
  server is restored, or its restore failed with a reason (someone else changed the default meanwhile:
  that is recorded and not clobbered);
- treats a point whose set-default got no answer, and whose read-back failed too, as POINT_UNKNOWN: the
  template may be pointed, so the server is not launched (never into a network not known) and a restore
  (which reads the default first and sets production back only over this run's drill version) runs,
  retried with a backoff, before the run finishes;
- re-reads the defaults of a chunk's servers right before its StartRecovery (``StartJob.drill_versions``,
  one DescribeLaunchTemplates): a default that is no longer this run's drill version (restored behind the
  run's back) is ``TemplateDefaultChanged``, and that server is pointed again (``MAX_REPOINTS``) or failed,
  never started into production.

A ``*_REQUESTED`` server when ``decide`` runs had its calls cut off (the runner is serial): the same
command is sent again. Both are idempotent: the same client token makes the same version, and a default
that is already our drill version (or already P) is taken as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.commands import (
    Command,
    DrillVersionCheck,
    PointTemplates,
    Record,
    RestoreTemplates,
    TemplatePoint,
    TemplateRestore,
)
from drs_desktop.domain.engine.drill_net_events import (
    TemplateDefaultChanged,
    TemplatePointFailed,
    TemplatePointUnknown,
    TemplateRestoreFailed,
    TemplatesPointed,
    TemplatesPointRequested,
    TemplatesRestored,
    TemplatesRestoreRequested,
)
from drs_desktop.domain.engine.drill_net_state import NET_OPEN, NetState, NetStatus
from drs_desktop.domain.engine.queries import job_active
from drs_desktop.domain.engine.state import (
    UNRESOLVED,
    ChunkState,
    ChunkStatus,
    ExecutionState,
    ServerState,
    ServerStatus,
)

#: Restores that failed for a reason that may pass (throttling, a lost answer) are tried this many times.
MAX_RESTORE_ATTEMPTS = 5
#: The wait before the next try of such a restore, times the attempts so far.
RESTORE_BACKOFF = timedelta(seconds=30)
#: A server whose drill version was found no longer the default before its start is pointed again this
#: many times; after that it is failed (someone keeps setting it back: a person should look).
MAX_REPOINTS = 2
#: Server statuses in which a launch may still be under way.
_IN_FLIGHT = frozenset({ServerStatus.PENDING, ServerStatus.STARTING, ServerStatus.LAUNCHING})


def client_token(execution_id: str, server_id: str, point: int) -> str:
    """CreateLaunchTemplateVersion's client token for the ``point``-th point of one server in one run (at
    most 64 characters): a resend after a crash makes no second version; a retried server's new point does."""
    digest = hashlib.sha256(f"{execution_id}:{server_id}:{point}".encode()).hexdigest()
    return "drsd-drill-" + digest[:48]


def _nets(state: ExecutionState) -> Iterable[tuple[ServerState, NetState]]:
    """(server, its template's state) for the servers of this view."""
    for server_id, server in state.servers.items():
        net = state.drill_net.get(server_id)
        if net is not None:
            yield server, net


def _with_net(state: ExecutionState, *nets: NetState) -> ExecutionState:
    return replace(state, drill_net={**state.drill_net, **{n.server_id: n for n in nets}})


# -- deciding


def gate_starts(
    state: ExecutionState, chunks: Sequence[ChunkState], now: datetime
) -> tuple[list[ChunkState], list[Command]]:
    """Of the startable ``chunks``, those whose servers are all pointed at the drill network, and the
    commands that point (or fail) the others' servers. A run without a drill network: all of them."""
    spec = state.spec.drill_net
    if spec is None:
        return list(chunks), []
    ready: list[ChunkState] = []
    failures: list[Command] = []
    to_point: list[TemplatePoint] = []
    for chunk in chunks:
        nets = [state.drill_net[s] for s in chunk.server_ids if s in state.drill_net]
        if len(nets) == len(chunk.server_ids) and all(n.status is NetStatus.POINTED for n in nets):
            ready.append(chunk)
            continue
        for server_id in chunk.server_ids:
            net = state.drill_net.get(server_id)
            if net is None or not net.template_id:
                reason = "DRS names no launch template for it: it cannot be pointed at the drill network"
                failures.append(Record(event=TemplatePointFailed(server_id=server_id, reason=reason, at=now)))
            elif net.status in (
                NetStatus.NONE,
                NetStatus.RESTORED,
                NetStatus.FAILED,
                NetStatus.POINT_REQUESTED,
            ):
                point = net.points if net.status is NetStatus.POINT_REQUESTED else net.points + 1
                token = client_token(state.spec.execution_id, server_id, point)
                to_point.append(
                    TemplatePoint(server_id=server_id, template_id=net.template_id, client_token=token)
                )
    if failures:
        return ready, failures  # recorded first: the chunks they leave are decided again
    if not to_point:
        return ready, []
    command = PointTemplates(
        execution_id=state.spec.execution_id,
        servers=tuple(to_point),
        subnet_id=spec.subnet_id,
        security_group_ids=spec.security_group_ids,
        subnet_ids=spec.subnet_ids,
    )
    return ready, [command]


def start_checks(state: ExecutionState, server_ids: Sequence[str]) -> tuple[DrillVersionCheck, ...]:
    """What a drill chunk's ``StartJob`` reads right before StartRecovery: each server's template must
    still have this run's drill version as its default (none in a run without a drill network)."""
    if state.spec.drill_net is None:
        return ()
    return tuple(
        DrillVersionCheck(server_id=s, template_id=net.template_id, drill_version=net.drill_version)
        for s in server_ids
        if (net := state.drill_net.get(s)) is not None and net.drill_version is not None
    )


def _launch_over(state: ExecutionState, server: ServerState) -> bool:
    """Nothing can launch ``server`` in this run any more (until the operator retries it): its template
    may go back to production."""
    if server.status in _IN_FLIGHT:
        return False
    if server.chunk_id is not None and state.chunks[server.chunk_id].status in UNRESOLVED:
        return False
    job = state.jobs.get(server.job_id) if server.job_id else None
    return job is None or not job_active(job) or job.left_running_at is not None


def restore_commands(state: ExecutionState, now: datetime) -> list[Command]:
    """``RestoreTemplates`` for the pointed servers whose launch is over (and for a restore a crash cut
    off), once their backoff after a failed try has passed; a point a crash cut off for a server that will
    not launch is sent again first (``_points_cut_off``)."""
    if state.spec.drill_net is None or state.auth_problem:
        return []
    due: list[TemplateRestore] = []
    for server, net in _nets(state):
        if net.production_version is None or net.drill_version is None:
            continue
        backed_off = net.restore_not_before is None or now >= net.restore_not_before
        # A point whose outcome is unknown: its server is kept from launching, so it is read back (and
        # restored if pointed) at once, whatever its chunk does.
        if (
            net.status is NetStatus.RESTORE_REQUESTED
            or (net.status is NetStatus.POINT_UNKNOWN and backed_off)
            or (net.status is NetStatus.POINTED and _launch_over(state, server) and backed_off)
        ):
            due.append(
                TemplateRestore(
                    server_id=server.server_id,
                    template_id=net.template_id,
                    production_version=net.production_version,
                    drill_version=net.drill_version,
                )
            )
    commands: list[Command] = []
    cut_off = _points_cut_off(state)
    if cut_off:
        commands.append(cut_off)
    if due:
        commands.append(RestoreTemplates(execution_id=state.spec.execution_id, servers=tuple(due)))
    return commands


def _points_cut_off(state: ExecutionState) -> PointTemplates | None:
    """A point a crash cut off for a server that will not launch now (its run was stopped, its wave
    skipped): sent again to learn where its template stands, so that it can be restored."""
    spec = state.spec.drill_net
    assert spec is not None
    items = [
        TemplatePoint(
            server_id=server.server_id,
            template_id=net.template_id,
            client_token=client_token(state.spec.execution_id, server.server_id, net.points),
        )
        for server, net in _nets(state)
        if net.status is NetStatus.POINT_REQUESTED and _launch_over(state, server)
    ]
    if not items:
        return None
    return PointTemplates(
        execution_id=state.spec.execution_id,
        servers=tuple(items),
        subnet_id=spec.subnet_id,
        security_group_ids=spec.security_group_ids,
    )


def pending(state: ExecutionState) -> bool:
    """A template of this view may still be a drill version of this run: the run does not finish."""
    return any(net.status in NET_OPEN for _, net in _nets(state))


def wake_at(state: ExecutionState) -> datetime | None:
    """When a restore that failed for a passing reason is tried again."""
    times = [
        n.restore_not_before
        for _, n in _nets(state)
        if n.status in (NetStatus.POINTED, NetStatus.POINT_UNKNOWN) and n.restore_not_before
    ]
    return min(times, default=None)


# -- folding events


def on_point_requested(state: ExecutionState, event: TemplatesPointRequested) -> ExecutionState:
    nets = []
    for server_id in event.server_ids:
        net = state.drill_net.get(server_id)
        if net is None or net.status in (NetStatus.POINTED, NetStatus.RESTORE_REQUESTED):
            continue
        if net.status is NetStatus.POINT_REQUESTED:  # a resend after a crash: the same point
            continue
        nets.append(
            replace(net, status=NetStatus.POINT_REQUESTED, points=net.points + 1, point_requested_at=event.at)
        )
    return _with_net(state, *nets)


def on_pointed(state: ExecutionState, event: TemplatesPointed) -> ExecutionState:
    net = state.drill_net.get(event.server_id)
    if net is None or net.status is not NetStatus.POINT_REQUESTED:
        return state
    pointed = replace(
        net,
        status=NetStatus.POINTED,
        template_id=event.template_id,
        production_version=event.production_version,
        drill_version=event.drill_version,
        subnet_id=event.subnet_id or net.subnet_id,
        pointed_at=event.at,
        restored_at=None,
        restore_attempts=0,
        restore_not_before=None,
        changed_to=None,
        error="",
        failed_in="",
        maybe_pointed=False,
    )
    return _with_net(state, pointed)


def on_point_failed(state: ExecutionState, event: TemplatePointFailed) -> ExecutionState:
    """The template is not pointed (an unused drill version it left is noted); the server is not
    launched."""
    net = state.drill_net.get(event.server_id)
    if event.server_id not in state.servers:
        return state
    if net is not None:
        if net.status in (NetStatus.POINTED, NetStatus.RESTORE_REQUESTED, NetStatus.POINT_UNKNOWN):
            return state  # a stale answer
        failed = replace(
            net,
            status=NetStatus.FAILED,
            error=event.reason,
            failed_in="point",
            unused_version=event.unused_version,
            unused_deleted=event.unused_deleted,
        )
        state = _with_net(state, failed)
    return _not_launched(
        state, event.server_id, f"not pointed at the drill network: {event.reason}", event.at
    )


def _not_launched(state: ExecutionState, server_id: str, reason: str, at: datetime) -> ExecutionState:
    """The server is failed (not launched) and taken out of its queued chunk; a chunk left empty ends
    START_FAILED (it launched nothing)."""
    from drs_desktop.domain.engine.observe import fail  # observe imports much of the engine

    server = state.servers[server_id]
    if server.status is not ServerStatus.PENDING or server.chunk_id is None:
        return state
    chunk = state.chunks[server.chunk_id]
    if chunk.status is not ChunkStatus.QUEUED:
        return state
    left = tuple(s for s in chunk.server_ids if s != server.server_id)
    if left:
        chunk = replace(chunk, server_ids=left)
    else:
        chunk = replace(chunk, status=ChunkStatus.START_FAILED, reason=reason)
    return state.with_chunks(chunk).with_servers(fail(server, reason, at))


def on_point_unknown(state: ExecutionState, event: TemplatePointUnknown) -> ExecutionState:
    """The template may be pointed: open (the run does not finish) until a restore reads it; the server
    is not launched."""
    net = state.drill_net.get(event.server_id)
    if net is None or net.status is not NetStatus.POINT_REQUESTED or event.server_id not in state.servers:
        return state
    unknown = replace(
        net,
        status=NetStatus.POINT_UNKNOWN,
        template_id=event.template_id,
        production_version=event.production_version,
        drill_version=event.drill_version,
        subnet_id=event.subnet_id or net.subnet_id,
        restore_attempts=0,
        restore_not_before=None,
        error=event.reason,
        maybe_pointed=True,
    )
    reason = f"may be pointed at the drill network, not launched: {event.reason}"
    return _not_launched(_with_net(state, unknown), event.server_id, reason, event.at)


def on_default_changed(state: ExecutionState, event: TemplateDefaultChanged) -> ExecutionState:
    """Found before a start: the default is no longer this run's drill version. Pointed again (its state
    back to NONE: ``gate_starts`` points it with a new client token), or failed after ``MAX_REPOINTS``."""
    net = state.drill_net.get(event.server_id)
    if net is None or net.status is not NetStatus.POINTED or event.found_version == net.drill_version:
        return state
    reason = (
        f"its default version was set to {event.found_version} (not by this run) after it was pointed at "
        f"drill version {net.drill_version}"
    )
    if net.repoints < MAX_REPOINTS:
        again = replace(
            net,
            status=NetStatus.NONE,
            repoints=net.repoints + 1,
            changed_to=event.found_version,
            error=reason,
        )
        return _with_net(state, again)
    failed = replace(
        net, status=NetStatus.FAILED, changed_to=event.found_version, error=reason, failed_in="point"
    )
    why = f"not started into production: {reason}, {net.repoints} time(s) pointed again"
    return _not_launched(_with_net(state, failed), event.server_id, why, event.at)


def on_restore_requested(state: ExecutionState, event: TemplatesRestoreRequested) -> ExecutionState:
    nets = [
        replace(net, status=NetStatus.RESTORE_REQUESTED, restore_requested_at=event.at)
        for s in event.server_ids
        if (net := state.drill_net.get(s)) is not None
        and net.status in (NetStatus.POINTED, NetStatus.POINT_UNKNOWN)
    ]
    return _with_net(state, *nets)


def on_restored(state: ExecutionState, event: TemplatesRestored) -> ExecutionState:
    net = state.drill_net.get(event.server_id)
    if net is None or net.status is not NetStatus.RESTORE_REQUESTED:
        return state
    return _with_net(
        state,
        replace(
            net, status=NetStatus.RESTORED, restored_at=event.at, restore_not_before=None, maybe_pointed=False
        ),
    )


def on_restore_failed(state: ExecutionState, event: TemplateRestoreFailed) -> ExecutionState:
    net = state.drill_net.get(event.server_id)
    if net is None or net.status is not NetStatus.RESTORE_REQUESTED:
        return state
    attempts = net.restore_attempts + 1
    if not event.definite and attempts < MAX_RESTORE_ATTEMPTS:
        again = replace(
            net,
            status=NetStatus.POINT_UNKNOWN if net.maybe_pointed else NetStatus.POINTED,
            restore_attempts=attempts,
            restore_not_before=event.at + RESTORE_BACKOFF * attempts,
            error=event.reason,
        )
        return _with_net(state, again)
    failed = replace(
        net,
        status=NetStatus.FAILED,
        restore_attempts=attempts,
        changed_to=event.changed_to,
        error=event.reason,
        failed_in="restore",
    )
    return _with_net(state, failed)
