"""Preflight's launch-configuration reads, one after another vs bounded concurrency (run on demand).

    .venv/bin/python tests/benchmarks/bench_preflight_reads.py [--servers 300] [--latency 0.05]

The simulator answers every GetLaunchConfiguration after ``--latency`` real seconds (its fault plan),
as a distant Region would; prints the real time of reading every server's configuration with 1 reader
and with ``LAUNCH_CONFIG_READERS``, and checks that both read the same.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight import LAUNCH_CONFIG_READERS, launch_configurations
from drs_desktop.simulator.embedded import EmbeddedSimulator


def fleet(count: int) -> dict[str, Any]:
    return {
        "name": "bench-reads",
        "quotas": {"max_replicating_servers": count + 10},
        "fleet": {"generated": {"count": count, "applications": 1, "os": {"linux": 1.0}}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with EmbeddedSimulator(fleet(args.servers), seed=5) as sim:
        sim.faults.latency("GetLaunchConfiguration", seconds=args.latency)
        servers = sorted(sim.backend.source_server_ids())
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        results = []
        for readers in (1, LAUNCH_CONFIG_READERS):
            real = time.perf_counter()
            found = launch_configurations(gateway, servers, PatientReads(), readers=readers)
            real = time.perf_counter() - real
            results.append(found)
            print(f"{len(servers)} servers, {readers} reader(s): {real:.2f} s real")
        print("same answers:", results[0] == results[1])


if __name__ == "__main__":
    main()
