"""``drs-desktop run`` over HTTP against the simulator when another tool's drill holds a server of the
plan for 25 virtual minutes (issue 10, item 1): the run waits without spending start attempts, says who
holds the server, starts it once the holder has ended and succeeds; ``executions show`` keeps the holder.
The CLI runs in the simulator's virtual time (``manual_sim``); the holder ends when that time says so."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop import cli_target
from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.busy import LOAD_LOOK_MAX
from drs_desktop.domain.engine.events import ExternalLoad, StartFailed
from drs_desktop.domain.engine.state import ServerStatus
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import Cli, ids, save_plans
from .test_run_cli_settings import journaled_state

HELD_FOR = timedelta(minutes=45)  # longer than the first wave: a Windows job takes 24-31 minutes


def hold_server(sim: EmbeddedSimulator, server: str) -> str:
    """Another tool's drill of ``server``, held (by the simulator's hands) until the test ends it."""
    hands = sim.backend.by_hand
    hands.hold_launches(True)
    params = {"sourceServers": [{"sourceServerID": server}], "isDrill": True, "tags": {"owner": "team-b"}}
    job_id = str(sim.backend.handle("StartRecovery", params)["job"]["jobID"])
    hands.hold_launches(False)  # this run's own jobs follow the simulator's timeline
    return job_id


class Holder:
    """Another tool's drill of ``server``: it starts at the runner's first sleep (after the preflight,
    which would refuse a plan whose server is busy, while the first wave runs) and ends ``HELD_FOR``
    later on the virtual clock, which the CLI's runner moves when it sleeps."""

    def __init__(self, sim: EmbeddedSimulator, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sim, self.server = sim, server
        self.job_id = ""
        self.started = sim.clock.now()
        sleep = cli_target._runner_sleep
        assert sleep is not None  # manual_sim's: it moves the virtual clock

        def sleeping(seconds: float) -> None:
            if not self.job_id:
                self.started = sim.clock.now()
                self.job_id = hold_server(sim, server)
            sleep(seconds)
            if sim.clock.now() >= self.started + HELD_FOR and self.job_id in sim.backend.by_hand.held_jobs():
                sim.backend.by_hand.complete(self.job_id)

        monkeypatch.setattr(cli_target, "_runner_sleep", sleeping)


def test_a_server_held_by_another_drill_waits_and_the_run_succeeds(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = manual_sim
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="Db", servers=ids(sim, "shop-db-01")),
            Wave(name="App", servers=ids(sim, "shop-app-01")),
        ),
    )
    save_plans(app_home, plan)
    (server,) = plan.waves[1].servers
    holder = Holder(sim, server, monkeypatch)
    target = ["--endpoint", sim.endpoint_url, "--poll-interval", "10", "--home", str(app_home)]

    run = cli("run", "Shop", "--mode", "drill", "--json", *target)

    assert run.code == 0, run.err
    since = f"since {holder.started:%H:%M} UTC"
    assert f"{server} waiting: held by job {holder.job_id} (START_DRILL, {since})" in run.err
    assert f"{server} free: job {holder.job_id} no longer holds it" in run.err
    execution_id = run.json()["execution_id"]
    _, state = journaled_state(app_home, execution_id)
    app = state.servers[server]
    assert app.status is ServerStatus.LAUNCHED
    assert state.chunks[app.chunk_id or ""].failures == 0
    assert app.held_by is not None and app.held_by.job_id == holder.job_id
    assert app.held_until is not None
    assert holder.started + HELD_FOR <= app.held_until <= holder.started + HELD_FOR + LOAD_LOOK_MAX
    wave = state.waves[1]
    assert wave.held_intervals and wave.held_intervals[0][1] == app.held_until
    with Database.open(AppPaths.resolve(app_home).database) as db:
        events = journal.read_journal(db, journal.get_execution(db, execution_id)).require_whole()
    assert [e.reason for e in events if isinstance(e, StartFailed)] in ([], ["ConflictException"])
    looks = [e for e in events if isinstance(e, ExternalLoad) and e.at < app.held_until]
    assert 3 <= len(looks) <= 20  # the timer (30 s doubling to 5 min), plus a look after each poll
    assert sim.backend.launch_records()[-1].source_server_id == server

    shown = cli("executions", "show", execution_id, "--home", str(app_home))
    assert f"waited: held by job {holder.job_id} (START_DRILL, {since}, tags owner=team-b)" in shown.out
    as_json = cli("executions", "show", execution_id, "--json", "--home", str(app_home))
    entry = as_json.json()["waves"][1]["servers"][0]
    assert entry["held_by"]["job_id"] == holder.job_id
    assert entry["held_by"]["initiated_by"] == "START_DRILL" and entry["held_by"]["waiting"] is False
