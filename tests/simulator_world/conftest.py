"""Fixtures for the simulator-world tests: backends on a manual clock, driven through ``handle``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.scenario import Behaviour, Range
from drs_desktop.simulator.scenario_schema import load_scenario


@pytest.fixture
def small() -> DrsBackend:
    """The shipped ``small`` scenario: 10 servers, manual clock at 2026-01-05T08:00Z."""
    return DrsBackend("small")


@pytest.fixture
def small_exact() -> DrsBackend:
    """``small`` with every LAUNCHED server's ``recoveryInstanceID`` in DescribeJobs and instances listed
    the moment they launch: for tests about something else than DRS's eventual consistency, which
    test_calibration.py covers with the calibrated defaults."""
    scenario = load_scenario("small")
    timings = replace(scenario.timings, instance_listed=Range(0, 0))
    return DrsBackend(
        replace(scenario, behaviour=Behaviour(missing_instance_id_fraction=0.0), timings=timings)
    )


@pytest.fixture
def make_backend() -> Callable[..., DrsBackend]:
    def make(scenario: Any = "small", **kwargs: Any) -> DrsBackend:
        return DrsBackend(scenario, **kwargs)

    return make
