"""kill -9 campaign: many random kills of ``drs-desktop run``, then resume; never a double launch.

    .venv/bin/python tests/benchmarks/bench_kill9.py [--kills 10] [--variants plain,late,ahead10,...]

The suite keeps a handful of kill points (tests/cli/test_crash_resume.py); this runs the same
procedure at campaign scale, on demand, over every variant:

- ``plain``: kills at random moments of a run on the simulator at 300x;
- ``slow``: StartRecovery answered 0.6 s late (kills land inside the call);
- ``late``: every other StartRecovery held by the simulator past the client's read timeout (1 s, the
  ``aws.read_timeout_seconds`` setting) and carried out afterwards, at 60x;
- ``lost``, ``lost5xx``: every other StartRecovery carried out and its answer then lost (connection
  dropped, or a 500), answered 0.3 s late so kills also land inside the call: faults after the action;
- ``ahead10``, ``ahead60``, ``behind30``, ``behind60``: the desktop clock off DRS's (libfaketime).

For each variant it prints the kills by phase, the reconciliations, and the verdict from the simulator's
own launch ledger: every server launched exactly once, the run SUCCEEDED, every job known to the journal.
The simulator runs with its default world, calibrated to real DRS (docs/simulator.md): most jobs name no
recovery instance, DescribeRecoveryInstances lags, servers stay PENDING for minutes.
Exit 1 if any variant launched a server twice or did not finish.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drs_desktop.config import AppPaths
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database
from tests.cli.conftest import Result, launch_records, run_subprocess, save_plans
from tests.cli.test_crash_resume import (
    CRASH_TIME_SCALE,
    check_end_state,
    crash_plan,
    kill_and_resume,
    reconciled_outcomes,
    small_with_extra_server,
)


@dataclass(frozen=True)
class Variant:
    name: str
    time_scale: float = CRASH_TIME_SCALE
    start_latency: float = 0.0
    hold_seconds: float = 0.0
    clock_offset: int = 0
    read_timeout: int | None = None
    lose_answers: str = ""  # "drop" or "5xx": StartRecovery carried out, then its answer lost


VARIANTS = {
    v.name: v
    for v in (
        Variant("plain"),
        Variant("slow", start_latency=0.6),
        Variant("late", time_scale=60, hold_seconds=90, read_timeout=1),
        Variant("lost", start_latency=0.3, lose_answers="drop"),
        Variant("lost5xx", start_latency=0.3, lose_answers="5xx"),
        Variant("ahead10", clock_offset=600),
        Variant("ahead60", clock_offset=3600),
        Variant("behind30", clock_offset=-1800),
        Variant("behind60", clock_offset=-3600),
    )
}


def cli(*args: str) -> Result:
    return run_subprocess(list(args))


def run_variant(variant: Variant, kills: int, seed: int) -> tuple[bool, str]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedSimulator(small_with_extra_server(), seed=11, time_scale=variant.time_scale) as sim,
    ):
        home = Path(tmp) / "home"
        plan = crash_plan(sim)
        save_plans(home, plan)
        if variant.read_timeout is not None:
            with Database.open(AppPaths.resolve(home).database) as db:
                settings_store.set_setting(db, "aws.read_timeout_seconds", variant.read_timeout)
        if variant.start_latency:
            sim.faults.latency("StartRecovery", seconds=variant.start_latency)
        if variant.hold_seconds:
            sim.faults.hold("StartRecovery", seconds=variant.hold_seconds, rate=0.5)
        if variant.lose_answers == "drop":
            sim.faults.lose_answer("StartRecovery", how="drop", rate=0.5)
        elif variant.lose_answers == "5xx":
            sim.faults.lose_answer("StartRecovery", how="5xx", rate=0.5)
        started = time.monotonic()
        try:
            execution_id, log, _ = kill_and_resume(
                sim, home, Path(tmp), cli, seed=seed, kills=kills, clock_offset=variant.clock_offset
            )
            check_end_state(sim, home, plan, execution_id, log)
        except AssertionError as failure:
            return False, f"{variant.name}: FAILED: {str(failure).splitlines()[0]}"
        per_server = Counter(r.source_server_id for r in launch_records(sim))
        return True, (
            f"{variant.name:<9} kills {kills:>3}  launches/server {sorted(set(per_server.values()))}  "
            f"reconciled {dict(reconciled_outcomes(home, execution_id))}  "
            f"{time.monotonic() - started:5.0f} s real\n    phases: {log.summary()}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kills per variant (default 10)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variant names")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ok = True
    total = 0
    for index, name in enumerate(args.variants.split(",")):
        passed, line = run_variant(VARIANTS[name], args.kills, args.seed + index)
        ok &= passed
        total += args.kills
        print(line, flush=True)
    print(f"{total} kill points, {'no double launch' if ok else 'FAILURES above'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
