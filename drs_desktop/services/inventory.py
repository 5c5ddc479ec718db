"""Inventory use cases: refresh from DRS into the cache, read the cache, and who uses each server.

The cache is what makes the application useful offline: an operator opens the Servers pane on a train
and still sees every server as of the last refresh, stamped with its time, account and region. A
refresh replaces the cached set of its account and region whole (``storage.inventory``).

``InventoryService`` is the object a GUI task thread builds and owns: it reads through its own SQLite
connection and keeps one ``DrsGateway`` for the target in force (a new one when the settings change), both
plain attributes made on first use by that thread, and reports progress as short sentences.

Several targets (issue 13): ``refresh_targets`` reads the connected target and every target the settings
list (``services.inventory_targets``), each with a gateway of its own, one after the other; a target that
fails says why in its part and the others are read and cached all the same. ``cached_targets`` is the
offline view of all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.server_usage import ServerUsage, usage_by_server
from drs_desktop.services.connection import ConnectionResolver, MfaPrompter
from drs_desktop.services.inventory_targets import listed_targets
from drs_desktop.services.target_reads import TargetReads
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database, LazyReader, Readable

logger = logging.getLogger(__name__)

__all__ = [
    "InventoryGateway",
    "InventoryService",
    "Progress",
    "cached_inventory",
    "refresh_inventory",
    "server_usage",
]

#: Receives one short sentence per step of a refresh, for the pane's progress text.
Progress = Callable[[str], None]


class InventoryGateway(Protocol):
    """What a refresh needs of ``aws.drs.DrsGateway``."""

    def inventory(self) -> Inventory: ...


def _quiet(_: str) -> None:
    return None


def refresh_inventory(
    db: Database, gateway: InventoryGateway, *, progress: Progress | None = None
) -> Inventory:
    """Fetch every source server from DRS and replace the cache of that account and region with them."""
    report = progress or _quiet
    fetched = gateway.inventory()
    report(f"Saving {len(fetched.servers)} servers of account {fetched.account_id or '?'} to the cache…")
    stored = inventory_store.save_inventory(db, fetched)
    logger.info(
        "inventory refreshed: %d servers of %s/%s", len(stored.servers), stored.account_id, stored.region
    )
    return stored


def cached_inventory(
    db: Readable, *, account_id: str | None = None, region: str | None = None
) -> Inventory | None:
    """The newest cached inventory (of ``account_id`` and/or ``region`` when given); None if none."""
    return inventory_store.load_inventory(db, account_id, region)


def latest_plans(db: Readable) -> list[RecoveryPlan]:
    """The latest revision of every live plan; a plan that cannot be read is skipped (and logged)."""
    plans = []
    for summary in plan_store.list_plans(db):
        try:
            plans.append(plan_store.get_plan(db, summary.name))
        except DrsDesktopError as exc:
            logger.warning("plan %r left out of the server usage: %s", summary.name, exc)
    return plans


def server_usage(db: Readable, inventory: Inventory | None = None) -> dict[str, ServerUsage]:
    """Server ID -> (groups, plans) that use it, from the plans' latest revisions and ``inventory``
    (the newest cached one when None) to resolve tag selectors."""
    if inventory is None:
        inventory = cached_inventory(db)
    return usage_by_server(latest_plans(db), inventory)


class InventoryService:
    """Refresh, cache and usage for the one thread that uses it (call ``close`` on that thread when done)."""

    def __init__(
        self,
        db: Database,
        resolver: ConnectionResolver,
        *,
        gateway_factory: Callable[[AwsTarget], DrsGateway] = DrsGateway,
    ) -> None:
        self._db = db
        self._resolver = resolver
        self._gateway_factory = gateway_factory
        self._reader = LazyReader(db)
        self._drs: DrsGateway | None = None
        self._target_reads: TargetReads | None = None

    def refresh(self, progress: Progress | None = None, mfa_prompter: MfaPrompter | None = None) -> Inventory:
        """Refresh the inventory of the target the settings name now (a DrsError when DRS cannot)."""
        report = progress or _quiet
        report("Checking the connection settings…")
        target = self._resolver.target(mfa_prompter)
        gateway = self._gateway(target)
        report(f"Asking DRS for the source servers ({target.describe()})…")
        return refresh_inventory(self._db, gateway, progress=report)

    def cached(self) -> Inventory | None:
        """The cached inventory of the region in force (None when that region was never refreshed),
        leaving out the accounts of the listed targets there (their parts are their own)."""
        region = self._resolver.expected_region()
        others = {t.account for t in listed_targets(self._reader()) if t.region == region and t.account}
        return inventory_store.load_inventory(self._reader(), region=region, exclude_accounts=others)

    def refresh_targets(
        self, progress: Progress | None = None, mfa_prompter: MfaPrompter | None = None
    ) -> tuple[TargetInventory, ...]:
        """Refresh every listed target and the connected one; each part says how its refresh went (a
        failed one keeps its cache, with the reason). Never raises for one target's failure. The
        connected target is read last, so its cache is normally the newest: places that still read "the
        newest cached inventory" without naming an account (plan validation offline, the readiness
        checks, the Groups pane) then get the connected account's rather than the last listed one's."""
        report = progress or _quiet
        reads = self._reads()
        listed = listed_targets(self._reader())
        total = 1 + len(listed)
        others = [reads.refresh(t, f"{n} of {total}", report) for n, t in enumerate(listed, start=1)]
        connected = reads.connected_part(self.cached(), self._resolver)
        try:
            where = f"{connected.label}, {total} of {total}"
            fresh = self.refresh(lambda text: report(f"{where}: {text}"), mfa_prompter)
            first = replace(reads.connected_part(fresh, self._resolver), inventory=fresh)
        except DrsDesktopError as exc:
            logger.warning("inventory of the connected target not refreshed: %s", exc)
            first = replace(connected, error=str(exc))
        return (first, *others)

    def cached_targets(self) -> tuple[TargetInventory, ...]:
        """Every target's cached servers (offline): the connected one first, then the listed ones."""
        reads = self._reads()
        parts = [reads.connected_part(self.cached(), self._resolver)]
        parts.extend(reads.cached(target) for target in listed_targets(self._reader()))
        return tuple(parts)

    def usage(self, inventory: Inventory | None = None) -> dict[str, ServerUsage]:
        return server_usage(self._reader(), inventory if inventory is not None else self.cached())

    def close(self) -> None:
        """Release the gateway's clients and the read connection (on the thread that used them)."""
        gateway, self._drs = self._drs, None
        if gateway is not None:
            gateway.close()
        reads, self._target_reads = self._target_reads, None
        if reads is not None:
            reads.close()
        self._reader.close()

    def _reads(self) -> TargetReads:
        if self._target_reads is None:
            self._target_reads = TargetReads(
                self._db,
                self._reader,
                self._gateway_factory,
                endpoint_url=lambda: self._resolver.demo_endpoint,
            )
        return self._target_reads

    def _gateway(self, target: AwsTarget) -> DrsGateway:
        if self._drs is None or self._drs.target != target:
            if self._drs is not None:
                self._drs.close()
                self._drs = None
            self._drs = self._gateway_factory(target)
        return self._drs
