"""``python -m drs_desktop.simulator`` end to end: URL first on stdout, boto3 works, SIGTERM stops it."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.simulator.conftest import make_client


@pytest.fixture
def simulator_process() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "drs_desktop.simulator", "--port", "0", "--seed", "5", "--time-scale", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def first_line(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            pytest.fail("the simulator printed nothing")
    return proc.stdout.readline().strip()


def test_prints_the_endpoint_first_and_stops_on_sigterm(simulator_process: subprocess.Popen[str]) -> None:
    url = first_line(simulator_process)
    assert url.startswith("http://127.0.0.1:")
    drs = make_client(url)
    assert len(drs.describe_source_servers()["items"]) > 0
    identity = make_client(url, "sts").get_caller_identity()
    assert identity["Account"].isdigit()
    simulator_process.send_signal(signal.SIGTERM)
    assert simulator_process.wait(timeout=10) == 0
