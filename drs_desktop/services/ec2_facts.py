"""Copy AWS-hosted source servers' EC2 facts (tags, instance type) into DRS (issue 16, item 3).

``preview`` reads DRS's source servers (of a plan, or all) and the EC2 instances the AWS-hosted ones
replicate (DRS's ``awsInstanceID``), and says per server which tags a copy adds or changes on the DRS
source server and the instance's type; servers on premises are counted, never touched. ``apply`` sends
TagResource for each server with tag changes and reads the tags back (ListTagsForResource) to verify
them; with a plan, the types go into the plan's desired launch settings as server overrides
(``domain.launch.ec2_facts.with_instance_types``), saved as a new plan revision, so the journaled
launch settings apply and drift take it from there.

Not journaled: TagResource sets the given keys and nothing else, so sending it again after a crash is
harmless, and a second apply finds nothing left to change. Once a tag is written the inventory cache
lags behind DRS (tag-based groups resolve from it), so the apply refreshes it, or says it could not.

Each instance is read where it runs (DRS's ``sourceCloudProperties``, ``instance_origin``): cross-Region
DR is the usual case, so the target's credentials read each origin Region with one DescribeInstances
batch per Region (``Ec2Gateway.in_region``). An instance in another account cannot be read with them:
that server says so, and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_tags import resource_tags, tag_resource
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.errors import DrsError, DrsNotFound
from drs_desktop.domain.ec2 import InstanceView
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.launch.ec2_facts import (
    TagCopy,
    instance_origin,
    tag_copy,
    too_many_tags,
    with_instance_types,
)
from drs_desktop.domain.plan.launch_preview import plan_servers
from drs_desktop.domain.plan.revisions import PlanRevision, StoredPlan
from drs_desktop.services.inventory import refresh_inventory
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import load_plan, save_plan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerEc2Facts:
    """One AWS-hosted server: its instance's facts and what a copy changes; ``problem`` when the instance
    could not be read or the copy cannot be made (the server is then left alone)."""

    server: SourceServer
    instance: InstanceView | None
    copy: TagCopy
    problem: str = ""
    region: str = ""  # the Region its instance was (or would be) read in; "" when it cannot be

    @property
    def instance_type(self) -> str | None:
        return self.instance.instance_type if self.instance is not None else None

    @property
    def changes_tags(self) -> bool:
        return not self.problem and bool(self.copy.changes)


@dataclass(frozen=True)
class Ec2FactsPreview:
    servers: tuple[ServerEc2Facts, ...]
    on_premises: int  # servers in scope that are not AWS-hosted (never touched)
    plan: StoredPlan | None = None
    #: With a plan: the server overrides' instance types the copy sets (server ID -> type) where the
    #: plan's desired launch settings do not already say so.
    type_changes: tuple[tuple[str, str], ...] = ()

    @property
    def problems(self) -> tuple[ServerEc2Facts, ...]:
        return tuple(s for s in self.servers if s.problem)


@dataclass(frozen=True)
class ServerOutcome:
    server_id: str
    hostname: str
    outcome: str  # TAGGED (verified) | UNCHANGED | FAILED (refused, not sent, or not held) | NOT_READ
    message: str = ""
    sent: bool = False  # TagResource went out (it may have changed DRS even when the outcome is FAILED)


@dataclass(frozen=True)
class Ec2FactsResult:
    preview: Ec2FactsPreview
    outcomes: tuple[ServerOutcome, ...]
    revision: PlanRevision | None  # the plan revision saved with the types (None: none saved)
    #: After tags were written: whether the inventory cache was refreshed, and why not when it failed
    #: (the cache then lags DRS until the next refresh). False and "" when nothing was written.
    inventory_refreshed: bool = False
    refresh_error: str = ""

    @property
    def failed(self) -> tuple[ServerOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome in ("FAILED", "NOT_READ"))


def _read_instances(ec2: Ec2Gateway, ids: list[str]) -> tuple[dict[str, InstanceView], dict[str, str]]:
    """The instances of ``ids`` in ``ec2``'s Region, and a problem per instance EC2 does not have there
    (one at a time then) or, when EC2 cannot be read in that Region at all, per instance."""
    region = ec2.target.region
    try:
        return {i.instance_id: i for i in ec2.instances(ids)}, {}
    except DrsNotFound:
        pass
    except DrsError as exc:
        logger.warning("EC2 facts: EC2 in %s could not be read: %s", region, exc)
        return {}, dict.fromkeys(ids, f"EC2 in {region} could not be read: {exc}")
    found: dict[str, InstanceView] = {}
    missing: dict[str, str] = {}
    for iid in ids:
        try:
            found.update((i.instance_id, i) for i in ec2.instances([iid]))
        except DrsNotFound:
            missing[iid] = f"EC2 has no instance {iid} in {region}"
        except DrsError as exc:
            missing[iid] = f"EC2 in {region} could not read {iid}: {exc}"
    return found, missing


def preview(
    drs: DrsGateway, ec2: Ec2Gateway, *, stored: StoredPlan | None = None, inventory: Inventory | None = None
) -> Ec2FactsPreview:
    """What a copy would change, from DRS's and EC2's answers now (``inventory``: DRS's, read if None;
    a cached one has no origins, so every instance would be read in the target's Region)."""
    inventory = inventory if inventory is not None else drs.inventory()
    servers = list(inventory.servers)
    if stored is not None:
        wanted = {server_id for server_id, _ in plan_servers(stored.plan, inventory)}
        servers = [s for s in servers if s.source_server_id in wanted]
    hosted = [s for s in servers if s.aws_instance_id]
    origins = {
        s.source_server_id: instance_origin(
            s.origin_account_id, s.origin_region, account_id=inventory.account_id, region=ec2.target.region
        )
        for s in hosted
    }
    by_region: dict[str, set[str]] = {}
    for server in hosted:
        region = origins[server.source_server_id].region
        if region:
            by_region.setdefault(region, set()).add(server.aws_instance_id)
    instances: dict[tuple[str, str], InstanceView] = {}
    missing: dict[tuple[str, str], str] = {}
    for region, ids in sorted(by_region.items()):
        found, lost = _read_instances(ec2.in_region(region), sorted(ids))
        instances.update(((region, iid), view) for iid, view in found.items())
        missing.update(((region, iid), why) for iid, why in lost.items())
    rows: list[ServerEc2Facts] = []
    for server in sorted(hosted, key=lambda s: (s.hostname, s.source_server_id)):
        origin = origins[server.source_server_id]
        key = (origin.region, server.aws_instance_id)
        instance = instances.get(key)
        if instance is None:
            problem = origin.problem or missing.get(key, f"EC2 did not list {server.aws_instance_id}")
            rows.append(ServerEc2Facts(server, None, TagCopy((), ()), problem, origin.region))
            continue
        copy = tag_copy(server.tags, dict(instance.tags))
        count = too_many_tags(server.tags, copy)
        problem = f"the copy would give it {count} tags; DRS allows 50" if count else ""
        if not server.arn:
            problem = "DRS gave no ARN for this source server"
        rows.append(ServerEc2Facts(server, instance, copy, problem, origin.region))
    type_changes: tuple[tuple[str, str], ...] = ()
    if stored is not None:
        settings = stored.plan.launch_settings
        type_changes = tuple(
            (r.server.source_server_id, r.instance_type)
            for r in rows
            if r.instance_type
            and not r.problem
            and with_instance_types(settings, {r.server.source_server_id: r.instance_type}) != settings
        )
    return Ec2FactsPreview(tuple(rows), len(servers) - len(hosted), stored, type_changes)


def apply(
    db: Database | None,
    drs: DrsGateway,
    ec2: Ec2Gateway,
    facts: Ec2FactsPreview,
    *,
    author: str = "",
    on_server: Callable[[ServerOutcome], None] | None = None,
) -> Ec2FactsResult:
    """Tag each server of ``facts`` that has changes, verify by reading its tags back, then (with ``db``)
    refresh the inventory cache once a tag was sent and, with a plan, save the plan's new revision with
    the types. A failed server does not stop the others."""
    outcomes: list[ServerOutcome] = []
    for row in facts.servers:
        outcome = _apply_one(drs, row)
        outcomes.append(outcome)
        if on_server is not None:
            on_server(outcome)
    revision = None
    if facts.plan is not None and facts.type_changes and db is not None:
        # The plan as it is now, not as previewed: a revision saved since keeps its other changes.
        plan = load_plan(db, facts.plan.plan.name).plan
        types = dict(facts.type_changes)
        settings = with_instance_types(plan.launch_settings, types)
        revision = save_plan(
            db,
            replace(plan, launch_settings=settings),
            comment=f"EC2 facts: instance types of {len(types)} AWS-hosted server(s)",
            author=author,
        )
    refreshed, refresh_error = False, ""
    if db is not None and any(o.sent for o in outcomes):
        try:
            refresh_inventory(db, drs)
            refreshed = True
        except DrsError as exc:
            refresh_error = str(exc)
            logger.warning("EC2 facts: the inventory refresh after tagging failed: %s", exc)
    return Ec2FactsResult(facts, tuple(outcomes), revision, refreshed, refresh_error)


def _apply_one(drs: DrsGateway, row: ServerEc2Facts) -> ServerOutcome:
    server = row.server
    sid, name = server.source_server_id, server.hostname
    if row.problem:
        # NOT_READ only when EC2 gave no instance; a copy refused for another reason (DRS's tag limit, no
        # ARN) read the instance, and saying otherwise sends the operator after EC2 permissions.
        return ServerOutcome(sid, name, "NOT_READ" if row.instance is None else "FAILED", row.problem)
    if not row.copy.changes:
        return ServerOutcome(sid, name, "UNCHANGED")
    wanted = row.copy.as_tags()
    try:
        tag_resource(drs, server.arn, wanted)
    except DrsError as exc:
        logger.warning("Copying EC2 tags to %s failed: %s", sid, exc)
        return ServerOutcome(sid, name, "FAILED", str(exc), sent=not exc.definite)
    try:
        now = resource_tags(drs, server.arn)
    except DrsError as exc:
        logger.warning("Reading back %s's tags failed: %s", sid, exc)
        return ServerOutcome(sid, name, "FAILED", f"tagged, not read back: {exc}", sent=True)
    wrong = sorted(k for k, v in wanted.items() if now.get(k) != v)
    if wrong:
        return ServerOutcome(
            sid, name, "FAILED", f"DRS does not hold the tag(s) {', '.join(wrong)} after tagging", sent=True
        )
    return ServerOutcome(sid, name, "TAGGED", f"{len(wanted)} tag(s) set and read back", sent=True)
