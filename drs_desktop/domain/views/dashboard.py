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

from drs_desktop.domain.views.cadence import CadenceFacts
from drs_desktop.domain.views.drift import ChangeSet
from drs_desktop.domain.views.history import ExecutionSummary
from drs_desktop.domain.views.readiness import DrillPoint, LagBreach, RtoPrediction, ServerLag

__all__ = ["STALE_AFTER", "Dashboard", "PlanCard", "Readiness"]

#: A preflight older than this is shown with its age, never as the plan's current readiness: the
#: account moves on (a server stalls, a job starts) while the checks wait for the next round.
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Readiness:
    """A plan's last preflight (as a drill), reduced to what the dashboard shows. ``error``: the
    preflight could not run (no inventory, DRS unreachable), so ready or not is unknown. ``revision``:
    the plan's revision the preflight checked (None: not recorded)."""

    checked_at: datetime | None
    ok: bool
    failures: tuple[str, ...] = ()
    warnings: int = 0
    error: str = ""
    revision: int | None = None

    @property
    def known(self) -> bool:
        return not self.error

    def age(self, now: datetime) -> timedelta | None:
        """How long ago the preflight ran, by ``now`` (the app's clock); None when its time is unknown."""
        return max(now - self.checked_at, timedelta(0)) if self.checked_at is not None else None

    def current(self, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
        """True while the result may be shown as the plan's readiness now: younger than ``stale_after``."""
        age = self.age(now)
        return age is not None and age <= stale_after


@dataclass(frozen=True)
class PlanCard:
    """Everything the dashboard shows of one plan; ``revision``: the plan's latest saved revision."""

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
    revision: int | None = None
    #: What the plan's drill cadence is decided from (issue 18), without the drift and native readings,
    #: which the pane adds as it last read them (``services.cadence.with_readings``). None: not read.
    cadence: CadenceFacts | None = None

    @property
    def changed_since_check(self) -> bool:
        """The plan was saved after its last preflight: that result is about an older revision."""
        return self.readiness is not None and self.readiness.revision != self.revision

    @property
    def needs_check(self) -> bool:
        """No preflight of the plan as it is now (never checked, or saved since)."""
        return self.readiness is None or self.changed_since_check


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
