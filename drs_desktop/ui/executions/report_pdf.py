"""Print an evidence report's HTML to a PDF file, on the GUI thread.

Why here and not in a worker: Qt's PDF output lives in QtGui, which workers may not import, and a
QTextDocument is not meant to be used off the GUI thread. The History tab's task renders the HTML (the same
self-contained page as the HTML export); this module lays it out and prints it. It uses ``QPdfWriter``
(QtGui) rather than ``QPrinter(PdfFormat)`` so the application needs no QtPrintSupport: one module
fewer to bundle, and the same output for a document this simple. A report of a few hundred servers
prints in well under a second.

The file is written next to its destination under a temporary name and renamed over it, so a reader
never sees half a PDF (as ``services.reports.write_report`` does for the other formats).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from drs_desktop.domain.errors import DrsDesktopError

logger = logging.getLogger(__name__)

#: 96 dpi keeps the HTML's pixel sizes (CSS px) close to what a browser prints.
_RESOLUTION = 96


class PdfExportError(DrsDesktopError):
    """The PDF could not be written (the folder is not writable, the disk is full, ...)."""


def write_pdf(html: str, path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Lay ``html`` out on A4 pages and write it to ``path``; returns the path written."""
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
        writer.setTitle(title)
        writer.setCreator("DRS Desktop")
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(12, 12, 12, 12),
                QPageLayout.Unit.Millimeter,
            )
        )
        document = QTextDocument()
        document.setHtml(html)
        page = writer.pageLayout().paintRectPixels(_RESOLUTION)
        document.setPageSize(QSizeF(page.width(), page.height()))
        document.print_(writer)
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
    logger.info("PDF report written to %s", target)
    return target
