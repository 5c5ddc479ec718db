"""The retention service on a history made by real runs (tests/services/history_estate.py: the runner and
the real boto3 client against the embedded simulator): what goes, what stays and why, and a deletion
that leaves no row of the execution in any table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.domain.engine.annotation_events import FindingAdded, Severity
from drs_desktop.domain.engine.events import event_to_json
from drs_desktop.domain.settings import SettingError
from drs_desktop.services.retention import RetentionRefused, RetentionService
from drs_desktop.storage import executions as journal
from drs_desktop.storage.plans import load_plan
from drs_desktop.storage.retention import execution_tables
from tests.services.history_estate import Estate, build_estate


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[Estate]:
    with build_estate(tmp_path) as built:
        yield built


def _service(estate: Estate, *, days_later: int = 40) -> RetentionService:
    """A service whose now is ``days_later`` days after the estate's runs."""
    later = estate.clock() + timedelta(days=days_later)
    return RetentionService(estate.db, clock=lambda: later)


def _add_finding(estate: Estate, execution_id: str, text: str) -> None:
    record = journal.get_execution(estate.db, execution_id)
    finding = FindingAdded(finding_id="f1", text=text, severity=Severity.HIGH, at=estate.clock(), by="ana")
    journal.append_events(estate.db, record.execution_id, [event_to_json(finding)])


def rows_of(db, execution_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every row anywhere that names the execution: each table with an execution_id, the sync tables
    keyed by kind and key, and the executions table itself."""
    found: dict[str, int] = {}
    with db.reader() as conn:
        for table in execution_tables(conn):
            n = conn.execute(f"SELECT count(*) FROM {table} WHERE execution_id = ?", (execution_id,))
            found[table] = int(n.fetchone()[0])
        for table in ("sync_outbox", "sync_conflicts"):
            n = conn.execute(f"SELECT count(*) FROM {table} WHERE kind = 'EXEC' AND key = ?", (execution_id,))
            found[table] = int(n.fetchone()[0])
        n = conn.execute("SELECT count(*) FROM executions WHERE id = ?", (execution_id,))
        found["executions"] = int(n.fetchone()[0])
    return {table: n for table, n in found.items() if n}


def mentions(db, execution_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every table and column of the whole schema whose value holds the execution's ID anywhere (a
    foreign key, a JSON document, a key): the orphan check that does not trust any list of tables."""
    found: dict[str, int] = {}
    with db.reader() as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')]:
                n = conn.execute(
                    f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ?',
                    (f"%{execution_id}%",),
                ).fetchone()[0]
                if n:
                    found[f"{table}.{column}"] = int(n)
    return found


def test_the_list_names_what_goes_and_why_each_other_run_stays(estate: Estate) -> None:
    _add_finding(estate, estate.crm_recovery, "DNS moved late")
    plan = _service(estate).plan(30)
    assert [f.execution_id for f in plan.goes] == [estate.crm_cleaned]
    kept = {k.facts.execution_id: k.reasons for k in plan.kept}
    assert set(kept) == {estate.crm_recovery, estate.shop_left, estate.fax_waiting}
    assert kept[estate.fax_waiting] == ("not finished (it may still be driven or resumed)",)
    assert any("5 drill instance(s) still running" in r for r in kept[estate.shop_left])
    assert kept[estate.crm_recovery] == ("1 open finding(s): DNS moved late",)
    gone = plan.goes[0]
    assert (gone.plan_name, gone.mode, gone.ended) == ("CRM", "DRILL", "succeeded")

    # Within the retention, every finished run is kept for its age alone (no journal read for it).
    recent = _service(estate, days_later=1).plan(30)
    assert recent.goes == ()
    assert all(
        r[0].startswith("ended after") for r in (k.reasons for k in recent.kept if k.facts.finished_at)
    )
    # 0 days: the retention keeps everything.
    assert _service(estate).plan(0).goes == ()


def test_applying_deletes_the_run_its_rows_and_its_evidence_file_and_leaves_the_plan(
    estate: Estate, tmp_path: Path
) -> None:
    reports = estate.db.path.parent / "reports"
    reports.mkdir()
    mine = reports / f"evidence-{estate.crm_cleaned}.html"
    mine.write_text("<html>evidence</html>")
    other = reports / f"evidence-{estate.shop_left}.html"
    other.write_text("<html>kept</html>")
    with estate.db.transaction() as conn:  # a control queued once, answered: it hangs off the run
        conn.execute(
            "INSERT INTO control_inbox (execution_id, control, submitted_at, state, reason) "
            "VALUES (?, '{\"type\": \"PauseRequested\"}', '2026-01-01T00:00:00Z', 'refused', 'finished')",
            (estate.crm_cleaned,),
        )
    assert rows_of(estate.db, estate.crm_cleaned).keys() >= {
        "execution_events",
        "control_inbox",
        "executions",
    }
    service = _service(estate)
    plan = service.plan(30)
    assert plan.goes[0].evidence_files == (str(mine),)
    outcome = service.apply(plan)

    assert [d.execution_id for d in outcome.deleted] == [estate.crm_cleaned, estate.crm_recovery]
    assert outcome.files_removed == (str(mine),) and not mine.exists() and other.exists()
    assert rows_of(estate.db, estate.crm_cleaned) == {}
    assert rows_of(estate.db, estate.crm_recovery) == {}
    assert mentions(estate.db, estate.crm_cleaned) == {} and mentions(estate.db, estate.crm_recovery) == {}
    assert mentions(estate.db, estate.shop_left), "the check finds a run that is still there"
    assert outcome.tombstones == 0, "never synced: the team never had them, no tombstone"
    # The plan and its revisions stay; the revision both runs pinned is pinned by none now.
    assert load_plan(estate.db, "CRM").plan.name == "CRM"
    assert [d.revision_unpinned for d in outcome.deleted] == [False, True]
    assert {r.execution_id for r in journal.list_executions(estate.db)} == {
        estate.shop_left,
        estate.fax_waiting,
    }


def test_a_run_that_changed_since_the_list_is_kept_and_said(estate: Estate) -> None:
    service = _service(estate)
    plan = service.plan(30)
    assert {f.execution_id for f in plan.goes} == {estate.crm_cleaned, estate.crm_recovery}
    _add_finding(estate, estate.crm_recovery, "restore took 2 h")  # a teammate's finding arrives meanwhile
    outcome = service.apply(plan)
    assert [d.execution_id for d in outcome.deleted] == [estate.crm_cleaned]
    assert [k.facts.execution_id for k in outcome.kept] == [estate.crm_recovery]
    assert "open finding" in outcome.kept[0].reasons[0]
    assert journal.get_execution(estate.db, estate.crm_recovery).execution_id == estate.crm_recovery


def test_deleting_one_by_id_follows_the_same_rules(estate: Estate) -> None:
    service = _service(estate)
    for kept, why in (
        (estate.fax_waiting, "not finished"),
        (estate.shop_left, r"5 drill instance\(s\) still running"),
    ):
        with pytest.raises(RetentionRefused, match=why):
            service.delete(kept)
        assert journal.get_execution(estate.db, kept).execution_id == kept
    outcome = service.delete(estate.crm_recovery[:8])  # a unique prefix, as everywhere
    assert [d.execution_id for d in outcome.deleted] == [estate.crm_recovery]
    assert rows_of(estate.db, estate.crm_recovery) == {}


def test_the_setting_defaults_to_keep_everything_and_refuses_a_negative(estate: Estate) -> None:
    service = _service(estate)
    assert service.days() == 0
    assert service.plan().goes == ()
    assert service.set_days(30) == 30
    assert [f.execution_id for f in service.plan().goes] == [estate.crm_cleaned, estate.crm_recovery]
    with pytest.raises(SettingError, match="at least 0"):
        service.set_days(-1)


def test_a_run_another_process_drives_when_the_deletion_comes_is_kept_and_said(estate: Estate) -> None:
    from drs_desktop.services.driver_lock import DriverLock, lock_path

    service = _service(estate)
    plan = service.plan(30)
    lock = DriverLock(lock_path(estate.db.path, estate.crm_cleaned), execution_id=estate.crm_cleaned)
    assert lock.acquire()  # a cleanup or a resume took it after the list was shown
    try:
        outcome = service.apply(plan)
    finally:
        lock.release()
    assert [d.execution_id for d in outcome.deleted] == [estate.crm_recovery]
    assert [k.facts.execution_id for k in outcome.kept] == [estate.crm_cleaned]
    assert outcome.kept[0].reasons[0].startswith("being driven right now (pid ")
    assert "1 kept because they changed since the list" in outcome.describe()


def test_a_deleted_run_stays_in_its_schedule_s_history(estate: Estate) -> None:
    """A scheduled drill's run record (``schedule_runs``) is the schedule's history, not the run's
    evidence: deleting the execution must not make the schedule look as if it never ran (a monthly
    drill kept 30 days would then raise "missed the run due ..." for a run that took place)."""
    from drs_desktop.storage import schedules as schedule_store
    from tests.schedules.values import a_schedule

    record = journal.get_execution(estate.db, estate.crm_cleaned)
    assert record.finished_at is not None
    schedule = a_schedule(plan_id=record.plan_id, plan_name=record.plan_name, created_at=record.started_at)
    schedule_store.save_schedule(estate.db, schedule, (), schedule.created_at)
    schedule_store.start_run(estate.db, schedule.schedule_id, record.started_at)
    schedule_store.end_run(
        estate.db,
        schedule.schedule_id,
        record.started_at,
        ended_at=record.finished_at,
        outcome="succeeded",
        detail="",
        execution_id=record.execution_id,
        report_path="/srv/drill reports/drill.html",
    )
    service = _service(estate)
    outcome = service.apply(service.plan(30))
    assert estate.crm_cleaned in [d.execution_id for d in outcome.deleted]
    last = schedule_store.last_run(estate.db, schedule.schedule_id)
    assert last is not None and last.started_at == record.started_at and last.outcome == "succeeded"
    assert last.execution_id == estate.crm_cleaned and last.report_path == "/srv/drill reports/drill.html"
