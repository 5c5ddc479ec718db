"""``drs-desktop sync takeover``: watch another desktop's lease until it expires on this machine's clock
(an injected one here: no sleeps), confirm, take over and drive the run like ``run --resume``
(issue 14 item 5). moto's DynamoDB server and the DRS simulator, over loopback HTTP, real boto3 clients.

The run is started here and left at its approval gate; "desk-a" (the test's own client) then holds its
lease and never beats, as a desktop that crashed while driving it would."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from drs_desktop import cli_sync_takeover
from drs_desktop.aws import sync_lease
from drs_desktop.aws.sync_schema import SyncTableTarget
from drs_desktop.aws.sync_table import create_table
from drs_desktop.cli import build_parser
from drs_desktop.config import AppPaths
from drs_desktop.domain.lease import HEARTBEAT_INTERVAL, LEASE_EXPIRY
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_journal, sync_outbox
from drs_desktop.storage.db import Database
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator

from .conftest import SYNC_TABLE as TABLE
from .conftest import Cli, launches_per_server, save_plans, shop_plan, target_args


class Observer:
    """This desktop's monotonic clock, and the watch's wait, which moves it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 500.0
        self.waits = 0

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits += 1
        self.now += seconds


@pytest.fixture
def observer(monkeypatch: pytest.MonkeyPatch) -> Observer:
    watching = Observer()
    monkeypatch.setattr(cli_sync_takeover, "_monotonic", watching.clock)
    monkeypatch.setattr(cli_sync_takeover, "_wait", watching.wait)
    return watching


def held_by_desk_a(sim: EmbeddedSimulator, app_home: Path, cli: Cli, dynamodb: DynamoDbEmulator) -> str:
    """A drill left at its gate, this home syncing with the table, and desk-a holding the lease."""
    save_plans(app_home, shop_plan(sim, gate=True))
    held = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert held.code == 3, held.err
    execution_id = str(held.json()["execution_id"])
    create_table(
        SyncTableTarget(table=TABLE, region=REGION, endpoint_url=dynamodb.endpoint_url), identity=lambda: ""
    )
    with Database.open(AppPaths.resolve(app_home).database) as db:
        sync_outbox.configure(db, TABLE, region=REGION, endpoint=dynamodb.endpoint_url)
        with db.transaction() as conn:  # as if pulled from desk-a, which drives it
            sync_journal.mark_foreign(conn, execution_id, "desk-a", "this-desktop")
    sync_lease.take(dynamodb.client(), TABLE, execution_id, "desk-a")
    return execution_id


def test_the_command_line_is_parsed() -> None:
    args = build_parser().parse_args(["sync", "takeover", "0123456789abcdef", "--yes", "--json"])
    assert (args.command, args.sync_command, args.execution_id) == ("sync", "takeover", "0123456789abcdef")
    assert args.yes and args.json and not args.auto_approve
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sync", "takeover"])


def test_takeover_watches_until_expiry_then_drives_the_run_like_a_resume(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, dynamodb: DynamoDbEmulator, observer: Observer
) -> None:
    execution_id = held_by_desk_a(sim, app_home, cli, dynamodb)
    taken = cli("sync", "takeover", execution_id, "--yes", "--json", *target_args(sim, app_home))
    assert taken.code == 3, taken.err  # driven to its approval gate again: waits for a person, as run does
    assert taken.json()["execution_id"] == execution_id
    lines = [line for line in taken.err.splitlines() if line.startswith("holder desk-a")]
    assert lines[0] == f"holder desk-a · heartbeat 1 · unchanged 0 s · {LEASE_EXPIRY:.0f} s left"
    assert lines[-1] == f"holder desk-a · heartbeat 1 · unchanged {LEASE_EXPIRY:.0f} s · expired"
    assert len(lines) == LEASE_EXPIRY / HEARTBEAT_INTERVAL + 1  # one line per read, each one changed
    assert observer.waits == LEASE_EXPIRY / HEARTBEAT_INTERVAL
    assert "took execution" in taken.err and "over from desktop desk-a" in taken.err
    with Database.open(AppPaths.resolve(app_home).database) as db:
        kinds = [entry.type for entry in journal.load_journal(db, execution_id)]
    assert "TakenOver" in kinds
    assert sync_lease.read(dynamodb.client(), TABLE, execution_id) is None, "given back when it stopped"

    finished = cli("run", "--resume", execution_id, "--auto-approve", "--json", *target_args(sim, app_home))
    assert finished.code == 0, finished.err
    assert set(launches_per_server(sim).values()) == {1}


def test_a_mistyped_confirmation_changes_nothing(
    sim: EmbeddedSimulator,
    app_home: Path,
    cli: Cli,
    dynamodb: DynamoDbEmulator,
    observer: Observer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    execution_id = held_by_desk_a(sim, app_home, cli, dynamodb)
    monkeypatch.setattr("sys.stdin", io.StringIO("nope\n"))
    refused = cli("sync", "takeover", execution_id, *target_args(sim, app_home))
    assert refused.code == 1
    assert f"Type {execution_id[:8]} to take execution" in refused.err
    assert "not confirmed: nothing was changed" in refused.err
    lease = sync_lease.read(dynamodb.client(), TABLE, execution_id)
    assert lease is not None and (lease.holder, lease.heartbeat) == ("desk-a", 1)


def test_a_desktop_that_took_it_first_is_named_and_nothing_is_journaled(
    sim: EmbeddedSimulator,
    app_home: Path,
    cli: Cli,
    dynamodb: DynamoDbEmulator,
    observer: Observer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    execution_id = held_by_desk_a(sim, app_home, cli, dynamodb)
    with Database.open(AppPaths.resolve(app_home).database) as db:
        before = len(journal.load_journal(db, execution_id))

    class Racing(io.StringIO):
        """The operator types the right code, while desk-c takes the run over first."""

        def readline(self, *_: object) -> str:  # type: ignore[override]
            sync_lease.take_over(dynamodb.client(), TABLE, execution_id, "desk-c", 1, "desk-a")
            return execution_id[:8] + "\n"

    monkeypatch.setattr("sys.stdin", Racing())
    refused = cli("sync", "takeover", execution_id, *target_args(sim, app_home))
    assert refused.code == 1
    assert "desk-c took the lease over first" in refused.err, refused.err
    with Database.open(AppPaths.resolve(app_home).database) as db:
        assert len(journal.load_journal(db, execution_id)) == before


def test_ctrl_c_while_watching_gives_up_with_130_and_changes_nothing(
    sim: EmbeddedSimulator,
    app_home: Path,
    cli: Cli,
    dynamodb: DynamoDbEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    execution_id = held_by_desk_a(sim, app_home, cli, dynamodb)

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_sync_takeover, "_wait", interrupted)
    gave_up = cli("sync", "takeover", execution_id, "--yes", *target_args(sim, app_home))
    assert gave_up.code == 130
    assert "holder desk-a · heartbeat 1 · unchanged 0 s" in gave_up.err
    lease = sync_lease.read(dynamodb.client(), TABLE, execution_id)
    assert lease is not None and (lease.holder, lease.heartbeat) == ("desk-a", 1)
