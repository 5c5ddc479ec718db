"""``drs-desktop launch-settings restore``: a drill killed while its templates pointed at the drill network
leaves drill versions as their defaults (a RECOVERY would launch into the drill network); restore finds them
in EC2 alone (no journal of this desktop is read) and sets each production version back. On the simulator,
real boto3."""

from __future__ import annotations

from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.drill_net_events import TemplatesPointed
from drs_desktop.domain.engine.events import Event
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.launch_sim.test_drill_net_sim import (
    Crash,
    defaults,
    save_shop,
    sleeper,
    start,
    templates,
)

from .conftest import Cli

pytestmark = pytest.mark.timeout(120)


def where(sim: EmbeddedSimulator) -> list[str]:
    return ["--endpoint", sim.endpoint_url, "--region", sim.region]


def test_restore_sets_back_what_a_killed_drill_left_pointed(
    sim: EmbeddedSimulator, tmp_path: Path, app_home: Path, cli: Cli
) -> None:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        # the killed run's desktop: another database than the one the CLI opens
        with Database.open(tmp_path / "elsewhere.sqlite3") as db:
            save_shop(db, sim, ec2)
            ids = templates(drs, sim)
            production = defaults(ec2, ids)
            runner = start(db, drs, sim)

            def killed(before: ExecutionState, after: ExecutionState, event: Event) -> None:
                if isinstance(event, TemplatesPointed):
                    raise Crash

            runner.add_listener(killed)
            with pytest.raises(Crash):
                runner.run(sleep=sleeper(sim))
            runner.close()
        left = [s for s, v in defaults(ec2, ids).items() if v != production[s]]
        assert len(left) == 1, "the killed drill left one template pointed"
        (server,) = left

        nothing_here = cli("launch-settings", "restore", "--json", "--home", str(app_home), *where(sim))
        assert nothing_here.code == 0, nothing_here.err
        data = nothing_here.json()
        assert data["outcome"] == "restored"
        (row,) = data["templates"]
        assert row["template_id"] == ids[server] and row["restored"] is True
        assert row["production_version"] == production[server]
        assert row["execution_id"] == runner.execution_id
        assert defaults(ec2, ids) == production

        again = cli("launch-settings", "restore", "--home", str(app_home), *where(sim))
        assert again.code == 0 and "nothing to restore" in again.out
    finally:
        drs.close()
        ec2.close()


def test_restore_leaves_a_drill_this_desktop_still_runs_unless_forced(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """A drill of this desktop, stopped between waves (unfinished in its journal), points its templates on
    purpose: restoring one under it would launch its next wave's servers into production."""
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        with Database.open(app_home / "drs-desktop.sqlite3") as db:  # the CLI's own desktop
            save_shop(db, sim, ec2)
            ids = templates(drs, sim)
            production = defaults(ec2, ids)
            runner = start(db, drs, sim)

            def stopped(before: ExecutionState, after: ExecutionState, event: Event) -> None:
                if isinstance(event, TemplatesPointed):
                    raise Crash

            runner.add_listener(stopped)
            with pytest.raises(Crash):
                runner.run(sleep=sleeper(sim))
            runner.close()
        (server,) = [s for s, v in defaults(ec2, ids).items() if v != production[s]]

        left = cli("launch-settings", "restore", "--json", "--home", str(app_home), *where(sim))
        assert left.code == 0, left.err
        data = left.json()
        assert data["left_running"] == [ids[server]] and data["templates"] == []
        assert "still running on this desktop" in left.err

        # the text on stdout is what an operator reads: it must not say there is no drill version
        text = cli("launch-settings", "restore", "--home", str(app_home), *where(sim))
        assert text.code == 0, text.err
        assert "nothing to restore" not in text.out
        assert "1 template(s) left pointed at the drill network" in text.out
        assert defaults(ec2, ids)[server] != production[server]  # still pointed, as the drill wants

        forced = cli("launch-settings", "restore", "--force", "--json", "--home", str(app_home), *where(sim))
        assert forced.code == 0 and forced.json()["outcome"] == "restored"
        assert defaults(ec2, ids) == production
    finally:
        drs.close()
        ec2.close()


def test_restore_exits_1_for_a_drill_version_that_names_no_production_version(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    from drs_desktop.domain.ec2 import DRILL_VERSION_MARK, LaunchTemplateData

    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        template = drs.launch_configuration(sim.backend.server_id_of("shop-db-01")).ec2_launch_template_id
        made = ec2.create_template_version(
            template,
            LaunchTemplateData(instance_type="t3.small"),
            description=f"{DRILL_VERSION_MARK} by hand",
        )
        ec2.set_default_version(template, made.version)
        result = cli("launch-settings", "restore", "--json", "--home", str(app_home), *where(sim))
        assert result.code == 1
        (row,) = result.json()["templates"]
        assert row["restored"] is False and "names no production version" in row["error"]
        assert ec2.template_versions(template, ["$Default"])[0].version == made.version
    finally:
        drs.close()
        ec2.close()


def test_restore_with_plan_restores_only_that_plans_servers_templates(
    sim: EmbeddedSimulator, app_home: Path, cli: Cli
) -> None:
    """``--plan P`` filters by P's servers' templates (their DRS launch configurations): another plan's
    drill version stays the default until its own restore."""
    from drs_desktop.domain.ec2 import LaunchTemplateData, drill_description
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
    from drs_desktop.storage.plans import save_plan

    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        shop, other = sim.backend.server_id_of("shop-db-01"), sim.backend.server_id_of("crm-web-01")
        with Database.open(app_home / "drs-desktop.sqlite3") as db:
            save_plan(db, RecoveryPlan(name="Shop", waves=(Wave(name="w", servers=(shop,)),)))
            save_plan(db, RecoveryPlan(name="CRM and more", waves=(Wave(name="w", servers=(other,)),)))
        ids = {s: drs.launch_configuration(s).ec2_launch_template_id for s in (shop, other)}
        production = defaults(ec2, ids)
        drill = {}
        for server, template in ids.items():  # two drills killed while pointed, one per plan
            made = ec2.create_template_version(
                template,
                LaunchTemplateData(instance_type="t3.small"),
                source_version=production[server],
                description=drill_description(f"run-of-{server}", production[server]),
            )
            ec2.set_default_version(template, made.version)
            drill[server] = made.version

        only_shop = cli(
            "launch-settings", "restore", "--plan", "Shop", "--json", "--home", str(app_home), *where(sim)
        )
        assert only_shop.code == 0, only_shop.err
        assert [r["template_id"] for r in only_shop.json()["templates"]] == [ids[shop]]
        assert defaults(ec2, ids) == {shop: production[shop], other: drill[other]}, (
            "--plan went past its plan"
        )

        crm = cli(
            "launch-settings", "restore", "--plan", "CRM and more", "--home", str(app_home), *where(sim)
        )
        assert crm.code == 0, crm.err
        assert defaults(ec2, ids) == production
    finally:
        drs.close()
        ec2.close()
