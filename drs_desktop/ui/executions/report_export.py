"""Where an evidence report goes, asked of the operator: the file, and the format from its name.

The format is the file's suffix when it names one (``.html``, ``.pdf``, ``.json``, ``.csv``), else the
filter chosen in the dialog, and the path gets that suffix: choosing "PDF" and typing ``drill-june``
writes ``drill-june.pdf`` as a PDF, never an HTML page under a name without a suffix.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

logger = logging.getLogger(__name__)

#: The dialog's filters, in the order offered, and the format each one writes.
REPORT_FILTERS: dict[str, str] = {
    "HTML (*.html)": "html",
    "PDF (*.pdf)": "pdf",
    "JSON (*.json)": "json",
    "CSV (*.csv)": "csv",
}
_SUFFIXES = {".html": "html", ".htm": "html", ".json": "json", ".csv": "csv", ".pdf": "pdf"}


def report_target(path: str, chosen_filter: str = "") -> tuple[str, str]:
    """``(path, format)`` for a name typed in the dialog under ``chosen_filter``."""
    suffix = Path(path).suffix.lower()
    if suffix in _SUFFIXES:
        return path, _SUFFIXES[suffix]
    fmt = REPORT_FILTERS.get(chosen_filter, "html")
    return f"{path}.{fmt}", fmt


def report_format(path: str | Path) -> str:
    """The format a path's suffix names (HTML when it names none)."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "html")


def ask_report_target(parent: QWidget, stem: str) -> tuple[str, str] | None:
    """Ask where to write a report suggested as ``stem``; None when the operator cancels."""
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export report", f"{stem}.html", ";;".join(REPORT_FILTERS)
    )
    if not path:
        return None
    return report_target(path, chosen)
