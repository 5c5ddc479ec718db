"""DrsGateway.simulator_world: a lookup that got no answer is asked again; a known world is kept."""

from __future__ import annotations

import socket

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.simulator.embedded import EmbeddedSimulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_answer_is_not_remembered_and_the_world_is_found_once_the_simulator_answers() -> None:
    port = _free_port()
    gateway = DrsGateway(AwsTarget(profile=None, region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}"))
    try:
        assert gateway.simulator_world() is None, "nothing listens yet"
        with EmbeddedSimulator("small", seed=1, port=port) as sim:
            assert gateway.simulator_world() == sim.backend.world_id
        assert gateway.simulator_world() == sim.backend.world_id, "a known world is kept"
    finally:
        gateway.close()


def test_aws_has_no_simulator_world() -> None:
    gateway = DrsGateway(AwsTarget(profile=None, region="us-east-1", endpoint_url=None))
    try:
        assert gateway.simulator_world() is None
    finally:
        gateway.close()
