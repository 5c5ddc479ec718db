"""``--endpoint`` with a user name, password or token in it: refused with one line that does not repeat
the secret, before anything is stored, logged or sent, by every command that takes the option. The proof
is the bytes of every file in the home (the database, its WAL, backups) and every log record."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

from .conftest import Cli, launches_per_server, save_plans, shop_plan, target_args

pytestmark = pytest.mark.timeout(120)

SECRET = "s3cr3t-P4ss-0f-alice"


def _secret_urls(sim: EmbeddedSimulator) -> list[tuple[str, str]]:
    """Endpoints that reach the simulator but carry SECRET, and how the refusal shows each."""
    port = urlsplit(sim.endpoint_url).port
    return [
        (f"http://alice:{SECRET}@127.0.0.1:{port}", f"http://***@127.0.0.1:{port}"),
        (f"http://127.0.0.1:{port}/?X-Amz-Security-Token={SECRET}", f"http://127.0.0.1:{port}/?***"),
    ]


def _home_bytes(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


def test_a_secret_in_endpoint_is_refused_and_reaches_no_file_and_no_log(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    save_plans(app_home, shop_plan(sim, gate=True))
    first = cli("run", "Shop", "--mode", "drill", "--json", *target_args(sim, app_home))
    assert first.code == 3, first.err  # a real execution, waiting at its gate, for the commands on one
    execution_id = str(first.json()["execution_id"])
    launched = launches_per_server(sim)
    home = ["--home", str(app_home)]

    for url, shown in _secret_urls(sim):
        for args in (
            ("run", "Shop", "--mode", "drill", "--endpoint", url, *home),
            ("run", "Shop", "--mode", "drill", "--dry-run", "--endpoint", url, *home),
            ("run", "--resume", execution_id, "--auto-approve", "--endpoint", url, *home),
            ("control", execution_id, "approve", "--endpoint", url, *home),
            ("cleanup", execution_id, "--endpoint", url, *home),
        ):
            result = cli(*args)
            assert result.code == 2, (args, result.err)
            assert result.err.startswith(f"drs-desktop: error: --endpoint: endpoint {shown} must not carry")
            assert result.err.count("\n") == 1 and result.out == ""
            assert SECRET not in result.err

    assert SECRET not in caplog.text
    stored = _home_bytes(app_home)  # the database, its -wal and -shm, backups: every byte on disk
    assert execution_id.encode() in stored  # (the search does see what was stored)
    assert SECRET.encode() not in stored
    with Database.open(AppPaths.resolve(app_home).database) as db:
        assert [r.execution_id for r in journal.list_executions(db)] == [execution_id]  # nothing new
        assert journal.get_execution(db, execution_id).options["target"]["endpoint_url"] == sim.endpoint_url
    assert launches_per_server(sim) == launched  # nothing sent to DRS either
