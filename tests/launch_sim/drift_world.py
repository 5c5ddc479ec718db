"""A world for launch settings drift tests: the simulator's DRS and EC2, a database holding its
inventory and a plan "Shop" (web-01, web-02) whose desired instance type and launch disposition are what
web-01 has now, a plan "Bare" desiring nothing, and the out-of-band changes a test makes with boto3."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database


@dataclass
class DriftWorld:
    sim: EmbeddedSimulator
    target: AwsTarget
    db: Database
    inventory: Inventory
    web1: str
    web2: str
    template: str  # web-01's launch template
    instance_type: str  # its default version's instance type, which the plan desires

    def other_type(self) -> str:
        return "m5.2xlarge" if self.instance_type != "m5.2xlarge" else "c5.large"

    def ec2(self) -> Any:
        return boto3.client("ec2", **self.sim.client_kwargs())

    def drs(self) -> Any:
        return boto3.client("drs", **self.sim.client_kwargs())

    def change_instance_type_behind_the_apps_back(self) -> str:
        """A new version of web-01's template with another instance type, made its default; the type."""
        ec2, new_type = self.ec2(), self.other_type()
        made = ec2.create_launch_template_version(
            LaunchTemplateId=self.template,
            SourceVersion="$Default",
            LaunchTemplateData={"InstanceType": new_type},
        )
        number = made["LaunchTemplateVersion"]["VersionNumber"]
        ec2.modify_launch_template(LaunchTemplateId=self.template, DefaultVersion=str(number))
        return new_type


def drift_world(sim: EmbeddedSimulator, tmp_path: Path) -> DriftWorld:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        inventory = drs.inventory()
        web1 = next(s for s in inventory.servers if s.hostname == "shop-web-01")
        web2 = next(s for s in inventory.servers if s.hostname == "shop-web-02")
        config = drs.launch_configuration(web1.source_server_id)
        versions = {v.template_id: v for v in ec2.default_versions()}
    finally:
        drs.close()
        ec2.close()
    current_type = versions[config.ec2_launch_template_id].data.instance_type or ""
    assert current_type
    db = Database.open(tmp_path / "drs.sqlite3")
    inventory_store.save_inventory(db, inventory)
    settings = LaunchSettings(
        defaults=LaunchFields(
            instance_type=current_type, launch_disposition=Disposition(config.launch_disposition)
        )
    )
    servers = (web1.source_server_id, web2.source_server_id)
    plan_store.save_plan(
        db, RecoveryPlan(name="Shop", waves=(Wave(name="web", servers=servers),), launch_settings=settings)
    )
    plan_store.save_plan(
        db, RecoveryPlan(name="Bare", waves=(Wave(name="w", servers=(web1.source_server_id,)),))
    )
    return DriftWorld(
        sim,
        target,
        db,
        inventory,
        web1.source_server_id,
        web2.source_server_id,
        config.ec2_launch_template_id,
        current_type,
    )
