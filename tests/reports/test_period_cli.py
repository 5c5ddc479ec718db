"""``drs-desktop report --period``: the roll-up from the command line, end to end over real drills
(tests/reports/period_estate.py): CSV and HTML in process, the PDF in a child process with no display
(landscape pages, the auditor's summary on page 1, read back with QtPdf), and bad input as one line."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtPdf import QPdfDocument

from drs_desktop.cli import main
from drs_desktop.storage.db import Database
from tests.reports.period_estate import Estate, build_estate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Estate]]:
    folder: Path = tmp_path_factory.mktemp("period-cli")
    with Database.open(folder / "drs-desktop.sqlite3") as db:
        estate = build_estate(db)
    yield folder, estate


def test_csv_and_html_from_the_command_line(
    home: tuple[Path, Estate], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, ids = home
    target = tmp_path / "h1.csv"
    code = main(["report", "--period", "2026-01-01..2026-06-30", "--format", "csv", "--out", str(target),
                 "--home", str(folder)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {target}" in err
    assert "3 plans in scope: 1 tested in the period, 2 not tested (Bravo, Charlie)." in err
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["execution_id"] for r in rows if r["record"] == "run"] == [ids.alpha_passed, ids.alpha_failed]

    only = tmp_path / "bravo.html"
    code = main(["report", "--period", "2026-01-01..2026-06-30", "--plan", "Bravo", "--format", "html",
                 "--out", str(only), "--home", str(folder)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    page = only.read_text(encoding="utf-8")
    assert "1 plan in scope: 0 tested in the period, 1 not tested (Bravo)." in page
    assert ids.alpha_passed not in page and "CRM runbook &lt;outdated&gt;" in page


def test_the_zone_moves_the_days(
    home: tuple[Path, Estate], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bravo's drill started 2025-11-03 09:00 UTC: 18:00 that day in Tokyo, so a one-day period of
    2025-11-03 holds it in either zone, and 2025-11-04 in Tokyo does not."""
    folder, ids = home
    target = tmp_path / "tokyo.csv"
    args = ["report", "--format", "csv", "--out", str(target), "--home", str(folder), "--zone", "Asia/Tokyo"]
    assert main([*args, "--period", "2025-11-03..2025-11-03"]) == 0
    with target.open(encoding="utf-8", newline="") as stream:
        assert [r["execution_id"] for r in csv.DictReader(stream) if r["record"] == "run"] == [
            ids.bravo_before
        ]
    assert main([*args, "--period", "2025-11-04..2025-11-04"]) == 0
    with target.open(encoding="utf-8", newline="") as stream:
        assert [r for r in csv.DictReader(stream) if r["record"] == "run"] == []
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--period", "2026-06-30..2026-01-01"],
            "the period ends (2026-01-01) before it starts (2026-06-30)",
        ),
        (["--period", "2026-02-30..2026-03-01"], "the period's start '2026-02-30' is not a date YYYY-MM-DD"),
        (["--period", "2026"], "is not FROM..TO"),
        (["--period", "2026-01-01..2026-01-31", "--zone", "Mars/Base"], "unknown time zone 'Mars/Base'"),
        (["--period", "2026-01-01..2026-01-31", "--format", "json"], "a period report is pdf, html, csv"),
        (
            ["--period", "2026-01-01..2026-01-31", "--plan", "Delta"],
            "no plan named 'Delta' exists or ever ran",
        ),
        ([], "name the execution to report on, or give --period"),
    ],
)
def test_bad_input_is_one_clear_line(
    home: tuple[Path, Estate],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    folder, _ = home
    target = tmp_path / "never.html"
    code = main(["report", *extra, "--out", str(target), "--home", str(folder)])
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not target.exists()


def test_pdf_headless_landscape_summary_first(home: tuple[Path, Estate], tmp_path: Path) -> None:
    folder, ids = home
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    target = tmp_path / "rollup.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "report", "--period", "2026-01-01..2026-06-30",
         "--format", "pdf", "--out", str(target), "--home", str(folder)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = QPdfDocument()
    assert document.load(str(target)) == QPdfDocument.Error.None_
    pages = document.pageCount()
    assert pages >= 2
    for page in range(pages):
        size = document.pagePointSize(page)
        assert size.width() > size.height(), f"page {page + 1} is not landscape"
    first = " ".join(document.getAllText(0).text().split())
    assert "Auditor's summary" in first
    assert "3 plans in scope: 1 tested in the period, 2 not tested (Bravo, Charlie)." in first
    assert "2 runs: 1 passed, 1 failed, 0 unknown." in first
    assert "RTO achieved / target" not in first  # the run table starts on page 2
    rest = " ".join(" ".join(document.getAllText(p).text().split()) for p in range(1, pages))
    assert ids.alpha_failed in rest and "SUCCEEDED with 1 server failed" in rest
    document.close()
