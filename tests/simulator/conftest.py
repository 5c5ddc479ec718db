"""Fixtures for the simulator's protocol tests: a loopback server over a FakeWorld, and boto3 clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.fake_world import FakeWorld

# One attempt: the tests check what the server answers, not botocore's retry loop.
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def make_client(endpoint_url: str, service: str = "drs", *, validate: bool = True) -> Any:
    config = NO_RETRY.merge(Config(parameter_validation=validate, connect_timeout=5, read_timeout=10))
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=config,
    )


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld.with_servers(25)


@pytest.fixture
def server(world: FakeWorld) -> Iterator[SimulatorServer]:
    with SimulatorServer(world, strict_output=True, request_timeout=2.0, idle_timeout=5.0) as srv:
        yield srv


@pytest.fixture
def drs(server: SimulatorServer) -> Any:
    return make_client(server.endpoint_url)


@pytest.fixture
def drs_raw(server: SimulatorServer) -> Any:
    """A client that skips botocore's client-side validation, so the server's own is exercised."""
    return make_client(server.endpoint_url, validate=False)
