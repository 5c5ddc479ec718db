"""The first-run demo's sample plan: it imports, and every group finds servers of the demo estate."""

from __future__ import annotations

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.config import resource_path
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.plan.validation import Severity, resolve_group, validate_plan
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.planfile import load_plan_file
from drs_desktop.storage.plans import load_plan
from tests.services.settings_fixtures import db_fixture  # noqa: F401

SAMPLE = "sample-plan.yaml"


def test_sample_plan_resolves_against_the_demo_estate(db: Database) -> None:
    path = resource_path(SAMPLE)
    assert path.is_file()
    loaded = load_plan_file(path)
    with EmbeddedSimulator("demo") as sim:
        gateway = DrsGateway(AwsTarget(None, sim.region, sim.endpoint_url))
        inventory = gateway.inventory()
        gateway.close()
    problems = validate_plan(loaded.plan, inventory)
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    sizes = {group.name: len(resolve_group(group, inventory)) for group in loaded.plan.protection_groups}
    assert sizes == {
        "payments-db": 4,
        "orders-db": 4,
        "payments-app": 6,
        "orders-app": 6,
        "payments-web": 6,
        "orders-web": 6,
    }
    imported = PlanLibrary(db).import_file(path)
    assert imported.created and imported.revision.name == "Payments and orders (sample)"


def test_sample_plan_carries_its_test_brief_and_cadence(db: Database) -> None:
    path = resource_path(SAMPLE)
    assert "format: drs-desktop/plan@4" in path.read_text(encoding="utf-8")
    imported = PlanLibrary(db).import_file(path)
    stored = load_plan(db, imported.revision.name).plan
    assert stored == load_plan_file(path).plan
    brief = stored.brief
    assert brief.scenario == "Loss of the primary site"
    assert len(brief.objectives) == 2 and len(brief.success_criteria) == 2
    assert brief.participants == ("DR lead", "Database administrator", "Payments application owner")
    assert stored.cadence == Cadence(every_days=90, retest_days=30, after_changes=True)
    assert validate_plan(stored) == []
