"""Launch settings drift on the simulator: a plan's desired state matches what DRS and EC2 hold, an
out-of-band change with boto3 (a new default template version, a launch configuration) is read as
drift, and accepting it saves a revision whose preview shows that server as desired again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.errors import DrsDesktopError, PlanConflictError
from drs_desktop.domain.views.launch_drift import DriftState
from drs_desktop.services.launch_drift import LaunchDriftService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import plans as plan_store
from tests.launch_sim.drift_world import DriftWorld, drift_world

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[DriftWorld, LaunchDriftService]]:
    with EmbeddedSimulator("small", seed=7) as sim:
        built = drift_world(sim, tmp_path)
        target = built.target
        service = LaunchDriftService(
            built.db, lambda: DrsGateway(target), lambda: Ec2Gateway(target), clock=lambda: NOW
        )
        try:
            yield built, service
        finally:
            service.close()
            built.db.close()


def test_no_drift_then_an_out_of_band_template_version_is_read_as_drift(
    world: tuple[DriftWorld, LaunchDriftService],
) -> None:
    w, service = world
    before = service.read()
    assert [p.plan_name for p in before.plans] == ["Shop"]  # "Bare" desires nothing: not read
    assert before.read_at == NOW
    web1 = before.plans[0].server(w.web1)
    assert web1 is not None and web1.state is DriftState.AS_DESIRED
    assert before.column_text(w.web1) == "as desired"
    with pytest.raises(DrsDesktopError, match="as desired now: nothing to accept"):
        service.accept("Shop", w.web1, base_revision=before.plans[0].revision)

    new_type = w.change_instance_type_behind_the_apps_back()

    after = service.read()
    drifted = after.plans[0].server(w.web1)
    assert drifted is not None and drifted.state is DriftState.DRIFTED
    assert drifted.fields == ("instance_type",)
    assert tuple(str(c) for c in drifted.changes) == (f"instance_type: {new_type} -> {w.instance_type}",)
    assert after.column_text(w.web1) == "1 field(s) drifted"
    assert after.plans[0].summary() == "launch settings: 1 server drifted"
    assert after.column_text("s-not-in-any-plan") == "no desired state"


def test_accepting_a_drift_saves_a_revision_whose_preview_shows_the_server_as_desired(
    world: tuple[DriftWorld, LaunchDriftService],
) -> None:
    w, service = world
    new_type = w.change_instance_type_behind_the_apps_back()
    drs = w.drs()
    current = drs.get_launch_configuration(sourceServerID=w.web1)["launchDisposition"]
    flipped = "STOPPED" if current == "STARTED" else "STARTED"
    drs.update_launch_configuration(sourceServerID=w.web1, launchDisposition=flipped)
    shop = service.read_plan("Shop")
    web1 = shop.server(w.web1)
    assert web1 is not None and set(web1.fields) == {"instance_type", "launch_disposition"}

    with pytest.raises(PlanConflictError):
        service.accept("Shop", w.web1, base_revision=shop.revision + 5)
    accepted = service.accept("Shop", w.web1, base_revision=shop.revision)

    assert accepted.revision == shop.revision + 1
    assert set(accepted.accepted) == {"instance_type", "launch_disposition"}
    stored = plan_store.load_plan(w.db, "Shop")
    assert stored.revision.revision == accepted.revision
    assert "accepted launch settings drift of shop-web-01" in stored.revision.comment
    (override,) = stored.plan.launch_settings.overrides
    assert override.servers == (w.web1,)
    assert override.settings.instance_type == new_type
    assert override.settings.launch_disposition == flipped
    again = service.read_plan("Shop")
    assert again.revision == accepted.revision
    server = again.server(w.web1)
    assert server is not None and server.state is DriftState.AS_DESIRED, server
    # web-02 kept the plan's defaults: its own state is unchanged by web-01's acceptance
    assert again.server(w.web2) == shop.server(w.web2)


def test_a_template_left_on_a_drill_version_reads_first_and_in_every_plan_holding_the_server(
    world: tuple[DriftWorld, LaunchDriftService],
) -> None:
    from drs_desktop.domain.ec2 import LaunchTemplateData, drill_description
    from drs_desktop.domain.launch.isolation import DrillProfile
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave

    w, service = world
    # a plan that only drills into a drill network (no launch settings) holding web-01
    profile = DrillProfile(subnets=("subnet-0a1b2c3d4e5f60718",), production_cidrs=("10.20.0.0/16",))
    plan_store.save_plan(
        w.db, RecoveryPlan(name="Drills", waves=(Wave(name="w", servers=(w.web1,)),), drill_profile=profile)
    )
    before = service.read()
    assert not before.drill_pointed and before.column_text(w.web1) == "as desired"
    drills = before.plan("Drills")
    assert drills is not None and drills.summary() == "launch settings: none desired"

    ec2 = Ec2Gateway(w.target)
    try:
        (production,) = ec2.template_versions(w.template, ["$Default"])
        left = ec2.create_template_version(
            w.template,
            LaunchTemplateData(instance_type=w.instance_type),
            source_version=production.version,
            description=drill_description("0123456789abcdef", production.version),
        )
        ec2.set_default_version(w.template, left.version)  # a drill killed while pointed
    finally:
        ec2.close()
    after = service.read()
    assert w.web1 in after.drill_pointed and w.web2 not in after.drill_pointed
    assert after.column_text(w.web1).startswith("DRILL VERSION")
    assert "drill version" in after.tooltip(w.web1) and "launch-settings restore" in after.tooltip(w.web1)
    for name in ("Shop", "Drills"):
        plan = after.plan(name)
        assert plan is not None and plan.drill_pointed == (w.web1,)
        assert "1 server launch from a DRILL version" in plan.summary()
        assert f"restore --plan {name}" in plan.summary()  # shell-quoted: a plain name needs no quotes
