"""The engine tests' runs: the shipped runner over the simulator's backend, journaling to a fresh SQLite
database per test (``shipped_run``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.domain.engine.state import ExecutionSpec
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

from .helpers import sids
from .shipped_run import ShippedRun

#: ``shipped(spec, **options)``: a run of ``spec`` (``ShippedRun``'s options; launches held by default).
Shipped = Callable[..., ShippedRun]


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[Shipped]:
    with Database.open(tmp_path / "engine.sqlite3") as db:
        revision = save_plan(db, RecoveryPlan(name="engine", waves=(Wave(name="w", servers=sids(1, 1)),)))

        def make(spec: ExecutionSpec, **options: Any) -> ShippedRun:
            options.setdefault("hold_launches", True)
            return ShippedRun(db, revision, spec, **options)

        yield make
