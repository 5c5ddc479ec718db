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
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.plan_targets import aws_target_of
from drs_desktop.aws.session import MfaPrompter
from drs_desktop.domain.drs.errors import DrsError
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.targets import used_target_names
from drs_desktop.domain.plan.validation import resolve_wave_by_target
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "TARGETS_KEY",
    "TargetGatewayFactory",
    "TargetReads",
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


class TargetGatewayFactory:
    """``factory(name)``: a gateway for the named target, reads without botocore's retries (the runner
    paces its reads itself), DRS's clock shared with the connected gateway. Against the simulator (a
    loopback endpoint) every target goes to the same simulator, which tells accounts apart by the keys
    and Regions by the signature; against AWS each target uses the Region's own endpoint."""

    def __init__(
        self, targets: Mapping[str, PlanTarget], connected: Any, *, mfa_prompter: MfaPrompter | None = None
    ) -> None:
        self._targets = dict(targets)
        self._connected = connected
        self._mfa_prompter = mfa_prompter

    def __call__(self, name: str) -> DrsGateway:
        target = self._targets.get(name)
        if target is None:
            raise KeyError(f"no target {name!r} in this run")
        connected = getattr(self._connected, "target", None)
        endpoint = connected.endpoint_url if connected is not None and connected.is_local else None
        return DrsGateway(
            aws_target_of(target, endpoint_url=endpoint),
            read_max_attempts=1,
            read_timeout=getattr(self._connected, "read_timeout", 60.0),
            drs_clock=self._connected.drs_clock,
            mfa_prompter=self._mfa_prompter,
        )


def recorded_target_gateways(
    record: ExecutionRecord, connected: Any, *, mfa_prompter: MfaPrompter | None = None
) -> Callable[[str], DrsGateway] | None:
    """The gateways of an execution that runs across targets (None for a run of one target)."""
    targets = targets_from_json(record.options.get(TARGETS_KEY))
    return TargetGatewayFactory(targets, connected, mfa_prompter=mfa_prompter) if targets else None


class TargetReads:
    """What ``read_targets`` found: each target's inventory, each server's target, what was not reached."""

    def __init__(self) -> None:
        self.inventories: dict[str, Inventory] = {}
        self.server_targets: dict[str, str] = {}
        self.wave_servers: dict[str, tuple[str, ...]] = {}
        self.unreachable: dict[str, str] = {}

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
