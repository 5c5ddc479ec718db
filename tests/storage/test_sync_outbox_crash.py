"""The outbox and the data it describes commit together: a failure inside a save, a process killed in a
loop of saves, and a database from schema v4 all leave a queue that matches the data exactly."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.settings import SETTINGS
from drs_desktop.domain.settings.shared import SHARED_SETTINGS
from drs_desktop.storage import executions as journal
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database, load_migrations
from drs_desktop.storage.plans import delete_plan, list_plans, save_plan
from drs_desktop.storage.schema import SCHEMA_VERSION
from drs_desktop.storage.settings import get_setting, set_setting

from .conftest import sample_plan
from .old_rows import T_OLD, insert_execution, insert_plan
from .test_executions import T0, new_execution

EVENT = {"type": "StartRequested", "at": T0.isoformat()}
REPO = Path(__file__).resolve().parents[2]


def assert_queue_matches_data(path: Path) -> int:
    """Nothing was pushed, so: every revision has exactly one entry and every entry its revision; every
    plan's and execution's last head entry has its current version; every journal entry its last event.
    Returns the number of revisions."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        revisions = set(conn.execute("SELECT id, plan_id, revision FROM plan_revisions").fetchall())
        queued = conn.execute("SELECT ref, key, version FROM sync_outbox WHERE what = 'revision'").fetchall()
        assert len(queued) == len(set(queued)) and set(queued) == revisions
        heads = dict(
            conn.execute(
                "SELECT kind || ' ' || key, version FROM sync_outbox o WHERE what = 'head' AND id = "
                "(SELECT max(id) FROM sync_outbox WHERE kind = o.kind AND key = o.key AND what = 'head')"
            ).fetchall()
        )
        plans = dict(conn.execute("SELECT 'PLAN ' || id, version FROM plans").fetchall())
        runs = dict(conn.execute("SELECT 'EXEC ' || id, version FROM executions").fetchall())
        assert {k: v for k, v in heads.items() if not k.startswith("SETTING")} == plans | runs
        journals = dict(
            conn.execute("SELECT key, version FROM sync_outbox WHERE what = 'journal'").fetchall()
        )
        lasts = dict(
            conn.execute("SELECT execution_id, max(seq) FROM execution_events GROUP BY 1").fetchall()
        )
        assert journals == lasts
        # Every revision entry comes before the last head of its plan.
        late = conn.execute(
            "SELECT count(*) FROM sync_outbox r WHERE r.what = 'revision' AND r.id > "
            "(SELECT max(id) FROM sync_outbox h WHERE h.kind = 'PLAN' AND h.key = r.key AND h.what = 'head')"
        ).fetchone()[0]
        assert late == 0
        return len(revisions)
    finally:
        conn.close()


# ------------------------------------------------------------------------- a failure inside a save


def test_an_error_after_the_save_in_its_transaction_leaves_neither(db_path: Path) -> None:
    with Database.open(db_path) as db:
        with pytest.raises(RuntimeError, match="crash"), db.transaction():
            save_plan(db, sample_plan())
            assert outbox.pending_count(db) == 2  # both were written, inside the transaction
            raise RuntimeError("crash after the save")
    with Database.open(db_path) as db:
        assert list_plans(db) == [] and outbox.pending(db) == []
    assert_queue_matches_data(db_path)


def _fail_outbox_writes(db: Database, when: str) -> None:
    """Make the next outbox insert matching ``when`` fail, as a full disk would, on the write connection."""
    with db.transaction() as conn:
        conn.execute(
            f"CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON sync_outbox WHEN {when} "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O failed'); END"
        )


def _heal(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("DROP TRIGGER temp.fail_outbox")


def test_a_failed_queue_write_undoes_the_save_even_after_its_revision_entry(db_path: Path) -> None:
    with Database.open(db_path) as db:
        kept = save_plan(db, sample_plan())
        _fail_outbox_writes(db, "NEW.what = 'head'")  # the revision entry goes in, the head fails
        with pytest.raises(StorageError, match="disk I/O failed"):
            save_plan(db, dataclasses.replace(sample_plan(), description="lost"))
        with pytest.raises(StorageError, match="disk I/O failed"):
            save_plan(db, sample_plan("Brand new"))
        with pytest.raises(StorageError, match="disk I/O failed"):
            delete_plan(db, "Payroll")
        _heal(db)
    with Database.open(db_path) as db:
        assert [(p.name, p.latest_revision) for p in list_plans(db)] == [("Payroll", 1)]
        assert [(e.what, e.ref) for e in outbox.pending(db)] == [
            ("revision", kept.revision_id),
            ("head", kept.revision_id),
        ]
    assert assert_queue_matches_data(db_path) == 1


def test_a_failed_queue_write_undoes_journal_appends_status_and_settings(db_path: Path) -> None:
    with Database.open(db_path) as db:
        run = new_execution(db).execution_id
        journal.append_events(db, run, [EVENT])
        _fail_outbox_writes(db, "NEW.kind IN ('EXEC', 'SETTING')")
        with pytest.raises(StorageError, match="disk I/O failed"):
            journal.append_events(db, run, [EVENT, EVENT])
        with pytest.raises(StorageError, match="disk I/O failed"):
            journal.set_execution_status(db, run, "SUCCEEDED", outcome="SUCCEEDED", finished_at=T0)
        with pytest.raises(StorageError, match="disk I/O failed"):
            journal.create_execution(
                db, dataclasses.replace(journal.get_execution(db, run), execution_id="x-2")
            )
        with pytest.raises(StorageError, match="disk I/O failed"):
            set_setting(db, "engine.wave_timeout_minutes", 200)
        _heal(db)
    with Database.open(db_path) as db:
        assert [e.seq for e in journal.load_journal(db, run)] == [1]
        assert [r.execution_id for r in journal.list_executions(db)] == [run]
        assert journal.get_execution(db, run).outcome is None
        assert get_setting(db, "engine.wave_timeout_minutes") == 120
    assert_queue_matches_data(db_path)


# ------------------------------------------------------------------------------ kill -9 in a loop

# A writer process saving plans, appending to a journal and changing a shared setting in a loop, one
# line per finished iteration. With a pause point ("PLAN head" or "EXEC journal") it stops at iteration
# 20 INSIDE the storage function's transaction, right after the change and the outbox entry named (an SQL
# function called by a trigger), says "inside" and waits there to be killed.
_WRITER = textwrap.dedent(
    """
    import dataclasses, sys
    from drs_desktop.domain.engine.record import ExecutionRecord
    from drs_desktop.storage import executions
    from drs_desktop.storage.db import Database
    from drs_desktop.storage.plans import save_plan
    from drs_desktop.storage.settings import set_setting
    from tests.storage.conftest import sample_plan
    from tests.storage.test_executions import T0

    path, round_, pause = sys.argv[1], sys.argv[2], sys.argv[3]
    db = Database.open(path)
    i = 0

    def pause_here(kind_what):
        if kind_what == pause and i == 20:
            print("inside", flush=True)
            sys.stdin.readline()  # until killed
        return 0

    with db.transaction() as conn:
        conn.create_function("pause_here", 1, pause_here)
        conn.execute(
            "CREATE TEMP TRIGGER pause AFTER INSERT ON sync_outbox "
            "BEGIN SELECT pause_here(NEW.kind || ' ' || NEW.what); END"
        )
    run = None
    while True:
        i += 1
        plan = dataclasses.replace(sample_plan(f"P{i % 4}"), description=f"round {round_} edit {i}")
        saved = save_plan(db, plan)
        if run is None:
            run = executions.create_execution(db, ExecutionRecord(
                execution_id=f"run-{round_}", plan_id=saved.plan_id, plan_revision_id=saved.revision_id,
                plan_name=saved.name, plan_revision=saved.revision, mode="DRILL", status="RUNNING",
                started_at=T0)).execution_id
        executions.append_events(db, run, [{"type": "Tick", "at": T0.isoformat(), "i": i}])
        set_setting(db, "engine.poll_interval_seconds", 10 + i % 7)
        print(i, flush=True)
    """
)


def _revisions_of_round(path: Path, round_: int) -> int:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return int(
            conn.execute(
                "SELECT count(*) FROM plan_revisions WHERE document LIKE ?", (f"%round {round_} edit %",)
            ).fetchone()[0]
        )
    finally:
        conn.close()


@pytest.mark.parametrize(
    "pause",
    ["PLAN head", "EXEC journal", "none"],
    ids=["inside-save_plan", "inside-append_events", "free-running"],
)
def test_a_process_killed_in_a_loop_of_saves_leaves_the_queue_matching_the_data(
    tmp_path: Path, pause: str
) -> None:
    path = tmp_path / "home" / "drs-desktop.sqlite3"
    with Database.open(path):
        pass
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    acknowledged = 0
    for round_ in range(2):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(round_), pause],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert writer.stdout is not None
        last = 0
        while True:  # each number is a committed iteration
            line = writer.stdout.readline().strip()
            assert line, f"the writer stopped: {writer.stderr.read() if writer.stderr else ''}"
            if line == "inside" or (pause == "none" and int(line) >= 30):
                break
            last = int(line)
        os.kill(writer.pid, signal.SIGKILL)
        writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        acknowledged += last
        revisions = assert_queue_matches_data(path)
        assert revisions >= acknowledged  # nothing a save reported done was lost
        this_round = _revisions_of_round(path, round_)
        if pause == "PLAN head":
            assert this_round == 19  # the save killed inside its transaction left nothing
        elif pause == "EXEC journal":
            assert this_round == 20  # its plan was saved; the append killed inside left nothing
        with Database.open(path) as db:  # reopens and goes on from where it was
            assert db.schema_version == SCHEMA_VERSION
            events = journal.load_journal(db, f"run-{round_}")
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert len(events) == (19 if pause != "none" else len(events)) and len(events) >= last


# ------------------------------------------------------------------------- migration from schema v4


def test_a_v4_database_queues_its_history_in_order_when_migrated(db_path: Path) -> None:
    with Database.open(db_path, migrations=load_migrations()[:4]) as old:
        with old.transaction() as conn:
            later, (later_rev,) = insert_plan(
                conn, [sample_plan("Later")], at="2025-03-02T00:00:00.000000+00:00"
            )
            first, first_revs = insert_plan(
                conn, [sample_plan("First"), dataclasses.replace(sample_plan("First"), description="2")]
            )
            gone, (gone_rev,) = insert_plan(conn, [sample_plan("Gone")], deleted=True)
            ran = insert_execution(conn, first, first_revs[0], [EVENT, EVENT, EVENT])
            idle = insert_execution(conn, later, later_rev, at="2025-03-03T00:00:00.000000+00:00")
            for key in [*SETTINGS, "future.setting"]:  # an override of every key, and a newer one's
                conn.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?, '1', ?)",
                    (key, T_OLD),
                )
    with Database.open(db_path) as db:
        assert (
            db.schema_version == SCHEMA_VERSION
            and db.backup_path is not None
            and ".v4." in db.backup_path.name
        )
        entries = outbox.pending(db)
        state = outbox.get_state(db)
    old_plans = sorted([first, gone])  # same created_at: by ID
    revision_part = [("PLAN", p, "revision", n) for p in old_plans for n in ((1, 2) if p == first else (1,))]
    # versions: 2 revisions; 1 revision and its deletion; 1 revision
    heads = [("PLAN", p, "head", 2) for p in old_plans] + [("PLAN", later, "head", 1)]
    assert [(e.kind, e.key, e.what, e.version) for e in entries] == [
        *revision_part,
        ("PLAN", later, "revision", 1),
        *heads,
        ("EXEC", ran, "journal", 3),
        ("EXEC", ran, "head", 4),
        ("EXEC", idle, "head", 1),
        # 0005 queues the shared keys it knew; sync.inventory (shared since v7) cannot be in a v4 file.
        *[("SETTING", key, "head", None) for key in sorted(set(SHARED_SETTINGS) - {"sync.inventory"})],
    ]
    refs = {e.key: e.ref for e in entries if e.what == "head" and e.kind == "PLAN"}
    assert refs == {first: first_revs[1], gone: gone_rev, later: later_rev}
    assert uuid.UUID(state.desktop_id).version == 4 and not state.configured and state.cursor == 0
    assert_queue_matches_data(db_path)
    with Database.open(db_path) as db:  # a save after the migration queues behind the history
        save_plan(db, dataclasses.replace(sample_plan("Later"), description="new"))
        tail = [(e.key, e.what, e.version) for e in outbox.pending(db)][-2:]
        assert tail == [(later, "revision", 2), (later, "head", 2)]
        # Later's old head stays: an execution of Later (idle) was queued after it.
        assert [e.version for e in outbox.pending(db) if e.key == later and e.what == "head"] == [1, 2]
    assert_queue_matches_data(db_path)
