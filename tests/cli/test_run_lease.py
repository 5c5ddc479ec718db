"""``drs-desktop run`` with team sync on: the run holds its execution's lease in the team's table, and a
``run --resume`` of an execution another desktop drives is refused, naming that desktop (issue 14 item 5).
moto's DynamoDB server and the DRS simulator, over loopback HTTP with the real boto3 clients."""

from __future__ import annotations

from pathlib import Path

from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.aws.sync_table import create_table
from drs_desktop.config import AppPaths
from drs_desktop.services.team_sync import ENABLED_KEY
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import sync_outbox
from drs_desktop.storage.db import Database
from drs_desktop.storage.settings import set_setting
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator

from .conftest import SYNC_TABLE as TABLE
from .conftest import Cli, launches_per_server, save_plans, shop_plan, target_args


def test_resume_refuses_an_execution_another_desktop_drives_and_a_run_gives_its_lease_back(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, dynamodb: DynamoDbEmulator
) -> None:
    save_plans(app_home, shop_plan(sim, gate=True))
    held = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert held.code == 3, held.err  # the approval gate: unfinished, nobody drives it now
    execution_id = held.json()["execution_id"]
    create_table(
        SyncTableTarget(table=TABLE, region=REGION, endpoint_url=dynamodb.endpoint_url), identity=lambda: ""
    )
    with Database.open(AppPaths.resolve(app_home).database) as db:
        sync_outbox.configure(db, TABLE, region=REGION, endpoint=dynamodb.endpoint_url)
        set_setting(db, ENABLED_KEY, True)
    client = dynamodb.client()
    other = sync_lease.take(client, TABLE, execution_id, "desk-b")

    refused = cli("run", "--resume", execution_id, "--auto-approve", *target_args(sim, app_home))
    assert refused.code == 1
    assert "desk-b" in refused.err, refused.err
    assert "RunnerRestarted" not in refused.err

    sync_lease.release(client, TABLE, other)  # desk-b gives it back: this desktop may drive it
    resumed = cli("run", "--resume", execution_id, "--auto-approve", "--json", *target_args(sim, app_home))
    assert resumed.code == 0, resumed.err
    assert resumed.json()["outcome"] == "SUCCEEDED"
    assert set(launches_per_server(sim).values()) == {1}
    assert sync_lease.read(client, TABLE, execution_id) is None, "given back when the run ended"


def test_with_sync_on_and_its_table_out_of_reach_a_run_is_refused_with_the_way_out(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, dynamodb: DynamoDbEmulator
) -> None:
    """On a bad day the team's table may be out of reach: the run is refused (nothing journaled, nothing
    launched) with the operator's way out in the same line; with sync turned off it runs."""
    save_plans(app_home, shop_plan(sim))
    create_table(
        SyncTableTarget(table=TABLE, region=REGION, endpoint_url=dynamodb.endpoint_url), identity=lambda: ""
    )
    with Database.open(AppPaths.resolve(app_home).database) as db:
        sync_outbox.configure(db, TABLE, region=REGION, endpoint=dynamodb.endpoint_url)
        set_setting(db, ENABLED_KEY, True)
    dynamodb.stop()
    refused = cli("run", "Shop", "--mode", "drill", *target_args(sim, app_home))
    assert refused.code == 1
    assert "turn team sync off" in refused.err, refused.err
    assert launches_per_server(sim) == {}
    with Database.open(AppPaths.resolve(app_home).database) as db:
        set_setting(db, ENABLED_KEY, False)
    ran = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert ran.code == 0, ran.err
    assert set(launches_per_server(sim).values()) == {1}


def test_a_run_the_command_line_drives_is_pushed_live_at_most_every_30_s() -> None:
    """With team sync on, ``run`` pushes the run as it goes (teammates follow it live), not only when it
    stops: on its first event, then at most once per ``LIVE_PUSH_SECONDS`` of events."""
    from drs_desktop.cli_drive import LIVE_PUSH_SECONDS, _LivePush

    now = [100.0]
    pushed: list[float] = []
    listener = _LivePush(lambda: pushed.append(now[0]), clock=lambda: now[0])
    for step in (0.0, 10.0, 19.9, 0.2, 5.0, 40.0):
        now[0] += step
        listener(None, None, None)  # type: ignore[arg-type]
    assert pushed == [100.0, 130.1, 175.1]
    assert LIVE_PUSH_SECONDS == 30.0


def test_the_live_push_never_comes_between_an_intent_and_its_drs_call() -> None:
    """StartRequested and TerminateRequested are journaled right before their DRS call, which the lease
    was checked for: a push there (bounded, but seconds when the table is slow) would delay the call."""
    from datetime import UTC, datetime

    from drs_desktop.cli_drive import _LivePush
    from drs_desktop.domain.engine.events import StartRequested, TerminateRequested, Tick

    at = datetime(2026, 1, 1, tzinfo=UTC)
    pushed: list[str] = []
    listener = _LivePush(lambda: pushed.append("push"), clock=lambda: 100.0)
    listener(None, None, StartRequested(chunk_id="1.1", at=at))  # type: ignore[arg-type]
    listener(None, None, TerminateRequested(instance_ids=("i-1",), at=at))  # type: ignore[arg-type]
    assert pushed == []
    listener(None, None, Tick(at=at))  # type: ignore[arg-type]
    assert pushed == ["push"]
