"""The recovery points of a run's launched servers, journaled for its achieved RPO (issue 18).

What the runner calls between two steps (``RecoveryPoints.step``). It journals ``RecoveryPointsRecorded``
(an annotation: it changes nothing the engine decides) for servers that launched:

- a point-in-time run: the chosen snapshot's time, known since the run was prepared (``source="snapshot"``;
  no call);
- a run on the latest data: the recovery instance's ``pointInTimeSnapshotDateTime``, the time of the
  snapshot DRS took at launch (``source="instance"``), with the server's replication lag when the run
  started (read while preparing, kept in the run's options). One DescribeRecoveryInstances per wave,
  once no server of the wave is still on its way, for that wave's launched servers (per target in a run
  across targets); never one per server.

A read that fails, or an instance DRS does not list yet (its listing lags the launch), is tried again at
most ``MAX_LOOKS`` times, ``RETRY_AFTER`` apart on the run's clock; then the point is journaled as
unknown (``data_at`` None). Nothing here holds, fails or paces the run: a failure is logged, never
journaled as the engine's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.drs.views import RecoveryInstanceView
from drs_desktop.domain.engine.annotation_events import RecoveryPoint, RecoveryPointsRecorded
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus

logger = logging.getLogger(__name__)

__all__ = ["MAX_LOOKS", "POINTS_KEY", "RETRY_AFTER", "RecoveryPoints", "points_options"]

#: The run's options key: ``{"lag_seconds": {server: int}, "snapshot_at": {server: ISO time}}``.
POINTS_KEY = "recovery_points"
#: How many DescribeRecoveryInstances a wave's servers get before their points are journaled unknown.
MAX_LOOKS = 4
#: How long (the run's clock) after a look that left servers without a point the next one goes out.
RETRY_AFTER = timedelta(minutes=1)
#: Server states in which a server may still launch: its wave's look waits for them.
_ON_THE_WAY = (ServerStatus.PENDING, ServerStatus.STARTING, ServerStatus.LAUNCHING)

#: ``read(target, server_ids)``: the recovery instances of these servers in that target ("" connected).
InstancesRead = Callable[[str, Sequence[str]], list[RecoveryInstanceView]]


def points_options(
    lags: Mapping[str, int | None], snapshot_at: Mapping[str, datetime | None]
) -> dict[str, dict[str, Any]]:
    """What a new run keeps for its recovery points (``create_execution``): each server's replication lag
    as the preparation read it, and each chosen snapshot's time (a point-in-time run)."""
    return {
        "lag_seconds": {s: int(lag) for s, lag in lags.items() if lag is not None},
        "snapshot_at": {s: at.isoformat() for s, at in snapshot_at.items() if at is not None},
    }


class RecoveryPoints:
    """Journals the recovery points of one run's launched servers (one per server, once)."""

    def __init__(
        self,
        options: Mapping[str, Any],
        *,
        read: InstancesRead,
        record: Callable[[Event], None],
        clock: Callable[[], datetime],
        recorded: Callable[[], set[str]],
    ) -> None:
        stored = options.get(POINTS_KEY)
        stored = stored if isinstance(stored, Mapping) else {}
        self._lags = _ints(stored.get("lag_seconds"))
        self._snapshot_at = _times(stored.get("snapshot_at"))
        self._read = read
        self._record = record
        self._clock = clock
        self._recorded_of = recorded
        self._done: set[str] | None = None  # read from the journal on first use (a resumed run)
        self._looks: dict[str, int] = {}
        self._seen: dict[str, datetime] = {}  # instance ID -> its point, from the engine's own looks
        self._next_look: dict[int, datetime] = {}

    def saw(self, views: Sequence[RecoveryInstanceView]) -> None:
        """Recovery instances the runner read anyway (the engine's look for an instance DRS did not
        name): their points are kept, and their servers need no call of their own."""
        for view in views:
            if view.point_in_time is not None:
                self._seen[view.recovery_instance_id] = view.point_in_time

    def step(self, state: ExecutionState) -> None:
        """Journal what can be journaled now; at most one DescribeRecoveryInstances per wave and target."""
        if self._done is None:
            self._done = set(self._recorded_of())
        now = self._clock()
        for wave in state.waves:
            servers = state.wave_servers(wave.index)
            launched = [
                s
                for s in servers
                if s.status is ServerStatus.LAUNCHED
                and s.recovery_instance_id
                and s.server_id not in self._done
            ]
            if not launched:
                continue
            pit = [s.server_id for s in launched if s.server_id in self._snapshot_at]
            if pit:
                self._journal([self._snapshot_point(s) for s in pit], now)
            rest = [s for s in launched if s.server_id not in self._snapshot_at]
            known = [s for s in rest if s.recovery_instance_id in self._seen]
            if known:
                self._journal(
                    [
                        self._instance_point(s.server_id, self._seen[s.recovery_instance_id or ""])
                        for s in known
                    ],
                    now,
                )
                rest = [s for s in rest if s not in known]
            still = any(s.status in _ON_THE_WAY for s in servers)
            if not rest or (still and state.finished is None):
                continue
            due = self._next_look.get(wave.index)
            if due is not None and now < due and state.finished is None:
                continue  # a finished run may not step again: it looks at once
            self._look(wave.index, [(s.server_id, s.target, s.recovery_instance_id or "") for s in rest], now)

    def _look(self, wave_index: int, servers: list[tuple[str, str, str]], now: datetime) -> None:
        by_target: dict[str, list[tuple[str, str]]] = {}
        for server_id, target, instance_id in servers:
            by_target.setdefault(target, []).append((server_id, instance_id))
        points: list[RecoveryPoint] = []
        for target, wanted in by_target.items():
            found: dict[str, RecoveryInstanceView] = {}
            try:
                for item in self._read(target, [server_id for server_id, _ in wanted]):
                    found[item.recovery_instance_id] = item
            except DrsError as error:
                logger.info("recovery points of wave %d not read: %s", wave_index + 1, error)
            for server_id, instance_id in wanted:
                view = found.get(instance_id)
                looks = self._looks[server_id] = self._looks.get(server_id, 0) + 1
                if view is not None and view.point_in_time is not None:
                    points.append(self._instance_point(server_id, view.point_in_time))
                elif view is not None or looks >= MAX_LOOKS:
                    points.append(self._instance_point(server_id, None))  # DRS does not say: unknown
        self._journal(points, now)
        if len(points) < len(servers):
            self._next_look[wave_index] = now + RETRY_AFTER

    def _instance_point(self, server_id: str, data_at: datetime | None) -> RecoveryPoint:
        return RecoveryPoint(
            server_id=server_id, data_at=data_at, source="instance", lag_seconds=self._lags.get(server_id)
        )

    def _snapshot_point(self, server_id: str) -> RecoveryPoint:
        return RecoveryPoint(
            server_id=server_id,
            data_at=self._snapshot_at[server_id],
            source="snapshot",
            lag_seconds=self._lags.get(server_id),
        )

    def _journal(self, points: list[RecoveryPoint], now: datetime) -> None:
        if not points:
            return
        self._record(RecoveryPointsRecorded(points=tuple(points), at=now))
        assert self._done is not None
        self._done.update(point.server_id for point in points)


def recorded_servers(events: Sequence[Event]) -> set[str]:
    """The servers whose recovery point a journal already holds (a resumed run never journals twice)."""
    return {p.server_id for e in events if isinstance(e, RecoveryPointsRecorded) for p in e.points}


def _ints(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _times(value: object) -> dict[str, datetime]:
    if not isinstance(value, Mapping):
        return {}
    found: dict[str, datetime] = {}
    for key, text in value.items():
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            logger.warning("recovery point of %s: %r is not a time; left unknown", key, text)
            continue
        if moment.tzinfo is not None:
            found[str(key)] = moment
    return found
