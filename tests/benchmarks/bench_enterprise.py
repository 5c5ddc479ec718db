"""The ``enterprise`` scenario's start and listing (run on demand, not part of the suite).

    .venv/bin/python tests/benchmarks/bench_enterprise.py [--repeat 5]

Prints, best and median of ``--repeat`` runs: building and starting ``EmbeddedSimulator("enterprise")``;
DescribeSourceServers of all 3,000 servers through boto3's paginators (one client per staging account,
each signed with that account's key in its region); the recovery account's 1,500 extended servers in
its two regions. Figures are in docs/simulator.md, "The enterprise scenario".
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import boto3

from drs_desktop.simulator.embedded import EmbeddedSimulator


def _client(sim: EmbeddedSimulator, key: str, region: str) -> Any:
    return boto3.client(
        "drs",
        endpoint_url=sim.endpoint_url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="x",
    )


def _count(clients: list[Any]) -> int:
    pages = (p for c in clients for p in c.get_paginator("describe_source_servers").paginate())
    return sum(len(page["items"]) for page in pages)


def _report(name: str, seconds: list[float]) -> None:
    print(f"{name}: best {min(seconds):.3f} s, median {statistics.median(seconds):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    starts = []
    for _ in range(repeat):
        began = time.perf_counter()
        sim = EmbeddedSimulator("enterprise").start()
        starts.append(time.perf_counter() - began)
        sim.stop()
    with EmbeddedSimulator("enterprise") as sim:
        staging = [
            _client(sim, f"AKIASTAGING{n:02d}X", "us-east-1" if n <= 5 else "us-west-2") for n in range(1, 11)
        ]
        recovery = [_client(sim, "AKIARECOVERY1", region) for region in ("us-east-1", "us-west-2")]
        for warm in staging + recovery:
            warm.describe_jobs()
        listings, extended = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            servers = _count(staging)
            listings.append(time.perf_counter() - began)
            began = time.perf_counter()
            copies = _count(recovery)
            extended.append(time.perf_counter() - began)
    _report("EmbeddedSimulator('enterprise') built and started", starts)
    _report(f"DescribeSourceServers of {servers} servers in 10 staging accounts (boto3)", listings)
    _report(f"the recovery account's {copies} extended servers, two regions (boto3)", extended)


if __name__ == "__main__":
    main()
