"""Controls from another terminal are delivered to the live driver, not a takeover (issue 8, item 4).

A real ``python -m drs_desktop run`` subprocess drives an execution against the simulator while
``drs-desktop control`` runs in this process (another process, as far as the driver is concerned: it
shares only the database file and the lock folder). Waiting is on the journal (polled with a deadline),
never a fixed sleep.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import (
    Cli,
    Result,
    command,
    launches_per_server,
    planned_servers,
    save_plans,
    shop_plan,
    subprocess_env,
    target_args,
)

#: Slower than the other CLI tests: a wave takes a few real seconds, so a control lands mid-run.
INBOX_TIME_SCALE = 200
DEADLINE = 60.0


@pytest.fixture
def slow_sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7, time_scale=INBOX_TIME_SCALE) as simulator:
        yield simulator


def wait_for(
    condition: Callable[[], bool], what: str, *, process: subprocess.Popen[str] | None = None
) -> None:
    """Poll ``condition`` (a cheap read of the database) until it holds; fail after DEADLINE seconds or
    as soon as ``process`` ends early."""
    import time

    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)  # a poll interval, not a wait for time to pass: the condition decides


def journal_types(home: Path, execution_id: str) -> list[str]:
    with Database.open(AppPaths.resolve(home).database) as db:
        return [entry.type for entry in journal.load_journal(db, execution_id)]


def listed_status(home: Path, execution_id: str) -> str:
    with Database.open(AppPaths.resolve(home).database) as db:
        return journal.get_execution(db, execution_id).status


def only_execution(home: Path) -> str | None:
    if not AppPaths.resolve(home).database.exists():
        return None
    with Database.open(AppPaths.resolve(home).database) as db:
        records = journal.list_executions(db)
    return records[0].execution_id if records else None


def start_run(sim: EmbeddedSimulator, home: Path, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    err = (tmp_path / "run.err").open("w")
    return subprocess.Popen(
        command("run", "Shop", "--mode", "drill", "--json", *extra, *target_args(sim, home)),
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env=subprocess_env(),
    )


def running_execution(home: Path, process: subprocess.Popen[str]) -> str:
    """The run's execution, once its first job has started (so it is mid-run)."""
    found: list[str] = []

    def started() -> bool:
        execution_id = only_execution(home)
        if execution_id is None:
            return False
        found[:] = [execution_id]
        return "JobStarted" in journal_types(home, execution_id)

    wait_for(started, "the run's first job", process=process)
    return found[0]


def stop_between_writes(process: subprocess.Popen[str], home: Path) -> None:
    """SIGSTOP the driver where it holds no SQLite write transaction: a process stopped inside one would
    keep every other writer out (the queued control too), which no real crash leaves behind (a killed
    process's locks go with it). Stopped, the write lock is tried at once; if the driver held it, it is
    let go on and stopped again."""
    import sqlite3
    import time

    database = AppPaths.resolve(home).database
    for _ in range(200):
        process.send_signal(signal.SIGSTOP)
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            process.send_signal(signal.SIGCONT)
            time.sleep(0.01)  # let the driver end its transaction, then stop it again
        finally:
            probe.close()
    pytest.fail("the driver never stopped outside a write transaction")


def finish(process: subprocess.Popen[str]) -> Result:
    out, _ = process.communicate(timeout=DEADLINE)
    return Result(process.returncode, out, "")


def test_pause_from_another_terminal_is_journaled_by_the_live_driver(
    slow_sim: EmbeddedSimulator, app_home: Path, tmp_path: Path, cli: Cli
) -> None:
    plan = shop_plan(slow_sim)
    save_plans(app_home, plan)
    run = start_run(slow_sim, app_home, tmp_path)
    try:
        execution_id = running_execution(app_home, run)

        paused = cli("control", execution_id, "pause", "--no-wait", *target_args(slow_sim, app_home))
        assert paused.code == 0, paused.err
        assert "queued" in paused.err

        # The driver took the pause from the inbox and journaled it itself: the run is still alive,
        # the execution is PAUSED, nobody else appended (no RunnerRestarted of a takeover).
        wait_for(lambda: listed_status(app_home, execution_id) == "PAUSED", "PAUSED", process=run)
        types = journal_types(app_home, execution_id)
        assert "Pause" in types
        assert "RunnerRestarted" not in types
        assert run.poll() is None, "the run stopped driving"
        with Database.open(AppPaths.resolve(app_home).database) as db:
            (row,) = inbox.list_controls(db, execution_id)
        assert row.state == "journaled"
        assert row.seq is not None and types[row.seq - 1] == "Pause"

        resumed = cli("control", execution_id, "resume", *target_args(slow_sim, app_home))
        assert resumed.code == 0, resumed.err
        assert "journaled" in resumed.err

        done = finish(run)
        assert done.code == 0, (tmp_path / "run.err").read_text()
        assert done.json()["outcome"] == "SUCCEEDED"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert set(launches_per_server(slow_sim)) == planned_servers(plan)
    assert set(launches_per_server(slow_sim).values()) == {1}
    assert journal_types(app_home, execution_id).count("RunnerRestarted") == 0


def test_a_control_the_driver_refuses_prints_the_reason(
    slow_sim: EmbeddedSimulator, app_home: Path, tmp_path: Path, cli: Cli
) -> None:
    """Two pauses queued before the driver looks: both pass the sender's check on the journal, the driver
    journals the first and refuses the second ("already paused"), and the waiting sender prints that
    reason and exits 1. The driver is held still with SIGSTOP while both are queued, so the order is
    certain."""
    save_plans(app_home, shop_plan(slow_sim))
    run = start_run(slow_sim, app_home, tmp_path)
    second: subprocess.Popen[str] | None = None
    try:
        execution_id = running_execution(app_home, run)
        stop_between_writes(run, app_home)  # still the driver (it holds the lock), but not looking
        first = cli(
            "control", execution_id, "pause", "--no-wait", "--by", "bob", *target_args(slow_sim, app_home)
        )
        assert first.code == 0, first.err
        assert f"pause queued: execution {execution_id} is being driven by pid {run.pid} on " in first.err
        second = subprocess.Popen(
            command("control", execution_id, "pause", "--by", "carol", *target_args(slow_sim, app_home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )

        def both_queued() -> bool:
            with Database.open(AppPaths.resolve(app_home).database) as db:
                return len(inbox.queued_controls(db, execution_id)) == 2

        wait_for(both_queued, "both pauses queued", process=second)
        run.send_signal(signal.SIGCONT)
        _, err = second.communicate(timeout=DEADLINE)
        assert second.returncode == 1, err
        assert "pause refused by the driver: already paused" in err

        with Database.open(AppPaths.resolve(app_home).database) as db:
            rows = inbox.list_controls(db, execution_id)
        assert [(r.state, r.reason) for r in rows] == [("journaled", None), ("refused", "already paused")]
        assert rows[1].submitted_by.startswith(f"carol (pid {second.pid} on ")
        assert journal_types(app_home, execution_id).count("Pause") == 1

        cancelled = cli("control", execution_id, "cancel", *target_args(slow_sim, app_home))
        assert cancelled.code == 0, cancelled.err
        assert "cancel journaled by the driver" in cancelled.err
        done = finish(run)
        assert done.code == 1  # cancelled
        assert done.json()["outcome"] == "CANCELLED"
    finally:
        run.send_signal(signal.SIGCONT)
        for process in (run, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def test_resume_refuses_while_another_process_drives_and_kill_9_releases_the_lock(
    slow_sim: EmbeddedSimulator, app_home: Path, tmp_path: Path, cli: Cli
) -> None:
    plan = shop_plan(slow_sim)
    save_plans(app_home, plan)
    run = start_run(slow_sim, app_home, tmp_path)
    try:
        execution_id = running_execution(app_home, run)
        refused = cli("run", "--resume", execution_id, *target_args(slow_sim, app_home))
        assert refused.code == 1
        assert f"execution {execution_id} is being driven by pid {run.pid} on " in refused.err
        assert "RunnerRestarted" not in journal_types(app_home, execution_id)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL

    # The operating system released the dead driver's lock: anyone can take it now.
    with DriverLock(lock_path(AppPaths.resolve(app_home).database, execution_id)) as lock:
        assert lock.held
    resumed = cli("run", "--resume", execution_id, "--json", *target_args(slow_sim, app_home))
    assert resumed.code == 0, resumed.err
    assert resumed.json()["outcome"] == "SUCCEEDED"
    assert set(launches_per_server(slow_sim).values()) == {1}


def test_a_control_waiting_for_a_driver_that_dies_is_decided_by_the_sender(
    slow_sim: EmbeddedSimulator, app_home: Path, tmp_path: Path, cli: Cli
) -> None:
    """The driver is killed (-9) before it takes a queued control: the waiting ``control`` finds the lock
    free, takes it, and decides the control itself (the journal gets it once); nothing drives the
    execution after that until ``control resume`` (no driver: journaled directly, then driven on)."""
    plan = shop_plan(slow_sim)
    save_plans(app_home, plan)
    run = start_run(slow_sim, app_home, tmp_path)
    control: subprocess.Popen[str] | None = None
    try:
        execution_id = running_execution(app_home, run)
        stop_between_writes(run, app_home)
        control = subprocess.Popen(
            command("control", execution_id, "pause", *target_args(slow_sim, app_home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )

        def queued() -> bool:
            with Database.open(AppPaths.resolve(app_home).database) as db:
                return bool(inbox.queued_controls(db, execution_id))

        wait_for(queued, "the pause queued", process=control)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        _, err = control.communicate(timeout=DEADLINE)
    finally:
        for process in (run, control):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert control.returncode == 0, err
    assert f"no process drives execution {execution_id} now" in err
    assert "pause journaled" in err
    types = journal_types(app_home, execution_id)
    assert types.count("Pause") == 1 and types.count("RunnerRestarted") == 1
    assert listed_status(app_home, execution_id) == "PAUSED"

    resumed = cli("control", execution_id, "resume", "--json", *target_args(slow_sim, app_home))
    assert resumed.code == 0, resumed.err
    assert resumed.json()["outcome"] == "SUCCEEDED"
    assert set(launches_per_server(slow_sim)) == planned_servers(plan)
    assert set(launches_per_server(slow_sim).values()) == {1}
