"""``drs-desktop sync now|status|resolve`` end to end: two desktop homes, moto's server, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop import __version__
from drs_desktop.cli import main
from drs_desktop.config import AppPaths
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import get_plan, save_plan
from tests.sync.desktops import TABLE, init_table, plan
from tests.sync.dynamodb_emulator import REGION, DynamoDbEmulator


def _sync(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["sync", *args, "--home", str(home)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _db(home: Path) -> Database:
    return Database.open(AppPaths.resolve(str(home)).database)


def _save(home: Path, *servers: str) -> None:
    with _db(home) as db:
        save_plan(db, plan("Payroll", *servers))


def test_sync_now_status_and_resolve(
    tmp_path: Path, dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    init_table(dynamodb)
    a, b = tmp_path / "a", tmp_path / "b"
    where = ["--table", TABLE, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url]
    code, out, err = _sync(capsys, b, "status")
    assert code == 0 and "table: none yet" in out and "last sync: never" in out

    _save(a, "s-1")
    code, out, err = _sync(capsys, a, "now", *where)
    assert code == 0, err
    assert "pushed 1 plans, 1 revisions" in out and "conflict" not in out
    code, out, err = _sync(capsys, b, "now", *where)
    assert code == 0, err
    assert "pulled 1 plans, 1 revisions" in out
    with _db(b) as db:
        assert get_plan(db, "Payroll") == plan("Payroll", "s-1")

    # Both edit Payroll; A pushes first (the table is remembered: no options now).
    _save(a, "s-1", "s-a")
    _save(b, "s-1", "s-b")
    assert _sync(capsys, a, "now")[0] == 0
    code, out, err = _sync(capsys, b, "now")
    assert code == 1
    conflict_lines = [line for line in out.splitlines() if line.startswith("conflict: ")]
    assert len(conflict_lines) == 1 and "plan 'Payroll'" in conflict_lines[0]
    assert "sync resolve --plan NAME" in out
    code, out, err = _sync(capsys, b, "now")
    assert code == 1  # until it is resolved

    code, out, err = _sync(capsys, b, "status")
    assert code == 0
    assert f"table: {TABLE} in {REGION} at {dynamodb.endpoint_url}" in out
    assert "queued: 1 local change(s) not pushed yet" in out
    assert "open conflicts: 1" in out and "conflict: plan 'Payroll'" in out
    assert "cursor: every change up to number " in out and "last sync: 20" in out

    code, out, err = _sync(capsys, b, "resolve", "--plan", "payroll", "--take-theirs")
    assert code == 0, err
    assert "version applied" in out
    code, out, err = _sync(capsys, b, "now")
    assert code == 0 and "conflict" not in out
    with _db(b) as db:
        assert get_plan(db, "Payroll") == plan("Payroll", "s-1", "s-a")
    code, out, err = _sync(capsys, b, "resolve", "--plan", "Payroll", "--keep-mine")
    assert code == 2 and "no open sync conflict on a plan named 'Payroll'" in err


def test_an_app_older_than_the_table_wants_refuses_in_one_line(
    tmp_path: Path, dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    init_table(dynamodb)
    dynamodb.client().update_item(
        TableName=TABLE,
        Key={"pk": {"S": "META"}, "sk": {"S": "TABLE"}},
        UpdateExpression="SET min_app_version = :v",
        ExpressionAttributeValues={":v": {"S": "99.0"}},
    )
    _save(tmp_path, "s-1")
    code, out, err = _sync(
        capsys, tmp_path, "now", "--table", TABLE, "--region", REGION, "--endpoint-url", dynamodb.endpoint_url
    )
    assert code == 1
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert "needs DRS Desktop 99.0 or newer" in line and f"this is {__version__}" in line
    assert out == ""
    with _db(tmp_path) as db:
        from drs_desktop.storage import sync_outbox as outbox

        assert outbox.pending_count(db) == 2  # nothing pushed, nothing lost
        assert "99.0" in (outbox.get_state(db).last_error or "")


def test_a_table_out_of_reach_fails_in_one_line_and_loses_nothing(
    tmp_path: Path, dynamodb: DynamoDbEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    init_table(dynamodb)
    _save(tmp_path, "s-1")
    url = dynamodb.endpoint_url
    dynamodb.stop()
    code, out, err = _sync(
        capsys, tmp_path, "now", "--table", TABLE, "--region", REGION, "--endpoint-url", url
    )
    assert code == 1
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert "could not be reached" in line and TABLE in line
    code, out, err = _sync(capsys, tmp_path, "status")
    assert "queued: 2 local change(s)" in out and "could not be reached" in out
