"""A journal this version cannot read, or one cut short, as ``executions show``, ``report`` and
``run --resume`` meet it: one line and a non-zero exit (never a traceback) for an entry it cannot decode;
a warning for a journal missing entries, which ``run --resume`` refuses to drive on.

Each test runs a real drill against the simulator through the real CLI, then damages the journal in the
database file the way a newer DRS Desktop or a damaged disk would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import Cli, launches_per_server, run_subprocess, save_plans, shop_plan, target_args

pytestmark = pytest.mark.timeout(120)

NEWER_OR_DAMAGED = "written by a newer DRS Desktop, or damaged"


def _waiting_drill(sim: EmbeddedSimulator, home: Path, cli: Cli) -> str:
    """A drill that launched its first wave and waits at an approval gate (exit 3): resumable."""
    save_plans(home, shop_plan(sim, gate=True))
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, home))
    assert first.code == 3, first.err
    return str(first.json()["execution_id"])


def _database(home: Path) -> Database:
    return Database.open(AppPaths.resolve(home).database)


def _journal_rows(home: Path, execution_id: str) -> list[tuple[int, str, str]]:
    with _database(home) as db, db.reader() as conn:
        rows = conn.execute(
            "SELECT seq, type, payload FROM execution_events WHERE execution_id = ? ORDER BY seq",
            (execution_id,),
        ).fetchall()
    return [(int(seq), str(kind), str(payload)) for seq, kind, payload in rows]


def _set_entry_type(home: Path, execution_id: str, seq: int, kind: str) -> None:
    """Entry ``seq`` becomes an event of type ``kind``, as a newer version would have written it."""
    with _database(home) as db, db.transaction() as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM execution_events WHERE execution_id = ? AND seq = ?", (execution_id, seq)
        ).fetchone()
        data = {**json.loads(payload), "type": kind, "new_field": 1}
        conn.execute(
            "UPDATE execution_events SET type = ?, payload = ? WHERE execution_id = ? AND seq = ?",
            (kind, json.dumps(data), execution_id, seq),
        )


def _delete_entries(home: Path, execution_id: str, first: int, last: int) -> None:
    with _database(home) as db, db.transaction() as conn:
        conn.execute(
            "DELETE FROM execution_events WHERE execution_id = ? AND seq BETWEEN ? AND ?",
            (execution_id, first, last),
        )


def test_unknown_event_type_is_one_line_for_show_report_and_resume(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    execution_id = _waiting_drill(sim, app_home, cli)
    _set_entry_type(app_home, execution_id, 3, "WaveTeleported")
    journal_before = _journal_rows(app_home, execution_id)
    launched_before = launches_per_server(sim)
    expected = (
        f"drs-desktop: error: execution {execution_id}: journal entry 3 has event type 'WaveTeleported' "
        f"that this version does not know: {NEWER_OR_DAMAGED}\n"
    )
    home = ["--home", str(app_home)]
    for args in (
        ("executions", "show", execution_id, *home),
        ("executions", "show", execution_id, "--json", *home),
        ("report", execution_id, "--format", "json", *home),
        ("run", "--resume", execution_id, "--auto-approve", *target_args(sim, app_home)),
    ):
        result = cli(*args)
        assert (result.code, result.err, result.out) == (1, expected, ""), args
    # Refused before anything was journaled or launched.
    assert _journal_rows(app_home, execution_id) == journal_before
    assert launches_per_server(sim) == launched_before


def test_unknown_event_type_in_a_real_process_prints_no_traceback(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    execution_id = _waiting_drill(sim, app_home, cli)
    _set_entry_type(app_home, execution_id, 2, "FromTheFuture")
    result = run_subprocess(["executions", "show", execution_id, "--home", str(app_home)])
    assert result.code == 1
    assert "Traceback" not in result.err
    assert result.err.splitlines() == [
        f"drs-desktop: error: execution {execution_id}: journal entry 2 has event type 'FromTheFuture' "
        f"that this version does not know: {NEWER_OR_DAMAGED}"
    ]


def test_an_entry_with_an_unreadable_field_is_one_line(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    execution_id = _waiting_drill(sim, app_home, cli)
    with _database(app_home) as db, db.transaction() as conn:
        conn.execute(
            "UPDATE execution_events SET payload = json_set(payload, '$.at', 'not a time') "
            "WHERE execution_id = ? AND seq = 1",
            (execution_id,),
        )
    result = cli("executions", "show", execution_id, "--home", str(app_home))
    assert result.code == 1
    assert result.err.startswith(f"drs-desktop: error: execution {execution_id}: journal entry 1 (")
    assert result.err.endswith(
        f"has a field this version cannot read (Invalid isoformat string: 'not a time'): {NEWER_OR_DAMAGED}\n"
    )
    assert result.err.count("\n") == 1


def test_a_journal_missing_entries_is_shown_with_a_warning_and_not_resumed(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, tmp_path: Path
) -> None:
    execution_id = _waiting_drill(sim, app_home, cli)
    total = len(_journal_rows(app_home, execution_id))
    assert total > 5
    _delete_entries(app_home, execution_id, 3, 4)
    journal_before = _journal_rows(app_home, execution_id)
    launched_before = launches_per_server(sim)
    warning = (
        f"warning: execution {execution_id}: its journal is cut short (entries 3 to 4 are missing); "
        "what it shows may be incomplete"
    )
    home = ["--home", str(app_home)]

    shown = cli("executions", "show", execution_id, *home)
    assert shown.code == 0
    assert shown.err.splitlines() == [warning]
    assert f"execution {execution_id}" in shown.out

    target = tmp_path / "report.json"
    reported = cli("report", execution_id, "--format", "json", "-o", str(target), *home)
    assert reported.code == 0, reported.err
    assert warning in reported.err.splitlines()
    assert json.loads(target.read_text(encoding="utf-8"))["execution"]["journal"]["warning"] == warning

    resumed = cli("run", "--resume", execution_id, "--auto-approve", *target_args(sim, app_home))
    assert resumed.code == 1
    assert resumed.err == (
        f"drs-desktop: error: execution {execution_id} cannot be resumed: its journal is cut short "
        "(entries 3 to 4 are missing); a missing entry could hide a launch, so nothing was done\n"
    )
    assert _journal_rows(app_home, execution_id) == journal_before
    assert launches_per_server(sim) == launched_before


def test_a_finished_execution_whose_journal_lost_its_end_is_reported_cut_short(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    save_plans(app_home, shop_plan(sim))
    done = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert done.code == 0, done.err
    execution_id = str(done.json()["execution_id"])
    rows = _journal_rows(app_home, execution_id)
    finish = next(seq for seq, kind, _ in rows if kind == "ExecutionFinished")
    _delete_entries(app_home, execution_id, finish - 2, rows[-1][0])  # the tail, finish included

    shown = cli("executions", "show", execution_id, "--home", str(app_home))
    assert shown.code == 0
    assert shown.err.splitlines() == [
        f"warning: execution {execution_id}: its journal is cut short (the execution is recorded as "
        f"finished (SUCCEEDED) but its journal ends at entry {finish - 3} without the finish); "
        "what it shows may be incomplete"
    ]


def test_a_whole_journal_gives_no_warning(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    execution_id = _waiting_drill(sim, app_home, cli)
    shown = cli("executions", "show", execution_id, "--home", str(app_home))
    assert (shown.code, shown.err) == (0, "")
    with _database(app_home) as db:
        read = journal.read_journal(db, journal.get_execution(db, execution_id))
    assert read.damage is None and len(read.events) == len(read.entries) > 0
