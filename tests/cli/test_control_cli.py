"""``drs-desktop control``: the operator's decisions from the command line, journaled like the GUI's."""

from __future__ import annotations

from pathlib import Path

from drs_desktop.simulator.embedded import EmbeddedSimulator

from .conftest import Cli, launches_per_server, save_plans, shop_plan, target_args


def test_held_run_is_retried_from_the_command_line(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    plan = shop_plan(sim)
    save_plans(app_home, plan)
    failing = sim.backend.server_id_of("shop-app-02")
    sim.faults.fail_launch(servers=["shop-app-02"])
    held = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert held.code == 3, held.err
    execution_id = held.json()["execution_id"]
    assert f"drs-desktop control {execution_id} retry" in held.err

    sim.faults.clear()
    retried = cli("control", execution_id, "retry", "--by", "bob", "--json", *target_args(sim, app_home))
    assert retried.code == 0, retried.err
    assert retried.json()["outcome"] == "SUCCEEDED"
    per_server = launches_per_server(sim)
    assert per_server[failing] == 2  # the failed launch and the retry the operator asked for
    assert {count for server, count in per_server.items() if server != failing} == {1}

    shown = cli("executions", "show", execution_id, "--json", "--home", str(app_home))
    (app_wave,) = [w for w in shown.json()["waves"] if w["name"] == "App"]
    assert {s["server_id"]: s["retries"] for s in app_wave["servers"]}[failing] == 1


def test_skip_a_held_wave_then_the_rest_runs(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    plan = shop_plan(sim)
    save_plans(app_home, plan)
    sim.faults.fail_launch(servers=["shop-app-02"])
    held = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    execution_id = held.json()["execution_id"]
    skipped = cli(
        "control",
        execution_id,
        "skip",
        "--wave",
        "App",
        "--comment",
        "known bad host",
        "--json",
        *target_args(sim, app_home),
    )
    assert skipped.code == 0, skipped.err
    assert set(plan.waves[2].servers) <= set(launches_per_server(sim))


def test_approve_and_reject_a_gate(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    save_plans(app_home, shop_plan(sim, gate=True), shop_plan(sim, gate=True, name="Shop2"))
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert first.code == 3
    approved = cli(
        "control",
        first.json()["execution_id"],
        "approve",
        "--by",
        "alice",
        "--comment",
        "db ok",
        "--json",
        *target_args(sim, app_home),
    )
    assert approved.code == 0, approved.err
    assert approved.json()["outcome"] == "SUCCEEDED"

    sim.clock.advance(3600)  # let the first drill's jobs settle before the second uses the same servers
    second = cli("run", "Shop2", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert second.code == 3, second.err
    rejected = cli("control", second.json()["execution_id"], "reject", "--json", *target_args(sim, app_home))
    assert rejected.code == 1
    assert rejected.json()["outcome"] == "FAILED"


def test_a_control_that_does_not_apply_says_why(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    save_plans(app_home, shop_plan(sim, gate=True))
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    execution_id = first.json()["execution_id"]
    from drs_desktop.config import AppPaths
    from drs_desktop.storage import executions as journal
    from drs_desktop.storage.db import Database

    def journaled() -> int:
        with Database.open(AppPaths.resolve(app_home).database) as db:
            return len(journal.load_journal(db, execution_id))

    before = journaled()
    nothing_failed = cli("control", execution_id, "retry", *target_args(sim, app_home))
    assert nothing_failed.code == 2
    assert "no wave has failed servers" in nothing_failed.err
    unknown = cli("control", execution_id, "skip", "--wave", "nope", *target_args(sim, app_home))
    assert unknown.code == 2 and "no wave 'nope' in this execution" in unknown.err
    not_paused = cli("control", execution_id, "resume", *target_args(sim, app_home))
    assert not_paused.code == 1
    assert "not paused" in not_paused.err
    assert journaled() == before  # a refused or mistyped control writes nothing
    paused = cli("control", execution_id, "pause", "--no-wait", *target_args(sim, app_home))
    assert paused.code == 0
