"""Launch settings apply benchmark (on demand, not in the suite): 1,000 servers previewed and applied.

    .venv/bin/python tests/benchmarks/bench_launch_apply.py [--servers 1000] [--workers 4]

Starts the simulator's ``scale`` scenario (4,000 source servers) over loopback HTTP, saves a plan of the
first ``--servers`` servers in 10 waves whose launch settings map every server's IP to its production
subnet by CIDR, set an instance type, right-sizing NONE, launch disposition STOPPED and a tag, and send
one server in ten to the drill subnet with its security group. Then, with the real boto3 clients:

1. ``preview``: ``services.launch_state.preview_plan`` (inventory given: GetLaunchConfiguration per
   server, one listing of every default template version, DescribeSubnets, and the diff);
2. ``apply``: ``services.launch_apply.run_apply`` with ``--workers`` threads, journaled in SQLite
   (check, new version, default, UpdateLaunchConfiguration, read back and verify, per server).

Prints the wall time of each and the calls per API (the simulator's ``request_counts()``), and exits 1
unless every server ended VERIFIED.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.model import (
    Disposition,
    LaunchFields,
    LaunchSettings,
    Override,
    RightSizing,
    SubnetByIp,
)
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.launch_apply import run_apply, start_apply
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.launch_applies import ServerStep
from drs_desktop.storage.plans import load_plan, save_plan

WAVES = 10


def build_plan(inventory: Inventory, ec2: Ec2Gateway, count: int) -> RecoveryPlan:
    servers = [s.source_server_id for s in inventory.servers[:count]]
    nets = {s.cidr: s for s in ec2.subnets()}
    table = SubnetByIp(tuple((cidr, n.subnet_id) for cidr, n in nets.items() if cidr.startswith("10.20.")))
    drill = nets["10.99.0.0/20"]
    group = next(g for g in ec2.security_groups(vpc_id=drill.vpc_id) if g.name == "drill-servers")
    settings = LaunchSettings(
        LaunchFields(
            subnet=table,
            instance_type="c5.xlarge",
            right_sizing=RightSizing.NONE,
            launch_disposition=Disposition.STOPPED,
            add_tags={"DrTier": "gold"},
        ),
        (
            Override(
                LaunchFields(subnet=drill.subnet_id, security_groups=(group.group_id,)),
                servers=tuple(servers[::10]),
            ),
        ),
    )
    size = -(-len(servers) // WAVES)
    waves = tuple(
        Wave(f"wave {i + 1}", servers=tuple(servers[i * size : (i + 1) * size])) for i in range(WAVES)
    )
    return RecoveryPlan(name="Scale", waves=tuple(w for w in waves if w.servers), launch_settings=settings)


def delta(after: dict[str, int], before: dict[str, int]) -> Counter[str]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with EmbeddedSimulator("scale") as sim, tempfile.TemporaryDirectory() as folder:
        target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
        drs, ec2 = DrsGateway(target), Ec2Gateway(target)
        with Database.open(Path(folder) / "drs.sqlite3") as db:
            inventory = drs.inventory()
            save_plan(db, build_plan(inventory, ec2, args.servers))
            stored = load_plan(db, "Scale")

            before = sim.backend.request_counts()
            started = time.perf_counter()
            preview, _ = preview_plan(stored, inventory, drs, ec2)
            preview_s = time.perf_counter() - started
            preview_calls = delta(sim.backend.request_counts(), before)

            before = sim.backend.request_counts()
            started = time.perf_counter()
            record = start_apply(db, stored, preview, drs)
            final = run_apply(db, record, drs, ec2, workers=args.workers)
            apply_s = time.perf_counter() - started
            apply_calls = delta(sim.backend.request_counts(), before)
        drs.close()
        ec2.close()
    verified = final.count(ServerStep.VERIFIED)
    print(
        f"servers: {len(preview.servers)} previewed, {len(preview.changed)} changed, "
        f"{len(preview.blocked)} blocked"
    )
    print(f"preview: {preview_s:.2f} s; calls: {dict(sorted(preview_calls.items()))}")
    print(
        f"apply ({args.workers} workers): {apply_s:.2f} s, "
        f"{apply_s / max(1, len(final.servers)) * 1000:.1f} ms per server; "
        f"calls: {dict(sorted(apply_calls.items()))}"
    )
    print(
        f"ended: {verified} verified, {final.count(ServerStep.FAILED)} failed, "
        f"{final.count(ServerStep.SKIPPED)} skipped"
    )
    return 0 if verified == len(final.servers) == args.servers else 1


if __name__ == "__main__":
    sys.exit(main())
