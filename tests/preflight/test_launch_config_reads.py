"""Preflight reads launch configurations with bounded concurrency: the same answers as one call after
another, errors per server as before, and the calls really overlap (the simulator holds them in flight).

The real boto3 client over loopback HTTP against the simulator, on its manual clock.
"""

from __future__ import annotations

import threading

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.preflight import LAUNCH_CONFIG_READERS, launch_configurations
from drs_desktop.simulator.embedded import EmbeddedSimulator

from .conftest import gateway_for, wide_scenario

UNKNOWN = "s-00000000000000000"


def test_concurrent_reads_answer_what_sequential_ones_do_and_overlap() -> None:
    with EmbeddedSimulator(wide_scenario(30), seed=3) as sim:
        servers = [*sorted(sim.backend.source_server_ids()), UNKNOWN]
        sequential = launch_configurations(gateway_for(sim), servers, PatientReads(), readers=1)
        assert sequential[UNKNOWN] is None  # DRS has no configuration for it: None, as before
        assert all(isinstance(sequential[s], LaunchConfigView) for s in servers[:-1])
        assert list(sequential) == servers
        assert launch_configurations(gateway_for(sim), [], PatientReads()) == {}  # a plan of unknown servers

        # The first reads are held in flight until the clock moves: all readers must be in flight at once.
        sim.faults.hold("GetLaunchConfiguration", seconds=60, count=LAUNCH_CONFIG_READERS)
        answer: dict[str, LaunchConfigView | None] = {}
        reading = threading.Thread(
            target=lambda: answer.update(launch_configurations(gateway_for(sim), servers, PatientReads()))
        )
        reading.start()
        try:
            assert sim.holds.wait_holding(LAUNCH_CONFIG_READERS), "the reads did not overlap"
            assert sim.holds.holding == LAUNCH_CONFIG_READERS  # bounded: no more than the readers
        finally:
            sim.clock.advance(61)
            reading.join(timeout=30)
        assert not reading.is_alive()
        assert answer == sequential and list(answer) == servers


def test_the_drill_network_check_says_a_configuration_could_not_be_read_not_that_there_is_no_template() -> (
    None
):
    """Issue 16 item 4: a server whose launch configuration could not be read was said to have "no launch
    template"; the check says it could not be read, and why, and still fails."""
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.launch.isolation import DrillProfile
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
    from drs_desktop.domain.preflight.rules import CheckStatus
    from drs_desktop.services.preflight_isolation import drill_template_checks

    with EmbeddedSimulator(wide_scenario(3), seed=3) as sim:
        known = sorted(sim.backend.source_server_ids())
        servers = [*known, UNKNOWN]
        unread: dict[str, str] = {}
        configs = launch_configurations(gateway_for(sim), servers, PatientReads(), unread=unread)
        assert set(unread) == {UNKNOWN} and "no launch configuration" in unread[UNKNOWN]
        profile = DrillProfile(subnets=("subnet-0000000000000d111",), security_groups=(), production_cidrs=())
        plan = RecoveryPlan(name="P", waves=(Wave(name="w", servers=tuple(servers)),), drill_profile=profile)
        (check,) = drill_template_checks(plan, Mode.DRILL, servers, configs, unread=unread)
        assert check.status is CheckStatus.FAIL
        assert "could not be read" in check.message and UNKNOWN in check.message
        assert "no launch template" not in check.message, check.message
        (ok,) = drill_template_checks(plan, Mode.DRILL, known, configs, unread=unread)
        assert ok.status is CheckStatus.PASS
