"""What the sync's push, pull and resolution share: the table, this desktop, and the round's tally.

Kept apart from services/sync.py so that the push (services/sync_push.py), the pull
(services/sync_pull_apply.py) and the resolution (services/sync_resolve.py) each stay one reading.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.aws.sync_capacity import Capacity
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff
from drs_desktop.storage.db import Database


@dataclass
class SyncContext:
    db: Database
    client: Any
    table: str
    desktop_id: str
    app_version: str
    backoff: Backoff = DEFAULT_BACKOFF


@dataclass
class Tally:
    """What one round did, counted as it goes (a failure midway still reports what was done)."""

    pushed: Counter[str] = field(default_factory=Counter)
    pulled: Counter[str] = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncReport:
    """What a ``push``, ``pull`` or ``sync_now`` did.

    ``pushed`` / ``pulled`` count by what (``revisions``, ``plans``, ``executions``, ``journal pages``,
    ``settings``); ``conflicts`` describes the conflicts found in this round, ``open_conflicts`` how many
    wait for the operator now; ``cursor`` is where the pull stands; ``waiting`` the change numbers a pull
    waits for (within their grace); ``capacity`` the read and write units DynamoDB reported.
    """

    pushed: dict[str, int]
    pulled: dict[str, int]
    conflicts: tuple[str, ...]
    open_conflicts: int
    cursor: int
    queued: int
    waiting: tuple[int, ...]
    capacity: Capacity
    notes: tuple[str, ...] = ()
    started_over: bool = False

    def describe(self) -> str:
        """One line for a terminal or a status bar."""

        def counts(values: dict[str, int]) -> str:
            return ", ".join(f"{n} {what}" for what, n in sorted(values.items()) if n) or "nothing"

        parts = [f"pushed {counts(self.pushed)}", f"pulled {counts(self.pulled)}", f"cursor {self.cursor}"]
        if self.queued:
            parts.append(f"{self.queued} still queued")
        if self.open_conflicts:
            parts.append(f"{self.open_conflicts} conflict(s) to resolve")
        if self.waiting:
            parts.append(f"waiting for change(s) {', '.join(map(str, self.waiting))}")
        if self.capacity.calls:
            parts.append(f"{self.capacity.read_units:g} read and {self.capacity.write_units:g} write units")
        return "; ".join(parts)


def numbered_prefix(numbers: Iterable[int | None]) -> int:
    """The highest ``n`` such that this desktop knows the table's revisions 1 to ``n`` of a plan.

    The table numbers a plan's revisions 1, 2, 3... with no hole (each the next free one), so every
    revision it holds that this desktop lacks is numbered above ``n``: reading only those (``after=n``)
    misses none, and one new revision costs one item read, not the plan's history. The prefix, not the
    highest known number: a desktop may know 1-5 and 10 (its own revision pushed while a teammate's 6-9
    waited in a conflict) and must still read 6-9.
    """
    known = {n for n in numbers if n is not None}
    prefix = 0
    while prefix + 1 in known:
        prefix += 1
    return prefix


def canonical(value: Any) -> str:
    """A head body's one text form (sorted keys, no spaces): equal content, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


#: Keys of an execution body that may differ between desktops for the same execution (a local number).
#: What two execution heads may differ in and still say the same thing: the revision's number here (it is
#: the table's elsewhere), and the journal's length, which the push writes into the head and the local
#: record does not hold (the journal pages are compared event by event, by their keys).
_LOCAL_ONLY = frozenset({"plan_revision", "event_count"})


def same_body(kind: str, mine: dict[str, Any] | None, theirs: dict[str, Any] | None) -> bool:
    """True when two heads say the same thing: a change that met itself is not a conflict (two desktops
    pushing the same history again after the table was recreated)."""
    if mine is None or theirs is None:
        return mine is None and theirs is None
    if kind == "EXEC":
        mine = {k: v for k, v in mine.items() if k not in _LOCAL_ONLY}
        theirs = {k: v for k, v in theirs.items() if k not in _LOCAL_ONLY}
    if kind == "PLAN":
        keys = ("name", "revision_id")
        return all(mine.get(k) == theirs.get(k) for k in keys)
    return mine == theirs
