"""The drill network's last gaps (issue 16 item 4), on the simulator (DRS and EC2 in one world, loopback
HTTP, real boto3, virtual clock): a point whose outcome is unknown, the unused drill version a failed point
leaves, and a template set back to production behind a running drill's back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsOutcomeUnknown, DrsRejected, DrsUnavailable
from drs_desktop.domain.engine.drill_net_events import (
    TemplateDefaultChanged,
    TemplatePointFailed,
    TemplatesPointed,
)
from drs_desktop.domain.engine.drill_net_state import NetStatus
from drs_desktop.domain.engine.events import Cancel, Event, Outcome
from drs_desktop.domain.engine.queries import is_held
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus
from drs_desktop.services import reports
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database

from .test_drill_net_sim import defaults, drill_versions, landed, save_shop, sleeper, start, templates

pytestmark = pytest.mark.timeout(120)

DB_HOST = "shop-db-01"


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def gateways(sim: EmbeddedSimulator) -> Iterator[tuple[DrsGateway, Ec2Gateway]]:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    yield drs, ec2
    drs.close()
    ec2.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def run_to_the_end(runner: ExecutionRunner, sim: EmbeddedSimulator) -> None:
    """Run; a run held by a failed server is cancelled by the operator (its templates are still put back)."""
    runner.run(sleep=sleeper(sim), should_stop=lambda: is_held(runner.state))
    if runner.state.finished is None:
        runner.control(Cancel(at=sim.clock.now(), by="operator"))
        runner.run(sleep=sleeper(sim))


def recorded(runner: ExecutionRunner) -> list[Event]:
    """Every event the runner journals from now on."""
    events: list[Event] = []
    runner.add_listener(lambda before, after, event: events.append(event))
    return events


def report(db: Database, runner: ExecutionRunner) -> dict[str, Any]:
    document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
    return document["drill_network"]


class MaybePointed(Ec2Gateway):
    """EC2 makes shop-db-01's drill version the default, the answer is lost, and the read-back that
    follows fails too (``reads_failing`` more default reads fail after it)."""

    template = ""
    lost = False
    later = 0  # default reads that fail after the lost answer's own read-back
    reads_failing = 0

    def set_default_version(self, template_id: str, version: int) -> Any:
        result = super().set_default_version(template_id, version)
        if template_id == MaybePointed.template and not MaybePointed.lost:
            MaybePointed.lost = True
            MaybePointed.reads_failing = 1 + MaybePointed.later
            raise DrsOutcomeUnknown("ModifyLaunchTemplate: the connection was reset before EC2 answered")
        return result

    def template_versions(self, template_id: str, versions: Any = None) -> Any:
        if template_id == MaybePointed.template and MaybePointed.reads_failing > 0:
            MaybePointed.reads_failing -= 1
            raise DrsUnavailable("DescribeLaunchTemplateVersions: EC2 did not answer", transient=True)
        return super().template_versions(template_id, versions)


@pytest.mark.parametrize("later_reads_failing", [0, 10])
def test_a_point_whose_answer_and_read_back_are_lost_is_never_launched_and_is_restored_or_said(
    later_reads_failing: int,
    capsys: pytest.CaptureFixture[str],
    db: Database,
    sim: EmbeddedSimulator,
    gateways: tuple[DrsGateway, Ec2Gateway],
) -> None:
    """Before: journaled FAILED (not open), so the run finished with shop-db-01's template still pointed
    at the drill network and nothing restoring it: the next RECOVERY would launch it there."""
    drs, ec2 = gateways
    save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    server = sim.backend.server_id_of(DB_HOST)
    MaybePointed.template, MaybePointed.lost = ids[server], False
    MaybePointed.later, MaybePointed.reads_failing = later_reads_failing, 0
    runner = start(db, drs, sim)
    runner.ec2_factory = MaybePointed
    run_to_the_end(runner, sim)
    assert MaybePointed.lost
    assert runner.state.servers[server].status is not ServerStatus.LAUNCHED
    assert server not in landed(drs, ec2, runner), "launched into a network not known"
    net = runner.state.drill_net[server]
    row = next(r for r in report(db, runner)["servers"] if r["server_id"] == server)
    if later_reads_failing == 0:
        assert net.status is NetStatus.RESTORED
        assert defaults(ec2, ids) == production, "a template was left pointed at the drill network"
        assert report(db, runner)["not_restored"] == []
    else:  # EC2 never answers for it again: the run ends, bounded, with the reason said
        assert runner.state.finished is not None
        assert net.status is NetStatus.FAILED and net.failed_in == "restore"
        assert report(db, runner)["not_restored"] == [server]
        assert "did not answer" in row["error"]
        assert defaults(ec2, {server: ids[server]})[server] == net.drill_version, "EC2 still holds it"
        # the CLI's end of the run names the command that fixes it
        from drs_desktop.cli_drive import _templates_left

        assert _templates_left(runner) == "drs-desktop launch-settings restore --plan Shop"
        assert (
            f"{server}; set them back with: drs-desktop launch-settings restore --plan Shop"
            in capsys.readouterr().err
        )


class SetDefaultRefused(Ec2Gateway):
    """EC2 refuses to make shop-db-01's drill version the default; ``delete_fails``: and to delete it."""

    template = ""
    delete_fails = False

    def set_default_version(self, template_id: str, version: int) -> Any:
        if template_id == SetDefaultRefused.template:
            raise DrsRejected("ModifyLaunchTemplate: UnauthorizedOperation", code="UnauthorizedOperation")
        return super().set_default_version(template_id, version)

    def delete_template_versions(self, template_id: str, versions: Any) -> dict[int, str]:
        if SetDefaultRefused.delete_fails:
            raise DrsUnavailable("DeleteLaunchTemplateVersions: EC2 did not answer", transient=True)
        return super().delete_template_versions(template_id, versions)


@pytest.mark.parametrize("delete_fails", [False, True])
def test_a_point_that_fails_after_its_version_was_made_deletes_the_unused_version_and_says_so(
    delete_fails: bool, db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    drs, ec2 = gateways
    save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    server = sim.backend.server_id_of(DB_HOST)
    SetDefaultRefused.template, SetDefaultRefused.delete_fails = ids[server], delete_fails
    runner = start(db, drs, sim)
    runner.ec2_factory = SetDefaultRefused
    events = recorded(runner)
    run_to_the_end(runner, sim)
    assert runner.state.finished is not None, "a failure to delete is said, not fatal"
    assert defaults(ec2, ids) == production
    failed = [e for e in events if isinstance(e, TemplatePointFailed) and e.server_id == server]
    assert len(failed) == 1 and failed[0].unused_version is not None
    left = drill_versions(ec2, ids[server])
    row = next(r for r in report(db, runner)["servers"] if r["server_id"] == server)
    assert row["unused_drill_version"] == failed[0].unused_version
    if delete_fails:
        assert left == [failed[0].unused_version]
        assert row["unused_drill_version_deleted"] is False and "NOT deleted" in row["error"]
    else:
        assert left == [], "the unused drill version was left in EC2"
        assert sim.backend.request_counts()["ec2:DeleteLaunchTemplateVersions"] == 1
        assert row["unused_drill_version_deleted"] is True and "deleted" in row["error"]


def test_a_template_restored_behind_the_runs_back_is_pointed_again_before_its_start(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    """Before: ``launch-settings restore`` on another desktop set shop-web-01's production version back
    between its point and its chunk's StartRecovery, and the drill launched it into production."""
    drs, ec2 = gateways
    subnet, _ = save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    web = sim.backend.server_id_of("shop-web-01")
    done: list[int] = []

    def other_desktop(before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, TemplatesPointed) and event.server_id == web and not done:
            ec2.set_default_version(ids[web], event.production_version)  # what launch-settings restore does
            done.append(event.drill_version)

    runner = start(db, drs, sim)
    runner.add_listener(other_desktop)
    events = recorded(runner)
    reads = sim.backend.request_counts().get("ec2:DescribeLaunchTemplates", 0)
    assert runner.run(sleep=sleeper(sim)).outcome is Outcome.SUCCEEDED
    assert done
    changed = [e for e in events if isinstance(e, TemplateDefaultChanged)]
    assert [(e.server_id, e.found_version) for e in changed] == [(web, production[web])]
    assert landed(drs, ec2, runner)[web].subnet_id == subnet.subnet_id, "launched into production"
    assert {i.subnet_id for i in landed(drs, ec2, runner).values()} == {subnet.subnet_id}
    assert defaults(ec2, ids) == production
    # one read per chunk start: the db wave's chunk, the app wave's refused start and its start
    assert sim.backend.request_counts()["ec2:DescribeLaunchTemplates"] - reads == 3
