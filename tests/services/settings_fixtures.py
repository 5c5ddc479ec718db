"""Fixtures shared by the connection, settings, inventory and first-run tests (services, workers, ui).

Imported by name into each test module (``from tests.services.settings_fixtures import db_fixture``):
the folders are shared with other areas, so these do not live in a conftest.py. Each fixture is
registered under the name in its ``name=`` argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.secrets.memory_keyring import MemoryKeyring, install_memory
from tests.services.aws_files import install_aws_files


@pytest.fixture(name="db")
def db_fixture(tmp_path: Path) -> Iterator[Database]:
    """A real database in this test's folder."""
    database = Database.open(tmp_path / "drs.sqlite3")
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(name="memory_keyring")
def memory_keyring_fixture(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """An in-memory keyring backend for this test only."""
    return install_memory(monkeypatch)


@pytest.fixture(name="aws_files")
def aws_files_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AWS config and credentials files with default, plain, SSO and MFA profiles."""
    return install_aws_files(tmp_path, monkeypatch)


@pytest.fixture(name="no_env_credentials")
def no_env_credentials_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS credentials in the environment (a developer's or CI's shell may have some)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="small_simulator", scope="module")
def small_simulator_fixture() -> Iterator[EmbeddedSimulator]:
    """The small test estate (10 servers) on loopback, shared by a module's tests (it only reads)."""
    with EmbeddedSimulator("small", seed=7) as sim:
        yield sim
