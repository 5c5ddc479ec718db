"""Following a DRS Desktop simulator's clock (``aws.simulator_clock``) against a real one on loopback."""

from __future__ import annotations

from datetime import timedelta

from drs_desktop.aws.session import is_loopback_url
from drs_desktop.aws.simulator_clock import MIN_REAL_SLEEP, STILL_CLOCK_POLL, SimulatorClock
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.server import SimulatorServer
from tests.simulator.fake_world import FakeWorld


def test_only_a_drs_desktop_simulator_on_loopback_is_followed() -> None:
    assert is_loopback_url("http://127.0.0.1:4566") and is_loopback_url("http://localhost:1")
    assert not is_loopback_url("https://drs.us-east-1.amazonaws.com") and not is_loopback_url(None)
    assert SimulatorClock.probe("https://drs.us-east-1.amazonaws.com") is None  # never asked
    assert SimulatorClock.probe("http://127.0.0.1:9") is None  # nobody listening
    with SimulatorServer(FakeWorld.with_servers(1)) as server:  # a DRS endpoint without the control API
        assert SimulatorClock.probe(server.endpoint_url) is None


def test_a_manual_clock_is_followed_when_it_moves() -> None:
    with EmbeddedSimulator("small", seed=1) as sim:
        followed = SimulatorClock.probe(sim.endpoint_url)
        assert followed is not None and followed.scale is None
        assert followed.now() == sim.clock.now()
        assert followed.real_seconds(600) == STILL_CLOCK_POLL  # nobody moves it for us: look again soon
        sim.clock.advance(3600)
        followed.read()
        assert followed.now() == sim.clock.now() and followed.elapsed() == 3600
        drs_clock = followed.drs_clock()
        assert drs_clock.now() == sim.clock.now()  # the desktop's clock is the simulator's
        drs_clock.observe(sim.clock.now())  # an answer's Date anchors it
        assert drs_clock.skew() == timedelta(0)
        sim.clock.advance(90)  # no answer since: the followed clock carries DRS's time forward
        followed.read()
        assert drs_clock.now() == sim.clock.now()
        drs_clock.observe(sim.clock.now() - timedelta(seconds=30))  # an older Date does not move it back
        assert drs_clock.now() == sim.clock.now()


def test_a_scaled_clock_turns_virtual_waits_into_short_real_ones() -> None:
    with EmbeddedSimulator("small", seed=1, time_scale=600) as sim:
        followed = SimulatorClock.probe(sim.endpoint_url)
        assert followed is not None and followed.scale == 600
        assert followed.real_seconds(30) == 0.05
        assert followed.real_seconds(600) == 1.0
        assert followed.real_seconds(1) == MIN_REAL_SLEEP  # never a busy loop
        first = followed.now_ts()
        sim.clock.pause()
        followed.read()
        assert followed.scale == 0 and followed.real_seconds(30) == STILL_CLOCK_POLL
        assert followed.now_ts() >= first  # never backwards
