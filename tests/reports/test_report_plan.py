"""The report shows the plan revision the execution pinned, whatever happened to the plan since, and
says so when the stored document no longer matches its hash. Also: a run that has not finished yet,
and journals that cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from drs_desktop.domain.engine.journal_integrity import JournalUnreadableError
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import Mode, spec_from_plan, spec_to_json
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.reports import (
    load_execution_view,
    render_csv,
    render_html,
    render_json,
)
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.executions import ExecutionNotFoundError
from drs_desktop.storage.plans import delete_plan, rename_plan, save_plan

from .test_report_formats import parse

T0 = datetime.fromisoformat("2026-03-01T10:00:00+00:00")
SERVERS = ("s-0000000000000000a", "s-0000000000000000b")
PLAN = RecoveryPlan(
    name="Payroll",
    rto_minutes=30,
    waves=(Wave(name="All", servers=SERVERS, before=(ApprovalStep(message="Go?"),)),),
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs-desktop.sqlite3") as database:
        yield database


def new_execution(db: Database, plan: RecoveryPlan = PLAN) -> str:
    """An execution just created (nothing journaled yet) of the plan's latest revision."""
    revision = save_plan(db, plan, author="pat")
    spec = spec_from_plan(
        plan, {"All": SERVERS}, execution_id="e-0001-payroll", mode=Mode.RECOVERY, started_at=T0
    )
    journal.create_execution(
        db,
        ExecutionRecord(
            execution_id=spec.execution_id,
            plan_id=revision.plan_id,
            plan_revision_id=revision.revision_id,
            plan_name=revision.name,
            plan_revision=revision.revision,
            mode="RECOVERY",
            status="RUNNING",
            started_at=T0,
            spec=spec_to_json(spec),
            identity={"account": "210987654321", "arn": "arn:aws:sts::210987654321:assumed-role/Dr/pat"},
        ),
    )
    return spec.execution_id


def test_the_pinned_revision_survives_edits_renames_and_deletion(db: Database) -> None:
    execution_id = new_execution(db)
    edited = RecoveryPlan(name="Payroll", rto_minutes=60, waves=PLAN.waves)
    save_plan(db, edited)  # revision 2
    rename_plan(db, "Payroll", "Payroll (old)")
    delete_plan(db, "Payroll (old)")
    save_plan(db, RecoveryPlan(name="Payroll", waves=()))  # another plan takes the name
    view = load_execution_view(db, execution_id)
    assert view.plan.revision is not None and view.plan.revision.revision == 1
    assert view.plan.document == plan_to_document(PLAN)
    assert view.plan.hash_verified and view.plan.problem == ""
    plan = json.loads(render_json(view))["plan"]
    assert (plan["name"], plan["current_name"], plan["revision"]) == ("Payroll", "Payroll (old)", 1)
    assert plan["document"]["rto_minutes"] == 30


def test_a_tampered_document_is_reported_unverified(db: Database) -> None:
    execution_id = new_execution(db)
    record = journal.get_execution(db, execution_id)
    with db.transaction() as conn:
        conn.execute(
            "UPDATE plan_revisions SET document = replace(document, '\"rto_minutes\":30', "
            "'\"rto_minutes\":5') WHERE id = ?",
            (record.plan_revision_id,),
        )
    view = load_execution_view(db, execution_id)
    assert view.plan.hash_verified is False
    assert "does not match" in view.plan.problem
    page = render_html(view)
    assert "not verified" in page and "does not match its recorded content hash" in page


def test_an_unfinished_execution_renders_with_what_is_known(db: Database) -> None:
    execution_id = new_execution(db)
    view = load_execution_view(db, execution_id)
    report = json.loads(render_json(view))
    assert report["execution"]["outcome"] is None and report["execution"]["status"] == "WAITING_APPROVAL"
    assert report["rto"] == {
        "target_seconds": 1800,
        "achieved_seconds": None,
        "met": None,
        "measured_from": "2026-03-01T10:00:00Z",
        "measured_to": None,
        "last_critical_server": None,
    }
    assert report["identity"]["user_id"] == ""  # absent, not invented
    assert report["cleanup"]["applies"] is False  # a recovery's instances are never terminated
    assert report["approvals"] == [] and report["jobs"] == []
    assert len(csv_sections(render_csv(view))["attempts"].rows) == len(SERVERS)
    page = render_html(view)
    parse(page)
    assert "not achieved" in page and "No approval was asked for." in page


def test_unknown_execution_and_unreadable_journal(db: Database) -> None:
    with pytest.raises(ExecutionNotFoundError):
        load_execution_view(db, "no-such-execution")
    execution_id = new_execution(db)
    journal.append_events(db, execution_id, [{"type": "NoSuchEvent", "at": "2026-03-01T10:01:00+00:00"}])
    with pytest.raises(JournalUnreadableError) as caught:
        load_execution_view(db, execution_id)
    assert str(caught.value) == (
        f"execution {execution_id}: journal entry 1 has event type 'NoSuchEvent' that this version does "
        "not know: written by a newer DRS Desktop, or damaged"
    )
