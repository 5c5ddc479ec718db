"""Fixtures shared by the native DRS plan tests (``test_native_plans``, ``test_native_fixes``): the
simulator, a gateway to it and its servers, over loopback HTTP with the real boto3 client.

Imported by name into each test module (``from tests.services.native_fixtures import sim_fixture``),
like ``settings_fixtures``: each fixture is registered under the name in its ``name=`` argument. The
``gateway`` fixture stays in each module (one reads in small pages), built with ``native_gateway``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.native_plans import NativePlansGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.simulator.embedded import EmbeddedSimulator


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as sim:
        yield sim


@pytest.fixture(name="servers")
def servers_fixture(gateway: NativePlansGateway) -> list[str]:
    return sorted(s.source_server_id for s in gateway.drs.describe_source_servers())


def native_gateway(sim: EmbeddedSimulator, page_size: int | None = None) -> Iterator[NativePlansGateway]:
    """A gateway to ``sim``, closed when the test ends; ``page_size`` set makes every listing page."""
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs = DrsGateway(target, page_size=page_size)
    yield NativePlansGateway(drs, page_size=page_size)
    drs.close()


def sim_client(sim: EmbeddedSimulator) -> Any:
    """boto3's own DRS client on ``sim``: for what a test does in DRS behind the desktop's back."""
    return boto3.client("drs", **sim.client_kwargs())
