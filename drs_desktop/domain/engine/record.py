"""What the database knows of an execution beyond its journal: which plan revision, who, when, how it ended.

The journal (the event list) is the execution's truth; this record is its summary for listings, history
and evidence, and pins the exact plan revision that ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ExecutionRecord:
    execution_id: str
    plan_id: str
    plan_revision_id: str
    plan_name: str
    plan_revision: int
    mode: str  # DRILL or RECOVERY
    status: str
    started_at: datetime
    outcome: str | None = None
    finished_at: datetime | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict)  # the engine's ExecutionSpec as JSON
    identity: Mapping[str, str] = field(default_factory=dict)
    event_count: int = 0

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class JournalEntry:
    """One journaled event: its number in the execution, and the event's JSON form."""

    seq: int
    type: str
    at: datetime
    payload: Mapping[str, Any]
