"""The three forms of the report: CSV rows per attempt, a self-contained HTML page, atomic files, and no
secret anywhere."""

from __future__ import annotations

import json
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drs_desktop.domain.views.report import ExecutionView
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.reports import (
    CSV_COLUMNS,
    FORMATS,
    ReportError,
    load_execution_view,
    render,
    render_csv,
    render_html,
    render_json,
    write_report,
)

from .conftest import SECRETS, Drill

GENERATED = datetime.fromisoformat("2026-02-01T12:00:00+00:00")
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}


@pytest.fixture(scope="module")
def view(drill: Drill) -> ExecutionView:
    return load_execution_view(drill.db, drill.execution_id)


class StrictParser(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element, and on unclosed ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def test_csv_has_one_row_per_server_attempt(drill: Drill, view: ExecutionView) -> None:
    rows = csv_sections(render_csv(view, generated_at=GENERATED))["attempts"].rows  # the audit follows
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 7  # six servers, one of them tried twice
    assert {r["execution_id"] for r in rows} == {drill.execution_id}
    app_02 = [r for r in rows if r["hostname"] == "shop-app-02"]
    assert [(r["attempt"], r["final_attempt"], r["outcome"]) for r in app_02] == [
        ("1", "no", "FAILED"),
        ("2", "yes", "LAUNCHED"),
    ]
    assert app_02[0]["failed_stage"] == "conversion" and app_02[0]["conversion_ended_at"]
    assert {r["retries"] for r in app_02} == {"1"}
    launched_jobs = sorted(r.job_id for r in drill.launches)
    assert sorted(r["job_id"] for r in rows if r["job_id"]) == launched_jobs
    db_01 = next(r for r in rows if r["hostname"] == "shop-db-01")
    assert db_01["impact"] == "critical" and db_01["wave"] == "Database" and db_01["wave_index"] == "1"
    for column in ("queued_at", "job_started_at", "snapshot_started_at", "conversion_started_at",
                   "launch_started_at", "launched_at", "terminated_at", "terminate_job_id"):  # fmt: skip
        assert db_01[column], column
    web_02 = next(r for r in rows if r["hostname"] == "shop-web-02")
    assert (web_02["impact"], web_02["outcome"], web_02["failed_stage"]) == ("optional", "FAILED", "launch")
    assert web_02["failed_at"] and not web_02["launched_at"]
    crm = next(r for r in rows if r["hostname"] == "crm-web-01")
    assert (crm["outcome"], crm["job_id"]) == ("SKIPPED", "")
    # A wave name starting with "=" must not become a spreadsheet formula.
    assert crm["wave"] == "'=CRM"


def test_html_is_well_formed_and_says_what_happened(drill: Drill, view: ExecutionView) -> None:
    page = render_html(view, generated_at=GENERATED)
    parser = parse(page)
    text = " ".join(parser.text)
    assert page.startswith("<!DOCTYPE html>")
    for fact in ("SUCCEEDED", "alice", "bob", "carol", "CRM is out of scope", "DB checked?", "shop-app-02"):
        assert fact in text, fact
    for record in drill.launches:
        assert record.job_id in text
    (terminate,) = [j.job_id for j in drill.drs_jobs if j.type == "TERMINATE"]
    assert terminate in text
    assert "content hash verified" in text and "met" in text
    assert "2026-02-01 12:00:00Z" in text and "0.1.0" in text  # generated-at stamp and app version
    # Markup in operator-supplied text is escaped, not interpreted.
    assert 'Shop <&> "quoted"' in text and "DB verified <ok>" in text
    assert "<ok>" not in page and "Shop <&>" not in page


def test_html_is_self_contained_and_printable(view: ExecutionView) -> None:
    page = render_html(view, generated_at=GENERATED)
    parser = parse(page)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    attributes = {name for _, attrs in parser.tags for name in attrs}
    assert attributes <= {"class", "lang", "charset"}  # no src, href, srcset, style, on...
    lowered = page.lower()
    assert "@import" not in lowered and "url(" not in lowered
    assert "<style>" in page and "@media print" in page


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_reaches_a_report(drill: Drill, view: ExecutionView, fmt: str) -> None:
    text = render(view, fmt, generated_at=GENERATED)
    for secret in SECRETS:
        assert secret not in text
    assert "aws_secret_access_key" not in text  # the option key a careless caller added is dropped
    assert drill.execution_id in text
    if fmt != "csv":  # the CSV's rows are attempts; the account is in the other two
        assert drill.sim.account_id in text  # the account is evidence, not a secret


def test_every_string_is_scrubbed_of_access_keys(view: ExecutionView) -> None:
    leaky = ExecutionView(
        record=view.record,
        state=view.state,
        evidence=view.evidence,
        plan=type(view.plan)(
            view.plan.revision,
            {"note": "AKIAABCDEFGHIJKLMNOP and aws_secret_access_key=abc/DEF+ghi"},
            True,
        ),
        earlier_attempts=view.earlier_attempts,
        controls=view.controls,
        retries=view.retries,
    )
    for fmt in FORMATS:
        text = render(leaky, fmt, generated_at=GENERATED)
        assert "AKIAABCDEFGHIJKLMNOP" not in text and "abc/DEF+ghi" not in text
    document = json.loads(render_json(leaky, generated_at=GENERATED))
    assert document["plan"]["document"]["note"] == "[redacted] and aws_secret_access_key=[redacted]"


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_report_replaces_the_file_atomically(view: ExecutionView, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"evidence.{fmt}"
    target.write_text("an older report", encoding="utf-8")
    written = write_report(view, fmt, target, generated_at=GENERATED)
    assert written == target
    expected = render(view, fmt, generated_at=GENERATED)
    assert target.read_bytes().decode("utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary file left


def test_write_report_refuses_an_unknown_format_and_a_missing_folder(
    view: ExecutionView, tmp_path: Path
) -> None:
    with pytest.raises(ReportError, match="unknown report format"):
        write_report(view, "pdf", tmp_path / "evidence.pdf")
    with pytest.raises(ReportError, match="cannot write"):
        write_report(view, "json", tmp_path / "missing" / "evidence.json")
    assert list(tmp_path.iterdir()) == []
