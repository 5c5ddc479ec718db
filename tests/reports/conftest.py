"""One real drill, run once per module, for the report tests.

The runner drives the real boto3 client against the simulator on a manual clock (as in tests/runner):
alice grants the App wave's approval; the critical shop-app-02 fails its conversion, which holds the run
until bob retries it; the optional shop-web-02 fails its launch (a warning); carol skips the CRM wave
while it waits for its approval; after the drill alice asks for cleanup. The gateway signs with typed
keys and the environment holds keys too: none of them may appear in a report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.drs.views import DrsJobView
from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.engine.events import (
    ApprovalGranted,
    CleanupRequested,
    Outcome,
    RetryFailed,
    SkipWave,
    StepPhase,
)
from drs_desktop.domain.engine.queries import active_jobs
from drs_desktop.domain.engine.state import ExecutionState, ExecutionStatus, Mode, WavePhase
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.entities import LaunchRecord
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

ACCESS_KEY_ID = "AKIAFAKEREPORTKEY123"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKENforReportsOnly0123456789"
ENV_SECRET = "envSecretValueThatMustNeverLeak/0123456789"
SECRETS = (ACCESS_KEY_ID, SECRET_KEY, SESSION_TOKEN, ENV_SECRET)


@dataclass(frozen=True)
class Drill:
    db: Database
    sim: EmbeddedSimulator
    execution_id: str
    state: ExecutionState  # the runner's live state at the end
    plan: RecoveryPlan
    launches: tuple[LaunchRecord, ...]
    drs_jobs: tuple[DrsJobView, ...]  # every job DRS (the simulator) knows of, launch and terminate
    approved_at: datetime
    retried_at: datetime
    skipped_at: datetime
    cleanup_at: datetime

    def server(self, hostname: str) -> str:
        return self.sim.backend.server_id_of(hostname)

    def rto_text(self) -> str:
        """The RTO this drill achieved, as a report writes it: its last critical server's launch minus
        the start, from the runner's own state. The poll gaps' jitter is seeded by the (random) execution
        ID, so the figure moves by a second or two from one drill to the next; it stays near 74 min."""
        state = self.state
        critical = [
            s
            for s in state.servers.values()
            if s.critical and state.waves[s.wave_index].phase is not WavePhase.SKIPPED
        ]
        launched = [s.launched_at for s in critical]
        assert launched and all(at is not None for at in launched), "every critical server launched"
        seconds = (max(at for at in launched if at is not None) - state.spec.started_at).total_seconds()
        assert 70 * 60 <= seconds <= 80 * 60, f"the drill's RTO moved far from its design: {seconds} s"
        return format_duration(seconds, exact=True)


def _plan(sim: EmbeddedSimulator) -> RecoveryPlan:
    def ids(*names: str) -> tuple[str, ...]:
        return tuple(sim.backend.server_id_of(n) for n in names)

    return RecoveryPlan(
        name='Shop <&> "quoted"',  # markup in a name must come out as text
        rto_minutes=90,
        waves=(
            Wave(name="Database", servers=ids("shop-db-01"), after=(WaitStep(minutes=5),)),
            Wave(
                name="App",
                servers=ids("shop-app-01", "shop-app-02"),
                before=(ApprovalStep(message="DB checked?"),),
            ),
            Wave(name="Web", servers=ids("shop-web-01", "shop-web-02"), optional=ids("shop-web-02")),
            # A wave name a spreadsheet would run as a formula: the CSV must defuse it.
            Wave(name="=CRM", servers=ids("crm-web-01"), before=(ApprovalStep(message="CRM too?"),)),
        ),
    )


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    with pytest.MonkeyPatch.context() as env, EmbeddedSimulator("small", seed=7) as sim:
        env.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        env.setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        env.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
        credentials = AccessKeyPair(ACCESS_KEY_ID, SECRET_KEY, SESSION_TOKEN)
        target = AwsTarget(
            profile=None, region=sim.region, endpoint_url=sim.endpoint_url, credentials=credentials
        )
        gateway = DrsGateway(target)
        home: Path = tmp_path_factory.mktemp("reports")
        with Database.open(home / "drs-desktop.sqlite3") as db:
            plan = _plan(sim)
            save_plan(db, plan, author="planner", comment="for the audit")
            sim.faults.fail_conversion(servers=["shop-app-02"])
            sim.faults.fail_launch(servers=["shop-web-02"])

            def clock() -> datetime:
                return sim.clock.now()

            def sleep(seconds: float) -> None:
                sim.clock.advance(max(seconds, 1.0))

            # A careless caller put a secret in the target: the report must still not show it.
            request = RunRequest(
                plan_name=plan.name,
                mode=Mode.DRILL,
                poll_interval_seconds=30,
                target={
                    "region": sim.region,
                    "endpoint_url": sim.endpoint_url,
                    "profile": None,
                    "aws_secret_access_key": SECRET_KEY,
                },
            )
            prepared = prepare_execution(db, gateway, request)
            runner = create_execution(db, gateway, prepared, request, clock=clock)

            def held() -> bool:
                """Held on a failure, and its job has ended (so it can be retried)."""
                return runner.status is ExecutionStatus.HELD and not active_jobs(runner.state)

            result = runner.run(sleep=sleep, return_on_approval=True, should_stop=held)
            assert result.status is ExecutionStatus.WAITING_APPROVAL, result
            sim.clock.advance(120)  # alice takes two minutes to decide
            approved_at = clock()
            runner.submit(
                ApprovalGranted(
                    wave_index=1, phase=StepPhase.BEFORE, step_index=0, by="alice", at=approved_at,
                    comment="DB verified <ok>",
                )
            )  # fmt: skip
            runner.run(sleep=sleep, return_on_approval=True, should_stop=held)
            assert runner.status is ExecutionStatus.HELD

            sim.faults.fail_conversion(servers=[])  # the fix: the retry will go through
            retried_at = clock()
            runner.control(RetryFailed(wave_index=1, at=retried_at, by="bob"))  # now: the run is held
            result = runner.run(sleep=sleep, return_on_approval=True, should_stop=held)
            assert result.status is ExecutionStatus.WAITING_APPROVAL, result
            assert result.approvals[0].wave_name == "=CRM"

            skipped_at = clock()
            runner.submit(SkipWave(wave_index=3, at=skipped_at, by="carol", reason="CRM is out of scope"))
            assert runner.run(sleep=sleep).outcome is Outcome.SUCCEEDED

            sim.clock.advance(600)
            cleanup_at = clock()
            runner.submit(CleanupRequested(at=cleanup_at, by="alice"))
            runner.run(sleep=sleep)
            plain = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
            yield Drill(
                db=db,
                sim=sim,
                execution_id=runner.execution_id,
                state=runner.state,
                plan=plan,
                launches=tuple(sim.backend.launch_records()),
                drs_jobs=tuple(DrsGateway(plain).jobs_since(runner.state.spec.started_at)),
                approved_at=approved_at,
                retried_at=retried_at,
                skipped_at=skipped_at,
                cleanup_at=cleanup_at,
            )
