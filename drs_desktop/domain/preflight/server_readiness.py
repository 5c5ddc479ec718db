"""Is one source server ready to be launched by a plan, judged from the cached inventory alone?

Preflight asks DRS again and decides FAIL or WARN with the run's choices (point in time, impact); the plan
editor marks the same servers while the operator builds the plan, from what the inventory already holds, so
a stalled, disconnected or lagging server is seen when it is put in a wave and not only at run time. The
reasons are preflight's own (``domain.preflight.rules``), so both say the same thing. Pure, stdlib only.
"""

from __future__ import annotations

import logging

from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.inventory import SourceServer
from drs_desktop.domain.preflight.rules import (
    DEGRADED_STATES,
    HEALTHY_STATES,
    REPLICATING_STATES,
    no_launch_reason,
)

logger = logging.getLogger(__name__)


def not_ready_reason(server: SourceServer, rpo_minutes: int | None) -> str:
    """Why ``server`` is not ready for a run from the latest data, or "" when it is (or nothing is known).

    Not ready: replication that cannot give a fresh snapshot (stalled, paused, disconnected, initial
    sync, stopped), or a replication lag over the plan's RPO. A server catching up (BACKLOG, RESCAN) within
    the RPO is launchable and is not marked; an empty state (an inventory without replication data) says
    nothing, so it is not marked either.
    """
    state = server.replication_state
    if not state or state in HEALTHY_STATES | DEGRADED_STATES:
        if state in REPLICATING_STATES and rpo_minutes is not None and server.lag_seconds is not None:
            if server.lag_seconds > rpo_minutes * 60:
                shown = format_duration(float(server.lag_seconds))
                return f"replication lag {shown} is over the plan's RPO of {rpo_minutes} min"
        return ""
    reason = no_launch_reason(state)
    return f"replication is {state}: {reason}"
