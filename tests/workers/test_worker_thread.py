"""WorkerThread keeps a worker's thread-local data from one slot call to the next."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal, Slot
from pytestqt.qtbot import QtBot

from drs_desktop.workers.thread import WorkerThread


class _Remembering(QObject):
    answered = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    @Slot(str)
    def remember(self, value: str) -> None:
        self._local.value = value

    @Slot()
    def recall(self) -> None:
        self.answered.emit((getattr(self._local, "value", None), threading.get_ident()))


class _Asker(QObject):
    remember = Signal(str)
    recall = Signal()


def test_thread_local_data_survives_between_slot_calls(qtbot: QtBot) -> None:
    worker = _Remembering()
    asker = _Asker()
    asker.remember.connect(worker.remember)
    asker.recall.connect(worker.recall)
    answers: list[object] = []
    worker.answered.connect(answers.append)
    thread = WorkerThread(worker, "remembering")
    thread.start()
    try:
        asker.remember.emit("boto3 client")
        asker.recall.emit()
        qtbot.waitUntil(lambda: len(answers) == 1, timeout=5000)
        value, ident = answers[0]  # type: ignore[misc]
        assert value == "boto3 client"
        assert ident != threading.get_ident()
    finally:
        assert thread.stop()
