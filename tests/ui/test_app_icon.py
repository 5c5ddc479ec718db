"""The running application shows DRS Desktop's icon: every drawn size, from the files the packages carry."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from drs_desktop import APP_ID
from drs_desktop.app import ICON_SIZES, _make_application
from drs_desktop.config import resource_path


def test_the_window_icon_holds_every_size(qapp: QApplication) -> None:
    app = _make_application(["drs-desktop"])
    sizes = app.windowIcon().availableSizes()
    assert sorted(sizes, key=QSize.width) == [QSize(n, n) for n in ICON_SIZES]
    # A 16 px title bar gets the 16 px drawing itself, not the 512 px one scaled down.
    drawn = QImage(str(resource_path(f"icons/{APP_ID}-16.png"))).convertToFormat(QImage.Format.Format_ARGB32)
    shown = app.windowIcon().pixmap(QSize(16, 16)).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    assert shown == drawn


def test_every_icon_file_is_in_resources() -> None:
    for size in ICON_SIZES:
        path = resource_path(f"icons/{APP_ID}-{size}.png")
        assert path.is_file(), path
    assert resource_path("icons/drs-desktop.ico").is_file()
    assert resource_path("icons/drs-desktop.icns").is_file()
