"""Runs across targets: a DRS gateway for each of a plan's targets, and what a run reads in each first.

A plan of format 2 whose servers are in targets other than the connected one runs through the engine's
targets (``domain.engine.accounts``, ``domain.plan.targets.runs_across_targets``). Before it starts, each
target used is read with its own gateway: its inventory (to resolve its tag groups, cached like any
refresh), its recovery snapshots for a point in time, and for a recovery its post-launch actions. The
execution records each target's declaration (``TARGETS_KEY``: account, Region, profile or role, external
ID, MFA serial, never a secret), so a resume, a cleanup from the history or another process reaches the
same accounts; ``recorded_target_gateways`` makes each gateway on first use, on the runner's thread.

A target that cannot be reached while the run is prepared does not stop the others: its cached inventory
stands in (an explicit server ID needs none), and the run finds out at its first call, where its servers
fail with DRS's reason and the plan's rules (critical, optional, dependencies) decide what goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.plan_targets import aws_target_of
from drs_desktop.aws.session import AwsTarget, MfaPrompter
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import group_target, used_target_names
from drs_desktop.domain.plan.validation import resolve_wave_by_target
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "TARGETS_KEY",
    "TargetGatewayFactory",
    "TargetReads",
    "TargetSessions",
    "read_targets",
    "recorded_target_gateways",
    "targets_from_json",
    "targets_to_json",
]

#: ``ExecutionRecord.options`` key: target name -> its declaration (``targets_to_json``).
TARGETS_KEY = "targets"
_FIELDS = tuple(item.name for item in fields(PlanTarget))


def targets_to_json(targets: tuple[PlanTarget, ...]) -> dict[str, dict[str, str]]:
    return {target.name: {k: v for k, v in asdict(target).items() if v} for target in targets}


def targets_from_json(data: object) -> dict[str, PlanTarget]:
    """The targets an execution recorded (empty for a run of one target, or anything unreadable)."""
    if not isinstance(data, Mapping):
        return {}
    found: dict[str, PlanTarget] = {}
    for name, values in data.items():
        if isinstance(values, Mapping):
            kept = {k: str(values[k]) for k in _FIELDS if k in values and k != "name"}
            found[str(name)] = PlanTarget(name=str(name), **kept)
    return found


class TargetSessions:
    """One ``AwsTarget`` per declared target, shared by every gateway made for it: its credentials (one
    AssumeRole, one MFA code) serve the run dialog's reads, the preflight and the run's own gateways, on
    whichever thread. ``forget`` drops a target's: the operator renewed them, and the next gateway
    assumes its role again. Thread-safe; the application keeps one, a CLI command one per command."""

    def __init__(self, *, mfa_prompter: MfaPrompter | None = None) -> None:
        self._mfa_prompter = mfa_prompter
        self._lock = threading.Lock()
        self._targets: dict[tuple[PlanTarget, str | None], AwsTarget] = {}

    def gateway(self, target: PlanTarget, connected: Any) -> DrsGateway:
        """A gateway of ``target``: reads without botocore's retries (the runner paces its reads), the
        connected gateway's timeouts and DRS's clock (one time for all of AWS). Against the simulator (a
        loopback endpoint) every target goes to the same simulator, which tells accounts apart by the
        keys and Regions by the signature; against AWS each target uses its Region's own endpoint (a
        custom endpoint of the connected target, a VPC endpoint say, is its Region's only)."""
        at = getattr(connected, "target", None)
        endpoint = at.endpoint_url if at is not None and at.is_local else None
        key = (target, endpoint)
        with self._lock:
            aws_target = self._targets.get(key)
            if aws_target is None:
                aws_target = self._targets[key] = aws_target_of(target, endpoint_url=endpoint)
        return DrsGateway(
            aws_target,
            read_max_attempts=1,
            read_timeout=getattr(connected, "read_timeout", 60.0),
            drs_clock=connected.drs_clock,
            mfa_prompter=self._mfa_prompter,
        )

    def gateway_of(self, connected: Any) -> Callable[[PlanTarget], DrsGateway]:
        """``gateway`` with the connected gateway given: what preflight takes."""
        return lambda target: self.gateway(target, connected)

    def forget(self, target: PlanTarget) -> None:
        with self._lock:
            for key in [key for key in self._targets if key[0] == target]:
                del self._targets[key]


class TargetGatewayFactory:
    """``factory(name)``: a gateway for the named target of a run (``TargetSessions.gateway``);
    ``forget(name)`` after its credentials were renewed."""

    def __init__(
        self, targets: Mapping[str, PlanTarget], connected: Any, *, sessions: TargetSessions
    ) -> None:
        self._targets = dict(targets)
        self._connected = connected
        self._sessions = sessions

    def __call__(self, name: str) -> DrsGateway:
        target = self._targets.get(name)
        if target is None:
            raise KeyError(f"no target {name!r} in this run")
        return self._sessions.gateway(target, self._connected)

    def forget(self, name: str) -> None:
        target = self._targets.get(name)
        if target is not None:
            self._sessions.forget(target)


def recorded_target_gateways(
    record: ExecutionRecord, connected: Any, *, sessions: TargetSessions | None = None
) -> TargetGatewayFactory | None:
    """The gateways of an execution that runs across targets (None for a run of one target)."""
    targets = targets_from_json(record.options.get(TARGETS_KEY))
    if not targets:
        return None
    return TargetGatewayFactory(targets, connected, sessions=sessions or TargetSessions())


class TargetReads:
    """What ``read_targets`` found: each target's inventory, each server's target, what was not reached."""

    def __init__(self) -> None:
        self.inventories: dict[str, Inventory] = {}
        self.server_targets: dict[str, str] = {}
        self.wave_servers: dict[str, tuple[str, ...]] = {}
        self.unreachable: dict[str, str] = {}

    def unresolved_tags(self, plan: RecoveryPlan) -> list[str]:
        """Why a tag group cannot be resolved: its target was not reached and has no cached inventory."""
        problems = []
        used = {name for wave in plan.waves for name in wave.groups}
        for group in plan.protection_groups:
            target = group_target(plan, group)
            if group.name in used and group.tags and target is not None and target not in self.inventories:
                why = self.unreachable.get(target, "no inventory")
                problems.append(
                    f"group {group.name!r} selects servers by tag in target {target!r}, which could not be "
                    f"read ({why}) and has no cached inventory"
                )
        return problems

    def merged_inventory(self) -> Inventory:
        """Every target's servers in one list (the run's baseline); no single account or Region."""
        servers = tuple(s for inventory in self.inventories.values() for s in inventory.servers)
        return Inventory(servers=servers)


def read_targets(
    db: Database,
    plan: RecoveryPlan,
    gateways: Callable[[str], DrsGateway],
    *,
    refresh_inventory: bool,
    reads: PatientReads,
) -> TargetReads:
    """Each used target's inventory (refreshed and cached, or the cache), then each wave's servers with
    their targets. A target DRS does not answer for falls back on its cache, and is named."""
    found = TargetReads()
    for name in used_target_names(plan):
        target = plan.target(name)
        assert target is not None  # used_target_names only names declared targets
        inventory: Inventory | None = None
        if refresh_inventory:
            try:
                inventory = reads(gateways(name).inventory, "DescribeSourceServers")
                inventory_store.save_inventory(db, inventory)
            except DrsError as error:
                found.unreachable[name] = str(error)
                logger.warning("target %s not reached while preparing the run: %s", name, error)
        if inventory is None:
            inventory = inventory_store.load_inventory(db, target.account or None, target.region)
        if inventory is not None:
            found.inventories[name] = inventory
    for index, wave in enumerate(plan.waves):
        placed = resolve_wave_by_target(plan, index, found.inventories)
        found.wave_servers[wave.name] = tuple(server_id for server_id, _ in placed)
        found.server_targets.update(placed)
    return found
