"""The export dialog's answer: the suffix typed decides the format; without one, the filter chosen does,
and the file gets its suffix (a PDF is never written as HTML under a bare name)."""

from __future__ import annotations

from drs_desktop.ui.executions.report_export import REPORT_FILTERS, report_format, report_target


def test_the_suffix_typed_decides_the_format() -> None:
    assert report_target("/tmp/drill.pdf", "HTML (*.html)") == ("/tmp/drill.pdf", "pdf")
    assert report_target("/tmp/drill.CSV", "PDF (*.pdf)") == ("/tmp/drill.CSV", "csv")
    assert report_format("r.htm") == "html" and report_format("r") == "html"


def test_without_a_suffix_the_chosen_filter_decides_and_names_the_file() -> None:
    for name, fmt in REPORT_FILTERS.items():
        assert report_target("/tmp/drill-june", name) == (f"/tmp/drill-june.{fmt}", fmt)
    assert report_target("/tmp/drill-june") == ("/tmp/drill-june.html", "html")
