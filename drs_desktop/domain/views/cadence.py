"""A plan's drill cadence state (issue 18): due, overdue, failed and needing a re-test, or changed
materially since its last good drill; every reason listed, the worst one the headline.

What counts is said once, here (``GOOD_DRILL_RULE``, printed by the roll-up and the evidence report and
referred to by the docs), and decided by ``DrillFact`` alone, so the dashboard, ``plan cadence``, the
period roll-up and a run's evidence report cannot disagree:

- A run *passed* (``run_passed``, either mode) when it finished SUCCEEDED and none of its servers ended
  FAILED: a failed optional server was not proven, even though the run succeeded.
- A *good drill* is a drill (not a recovery) of the whole plan that passed. A *partial drill*
  (journaled ``TestRecorded`` with test type ``partial``: some waves or servers left out) that passed is
  not one, since the servers it left out were not proven: it neither restarts the ``every_days`` clock
  nor clears a failure.
- A *failed drill* is a drill, whole or partial, that finished FAILED or succeeded with a server FAILED:
  the fault it showed is real, and the re-test clock (``retest_days``) runs from it until a good drill
  follows. A drill the operator CANCELLED is neither: it proved nothing and showed no fault, so it moves
  no clock. Neither is a successful drill whose journal cannot be read (``problem``): whether it was
  whole and every server recovered is not known, so it is listed as not counted, never guessed good (a
  FAILED outcome is on the execution's record, and counts as failed whatever its journal).
- A drill is dated by its **end**: the day the estate was proven (or the fault shown) is the day it
  finished, and a long drill that started before midnight proved nothing until it ended.

Days are whole calendar days in the time zone of ``now`` (pass local time to count the operator's days):
due on the day ``every_days`` after the last good drill's day, "due today" on that day, "overdue by 1 day"
the day after. Material changes (``Cadence.after_changes``) are each said only as far as the desktop
knows them, with the age of that knowledge: servers added or removed (the servers the last good drill
ran, i.e. its pinned revision as it resolved then, against the current revision as the cached inventory
resolves it), launch settings drifted (the last drift reading), the native DRS plan changed outside the
app (the last native status reading). Something not known is listed as not known, never as "no change".

Pure, stdlib only: the time and everything read are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.launch_drift import LaunchDrift, PlanDrift

__all__ = [
    "GOOD_DRILL_RULE",
    "NAMES_LISTED",
    "CadenceFacts",
    "CadenceKind",
    "CadenceReason",
    "DrillFact",
    "NativeKnowledge",
    "NativeStatusLike",
    "PlanCadence",
    "ServerMembership",
    "cadence_summary",
    "plan_cadence",
    "run_passed",
    "with_readings",
]

#: Servers named in one reason; the rest are counted.
NAMES_LISTED = 5

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"

#: The one definition every report prints (the module's docstring says why each part is so).
GOOD_DRILL_RULE = (
    "A test passed when the run finished SUCCEEDED and none of its servers ended FAILED (a failed "
    "optional server was not proven). A good drill is a drill of the whole plan that passed: a recovery "
    "is no drill, and a partial drill proves only part of the plan. A drill that finished FAILED or "
    "succeeded with a failed server is a failed drill, to be re-tested; a cancelled drill, or a "
    "successful one whose journal cannot be read, moves no clock. Drills are dated by their end; the "
    "next test is due every_days after the last good drill, and retest_days after a failed drill that "
    "no good drill followed, whichever comes first."
)


def run_passed(outcome: str | None, failed_servers: int) -> bool:
    """Whether a finished run passed: SUCCEEDED with no server FAILED (``GOOD_DRILL_RULE``)."""
    return outcome == SUCCEEDED and failed_servers == 0


class CadenceKind(StrEnum):
    """One reason's kind; ``rank`` orders them, worst highest. The value is the headline's wording."""

    UNKNOWN = "not known"  # a material change that could not be looked at (never the headline)
    NO_CADENCE = "no cadence set"
    WITHIN = "within its cadence"  # nothing due: every rule set holds (no date to give, or none near)
    DUE = "due"
    DUE_TODAY = "due today"
    CHANGED = "changed since the last good drill"
    FAILED = "failed"  # no re-test period set
    RETEST_DUE = "failed, re-test due"
    OVERDUE = "overdue"
    RETEST_OVERDUE = "failed, re-test overdue"
    NEVER_TESTED = "never tested"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def needs_test(self) -> bool:
        """A plan in this state needs a drill now: never tested, overdue, failed (re-test due or
        overdue), or changed since its last good drill. The CLI exits 1 on these."""
        return self.rank >= _RANK[CadenceKind.CHANGED]

    @property
    def overdue(self) -> bool:
        return self in (CadenceKind.OVERDUE, CadenceKind.RETEST_OVERDUE, CadenceKind.NEVER_TESTED)


_RANK = {kind: index for index, kind in enumerate(CadenceKind)}


@dataclass(frozen=True)
class DrillFact:
    """A finished drill as the cadence counts it (``outcome``: SUCCEEDED, FAILED or CANCELLED;
    ``failed_servers``: how many of its servers ended FAILED; ``problem``: why its journal cannot be
    read, "" when it can). ``good``/``failed`` are the module's rule, decided nowhere else."""

    execution_id: str
    finished_at: datetime
    outcome: str
    partial: bool = False
    revision: int | None = None
    failed_servers: int = 0
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem and run_passed(self.outcome, self.failed_servers)

    @property
    def good(self) -> bool:
        return self.passed and not self.partial

    @property
    def failed(self) -> bool:
        """A FAILED outcome is on record whatever the journal says; a failed server needs the journal."""
        if self.outcome == FAILED:
            return True
        return not self.problem and self.outcome == SUCCEEDED and self.failed_servers > 0


@dataclass(frozen=True)
class ServerMembership:
    """The servers the last good drill ran (``drilled``; None: its record cannot say) and the current
    revision's servers (``current``; None: not resolvable, no inventory cached for its tag groups),
    resolved with the inventory read at ``inventory_at``. ``names``: hostnames, where known."""

    drilled: tuple[str, ...] | None
    current: tuple[str, ...] | None
    names: Mapping[str, str] = field(default_factory=dict)
    inventory_at: datetime | None = None
    current_revision: int | None = None


@dataclass(frozen=True)
class NativeKnowledge:
    """The plan's native DRS plan (linked), as last read: ``changed`` True when DRS holds something else
    than what was published, None when not read (``read_at`` None) or DRS could not say."""

    arn: str
    changed: bool | None = None
    read_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class CadenceFacts:
    """Everything the cadence of one plan is decided from. ``drills``: its finished drills, any order.
    ``drift``: the plan's drift in the last reading (None with ``drift_read_at`` set: the plan desires no
    launch settings; ``drift_read_at`` None: never read). ``native``: None when not linked."""

    plan_name: str
    cadence: Cadence
    drills: tuple[DrillFact, ...] = ()
    servers: ServerMembership | None = None
    drift: PlanDrift | None = None
    drift_read_at: datetime | None = None
    native: NativeKnowledge | None = None
    #: The readiness service's last verdict (None: not checked or not known): alerts only.
    not_ready: bool | None = None


@dataclass(frozen=True)
class CadenceReason:
    """One reason, in the operator's words; ``days`` for due/overdue; ``known_at``: how old the
    knowledge it rests on is (None: not a reading, or unknown)."""

    kind: CadenceKind
    text: str
    days: int | None = None
    known_at: datetime | None = None


@dataclass(frozen=True)
class PlanCadence:
    """A plan's cadence state at ``at``: the headline (worst reason) and every reason, worst first.
    ``due_on``: the day the next test is due by the clock rules (``every_days``, ``retest_days``; the
    earlier when both run), in ``at``'s time zone; None when no clock gives a day (no cadence, never
    tested, a failure with no re-test period): ``next_due`` then says why in words."""

    plan_name: str
    kind: CadenceKind
    headline: str
    reasons: tuple[CadenceReason, ...]
    at: datetime
    last_good: DrillFact | None = None
    last_failed: DrillFact | None = None
    not_ready: bool | None = None
    due_on: date | None = None
    due_rule: str = ""

    @property
    def next_due(self) -> str:
        """The next test due in one phrase, the same in every report: "2026-07-15 (re-test within 14
        days of the failed drill of 2026-07-01)", or "now: never tested", or "no cadence set"."""
        if self.due_on is not None:
            return f"{self.due_on.isoformat()} ({self.due_rule})"
        if self.kind is CadenceKind.NO_CADENCE:
            return CadenceKind.NO_CADENCE.value
        if self.kind in (CadenceKind.NEVER_TESTED, CadenceKind.FAILED):
            return f"now: {self.headline}"
        return f"no date by the clock: {self.headline}"

    @property
    def needs_test(self) -> bool:
        return self.kind.needs_test

    def reason_of(self, kind: CadenceKind) -> CadenceReason | None:
        return next((r for r in self.reasons if r.kind is kind), None)

    def line(self) -> str:
        """One line: the worst reason in full (a changed plan: the headline, each change after it), then
        the other reasons, "; " between them."""
        top = self.reasons[0] if self.reasons and self.kind is not CadenceKind.CHANGED else None
        head = top.text if top is not None else self.headline
        return "; ".join([head, *(r.text for r in self.reasons if r is not top)])


class NativeStatusLike(Protocol):
    """What the cadence needs of one plan's native status reading (``services.native_plans.PlanStatus``
    is one): ``drift`` None when DRS could not say."""

    @property
    def plan_name(self) -> str: ...

    @property
    def drift(self) -> bool | None: ...

    @property
    def note(self) -> str: ...


def with_readings(
    facts: CadenceFacts,
    drift: LaunchDrift | None = None,
    native: Iterable[NativeStatusLike] = (),
    native_read_at: datetime | None = None,
    not_ready: bool | None = None,
) -> CadenceFacts:
    """``facts`` with the caller's last launch drift reading (None, or one with no time: never read),
    native status reading (read at ``native_read_at``) and readiness verdict. Why apart from the facts:
    the database answers those, while these readings live where they were read (the GUI's drift watch,
    a native status the operator asked for) and each keeps its own time."""
    found = replace(facts, not_ready=not_ready)
    if drift is not None and drift.read_at is not None:
        found = replace(found, drift=drift.plan(facts.plan_name), drift_read_at=drift.read_at)
    if facts.native is not None and facts.native.arn and native_read_at is not None:
        status = next((s for s in native if s.plan_name.casefold() == facts.plan_name.casefold()), None)
        if status is not None:
            known = replace(facts.native, changed=status.drift, read_at=native_read_at, note=status.note)
            found = replace(found, native=known)
    return found


# ------------------------------------------------------------------------------------------ deciding


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def _day(moment: datetime, now: datetime) -> str:
    zone = now.tzinfo
    local = moment.astimezone(zone) if zone is not None and moment.tzinfo is not None else moment
    return local.strftime("%Y-%m-%d")


def _age(known_at: datetime, now: datetime) -> str:
    span = max(now - known_at, timedelta(0))
    if span < timedelta(minutes=1):
        return "just now"
    if span < timedelta(hours=1):
        return f"{int(span.total_seconds() // 60)} min ago"
    if span < timedelta(days=1):
        return f"{int(span.total_seconds() // 3600)} h ago"
    return f"{span.days} day{'s' if span.days != 1 else ''} ago"


def _schedule(kind_due: tuple[CadenceKind, CadenceKind, CadenceKind], gap: int, prefix: str) -> CadenceReason:
    """ "due in N days" / "due today" / "overdue by N days" (with ``prefix``, e.g. "failed, re-test ")."""
    due, today, overdue = kind_due
    if gap > 0:
        return CadenceReason(due, f"{prefix}due in {_days(gap)}", gap)
    if gap == 0:
        return CadenceReason(today, f"{prefix}due today", 0)
    return CadenceReason(overdue, f"{prefix}overdue by {_days(-gap)}", -gap)


def _names(ids: Sequence[str], names: Mapping[str, str]) -> str:
    shown = [names.get(i) or i for i in ids[:NAMES_LISTED]]
    more = f" and {len(ids) - NAMES_LISTED} more" if len(ids) > NAMES_LISTED else ""
    return ", ".join(shown) + more


def _membership(servers: ServerMembership | None, good: DrillFact, now: datetime) -> list[CadenceReason]:
    if servers is None or servers.drilled is None:
        return [
            CadenceReason(
                CadenceKind.UNKNOWN, "servers not compared: the last good drill's record lists none"
            )
        ]
    if servers.current is None:
        return [CadenceReason(CadenceKind.UNKNOWN, "servers not compared: no inventory cached")]
    drilled, current = set(servers.drilled), set(servers.current)
    added = [s for s in servers.current if s not in drilled]
    removed = [s for s in servers.drilled if s not in current]
    at = servers.inventory_at
    known = f" (inventory {_age(at, now)})" if at is not None else ""
    since = f"since the drill of {_day(good.finished_at, now)}"
    reasons = []
    if added:
        text = f"servers added {since}: {_names(added, servers.names)}{known}"
        reasons.append(CadenceReason(CadenceKind.CHANGED, text, known_at=at))
    if removed:
        text = f"servers removed {since}: {_names(removed, servers.names)}{known}"
        reasons.append(CadenceReason(CadenceKind.CHANGED, text, known_at=at))
    return reasons


def _drift(facts: CadenceFacts, now: datetime) -> list[CadenceReason]:
    read_at = facts.drift_read_at
    if read_at is None:
        return [CadenceReason(CadenceKind.UNKNOWN, "launch settings drift: not read yet")]
    drift = facts.drift
    if drift is None:
        return []  # the reading covers every plan desiring launch settings: this one desires none
    known = f"read {_age(read_at, now)}"
    if drift.error:
        return [
            CadenceReason(
                CadenceKind.UNKNOWN, f"launch settings drift: not read ({drift.error})", known_at=read_at
            )
        ]
    drifted = [s.server_id for s in drift.drifted]
    if not drifted:
        return []
    names = {s.server_id: s.label for s in drift.servers}
    text = f"launch settings drifted from their desired state: {_names(drifted, names)} ({known})"
    return [CadenceReason(CadenceKind.CHANGED, text, known_at=read_at)]


def _native(native: NativeKnowledge | None, now: datetime) -> list[CadenceReason]:
    if native is None:
        return []
    if native.read_at is None:
        return [CadenceReason(CadenceKind.UNKNOWN, "native DRS plan: not read since this desktop started")]
    known = f"read {_age(native.read_at, now)}"
    if native.changed is None:
        note = f": {native.note}" if native.note else ""
        return [
            CadenceReason(
                CadenceKind.UNKNOWN,
                f"native DRS plan: could not tell{note} ({known})",
                known_at=native.read_at,
            )
        ]
    if native.changed:
        text = f"the native DRS plan was changed outside the app ({known})"
        return [CadenceReason(CadenceKind.CHANGED, text, known_at=native.read_at)]
    return []


def _due_day(moment: datetime, days: int, now: datetime) -> date:
    """The calendar day ``days`` after ``moment``'s day in ``now``'s zone: whole days are added to the
    local day, not 24-hour spans to the instant, which a daylight-saving change would shift a day."""
    zone = now.tzinfo
    local = moment.astimezone(zone) if zone is not None and moment.tzinfo is not None else moment
    return local.date() + timedelta(days=days)


def plan_cadence(facts: CadenceFacts, now: datetime) -> PlanCadence:
    """The cadence state of one plan at ``now``."""
    drills = sorted(facts.drills, key=lambda d: d.finished_at, reverse=True)
    good = next((d for d in drills if d.good), None)
    failed = next(
        (d for d in drills if d.failed and (good is None or d.finished_at > good.finished_at)), None
    )
    cadence = facts.cadence
    reasons: list[CadenceReason] = []
    dues: list[tuple[date, str]] = []
    if cadence.empty:
        reasons.append(CadenceReason(CadenceKind.NO_CADENCE, "no cadence set"))
    elif good is None and failed is None:
        reasons.append(CadenceReason(CadenceKind.NEVER_TESTED, "never tested"))
    if not cadence.empty and failed is not None:
        when = _day(failed.finished_at, now)
        if cadence.retest_days is None:
            reasons.append(CadenceReason(CadenceKind.FAILED, f"failed on {when}; no re-test period set"))
        else:
            due = _due_day(failed.finished_at, cadence.retest_days, now)
            dues.append((due, f"re-test within {_days(cadence.retest_days)} of the failed drill of {when}"))
            kinds = (CadenceKind.RETEST_DUE, CadenceKind.RETEST_DUE, CadenceKind.RETEST_OVERDUE)
            reason = _schedule(kinds, (due - now.date()).days, "failed, re-test ")
            reasons.append(CadenceReason(reason.kind, f"{reason.text} (drill of {when})", reason.days))
    if cadence.every_days is not None and good is not None:
        due = _due_day(good.finished_at, cadence.every_days, now)
        last = _day(good.finished_at, now)
        dues.append((due, f"every {_days(cadence.every_days)} after the last good drill of {last}"))
        kinds = (CadenceKind.DUE, CadenceKind.DUE_TODAY, CadenceKind.OVERDUE)
        reason = _schedule(kinds, (due - now.date()).days, "")
        text = f"{reason.text} (every {_days(cadence.every_days)}; last good drill {last})"
        reasons.append(CadenceReason(reason.kind, text, reason.days))
    newest_good = good.finished_at if good is not None else None
    for drill in drills:
        unproven = drill.problem and drill.outcome == SUCCEEDED
        if unproven and (newest_good is None or drill.finished_at > newest_good):
            text = f"drill of {_day(drill.finished_at, now)} not counted: {drill.problem}"
            reasons.append(CadenceReason(CadenceKind.UNKNOWN, text))
    if cadence.after_changes and good is not None:
        changes = _membership(facts.servers, good, now) + _drift(facts, now) + _native(facts.native, now)
        reasons += changes
    elif cadence.after_changes and good is None:
        reasons.append(
            CadenceReason(CadenceKind.UNKNOWN, "changes not compared: no good drill to compare with")
        )
    if all(r.kind is CadenceKind.UNKNOWN for r in reasons) and good is not None:
        text = f"within its cadence (last good drill {_day(good.finished_at, now)})"
        reasons.append(CadenceReason(CadenceKind.WITHIN, text))
    reasons.sort(key=lambda r: (-r.kind.rank, -(r.days or 0) if r.kind.overdue else (r.days or 0)))
    top = reasons[0]
    headline = top.kind.value if top.kind is CadenceKind.CHANGED else top.text.split(" (")[0]
    return PlanCadence(
        plan_name=facts.plan_name,
        kind=top.kind,
        headline=headline,
        reasons=tuple(reasons),
        at=now,
        last_good=good,
        last_failed=failed,
        not_ready=facts.not_ready,
        due_on=min(dues)[0] if dues and not cadence.empty else None,
        due_rule=min(dues)[1] if dues and not cadence.empty else "",
    )


def cadence_summary(states: Sequence[PlanCadence]) -> str:
    """The dashboard's summary line: "2 plans overdue, 1 needs a re-test, 1 changed" (overdue counts
    never-tested plans with a cadence too); "every plan within its cadence" or "no plan has a cadence"."""
    overdue = sum(1 for s in states if s.kind in (CadenceKind.OVERDUE, CadenceKind.NEVER_TESTED))
    retest = sum(
        1
        for s in states
        if s.kind in (CadenceKind.RETEST_DUE, CadenceKind.RETEST_OVERDUE, CadenceKind.FAILED)
    )
    changed = sum(1 for s in states if s.kind is CadenceKind.CHANGED)
    due_today = sum(1 for s in states if s.kind is CadenceKind.DUE_TODAY)
    parts = []
    if overdue:
        parts.append(f"{overdue} plan{'s' if overdue != 1 else ''} overdue")
    if retest:
        parts.append(f"{retest} need{'s' if retest == 1 else ''} a re-test")
    if changed:
        parts.append(f"{changed} changed since {'its' if changed == 1 else 'their'} last good drill")
    if due_today:
        parts.append(f"{due_today} due today")
    if parts:
        return ", ".join(parts)
    if states and all(s.kind is CadenceKind.NO_CADENCE for s in states):
        return "no plan has a cadence set"
    return "every plan with a cadence is within it" if states else "no plans"
