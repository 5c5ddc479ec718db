"""The operator ends a run that cannot be picked up again.

Frozen and JSON-serializable like every event (``engine.events``): add fields with defaults, never
repurpose one. What it means is decided in ``engine.abandon``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class ExecutionAbandoned:
    """The operator ended an unfinished run that no runner can drive any more: the demo world it ran in
    ended with the application, or its DRS target cannot be reached. ``reason`` is the operator's words
    (or the desktop's, which the operator confirmed), kept for the history and the report. The run ends at
    once; what it had not seen end in DRS is said to be unknown, never settled."""

    reason: str
    at: datetime
    by: str = ""
