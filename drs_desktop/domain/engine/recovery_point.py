"""Choosing the recovery snapshot of each server for a point-in-time recovery.

A run recovers from the latest data (DRS takes an on-demand snapshot; StartRecovery gets no snapshot ID)
or from a point in time T: then every server starts from its newest snapshot taken at or before T, so the
servers of an application come back consistent with each other as far as DRS allows. The runner fetches
the snapshots (DescribeRecoverySnapshots, one call per server); this module only picks. Pure.

``timestamp`` is optional on a DRS snapshot (reference §12.9): a snapshot without one that already lists its
EBS snapshots is finished (DRS's own published example), and is taken at its ``expectedTimestamp``. One
with neither is still being taken and is never chosen: only a finished snapshot is a recovery point. A
server with no finished snapshot at or before T is a ``SnapshotProblem``, reported for every such server
at once (with why) so the operator can decide in one round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoverySnapshot:
    """One DRS recovery snapshot, reduced to what choosing needs. ``timestamp`` None and no
    ``ebs_snapshots``: still being taken; ``timestamp`` None with EBS snapshots: finished (§12.9)."""

    snapshot_id: str
    server_id: str
    timestamp: datetime | None
    expected_timestamp: datetime | None = None
    ebs_snapshots: tuple[str, ...] = ()

    @property
    def taken_at(self) -> datetime | None:
        """When the snapshot's data is from, None while it is still being taken: its ``timestamp``, or
        for a finished snapshot DRS lists without one, its ``expectedTimestamp``."""
        if self.timestamp is not None:
            return self.timestamp
        return self.expected_timestamp if self.ebs_snapshots else None


@dataclass(frozen=True)
class SnapshotProblem:
    """Why a server has no snapshot for the point in time, with the earliest one it does have, if any."""

    server_id: str
    message: str
    earliest_after: datetime | None = None


@dataclass(frozen=True)
class RecoveryPointChoice:
    """The snapshot chosen per server for ``point_in_time``, and the servers that have none.

    ``chosen`` maps server ID -> snapshot; ``data_age`` says how far before T each snapshot was taken
    (evidence for the achieved RPO).
    """

    point_in_time: datetime
    chosen: Mapping[str, RecoverySnapshot] = field(default_factory=dict)
    problems: tuple[SnapshotProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def snapshot_ids(self) -> dict[str, str]:
        """Server ID -> snapshot ID, the form StartRecovery and the execution spec take."""
        return {server_id: snap.snapshot_id for server_id, snap in self.chosen.items()}

    def data_age(self, server_id: str) -> timedelta | None:
        snap = self.chosen.get(server_id)
        taken = None if snap is None else snap.taken_at
        return None if taken is None else self.point_in_time - taken


def choose_snapshots(
    point_in_time: datetime, server_ids: Sequence[str], snapshots: Iterable[RecoverySnapshot]
) -> RecoveryPointChoice:
    """For each of ``server_ids`` the newest finished snapshot whose timestamp is not after T.

    ``snapshots`` may hold several servers' snapshots in any order (DRS lists them per server, and
    the order of a page is not something to rely on). Times must be timezone-aware.
    """
    if point_in_time.tzinfo is None:
        raise ValueError("point_in_time must be timezone-aware")
    by_server: dict[str, list[RecoverySnapshot]] = {server_id: [] for server_id in server_ids}
    for snap in snapshots:
        if snap.server_id in by_server:
            by_server[snap.server_id].append(snap)
    chosen: dict[str, RecoverySnapshot] = {}
    problems: list[SnapshotProblem] = []
    for server_id in server_ids:
        best, problem = _choose_one(point_in_time, server_id, by_server[server_id])
        if best is not None:
            chosen[server_id] = best
        if problem is not None:
            problems.append(problem)
    if problems:
        logger.info("point in time %s: %d server(s) without a snapshot", point_in_time, len(problems))
    return RecoveryPointChoice(point_in_time, chosen, tuple(problems))


def _choose_one(
    point_in_time: datetime, server_id: str, snapshots: Sequence[RecoverySnapshot]
) -> tuple[RecoverySnapshot | None, SnapshotProblem | None]:
    finished = [(taken, snap) for snap in snapshots if (taken := snap.taken_at) is not None]
    eligible = [(taken, snap) for taken, snap in finished if taken <= point_in_time]
    if eligible:
        # Newest first; equal times are broken by ID so the choice never depends on input order.
        return max(eligible, key=lambda item: (item[0], item[1].snapshot_id))[1], None
    if not finished:
        message = "has no finished recovery snapshot"
        if snapshots:
            message += " (a snapshot is still being taken: no timestamp and no EBS snapshots yet)"
        return None, SnapshotProblem(server_id, message)
    earliest = min(taken for taken, _ in finished)
    message = f"has no recovery snapshot at or before {point_in_time.isoformat()}; the earliest is {earliest}"
    return None, SnapshotProblem(server_id, message, earliest)
