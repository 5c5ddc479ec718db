"""The journal records what changed, not every poll (issue 10; measured by tests/benchmarks/bench_journal.py).

A drill of the shop through the shipped runner against the simulator over loopback HTTP: every job view a
``JobsObserved`` keeps changes the state when replayed, every server view in it too, a poll that changed
nothing keeps no job view, and the journal still replays to the live state.
"""

from __future__ import annotations

from dataclasses import replace

from drs_desktop.domain.engine.events import JobsObserved, Outcome, event_from_json
from drs_desktop.domain.engine.observe import fold_jobs
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import shop_plan
from .harness import engine_gateway, start_run


def test_a_poll_journals_only_the_jobs_and_servers_that_changed(db: Database, sim: EmbeddedSimulator) -> None:
    run = start_run(db, engine_gateway(sim), sim, shop_plan(sim, approval=False), poll_interval_seconds=5)
    assert run.run().outcome is Outcome.SUCCEEDED
    entries = journal.load_journal(db, run.runner.execution_id)
    state = initial_state(run.state.spec)
    quiet = kept_views = 0
    for entry in entries:
        event = event_from_json(entry.payload)
        if isinstance(event, JobsObserved):
            kept_views += sum(len(view.servers) for view in event.jobs)
            quiet += not event.jobs
            for view in event.jobs:
                folded, _ = fold_jobs(state, (view,), (), event.at)
                assert folded != state, f"journaled a job view that changed nothing: {view}"
                for server in view.servers:
                    alone = replace(view, servers=(server,))
                    assert (
                        fold_jobs(state, (alone,), (), event.at)[0]
                        != fold_jobs(state, (replace(view, servers=()),), (), event.at)[0]
                    ), f"journaled a server view that changed nothing: {server}"
        state = apply(state, event)
    assert state == run.state  # the compact journal replays to the live state
    polls = [e for e in entries if e.type == "JobsObserved"]
    assert quiet > len(polls) // 2, "a 5 s poll over 12-minute jobs is mostly quiet"
    # Each of the five servers moves PENDING -> IN_PROGRESS -> LAUNCHED (and its instance shows) at most
    # a few times; every poll journaling all of them would be one view per server per poll.
    assert kept_views <= 5 * 4
