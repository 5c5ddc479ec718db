"""Desktop notifications: a tray message where the desktop has a tray, a flashing taskbar entry always.

An approval gate waits for a person who may be looking at another window; the progress view raises its
prompt, and this tells the desktop. ``QSystemTrayIcon`` is created only when a tray exists (not on the
offscreen platform, nor on some Linux desktops), so nothing fails without one. Every message is also
kept in ``messages`` (what was said, for the status line and for tests).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from drs_desktop.ui.status_icons import status_icon

logger = logging.getLogger(__name__)

#: How long a tray message stays up (the desktop may cap it).
MESSAGE_MS = 15_000


class TrayNotifier(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.messages: list[tuple[str, str]] = []
        self._tray: QSystemTrayIcon | None = None

    def notify(self, title: str, text: str, window: QWidget | None = None) -> None:
        self.messages.append((title, text))
        if window is not None and window.isVisible():
            QApplication.alert(window)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            logger.debug("no system tray: %s: %s", title, text)
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(status_icon("WAITING_APPROVAL", 32), self)
            self._tray.setToolTip("DRS Desktop")
        self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
