"""The audit record in every form of the evidence report: a real drill on the simulator whose journal then
holds a test record, recovery points, two findings (one resolved later), a self-signed and then an
independent sign-off. JSON, CSV, HTML, PDF, and the history's ``render_report`` all show them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtPdf import QPdfDocument
from pytestqt.qtbot import QtBot

from drs_desktop.domain.engine.annotation_events import (
    FindingAdded,
    FindingStatus,
    FindingUpdated,
    RecoveryPoint,
    RecoveryPointsRecorded,
    ReviewSignedOff,
    Severity,
    TestRecorded,
    TestType,
)
from drs_desktop.domain.views.cadence import GOOD_DRILL_RULE
from drs_desktop.domain.views.evidence_audit import RPO_DEFINITION, SELF_SIGNED
from drs_desktop.services import history
from drs_desktop.services.report_audit import AUDIT_CSV_SECTIONS, csv_sections
from drs_desktop.services.report_pdf import pdf_report
from drs_desktop.services.reports import (
    CSV_COLUMNS,
    load_execution_view,
    render_csv,
    render_html,
    render_json,
)
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.ui.executions.report_pdf import write_pdf_report

from .audit_drills import AuditDrill, annotate, run_drill
from .test_report_formats import parse

GENERATED = datetime.fromisoformat("2026-02-01T12:00:00+00:00")
AUDITOR = "arn:aws:sts::{}:assumed-role/Auditor/dana"


@dataclass(frozen=True)
class Audited:
    drill: AuditDrill
    csv_before: str  # the CSV of the run before any annotation


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    home: Path = tmp_path_factory.mktemp("audit")
    with EmbeddedSimulator("small", seed=11) as sim, Database.open(home / "drs-desktop.sqlite3") as db:
        drill = run_drill(sim, db, "Shop audit")
        before = render_csv(load_execution_view(db, drill.execution_id), generated_at=GENERATED)
        t0, end = drill.started_at, drill.state.finished_at
        assert end is not None
        db_id, app_id, web_id = (drill.server(h) for h in ("shop-db-01", "shop-app-01", "shop-web-01"))
        annotate(
            db,
            drill.execution_id,
            [
                TestRecorded(
                    test_type=TestType.DRILL,
                    scenario="Region eu-west-1 lost\nfor four hours",
                    objectives=("Restore the shop within 2 h", "Lose at most 15 min of orders"),
                    success_criteria=("Checkout works end to end",),
                    participants=("alice (operator)", "ben (DBA)"),
                    at=t0,
                    by="alice",
                ),
                RecoveryPointsRecorded(
                    points=(
                        # Taken as the run launched, 30 s after its start, 40 s behind its source.
                        RecoveryPoint(server_id=db_id, data_at=t0 + timedelta(seconds=30), lag_seconds=40),
                        RecoveryPoint(server_id=app_id, data_at=t0 - timedelta(minutes=20), lag_seconds=0),
                        RecoveryPoint(server_id=web_id, data_at=None),  # DRS did not say
                    ),
                    at=end,
                ),
                FindingAdded(
                    finding_id="F-1", text="DNS cut-over took 12 minutes", severity=Severity.HIGH,
                    owner="ben", due="2027-01-15", at=end + timedelta(hours=1), by="alice",
                ),
                FindingAdded(
                    finding_id="F-2", text="Runbook step 4 is stale", severity=Severity.LOW, owner="carol",
                    at=end + timedelta(hours=1, minutes=5), by="alice",
                ),
                FindingUpdated(
                    finding_id="F-1", text="DNS cut-over took 12 minutes", severity=Severity.MEDIUM,
                    owner="ben", due="2027-01-15", status=FindingStatus.RESOLVED,
                    comment="TTL lowered to 60 s", at=end + timedelta(days=2), by="ben",
                ),
                ReviewSignedOff(
                    arn=drill.run_arn, account=drill.account, user_id="AIDAOPERATOR", profile="default",
                    review="Looks fine to me", self_signed=True, at=end + timedelta(days=1), by="alice",
                ),
                ReviewSignedOff(
                    arn=AUDITOR.format(drill.account), account=drill.account, user_id="AROAAUDITOR:dana",
                    profile="audit-sso", review="Evidence complete.\nF-2 stays open until February.",
                    at=end + timedelta(days=3), by="dana",
                ),
            ],
        )  # fmt: skip
        yield Audited(drill, before)


def document(audited: Audited) -> dict:
    view = load_execution_view(audited.drill.db, audited.drill.execution_id)
    return dict(json.loads(render_json(view, generated_at=GENERATED))["audit"])


def test_the_json_carries_the_test_and_the_rpo_per_launched_server(audited: Audited) -> None:
    drill = audited.drill
    audit = document(audited)
    due = audit["test"].pop("next_test_due")
    # the plan has no cadence: said, as of the report's time, with the rule every report prints
    assert (due["state"], due["text"], due["due_on"]) == ("no cadence set", "no cadence set", None)
    assert due["as_of"] == "2026-02-01T12:00:00Z" and due["last_good_drill"] == drill.execution_id
    assert due["rule"] == GOOD_DRILL_RULE
    assert audit["test"] == {
        "recorded": True,
        "type": "drill",
        "text": "drill",
        "scenario": "Region eu-west-1 lost\nfor four hours",
        "objectives": ["Restore the shop within 2 h", "Lose at most 15 min of orders"],
        "success_criteria": ["Checkout works end to end"],
        "participants": ["alice (operator)", "ben (DBA)"],
        "recorded_at": drill.started_at.isoformat().replace("+00:00", "Z"),
        "recorded_by": "alice",
    }
    rpo = audit["rpo"]
    assert rpo["reference"] == "run start" and rpo["definition"] == RPO_DEFINITION
    assert rpo["target_seconds"] == 15 * 60 and rpo["target_source"] == "plan revision 1 (rpo_minutes)"
    rows = {r["server_id"]: r for r in rpo["servers"]}
    assert list(rows) == [drill.server(h) for h in ("shop-db-01", "shop-app-01", "shop-web-01")]
    db_row, app_row, web_row = rows.values()
    assert (db_row["achieved_seconds"], db_row["result"]) == (10, "met")  # 30 s after start, 40 s lag
    assert (app_row["achieved_seconds"], app_row["result"]) == (20 * 60, "not met")
    assert (web_row["achieved_seconds"], web_row["result"]) == (None, "unknown")
    assert web_row["unknown_because"] == "DRS did not say when the recovered data is from"
    assert db_row["hostname"] == "shop-db-01" and db_row["replication_lag_seconds"] == 40
    summary = rpo["summary"]
    assert (summary["result"], summary["met"], summary["not_met"], summary["unknown"]) == ("not met", 1, 1, 1)
    assert summary["worst_server_id"] == drill.server("shop-app-01")
    assert summary["worst_achieved_seconds"] == 1200
    assert (
        summary["text"].startswith("worst achieved 20 min")
        and "against a target of 15 min" in summary["text"]
    )


def test_the_json_lists_open_findings_first_with_what_each_change_changed(audited: Audited) -> None:
    audit = document(audited)
    assert [(f["id"], f["status"], f["open"]) for f in audit["findings"]] == [
        ("F-2", "open", True),
        ("F-1", "resolved", False),
    ]
    f1 = audit["findings"][1]
    assert (f1["severity"], f1["owner"], f1["due"]) == ("medium", "ben", "2027-01-15")
    assert [(h["what"], h["by"], h["status"]) for h in f1["history"]] == [
        ("added", "alice", "open"),
        ("updated", "ben", "resolved"),
    ]
    assert f1["history"][1]["changes"] == [
        {"field": "severity", "from": "high", "to": "medium"},
        {"field": "status", "from": "open", "to": "resolved"},
    ]
    assert f1["history"][1]["comment"] == "TTL lowered to 60 s"
    assert audit["findings_summary"] == {"total": 2, "open": 1, "text": "2 finding(s), 1 open"}


def test_the_json_keeps_the_independent_sign_off_and_the_superseded_self_signed_one(audited: Audited) -> None:
    drill = audited.drill
    review = document(audited)["review"]
    assert (review["state"], review["independent"], review["self_signed"]) == ("accepted", True, False)
    current = review["current"]
    assert current["arn"] == AUDITOR.format(drill.account) and current["profile"] == "audit-sso"
    assert current["review"] == "Evidence complete.\nF-2 stays open until February."
    assert current["superseded"] is False and current["self_signed"] is False
    [earlier] = review["superseded"]
    assert (
        earlier["arn"] == drill.run_arn and earlier["self_signed"] is True and earlier["note"] == SELF_SIGNED
    )


def test_the_csv_keeps_its_attempt_rows_and_adds_the_audit_sections(audited: Audited) -> None:
    drill = audited.drill
    after = render_csv(load_execution_view(drill.db, drill.execution_id), generated_at=GENERATED)
    attempts_before = audited.csv_before.split("\r\n\r\n# test,")[0]
    assert after.startswith(attempts_before + "\r\n\r\n# test,")  # byte-identical attempt rows
    assert attempts_before.split("\r\n")[0] == ",".join(CSV_COLUMNS)
    sections = csv_sections(after)
    assert list(sections) == ["attempts", *AUDIT_CSV_SECTIONS]
    assert len(sections["attempts"].rows) == 3
    [test] = sections["test"].rows
    assert (test["recorded"], test["test_type"], test["participants"]) == (
        "yes",
        "drill",
        "alice (operator)\nben (DBA)",
    )
    results = {r["server_id"]: (r["achieved_seconds"], r["result"]) for r in sections["rpo"].rows}
    assert results == {
        drill.server("shop-db-01"): ("10", "met"),
        drill.server("shop-app-01"): ("1200", "not met"),
        drill.server("shop-web-01"): ("", "unknown"),
    }
    [summary] = sections["rpo_summary"].rows
    assert (summary["result"], summary["worst_achieved_seconds"], summary["target_seconds"]) == (
        "not met",
        "1200",
        "900",
    )
    assert [(f["finding_id"], f["status"]) for f in sections["findings"].rows] == [
        ("F-2", "open"),
        ("F-1", "resolved"),
    ]
    history_rows = sections["finding_history"].rows
    assert [(h["finding_id"], h["what"]) for h in history_rows] == [
        ("F-2", "added"),
        ("F-1", "added"),
        ("F-1", "updated"),
    ]
    assert history_rows[2]["changes"] == "severity: high -> medium; status: open -> resolved"
    signs = sections["sign_offs"].rows
    assert [(s["state"], s["self_signed"], s["by"]) for s in signs] == [
        ("superseded", SELF_SIGNED, "alice"),
        ("current", "no", "dana"),
    ]
    assert sections["findings"].note == "" and sections["sign_offs"].note == ""


def test_the_html_shows_every_section(audited: Audited) -> None:
    drill = audited.drill
    page = render_html(load_execution_view(drill.db, drill.execution_id), generated_at=GENERATED)
    text = " ".join(parse(page).text)
    for heading in (
        "The test",
        "RPO achieved",
        "Findings",
        "Review and sign-off",
        "Earlier sign-offs (superseded)",
    ):
        assert heading in text
    assert "Region eu-west-1 lost" in text and "Checkout works end to end" in text
    assert "Region eu-west-1 lost<br>for four hours" in page  # its line break kept, after escaping
    assert "worst achieved 20 min" in text and "not met" in text
    assert text.index("Runbook step 4 is stale") < text.index("DNS cut-over took 12 minutes")  # open first
    assert "severity high -> medium; status open -> resolved; comment: TTL lowered to 60 s" in text
    assert AUDITOR.format(drill.account) in text and "independent: not the run's identity" in text
    assert "self-signed" in text  # the superseded one
    assert 'class="selfsigned"' not in page  # the current sign-off is independent: no red box
    summary = page[: page.index("</dl>")]
    assert "Sign-off" in summary and "signed by an identity other than the run" in summary


def test_the_history_renders_the_same_report(audited: Audited) -> None:
    drill = audited.drill
    rendered = history.render_report(drill.db, drill.execution_id, "json", generated_at=GENERATED)
    assert json.loads(rendered)["audit"] == document(audited)
    assert "# findings" in history.render_report(drill.db, drill.execution_id, "csv", generated_at=GENERATED)


def test_the_pdf_has_the_audit_on_its_summary_and_in_its_sections(
    audited: Audited, tmp_path: Path, qtbot: QtBot
) -> None:
    drill = audited.drill
    path = write_pdf_report(
        pdf_report(load_execution_view(drill.db, drill.execution_id), generated_at=GENERATED),
        tmp_path / "a.pdf",
    )
    pdf = QPdfDocument()
    assert pdf.load(str(path)) == QPdfDocument.Error.None_
    pages = [pdf.getAllText(n).text() for n in range(pdf.pageCount())]
    first = pages[0]
    assert "What failed and why" in first and "Sign-off" in first and "worst achieved 20 min" in first
    assert "drill: Region eu-west-1 lost" in first
    rest = "\n".join(pages[1:])
    for heading in ("The test", "RPO achieved", "Findings", "Review and sign-off"):
        assert heading in rest
    assert "TTL lowered to 60 s" in rest and "Runbook step 4 is stale" in rest
    assert "superseded" in rest and "self-signed" in rest
