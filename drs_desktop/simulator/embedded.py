"""``EmbeddedSimulator``: a simulated DRS account and its loopback HTTP server in one object.

Tests, ``--demo`` and ``--self-test`` start one of these and point the real boto3 client at
``endpoint_url``. With ``time_scale=None`` the clock is manual (tests call ``sim.clock.advance(...)``);
with a number it runs that many virtual seconds per real second (60: a 20-minute drill in 20 s).
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drs_desktop.simulator.backend import ScenarioSource
from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.estate import Estate
from drs_desktop.simulator.faults import FaultPlan
from drs_desktop.simulator.scenario import Scenario
from drs_desktop.simulator.scenario_schema import load_scenario
from drs_desktop.simulator.sns import SnsTopics

if TYPE_CHECKING:
    from drs_desktop.simulator.holds import HeldRequests

logger = logging.getLogger(__name__)


class EmbeddedSimulator:
    """A ``DrsBackend`` served on ``host:port`` (port 0 picks a free one) until ``stop()``."""

    def __init__(
        self,
        scenario: ScenarioSource = None,
        *,
        seed: int | None = None,
        time_scale: float | None = None,
        start: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.scenario: Scenario = load_scenario(scenario)
        if start is None and time_scale is None:
            start = self.scenario.start_time
        self.clock = VirtualClock(start, scale=time_scale)
        #: Every (account, region) world; one for a single-account scenario.
        self.estate = Estate(self.scenario, seed=seed, clock=self.clock)
        #: The default account's default region: the only world of a single-account scenario.
        self.backend = self.estate.default
        self._host = host
        self._port = port
        self._server: Any = None

    @property
    def sns(self) -> SnsTopics:
        """SNS topics (every account) and the messages published to them (``simulator/sns.py``)."""
        return self.estate.sns

    @property
    def faults(self) -> FaultPlan:
        return self.backend.faults

    @property
    def region(self) -> str:
        return self.backend.region

    @property
    def account_id(self) -> str:
        return self.backend.account_id

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("The simulator is not running; call start() first")
        return str(self._server.endpoint_url)

    @property
    def holds(self) -> HeldRequests:
        """Requests held by ``hold`` faults: wait on them rather than sleep (``wait_holding``...)."""
        if self._server is None:
            raise RuntimeError("The simulator is not running; call start() first")
        holds: HeldRequests = self._server.holds
        return holds

    def client_kwargs(self, access_key: str = "simulator", region: str | None = None) -> dict[str, str]:
        """Keyword arguments for ``boto3.client("drs", **kwargs)`` against this simulator. The access key
        picks the account (a key no account of the scenario claims reaches the default one), the region
        the world of that account (the default region when None)."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": region or self.region,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": "simulator",
        }

    def start(self) -> EmbeddedSimulator:
        if self._server is not None:
            return self
        try:
            from drs_desktop.simulator.server import SimulatorServer
        except ImportError as exc:  # pragma: no cover - only while the protocol half is missing
            raise RuntimeError(f"The simulator's HTTP server is not available: {exc}") from exc
        from drs_desktop.simulator.control_api import ControlApi

        control = ControlApi(self.backend, self.clock, estate=self.estate)
        server = SimulatorServer(
            self.backend, host=self._host, port=self._port, control=control, estate=self.estate
        )
        server.start()
        self._server = server
        logger.info("Embedded DRS simulator at %s (scenario %s)", server.endpoint_url, self.scenario.name)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> EmbeddedSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
