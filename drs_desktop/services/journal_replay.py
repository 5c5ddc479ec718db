"""An execution rebuilt from its journal: the one way every reader (the runner resuming, the GUI's
controls and history, the CLI's ``show``, reports) reads a journal and replays it.

Why one helper: the journal is the truth, and every place that rebuilds an execution must refuse the
same things the same way. An entry this version cannot decode is one line (JournalUnreadableError),
never a traceback; a journal cut short can still be shown and reported (with ``warning``), but a caller
that will act on it asks for ``whole=True`` and gets JournalTruncatedError instead (a missing entry
could hide a launch). See ``domain.engine.journal_integrity``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.journal_integrity import JournalRead
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import replay
from drs_desktop.domain.engine.state import ExecutionSpec, ExecutionState, spec_from_json
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage.db import Readable

logger = logging.getLogger(__name__)

__all__ = ["Replayed", "rebuild_journal", "replay_journal", "replayed_state"]

T = TypeVar("T")


@dataclass(frozen=True)
class Replayed(Generic[T]):
    """A journal read back (its entries, events and any damage) and what was rebuilt from it: the
    execution's state, or what another rebuild makes of the same events (a report's trail)."""

    record: ExecutionRecord
    journal: JournalRead
    state: T

    @property
    def events(self) -> tuple[Event, ...]:
        return self.journal.events


def rebuild_journal(
    db: Readable,
    record: ExecutionRecord,
    rebuild: Callable[[ExecutionSpec, Sequence[Event]], T],
    *,
    whole: bool = False,
) -> Replayed[T]:
    """Read the journal of ``record`` and rebuild it with ``rebuild``.

    JournalUnreadableError for an entry this version cannot decode; with ``whole``, JournalTruncatedError
    for a journal cut short. Read the record before calling: the record may lag the journal, never lead.
    """
    journal = execution_store.read_journal(db, record)
    events = journal.require_whole() if whole else journal.events
    return Replayed(record=record, journal=journal, state=rebuild(spec_from_json(record.spec), events))


def replay_journal(db: Readable, record: ExecutionRecord, *, whole: bool = False) -> Replayed[ExecutionState]:
    """The execution's state rebuilt from its journal, as the runner rebuilds it after a crash."""
    return rebuild_journal(db, record, replay, whole=whole)


def replayed_state(db: Readable, record: ExecutionRecord) -> ExecutionState:
    """Only the state of ``replay_journal`` (a journal cut short still gives one)."""
    return replay_journal(db, record).state
