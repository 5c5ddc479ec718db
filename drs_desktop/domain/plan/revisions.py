"""Saved plans as the rest of the application sees them: revisions and list entries.

Frozen values, so that the GUI can receive them as signal payloads and storage rows never leak out of
``storage``. Every save of a changed plan is a new revision; an execution pins the revision it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.plan.model import RecoveryPlan


@dataclass(frozen=True)
class PlanRevision:
    """One saved revision of a plan: numbered 1, 2, ... per plan, never changed once written."""

    plan_id: str
    name: str
    revision: int
    saved_at: datetime
    content_hash: str
    comment: str = ""
    author: str = ""
    revision_id: str = ""


@dataclass(frozen=True)
class PlanSummary:
    """A plan in the plan list: its latest revision, with counts for the list's columns.

    ``server_count`` counts the distinct server IDs that the waves name, directly or through groups of
    explicit IDs; servers selected by tags depend on the inventory and are not counted.
    """

    plan_id: str
    name: str
    latest_revision: int
    created_at: datetime
    updated_at: datetime
    wave_count: int
    server_count: int


@dataclass(frozen=True)
class StoredPlan:
    """A plan read back from the database together with the revision it came from."""

    revision: PlanRevision
    plan: RecoveryPlan
