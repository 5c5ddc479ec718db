"""``kill -9`` of ``drs-desktop run`` at drawn journal positions, then ``run --resume``: no double launch.

DRS has no idempotency token on StartRecovery, so a desktop that dies between sending the call and
journaling its answer must find out from DRS (jobs tagged with the execution and chunk) whether the call
landed before it starts anything again. This test kills a real ``python -m drs_desktop run`` subprocess
with SIGKILL at kill points drawn from a seeded random stream, resumes it, kills it again, and finally
lets it finish; the simulator's own record of launches is the judge. A second variant adds latency to
StartRecovery on the simulator's side; four more run the desktop's clock off DRS's (libfaketime).

A kill point is a position in the run, never a wall-clock delay (tests/cli/kill_points.py): inside the
next StartRecovery (held by the simulator, the intent journaled, the kill while DRS has the call: DRS
still carries it out after the client is gone, exactly the "did it launch or not?" case the
reconciliation exists for), at start-up (a resume holding the driver lock, a new run once its execution
is journaled), or after N more journal entries. The test polls the journal read-only until the process
is there, so a loaded machine makes the test slower, never different.
"""

from __future__ import annotations

import glob
import random
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.engine.events import Outcome, event_from_json
from drs_desktop.domain.engine.queries import unresolved_chunks
from drs_desktop.domain.engine.reducer import replay
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus, spec_from_json
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage import executions as journal
from drs_desktop.storage import settings as settings_store
from drs_desktop.storage.db import Database

from .conftest import (
    Cli,
    Result,
    command,
    ids,
    launch_records,
    save_plans,
    subprocess_env,
    target_args,
)
from .kill_points import (
    INSIDE_START,
    JournalWatch,
    KillPoint,
    after_kill,
    attempt,
    draw_kill_point,
    reach_kill_point,
)

#: Slower than the other CLI tests (300x: a Windows launch takes ~4 s), so kills spread over a run.
CRASH_TIME_SCALE = 300
KILLS = 10
FINAL_TIMEOUT = 120.0
WAVE_TIMEOUT_MINUTES = 24 * 60
PHASE_INSIDE_START = "inside StartRecovery (intent journaled, no answer)"
PHASE_START_UP = "start-up of a resume (nothing journaled yet)"


def small_with_extra_server() -> dict[str, Any]:
    """The shipped ``small`` scenario plus one more healthy app server: 8 servers for 3 waves."""
    import yaml

    data: dict[str, Any] = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    extra = {"hostname": "shop-app-03", "os": "linux", "application": "shop", "tier": "app"}
    data["fleet"]["servers"] = [*data["fleet"]["servers"], extra]
    return data


def crash_plan(sim: EmbeddedSimulator) -> RecoveryPlan:
    """Three waves, eight servers, no gates: the run goes from start to end without a person."""
    return RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="Data", servers=ids(sim, "shop-db-01", "crm-app-01")),
            Wave(name="App", servers=ids(sim, "shop-app-01", "shop-app-02", "shop-app-03")),
            Wave(name="Front", servers=ids(sim, "shop-web-01", "shop-web-02", "crm-web-01")),
        ),
    )


@pytest.fixture
def crash_sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(small_with_extra_server(), seed=11, time_scale=CRASH_TIME_SCALE) as simulator:
        yield simulator


# -- where a kill landed


@dataclass
class KillLog:
    """How many kills landed in which phase of the run, for the report and the failure messages."""

    phases: Counter[str] = field(default_factory=Counter)
    exits: list[int] = field(default_factory=list)
    #: (kill point aimed at, phase it landed in), in order.
    kills: list[tuple[str, str]] = field(default_factory=list)

    def record(self, point: KillPoint, phase: str) -> None:
        self.phases[phase] += 1
        self.kills.append((point.describe(), phase))

    def summary(self) -> str:
        return ", ".join(f"{phase}: {count}" for phase, count in sorted(self.phases.items()))

    def misses(self) -> list[tuple[str, str]]:
        """Kills aimed inside a StartRecovery that did not land there (the hold makes that certain)."""
        return [
            (aim, phase) for aim, phase in self.kills if aim == INSIDE_START and phase != PHASE_INSIDE_START
        ]


def load_state(home: Path, execution_id: str, upto: int | None = None) -> tuple[ExecutionState, int, str]:
    """Replay the journal exactly as ``--resume`` does (its first ``upto`` entries, if given): (state,
    number of events in the whole journal, listed status)."""
    with Database.open(AppPaths.resolve(home).database) as db:
        record = journal.get_execution(db, execution_id)
        events = [event_from_json(entry.payload) for entry in journal.load_journal(db, execution_id)]
    return replay(spec_from_json(record.spec), events[:upto]), len(events), record.status


def starts_left(home: Path, execution_id: str | None) -> bool:
    """Whether a wave of the run has not had its StartRecovery yet (so a kill can be aimed inside one)."""
    if execution_id is None:
        return True
    state, _, _ = load_state(home, execution_id)
    requested = {c.wave_index for c in state.chunks.values() if c.requested_at is not None}
    return state.finished is None and len(requested) < len(state.waves)


def phase_of_kill(home: Path, execution_id: str | None, events_before: int) -> tuple[str, int]:
    """Which phase the process was in when it was killed, judged from what the journal holds: what it
    journaled itself is what lies past the ``events_before`` entries its predecessors left."""
    if execution_id is None:
        return "before the execution was journaled (start-up, preflight)", 0
    state, count, _ = load_state(home, execution_id)
    before, _, _ = load_state(home, execution_id, upto=events_before)
    unresolved = unresolved_chunks(state)
    earlier = before.chunks
    mine = [
        c
        for c in unresolved
        if c.chunk_id not in earlier or earlier[c.chunk_id].requested_at != c.requested_at
    ]
    if mine:
        return PHASE_INSIDE_START, count
    if unresolved:
        return "waiting to reconcile a call cut off earlier", count
    if state.finished is not None:
        return "after the execution finished", count
    if count == events_before:
        return PHASE_START_UP, count
    requested = [c.wave_index for c in state.chunks.values() if c.requested_at is not None]
    if not requested:
        return "before the first StartRecovery", count
    return f"between calls, wave {max(requested) + 1} of {len(state.waves)} under way", count


def find_execution(cli: Callable[..., Result], home: Path) -> str | None:
    """The execution's ID, as an operator finds it after a crash: ``executions list --json``."""
    listed = cli("executions", "list", "--json", "--home", str(home))
    assert listed.code == 0, listed.err
    entries = listed.json()
    assert len(entries) <= 1, f"a kill left more than one execution behind: {entries}"
    return str(entries[0]["execution_id"]) if entries else None


def libfaketime() -> str:
    """Debian's libfaketime (package libfaketime, installed by scripts/test.sh with faketime)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        pytest.fail("libfaketime is missing: scripts/test.sh installs it (Debian package faketime)")
    return found[0]


def crash_env(offset_seconds: int) -> dict[str, str]:
    """The CLI's environment, its desktop clock ``offset_seconds`` off DRS's (libfaketime preloaded into
    the CLI process itself, so that SIGKILL reaches it and not a wrapper; the simulator, DRS's clock,
    runs in this process). Only the wall clock is off: a faked monotonic clock makes every timed wait
    hang, and it is not what is wrong on a desktop whose clock is off."""
    env = subprocess_env()
    if offset_seconds:
        env.update(
            LD_PRELOAD=libfaketime(),
            FAKETIME=f"{offset_seconds:+d}",
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            FAKETIME_DONT_RESET="1",
        )
    return env


def kill_and_resume(
    sim: EmbeddedSimulator,
    home: Path,
    tmp_path: Path,
    cli: Callable[..., Result],
    *,
    seed: int,
    kills: int = KILLS,
    clock_offset: int = 0,
) -> tuple[str, KillLog, str]:
    """``kills`` runs each SIGKILLed at a journal position drawn from ``seed``, then one to the end;
    returns (ID, kills, final stdout). ``clock_offset``: seconds the desktop's clock is off DRS's, in
    every CLI process."""
    rng = random.Random(seed)
    log = KillLog()
    execution_id: str | None = None
    events = 0
    with Database.open(AppPaths.resolve(home).database) as db:
        # A safety net, not a kill window: should a kill still slip in between an intent and its call,
        # the resume waits out ``start_settle`` on a real-time estimate of DRS's 300x clock (up to the
        # runner's 30 s sleep, hours of DRS time); a wave must not time out meanwhile.
        settings_store.set_setting(db, "engine.wave_timeout_minutes", WAVE_TIMEOUT_MINUTES)
    watch = JournalWatch(home)
    try:
        for index in range(kills):
            if execution_id is None:
                args = ["run", "Shop", "--mode", "drill", "--json", *target_args(sim, home)]
            else:
                args = ["run", "--resume", execution_id, "--json", *target_args(sim, home)]
            point = draw_kill_point(rng, starts_left=starts_left(home, execution_id))
            with (
                (tmp_path / f"run-{index}.err").open("w") as err,
                attempt(sim, watch, point, execution_id, events) as at,
            ):
                process = subprocess.Popen(
                    command(*args), stdout=subprocess.DEVNULL, stderr=err, env=crash_env(clock_offset)
                )
                try:
                    reach_kill_point(process, point, at)
                finally:
                    if process.poll() is None:
                        process.send_signal(signal.SIGKILL)
                    code = process.wait(timeout=30)
                killed = code == -signal.SIGKILL  # else it ended by itself before the kill point
                if killed:
                    after_kill(point, at)
            if not killed:
                log.exits.append(code)
                assert code == 0, (tmp_path / f"run-{index}.err").read_text()
            if execution_id is None:
                execution_id = find_execution(cli, home)
            phase, events = phase_of_kill(home, execution_id, events)
            log.record(point, phase if killed else "ended by itself before the kill")
    finally:
        watch.close()
    assert execution_id is not None, f"no run got as far as journaling its execution: {log.summary()}"
    done = subprocess.run(
        command("run", "--resume", execution_id, "--json", *target_args(sim, home)),
        capture_output=True,
        text=True,
        timeout=FINAL_TIMEOUT,
        env=crash_env(clock_offset),
        check=False,
    )
    assert done.returncode == 0, f"{done.stderr}\nkills: {log.summary()}"
    return execution_id, log, done.stdout


def check_end_state(
    sim: EmbeddedSimulator, home: Path, plan: RecoveryPlan, execution_id: str, log: KillLog
) -> None:
    """Each planned server launched exactly once, per DRS; the journal replays to the same truth."""
    kills = f"kills: {log.summary()}"
    records = launch_records(sim)
    per_server = Counter(r.source_server_id for r in records)
    planned = {s for wave in plan.waves for s in wave.servers}
    assert set(per_server) == planned, kills
    assert set(per_server.values()) == {1}, f"launched more than once: {per_server}; {kills}"
    assert {r.outcome for r in records} == {"LAUNCHED"}, kills
    assert all(r.is_drill for r in records)

    state, _, status = load_state(home, execution_id)
    assert state.finished is Outcome.SUCCEEDED, kills
    assert status == "SUCCEEDED", f"the listing says {status}; {kills}"
    assert {s.status for s in state.servers.values()} == {ServerStatus.LAUNCHED}
    # Every job DRS ran for these servers is one the journal knows (found again by its tags if need be).
    assert {r.job_id for r in records} <= set(state.jobs), kills
    assert {s.recovery_instance_id for s in state.servers.values()} == {
        r.recovery_instance_id for r in records
    }


def reconciled_outcomes(home: Path, execution_id: str) -> Counter[str]:
    with Database.open(AppPaths.resolve(home).database) as db:
        entries = journal.load_journal(db, execution_id)
    return Counter(
        "job found" if e.payload.get("tagged_jobs") else "no job yet"
        for e in entries
        if e.type == "StartsReconciled"
    )


@pytest.mark.parametrize(
    ("variant", "seed", "start_latency", "clock_offset", "kills"),
    [
        pytest.param("plain", 1, 0.0, 0, KILLS, id="plain"),
        # Slow: each kill inside a call costs the engine's 15 s (real) reconcile delay on resume.
        pytest.param(
            "slow StartRecovery", 7, 0.6, 0, KILLS, id="slow-start-recovery", marks=pytest.mark.slow
        ),
        # The desktop's clock off DRS's: every time the engine decides on is DRS's (its Date header).
        pytest.param("desktop 10 min ahead", 3, 0.0, 600, 5, id="clock-10min-ahead"),
        pytest.param("desktop 60 min ahead", 4, 0.0, 3600, 5, id="clock-60min-ahead"),
        pytest.param("desktop 30 min behind", 5, 0.0, -1800, 5, id="clock-30min-behind"),
        pytest.param("desktop 60 min behind", 6, 0.0, -3600, 5, id="clock-60min-behind"),
    ],
)
def test_kill_9_at_random_moments_then_resume_launches_every_server_once(
    crash_sim: EmbeddedSimulator,
    tmp_path: Path,
    cli: Cli,
    variant: str,
    seed: int,
    start_latency: float,
    clock_offset: int,
    kills: int,
) -> None:
    home = tmp_path / "home"
    plan = crash_plan(crash_sim)
    save_plans(home, plan)
    if start_latency:
        crash_sim.faults.latency("StartRecovery", seconds=start_latency)

    execution_id, log, out = kill_and_resume(
        crash_sim, home, tmp_path, cli, seed=seed, kills=kills, clock_offset=clock_offset
    )

    assert '"outcome": "SUCCEEDED"' in out
    check_end_state(crash_sim, home, plan, execution_id, log)
    # The hold makes a kill aimed inside a StartRecovery certain to land there, intent journaled.
    assert not log.misses(), f"kills aimed inside StartRecovery landed elsewhere: {log.misses()}"
    assert log.phases[PHASE_INSIDE_START] >= 1, f"no kill inside a StartRecovery: {log.summary()}"
    shown = cli("executions", "show", execution_id, "--json", "--home", str(home))
    assert shown.code == 0
    assert shown.json()["status"] == "SUCCEEDED"
    print(
        f"\n[{variant}] kills by phase: {log.summary()}; exits without a kill: {log.exits}; "
        f"aimed/landed: {log.kills}; "
        f"reconciliations: {dict(reconciled_outcomes(home, execution_id))}"
    )


@pytest.mark.parametrize(
    "clock_offset",
    [0, 600, 3600, -1800, -3600],
    ids=["same", "10min-ahead", "60min-ahead", "30min-behind", "60min-behind"],
)
def test_kill_9_inside_the_first_start_recovery_then_resume_adopts_the_job(
    crash_sim: EmbeddedSimulator, tmp_path: Path, clock_offset: int
) -> None:
    """The campaign's double launch, made certain: the desktop dies while its first StartRecovery is in
    DRS's hands, DRS carries the call out after the client is gone, and the resume runs on a desktop
    whose clock is off DRS's by up to an hour either way. The job is found by its tags and adopted."""
    home = tmp_path / "home"
    plan = crash_plan(crash_sim)
    save_plans(home, plan)
    crash_sim.faults.hold("StartRecovery", seconds=60, count=1)
    args = ["run", "Shop", "--mode", "drill", "--json", *target_args(crash_sim, home)]
    with (tmp_path / "first.err").open("w") as err:
        process = subprocess.Popen(
            command(*args), stdout=subprocess.DEVNULL, stderr=err, env=crash_env(clock_offset)
        )
        try:
            assert crash_sim.holds.wait_holding(1, timeout=60), "the first StartRecovery never came"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    assert crash_sim.holds.wait_carried_out(1, timeout=30), "DRS did not carry the call out"
    assert len(launch_records(crash_sim)) == 2  # the first wave's two servers, by a job nobody saw
    with Database.open(AppPaths.resolve(home).database) as db:
        (record,) = journal.list_executions(db)
    final = subprocess.run(
        command("run", "--resume", record.execution_id, "--json", *target_args(crash_sim, home)),
        capture_output=True,
        text=True,
        timeout=FINAL_TIMEOUT,
        env=crash_env(clock_offset),
        check=False,
    )
    assert final.returncode == 0, final.stderr
    log = KillLog()
    log.phases["inside the first StartRecovery"] += 1
    check_end_state(crash_sim, home, plan, record.execution_id, log)
    assert reconciled_outcomes(home, record.execution_id)["job found"] >= 1


def test_resume_repairs_the_listing_a_kill_left_behind(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """The journal and the executions listing are two commits: a kill between ``ExecutionFinished`` and
    the status update left the execution listed RUNNING (and "unfinished", which preflight then reports
    as a run in progress) although its journal says it finished. A resume must set the listing right."""
    plan = RecoveryPlan(name="Web", waves=(Wave(name="Web", servers=ids(sim, "shop-web-01")),))
    save_plans(app_home, plan)
    done = cli("run", "Web", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert done.code == 0, done.err
    execution_id = done.json()["execution_id"]
    with Database.open(AppPaths.resolve(app_home).database) as db, db.transaction() as conn:
        # Exactly what the kill leaves: the journal has ExecutionFinished, the listing does not.
        conn.execute(
            "UPDATE executions SET status = 'RUNNING', outcome = NULL, finished_at = NULL WHERE id = ?",
            (execution_id,),
        )

    resumed = cli("run", "--resume", execution_id, "--json", *target_args(sim, app_home))
    assert resumed.code == 0, resumed.err
    assert resumed.json()["outcome"] == "SUCCEEDED"
    (entry,) = cli("executions", "list", "--json", "--home", str(app_home)).json()
    assert (entry["status"], entry["outcome"]) == ("SUCCEEDED", "SUCCEEDED")
    assert entry["finished_at"] is not None
    with Database.open(AppPaths.resolve(app_home).database) as db:
        assert journal.unfinished_executions(db) == []
    assert len(launch_records(sim)) == 1
