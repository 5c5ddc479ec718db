"""``drs-desktop drill --unattended`` end to end on the simulator (manual virtual clock): a drill with
an approval gate approved by the schedule, soak 0, cleanup done, reports written, the last run recorded;
and its refusal, with nothing launched, when another unfinished execution holds one of its servers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.schedule.model import Schedule
from drs_desktop.services import schedules
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage import schedules as store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.alerts.hook_server import HookServer
from tests.cli.conftest import Cli, shop_plan
from tests.schedules.values import a_schedule
from tests.secrets.memory_keyring import MemoryKeyring


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def _setup(sim: EmbeddedSimulator, home: Path, reports: Path, *, auto_approve: bool = True) -> Schedule:
    with Database.open(AppPaths.resolve(home).database) as db:
        revision = save_plan(db, shop_plan(sim, gate=True))
        schedule = a_schedule(
            plan_id=revision.plan_id,
            plan_name="Shop",
            profile="",
            region=sim.region,
            soak_minutes=0,
            auto_approve=auto_approve,
            report_dir=str(reports),
        )
        store.save_schedule(db, schedule, (), schedule.created_at)
    return schedule


def _route(home: Path, hook: HookServer) -> None:
    """A JSON webhook route on Shop, taking every kind (its URL in the test's in-memory keyring)."""
    from datetime import UTC, datetime

    from drs_desktop.domain.alert_routes import RouteKind
    from drs_desktop.secrets import SecretStore
    from drs_desktop.services.alerts import add_route

    with Database.open(AppPaths.resolve(home).database) as db:
        add_route(
            db,
            SecretStore(),
            plan_name="Shop",
            kind=RouteKind.JSON,
            label="ops",
            target=hook.url(),
            kinds=list(AlertKind),
            now=datetime.now(UTC),
        )


def _instances_left(sim: EmbeddedSimulator) -> set[str]:
    """The drill instances still in DRS an hour (virtual) after the run: its terminate job has ended."""
    ours = {r.recovery_instance_id for r in sim.backend.launch_records() if r.recovery_instance_id}
    assert ours, "the drill launched nothing"
    sim.clock.advance(3600)
    sim.backend.settle()
    return ours & set(sim.backend.world.instances)


def _drill(cli: Cli, sim: EmbeddedSimulator, home: Path, *extra: str) -> tuple[int, dict[str, str], str]:
    result = cli(
        "drill", "--unattended", "--plan", "Shop", "--endpoint", sim.endpoint_url, "--poll-interval", "0.1",
        "--home", str(home), "--json", *extra,
    )  # fmt: skip
    return result.code, result.json(), result.err


def test_an_unattended_drill_approves_by_schedule_cleans_up_and_reports(
    manual_sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    home, reports = tmp_path / "home", tmp_path / "drill reports"
    schedule = _setup(manual_sim, home, reports)
    _route(home, hook)
    code, answer, err = _drill(cli, manual_sim, home, "--schedule", schedule.schedule_id)
    assert code == 0, err
    assert answer["outcome"] == "succeeded" and answer["detail"] == ""
    # Its run events reach the plan's routes as any run's: the gate (approved by the schedule), the end.
    kinds = [r.body["kind"] for r in hook.received]
    assert kinds.count("run-succeeded") == 1 and "schedule-missed" not in kinds, kinds
    execution_id = answer["execution_id"]
    launches = Counter(r.source_server_id for r in manual_sim.backend.launch_records())
    assert sum(launches.values()) == 5 and set(launches.values()) == {1}
    with Database.open(AppPaths.resolve(home).database) as db:
        entries = journal.load_journal(db, execution_id)
        approvals = [e.payload for e in entries if e.type == "ApprovalGranted"]
        assert [(a["by"], a["comment"]) for a in approvals] == [
            (f"schedule {schedule.schedule_id}", "approved by schedule (auto-approve)")
        ]
        cleanup = [e.payload for e in entries if e.type == "CleanupRequested"]
        assert [c["by"] for c in cleanup] == [f"schedule {schedule.schedule_id}"]
        last = store.last_run(db, schedule.schedule_id)
    assert last is not None and last.outcome == "succeeded" and last.ended_at is not None
    assert last.execution_id == execution_id
    html = Path(last.report_path)
    assert (
        html.parent == reports and html.suffix == ".html" and execution_id in html.read_text(encoding="utf-8")
    )
    assert html.with_suffix(".json").is_file()
    assert html.with_suffix(".pdf").read_bytes().startswith(b"%PDF")  # Qt is here: the GUI's PDF layout
    assert _instances_left(manual_sim) == set()


def test_the_drill_refuses_when_another_execution_holds_its_servers(
    manual_sim: EmbeddedSimulator, tmp_path: Path, cli: Cli, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    home, reports = tmp_path / "home", tmp_path / "reports"
    schedule = _setup(manual_sim, home, reports)
    # a person's drill of the same plan waits at its gate: unfinished, holding the first wave's server
    endpoint = manual_sim.endpoint_url
    first = cli(
        "run",
        "Shop",
        "--mode",
        "drill",
        "--endpoint",
        endpoint,
        "--poll-interval",
        "0.1",
        "--home",
        str(home),
        "--json",
    )
    assert first.code == 3, first.err
    held_id = first.json()["execution_id"]
    launched_before = len(manual_sim.backend.launch_records())
    _route(home, hook)
    code, answer, err = _drill(cli, manual_sim, home)
    assert code == 1
    # Said to the plan's routes at once, and once: the cron check finds nothing new to say.
    assert [r.body["kind"] for r in hook.received] == ["schedule-missed"], err
    assert "did not report" in hook.received[0].body["title"]
    assert cli("alerts", "check", "--home", str(home)).out.strip() == "nothing new to say"
    assert len(hook.received) == 1
    assert answer["outcome"] == "refused" and answer["report_path"] == ""
    assert answer["detail"].startswith(f"not started: execution {held_id} (Shop) holds ")
    assert "ALERT schedule-missed: scheduled drill of 'Shop' did not report: refused" in err
    assert len(manual_sim.backend.launch_records()) == launched_before
    with Database.open(AppPaths.resolve(home).database) as db:
        assert [r.execution_id for r in journal.list_executions(db) if not r.finished] == [held_id]
        last = store.last_run(db, schedule.schedule_id)
        assert last is not None and last.outcome == "refused"
        [alert] = schedules.missed(db, last.started_at)
    assert alert.kind is AlertKind.SCHEDULE_MISSED and "did not report" in alert.title
    assert held_id in alert.detail


def test_a_gate_the_schedule_does_not_approve_cancels_and_terminates(
    manual_sim: EmbeddedSimulator, tmp_path: Path, cli: Cli
) -> None:
    home, reports = tmp_path / "home", tmp_path / "reports"
    schedule = _setup(manual_sim, home, reports, auto_approve=False)
    code, answer, err = _drill(cli, manual_sim, home)
    assert code == 1, err
    assert answer["outcome"] == "cancelled"
    assert answer["detail"] == (
        "cancelled with nobody to decide (approval of wave 'App'); its drill instances terminated"
    )
    with Database.open(AppPaths.resolve(home).database) as db:
        cancels = [e.payload for e in journal.load_journal(db, answer["execution_id"]) if e.type == "Cancel"]
        assert [(c["by"], c["terminate_drill_instances"]) for c in cancels] == [
            (f"schedule {schedule.schedule_id}", True)
        ]
    assert Path(answer["report_path"]).is_file()  # a cancelled drill still reports
    assert _instances_left(manual_sim) == set()


def test_the_drill_refuses_when_drs_has_an_active_job_for_its_servers(
    manual_sim: EmbeddedSimulator, tmp_path: Path, cli: Cli
) -> None:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget

    home = tmp_path / "home"
    _setup(manual_sim, home, tmp_path / "reports")
    gateway = DrsGateway(
        AwsTarget(profile=None, region=manual_sim.region, endpoint_url=manual_sim.endpoint_url)
    )
    server = manual_sim.backend.server_id_of("shop-web-01")
    job = gateway.start_recovery([server], is_drill=True, tags={})  # someone's drill from the console
    code, answer, _ = _drill(cli, manual_sim, home)
    assert code == 1 and answer["outcome"] == "refused"
    assert answer["detail"] == f"not started: DRS job {job.job_id} (START_DRILL) holds {server}"
    assert {r.source_server_id for r in manual_sim.backend.launch_records()} <= {server}


def test_the_drill_refuses_when_a_server_runs_a_recovery_instance_of_a_real_recovery(
    manual_sim: EmbeddedSimulator, tmp_path: Path, cli: Cli
) -> None:
    """After a real recovery the servers' recovery instances are production; a drill's launch replaces a
    server's recovery instance (CLEANUP_START), so the nightly drill must not start on those servers."""
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget

    home = tmp_path / "home"
    _setup(manual_sim, home, tmp_path / "reports")
    gateway = DrsGateway(
        AwsTarget(profile=None, region=manual_sim.region, endpoint_url=manual_sim.endpoint_url)
    )
    server = manual_sim.backend.server_id_of("shop-web-01")
    job = gateway.start_recovery([server], is_drill=False, tags={})  # the failover of the bad night
    manual_sim.clock.advance(3600)
    manual_sim.backend.settle()
    [production] = [
        r.recovery_instance_id for r in manual_sim.backend.launch_records() if r.job_id == job.job_id
    ]
    assert production in manual_sim.backend.world.instances
    launched_before = len(manual_sim.backend.launch_records())
    code, answer, _ = _drill(cli, manual_sim, home)
    assert code == 1 and answer["outcome"] == "refused", answer
    assert answer["detail"] == (
        f"not started: recovery instance {production} (a recovery, not a drill) holds {server}"
    )
    assert len(manual_sim.backend.launch_records()) == launched_before
    assert production in manual_sim.backend.world.instances
