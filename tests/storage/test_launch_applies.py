"""The launch settings apply journal: a record round-trips whole, and a corrupt row is an error, never
read as "nothing to do"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.domain.ec2 import LaunchTemplateData
from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.launch.diff import DrsUpdate
from drs_desktop.domain.launch.model import Disposition
from drs_desktop.storage.db import Database
from drs_desktop.storage.launch_applies import (
    ApplyRecord,
    ApplyServer,
    ApplyStatus,
    ServerStep,
    create_apply,
    finish_apply,
    load_apply,
    save_server,
    unfinished_applies,
    with_step,
)

AT = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _record() -> ApplyRecord:
    server = ApplyServer(
        "s-00000000000000001",
        0,
        "web-01",
        template_id="lt-0123456789abcdef0",
        base_version=1,
        template_data=LaunchTemplateData(subnet_id="subnet-1", private_ip="", instance_tags=(("A", "b"),)),
        drs_update=DrsUpdate(launch_disposition=Disposition.STOPPED),
        drs_before={"launch_disposition": "STARTED"},
    )
    return ApplyRecord("a1", "p1", "Shop", 3, "us-east-1", ApplyStatus.RUNNING, AT, AT, (server,))


def test_a_record_round_trips_and_its_steps_are_journaled(tmp_path: Path) -> None:
    with Database.open(tmp_path / "d.sqlite3") as db:
        record = create_apply(db, _record())
        assert load_apply(db, "a1") == record
        made = with_step(record.servers[0], ServerStep.VERSION_CREATED, new_version=2)
        save_server(db, "a1", made)
        (unfinished,) = unfinished_applies(db)
        assert unfinished.servers[0] == made
        assert made.half_changed() == "half-changed: template version 2 created, not yet default"
        finish_apply(db, "a1")
        assert unfinished_applies(db) == [] and load_apply(db, "a1").status is ApplyStatus.DONE  # type: ignore[union-attr]


def test_a_corrupt_row_is_an_error(tmp_path: Path) -> None:
    with Database.open(tmp_path / "d.sqlite3") as db:
        create_apply(db, _record())
        with db.transaction() as conn:
            conn.execute('UPDATE launch_apply_servers SET drs_update = \'{"copy_tags": "yes"}\'')
        with pytest.raises(StorageError, match="corrupt row"):
            load_apply(db, "a1")
