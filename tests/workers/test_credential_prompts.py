"""Two threads that need an MFA code at once each get the code typed for their own role."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from drs_desktop.domain.connection import MfaChallenge
from drs_desktop.workers.credential_prompts import CredentialPrompts


def test_a_code_typed_for_one_role_never_goes_to_another(qtbot: QtBot) -> None:
    prompts = CredentialPrompts(timeout_seconds=5)
    asked: list[MfaChallenge] = []
    prompts.mfa_code_requested.connect(asked.append)
    answers: dict[str, str] = {}

    def ask(role: str) -> None:
        answers[role] = prompts.ask_mfa(MfaChallenge(profile=role, mfa_serial=f"mfa-{role}", role_arn=role))

    first = threading.Thread(target=ask, args=("role-a",))
    first.start()
    qtbot.waitUntil(lambda: len(asked) == 1)
    second = threading.Thread(target=ask, args=("role-b",))
    second.start()
    prompts.answer_mfa("111111")  # typed in the dialog for role-a
    qtbot.waitUntil(lambda: len(asked) == 2)
    assert asked[1].profile == "role-b"
    prompts.answer_mfa("222222")
    first.join(10)
    second.join(10)
    assert answers == {"role-a": "111111", "role-b": "222222"}
