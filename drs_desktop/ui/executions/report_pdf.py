"""Lay an evidence report out as a landscape A4 PDF: ``write_pdf_report(report, path)``.

Why here, and on which thread: Qt's PDF output and its rich text layout live in QtGui, which the workers
layer may not import; but laying out a report of hundreds of servers must not freeze the GUI. Qt documents
``QTextDocument``, ``QPdfWriter``, ``QPainter`` and ``QImage`` as reentrant: each may be used on any
thread, as long as each instance is used by one thread at a time. So this function builds every one of
them on the thread that calls it, from a frozen ``PdfReport`` (its page as rich text and its timeline as
data, ``services.report_pdf``), and the GUI hands the function itself to its task thread as a callable
(``TaskThread.run_task``): the task builds the ``PdfReport``, calls this function, and only the path
written comes back. The GUI thread never lays out or writes a PDF. The CLI (``drs-desktop report
--format pdf``) calls the same function under an offscreen ``QGuiApplication`` (``app.write_pdf_report``).

Layout rules that make it readable: landscape A4; text wraps at word boundaries only, never inside a
word (``QTextOption.WrapMode.WordWrap``), so an ID is whole on one line; the timeline is painted into
images (``ui.executions.report_timeline``) as wide as the page. It uses ``QPdfWriter`` (QtGui) rather
than ``QPrinter`` so the application needs no QtPrintSupport.

The file is written next to its destination under a temporary name and renamed over it, so a reader
never sees half a PDF (as ``services.reports.write_report`` does for the other formats).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import (
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
    QTextOption,
)

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.report_chart import TIMELINE_IMAGE, PdfReport
from drs_desktop.ui.executions.report_timeline import timeline_image

logger = logging.getLogger(__name__)

__all__ = ["PdfExportError", "build_document", "write_pdf_headless", "write_pdf_report"]

#: 96 dpi keeps the HTML's pixel sizes (CSS px) close to what a browser prints.
_RESOLUTION = 96
_MARGIN_MM = 12


class PdfExportError(DrsDesktopError):
    """The PDF could not be written (the folder is not writable, the disk is full, ...)."""


def page_layout() -> QPageLayout:
    return QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Landscape,
        QMarginsF(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM, _MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )


def build_document(report: PdfReport, page_width: float) -> QTextDocument:
    """The report as a QTextDocument for pages ``page_width`` pixels wide, its timeline pictures added
    as image resources. Built on the calling thread, for that thread's use only."""
    document = QTextDocument()
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)  # never inside a word: an ID stays whole
    document.setDefaultTextOption(option)
    document.setDocumentMargin(0)
    width = int(page_width) - 8
    for page in range(report.timeline_pages):
        image = timeline_image(report.timeline, report.picture_rows(page), width)
        document.addResource(
            QTextDocument.ResourceType.ImageResource.value, QUrl(TIMELINE_IMAGE.format(page)), image
        )
    document.setHtml(report.html)
    return document


def write_pdf_report(report: PdfReport, path: str | os.PathLike[str]) -> Path:
    """Lay ``report`` out on landscape A4 pages and write it to ``path``; returns the path written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PdfExportError(f"cannot write the PDF to {target}: {exc.strerror or exc}") from exc
    os.close(handle)
    try:
        writer = QPdfWriter(temp_name)
        writer.setResolution(_RESOLUTION)
        writer.setTitle(report.title)
        writer.setCreator("DRS Desktop")
        writer.setPageLayout(page_layout())
        page = writer.pageLayout().paintRectPixels(_RESOLUTION)
        document = build_document(report, page.width())
        document.setPageSize(QSizeF(page.width(), page.height()))
        document.print_(writer)
        pages = document.pageCount()
        del writer  # QPdfWriter finishes the file when it is destroyed
        if Path(temp_name).stat().st_size == 0:
            raise PdfExportError(f"cannot write the PDF to {target}: nothing was written")
        os.chmod(temp_name, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(temp_name, target)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise PdfExportError(f"cannot write the PDF to {target}: {exc.strerror or exc}") from exc
    except PdfExportError:
        Path(temp_name).unlink(missing_ok=True)
        raise
    logger.info("PDF report written to %s (%d pages)", target, pages)
    return target


def write_pdf_headless(report: PdfReport, path: str | os.PathLike[str]) -> Path:
    """``write_pdf_report`` for the CLI: fonts and text layout need a QGuiApplication, so one is made on
    Qt's offscreen platform when the process has none (no display, no window system needed)."""
    existing = QCoreApplication.instance()
    if existing is not None and not isinstance(existing, QGuiApplication):
        raise PdfExportError("a PDF needs Qt's GUI application; this process started a core one")
    made = None if existing is not None else QGuiApplication(["drs-desktop", "-platform", "offscreen"])
    try:
        return write_pdf_report(report, path)
    finally:
        if made is not None:
            made.shutdown()
