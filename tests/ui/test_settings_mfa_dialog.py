"""The MFA code dialog, and a worker thread that waits for the code it asks through CredentialPrompts."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drs_desktop.domain.connection import MfaChallenge
from drs_desktop.ui.settings.mfa_dialog import MfaDialog, connect_mfa_prompts
from drs_desktop.workers.credential_prompts import CredentialPrompts

CHALLENGE = MfaChallenge(
    "mfa-role", "arn:aws:iam::123456789012:mfa/operator", "arn:aws:iam::123456789012:role/DrsOperator"
)
TIMEOUT = 10_000


def test_ok_needs_six_digits(qtbot: QtBot) -> None:
    dialog = MfaDialog(CHALLENGE)
    qtbot.addWidget(dialog)
    assert not dialog.ok_enabled()
    qtbot.keyClicks(dialog.code_edit, "12ab34")
    assert dialog.code() == "1234" and not dialog.ok_enabled()  # letters never get in
    qtbot.keyClicks(dialog.code_edit, "5678")
    assert dialog.code() == "123456" and dialog.ok_enabled()  # and no more than six digits


def ask_on_a_thread(prompts: CredentialPrompts) -> tuple[threading.Thread, list[str]]:
    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(prompts.ask_mfa(CHALLENGE)), name="fake-worker")
    thread.start()
    return thread, answers


def open_dialog(qtbot: QtBot) -> MfaDialog:
    found: list[MfaDialog] = []

    def visible() -> bool:
        found[:] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MfaDialog) and w.isVisible()]
        return bool(found)

    qtbot.waitUntil(visible, timeout=TIMEOUT)
    return found[0]


def test_a_waiting_worker_gets_the_code_typed_in_the_dialog(qtbot: QtBot) -> None:
    prompts = CredentialPrompts(timeout_seconds=20)
    connect_mfa_prompts(prompts)
    thread, answers = ask_on_a_thread(prompts)
    try:
        dialog = open_dialog(qtbot)
        assert CHALLENGE.mfa_serial in dialog.message.text() and "mfa-role" in dialog.message.text()
        qtbot.keyClicks(dialog.code_edit, "424242")
        dialog.accept()
        thread.join(TIMEOUT / 1000)
    finally:
        prompts.close()
        thread.join(TIMEOUT / 1000)
    assert answers == ["424242"] and not prompts.waiting()


def test_cancelling_the_dialog_answers_nothing(qtbot: QtBot) -> None:
    prompts = CredentialPrompts(timeout_seconds=20)
    connect_mfa_prompts(prompts)
    thread, answers = ask_on_a_thread(prompts)
    try:
        open_dialog(qtbot).reject()
        thread.join(TIMEOUT / 1000)
    finally:
        prompts.close()
        thread.join(TIMEOUT / 1000)
    assert answers == [""]


def test_closed_prompts_answer_at_once() -> None:
    prompts = CredentialPrompts(timeout_seconds=20)
    prompts.close()
    assert prompts.ask_mfa(CHALLENGE) == ""
