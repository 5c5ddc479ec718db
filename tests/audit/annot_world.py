"""The world of the annotation tests: the small estate in one account with two IAM users (the operator's
keys and an auditor's), AWS config files naming both profiles, and a drill run through the real runner
on the simulator's manual clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, TestBrief, Wave
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

ACCOUNT = "123456789012"
OPERATOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/dr-operator"
AUDITOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/auditor"


def two_people_scenario() -> dict[str, Any]:
    """The shipped small estate, as one account of a scenario with ``accounts:``: the account's own keys
    (and the simulator's default key) are the operator, ``AKIAAUDITOR*`` the auditor."""
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    fleet = data.pop("fleet")
    data["accounts"] = [
        {
            "id": ACCOUNT,
            "access_keys": ["AKIAOPERATOR*"],
            "identity_arn": OPERATOR_ARN,
            "fleet": fleet,
            "users": [{"name": "auditor", "access_keys": ["AKIAAUDITOR*"]}],
        }
    ]
    return data


def write_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS config files with the profiles ``operator`` and ``auditor`` (their keys reach the simulator's
    account as the two users); the environment points at them for this test."""
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.write_text("[profile operator]\nregion = us-east-1\n\n[profile auditor]\nregion = us-east-1\n")
    credentials.write_text(
        "[operator]\naws_access_key_id = AKIAOPERATOR0001\naws_secret_access_key = operator-secret\n\n"
        "[auditor]\naws_access_key_id = AKIAAUDITOR0001\naws_secret_access_key = auditor-secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))


def ids(sim: EmbeddedSimulator, *hostnames: str) -> tuple[str, ...]:
    return tuple(sim.backend.server_id_of(name) for name in hostnames)


def shop_plan(sim: EmbeddedSimulator, *, brief: TestBrief | None = None) -> RecoveryPlan:
    plan = RecoveryPlan(
        name="Shop",
        rpo_minutes=30,
        waves=(
            Wave(name="Database", servers=ids(sim, "shop-db-01")),
            Wave(name="App", servers=ids(sim, "shop-app-01", "shop-app-02")),
            Wave(name="Web", servers=ids(sim, "shop-web-01", "shop-web-02")),
        ),
    )
    if brief is not None:
        from dataclasses import replace

        plan = replace(plan, brief=brief)
    return plan


def gateway_of(sim: EmbeddedSimulator) -> DrsGateway:
    return DrsGateway(
        AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url), read_max_attempts=1
    )


def new_run(
    db: Database, sim: EmbeddedSimulator, plan: RecoveryPlan, request: RunRequest | None = None
) -> ExecutionRunner:
    """A new execution of ``plan`` (saved first), created on the simulator's clock; nothing launched."""
    save_plan(db, plan)
    gateway = gateway_of(sim)
    asked = request or RunRequest(plan_name=plan.name, mode=Mode.DRILL, poll_interval_seconds=30)
    prepared = prepare_execution(db, gateway, asked)
    return create_execution(db, gateway, prepared, asked, clock=sim.clock.now)


def advance(sim: EmbeddedSimulator) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        sim.clock.advance(max(seconds, 1.0))

    return sleep


def journal_events(db: Database, execution_id: str) -> list[Event]:
    return list(journal.read_journal(db, journal.get_execution(db, execution_id)).events)


def journal_payloads(db: Database, execution_id: str) -> list[dict[str, Any]]:
    return [dict(entry.payload) for entry in journal.load_journal(db, execution_id)]
