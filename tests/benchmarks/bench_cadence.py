"""Cadence benchmark (run on demand, not part of the suite): every plan's cadence read from the database.

    .venv/bin/python tests/benchmarks/bench_cadence.py [--plans 200] [--runs 100]

Builds a database of ``--plans`` plans of three servers with ``--runs`` finished drills each: one real
drill run against the simulator, its record and journal copied with new IDs, times and outcomes (the
journal stays the real drill's, a few hundred events, so reading a drill's test type costs what it
costs). The plans' histories vary: most end in a good drill, some in a run of failures (up to every
drill failed, the worst case: every row of the plan read, a page at a time), some with the newest good
drill journaled as partial (one more journal read). Then times, cold (a fresh process's reads) and
warm (the partial cache of the dashboard's service):

- ``read_cadence``: every plan's facts and state (``services.cadence.read_cadence``), what
  ``plan cadence`` runs;
- ``facts (warm)``: the per-plan facts as the dashboard's overview reads them: the drills of every plan
  in one read, the partial cache of the service kept between rounds.

Prints the median of ``--repeat`` rounds and the per-plan figure. Measured on 2 shared cores (200 plans
x 100 drills): ``read_cadence`` 821 ms (4.1 ms a plan), ``facts (warm)`` 261 ms (1.3 ms a plan); a plan at
a time through ``executions.list_executions`` it was 10.9 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.annotation_events import TestRecorded, TestType
from drs_desktop.domain.engine.events import event_to_json
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import Cadence, RecoveryPlan, Wave
from drs_desktop.domain.views.cadence import plan_cadence
from drs_desktop.services.cadence import PartialCache, cadence_facts, read_cadence
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from drs_desktop.storage.drill_outcomes import finished_drills

CADENCE = Cadence(every_days=30, retest_days=14, after_changes=True)


def build(db: Database, plans: int, runs: int) -> None:
    with EmbeddedSimulator("small", seed=7) as sim:
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        try:
            inventory_store.save_inventory(db, gateway.inventory(), now=sim.clock.now())
            ids = tuple(sim.backend.server_id_of(h) for h in ("shop-db-01", "shop-app-01", "shop-app-02"))
            template = RecoveryPlan(
                name="Template",
                waves=(Wave(name="Database", servers=ids[:1]), Wave(name="App", servers=ids[1:])),
                cadence=CADENCE,
            )
            plan_store.save_plan(db, template)
            request = RunRequest(plan_name="Template", mode=Mode.DRILL, poll_interval_seconds=30)
            runner = create_execution(
                db, gateway, prepare_execution(db, gateway, request), request, clock=sim.clock.now
            )

            def sleep(seconds: float) -> None:
                sim.clock.advance(max(seconds, 1.0))

            runner.run(sleep=sleep)
        finally:
            gateway.close()
    real = execution_store.list_executions(db, plan_name="Template")[0]
    journal = [dict(entry.payload) for entry in execution_store.load_journal(db, real.execution_id)]
    assert real.finished_at is not None
    for p in range(plans):
        plan_store.save_plan(db, dataclasses.replace(template, name=f"Plan {p:03d}"))
        stored = plan_store.load_plan(db, f"Plan {p:03d}")
        failures = 0 if p % 4 else (p // 4) % (runs + 1)  # a quarter end in failures, up to all of them
        for r in range(runs):
            newest_first = runs - 1 - r
            outcome = "FAILED" if newest_first < failures else ("CANCELLED" if r % 17 == 0 else "SUCCEEDED")
            started = real.started_at - timedelta(days=3 * newest_first, hours=p % 24)
            record = dataclasses.replace(
                real,
                execution_id=str(uuid.uuid4()),
                plan_id=stored.revision.plan_id,
                plan_revision_id=stored.revision.revision_id,
                plan_name=stored.plan.name,
                plan_revision=stored.revision.revision,
                outcome=outcome,
                started_at=started,
                finished_at=started + (real.finished_at - real.started_at),
            )
            execution_store.create_execution(db, record)
            events = list(journal)
            if p % 7 == 0 and newest_first == failures:  # the newest success journaled as partial
                events.append(event_to_json(TestRecorded(test_type=TestType.PARTIAL, at=started)))
            execution_store.append_events(db, record.execution_id, events)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Database.open(Path(folder) / "bench.sqlite3") as db:
        began = time.perf_counter()
        build(db, args.plans, args.runs)
        print(f"built {args.plans} plans x {args.runs} drills in {time.perf_counter() - began:.1f} s")
        now = execution_store.list_executions(db, limit=1)[0].started_at + timedelta(days=1)
        cold, warm = [], []
        reading = read_cadence(db, now)
        cache: PartialCache = {}
        inventory = inventory_store.load_inventory(db)
        summaries = [s for s in plan_store.list_plans(db) if s.name != "Template"]
        plans = [plan_store.get_plan(db, s.name) for s in summaries]
        for _ in range(args.repeat):
            began = time.perf_counter()
            reading = read_cadence(db, now)
            cold.append(time.perf_counter() - began)
            began = time.perf_counter()
            states = []
            by_plan = finished_drills(db)
            for summary, plan in zip(summaries, plans, strict=True):
                facts = cadence_facts(
                    db, plan, summary.plan_id, summary.latest_revision, inventory, cache, by_plan
                )
                states.append(plan_cadence(dataclasses.replace(facts, cadence=CADENCE), now))
            warm.append(time.perf_counter() - began)
        # Stored plans keep no cadence until plan format 4: the states are told with the template's.
        kinds: dict[str, int] = {}
        for state in states:
            kinds[state.kind.value] = kinds.get(state.kind.value, 0) + 1
        count = len(reading.plans)
        print(f"{count} plans read; problems: {len(reading.problems)}")
        for name, times in (("read_cadence", cold), ("facts (warm)", warm)):
            median = statistics.median(times)
            per_plan = median / count * 1000
            print(f"{name:<14} {median * 1000:8.1f} ms  ({per_plan:.2f} ms per plan, {count} plans)")
        print("states:", ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
