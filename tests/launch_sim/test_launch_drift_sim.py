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
