"""Fixtures of the preflight tests: pure builders for the rule tests, the simulator for the service tests.

The service tests run the real boto3 client against the project's simulator over loopback, on a manual
clock (nothing moves unless a test advances it), with a real SQLite database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_clock import DrsClock
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage.db import Database

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def sid(n: int) -> str:
    """A well-formed source server ID."""
    return f"s-{n:017x}"


def server(n: int, state: str = "CONTINUOUS", lag: int | None = 10, hostname: str = "") -> SourceServer:
    return SourceServer(
        source_server_id=sid(n),
        hostname=hostname or f"host-{n:03d}",
        replication_state=state,
        lag_seconds=lag,
    )


def inventory_of(*servers: SourceServer, fetched_at: datetime | None = NOW) -> Inventory:
    return Inventory(servers=servers, fetched_at=fetched_at, account_id="123456789012", region="us-east-1")


def config(server_id: str, **overrides: Any) -> LaunchConfigView:
    values: dict[str, Any] = {
        "source_server_id": server_id,
        "ec2_launch_template_id": "lt-0123456789abcdef0",
        "launch_disposition": "STARTED",
    }
    values.update(overrides)
    return LaunchConfigView(**values)


def small_scenario(extra_servers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The shipped ``small`` scenario as a dict, with more servers appended."""
    data: dict[str, Any] = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data["fleet"]["servers"] = [*data["fleet"]["servers"], *(extra_servers or [])]
    return data


def wide_scenario(count: int) -> dict[str, Any]:
    """``count`` healthy Linux servers of one application (tag Application=app001)."""
    return {
        "name": "wide",
        "start_time": "2026-01-05T08:00:00Z",
        "fleet": {
            "generated": {"count": count, "applications": 1, "tiers": ["app"], "os": {"linux": 1.0}},
            "replication": {"states": {"CONTINUOUS": 1.0}, "lag_seconds": [2, 20]},
        },
    }


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def gateway_for(simulator: EmbeddedSimulator) -> DrsGateway:
    """A gateway whose desktop clock agrees with the simulator's (a skew is tested on its own)."""
    target = AwsTarget(profile=None, region=simulator.region, endpoint_url=simulator.endpoint_url)
    return DrsGateway(target, drs_clock=DrsClock(wall=simulator.clock.now))


@pytest.fixture
def gateway(sim: EmbeddedSimulator) -> DrsGateway:
    return gateway_for(sim)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "home" / "drs-desktop.sqlite3") as database:
        yield database


def ids(simulator: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(simulator.backend.server_id_of(name) for name in hostnames)
