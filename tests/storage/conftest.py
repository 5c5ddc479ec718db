"""Fixtures of the storage tests: a fresh database in the test's own folder, and sample plans."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drs_desktop.domain.plan.model import ApprovalStep, ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.storage.db import Database

WEB_1 = "s-1234567890abcdef0"
WEB_2 = "s-1234567890abcdef1"
DB_1 = "s-0000000000000000a"
NET_1 = "s-aaaaaaaaaaaaaaaa1"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "drs-desktop.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    with Database.open(db_path) as database:
        yield database


def sample_plan(name: str = "Payroll") -> RecoveryPlan:
    """A plan using every feature of the model: groups by ID and by tags, steps, dependencies."""
    return RecoveryPlan(
        name=name,
        description="Payroll recovery, tier 1",
        rto_minutes=60,
        rpo_minutes=15,
        protection_groups=(
            ProtectionGroup("network", server_ids=(NET_1,)),
            ProtectionGroup("databases", tags={"tier": "db", "app": "payroll"}),
        ),
        waves=(
            Wave("Net", groups=("network",), depends_on=()),
            Wave("DB", groups=("databases",), servers=(DB_1,), before=(ApprovalStep("Storage team ready?"),)),
            Wave(
                "Web",
                servers=(WEB_1, WEB_2),
                optional=(WEB_2,),
                depends_on=("DB", "Net"),
                after=(WaitStep(5),),
            ),
        ),
    )


def _can_create_file_in(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """A function that makes a folder read-only for this process, undone at teardown.

    chmod 0o500 is enough for a normal user. Root ignores permission bits, so under root the folder is
    made immutable (``chattr +i``), which stops root too; where that is not possible the test is skipped.
    """
    undo: list[tuple[str, Path]] = []

    def apply(folder: Path) -> None:
        if os.geteuid() != 0:
            folder.chmod(0o500)
            undo.append(("chmod", folder))
        else:
            try:
                subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                pytest.skip(f"running as root and cannot make a folder immutable (chattr +i: {exc})")
            undo.append(("chattr", folder))
        if _can_create_file_in(folder):
            pytest.skip(f"could not make {folder} read-only for this process")

    yield apply
    for how, folder in reversed(undo):
        if how == "chmod":
            folder.chmod(0o700)
        else:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
