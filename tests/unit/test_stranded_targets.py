"""Which unfinished run this session may resume: only against its own endpoint, Region and profile, and
its own account when both are known; a simulator's run only in the very world it ran in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.views.stranded import SIMULATOR_WORLD_KEY, split_unfinished, stranded

PROD, OTHER = "111122223333", "444455556666"


def run(target: dict[str, Any], account: str | None = PROD) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id="e-1",
        plan_id="p",
        plan_revision_id="r",
        plan_name="Shop",
        plan_revision=1,
        mode="RECOVERY",
        status="RUNNING",
        started_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        options={"target": target},
        identity={"account": account} if account else {},
    )


AWS_A = {"endpoint_url": None, "profile": "prod", "region": "eu-west-1"}


def here(**changes: Any) -> dict[str, Any]:
    return {**AWS_A, "account": PROD, SIMULATOR_WORLD_KEY: None, **changes}


def test_a_run_resumes_against_its_own_profile_and_account() -> None:
    assert stranded(run(AWS_A), here()) is None
    assert stranded(run(AWS_A), here(account=None)) is None, "the account is compared when known"
    assert stranded(run(AWS_A, account=None), here()) is None, "an older record knows no account"


def test_a_run_of_another_profile_waits_for_its_own_target() -> None:
    found = stranded(run(AWS_A), here(profile="staging"))
    assert found is not None and not found.gone
    assert "waits for its own target (AWS in eu-west-1, profile prod, account 111122223333)" in found.reason
    assert "profile staging" in found.reason
    resumable, left = split_unfinished([run(AWS_A)], here(profile="staging"))
    assert resumable == [] and [s.record for s in left] == [run(AWS_A)]


def test_the_same_profile_name_reaching_another_account_is_not_the_run_s_target() -> None:
    found = stranded(run(AWS_A), here(account=OTHER))
    assert found is not None and not found.gone
    assert f"account {PROD}" in found.reason and f"account {OTHER}" in found.reason


def test_a_demo_run_resumes_only_in_its_own_world() -> None:
    demo = {"endpoint_url": "http://127.0.0.1:4566", "profile": None, "region": "us-east-1"}
    mine = run({**demo, SIMULATOR_WORLD_KEY: "w1"}, account=None)
    now = {**demo, "account": "123456789012"}
    assert stranded(mine, {**now, SIMULATOR_WORLD_KEY: "w1"}) is None
    again = stranded(mine, {**now, SIMULATOR_WORLD_KEY: "w2"})
    assert again is not None and again.gone and "another world" in again.reason
    older = stranded(run(demo, account=None), {**now, SIMULATOR_WORLD_KEY: "w2"})
    assert older is not None and older.gone, "a record without a world is not this world's"
    elsewhere = stranded(mine, {**now, "endpoint_url": "http://127.0.0.1:5000", SIMULATOR_WORLD_KEY: "w1"})
    assert elsewhere is not None and elsewhere.gone
    aws_run_in_demo = stranded(run(AWS_A), {**now, SIMULATOR_WORLD_KEY: "w2"})
    assert aws_run_in_demo is not None and not aws_run_in_demo.gone
    assert "this session runs against the demo" in aws_run_in_demo.reason
