"""A 3,000-server drill across 10 DRS targets on the simulator's clock (run on demand, not in the suite).

    .venv/bin/python tests/benchmarks/bench_targets.py [--waves 5] [--servers 3000] [--seed 11]

The ``enterprise`` scenario: 10 staging accounts of 300 servers each, five in us-east-1 and five in
us-west-2. The plan declares one target per staging account (a profile whose keys pick the account) and
puts an equal share of every account's servers in each wave, each wave after the previous one, so every
wave spans all 10 targets. One ExecutionRunner drives it through the real boto3 client.

Prints:

- ``makespan``: the last server launched (the simulator's launch time) minus the start; ``bound``: the
  critical-path lower bound (each wave weighted by its slowest server's DRS time, requested to launched,
  across every target); ``ratio`` = makespan / bound (issue 13's target: at most 1.02);
- the DRS calls, in total and per kind, the jobs started, and calls per job (they grow with the jobs,
  not with the servers: one DescribeJobs per target with active jobs per poll);
- the run's real seconds, and the engine's decide() time (mean and worst, in ms) on the largest state.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.decide import decide
from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

TARGETS = 10


def _key(n: int) -> str:
    return f"AKIASTAGING{n:02d}X"


def _region(n: int) -> str:
    return "us-east-1" if n <= 5 else "us-west-2"


def write_profiles(folder: Path) -> None:
    """AWS profiles staging-01..10, each with the key that picks its staging account in the simulator."""
    import os

    lines = []
    for n in range(1, TARGETS + 1):
        lines += [f"[staging-{n:02d}]", f"aws_access_key_id = {_key(n)}", "aws_secret_access_key = x", ""]
    credentials = folder / "credentials"
    credentials.write_text("\n".join(lines), encoding="utf-8")
    config = folder / "config"
    config.write_text("", encoding="utf-8")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
    os.environ["AWS_CONFIG_FILE"] = str(config)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)


def _servers(endpoint_url: str, n: int) -> tuple[str, list[str]]:
    kwargs: dict[str, Any] = {
        "endpoint_url": endpoint_url,
        "region_name": _region(n),
        "aws_access_key_id": _key(n),
        "aws_secret_access_key": "x",
    }
    account = boto3.client("sts", **kwargs).get_caller_identity()["Account"]
    pages = boto3.client("drs", **kwargs).get_paginator("describe_source_servers").paginate()
    return account, sorted(s["sourceServerID"] for page in pages for s in page["items"])


def targets_plan(endpoint_url: str, servers: int, waves: int) -> RecoveryPlan:
    """``servers`` servers in ``waves`` waves, each wave an equal share of every staging account's."""
    per_target = servers // TARGETS
    targets, shares = [], []
    for n in range(1, TARGETS + 1):
        account, ids = _servers(endpoint_url, n)
        targets.append(PlanTarget(f"staging-{n:02d}", account, _region(n), profile=f"staging-{n:02d}"))
        shares.append(ids[:per_target])
    plan_waves = []
    for w in range(waves):
        members: list[str] = []
        where: dict[str, str] = {}
        for n, ids in enumerate(shares):
            part = ids[w * per_target // waves : (w + 1) * per_target // waves]
            members += part
            where.update({s: targets[n].name for s in part})
        plan_waves.append(Wave(f"W{w + 1}", servers=tuple(members), server_targets=where))
    return RecoveryPlan(name=f"across-{servers}x{waves}", targets=tuple(targets), waves=tuple(plan_waves))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3000)
    parser.add_argument("--waves", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        write_profiles(folder)
        with (
            EmbeddedSimulator("enterprise", seed=args.seed) as sim,
            Database.open(folder / "bench.sqlite3") as db,
        ):
            plan = targets_plan(sim.endpoint_url, args.servers, args.waves)
            save_plan(db, plan)
            gateway = DrsGateway(
                AwsTarget(profile="staging-01", region="us-east-1", endpoint_url=sim.endpoint_url),
                read_max_attempts=1,
            )
            request = RunRequest(plan_name=plan.name, mode=Mode.DRILL)
            prepared = prepare_execution(db, gateway, request)
            runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
            worlds = [sim.estate.backend(t.account, t.region) for t in plan.targets]
            before = [Counter(w.request_counts()) for w in worlds]
            started = runner.state.spec.started_at
            decide_ms: list[float] = []

            def sleep(seconds: float) -> None:
                began = time.perf_counter()
                decide(runner.state, runner.now())
                decide_ms.append((time.perf_counter() - began) * 1000)
                sim.clock.advance(max(seconds, 0.001))

            real = time.perf_counter()
            result = runner.run(sleep=sleep)
            real = time.perf_counter() - real
            if result.outcome is not Outcome.SUCCEEDED:
                raise RuntimeError(f"the run ended {result.outcome}")
            records = [r for w in worlds for r in w.launch_records()]
            drs_time = {r.source_server_id: r.launched_at - r.requested_at for r in records if r.launched_at}
            bound = sum((max(drs_time[s] for s in wave.servers) for wave in plan.waves), timedelta(0))
            makespan = max(r.launched_at for r in records if r.launched_at) - started
            calls: Counter[str] = Counter()
            for world, was in zip(worlds, before, strict=True):
                now = Counter(world.request_counts())
                now.subtract(was)
                calls += +now
            jobs = calls["StartRecovery"]
            print(f"plan: {args.servers} servers in {args.waves} waves across {TARGETS} targets")
            span, least = makespan.total_seconds() / 60, bound.total_seconds() / 60
            print(f"makespan {span:.1f} min, bound {least:.1f} min, ratio {makespan / bound:.4f}")
            total = sum(calls.values())
            print(f"jobs started {jobs}, DRS calls {total} ({total / jobs:.1f} per job)")
            print("calls: " + ", ".join(f"{k} {v}" for k, v in calls.most_common()))
            mean = sum(decide_ms) / len(decide_ms)
            print(
                f"real {real:.1f} s; decide() on the run's states: mean {mean:.1f} ms, "
                f"worst {max(decide_ms):.1f} ms over {len(decide_ms)} sleeps"
            )


if __name__ == "__main__":
    main()
