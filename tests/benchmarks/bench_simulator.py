"""Simulator benchmark (run on demand, not part of the suite).

    .venv/bin/python tests/benchmarks/bench_simulator.py [--repeat 3]

Prints, best of ``--repeat`` runs:

1. building the 4,000-server ``scale`` world;
2. a full DescribeSourceServers listing of 4,000 servers straight through ``DrsBackend.handle``;
3. the protocol layer alone: those four 1,000-server answers serialized to HTTP responses (strict);
4. the same listing over loopback HTTP with plain urllib (world + protocol layer);
5. the same listing through boto3's paginator (what the app does);
6. one small DescribeSourceServers page (10 servers) through boto3, per call;
7. 500 servers in five 100-server jobs advanced by the virtual clock to completion, polled every
   virtual minute with one DescribeJobs call covering the five jobs (the app's poll loop), and the
   same 500 servers advanced by one two-hour jump.

Figures measured when it was written (Linux container, Python 3.11, boto3 1.44.8) are in
docs/simulator.md, "Performance".
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.model import load_model
from drs_desktop.simulator.protocol import serialize_output
from tests.simulator_world.helpers import start_500


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def list_direct(backend: DrsBackend) -> int:
    token, count = None, 0
    while True:
        answer = backend.handle(
            "DescribeSourceServers", {"maxResults": 1000, **({"nextToken": token} if token else {})}
        )
        count += len(answer["items"])
        token = answer.get("nextToken")
        if not token:
            return count


def pages_direct(backend: DrsBackend) -> list[dict[str, Any]]:
    token, pages = None, []
    while True:
        answer = backend.handle(
            "DescribeSourceServers", {"maxResults": 1000, **({"nextToken": token} if token else {})}
        )
        pages.append(answer)
        token = answer.get("nextToken")
        if not token:
            return pages


def serialize_pages(pages: list[dict[str, Any]]) -> int:
    model = load_model()
    responses = [
        serialize_output(model, "DescribeSourceServers", page, "request-id", strict=True) for page in pages
    ]
    return sum(len(r.body) for r in responses)


def list_urllib(url: str) -> int:
    token, count = None, 0
    headers = {
        "Content-Type": "application/json",
        "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260105/us-east-1/drs/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    while True:
        body = json.dumps({"maxResults": 1000, **({"nextToken": token} if token else {})}).encode()
        request = urllib.request.Request(f"{url}/DescribeSourceServers", data=body, headers=headers)
        with urllib.request.urlopen(request) as response:
            answer = json.loads(response.read())
        count += len(answer["items"])
        token = answer.get("nextToken")
        if not token:
            return count


def list_boto3(sim: EmbeddedSimulator) -> int:
    client = boto3.client("drs", **sim.client_kwargs())
    pages = client.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 1000})
    return sum(len(page["items"]) for page in pages)


def poll_500() -> tuple[int, int]:
    backend = DrsBackend("scale")
    jobs = start_500(backend)
    polls = 0
    while True:
        backend.clock.advance(60)
        answer = backend.handle("DescribeJobs", {"filters": {"jobIDs": jobs}})
        polls += 1
        if all(j["status"] == "COMPLETED" for j in answer["items"]):
            launched = sum(
                p["launchStatus"] == "LAUNCHED" for j in answer["items"] for p in j["participatingServers"]
            )
            return polls, launched


def jump_500() -> int:
    backend = DrsBackend("scale")
    start_500(backend)
    backend.clock.advance(2 * 3600)
    return backend.settle()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat

    print(f"build 4,000-server world:              {best(repeat, lambda: DrsBackend('scale')):7.3f} s")
    backend = DrsBackend("scale")
    assert list_direct(backend) == 4000
    print(f"DescribeSourceServers x4000, direct:    {best(repeat, lambda: list_direct(backend)):7.3f} s")
    pages = pages_direct(backend)
    size = serialize_pages(pages)
    seconds = best(repeat, lambda: serialize_pages(pages))
    print(f"  protocol layer only (serialize):     {seconds:7.3f} s  ({size / 1e6:.1f} MB of JSON)")
    with EmbeddedSimulator("scale") as sim:
        assert list_urllib(sim.endpoint_url) == 4000
        http = best(repeat, lambda: list_urllib(sim.endpoint_url))
        print(f"DescribeSourceServers x4000, HTTP:      {http:7.3f} s")
        assert list_boto3(sim) == 4000
        print(f"DescribeSourceServers x4000, boto3:     {best(repeat, lambda: list_boto3(sim)):7.3f} s")
        client = boto3.client("drs", **sim.client_kwargs())
        client.describe_source_servers(maxResults=10)
        calls = 50
        seconds = best(repeat, lambda: [client.describe_source_servers(maxResults=10) for _ in range(calls)])
        print(f"DescribeSourceServers, 10-server page:  {seconds / calls * 1000:7.2f} ms per call (boto3)")
    polls, launched = poll_500()
    assert launched == 500, launched
    seconds = best(repeat, poll_500)
    per_poll = seconds / polls * 1000
    print(f"500 servers in 5 jobs, {polls} polls:       {seconds:7.3f} s  ({per_poll:.2f} ms/poll)")
    events = jump_500()
    print(f"500 servers, one 2-hour jump:           {best(repeat, jump_500):7.3f} s  ({events} events)")


if __name__ == "__main__":
    main()
