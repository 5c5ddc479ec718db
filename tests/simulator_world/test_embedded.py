"""EmbeddedSimulator and the ``simulator`` command: the world served over loopback HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest

from drs_desktop.simulator.cli import main
from drs_desktop.simulator.embedded import EmbeddedSimulator


def test_embedded_simulator_serves_boto3() -> None:
    with EmbeddedSimulator("small") as sim:
        assert sim.running and sim.endpoint_url.startswith("http://127.0.0.1:")
        client = boto3.client("drs", **sim.client_kwargs())
        servers = client.describe_source_servers()["items"]
        assert len(servers) == 10
        job = client.start_recovery(
            sourceServers=[{"sourceServerID": servers[0]["sourceServerID"]}], isDrill=True
        )
        assert job["job"]["status"] == "PENDING"
        sim.clock.advance(3600)
        assert client.describe_jobs()["items"][0]["status"] == "COMPLETED"
        sim.faults.throttle("DescribeJobs", count=1)
        no_retry = boto3.client(
            "drs",
            **sim.client_kwargs(),
            config=__import__("botocore.config").config.Config(retries={"total_max_attempts": 1}),
        )
        with pytest.raises(no_retry.exceptions.ThrottlingException):
            no_retry.describe_jobs()
    assert not sim.running
    with pytest.raises(RuntimeError):
        _ = sim.endpoint_url


def test_simulator_command_prints_the_endpoint_first_and_stops_on_sigterm() -> None:
    code = textwrap.dedent(
        """
        from drs_desktop.simulator.cli import main
        raise SystemExit(main(["--scenario", "small", "--time-scale", "60", "--seed", "3"]))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:")
        client = boto3.client(
            "drs",
            endpoint_url=first,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        assert len(client.describe_source_servers()["items"]) == 10
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_scenario_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nonsense: true\n")
    assert main(["--scenario", str(bad)]) == 2
