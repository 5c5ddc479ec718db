"""The first-run demo's sample plan drills on the demo estate with its automation steps: the databases'
health check finds their listeners (up a minute after boot), the web tier's SSM smoke test runs, and the
evidence says so. The demo shows what the sample plan does; this proves it does it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import resource_path
from drs_desktop.domain.engine.events import ApprovalGranted, Outcome
from drs_desktop.domain.engine.state import Mode
from drs_desktop.services import reports
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage.db import Database

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def test_the_sample_plan_drills_with_its_health_check_and_smoke_test(db: Database) -> None:
    plan = PlanLibrary(db).import_file(resource_path("sample-plan.yaml")).revision.name
    demo = yaml.safe_load(shipped_path("demo").read_text(encoding="utf-8"))
    demo["faults"] = {}  # the demo's occasional failed launch would hold the drill: not this test's subject
    with EmbeddedSimulator(demo, seed=11) as sim:
        drs = DrsGateway(AwsTarget(None, sim.region, sim.endpoint_url))
        try:
            request = RunRequest(plan_name=plan, mode=Mode.DRILL, poll_interval_seconds=30)
            runner = create_execution(
                db, drs, prepare_execution(db, drs, request), request, clock=sim.clock.now
            )

            def sleep(seconds: float) -> None:
                runner.wait_beside(2.0)
                sim.clock.advance(max(seconds, 1.0))

            for _ in range(10):
                result = runner.run(sleep=sleep, return_on_approval=True, max_steps=5000)
                if result.outcome is not None:
                    break
                for gate in result.approvals:
                    runner.control(
                        ApprovalGranted(
                            wave_index=gate.wave_index,
                            phase=gate.phase,
                            step_index=gate.step_index,
                            by="test",
                            at=runner.now(),
                        )
                    )
            assert result.outcome is Outcome.SUCCEEDED
            doc = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
        finally:
            drs.close()
    steps = {s["name"]: s for wave in doc["waves"] for s in wave["automation"]}
    assert steps["databases answer"]["result"] == "PASSED"
    (attempt,) = steps["databases answer"]["attempts"]
    assert [t["status"] for t in attempt["targets"]] == ["PASS"] * 8
    assert steps["web smoke test"]["result"] == "PASSED"
    outputs = [t["output"] for a in steps["web smoke test"]["attempts"] for t in a["targets"]]
    assert len(outputs) == 12 and all("web tier healthy" in o for o in outputs)
