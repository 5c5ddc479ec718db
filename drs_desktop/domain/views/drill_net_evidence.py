"""The drill network part of a drill's evidence: per server, the production and drill versions of its
launch template, when it was pointed and when restored (``engine.drill_net``).

An auditor reads from it that the drill launched into the drill network and that production's launch
templates were put back (or, for each one that was not, why: someone else changed its default during the
drill, the template is gone, EC2 refused).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.engine.drill_net_state import NetStatus
from drs_desktop.domain.engine.state import ExecutionState


@dataclass(frozen=True)
class DrillNetRow:
    server_id: str
    template_id: str
    status: NetStatus
    production_version: int | None
    drill_version: int | None
    pointed_at: datetime | None
    restored_at: datetime | None
    error: str = ""
    changed_to: int | None = None  # the default someone else set during the drill (left as it is)
    subnet_id: str = ""  # the drill subnet its drill version pointed at
    unused_version: int | None = None  # a drill version a failed point left (never the default)
    unused_deleted: bool = False  # whether that version was deleted (``error`` says why not)


@dataclass(frozen=True)
class DrillNetEvidence:
    subnet_id: str
    security_group_ids: tuple[str, ...]
    rows: tuple[DrillNetRow, ...]
    subnet_ids: tuple[str, ...] = ()  # every drill subnet of the profile (by zone; the first otherwise)

    @property
    def not_restored(self) -> tuple[DrillNetRow, ...]:
        """Servers whose template was (or may have been) pointed at the drill network and not set back to
        production: a drill version recorded and not restored, or a point or restore whose answer a crash
        or an abandoned run cut off (EC2 may hold the drill version as the default: a recovery would
        launch into the drill network; ``launch-settings restore`` finds it from EC2)."""
        cut_off = (NetStatus.POINT_REQUESTED, NetStatus.RESTORE_REQUESTED, NetStatus.POINT_UNKNOWN)
        return tuple(
            r
            for r in self.rows
            if r.status in cut_off or (r.drill_version is not None and r.status is not NetStatus.RESTORED)
        )


def drill_net_evidence(state: ExecutionState) -> DrillNetEvidence | None:
    """None for a run that did not launch into a drill network."""
    spec = state.spec.drill_net
    if spec is None:
        return None
    rows = tuple(
        DrillNetRow(
            server_id=net.server_id,
            template_id=net.template_id,
            status=net.status,
            production_version=net.production_version,
            drill_version=net.drill_version,
            pointed_at=net.pointed_at,
            restored_at=net.restored_at,
            error=net.error,
            changed_to=net.changed_to,
            subnet_id=net.subnet_id,
            unused_version=net.unused_version,
            unused_deleted=net.unused_deleted,
        )
        for net in (state.drill_net[s] for s in sorted(state.drill_net))
    )
    return DrillNetEvidence(
        subnet_id=spec.subnet_id,
        security_group_ids=spec.security_group_ids,
        rows=rows,
        subnet_ids=spec.subnet_ids,
    )


def maybe_left_pointed(state: ExecutionState) -> tuple[str, ...]:
    """Servers whose launch template this run may have left pointed at the drill network (a RECOVERY of
    them would launch there): what an abandoned or ended run's message must name a fix for."""
    evidence = drill_net_evidence(state)
    return tuple(row.server_id for row in evidence.not_restored) if evidence is not None else ()


def restore_command(plan_name: str) -> str:
    """The command that sets the plan's templates back to production from EC2 alone, shell-quoted."""
    return f"drs-desktop launch-settings restore --plan {shlex.quote(plan_name)}"
