"""The readiness dashboard's data: one card per plan, as the dashboard service assembles it and the
dashboard pane shows it.

Frozen values, because a task thread hands them to the GUI thread and the ui layer may import only
the domain. Each part says whether it is known: a plan not yet checked has ``readiness`` None (the
pane says "checking", never "ready"), a plan never drilled has ``last_drill`` None ("no drill yet").
Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drs_desktop.domain.views.drift import ChangeSet
from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.domain.views.readiness import DrillPoint, LagBreach, RtoPrediction, ServerLag

__all__ = ["Dashboard", "PlanCard", "Readiness"]


@dataclass(frozen=True)
class Readiness:
    """A plan's last preflight (as a drill), reduced to what the dashboard shows. ``error``: the
    preflight could not run (no inventory, DRS unreachable), so ready or not is unknown."""

    checked_at: datetime | None
    ok: bool
    failures: tuple[str, ...] = ()
    warnings: int = 0
    error: str = ""

    @property
    def known(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class PlanCard:
    """Everything the dashboard shows of one plan."""

    plan_name: str
    rto_target: timedelta | None
    rpo_minutes: int | None
    server_count: int
    readiness: Readiness | None = None
    last_drill: ExecutionSummary | None = None
    last_good_drill: ExecutionSummary | None = None
    prediction: RtoPrediction | None = None
    lags: tuple[ServerLag, ...] = ()
    breaches: tuple[LagBreach, ...] = ()
    changes: ChangeSet | None = None  # None: no good drill to compare with
    drills: tuple[DrillPoint, ...] = ()  # oldest first, for the RTO chart


@dataclass(frozen=True)
class Dashboard:
    """Every plan's card, read at ``updated_at`` (the app's clock), from the inventory read at
    ``inventory_at`` (None: no inventory cached yet). ``checking``: the preflights of this load have
    not answered yet (the cards carry the previous ones, if any)."""

    cards: tuple[PlanCard, ...]
    updated_at: datetime
    inventory_at: datetime | None = None
    checking: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)
