"""``drs-desktop launch-settings plan|apply|drift`` on the simulator (real boto3): the preview and its
exit codes, an apply with --yes verified, drift after an out-of-band change, and an interrupted apply
finished by ``--resume`` and by the next apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import AppPaths
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.services.launch_apply import ApplyProgress, run_apply, start_apply
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.launch_applies import ApplyStatus, ServerStep, load_apply
from drs_desktop.storage.plans import load_plan, save_plan
from tests.launch_sim.test_launch_apply_sim import shop_plan

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def gateways(sim: EmbeddedSimulator) -> Iterator[tuple[DrsGateway, Ec2Gateway]]:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    yield drs, ec2
    drs.close()
    ec2.close()


def where(sim: EmbeddedSimulator, home: Path) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region, "--home", str(home)]


def _save(home: Path, plan: RecoveryPlan) -> None:
    with Database.open(AppPaths.resolve(home).database) as db:
        save_plan(db, plan)


def test_plan_previews_and_exits_1_when_a_server_is_blocked(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], app_home: Path, cli: Cli
) -> None:
    _save(app_home, shop_plan(sim, gateways[1], blocked=True))
    result = cli("launch-settings", "plan", "Shop", "--json", *where(sim, app_home))
    assert result.code == 1, result.err
    data = result.json()
    assert data["totals"] == {"servers": 5, "changed": 5, "blocked": 1, "unchanged": 0, "to_apply": 4}
    assert data["calls"] == {
        "CreateLaunchTemplateVersion": 4,
        "ModifyLaunchTemplate": 4,
        "UpdateLaunchConfiguration": 4,
    }
    blocked = [s for s in data["servers"] if s["blocked"]]
    assert [e["code"] for e in blocked[0]["errors"]] == ["unknown_subnet"]

    text = cli("launch-settings", "apply", "Shop", *where(sim, app_home))
    assert text.code == 1 and "Nothing applied" in text.out and "BLOCKED" in text.out
    assert sim.backend.request_counts().get("ec2:CreateLaunchTemplateVersion", 0) == 0


def test_apply_with_yes_then_drift_after_an_out_of_band_change(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], app_home: Path, cli: Cli
) -> None:
    _save(app_home, shop_plan(sim, gateways[1]))
    assert cli("launch-settings", "plan", "Shop", *where(sim, app_home)).code == 0
    done = cli("launch-settings", "apply", "Shop", "--yes", "--json", *where(sim, app_home))
    assert done.code == 0, done.err
    data = done.json()
    assert data["outcome"] == "applied" and data["counts"] == {"VERIFIED": 5, "FAILED": 0, "SKIPPED": 0}
    assert {s["new_version"] for s in data["servers"]} == {2}
    assert "[5/5]" in done.err  # progress goes to stderr beside --json

    in_sync = cli("launch-settings", "drift", "--json", *where(sim, app_home))
    assert in_sync.code == 0 and in_sync.json()["outcome"] == "in_sync"
    server_id = sim.backend.server_id_of("shop-web-02")
    boto3.client("drs", **sim.client_kwargs()).update_launch_configuration(
        sourceServerID=server_id, launchDisposition="STARTED"
    )
    drift = cli("launch-settings", "drift", "Shop", "--json", *where(sim, app_home))
    assert drift.code == 1
    (plan,) = drift.json()["plans"]
    (server,) = plan["servers"]
    assert server["server_id"] == server_id
    assert [(c["field"], c["before"], c["after"]) for c in server["changes"]] == [
        ("launch_disposition", "STARTED", "STOPPED")
    ]


def _interrupted(home: Path, drs: DrsGateway, ec2: Ec2Gateway) -> str:
    """An apply of Shop stopped when its second server's new version is made, not yet default."""
    with Database.open(AppPaths.resolve(home).database) as db:
        stored = load_plan(db, "Shop")
        preview, _ = preview_plan(stored, drs.inventory(), drs, ec2)
        record = start_apply(db, stored, preview, drs)
        second = record.servers[1].server_id

        def stop(progress: ApplyProgress) -> None:
            if progress.server_id == second and progress.step is ServerStep.VERSION_CREATED:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run_apply(db, record, drs, ec2, on_progress=stop, workers=1)
        return record.apply_id


def test_resume_finishes_an_interrupted_apply_and_the_next_apply_does_too(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], app_home: Path, cli: Cli
) -> None:
    drs, ec2 = gateways
    _save(app_home, shop_plan(sim, ec2))
    first = _interrupted(app_home, drs, ec2)
    shown = cli("launch-settings", "apply", "--resume", first, "--json", *where(sim, app_home))
    assert shown.code == 0, shown.err
    assert shown.json()["status"] == "DONE" and shown.json()["counts"]["VERIFIED"] == 5

    # desired state changed, another apply interrupted: the next apply finishes it first
    with Database.open(AppPaths.resolve(app_home).database) as db:
        plan = load_plan(db, "Shop").plan
        defaults = plan.launch_settings.defaults
        from dataclasses import replace

        save_plan(
            db,
            replace(
                plan,
                launch_settings=replace(
                    plan.launch_settings, defaults=replace(defaults, instance_type="m5.large")
                ),
            ),
        )
    second = _interrupted(app_home, drs, ec2)
    nxt = cli("launch-settings", "apply", "Shop", "--yes", "--json", *where(sim, app_home))
    assert nxt.code == 0, nxt.err
    assert nxt.json()["resumed"] == [second] and nxt.json()["servers"] == []
    with Database.open(AppPaths.resolve(app_home).database) as db:
        record = load_apply(db, second)
    assert record is not None and record.status is ApplyStatus.DONE
    assert [s.step for s in record.servers] == [ServerStep.VERIFIED] * 5
    for server_id in (s.server_id for s in record.servers):
        template_id = drs.launch_configuration(server_id).ec2_launch_template_id
        assert len(ec2.template_versions(template_id)) == 3  # one version per apply, never two

    unknown = cli("launch-settings", "apply", "--resume", "nope", *where(sim, app_home))
    assert unknown.code == 2 and "no launch settings apply nope" in unknown.err
