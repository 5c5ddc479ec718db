"""Fixtures of the CLI tests: a scaled-clock simulator, a DRS Desktop home with saved plans, and a way to
run ``drs-desktop`` in this process (``main`` with capsys) or as a real subprocess.

The simulator runs its virtual clock at 600 times real time, so a 15-minute DRS launch takes 1.5 s while
the CLI's runner keeps the real clock it has in production; nothing in these tests sleeps. Tests whose
runner must wait long virtual stretches (a Retry-After, a wave timeout) use ``manual_sim``: a manual
clock that the CLI's runner reads and advances when it sleeps, deterministic under any machine load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drs_desktop import cli_target
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.cli import main
from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.entities import LaunchRecord
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.sync.dynamodb_emulator import DynamoDbEmulator

#: Virtual seconds per real second: a 20-minute Windows launch in 2 s.
TIME_SCALE = 600
#: The longest a `drs-desktop` subprocess may take before the test fails instead of hanging.
SUBPROCESS_TIMEOUT = 60.0


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7, time_scale=TIME_SCALE) as simulator:
        yield simulator


@pytest.fixture
def manual_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedSimulator]:
    """The simulator on a manual clock, and the CLI in its virtual time: the runner reads that clock
    and its sleeps advance it, so a ten-minute Retry-After passes at once."""
    with EmbeddedSimulator("small", seed=7) as sim:
        monkeypatch.setattr(cli_target, "_now", sim.clock.now)
        monkeypatch.setattr(
            cli_target,
            "_drs_clock",
            lambda: DrsClock(wall=sim.clock.now, monotonic=lambda: sim.clock.now().timestamp()),
        )
        monkeypatch.setattr(cli_target, "_runner_sleep", lambda seconds: sim.clock.advance(max(seconds, 1.0)))
        monkeypatch.setattr(cli_target, "_simulator_clock", lambda endpoint: None)  # the test moves time
        yield sim


@pytest.fixture
def app_home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def ids(sim: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(sim.backend.server_id_of(name) for name in hostnames)


def shop_plan(sim: EmbeddedSimulator, *, gate: bool = False, name: str = "Shop") -> RecoveryPlan:
    """The small estate's shop: db, then app (behind an approval when ``gate``), then web."""
    return RecoveryPlan(
        name=name,
        waves=(
            Wave(name="Database", servers=ids(sim, "shop-db-01")),
            Wave(
                name="App",
                servers=ids(sim, "shop-app-01", "shop-app-02"),
                before=(ApprovalStep(message="DB checked?"),) if gate else (),
            ),
            Wave(name="Web", servers=ids(sim, "shop-web-01", "shop-web-02")),
        ),
    )


def save_plans(home: Path, *plans: RecoveryPlan) -> None:
    with Database.open(AppPaths.resolve(home).database) as db:
        for plan in plans:
            save_plan(db, plan)


def planned_servers(plan: RecoveryPlan) -> set[str]:
    return {server for wave in plan.waves for server in wave.servers}


def launches_per_server(sim: EmbeddedSimulator) -> Counter[str]:
    return Counter(record.source_server_id for record in sim.backend.launch_records())


def launch_records(sim: EmbeddedSimulator) -> list[LaunchRecord]:
    return sim.backend.launch_records()


def target_args(sim: EmbeddedSimulator, home: Path) -> list[str]:
    """Where every command goes: the simulator, a fast fixed poll, this test's home."""
    return ["--endpoint", sim.endpoint_url, "--poll-interval", "0.1", "--home", str(home)]


def subprocess_env() -> dict[str, str]:
    """The test's environment (no real AWS, see tests/conftest.py), unbuffered so progress streams."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "drs_desktop", *args]


def run_subprocess(args: Sequence[str], *, timeout: float = SUBPROCESS_TIMEOUT) -> Result:
    """``python -m drs_desktop ARGS`` to its end; a hang fails the test after ``timeout`` seconds."""
    done = subprocess.run(
        command(*args), capture_output=True, text=True, timeout=timeout, env=subprocess_env(), check=False
    )
    return Result(done.returncode, done.stdout, done.stderr)


class Cli:
    """``drs-desktop`` in this process: ``main(argv)`` with stdout and stderr captured by capsys."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> Result:
        self._capsys.readouterr()  # drop what came before
        code = main(list(args))
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


#: The team's table in the CLI's team sync tests.
SYNC_TABLE = "team-sync"


@pytest.fixture
def dynamodb() -> Iterator[DynamoDbEmulator]:
    """moto's DynamoDB server over loopback HTTP, for the CLI's team sync tests (tests/sync/ says how)."""
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
