"""Fixtures of the alert tests: webhook receivers on loopback (HTTP, and HTTPS with a certificate only
the test trusts) and an in-memory keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.hook_server import HookServer
from tests.secrets.memory_keyring import MemoryKeyring, install_memory


@pytest.fixture
def hook() -> Iterator[HookServer]:
    server = HookServer().start()
    yield server
    server.stop()


@pytest.fixture
def tls_hook(tmp_path: Path) -> Iterator[HookServer]:
    folder = tmp_path / "tls"
    folder.mkdir()
    server = HookServer(tls_dir=folder).start()
    yield server
    server.stop()


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    return install_memory(monkeypatch)
