"""``drs-desktop --demo``: the built-in simulator serves the demo estate to the real boto3 client."""

from __future__ import annotations

import boto3

from drs_desktop.app import DEMO_TIME_SCALE, start_demo_simulator


def test_demo_simulator_serves_the_demo_estate_over_loopback() -> None:
    simulator = start_demo_simulator()
    try:
        assert simulator.endpoint_url.startswith("http://127.0.0.1:")
        assert simulator.clock.scale == DEMO_TIME_SCALE
        drs = boto3.client(
            "drs",
            region_name=simulator.region,
            endpoint_url=simulator.endpoint_url,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        servers = [
            s for page in drs.get_paginator("describe_source_servers").paginate() for s in page["items"]
        ]
        assert len(servers) == 60
        apps = {s["tags"].get("Application") for s in servers}
        assert apps == {"payments", "orders", "crm", "hr"}
    finally:
        simulator.stop()
    assert not simulator.running
