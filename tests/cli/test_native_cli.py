"""``drs-desktop native publish|import|diff|status|adopt`` on the simulator (real boto3), with --json and
exit codes: 0 done, 1 does not fit / drift / DRS refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, WaitStep, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region, "--home", str(home)]


def _save(home: Path, sim: EmbeddedSimulator, *waves: Wave, name: str = "Payments") -> None:
    with Database.open(AppPaths.resolve(home).database) as db:
        plan_store.save_plan(db, RecoveryPlan(name=name, waves=waves))


def _servers(sim: EmbeddedSimulator) -> list[str]:
    return sorted(sim.backend.world.servers)


def test_publish_preview_then_publish_then_diff_and_status(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    s = _servers(sim)
    _save(
        app_home, sim, Wave("Web", servers=(s[0],)), Wave("App", servers=(s[1], s[2]), before=(WaitStep(3),))
    )
    preview = cli("native", "publish", "Payments", "--json", *where(sim, app_home))
    assert preview.code == 0, preview.err
    assert preview.json()["outcome"] == "preview" and preview.json()["actions"][0].startswith(
        "create native plan"
    )
    client = boto3.client("drs", **sim.client_kwargs())
    assert client.list_recovery_plans()["recoveryPlans"] == []  # a preview sends nothing

    done = cli("native", "publish", "Payments", "--yes", "--json", *where(sim, app_home))
    assert done.code == 0, done.err
    arn = done.json()["plan_arn"]
    assert done.json()["outcome"] == "published" and arn.startswith("arn:aws:drs:")

    in_sync = cli("native", "diff", "Payments", *where(sim, app_home))
    assert in_sync.code == 0 and "DRS has what revision 1 published" in in_sync.out

    steps = client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"]
    client.delete_recovery_plan_step(recoveryPlanStepArn=steps[0]["recoveryPlanStepArn"])
    drift = cli("native", "diff", "Payments", "--json", *where(sim, app_home))
    assert drift.code == 1 and drift.json()["outcome"] == "drift"
    assert any("Web" in line for line in drift.json()["changed_in_drs"])

    status = cli("native", "status", "--json", *where(sim, app_home))
    assert status.code == 0
    [row] = status.json()["plans"]
    assert row["plan"] == "Payments" and row["drift"] is True and row["plan_arn"] == arn

    shown = cli("native", "adopt", "Payments", *where(sim, app_home))
    assert shown.code == 0 and "wave 'Web' removed" in shown.out  # what is lost, before anything is saved
    fingerprint = shown.out.split("--expect ")[1].split()[0]
    assert cli("native", "diff", "Payments", *where(sim, app_home)).code == 1  # nothing saved yet
    adopted = cli("native", "adopt", "Payments", "--yes", "--expect", fingerprint, *where(sim, app_home))
    assert adopted.code == 0 and "revision 2" in adopted.out
    assert cli("native", "diff", "Payments", *where(sim, app_home)).code == 0


def test_a_plan_that_does_not_fit_exits_1_with_its_problems(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    s = _servers(sim)
    _save(app_home, sim, Wave("Gated", servers=(s[0],), before=(ApprovalStep("go?"),)))
    result = cli("native", "publish", "Payments", "--yes", *where(sim, app_home))
    assert result.code == 1
    assert "does not fit" in result.out and "Gated" in result.out
    as_json = cli("native", "publish", "Payments", "--yes", "--json", *where(sim, app_home))
    assert as_json.code == 1 and as_json.json()["problems"][0]["code"] == "approval_gate"


def test_drs_refusing_a_call_exits_1_in_one_line(sim: EmbeddedSimulator, app_home: Path, cli: Cli) -> None:
    s = _servers(sim)
    _save(app_home, sim, Wave("Web", servers=(s[0],)))
    client = boto3.client("drs", **sim.client_kwargs())
    client.create_recovery_plan(name="Payments")  # the name is taken: DRS answers ConflictException
    result = cli("native", "publish", "Payments", "--yes", "--json", *where(sim, app_home))
    assert result.code == 1
    assert result.json()["outcome"] == "refused" and result.json()["code"] == "ConflictException"
    assert result.err.count("\n") == 1 and result.err.startswith("DRS refused:")


def test_import_then_not_linked_diff_is_a_clear_error(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    s = _servers(sim)
    _save(app_home, sim, Wave("Web", servers=(s[0],)), name="Local")
    client = boto3.client("drs", **sim.client_kwargs())
    made = client.create_recovery_plan(name="Console")["recoveryPlan"]
    client.create_recovery_plan_step(
        recoveryPlanArn=made["recoveryPlanArn"],
        stepName="Pause",
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 2}},
    )
    client.create_recovery_plan_step(
        recoveryPlanArn=made["recoveryPlanArn"],
        stepName="Db",
        configuration={
            "serverStepConfiguration": {
                "servers": [{"serverArn": sim.backend.world.servers[s[1]].arn, "impactLevel": "CRITICAL"}]
            }
        },
    )
    imported = cli("native", "import", "--json", *where(sim, app_home))
    assert imported.code == 0, imported.err
    assert [i["plan"] for i in imported.json()["imported"]] == ["Console"]
    unlinked = cli("native", "diff", "Local", *where(sim, app_home))
    assert unlinked.code == 1 and "not linked" in unlinked.err


def test_publish_over_drift_needs_overwrite_and_unlink_forgets_the_link(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    s = _servers(sim)
    _save(app_home, sim, Wave("Web", servers=(s[0],)), Wave("App", servers=(s[1],)))
    arn = cli("native", "publish", "Payments", "--yes", "--json", *where(sim, app_home)).json()["plan_arn"]
    client = boto3.client("drs", **sim.client_kwargs())
    steps = client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"]
    client.delete_recovery_plan_step(recoveryPlanStepArn=steps[0]["recoveryPlanStepArn"])
    preview = cli("native", "publish", "Payments", *where(sim, app_home))
    assert preview.code == 0 and "--overwrite" in preview.out and "removed in DRS" in preview.out
    refused = cli("native", "publish", "Payments", "--yes", "--json", *where(sim, app_home))
    assert refused.code == 1 and refused.json()["outcome"] == "refused"
    done = cli("native", "publish", "Payments", "--yes", "--overwrite", *where(sim, app_home))
    assert done.code == 0, done.err
    assert len(client.list_recovery_plan_steps(recoveryPlanArn=arn)["recoveryPlanSteps"]) == 2
    gone = cli("native", "unlink", "Payments", "--json", *where(sim, app_home))
    assert gone.code == 0 and gone.json()["outcome"] == "unlinked"
    assert cli("native", "diff", "Payments", *where(sim, app_home)).code == 1  # not linked any more
