"""Launch settings drift on the simulator: a plan's desired state matches what DRS and EC2 hold, an
out-of-band change with boto3 (a new default template version, a launch configuration) is read as
drift, and accepting it saves a revision whose preview shows that server as desired again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.errors import PlanConflictError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.launch_drift import DriftState
from drs_desktop.services.launch_drift import LaunchDriftService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def world(
    sim: EmbeddedSimulator, tmp_path: Path
) -> Iterator[tuple[Database, LaunchDriftService, dict[str, Any]]]:
    """A database with the inventory and a plan whose desired instance type and launch disposition are
    what web-01 has now; the service on the simulator; and web-01's facts."""
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    inventory: Inventory = drs.inventory()
    web1 = next(s for s in inventory.servers if s.hostname == "shop-web-01")
    web2 = next(s for s in inventory.servers if s.hostname == "shop-web-02")
    config = drs.launch_configuration(web1.source_server_id)
    versions = {v.template_id: v for v in ec2.default_versions()}
    current_type = versions[config.ec2_launch_template_id].data.instance_type or ""
    assert current_type
    drs.close()
    ec2.close()
    db = Database.open(tmp_path / "drs.sqlite3")
    inventory_store.save_inventory(db, inventory)
    settings = LaunchSettings(
        defaults=LaunchFields(
            instance_type=current_type, launch_disposition=Disposition(config.launch_disposition)
        )
    )
    plan = RecoveryPlan(
        name="Shop",
        waves=(Wave(name="web", servers=(web1.source_server_id, web2.source_server_id)),),
        launch_settings=settings,
    )
    plan_store.save_plan(db, plan)
    plan_store.save_plan(
        db, RecoveryPlan(name="Bare", waves=(Wave(name="w", servers=(web1.source_server_id,)),))
    )
    service = LaunchDriftService(
        db, lambda: DrsGateway(target), lambda: Ec2Gateway(target), clock=lambda: NOW
    )
    facts = {
        "web1": web1.source_server_id,
        "web2": web2.source_server_id,
        "template": config.ec2_launch_template_id,
    }
    facts["type"] = current_type
    try:
        yield db, service, facts
    finally:
        service.close()
        db.close()


def _clients(sim: EmbeddedSimulator) -> tuple[Any, Any]:
    return boto3.client("ec2", **sim.client_kwargs()), boto3.client("drs", **sim.client_kwargs())


def _other_type(current: str) -> str:
    return "m5.2xlarge" if current != "m5.2xlarge" else "c5.large"


def test_no_drift_then_an_out_of_band_template_version_is_read_as_drift(
    sim: EmbeddedSimulator, world: tuple[Database, LaunchDriftService, dict[str, Any]]
) -> None:
    _db, service, facts = world
    before = service.read()
    assert [p.plan_name for p in before.plans] == ["Shop"]  # "Bare" desires nothing: not read
    assert before.read_at == NOW
    shop = before.plans[0]
    web1 = shop.server(facts["web1"])
    assert web1 is not None and web1.state is DriftState.AS_DESIRED
    assert before.column_text(facts["web1"]) == "as desired"

    ec2, _ = _clients(sim)
    made = ec2.create_launch_template_version(
        LaunchTemplateId=facts["template"],
        SourceVersion="$Default",
        LaunchTemplateData={"InstanceType": _other_type(facts["type"])},
    )
    number = made["LaunchTemplateVersion"]["VersionNumber"]
    ec2.modify_launch_template(LaunchTemplateId=facts["template"], DefaultVersion=str(number))

    after = service.read()
    drifted = after.plans[0].server(facts["web1"])
    assert drifted is not None and drifted.state is DriftState.DRIFTED
    assert drifted.fields == ("instance_type",)
    assert tuple(str(c) for c in drifted.changes) == (
        f"instance_type: {_other_type(facts['type'])} -> {facts['type']}",
    )
    assert after.column_text(facts["web1"]) == "1 field(s) drifted"
    assert after.plans[0].summary().startswith("launch settings: 1 server drifted")
    assert after.column_text("s-not-in-any-plan") == "no desired state"


def test_accepting_a_drift_saves_a_revision_whose_preview_shows_the_server_as_desired(
    sim: EmbeddedSimulator, world: tuple[Database, LaunchDriftService, dict[str, Any]]
) -> None:
    db, service, facts = world
    ec2, drs = _clients(sim)
    new_type = _other_type(facts["type"])
    made = ec2.create_launch_template_version(
        LaunchTemplateId=facts["template"],
        SourceVersion="$Default",
        LaunchTemplateData={"InstanceType": new_type},
    )
    ec2.modify_launch_template(
        LaunchTemplateId=facts["template"], DefaultVersion=str(made["LaunchTemplateVersion"]["VersionNumber"])
    )
    current = drs.get_launch_configuration(sourceServerID=facts["web1"])["launchDisposition"]
    flipped = "STOPPED" if current == "STARTED" else "STARTED"
    drs.update_launch_configuration(sourceServerID=facts["web1"], launchDisposition=flipped)
    shop = service.read_plan("Shop")
    web1 = shop.server(facts["web1"])
    assert web1 is not None and set(web1.fields) == {"instance_type", "launch_disposition"}

    with pytest.raises(PlanConflictError):
        service.accept("Shop", facts["web1"], base_revision=shop.revision + 5)
    accepted = service.accept("Shop", facts["web1"], base_revision=shop.revision)

    assert accepted.revision == shop.revision + 1
    assert set(accepted.accepted) == {"instance_type", "launch_disposition"}
    stored = plan_store.load_plan(db, "Shop")
    assert stored.revision.revision == accepted.revision
    assert "accepted launch settings drift of shop-web-01" in stored.revision.comment
    (override,) = stored.plan.launch_settings.overrides
    assert override.servers == (facts["web1"],)
    assert override.settings.instance_type == new_type
    assert override.settings.launch_disposition == flipped
    again = service.read_plan("Shop")
    assert again.revision == accepted.revision
    server = again.server(facts["web1"])
    assert server is not None and server.state is DriftState.AS_DESIRED, server
    # web-02 kept the plan's defaults: its own state is unchanged by web-01's acceptance
    other = again.server(facts["web2"])
    assert other is not None and other == shop.server(facts["web2"])
