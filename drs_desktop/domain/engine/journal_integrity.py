"""Reading an execution's journal back: entries this version cannot decode, and entries that are missing.

Why a module of its own: the journal outlives the program that wrote it. A database may be opened by an
older DRS Desktop than the one that ran the execution (an event type added since), or it may be damaged
(a restored copy, a disk error, an edit by hand). Either way the operator gets one line that says which
entry and what to think of it, never a traceback, and nothing acts on a journal it cannot read whole.

What "cut short" means here, concretely (the schema keeps no count of the events it should hold):
- the entries are not numbered 1, 2, 3... without a gap: some entries in the middle (or at the start)
  are missing;
- the listing says the execution finished, but its journal holds no ``ExecutionFinished``: the runner
  journals the finish *before* it updates the listing, so the listing can lag the journal, never lead it.
A last entry that is an intent with no result (``StartRequested`` with no ``JobStarted``) is not damage:
it is what a crash leaves, and the engine reconciles it with DRS. A cut-short journal can still be shown
and reported (with a warning), but not driven on: a missing entry could hide a launch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drs_desktop.domain.engine.events import CORE_KEY, EVENT_TYPES, Event, event_from_json
from drs_desktop.domain.engine.record import ExecutionRecord, JournalEntry
from drs_desktop.domain.errors import DrsDesktopError

__all__ = [
    "JournalRead",
    "JournalTruncatedError",
    "JournalUnreadableError",
    "decode_entries",
    "missing_entries",
    "read_entries",
    "unreadable_entry",
]

_NEWER_OR_DAMAGED = "written by a newer DRS Desktop, or damaged"
_DETAIL_LIMIT = 120


class JournalUnreadableError(DrsDesktopError):
    """An entry of an execution's journal cannot be decoded by this version: an event type it does not
    know, a field it cannot read, or bytes that are not JSON."""


class JournalTruncatedError(DrsDesktopError):
    """The journal misses entries, so the execution cannot be driven on from it (it may still be shown)."""


@dataclass(frozen=True)
class JournalRead:
    """An execution's journal decoded: its entries, their events, and why it looks cut short (if so)."""

    execution_id: str
    entries: tuple[JournalEntry, ...]
    events: tuple[Event, ...]
    damage: str | None = None  # e.g. "entries 5 to 7 are missing"; None when the journal looks whole

    @property
    def warning(self) -> str | None:
        """The one line to show beside what the journal shows, when it is cut short."""
        if self.damage is None:
            return None
        return (
            f"warning: execution {self.execution_id}: its journal is cut short ({self.damage}); "
            "what it shows may be incomplete"
        )

    def require_whole(self) -> tuple[Event, ...]:
        """The events, for a runner that will act on them; JournalTruncatedError when entries are
        missing (a missing StartRequested or JobStarted could make the engine launch a server twice)."""
        if self.damage is not None:
            raise JournalTruncatedError(
                f"execution {self.execution_id} cannot be resumed: its journal is cut short "
                f"({self.damage}); a missing entry could hide a launch, so nothing was done"
            )
        return self.events


def unreadable_entry(execution_id: str, seq: int, problem: str) -> JournalUnreadableError:
    """The one-line error for journal entry ``seq`` that this version cannot read."""
    return JournalUnreadableError(
        f"execution {execution_id}: journal entry {seq} {problem}: {_NEWER_OR_DAMAGED}"
    )


def decode_entries(execution_id: str, entries: Sequence[JournalEntry]) -> list[Event]:
    """The events of ``entries``, in order; JournalUnreadableError (one line) at the first that this
    version cannot decode. An annotation of a newer version (an unknown type marked ``"core": false``) is
    skipped: it changes nothing the engine decides."""
    events: list[Event] = []
    for entry in entries:
        payload = entry.payload
        if not isinstance(payload, Mapping):
            raise unreadable_entry(execution_id, entry.seq, "is not a JSON object")
        kind = payload.get("type")
        if isinstance(kind, str) and kind not in EVENT_TYPES and payload.get(CORE_KEY) is False:
            continue  # a newer version's annotation: it changes nothing the engine decides (events.py)
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            problem = f"has event type {_short(repr(kind))} that this version does not know"
            raise unreadable_entry(execution_id, entry.seq, problem)
        try:
            events.append(event_from_json(payload))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise unreadable_entry(
                execution_id, entry.seq, f"({kind}) has a field this version cannot read ({_short(str(exc))})"
            ) from exc
    return events


def missing_entries(record: ExecutionRecord, entries: Sequence[JournalEntry]) -> str | None:
    """Why the journal of ``record`` looks cut short (see the module's docstring), or None."""
    expected = 1
    for entry in entries:
        if entry.seq != expected:
            if entry.seq < expected:
                return f"entry {entry.seq} appears twice"
            last = entry.seq - 1
            if last == expected:
                return f"entry {expected} is missing"
            return f"entries {expected} to {last} are missing"
        expected += 1
    if record.finished_at is not None and not any(entry.type == "ExecutionFinished" for entry in entries):
        outcome = f" ({record.outcome})" if record.outcome else ""
        ends = f"ends at entry {entries[-1].seq}" if entries else "is empty"
        return f"the execution is recorded as finished{outcome} but its journal {ends} without the finish"
    return None


def read_entries(record: ExecutionRecord, entries: Sequence[JournalEntry]) -> JournalRead:
    """Decode ``entries`` (the journal of ``record``) and check them for missing entries."""
    return JournalRead(
        execution_id=record.execution_id,
        entries=tuple(entries),
        events=tuple(decode_entries(record.execution_id, entries)),
        damage=missing_entries(record, entries),
    )


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _DETAIL_LIMIT else line[: _DETAIL_LIMIT - 1] + "…"
