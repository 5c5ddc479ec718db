"""The evidence of a run in DRS: the same report as a local run's, marked "Run in DRS" at the top (native
plan, execution, started here or attached, DRS's status), with the native steps as DRS last reported them, the
controls sent to DRS in the audit trail, and the drill's cleanup of the step jobs' instances.

Two real runs in DRS on the simulator (``native_drills``): one this desktop started (a failed step, bob's
retry, alice's cleanup), one started elsewhere and attached to (carol's skip of a failed step, dave's cancel
with termination). The PDF is laid out by the project's own PDF path and read back with QtPdf.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.native_events import NativeStarted
from drs_desktop.domain.views.report import ExecutionView, replay_trail
from drs_desktop.services.journal_replay import rebuild_journal
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.reports import CSV_COLUMNS, load_execution_view, render
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.report_pdf import write_pdf_report

from .conftest import Drill
from .native_drills import NativeDrills, NativeRun, run_native_drills
from .test_report_formats import StrictParser
from .test_report_pdf import pages_text, render_page


def z(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeDrills]:
    home: Path = tmp_path_factory.mktemp("native-reports")
    with EmbeddedSimulator("small", seed=7) as sim, Database.open(home / "drs-desktop.sqlite3") as db:
        yield run_native_drills(sim, home, db)


def view_of(drills: NativeDrills, run: NativeRun) -> ExecutionView:
    return load_execution_view(drills.db, run.execution_id)


def document(drills: NativeDrills, run: NativeRun) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render(view_of(drills, run), "json"))
    return parsed


def journal_started(drills: NativeDrills, run: NativeRun) -> NativeStarted:
    """The journal's own NativeStarted, read straight from the stored events."""
    record = execution_store.get_execution(drills.db, run.execution_id)
    events = rebuild_journal(drills.db, record, replay_trail).events
    (started,) = [e for e in events if isinstance(e, NativeStarted)]
    return started


def launch_jobs(doc: dict[str, Any], wave: str) -> list[str]:
    return [j["job_id"] for j in doc["jobs"] if j["kind"] == "LAUNCH" and j["wave"] == wave]


def test_the_json_marks_a_run_in_drs_at_the_top(drills: NativeDrills) -> None:
    for run, how in ((drills.started, "started"), (drills.attached, "attached")):
        doc = document(drills, run)
        assert doc["execution"]["run_in"] == "DRS"
        native = doc["native"]
        assert native["run_in"] == "DRS"
        assert native["plan"] == {"name": "Shop", "arn": drills.plan_arn}
        assert native["execution_arn"] == run.execution_arn
        started = journal_started(drills, run)
        assert started.attached is (how == "attached") and native["how"] == how
        assert native["how_at"] == z(started.at)
        assert run.state.native is not None and native["status"] == run.state.native.status
        assert native["status_final"] is True
        assert native["account_id"] == "123456789012" and native["region"] == drills.sim.region
        assert native["pending_controls"] == []
    assert document(drills, drills.started)["native"]["status"] == "COMPLETED"
    assert document(drills, drills.started)["native"]["how_text"] == "started by this desktop"
    attached = document(drills, drills.attached)
    assert attached["native"]["status"] == "CANCELLED" and attached["execution"]["outcome"] == "CANCELLED"
    assert attached["native"]["how_text"] == "started elsewhere; this desktop attached to it"


def test_a_local_run_is_not_marked(drill: Drill) -> None:
    doc = json.loads(render(load_execution_view(drill.db, drill.execution_id), "json"))
    assert doc["execution"]["run_in"] == "desktop" and doc["native"] is None
    page = render(load_execution_view(drill.db, drill.execution_id), "html")
    assert "Run in DRS" not in page and "Steps in DRS" not in page


def test_the_steps_are_those_drs_reported_with_the_jobs_of_each_server_step(drills: NativeDrills) -> None:
    doc = document(drills, drills.started)
    steps = doc["native"]["steps"]
    assert [(s["index"], s["name"], s["kind"], s["status"]) for s in steps] == [
        (1, "Database", "SERVER", "COMPLETED"),
        (2, "Wait after Database", "WAIT", "COMPLETED"),
        (3, "App", "SERVER", "COMPLETED"),
        (4, "Web", "SERVER", "COMPLETED"),
    ]
    wait = steps[1]
    assert (wait["wave"], wait["phase"], wait["wait_minutes"], wait["job_ids"]) == (
        "Database",
        "AFTER",
        5,
        [],
    )
    app = steps[2]
    # The App step's jobs: the first (shop-app-02 failed in it) and the retry's, as the jobs table has them.
    assert app["job_ids"] == launch_jobs(doc, "App") and len(app["job_ids"]) == 2
    by_server = {s["hostname"]: s for s in app["servers"]}
    assert by_server["shop-app-02"]["job_id"] == app["job_ids"][1]  # DRS names the retry's job now
    assert by_server["shop-app-01"]["job_id"] == app["job_ids"][0]
    web = {s["hostname"]: s["impact"] for s in steps[3]["servers"]}
    assert web == {"shop-web-01": "CRITICAL", "shop-web-02": "OPTIONAL"}
    launched = {r.job_id for r in drills.sim.backend.launch_records()}
    assert {j for s in steps for j in s["job_ids"]} <= launched

    skipped = document(drills, drills.attached)["native"]["steps"][0]
    assert (skipped["name"], skipped["status"]) == ("Database", "SKIPPED")
    assert skipped["error_code"] == "CriticalServerLaunchFailed"  # DRS's error of the failed try
    assert drills.server("shop-db-01") in skipped["error"]


def test_a_retry_in_drs_keeps_the_failed_try_and_says_who_asked(drills: NativeDrills) -> None:
    doc = document(drills, drills.started)
    (app_02,) = [s for s in doc["servers"] if s["hostname"] == "shop-app-02"]
    first, second = app_02["attempts"]
    assert (first["status"], first["failed_stage"], first["final"]) == ("FAILED", "conversion", False)
    assert (second["status"], second["final"]) == ("LAUNCHED", True)
    assert [first["job_id"], second["job_id"]] == launch_jobs(doc, "App")
    (retry,) = doc["retries"]
    retried = z(drills.started.marks["retried"])
    assert (retry["wave"], retry["by"], retry["at"]) == ("App", "bob", retried)
    assert retry["server_ids"] == [drills.server("shop-app-02")]
    assert retry["relaunched_at"] is not None and retry["relaunched_at"] >= retried
    actions = [(a["action"], a["by"], a["step"]) for a in doc["operator_actions"]]
    assert ("retry", "bob", None) in actions
    assert ("retry sent", "", {"index": 3, "name": "App"}) in actions
    assert actions[0][0] == "run in DRS"
    assert doc["operator_actions"][0]["detail"] == f"started {drills.started.execution_arn}"


def test_skip_and_cancel_sent_to_drs_are_in_the_audit_trail(drills: NativeDrills) -> None:
    doc = document(drills, drills.attached)
    (skip,) = doc["skips"]
    assert (skip["wave"], skip["by"], skip["reason"]) == ("Database", "carol", "DB restored by hand")
    assert skip["at"] == z(drills.attached.marks["skipped"]) and skip["in_drs"] == "skipped"
    actions = [(a["action"], a["by"], a["step"]) for a in doc["operator_actions"]]
    assert actions == [
        ("run in DRS", "", None),
        ("skip", "carol", None),
        ("skip sent", "", {"index": 1, "name": "Database"}),
        ("cancel", "dave", None),
        ("cancel sent", "", None),
    ]
    assert doc["operator_actions"][0]["detail"] == f"attached to {drills.attached.execution_arn}"
    page = render(view_of(drills, drills.attached), "html")
    actions_part = page.partition(">Operator actions</h2>")[2].partition("</table>")[0]
    assert "skip sent" in actions_part and "step 1 (&#x27;Database&#x27; in DRS)" in actions_part
    retries_part = page.partition(">Retries and skips</h2>")[2].partition("</table>")[0]
    assert "DB restored by hand" in retries_part and "in DRS: skipped" in retries_part


def test_the_cleanup_of_a_run_in_drs_is_a_local_drills(drills: NativeDrills) -> None:
    plain_terminate = {r.job_id for r in drills.sim.backend.launch_records()}
    for run, how, by in (
        (drills.started, "cleanup", "alice"),
        (drills.attached, "cancel and terminate", "dave"),
    ):
        doc = document(drills, run)
        cleanup = doc["cleanup"]
        assert cleanup["applies"] is True and cleanup["complete"] is True and cleanup["still_running"] == []
        (request,) = cleanup["requested"]
        assert (request["how"], request["by"]) == (how, by)
        launched = {s["recovery_instance_id"] for s in doc["servers"] if s["status"] == "LAUNCHED"}
        assert launched and {i["recovery_instance_id"] for i in cleanup["instances"]} == launched
        steps = {job: s["index"] for s in doc["native"]["steps"] for job in s["job_ids"]}
        (terminate_job,) = cleanup["terminate_job_ids"]
        assert terminate_job not in plain_terminate  # a TERMINATE job, not a launch
        for instance in cleanup["instances"]:
            assert instance["native_step"] == steps[instance["launched_by_job"]]
            assert instance["terminate_job_id"] == terminate_job and instance["terminated_at"] is not None
            assert instance["terminated_at"] >= request["at"]
        terminate = [j for j in doc["jobs"] if j["kind"] == "TERMINATE"]
        assert [(j["job_id"], j["status"]) for j in terminate] == [(terminate_job, "COMPLETED")]
    # The attached run launched only the App step (Database failed and was skipped, Web never ran).
    attached = document(drills, drills.attached)["cleanup"]["instances"]
    assert {i["native_step"] for i in attached} == {3} and len(attached) == 2


def test_the_html_carries_the_mark_the_steps_and_the_cleanup(drills: NativeDrills) -> None:
    run = drills.started
    page = render(view_of(drills, run), "html")
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert not parser.problems and not parser.stack
    head, _, rest = page.partition("<h2>")
    assert "Run in DRS" in head and "(run in DRS)" in head.partition("</h1>")[0]
    assert drills.plan_arn in head and run.execution_arn in head
    assert "started by this desktop" in head and "<b>COMPLETED</b> (final" in head
    steps = rest.partition("Steps in DRS, as DRS last reported them</h2>")[2].partition("</table>")[0]
    assert steps, "the steps section"
    for name in ("Database", "Wait after Database", "App", "Web"):
        assert f"<td>{name}</td>" in steps
    doc = document(drills, run)
    for job in launch_jobs(doc, "App"):
        assert job in steps
    cleanup = page.partition(">Cleanup proof</h2>")[2].partition("</section>")[0]
    assert "no drill instance left running" in cleanup
    for instance in doc["cleanup"]["instances"]:
        assert instance["recovery_instance_id"] in cleanup
        assert f"{instance['launched_by_job']}</span> (step {instance['native_step']})" in cleanup
    assert doc["cleanup"]["terminate_job_ids"][0] in cleanup
    attached = render(view_of(drills, drills.attached), "html").partition("<h2>")[0]
    assert "started elsewhere; this desktop attached to it" in attached and "<b>CANCELLED</b>" in attached


def test_the_csv_says_where_each_attempt_ran(drills: NativeDrills) -> None:
    rows = csv_sections(render(view_of(drills, drills.started), "csv"))["attempts"].rows  # the audit follows
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {r["run_in"] for r in rows} == {"DRS"}
    app_02 = [r for r in rows if r["server_id"] == drills.server("shop-app-02")]
    assert [(r["attempt"], r["native_step"]) for r in app_02] == [("1", "3"), ("2", "3")]
    assert {r["native_step"] for r in rows if r["wave"] == "Web"} == {"4"}


def test_the_pdf_says_run_in_drs_on_its_first_page(
    drills: NativeDrills, tmp_path: Path, qtbot: QtBot
) -> None:
    """Laid out on the test's thread with the QApplication ``qtbot`` makes (the GUI lays it out off its
    thread: ``test_report_pdf``)."""
    run = drills.started
    target = write_pdf_report(pdf_report(view_of(drills, run)), tmp_path / "native.pdf")
    texts, sizes, document_ = pages_text(target)
    first = texts[0]
    assert "Run in DRS" in first and "started by this desktop" in first and "COMPLETED" in first
    assert run.execution_arn in first.replace("\n", "").replace(" ", "")
    steps_page = next(text for text in texts if "Steps in DRS" in text)
    assert "Wait after Database" in steps_page and "SERVER" in steps_page and "WAIT" in steps_page
    assert any("Cleanup proof" in text and "no drill instance left running" in text for text in texts)
    assert all(w > h for w, h in sizes)
    # Kept for a person to look at (run with ``--basetemp`` to find them): page 1 and the steps page.
    assert render_page(document_, 0).save(str(tmp_path / "native-page-1.png"))
    steps_index = texts.index(steps_page)
    assert render_page(document_, steps_index).save(str(tmp_path / f"native-page-{steps_index + 1}.png"))
