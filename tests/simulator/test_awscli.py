"""The real AWS CLI against the simulator (only where an ``aws`` executable is on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.fake_world import FakeWorld

AWS = shutil.which("aws")

pytestmark = pytest.mark.skipif(
    AWS is None, reason="no `aws` executable on PATH (awscli v1 installs with pip into a separate venv)"
)


def run_aws(server: SimulatorServer, *args: str) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_PROFILE", None)
    command = [AWS, "drs", *args, "--endpoint-url", server.endpoint_url, "--region", "us-east-1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_describe_source_servers(server: SimulatorServer, world: FakeWorld) -> None:
    proc = run_aws(server, "describe-source-servers", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    assert [s["sourceServerID"] for s in items] == [s["sourceServerID"] for s in world.servers]


def test_cli_paginates_with_the_simulators_tokens(server: SimulatorServer, world: FakeWorld) -> None:
    proc = run_aws(server, "describe-source-servers", "--page-size", "4", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["items"]) == len(world.servers)
    assert sum(1 for op, _ in world.calls if op == "DescribeSourceServers") == 7


def test_server_side_validation_error_reaches_the_cli(server: SimulatorServer) -> None:
    proc = run_aws(server, "describe-job-log-items", "--job-id", "xdrsjob-0123456789abcdef")
    assert proc.returncode != 0
    assert "ValidationException" in proc.stderr


def test_describe_source_servers_against_the_real_world() -> None:
    backend = DrsBackend(seed=3)
    with SimulatorServer(backend) as server:
        proc = run_aws(server, "describe-source-servers", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    assert sorted(s["sourceServerID"] for s in items) == sorted(backend.source_server_ids())
