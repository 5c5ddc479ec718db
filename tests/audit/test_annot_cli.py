"""``drs-desktop run`` with an edited test brief, then ``executions findings``, ``finding add|update``,
``sign-off`` and ``executions show`` on the simulator; a finding added from another terminal while a
``run`` subprocess drives the drill is journaled by that driver; bad input is one line, exit 2, and
journals nothing."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import control_inbox as inbox
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from tests.cli.conftest import Cli, command, save_plans, subprocess_env, target_args

from .annot_world import AUDITOR_ARN, shop_plan, two_people_scenario, write_profiles


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(two_people_scenario(), seed=7, time_scale=600) as simulator:
        yield simulator


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def entries(home: Path, execution_id: str) -> list[str]:
    with Database.open(AppPaths.resolve(home).database) as db:
        return [entry.type for entry in journal.load_journal(db, execution_id)]


def test_a_drill_annotated_from_the_command_line(
    sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profiles(tmp_path, monkeypatch)
    home = tmp_path / "home"
    save_plans(home, shop_plan(sim))
    ran = cli(
        "run", "Shop", "--mode", "drill", "--json", "--scenario", "Region loss",
        "--objective", "RTO under 2 h", "--objective", "No data loss over 15 min",
        "--criterion", "Orders work", "--participant", "Dana", *target_args(sim, home),
    )  # fmt: skip
    assert ran.code == 0, ran.err
    execution_id = ran.json()["execution_id"]

    listed = cli("executions", "findings", execution_id, "--json", "--home", str(home))
    test = listed.json()["test"]
    assert test == {
        "type": "drill",
        "scenario": "Region loss",
        "objectives": ["RTO under 2 h", "No data loss over 15 min"],
        "success_criteria": ["Orders work"],
        "participants": ["Dana"],
    }
    assert len(listed.json()["recovery_points"]) == 5

    added = cli(
        "executions", "finding", "add", execution_id, "--text", "Web wave needed a manual DNS change",
        "--severity", "High", "--owner", "Lee", "--due", "2027-01-15", "--json", "--home", str(home),
    )  # fmt: skip
    assert added.code == 0, added.err
    finding_id = json.loads(added.out)["finding_id"]
    assert f"finding {finding_id} added" in added.err
    updated = cli(
        "executions", "finding", "update", execution_id, finding_id, "--status", "in progress",
        "--comment", "ticket NET-42", "--home", str(home),
    )  # fmt: skip
    assert updated.code == 0, updated.err

    signed = cli(
        "executions", "sign-off", execution_id, "--profile", "auditor", "--review", "Evidence complete",
        "--json", "--home", str(home),
    )  # fmt: skip
    assert signed.code == 0, signed.err
    assert json.loads(signed.out)["self_signed"] is False and AUDITOR_ARN in signed.err
    own = cli(
        "executions", "sign-off", execution_id, "--profile", "operator", "--review", "mine", "--reject",
        "--home", str(home),
    )  # fmt: skip
    assert own.code == 0 and "self-signed" in own.err and "rejected" in own.err

    shown = cli("executions", "show", execution_id, "--home", str(home))
    assert "test: drill, scenario: Region loss" in shown.out
    assert f"finding {finding_id} [high] in progress, owner Lee, due 2027-01-15" in shown.out
    assert "sign-off: rejected by arn:aws:iam::123456789012:user/dr-operator (self-signed)" in shown.out
    data = cli("executions", "show", execution_id, "--json", "--home", str(home)).json()
    assert [s["self_signed"] for s in data["audit"]["sign_offs"]] == [False, True]
    assert data["audit"]["findings"][0]["changes"][-1]["comment"] == "ticket NET-42"


@pytest.fixture(scope="module")
def finished_drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One finished drill (its home and execution ID) that the bad-input cases share: none of them
    may change it."""
    from drs_desktop.cli import main

    home = tmp_path_factory.mktemp("bad-input") / "home"
    with EmbeddedSimulator(two_people_scenario(), seed=7, time_scale=600) as simulator:
        save_plans(home, shop_plan(simulator))
        assert main(["run", "Shop", "--mode", "drill", *target_args(simulator, home)]) == 0
    with Database.open(AppPaths.resolve(home).database) as db:
        (record,) = journal.list_executions(db)
    yield home, record.execution_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["finding", "add", "{id}", "--text", "x", "--severity", "urgent"],
            "severity 'urgent' is not one of",
        ),
        (
            ["finding", "add", "{id}", "--text", "x", "--severity", "low", "--due", "2026-02-30"],
            "not a real date",
        ),
        (["finding", "add", "{id}", "--text", "  ", "--severity", "low"], "the finding's text is empty"),
        (
            ["finding", "update", "{id}", "F-ABCDEF", "--status", "resolved"],
            "this run has no finding 'F-ABCDEF'",
        ),
        (["sign-off", "{id}", "--profile", "auditor", "--review", " "], "the review is empty"),
    ],
)
def test_bad_input_is_one_line_and_journals_nothing(
    finished_drill: tuple[Path, str], cli: Cli, args: list[str], message: str
) -> None:
    home, execution_id = finished_drill
    before = entries(home, execution_id)

    done = cli("executions", *[a.replace("{id}", execution_id) for a in args], "--home", str(home))
    assert done.code == 2
    assert message in done.err and len(done.err.strip().splitlines()) == 1
    assert "Traceback" not in done.err
    assert entries(home, execution_id) == before


def test_a_profile_that_does_not_exist_signs_nothing(
    finished_drill: tuple[Path, str], tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profiles(tmp_path, monkeypatch)
    home, execution_id = finished_drill
    before = entries(home, execution_id)
    done = cli(
        "executions", "sign-off", execution_id, "--profile", "nobody", "--review", "ok", "--home", str(home)
    )
    assert done.code == 1
    assert "The AWS profile 'nobody' does not exist" in done.err
    assert entries(home, execution_id) == before


def test_a_finding_from_another_terminal_is_journaled_by_the_live_driver(tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "home"
    with EmbeddedSimulator("small", seed=7, time_scale=200) as slow:
        db_wave = shop_plan(slow).waves[0]  # one wave: mid-run for a few real seconds, then done
        save_plans(home, RecoveryPlan(name="Shop", waves=(db_wave,)))
        err = (tmp_path / "run.err").open("w")
        run = subprocess.Popen(
            command("run", "Shop", "--mode", "drill", "--json", *target_args(slow, home)),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=subprocess_env(),
        )
        try:
            execution_id = _wait_for_first_job(home, run)
            added = cli(
                "executions", "finding", "add", execution_id, "--text", "Seen while it ran",
                "--severity", "medium", "--json", "--home", str(home),
            )  # fmt: skip
            assert added.code == 0, added.err
            answer = json.loads(added.out)
            assert answer["state"] == "journaled", added.err  # by the driver, from its inbox
            out, _ = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    assert run.returncode == 0 and json.loads(out)["outcome"] == "SUCCEEDED"
    with Database.open(AppPaths.resolve(home).database) as db:
        (row,) = inbox.list_controls(db, execution_id)
        types = [entry.type for entry in journal.load_journal(db, execution_id)]
    assert row.state == inbox.JOURNALED and types[(row.seq or 0) - 1] == "FindingAdded"
    assert "RunnerRestarted" not in types  # nobody else drove it


def _wait_for_first_job(home: Path, run: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    database = AppPaths.resolve(home).database
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"the run ended (exit {run.returncode}) before its first job")
        if database.exists():
            with Database.open(database) as db:
                records = journal.list_executions(db)
                if records and "JobStarted" in [
                    e.type for e in journal.load_journal(db, records[0].execution_id)
                ]:
                    return records[0].execution_id
        time.sleep(0.05)  # a poll interval; the condition decides
    pytest.fail("timed out waiting for the run's first job")
