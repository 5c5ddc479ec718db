"""Reads before an execution exists wait out DRS throttling like the engine's reads, bounded.

The simulator (manual clock, real boto3 client over loopback) throttles the reads that prepare and check
a run; the sleeper records the waits instead of sleeping, so "two minutes of throttling" takes no time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsThrottled, DrsUnavailable
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.patient_reads import DEFAULT_BUDGET, MAX_FAILED_ATTEMPTS, PatientReads
from drs_desktop.services.preflight import preflight
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs-desktop.sqlite3") as database:
        yield database


def gateway_of(sim: EmbeddedSimulator, *, attempts: int = 1) -> DrsGateway:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    return DrsGateway(target, read_max_attempts=attempts)


class Sleeps:
    """The sleeper: records each wait and lets the simulator's clock move on by it."""

    def __init__(self, sim: EmbeddedSimulator | None = None) -> None:
        self.waits: list[float] = []
        self._sim = sim

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._sim is not None:
            self._sim.clock.advance(seconds)


def web_plan(sim: EmbeddedSimulator, db: Database) -> RunRequest:
    servers = tuple(sim.backend.server_id_of(h) for h in ("shop-web-01", "shop-web-02"))
    save_plan(db, RecoveryPlan(name="Web", waves=(Wave(name="Web", servers=servers),)))
    return RunRequest(plan_name="Web", mode=Mode.RECOVERY)


def test_botocore_alone_gives_up_at_the_third_rate_exceeded(sim: EmbeddedSimulator) -> None:
    """The failure this fixes: a retrying gateway fails a throttled listing after three attempts."""
    sim.faults.throttle("DescribeSourceServers", rate=1, count=5)
    with pytest.raises(DrsThrottled):
        gateway_of(sim, attempts=3).inventory()
    assert sim.backend.request_counts()["DescribeSourceServers"] == 3


@pytest.mark.parametrize(
    "operation",
    [
        "DescribeSourceServers",
        "DescribeRecoverySnapshots",
        "ListLaunchActions",
        "DescribeJobs",
        "GetLaunchConfiguration",
    ],
)
def test_prepare_and_preflight_wait_out_throttling(
    sim: EmbeddedSimulator, db: Database, operation: str
) -> None:
    request = replace(web_plan(sim, db), point_in_time=sim.clock.now())  # snapshots are read too
    sim.faults.throttle(operation, rate=1, count=5, retry_after=3)
    sleeps = Sleeps(sim)
    reads = PatientReads(sleep=sleeps, seed="t")
    gateway = gateway_of(sim)
    prepared = prepare_execution(db, gateway, request, reads=reads)
    report = preflight(db, gateway, prepared, request, now=sim.clock.now(), reads=reads)
    assert report.ok, [c.message for c in report.failures]
    assert len(prepared.server_ids) == 2
    assert prepared.recovery_point is not None and not prepared.recovery_point.problems
    assert sim.backend.request_counts()[operation] >= 6  # five throttled, then answered
    assert len(sleeps.waits) == 5
    # Never sooner than Retry-After, and growing like the engine's backoff.
    assert all(wait >= 3 for wait in sleeps.waits)
    assert sleeps.waits[0] == 3  # Retry-After: longer than the first backoff step (1 to 2 s)
    if operation == "GetLaunchConfiguration":
        # Read 8 at a time: the two servers' reads share the five throttles, each backing off on its
        # own; one of them met at least three (its third step: 8 s, half of it jittered).
        assert max(sleeps.waits) >= 4
    else:
        assert sleeps.waits[-1] >= 16  # the fifth backoff step: 32 s, half of it jittered
    runner = create_execution(db, gateway, prepared, request, clock=sim.clock.now, reads=reads)
    assert runner.state.spec.waves[0].server_ids == prepared.wave_servers["Web"]


def test_endless_throttling_ends_with_a_clear_error_after_the_budget(
    sim: EmbeddedSimulator, db: Database
) -> None:
    request = web_plan(sim, db)
    sim.faults.throttle("DescribeSourceServers", rate=1)
    sleeps = Sleeps()
    with pytest.raises(DrsThrottled) as caught:
        prepare_execution(db, gateway_of(sim), request, reads=PatientReads(sleep=sleeps, seed="t"))
    assert str(caught.value).startswith("DRS kept throttling DescribeSourceServers for 2 min")
    assert sum(sleeps.waits) == pytest.approx(DEFAULT_BUDGET.total_seconds())
    # Backed off, not hammered: a handful of calls over the two minutes.
    assert 5 <= sim.backend.request_counts()["DescribeSourceServers"] <= 10


def calls_failing(errors: list[Exception], answer: str = "ok") -> Callable[[], str]:
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return answer

    return call


def test_retry_after_longer_than_the_backoff_is_honoured() -> None:
    sleeps = Sleeps()
    reads = PatientReads(sleep=sleeps, seed="t")
    throttled = DrsThrottled("Rate exceeded", code="ThrottlingException", retry_after=40)
    assert reads(calls_failing([throttled]), "DescribeJobs") == "ok"
    assert sleeps.waits == [40]


def test_a_small_budget_caps_the_waiting() -> None:
    sleeps = Sleeps()
    reads = PatientReads(sleep=sleeps, budget=timedelta(seconds=30), seed="t")
    errors: list[Exception] = [DrsThrottled("Rate exceeded", retry_after=25) for _ in range(3)]
    with pytest.raises(DrsThrottled, match="kept throttling ListLaunchActions for 30 s"):
        reads(calls_failing(errors), "ListLaunchActions")
    assert sleeps.waits == [25, 5]


def test_other_transient_failures_are_retried_a_few_times_then_reported() -> None:
    sleeps = Sleeps()
    reads = PatientReads(sleep=sleeps, seed="t")
    errors: list[Exception] = [DrsUnavailable("boom", code="InternalServerException") for _ in range(5)]
    with pytest.raises(DrsUnavailable, match="boom"):
        reads(calls_failing(errors), "DescribeJobs")
    assert len(sleeps.waits) == MAX_FAILED_ATTEMPTS - 1
    assert len(errors) == 5 - MAX_FAILED_ATTEMPTS


def test_lasting_errors_are_not_retried() -> None:
    sleeps = Sleeps()
    errors: list[Exception] = [DrsAccessDenied("not allowed", code="AccessDeniedException")]
    with pytest.raises(DrsAccessDenied):
        PatientReads(sleep=sleeps)(calls_failing(errors), "GetLaunchConfiguration")
    assert sleeps.waits == []
