"""The execution history as the GUI and the CLI list it: filters, one summary row per execution, and
what a drill cleanup did.

Frozen values, because the history worker hands them to the GUI thread as signal payloads and the ui
layer may import only the domain. A summary carries what the listing cannot read from the executions
table alone (the RTO achieved, the drill instances still running): those come from the state rebuilt
from the journal, so the list says the same as a report would. Pure, stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from drs_desktop.domain.engine.record import ExecutionRecord

__all__ = [
    "MODES",
    "OUTCOMES",
    "UNFINISHED",
    "CleanupResult",
    "ExecutionSummary",
    "HistoryFilter",
    "runs_in_drs",
]

#: The outcome filter's value for executions that have not finished (no outcome yet).
UNFINISHED = "UNFINISHED"
#: Outcome filter values, in the order a filter menu shows them ("" means any).
OUTCOMES: tuple[str, ...] = ("SUCCEEDED", "FAILED", "CANCELLED", UNFINISHED)
MODES: tuple[str, ...] = ("DRILL", "RECOVERY")


#: ``ExecutionRecord.options`` key and value of a run in DRS (``services.executions.RUN_IN_KEY``).
RUN_IN_KEY = "run_in"
RUN_IN_DRS = "DRS"


def runs_in_drs(record: ExecutionRecord) -> bool:
    """Whether the execution is a run in DRS (a native recovery plan execution this desktop followed):
    its record says so, or, for a record older than that option, its spec names the native plan."""
    return record.options.get(RUN_IN_KEY) == RUN_IN_DRS or bool(record.spec.get("native"))


@dataclass(frozen=True)
class HistoryFilter:
    """Which executions to list. Empty strings and None mean "any"; ``started_from`` is inclusive and
    ``started_before`` exclusive, so two adjacent days never both hold an execution. ``limit`` caps the
    rows returned (newest first), after every filter applied."""

    plan_name: str = ""
    mode: str = ""
    outcome: str = ""
    started_from: datetime | None = None
    started_before: datetime | None = None
    drill_instances_running: bool = False
    limit: int = 500

    def matches_record(self, record: ExecutionRecord) -> bool:
        """Every test a stored record answers without replaying its journal."""
        if self.plan_name and record.plan_name.casefold() != self.plan_name.casefold():
            return False
        if self.mode and record.mode != self.mode:
            return False
        if self.outcome:
            outcome = record.outcome if record.finished else None
            if self.outcome == UNFINISHED:
                if outcome is not None:
                    return False
            elif outcome != self.outcome:
                return False
        if self.started_from is not None and record.started_at < self.started_from:
            return False
        if self.started_before is not None and record.started_at >= self.started_before:
            return False
        return not (self.drill_instances_running and record.mode != "DRILL")


@dataclass(frozen=True)
class ExecutionSummary:
    """One row of the history: the stored record plus what only the journal knows.

    ``status`` and ``outcome`` are the replayed state's (the stored columns are a copy the runner keeps
    in step). ``problem`` is set, and the journal-derived fields left empty, when the journal cannot be
    replayed: the row still lists, so a damaged execution is not silently hidden.
    """

    record: ExecutionRecord
    status: str
    outcome: str | None = None
    rto_achieved: timedelta | None = None
    rto_target: timedelta | None = None
    drill_instances_running: tuple[str, ...] = ()
    wave_count: int = 0
    server_count: int = 0
    problem: str = ""

    @property
    def execution_id(self) -> str:
        return self.record.execution_id

    @property
    def is_drill(self) -> bool:
        return self.record.mode == "DRILL"

    @property
    def run_in_drs(self) -> bool:
        return runs_in_drs(self.record)

    @property
    def finished(self) -> bool:
        return self.record.finished

    @property
    def duration(self) -> timedelta | None:
        """Start to end; None while the execution has not finished."""
        if self.record.finished_at is None:
            return None
        return self.record.finished_at - self.record.started_at

    @property
    def rto_met(self) -> bool | None:
        """None when there is nothing to compare (no target, or not every critical server ready)."""
        if self.rto_achieved is None or self.rto_target is None:
            return None
        return self.rto_achieved <= self.rto_target

    @property
    def needs_cleanup(self) -> bool:
        """A finished drill that left recovery instances running: what the history highlights.

        An unfinished drill's instances are expected to run; its cleanup belongs to its live run.
        """
        return self.is_drill and self.finished and bool(self.drill_instances_running)


@dataclass(frozen=True)
class CleanupResult:
    """What a cleanup did. ``targeted``: the drill's instances running before it; ``still_running``:
    those running after (empty when it worked). ``refused`` says why nothing was sent (a recovery, a
    drill not finished, nothing left to terminate); ``terminate_job_ids`` are DRS's proof jobs."""

    execution_id: str
    targeted: tuple[str, ...]
    still_running: tuple[str, ...] = ()
    terminate_job_ids: tuple[str, ...] = ()
    by: str = ""
    refused: str = ""
    #: (instance, why) for each of ``still_running``: the last error, or what it waits for.
    why_left: tuple[tuple[str, str], ...] = ()
    #: (instance, server, why) for instances of the drill's servers that it did not launch: never touched.
    not_ours: tuple[tuple[str, str, str], ...] = ()
    #: "instance of s-... not found in DRS after N looks": launched, never listed, so never terminated.
    not_found: tuple[str, ...] = ()

    @property
    def terminated(self) -> tuple[str, ...]:
        left = set(self.still_running)
        return tuple(i for i in self.targeted if i not in left)

    @property
    def complete(self) -> bool:
        """Nothing of the drill is left running, as far as DRS showed every instance of it. A refusal
        leaves ``still_running`` as ``targeted``."""
        return not self.still_running and not self.not_found

    def describe(self) -> str:
        """One sentence for the operator (the CLI prints the same facts)."""
        if self.refused:
            return f"nothing to clean up: {self.refused}"
        done = len(self.terminated)
        text = f"terminated {done} of {len(self.targeted)} drill instances"
        if self.still_running:
            why = dict(self.why_left)
            left = ", ".join(f"{i} ({why[i]})" if why.get(i) else i for i in self.still_running)
            text += f"; {len(self.still_running)} still running: {left}"
        if self.not_found:
            text += "; " + "; ".join(self.not_found)
        if self.not_ours:
            others = ", ".join(f"{i} of {server}: {why}" for i, server, why in self.not_ours)
            text += f"; not ours, left running: {others}"
        return text
