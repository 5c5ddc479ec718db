"""Journal size of a drill on the simulator (run on demand, not part of the suite).

    .venv/bin/python tests/benchmarks/bench_journal.py [--servers 300] [--waves 10] [--seed 11]

Runs a drill of N servers in W waves (each after the previous one) over the engine benchmark's
320-server account with the shipped ExecutionRunner (adaptive polling) through the real boto3 client on
the simulator's virtual clock, then prints what its journal holds: rows and payload bytes in total and
per event type, the bytes per server, and the real seconds the run took. The target (issue 10): a
300-server drill journals under 1 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import FLEET, make_plan


def journal_figures(db: Database, execution_id: str) -> list[tuple[str, int, int]]:
    """(event type, rows, payload bytes as stored: compact, sorted JSON) per type, largest first."""
    rows: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for entry in journal.load_journal(db, execution_id):
        text = json.dumps(dict(entry.payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        rows[entry.type] += 1
        size[entry.type] += len(text.encode("utf-8"))
    return [(kind, rows[kind], bytes_) for kind, bytes_ in size.most_common()]


def run(seed: int, servers: int, waves: int) -> None:
    with (
        EmbeddedSimulator(FLEET, seed=seed) as sim,
        tempfile.TemporaryDirectory() as folder,
        Database.open(Path(folder) / "bench.sqlite3") as db,
    ):
        plan = make_plan(sorted(sim.backend.source_server_ids()), servers, waves)
        save_plan(db, plan)
        gateway = DrsGateway(
            AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url), read_max_attempts=1
        )
        request = RunRequest(plan_name=plan.name, mode=Mode.DRILL)
        prepared = prepare_execution(db, gateway, request)
        runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now)
        real = time.perf_counter()

        def sleep(seconds: float) -> None:
            sim.clock.advance(max(seconds, 0.001))

        result = runner.run(sleep=sleep)
        real = time.perf_counter() - real
        figures = journal_figures(db, runner.execution_id)
        total_rows = sum(r for _, r, _ in figures)
        total_bytes = sum(b for _, _, b in figures)
        print(
            f"drill of {servers} servers in {waves} waves, seed {seed}: {result.outcome}, {real:.1f} s real"
        )
        print(f"{'event type':<28}{'rows':>8}{'bytes':>12}{'share':>8}")
        for kind, rows, size in figures:
            print(f"{kind:<28}{rows:>8}{size:>12}{size / total_bytes:>8.1%}")
        print(f"{'total':<28}{total_rows:>8}{total_bytes:>12}")
        print(f"{total_bytes / 1e6:.2f} MB, {total_bytes / servers:.0f} bytes per server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=300)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    run(args.seed, args.servers, args.waves)


if __name__ == "__main__":
    main()
