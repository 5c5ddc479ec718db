"""``drs-desktop run --point-in-time`` end to end: the real CLI and boto3 client against the simulator.

DRS may list a finished recovery snapshot without ``timestamp`` (only ``expectedTimestamp`` and its EBS
snapshots, reference §12.9): such a snapshot is a recovery point. One with neither a timestamp nor EBS
snapshots is still being taken; a run is refused only when a server has no usable snapshot, saying which
server and why.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.fleet import add_snapshot_without_timestamp, on_demand_snapshot

from .conftest import Cli, ids, launch_records, save_plans, shop_plan, target_args

pytestmark = pytest.mark.timeout(120)


def _gateway(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


def test_a_snapshot_listed_without_timestamp_is_used_at_its_expected_time(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    # One wave: DRS prunes the 10-minute snapshots after an hour, and a three-wave drill's last wave
    # starts about 40 minutes in, by when the point in time's snapshots of its servers may be gone.
    servers = tuple(s for wave in shop_plan(sim).waves for s in wave.servers)
    plan = RecoveryPlan(name="Shop", waves=(Wave(name="All", servers=servers),))
    save_plans(app_home, plan)
    (db_server,) = ids(sim, "shop-db-01")
    # A point in time 5 minutes after one of the 10-minute snapshots, and a finished snapshot listed
    # without timestamp 1 minute before it: the newest recovery point at or before T is that one.
    regular = _gateway(sim).recovery_snapshots(db_server)
    anchor = sorted(s.expected_timestamp for s in regular if s.expected_timestamp is not None)[-3]
    point_in_time = anchor + timedelta(minutes=5)
    server = sim.backend.world.servers[db_server]
    untimed = add_snapshot_without_timestamp(
        server, (anchor + timedelta(minutes=4)).timestamp(), sim.backend.seed
    )
    listed = {s.snapshot_id: s for s in _gateway(sim).recovery_snapshots(db_server)}
    assert listed[untimed.snapshot_id].timestamp is None  # DRS's shape: expectedTimestamp + ebsSnapshots
    assert listed[untimed.snapshot_id].ebs_snapshots

    done = cli(
        "run",
        "Shop",
        "--mode",
        "drill",
        "--point-in-time",
        point_in_time.isoformat(),
        *target_args(sim, app_home),
    )
    assert done.code == 0, done.err
    used = {
        p.server_id: p.snapshot_id
        for job in sim.backend.world.jobs.values()
        if job.job_type == "LAUNCH"
        for p in job.participants
    }
    assert used[db_server] == untimed.snapshot_id
    assert set(used) == {s for wave in plan.waves for s in wave.servers}
    assert all(snapshot is not None and snapshot.startswith("pit-") for snapshot in used.values())


def test_a_server_whose_only_snapshot_is_being_taken_is_refused_by_name(
    manual_sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    sim = manual_sim
    (web, building) = ids(sim, "shop-web-01", "new-build")
    save_plans(app_home, RecoveryPlan(name="Build", waves=(Wave(name="Only", servers=(web, building)),)))
    now = sim.clock.now()
    on_demand_snapshot(
        sim.backend.world.servers[building], (now - timedelta(minutes=3)).timestamp(), sim.backend.seed
    )
    (in_progress,) = _gateway(sim).recovery_snapshots(building)
    assert in_progress.timestamp is None and in_progress.ebs_snapshots == ()

    refused = cli(
        "run", "Build", "--mode", "drill", "--point-in-time", now.isoformat(), *target_args(sim, app_home)
    )
    assert refused.code == 1
    failed = [
        line
        for line in (refused.out + refused.err).splitlines()
        if line.lstrip().startswith("FAIL  snapshots")
    ]
    assert len(failed) == 1, refused.err  # shop-web-01 has a snapshot: only new-build is refused
    assert "new-build" in failed[0] and "still being taken" in failed[0]
    assert "preflight failed: nothing launched" in refused.err
    assert launch_records(sim) == []
