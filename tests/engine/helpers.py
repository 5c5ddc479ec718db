"""Builders shared by the engine tests: IDs, specs, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drs_desktop.domain.engine.state import ExecutionSpec, Mode, WaveSpec
from drs_desktop.domain.plan.model import Step

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sid(n: int) -> str:
    """A valid DRS source server ID."""
    return f"s-{n:017d}"


def sids(start: int, count: int) -> tuple[str, ...]:
    return tuple(sid(n) for n in range(start, start + count))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def wave(
    name: str,
    servers: tuple[str, ...],
    *,
    optional: tuple[str, ...] = (),
    depends_on: tuple[str, ...] = (),
    before: tuple[Step, ...] = (),
    after: tuple[Step, ...] = (),
    post_launch: tuple[str, ...] = (),
) -> WaveSpec:
    return WaveSpec(
        name=name,
        server_ids=servers,
        optional=optional,
        depends_on=depends_on,
        before=before,
        after=after,
        post_launch=post_launch,
    )


def spec(*waves: WaveSpec, mode: Mode = Mode.DRILL, **settings: Any) -> ExecutionSpec:
    settings.setdefault("execution_id", "exec-1")
    return ExecutionSpec(mode=mode, started_at=T0, waves=waves, **settings)


def chain(*sizes: int, **settings: Any) -> ExecutionSpec:
    """Waves w1, w2, ... each depending on the previous, with ``sizes`` servers each."""
    waves = []
    start = 1
    for index, size in enumerate(sizes):
        deps = () if index == 0 else (f"w{index}",)
        waves.append(wave(f"w{index + 1}", sids(start, size), depends_on=deps))
        start += size
    return spec(*waves, **settings)
