"""The review's findings on native DRS plans (issue 15), each on the simulator over loopback HTTP with
the real boto3 client: unfinished publishes, server order, adopt's merge, drift before overwrite, plan
names, tag groups, renames, wording, unlink, tags on links, stale deletes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from drs_desktop.aws.native_plans import PLAN_TAG, REVISION_TAG, NativePlansGateway
from drs_desktop.domain.native.fit import fit
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.services import native_apply
from drs_desktop.services import native_plans as service
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database
from tests.services.native_fixtures import native_gateway, servers_fixture, sim_client, sim_fixture  # noqa: F401
from tests.services.settings_fixtures import db_fixture  # noqa: F401


@pytest.fixture(name="gateway")
def gateway_fixture(sim: EmbeddedSimulator) -> Iterator[NativePlansGateway]:
    yield from native_gateway(sim)


def _no_sleep(seconds: float) -> None:
    assert seconds >= 0


def _plan(servers: list[str], *, name: str = "Payments", description: str = "test plan") -> RecoveryPlan:
    return RecoveryPlan(
        name=name,
        description=description,
        waves=(
            Wave("Tier 1", servers=(servers[0], servers[1])),
            Wave("Tier 2", servers=(servers[2],), before=(WaitStep(5),)),
        ),
    )


def _publish(db: Database, gateway: NativePlansGateway, name: str = "Payments", **kw: Any) -> Any:
    return service.publish(db, gateway, name, sleep=_no_sleep, **kw)


def _steps(sim: EmbeddedSimulator, plan_arn: str) -> list[dict[str, Any]]:
    steps = sim_client(sim).list_recovery_plan_steps(recoveryPlanArn=plan_arn)["recoveryPlanSteps"]
    return sorted(steps, key=lambda s: s["stepOrder"])


def _arns(gateway: NativePlansGateway) -> dict[str, str]:
    return {s.source_server_id: s.arn for s in gateway.drs.describe_source_servers()}


# 1 ------------------------------------------------------------------------------------------------------


def test_a_first_publish_cut_short_is_found_by_its_tag_and_finished_not_created_twice(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    rev = plan_store.save_plan(db, _plan(servers))
    sim.faults.server_errors("CreateRecoveryPlanStep", count=100)
    with pytest.raises(service.PublishIncomplete) as cut:
        _publish(db, gateway)
    assert any("created native plan" in d for d in cut.value.done)
    link = native_links.get_link(db, rev.plan_id)
    assert link is not None and link.incomplete  # stored right after CreateRecoveryPlan
    native_links.delete_link(db, rev.plan_id)  # as if the process died before it could be stored
    sim.faults.clear()
    result = _publish(db, gateway)
    assert result.outcome == "published"
    plans = sim_client(sim).list_recovery_plans()["recoveryPlans"]
    assert [p["recoveryPlanArn"] for p in plans] == [result.plan_arn] == [link.recovery_plan_arn]
    assert [s["stepName"] for s in _steps(sim, result.plan_arn)] == [
        s.name for s in fit(_plan(servers), plan_name="Payments").steps
    ]
    done = native_links.get_link(db, rev.plan_id)
    assert done is not None and not done.incomplete


# 2 ------------------------------------------------------------------------------------------------------


def test_a_publish_refused_halfway_says_what_was_done_and_is_ours_not_drift_until_finished(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    first = _publish(db, gateway)
    edited = RecoveryPlan(
        name="Payments",
        description="test plan",
        waves=(
            Wave("Tier 1", servers=(servers[0],)),  # an update: sent
            Wave("Tier 2", servers=(servers[2],), before=(WaitStep(5),)),
            Wave("Tier 3", servers=(servers[3],)),  # a create: refused
        ),
    )
    plan_store.save_plan(db, edited)
    sim.faults.server_errors("CreateRecoveryPlanStep", count=100)
    with pytest.raises(service.PublishIncomplete) as cut:
        _publish(db, gateway)
    message = str(cut.value)
    assert "updated step 'Tier 1'" in message and "create step 'Tier 3'" in message
    assert cut.value.done == ("updated step 'Tier 1'",) and cut.value.left == ("create step 'Tier 3'",)
    [row] = service.status(db, gateway)
    assert row.incomplete_revision == 2 and row.drift is False
    assert "publish of revision 2 incomplete" in row.note
    found = service.diff(db, gateway, "Payments")
    assert not found.drift and found.in_drs == ()  # our half-sent update is not a change made in DRS
    assert "did not finish" in found.incomplete[0] and any("Tier 3" in x for x in found.incomplete)
    with pytest.raises(service.NativePlanError, match="did not finish"):
        service.adopt(db, gateway, "Payments")  # would take our own half-publish as DRS's side
    sim.faults.clear()
    preview = _publish(db, gateway, dry_run=True)
    assert preview.resumes == 2 and preview.drift == ()
    assert _publish(db, gateway).outcome == "published"  # no overwrite needed: it is ours
    assert [s["stepName"] for s in _steps(sim, first.plan_arn)][-1] == "Tier 3"
    after = service.diff(db, gateway, "Payments")
    assert after.incomplete == () and not after.drift


# 3 ------------------------------------------------------------------------------------------------------


def test_publish_converges_when_drs_lists_a_steps_servers_in_another_order(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    first = _publish(db, gateway)
    tier1 = _steps(sim, first.plan_arn)[0]
    listed = tier1["configuration"]["serverStepConfiguration"]["servers"]
    sim_client(sim).update_recovery_plan_step(
        recoveryPlanStepArn=tier1["recoveryPlanStepArn"],
        configuration={"serverStepConfiguration": {"servers": list(reversed(listed))}},
    )
    assert not service.diff(db, gateway, "Payments").drift
    again = _publish(db, gateway)
    assert again.outcome == "unchanged" and again.actions == ()


# 4 ------------------------------------------------------------------------------------------------------


def test_take_drss_merges_its_steps_keeping_what_the_native_plan_cannot_hold(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan = RecoveryPlan(
        name="Payments",
        description="test plan",
        rto_minutes=45,
        rpo_minutes=15,
        protection_groups=(ProtectionGroup("db", server_ids=(servers[0], servers[1])),),
        waves=(
            Wave("Tier 1", groups=("db",)),
            Wave("Tier 2", servers=(servers[2],), depends_on=("Tier 1",), before=(WaitStep(5),)),
        ),
    )
    plan_store.save_plan(db, plan)
    first = _publish(db, gateway)
    wait = _steps(sim, first.plan_arn)[1]
    client = sim_client(sim)
    client.update_recovery_plan_step(
        recoveryPlanStepArn=wait["recoveryPlanStepArn"],
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 20}},
    )
    shown = service.diff(db, gateway, "Payments")
    assert shown.drift and any("[wait 20 min]" in line for line in shown.adopt_changes)
    assert not any("rto" in line or "group" in line for line in shown.adopt_changes), shown.adopt_changes
    # DRS changes again after the diff was shown: taking DRS's side is refused.
    client.update_recovery_plan_step(
        recoveryPlanStepArn=wait["recoveryPlanStepArn"],
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 25}},
    )
    with pytest.raises(service.DrsChangedSincePreview):
        service.adopt(db, gateway, "Payments", expected_drs=shown.drs_digest)
    assert plan_store.load_plan(db, "Payments").revision.revision == 1
    again = service.diff(db, gateway, "Payments")
    rev = service.adopt(db, gateway, "Payments", expected_drs=again.drs_digest)
    merged = plan_store.get_plan(db, "Payments", rev.revision)
    assert (merged.rto_minutes, merged.rpo_minutes) == (45, 15)
    assert merged.protection_groups == plan.protection_groups and merged.waves[0].groups == ("db",)
    assert merged.waves[1].depends_on == ("Tier 1",) and merged.waves[1].before == (WaitStep(25),)


# 5 ------------------------------------------------------------------------------------------------------


def test_the_preview_shows_drift_and_a_publish_is_refused_when_drs_changed_since_the_preview(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    first = _publish(db, gateway)
    client = sim_client(sim)
    tier2 = next(s for s in _steps(sim, first.plan_arn) if s["stepName"] == "Tier 2")
    client.delete_recovery_plan_step(recoveryPlanStepArn=tier2["recoveryPlanStepArn"])
    preview = _publish(db, gateway, dry_run=True)
    assert any("'Tier 2'" in line and "removed in DRS" in line for line in preview.drift)
    with pytest.raises(service.DriftNotConfirmed):
        _publish(db, gateway, expected_drs=preview.drs_digest)
    client.update_recovery_plan(recoveryPlanArn=first.plan_arn, description="edited in the console")
    with pytest.raises(service.DrsChangedSincePreview):
        _publish(db, gateway, expected_drs=preview.drs_digest, overwrite=True)
    assert len(_steps(sim, first.plan_arn)) == 2  # nothing was sent
    fresh = _publish(db, gateway, dry_run=True)
    done = _publish(db, gateway, expected_drs=fresh.drs_digest, overwrite=True)
    assert done.outcome == "published" and len(_steps(sim, first.plan_arn)) == 3


# 6, 8 ---------------------------------------------------------------------------------------------------


def test_a_name_drs_does_not_take_is_published_as_its_native_name_and_renames_reach_drs(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    rev = plan_store.save_plan(db, _plan(servers, name="Payments (EU)"))
    preview = _publish(db, gateway, "Payments (EU)", dry_run=True)
    assert preview.ok and preview.problems == ()
    assert any("'Payments EU'" in note for note in preview.notes)
    first = _publish(db, gateway, "Payments (EU)")
    client = sim_client(sim)
    assert client.get_recovery_plan(recoveryPlanArn=first.plan_arn)["recoveryPlan"]["name"] == "Payments EU"
    renamed = plan_store.rename_plan(db, "Payments (EU)", "Payroll")
    plan_store.save_plan(db, _plan(servers, name="Payroll", description="pays people"))
    latest = plan_store.load_plan(db, "Payroll").revision
    assert renamed.plan_id == rev.plan_id
    preview = _publish(db, gateway, "Payroll", dry_run=True)
    assert "rename the native plan 'Payments EU' to 'Payroll'" in preview.actions
    result = _publish(db, gateway, "Payroll")
    got = client.get_recovery_plan(recoveryPlanArn=first.plan_arn)["recoveryPlan"]
    assert (got["name"], got["description"]) == ("Payroll", "pays people")
    assert got["tags"][REVISION_TAG] == latest.revision_id and got["tags"][PLAN_TAG] == rev.plan_id
    assert result.plan_arn == first.plan_arn
    client.update_recovery_plan(recoveryPlanArn=first.plan_arn, name="Payroll EMEA")
    found = service.diff(db, gateway, "Payroll")
    assert found.drift and "renamed 'Payroll EMEA' in DRS" in found.in_drs[0]


# 7 ------------------------------------------------------------------------------------------------------


def test_tag_groups_are_resolved_in_the_cached_inventory_and_its_age_is_said(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway
) -> None:
    plan = RecoveryPlan(
        name="Shop",
        protection_groups=(ProtectionGroup("web", tags={"Application": "shop", "Tier": "web"}),),
        waves=(Wave("Web", groups=("web",)),),
    )
    plan_store.save_plan(db, plan)
    refused = _publish(db, gateway, "Shop", dry_run=True)
    assert refused.outcome == "does_not_fit" and any("inventory" in n for n in refused.notes)
    inventory_store.save_inventory(db, gateway.drs.inventory())
    result = _publish(db, gateway, "Shop")
    assert result.outcome == "published"
    [step] = _steps(sim, result.plan_arn)
    assert len(step["configuration"]["serverStepConfiguration"]["servers"]) == 2
    preview = _publish(db, gateway, "Shop", dry_run=True)
    assert any("tag groups resolved in the inventory" in n and "as of" in n for n in preview.notes)


# 9 ------------------------------------------------------------------------------------------------------


def test_local_unpublished_edits_are_worded_as_local_edits_not_as_changes_in_drs(
    db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    _publish(db, gateway)
    plan = _plan(servers)
    plan_store.save_plan(
        db, RecoveryPlan("Payments", "test plan", waves=(*plan.waves, Wave("New", (), (servers[4],))))
    )
    found = service.diff(db, gateway, "Payments")
    assert found.unpublished and not found.drift
    assert all("in DRS" not in line for line in found.unpublished)
    assert any("'New'" in line and "here (not published yet)" in line for line in found.unpublished)


# 10 -----------------------------------------------------------------------------------------------------


def test_deleting_a_plan_drops_its_link_so_it_can_be_imported_and_unlink_forgets_one(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    rev = plan_store.save_plan(db, _plan(servers))
    first = _publish(db, gateway)
    plan_store.delete_plan(db, "Payments")
    assert native_links.get_link(db, rev.plan_id) is None
    assert native_links.link_for_arn(db, first.plan_arn) is None
    sim_client(sim).untag_resource(resourceArn=first.plan_arn, tagKeys=[PLAN_TAG, REVISION_TAG])
    report = service.import_plans(db, gateway)
    assert [arn for _, _, arn in report.imported] == [first.plan_arn]
    assert service.unlink(db, "Payments") is True
    assert native_links.link_for_arn(db, first.plan_arn) is None
    assert service.unlink(db, "Payments") is False


# 11 -----------------------------------------------------------------------------------------------------


def test_a_link_is_trusted_only_with_our_tag_and_an_arn_is_never_taken_from_another_plan(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    rev = plan_store.save_plan(db, _plan(servers))
    other = plan_store.save_plan(db, _plan(servers, name="Other"))
    first = _publish(db, gateway)
    link = native_links.get_link(db, rev.plan_id)
    assert link is not None
    with pytest.raises(native_links.LinkTaken, match="linked to another local plan"):
        native_links.save_link(
            db,
            plan_id=other.plan_id,
            account_id=link.account_id,
            region=link.region,
            recovery_plan_arn=first.plan_arn,
            revision_id=other.revision_id,
            content_hash=other.content_hash,
            steps=[],
        )
    assert native_links.get_link(db, rev.plan_id) == link  # not silently replaced
    client = sim_client(sim)
    client.tag_resource(resourceArn=first.plan_arn, tags={PLAN_TAG: uuid.uuid4().hex})
    with pytest.raises(service.NativePlanError, match="may not be the plan published from here"):
        _publish(db, gateway, overwrite=True)
    # An imported plan is tagged on import, so it can be published over.
    made = client.create_recovery_plan(name="Console")["recoveryPlan"]["recoveryPlanArn"]
    client.create_recovery_plan_step(
        recoveryPlanArn=made,
        stepName="Web",
        configuration={"serverStepConfiguration": {"servers": [{"serverArn": _arns(gateway)[servers[5]]}]}},
    )
    service.import_plans(db, gateway, only=[made])
    imported = plan_store.load_plan(db, "Console").revision
    assert (
        client.get_recovery_plan(recoveryPlanArn=made)["recoveryPlan"]["tags"][PLAN_TAG] == imported.plan_id
    )
    assert _publish(db, gateway, "Console").outcome in ("published", "unchanged")


# 12 -----------------------------------------------------------------------------------------------------


def test_a_step_already_gone_when_deleted_counts_as_deleted(
    sim: EmbeddedSimulator, db: Database, gateway: NativePlansGateway, servers: list[str]
) -> None:
    plan_store.save_plan(db, _plan(servers))
    first = _publish(db, gateway)
    stale = gateway.list_steps(first.plan_arn)  # read before someone else deletes Tier 2
    tier2 = next(v for v in stale if v.step.name == "Tier 2")
    sim_client(sim).delete_recovery_plan_step(recoveryPlanStepArn=tier2.arn)
    desired = [v.step for v in stale if v.step.name == "Tier 1"]
    applier = native_apply.Applier(
        gateway, first.plan_arn, _arns(gateway), token=lambda step: "t-" + uuid.uuid4().hex
    )
    applier._round(desired, stale)
    assert "deleted step 'Tier 2'" in applier.actions
    assert [s["stepName"] for s in _steps(sim, first.plan_arn)] == ["Tier 1"]
