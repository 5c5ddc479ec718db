"""The period roll-up (issue 18): every drill and recovery of the chosen plans in a date range, what each
showed, the plans not tested in it, every finding still open, and the auditor's summary of all that.

Auditors (SOC 2 A1.3, ISO 22301 8.5, DORA art. 11-12) ask per audit period: was every plan tested, did
the tests pass, were the recovery objectives met, what is still open and who owns it, and was each test
reviewed by someone other than the operator. This module answers from values the services layer reads
(``RunFacts``, one per run, from its replayed journal and its audit record; ``PlanInfo``, one per plan)
and the moment the report is made (``now``); it reads no clock. Pure, stdlib only.

"Passed" and "good drill" are defined once, in ``domain.views.cadence`` (``run_passed``,
``DrillFact``, ``GOOD_DRILL_RULE``), and every format prints that rule (``PASSED_RULE`` adds what the
roll-up counts as unknown): a run passed when it finished SUCCEEDED and none of its servers ended
FAILED; a drill whose optional server failed succeeded as a run and did not pass. A run that failed, was
cancelled or succeeded with a failed server is "failed"; a run not finished, or whose journal cannot be
read, is "unknown": the report says so rather than guess.

Each plan's last good drill and next test due are the cadence module's answer (``plan_cadence``) over
the plan's drills, so the roll-up and the dashboard cannot disagree: as of the report's time, or of the
period's last moment when the period is over (a past period is judged on what was known then; drills
after it are not read). The roll-up knows the clock rules only (``every_days``, ``retest_days``): a
material change since the last good drill is the dashboard's and ``plan cadence``'s to say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from drs_desktop.domain.engine.annotation_events import TestType
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus
from drs_desktop.domain.plan.model import NO_CADENCE, Cadence
from drs_desktop.domain.views.audit import AuditRecord, Finding, ServerRpo, rpo_achieved
from drs_desktop.domain.views.cadence import (
    GOOD_DRILL_RULE,
    CadenceFacts,
    DrillFact,
    PlanCadence,
    plan_cadence,
    run_passed,
)
from drs_desktop.domain.views.evidence import rto_achieved
from drs_desktop.domain.views.period_range import Period

__all__ = [
    "PASSED",
    "PASSED_RULE",
    "AuditorSummary",
    "OpenFinding",
    "PeriodReport",
    "PlanInfo",
    "PlanPeriod",
    "RunFacts",
    "cadence_time",
    "roll_up",
    "run_facts",
    "unreadable_run",
]

#: How every format defines a passed test and a good drill (the cadence's one rule), and what is unknown.
PASSED_RULE = (
    f"{GOOD_DRILL_RULE} In this roll-up a run that failed, was cancelled, or succeeded with a failed "
    "server is counted as failed; a run not finished, or whose journal cannot be read, as unknown."
)
PASSED, FAILED, UNKNOWN = "passed", "failed", "unknown"


@dataclass(frozen=True)
class RunFacts:
    """One run as the roll-up needs it. ``result``: the outcome as the history says it (SUCCEEDED,
    FAILED, CANCELLED, or the live status of a run not finished; UNREADABLE with ``problem`` set).
    ``rpo``: the achieved RPO of each server the run launched; ``rpo_target`` from the pinned plan."""

    execution_id: str
    plan_id: str
    plan_name: str
    mode: str
    started_at: datetime
    finished_at: datetime | None
    result: str
    failed_servers: tuple[str, ...] = ()
    rto_achieved: timedelta | None = None
    rto_target: timedelta | None = None
    rpo: tuple[ServerRpo, ...] = ()
    rpo_target: timedelta | None = None
    audit: AuditRecord = field(default_factory=AuditRecord)
    problem: str = ""
    #: An unreadable run: the outcome its execution row records (the journal could not say).
    recorded_outcome: str | None = None

    @property
    def verdict(self) -> str:
        """``passed``, ``failed`` or ``unknown`` (``PASSED_RULE``)."""
        if self.problem or self.finished_at is None:
            return UNKNOWN
        return PASSED if run_passed(self.result, len(self.failed_servers)) else FAILED

    @property
    def partial(self) -> bool:
        """The run recorded itself as a partial test (some waves or servers left out)."""
        return self.audit.test is not None and self.audit.test.test_type is TestType.PARTIAL

    def drill_fact(self) -> DrillFact | None:
        """The run as the cadence counts it (None: not a finished drill). An unreadable run keeps the
        outcome its row records, with its problem: the cadence's rule decides what that proves."""
        if not self.is_drill or self.finished_at is None:
            return None
        outcome = (self.recorded_outcome or self.result) if self.problem else self.result
        return DrillFact(
            execution_id=self.execution_id,
            finished_at=self.finished_at,
            outcome=outcome,
            partial=self.partial,
            failed_servers=len(self.failed_servers),
            problem=self.problem,
        )

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED

    @property
    def is_drill(self) -> bool:
        return self.mode == "DRILL"

    @property
    def test_type(self) -> str:
        """The test type the run recorded; else its mode, marked as not recorded."""
        if self.audit.test is not None:
            return self.audit.test.test_type.value
        fallback = TestType.DRILL if self.is_drill else TestType.RECOVERY
        return f"{fallback.value} (type not recorded)"

    @property
    def result_text(self) -> str:
        if self.problem:
            return f"UNREADABLE: {self.problem}"
        if self.failed_servers and self.result == "SUCCEEDED":
            count = len(self.failed_servers)
            return f"SUCCEEDED with {count} server{'s' * (count != 1)} failed"
        return self.result

    @property
    def rto_met(self) -> bool | None:
        if self.rto_achieved is None or self.rto_target is None:
            return None
        return self.rto_achieved <= self.rto_target

    @property
    def rpo_worst(self) -> timedelta | None:
        """The largest achieved RPO among the servers whose recovery point is known."""
        known = [row.achieved for row in self.rpo if row.achieved is not None]
        return max(known) if known else None

    @property
    def rpo_unknown(self) -> int:
        """Launched servers whose recovery point is unknown."""
        return sum(1 for row in self.rpo if row.achieved is None)

    @property
    def rpo_met(self) -> bool | None:
        """False as soon as one known server breaches; True only when every server is known and within;
        None when nothing can be said (no target, nothing launched, or a server unknown)."""
        worst = self.rpo_worst
        if self.rpo_target is None or not self.rpo:
            return None
        if worst is not None and worst > self.rpo_target:
            return False
        return None if self.rpo_unknown or worst is None else True

    @property
    def sign_off_text(self) -> str:
        """``signed off independently``, ``self-signed``, ``review not accepted`` or ``not signed``."""
        latest = self.audit.sign_off
        if latest is None:
            return "not signed"
        if not latest.accepted:
            return "review not accepted"
        return "self-signed" if latest.self_signed else "signed off independently"

    @property
    def findings_open(self) -> int:
        return len(self.audit.open_findings)

    @property
    def findings_total(self) -> int:
        return len(self.audit.findings)


def run_facts(
    record: ExecutionRecord,
    state: ExecutionState,
    audit: AuditRecord,
    *,
    rto_minutes: int | None = None,
    rpo_minutes: int | None = None,
) -> RunFacts:
    """A run's facts from its replayed state and audit record. The RTO target is the run's own (pinned
    when it started), else ``rto_minutes`` of its pinned plan; the RPO is measured against the run's
    point in time, or its start for a run on the latest data (``views.audit.rpo_achieved``)."""
    launched = tuple(
        server_id for server_id, server in state.servers.items() if server.status is ServerStatus.LAUNCHED
    )
    reference = state.spec.point_in_time or state.spec.started_at
    rto_target = state.spec.rto_target
    if rto_target is None and rto_minutes is not None:
        rto_target = timedelta(minutes=rto_minutes)
    finished = state.finished
    return RunFacts(
        execution_id=record.execution_id,
        plan_id=record.plan_id,
        plan_name=record.plan_name,
        mode=record.mode,
        started_at=record.started_at,
        finished_at=record.finished_at if finished is not None else None,
        result=finished.value if finished is not None else record.status,
        failed_servers=tuple(
            server_id for server_id, s in state.servers.items() if s.status is ServerStatus.FAILED
        ),
        rto_achieved=rto_achieved(state),
        rto_target=rto_target,
        rpo=rpo_achieved(audit, launched, reference_at=reference, rpo_minutes=rpo_minutes),
        rpo_target=None if rpo_minutes is None else timedelta(minutes=rpo_minutes),
        audit=audit,
    )


def unreadable_run(record: ExecutionRecord, problem: str) -> RunFacts:
    """A run whose journal cannot be replayed: listed with its problem, its result unknown."""
    return RunFacts(
        execution_id=record.execution_id,
        plan_id=record.plan_id,
        plan_name=record.plan_name,
        mode=record.mode,
        started_at=record.started_at,
        finished_at=record.finished_at,
        result="UNREADABLE",
        problem=problem,
        recorded_outcome=record.outcome,
    )


@dataclass(frozen=True)
class PlanInfo:
    """A plan in scope: one that exists now (``exists``), or one that ran and was deleted or renamed
    since. ``cadence``: its cadence now (``RecoveryPlan.cadence``; none for a deleted plan)."""

    plan_id: str
    name: str
    exists: bool = True
    cadence: Cadence = NO_CADENCE


@dataclass(frozen=True)
class PlanPeriod:
    """One plan over the period: its tests in it, and, from every run up to the period's end, its last
    test and its cadence (``views.cadence``) as of ``cadence.at``: its last good drill and next test due."""

    plan: PlanInfo
    tests: tuple[RunFacts, ...]
    last_test: RunFacts | None
    last_good: RunFacts | None
    cadence: PlanCadence

    @property
    def next_due(self) -> date | None:
        """The day the next test is due (None: see ``due_reason``)."""
        return self.cadence.due_on

    @property
    def due_reason(self) -> str:
        """Why ``next_due``, or why there is no day: the cadence's own words (and, for a plan re-tested
        after material changes, that the roll-up does not judge those)."""
        cadence = self.plan.cadence
        if cadence.after_changes and cadence.every_days is None and cadence.retest_days is None:
            return "after material changes only: see the dashboard or plan cadence"
        text = self.cadence.due_rule if self.cadence.due_on is not None else self.cadence.next_due
        return f"{text}; material changes: see the dashboard" if cadence.after_changes else text

    @property
    def passed(self) -> int:
        return sum(1 for run in self.tests if run.verdict == PASSED)

    @property
    def failed(self) -> int:
        return sum(1 for run in self.tests if run.verdict == FAILED)

    @property
    def unknown(self) -> int:
        return sum(1 for run in self.tests if run.verdict == UNKNOWN)

    @property
    def tested(self) -> bool:
        return bool(self.tests)


@dataclass(frozen=True)
class OpenFinding:
    """A finding still open, with the run it was raised on. ``overdue``: its due date is before today."""

    plan_name: str
    execution_id: str
    run_started_at: datetime
    finding: Finding
    overdue: bool
    before_period: bool


@dataclass(frozen=True)
class AuditorSummary:
    """The counts on the report's first page."""

    plans: int
    plans_tested: int
    plans_not_tested: int
    runs: int
    passed: int
    failed: int
    unknown: int
    rto_met: int
    rto_breached: int
    rto_unknown: int
    rpo_met: int
    rpo_breached: int
    rpo_unknown: int
    open_findings: int
    overdue_findings: int
    signed_independently: int
    self_signed: int
    not_signed: int


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    generated_at: datetime
    plans: tuple[PlanPeriod, ...]
    runs: tuple[RunFacts, ...]
    untested: tuple[PlanPeriod, ...]
    open_findings: tuple[OpenFinding, ...]
    summary: AuditorSummary
    scope: str  # "all plans", or the plans chosen


def roll_up(
    period: Period,
    plans: Sequence[PlanInfo],
    runs: Iterable[RunFacts],
    *,
    now: datetime,
    scope: str = "all plans",
) -> PeriodReport:
    """The roll-up of ``plans`` over ``period``. ``runs``: every run of those plans that started before
    the period's end (the earlier ones give the last good test and the findings still open); runs of a
    plan not in ``plans`` are left out. Runs are listed oldest first; plans in the order given."""
    ids = {plan.plan_id for plan in plans}
    ordered = sorted((r for r in runs if r.plan_id in ids and r.started_at < period.end), key=_run_key)
    by_plan: dict[str, list[RunFacts]] = {plan.plan_id: [] for plan in plans}
    for run in ordered:
        by_plan[run.plan_id].append(run)
    at = cadence_time(period, now)
    rows = tuple(_plan_period(plan, by_plan[plan.plan_id], period, at) for plan in plans)
    in_period = tuple(r for r in ordered if period.contains(r.started_at))
    today = now.astimezone(period.start.tzinfo).date()  # the auditor's day, as the period's bounds
    findings = tuple(
        OpenFinding(
            plan_name=_plan_name(plans, run),
            execution_id=run.execution_id,
            run_started_at=run.started_at,
            finding=finding,
            overdue=_overdue(finding.due, today),
            before_period=run.started_at < period.start,
        )
        for run in ordered
        for finding in run.audit.open_findings
    )
    untested = tuple(row for row in rows if not row.tested)
    return PeriodReport(
        period=period,
        generated_at=now,
        plans=rows,
        runs=in_period,
        untested=untested,
        open_findings=findings,
        summary=_summary(rows, in_period, findings),
        scope=scope,
    )


def _run_key(run: RunFacts) -> tuple[datetime, str]:
    return (run.started_at, run.execution_id)


def _plan_name(plans: Sequence[PlanInfo], run: RunFacts) -> str:
    return next((p.name for p in plans if p.plan_id == run.plan_id), run.plan_name)


def _overdue(due: str, today: date) -> bool:
    """A due date before today; a due date that is not a date is never called overdue (it is shown)."""
    try:
        return date.fromisoformat(due) < today if due else False
    except ValueError:
        return False


def cadence_time(period: Period, now: datetime) -> datetime:
    """When the roll-up judges each plan's cadence: ``now``, or the period's last moment when the period
    is over; in the period's time zone, so days are the auditor's days."""
    last = period.end - timedelta(microseconds=1)
    return min(now, last).astimezone(period.start.tzinfo)


def _plan_period(plan: PlanInfo, runs: list[RunFacts], period: Period, at: datetime) -> PlanPeriod:
    tests = tuple(r for r in runs if period.contains(r.started_at))
    last_test = runs[-1] if runs else None
    drills = tuple(
        fact for fact in (r.drill_fact() for r in runs) if fact is not None and fact.finished_at <= at
    )
    state = plan_cadence(CadenceFacts(plan.name, _clock_only(plan.cadence), drills), at)
    good_id = state.last_good.execution_id if state.last_good is not None else None
    last_good = next((r for r in runs if r.execution_id == good_id), None)
    return PlanPeriod(plan, tests, last_test, last_good, state)


def _clock_only(cadence: Cadence) -> Cadence:
    """The cadence without its "after changes" rule: the roll-up reads no inventory, drift or native
    status, so it does not list them as unknown either (the module's docstring)."""
    return Cadence(every_days=cadence.every_days, retest_days=cadence.retest_days)


def _summary(
    rows: Sequence[PlanPeriod], runs: Sequence[RunFacts], findings: Sequence[OpenFinding]
) -> AuditorSummary:
    def count(test: Callable[[RunFacts], bool]) -> int:
        return sum(1 for run in runs if test(run))

    return AuditorSummary(
        plans=len(rows),
        plans_tested=sum(1 for row in rows if row.tested),
        plans_not_tested=sum(1 for row in rows if not row.tested),
        runs=len(runs),
        passed=count(lambda r: r.verdict == PASSED),
        failed=count(lambda r: r.verdict == FAILED),
        unknown=count(lambda r: r.verdict == UNKNOWN),
        rto_met=count(lambda r: r.rto_met is True),
        rto_breached=count(lambda r: r.rto_met is False),
        rto_unknown=count(lambda r: r.rto_met is None),
        rpo_met=count(lambda r: r.rpo_met is True),
        rpo_breached=count(lambda r: r.rpo_met is False),
        rpo_unknown=count(lambda r: r.rpo_met is None),
        open_findings=len(findings),
        overdue_findings=sum(1 for f in findings if f.overdue),
        signed_independently=count(lambda r: r.audit.signed_independently),
        self_signed=count(lambda r: r.sign_off_text == "self-signed"),
        not_signed=count(lambda r: r.audit.sign_off is None),
    )
