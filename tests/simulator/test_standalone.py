"""The standalone simulator end to end: URL first on stdout, boto3 works, SIGTERM stops it; a person
drives it at run time (``drs-desktop simulator control``), and ``drs-desktop run`` follows its clock."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.process_output import first_line
from tests.simulator.conftest import make_client


@contextlib.contextmanager
def serving(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``python -m ARGS`` (a simulator) with its output piped; killed if still running at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
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


@pytest.fixture
def simulator_process() -> Iterator[subprocess.Popen[str]]:
    with serving("drs_desktop.simulator", "--port", "0", "--seed", "5", "--time-scale", "60") as proc:
        yield proc


def test_prints_the_endpoint_first_and_stops_on_sigterm(simulator_process: subprocess.Popen[str]) -> None:
    url = first_line(simulator_process)
    assert url.startswith("http://127.0.0.1:")
    drs = make_client(url)
    assert len(drs.describe_source_servers()["items"]) > 0
    identity = make_client(url, "sts").get_caller_identity()
    assert identity["Account"].isdigit()
    simulator_process.send_signal(signal.SIGTERM)
    assert simulator_process.wait(timeout=10) == 0


@pytest.fixture
def small_process(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str]]:
    """``drs-desktop simulator`` with the small estate at the time scale the test names (0: manual)."""
    scale = str(getattr(request, "param", 0))
    with serving(
        "drs_desktop", "simulator", "--scenario", "small", "--seed", "7", "--time-scale", scale
    ) as proc:
        yield proc


def control(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``drs-desktop simulator control --endpoint URL ARGS`` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "drs_desktop", "simulator", "control", "--endpoint", url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_person_drives_the_running_simulator(small_process: subprocess.Popen[str]) -> None:
    url = first_line(small_process)
    drs = make_client(url)
    # Faults, as tests set them in-process.
    done = control(url, "fault", "throttle", "DescribeJobs", "count=1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["faults"]["transport"]["DescribeJobs"]["count"] == 1
    with pytest.raises(drs.exceptions.ThrottlingException):
        drs.describe_jobs()
    assert drs.describe_jobs()["items"] == []
    # A job another tool starts holds its server: StartRecovery answers Conflict.
    done = control(url, "outside-job", "shop-web-01", "--in", "1m")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scheduled_at"] == "2026-01-05T08:01:00+00:00"
    clock = json.loads(control(url, "clock", "advance", "1m").stdout)
    assert clock["now"] == "2026-01-05T08:01:00+00:00" and clock["scale"] is None
    (job,) = drs.describe_jobs()["items"]
    assert job["initiatedBy"] == "START_DRILL" and set(job["tags"]) == {"resourceArn"}
    busy = job["participatingServers"][0]["sourceServerID"]
    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)
    refused = control(url, "outside-job", "shop-web-01")
    assert refused.returncode == 1 and "ConflictException" in refused.stderr
    # The clock: 40 virtual minutes at once, then the job has ended.
    assert control(url, "clock", "advance", "40m").returncode == 0
    assert drs.describe_jobs()["items"][0]["status"] == "COMPLETED"
    status = json.loads(control(url, "status").stdout)
    assert status["active_jobs"] == [] and status["launches"] == 1 and status["scenario"] == "small"
    assert json.loads(control(url, "clock", "scale", "60").stdout)["scale"] == 60
    assert json.loads(control(url, "clock", "pause").stdout)["paused"] is True
    assert control(url, "clock", "advance", "soon").returncode == 2
    assert control(url, "fault", "explode").returncode == 1


@pytest.mark.parametrize("small_process", [600], indirect=True)
def test_the_cli_runs_a_plan_on_the_simulators_clock(
    small_process: subprocess.Popen[str], tmp_path: Path
) -> None:
    """``drs-desktop run`` against a standalone simulator at 600x follows its virtual clock: the plan's
    polls and waits are virtual seconds (default poll interval, no --poll-interval), and the journal's
    times are the simulator's."""
    url = first_line(small_process)
    drs = make_client(url)
    hosts = {
        s["sourceProperties"]["identificationHints"]["hostname"]: s["sourceServerID"]
        for s in drs.describe_source_servers()["items"]
    }
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="Database", servers=(hosts["shop-db-01"],)),
            Wave(name="Web", servers=(hosts["shop-web-01"], hosts["shop-web-02"])),
        ),
    )
    home = tmp_path / "home"
    with Database.open(AppPaths.resolve(home).database) as db:
        save_plan(db, plan)
    before = make_clock_reading(url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "drs_desktop",
            "run",
            "Shop",
            "--mode",
            "drill",
            "--json",
            "--endpoint",
            url,
            "--home",
            str(home),
        ],
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard: at 600x the two waves' ~30 virtual minutes are seconds
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "following the simulator's clock (time scale 600.0)" in done.stderr
    payload = json.loads(done.stdout)
    assert payload["outcome"] == "SUCCEEDED"
    after = make_clock_reading(url)
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "drs_desktop",
            "executions",
            "show",
            payload["execution_id"],
            "--json",
            "--home",
            str(home),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    started = datetime.fromisoformat(document["started_at"])
    finished = datetime.fromisoformat(document["finished_at"])
    # Two waves of 12-14-minute jobs, one after the other, in the simulator's time, inside its window.
    assert finished - started > timedelta(minutes=24)
    assert before - timedelta(seconds=2) <= started and finished <= after + timedelta(seconds=2)


def make_clock_reading(url: str) -> datetime:
    with urllib.request.urlopen(f"{url}/_sim/clock", timeout=10) as response:
        return datetime.fromisoformat(json.loads(response.read())["now"])
