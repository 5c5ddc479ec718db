"""Preflight checks each declared target through its own credentials, on the two-account simulator with the
real boto3 client: one target fine, the other with a role it cannot assume, a profile reaching the wrong
account, or a stalled replication; each finding is reported on its target, and one target's failure does
not stop the other's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.preflight.checks import Check, CheckStatus, PreflightReport
from drs_desktop.services.executions import RunRequest, prepare_execution
from drs_desktop.services.preflight import preflight
from drs_desktop.services.preflight_targets import TARGET_CHECKS
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import (
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    all_servers,
    client,
)

sim = accounts_scenario.two_accounts_sim

READ_ONLY = f"arn:aws:iam::{STAGING}:role/ReadOnly"
REC = f"target 'rec-east' ({RECOVERY}/us-east-1)"
STG = f"target 'staging-01' ({STAGING}/us-east-1)"


@pytest.fixture(autouse=True)
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "credentials").write_text(
        f"[recovery]\naws_access_key_id = {RECOVERY_KEY}\naws_secret_access_key = secret\n"
        f"[staging]\naws_access_key_id = {STAGING_KEY}\naws_secret_access_key = secret\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def _ids(sim: EmbeddedSimulator, key: str) -> list[str]:
    return sorted(s["sourceServerID"] for s in all_servers(client(sim, key=key)))


def _report(sim: EmbeddedSimulator, db: Database, staging: PlanTarget) -> PreflightReport:
    """Preflight of a plan with a wave in each account, connected to the recovery account."""
    recovery = PlanTarget("rec-east", RECOVERY, "us-east-1", profile="recovery")
    plan = RecoveryPlan(
        "Two accounts",
        rpo_minutes=60,
        targets=(recovery, staging),
        protection_groups=(
            ProtectionGroup("rec-apps", server_ids=tuple(_ids(sim, RECOVERY_KEY)[:2]), target="rec-east"),
            ProtectionGroup("stg-apps", server_ids=tuple(_ids(sim, STAGING_KEY)[:3]), target="staging-01"),
        ),
        waves=(Wave("Data", groups=("rec-apps",)), Wave("Apps", groups=("stg-apps",), depends_on=("Data",))),
    )
    save_plan(db, plan)
    gateway = DrsGateway(AwsTarget(profile="recovery", region="us-east-1", endpoint_url=sim.endpoint_url))
    request = RunRequest(plan_name=plan.name, mode=Mode.DRILL)
    prepared = prepare_execution(db, gateway, request)
    return preflight(db, gateway, prepared, request, now=sim.clock.now())


def _of(report: PreflightReport, label: str) -> list[Check]:
    return [c for c in report.checks if c.message.startswith(label + ": ")]


def _failed(checks: list[Check]) -> list[str]:
    return [c.name for c in checks if c.status is CheckStatus.FAIL]


def test_a_role_that_cannot_be_assumed_fails_its_target_only(sim: EmbeddedSimulator, db: Database) -> None:
    bad = PlanTarget(
        "staging-01",
        STAGING,
        "us-east-1",
        role_arn=f"arn:aws:iam::{STAGING}:role/Nobody",
        source_profile="recovery",
    )
    report = _report(sim, db, bad)
    staging, recovery = _of(report, STG), _of(report, REC)

    assert [c.name for c in staging] == list(TARGET_CHECKS)
    assert _failed(staging) == list(TARGET_CHECKS)
    assert f"Could not assume the role arn:aws:iam::{STAGING}:role/Nobody" in staging[0].message
    assert all("not checked: cannot be reached" in c.message for c in staging[1:])
    assert _failed(recovery) == []
    assert recovery[0].message == f"{REC}: reached as arn:aws:iam::{RECOVERY}:user/drs-desktop-simulator"
    assert any(c.name == "replication" and "2 server(s) replicating" in c.message for c in recovery)


def test_a_reachable_role_checks_its_own_accounts_servers(sim: EmbeddedSimulator, db: Database) -> None:
    good = PlanTarget("staging-01", STAGING, "us-east-1", role_arn=READ_ONLY, source_profile="recovery")
    report = _report(sim, db, good)
    staging = _of(report, STG)

    assert _failed(staging) == [] and _failed(_of(report, REC)) == []
    assert staging[0].message == f"{STG}: reached as arn:aws:sts::{STAGING}:assumed-role/ReadOnly/drs-desktop"
    assert f"{STG}: all 3 server(s) are in its inventory" in [c.message for c in staging]
    assert any(c.name == "quotas" and c.status is CheckStatus.PASS for c in staging)


def test_a_profile_reaching_another_account_fails_with_both_accounts_named(
    sim: EmbeddedSimulator, db: Database
) -> None:
    wrong = PlanTarget("staging-01", STAGING, "us-east-1", profile="recovery")
    staging = _of(_report(sim, db, wrong), STG)
    assert _failed(staging) == list(TARGET_CHECKS)
    assert f"its credentials reach account {RECOVERY}" in staging[0].message
    assert f"not the declared {STAGING}" in staging[0].message


def test_a_stalled_replication_is_reported_on_its_target(sim: EmbeddedSimulator, db: Database) -> None:
    stalled = _ids(sim, STAGING_KEY)[1]
    sim.estate.backend(STAGING, "us-east-1").stall_replication([stalled])
    good = PlanTarget("staging-01", STAGING, "us-east-1", role_arn=READ_ONLY, source_profile="recovery")
    report = _report(sim, db, good)
    staging, recovery = _of(report, STG), _of(report, REC)

    failed = [c for c in staging if c.status is CheckStatus.FAIL]
    assert [(c.name, c.server_id, c.wave) for c in failed] == [("replication", stalled, "Apps")]
    assert "replication is STALLED" in failed[0].message
    assert _failed(recovery) == []
