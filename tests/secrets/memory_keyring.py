"""Keyring backends for tests: an in-memory one set per test, and ways to make "no keyring" happen.

``install`` sets a backend with ``keyring.set_keyring`` for one test and puts the previous one back
afterwards (through ``monkeypatch``), so no test reads or writes the developer's real keyring.
"""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict. Its priority is below every real backend's, so keyring never picks it."""

    priority = -10

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


class LockedKeyring(MemoryKeyring):
    """A keyring that reads (nothing) but refuses to store, like a locked collection."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


def install(monkeypatch: pytest.MonkeyPatch, backend: KeyringBackend) -> KeyringBackend:
    """Make ``backend`` keyring's current backend for this test only."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(backend)
    return backend


def install_memory(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    install(monkeypatch, backend)
    return backend


def install_fail(monkeypatch: pytest.MonkeyPatch) -> KeyringBackend:
    """keyring's own "no recommended backend" keyring: every call raises NoKeyringError."""
    return install(monkeypatch, keyring.backends.fail.Keyring())
