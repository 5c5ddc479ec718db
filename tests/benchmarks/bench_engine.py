"""Engine benchmark on the simulator's virtual clock (run on demand, not part of the suite).

    .venv/bin/python tests/benchmarks/bench_engine.py [--plans 10x3,100x5,300x10] [--seed 11]

For plans of N servers in W waves (each wave after the previous one) over a 320-server simulated account
(70 % Linux, 30 % Windows, all CONTINUOUS), runs the same plan three ways on a fresh simulator with the
same scenario and seed, and prints one table:

- ``engine``: the ExecutionRunner with its adaptive poll (20 s base: 6.7 s while things change, up to
  80 s when quiet), through the real boto3 client;
- ``engine 30s``: the same with ``--poll-interval 30``, the old app's poll interval;
- ``old app``: a small driver of the old web app's published schedule: StartRecovery for one server at a
  time, 15 s apart; a DescribeJobs per job every 30 s; the next wave 30 s after every job of the wave
  completed. What it did on a quota refusal (more than 20 jobs at once) is not published: here it tries
  the same server again at its next 15 s slot.

Columns:

- ``makespan``: the last server launched (the simulator's own launch time) minus the start;
- ``bound``: the critical-path lower bound: for each wave, its DRS time = the slowest of its servers'
  (launched_at - requested_at) in this run's launch records; the longest path through the wave
  dependency graph of those times. No driver can beat it with the jobs DRS ran for it;
- ``ratio`` = makespan / bound, and ``over/wave`` = (makespan - bound) / waves, in seconds: the target
  is at most one poll interval per wave;
- ``calls/min``: every request the simulator received (refused ones included) from start to finish,
  per virtual minute; ``StartRecovery``, ``DescribeJobs`` and ``total`` are counts (the old app's
  StartRecovery count includes the calls DRS refused for its 20-job quota); ``real s``: wall-clock
  time of the run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.entities import LaunchRecord
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

FLEET: dict[str, Any] = {
    "name": "bench-320",
    "quotas": {"max_replicating_servers": 400},
    "fleet": {
        "generated": {"count": 320, "applications": 4, "os": {"linux": 0.7, "windows": 0.3}},
        "replication": {"states": {"CONTINUOUS": 1.0}},
    },
}
OLD_SERVER_GAP = 15.0
OLD_WAVE_GAP = 30.0
OLD_POLL = 30.0


@dataclass(frozen=True)
class Figures:
    driver: str
    servers: int
    waves: int
    makespan: timedelta
    bound: timedelta
    calls: Counter[str]
    duration: timedelta  # start to the driver's end (calls per minute are over this)
    real_seconds: float

    @property
    def ratio(self) -> float:
        return self.makespan / self.bound

    @property
    def over_per_wave(self) -> float:
        return (self.makespan - self.bound).total_seconds() / self.waves

    @property
    def calls_per_minute(self) -> float:
        return sum(self.calls.values()) / (self.duration.total_seconds() / 60)


def make_plan(server_ids: Sequence[str], servers: int, waves: int) -> RecoveryPlan:
    chosen = list(server_ids[:servers])
    size, extra = divmod(servers, waves)
    slices, start = [], 0
    for n in range(waves):
        end = start + size + (1 if n < extra else 0)
        slices.append(tuple(chosen[start:end]))
        start = end
    return RecoveryPlan(
        name=f"bench-{servers}x{waves}",
        waves=tuple(Wave(name=f"W{n + 1}", servers=s) for n, s in enumerate(slices)),
    )


def critical_path(plan: RecoveryPlan, records: Sequence[LaunchRecord]) -> timedelta:
    """Longest path through the wave graph, each wave weighted by its slowest server's DRS time."""
    drs_time = {r.source_server_id: r.launched_at - r.requested_at for r in records if r.launched_at}
    finish: dict[str, timedelta] = {}
    for index, wave in enumerate(plan.waves):  # waves depend on earlier waves only
        slowest = max(drs_time[s] for s in wave.servers)
        before = max((finish[name] for name in plan.dependencies(index)), default=timedelta(0))
        finish[wave.name] = before + slowest
    return max(finish.values())


def last_launch(records: Sequence[LaunchRecord], server_ids: set[str]) -> datetime:
    launched = [r.launched_at for r in records if r.source_server_id in server_ids and r.launched_at]
    if len(launched) < len(server_ids):
        raise RuntimeError("not every server of the plan launched")
    return max(launched)


def counts_since(sim: EmbeddedSimulator, before: dict[str, int]) -> Counter[str]:
    now = Counter(sim.backend.request_counts())
    now.subtract(before)
    return +now


def run_engine(seed: int, servers: int, waves: int, poll: float | None) -> Figures:
    with (
        EmbeddedSimulator(FLEET, seed=seed) as sim,
        tempfile.TemporaryDirectory() as folder,
        Database.open(Path(folder) / "bench.sqlite3") as db,
    ):
        plan = make_plan(sorted(sim.backend.source_server_ids()), servers, waves)
        save_plan(db, plan)
        target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
        gateway = DrsGateway(target, read_max_attempts=1)
        request = RunRequest(plan_name=plan.name, mode=Mode.DRILL, poll_interval_seconds=poll)
        prepared = prepare_execution(db, gateway, request)
        runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
        before = sim.backend.request_counts()
        started = runner.state.spec.started_at
        real = time.perf_counter()

        def sleep(seconds: float) -> None:
            sim.clock.advance(max(seconds, 0.001))

        result = runner.run(sleep=sleep)
        real = time.perf_counter() - real
        if result.outcome is None or result.outcome.value != "SUCCEEDED":
            raise RuntimeError(f"the engine's run ended {result.outcome}")
        records = sim.backend.launch_records()
        makespan = last_launch(records, set(prepared.server_ids)) - started
        return Figures(
            "engine" if poll is None else f"engine {poll:.0f}s",
            servers,
            waves,
            makespan,
            critical_path(plan, records),
            counts_since(sim, before),
            sim.clock.now() - started,
            real,
        )


def run_old_app(seed: int, servers: int, waves: int) -> Figures:
    """The old web app's schedule, driven call by call on the virtual clock."""
    with EmbeddedSimulator(FLEET, seed=seed) as sim:
        plan = make_plan(sorted(sim.backend.source_server_ids()), servers, waves)
        drs = boto3.client(
            "drs", **sim.client_kwargs(), config=Config(retries={"mode": "standard", "total_max_attempts": 1})
        )
        before = sim.backend.request_counts()
        started = sim.clock.now()
        real = time.perf_counter()
        for index, wave in enumerate(plan.waves):
            if index:
                sim.clock.advance(OLD_WAVE_GAP)
            _old_wave(sim, drs, wave.servers)
        real = time.perf_counter() - real
        records = sim.backend.launch_records()
        all_servers = {s for wave in plan.waves for s in wave.servers}
        return Figures(
            "old app",
            servers,
            waves,
            last_launch(records, all_servers) - started,
            critical_path(plan, records),
            counts_since(sim, before),
            sim.clock.now() - started,
            real,
        )


def _old_wave(sim: EmbeddedSimulator, drs: Any, server_ids: Sequence[str]) -> None:
    """One server per StartRecovery every 15 s; every 30 s one DescribeJobs per running job; done when
    every job has COMPLETED."""
    pending = list(server_ids)
    running: set[str] = set()
    now = sim.clock.now()
    next_start, next_poll = now, now + timedelta(seconds=OLD_POLL)
    while pending or running:
        due = min(next_start, next_poll) if pending else next_poll
        if due > sim.clock.now():
            sim.clock.advance_to(due)
        if pending and next_start <= due:
            try:
                job = drs.start_recovery(sourceServers=[{"sourceServerID": pending[0]}], isDrill=True)
            except ClientError as error:
                if error.response["Error"]["Code"] not in (
                    "ServiceQuotaExceededException",
                    "ConflictException",
                ):
                    raise
            else:
                running.add(job["job"]["jobID"])
                pending.pop(0)
            next_start = due + timedelta(seconds=OLD_SERVER_GAP)
        if next_poll <= due:
            for job_id in sorted(running):
                (job,) = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
                if job["status"] == "COMPLETED":
                    running.discard(job_id)
            next_poll = due + timedelta(seconds=OLD_POLL)


def minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:7.1f}"


def table(rows: list[Figures]) -> str:
    header = (
        f"{'plan':>9} {'driver':>10} {'makespan':>9} {'bound':>7} {'ratio':>6} {'over/wave':>9} "
        f"{'calls/min':>9} {'StartRecovery':>13} {'DescribeJobs':>12} {'total':>6} {'real s':>7}"
    )
    lines = [header, "-" * len(header)]
    for f in rows:
        lines.append(
            f"{f'{f.servers}x{f.waves}':>9} {f.driver:>10} {minutes(f.makespan):>8}m {minutes(f.bound)}m"
            f" {f.ratio:6.2f} {f.over_per_wave:8.0f}s {f.calls_per_minute:9.1f}"
            f" {f.calls['StartRecovery']:13d} {f.calls['DescribeJobs']:12d} {sum(f.calls.values()):6d}"
            f" {f.real_seconds:7.1f}"
        )
    return "\n".join(lines)


def parse_plans(text: str) -> list[tuple[int, int]]:
    plans = []
    for item in text.split(","):
        servers, waves = item.lower().split("x")
        plans.append((int(servers), int(waves)))
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", default="10x3,100x5,100x10,300x3,300x10", help="SERVERSxWAVES,...")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-old", action="store_true", help="leave the old app's driver out")
    args = parser.parse_args()
    drivers: list[Callable[[int, int, int], Figures]] = [
        lambda seed, n, w: run_engine(seed, n, w, None),
        lambda seed, n, w: run_engine(seed, n, w, 30.0),
    ]
    if not args.skip_old:
        drivers.append(run_old_app)
    rows = []
    for servers, waves in parse_plans(args.plans):
        for driver in drivers:
            rows.append(driver(args.seed, servers, waves))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
