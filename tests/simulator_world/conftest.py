"""Fixtures for the simulator-world tests: backends on a manual clock, driven through ``handle``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drs_desktop.simulator.backend import DrsBackend


@pytest.fixture
def small() -> DrsBackend:
    """The shipped ``small`` scenario: 10 servers, manual clock at 2026-01-05T08:00Z."""
    return DrsBackend("small")


@pytest.fixture
def make_backend() -> Callable[..., DrsBackend]:
    def make(scenario: Any = "small", **kwargs: Any) -> DrsBackend:
        return DrsBackend(scenario, **kwargs)

    return make
