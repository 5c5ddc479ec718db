"""Readiness figures of a plan from what past drills recorded and what the inventory says now: the RTO
predicted from past drills' wave times, and the servers whose replication lag breaks the plan's RPO.

Why predicted from the journal and not from a rule of thumb: each successful drill journaled when every
wave started, when each server was ready and when the wave completed, on DRS's clock. The median of
each wave's time over those drills, laid along the plan's own dependencies, is what the next drill will
most likely take; a wave that no successful drill ran has no figure, and the prediction says so rather
than guess. Approvals are left out of every wave's time: they measure how fast a person answered, not
the estate, and an incident's approver may be faster or slower. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from drs_desktop.domain.engine.events import Outcome, StepPhase
from drs_desktop.domain.engine.state import ExecutionState, WavePhase
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import RecoveryPlan

__all__ = [
    "DrillPoint",
    "LagBreach",
    "RtoPrediction",
    "ServerLag",
    "WaveTime",
    "WaveTiming",
    "predict_rto",
    "rpo_breaches",
    "server_lags",
    "wave_timings",
]


@dataclass(frozen=True)
class WaveTiming:
    """One wave of one past drill: from its start to its last critical server ready (``to_ready``),
    and to its completion, after-steps included (``total``); approvals left out of both."""

    to_ready: timedelta
    total: timedelta


@dataclass(frozen=True)
class WaveTime:
    """The prediction's figure for one wave of the plan: medians over ``samples`` drills (None: none)."""

    name: str
    to_ready: timedelta | None
    total: timedelta | None
    samples: int


@dataclass(frozen=True)
class RtoPrediction:
    """The RTO the next drill should achieve. ``total`` is None when no successful drill ran the plan
    (``drills`` 0) or when some wave has no recorded time (``missing`` names them)."""

    total: timedelta | None
    waves: tuple[WaveTime, ...]
    drills: int
    missing: tuple[str, ...] = ()


def _approval_time(state: ExecutionState, index: int, phase: StepPhase | None) -> timedelta:
    spent = timedelta(0)
    for step in state.waves[index].steps:
        if step.kind == "approval" and (phase is None or step.phase is phase):
            spent += step.ended_at - step.started_at
    return spent


def wave_timings(state: ExecutionState) -> dict[str, WaveTiming]:
    """The recorded time of each wave of a SUCCEEDED execution that completed (none of a run that did
    not succeed: a failed or cancelled run's times say how it broke, not how long recovery takes)."""
    if state.finished is not Outcome.SUCCEEDED:
        return {}
    timings: dict[str, WaveTiming] = {}
    for wave in state.waves:
        if wave.phase is not WavePhase.COMPLETED or wave.started_at is None or wave.completed_at is None:
            continue
        ready = [s.ready_at for s in state.wave_servers(wave.index) if s.critical and s.ready_at is not None]
        before = _approval_time(state, wave.index, StepPhase.BEFORE)
        total = wave.completed_at - wave.started_at - _approval_time(state, wave.index, None)
        to_ready = (max(ready) - wave.started_at - before) if ready else timedelta(0)
        timings[wave.name] = WaveTiming(to_ready=max(to_ready, timedelta(0)), total=max(total, timedelta(0)))
    return timings


def _median(spans: Sequence[timedelta]) -> timedelta:
    return timedelta(seconds=median(s.total_seconds() for s in spans))


def predict_rto(plan: RecoveryPlan, drills: Sequence[Mapping[str, WaveTiming]]) -> RtoPrediction:
    """The median time of each of ``plan``'s waves over past drills (``wave_timings`` of each), laid
    along the plan's dependencies: a wave starts once every wave it depends on has completed, and the
    RTO ends when the last wave's critical servers are ready (as ``evidence.rto_achieved`` measures it)."""
    drills = [d for d in drills if d]
    waves: list[WaveTime] = []
    for wave in plan.waves:
        samples = [d[wave.name] for d in drills if wave.name in d]
        if samples:
            to_ready = _median([s.to_ready for s in samples])
            total = _median([s.total for s in samples])
            waves.append(WaveTime(wave.name, to_ready, total, len(samples)))
        else:
            waves.append(WaveTime(wave.name, None, None, 0))
    missing = tuple(w.name for w in waves if w.total is None)
    if not drills or missing:
        return RtoPrediction(None, tuple(waves), len(drills), missing)
    finish: dict[str, timedelta] = {}
    ready_at = timedelta(0)
    for index, time in enumerate(waves):
        deps = plan.dependencies(index)
        start = max((finish.get(name, timedelta(0)) for name in deps), default=timedelta(0))
        assert time.total is not None and time.to_ready is not None
        finish[time.name] = start + time.total
        ready_at = max(ready_at, start + time.to_ready)
    return RtoPrediction(ready_at, tuple(waves), len(drills))


@dataclass(frozen=True)
class ServerLag:
    """One server of a plan as the lag chart draws it (``lag_seconds`` None: DRS reports none)."""

    server_id: str
    label: str
    lag_seconds: int | None
    replication_state: str = ""


@dataclass(frozen=True)
class LagBreach:
    """A server whose data is older than the plan's RPO allows."""

    server_id: str
    label: str
    lag_seconds: int
    rpo_minutes: int
    replication_state: str = ""


def server_lags(server_ids: Sequence[str], inventory: Inventory | None) -> tuple[ServerLag, ...]:
    """The plan's servers with their lag as the inventory last read it; servers the inventory does not
    know are left out (the preflight names them)."""
    if inventory is None:
        return ()
    known = inventory.by_id()
    found = []
    for server_id in dict.fromkeys(server_ids):
        server = known.get(server_id)
        if server is not None:
            label = server.hostname or server_id
            found.append(ServerLag(server_id, label, server.lag_seconds, server.replication_state))
    return tuple(found)


def rpo_breaches(lags: Sequence[ServerLag], rpo_minutes: int | None) -> tuple[LagBreach, ...]:
    """The servers whose lag is over the RPO, worst first. Whatever the replication state: a stalled
    server's lag is how old its newest data is, and that is what the RPO bounds."""
    if rpo_minutes is None:
        return ()
    limit = rpo_minutes * 60
    over = [
        LagBreach(s.server_id, s.label, s.lag_seconds, rpo_minutes, s.replication_state)
        for s in lags
        if s.lag_seconds is not None and s.lag_seconds > limit
    ]
    return tuple(sorted(over, key=lambda b: -b.lag_seconds))


@dataclass(frozen=True)
class DrillPoint:
    """One past drill on the RTO-over-time chart (``rto`` None: it never had every server ready)."""

    started_at: datetime
    outcome: str | None
    rto: timedelta | None
