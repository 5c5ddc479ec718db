"""Which executions a retention of N days deletes, and why each other one is kept (issue 18, item 6).

Pure: the service (``services.retention``) gathers each run's facts from its record, its replayed
journal, its driver lock and the sync conflicts, and this decides. Deleting history is deleting
evidence, so the rules keep a run whenever something about it may still matter to an operator or an
auditor, and say which:

* a run that has not finished (it may still be driven, or resumed after a crash);
* a run that ended after the cutoff (the retention keeps it yet);
* a run some process drives right now (its driver lock is held);
* a drill that left recovery instances running (its cleanup needs the journal: the instances it
  launched are known only from it);
* a drill whose launch templates may still point at a drill version (the drill network part of its
  evidence: ``launch-settings restore`` and the operator need that record);
* a run with open findings (an auditor follows them up from the run's evidence);
* a run whose journal cannot be read (what it holds is unknown, so nothing says it may go);
* a run with an open sync conflict (the team's copy and this one differ: the operator decides first).

The operator sees the whole list before anything goes (the CLI asks, the GUI's dialog asks): nothing is
applied in the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = [
    "KeptRun",
    "RetentionPlan",
    "RunFacts",
    "kept_reasons",
    "retention_cutoff",
    "select_for_retention",
]


@dataclass(frozen=True)
class RunFacts:
    """What the rules read about one execution. The journal-derived fields (instances, templates,
    findings, ``unreadable``) are gathered only for a finished run old enough to go; for any other they
    stay empty, since the run is kept whatever they say."""

    execution_id: str
    plan_name: str
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str | None = None
    instances_running: tuple[str, ...] = ()  # recovery instances a drill left running
    left_pointed: tuple[str, ...] = ()  # servers whose template may still point at a drill version
    open_findings: tuple[str, ...] = ()  # the open findings' texts
    unreadable: str = ""  # why the journal cannot be read, when it cannot
    conflict: bool = False  # an open sync conflict on this execution
    driven_by: str = ""  # who holds its driver lock right now, when someone does
    evidence_files: tuple[str, ...] = ()  # reports the app wrote for it under its home

    @property
    def ended(self) -> str:
        """How it ended, in one word ("unfinished" while it has not)."""
        if self.finished_at is None:
            return "unfinished"
        return (self.outcome or "ended").lower()


@dataclass(frozen=True)
class KeptRun:
    facts: RunFacts
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RetentionPlan:
    """What applying the retention would do: ``goes`` (oldest end first) and ``kept`` (each with why).
    ``cutoff`` None: the retention keeps everything (0 days), so nothing goes."""

    days: int
    cutoff: datetime | None
    goes: tuple[RunFacts, ...] = ()
    kept: tuple[KeptRun, ...] = field(default=())

    @property
    def held(self) -> tuple[KeptRun, ...]:
        """The kept runs old enough to go that a rule holds back (not only the retention's age)."""
        return tuple(k for k in self.kept if k.reasons != (_newer(self.cutoff),))


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """The end before which a finished run may go; None for 0 days (keep everything). ValueError for a
    negative number of days (the setting's minimum is 0)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"a retention is a whole number of days, 0 or more, not {days!r}")
    if now.tzinfo is None:
        raise ValueError("the retention's 'now' must be timezone-aware (UTC)")
    return None if days == 0 else now - timedelta(days=days)


def kept_reasons(facts: RunFacts, cutoff: datetime | None) -> tuple[str, ...]:
    """Why ``facts``' run must stay, one line each; empty when it may go. ``cutoff`` None: its age is
    no reason (one execution deleted by name)."""
    if facts.finished_at is None:
        return ("not finished (it may still be driven or resumed)",)
    reasons: list[str] = []
    if cutoff is not None and facts.finished_at >= cutoff:
        reasons.append(_newer(cutoff))
    if facts.driven_by:
        reasons.append(f"being driven right now ({facts.driven_by})")
    if facts.instances_running:
        reasons.append(
            f"{len(facts.instances_running)} drill instance(s) still running "
            f"({_some(facts.instances_running)}): clean up first"
        )
    if facts.left_pointed:
        reasons.append(
            f"launch templates of {len(facts.left_pointed)} server(s) may still point at a drill version "
            f"({_some(facts.left_pointed)}): restore them first"
        )
    if facts.open_findings:
        reasons.append(f"{len(facts.open_findings)} open finding(s): {_some(facts.open_findings)}")
    if facts.unreadable:
        reasons.append(f"its journal cannot be read ({facts.unreadable}): what it holds is unknown")
    if facts.conflict:
        reasons.append("an open sync conflict: resolve it first")
    return tuple(reasons)


def select_for_retention(
    facts: list[RunFacts] | tuple[RunFacts, ...], days: int, now: datetime
) -> RetentionPlan:
    """Split the runs into those a retention of ``days`` deletes and those it keeps (with why)."""
    cutoff = retention_cutoff(now, days)
    if cutoff is None:
        return RetentionPlan(
            days=days,
            cutoff=None,
            kept=tuple(KeptRun(f, ("the retention keeps everything (0 days)",)) for f in facts),
        )
    goes: list[RunFacts] = []
    kept: list[KeptRun] = []
    for run in facts:
        reasons = kept_reasons(run, cutoff)
        if reasons:
            kept.append(KeptRun(run, reasons))
        else:
            goes.append(run)
    goes.sort(key=lambda f: (f.finished_at or f.started_at, f.execution_id))
    return RetentionPlan(days=days, cutoff=cutoff, goes=tuple(goes), kept=tuple(kept))


def _newer(cutoff: datetime | None) -> str:
    return f"ended after {cutoff:%Y-%m-%d %H:%M} UTC (within the retention)" if cutoff else ""


def _some(items: tuple[str, ...], shown: int = 3) -> str:
    text = ", ".join(items[:shown])
    return text if len(items) <= shown else f"{text} and {len(items) - shown} more"
