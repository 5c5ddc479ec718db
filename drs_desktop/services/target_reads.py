"""Reading and caching one listed target's servers, for ``InventoryService.refresh_targets``.

Each listed target gets a ``DrsGateway`` of its own (its own boto3 session: sessions are per account and
not thread-safe), kept while its ``AwsTarget`` stays the same and closed with the service, on the task
thread that made it. A target's refresh fails alone: its part carries the reason and its cache stays.
A profile that reaches another account than the target names is a failure too (nothing is cached under
the wrong name): the operator must never see account A's servers labelled as account B's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.drs_parse import account_from_arn
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory
from drs_desktop.domain.inventory_targets import TargetInventory
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.settings.target_list import CONNECTED_NAME, connected_plan_target
from drs_desktop.domain.targets import Target, settings_target
from drs_desktop.services.connection import ConnectionResolver
from drs_desktop.services.inventory_targets import aws_target_for, badge_target
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage.db import Database, LazyReader

logger = logging.getLogger(__name__)

__all__ = ["TargetReads"]


class TargetReads:
    """The listed targets' gateways and reads, owned by one task thread (``close`` on it)."""

    def __init__(
        self,
        db: Database,
        reader: LazyReader,
        gateway_factory: Callable[[AwsTarget], DrsGateway],
        *,
        endpoint_url: Callable[[], str | None],
    ) -> None:
        self._db = db
        self._reader = reader
        self._gateway_factory = gateway_factory
        self._endpoint_url = endpoint_url
        self._gateways: dict[str, tuple[AwsTarget, DrsGateway]] = {}

    def connected_part(self, inventory: Inventory | None, resolver: ConnectionResolver) -> TargetInventory:
        """The connected target's part: the demo, or the settings' profile and Region."""
        demo = resolver.demo_endpoint is not None
        target: Target
        if demo:
            target = Target(demo=True, region=resolver.expected_region())
        else:
            target = settings_target(resolver.settings(), demo=False)
        if inventory is not None and inventory.account_id and not target.demo:
            target = Target(
                account=inventory.account_id,
                region=target.region,
                profile=target.profile,
                endpoint=target.endpoint,
                typed_keys=target.typed_keys,
            )
        settings = resolver.settings()
        declaration = connected_plan_target(
            (inventory.account_id if inventory is not None else "") or target.account,
            (inventory.region if inventory is not None else "") or resolver.expected_region(),
            "" if demo else settings.profile.strip(),
            typed_keys=settings.use_typed_keys and not demo,
        )
        return TargetInventory(CONNECTED_NAME, target, inventory, connected=True, declaration=declaration)

    def cached(self, target: PlanTarget) -> TargetInventory:
        """``target``'s cached servers (None when never read)."""
        inventory = inventory_store.load_inventory(self._reader(), target.account, target.region)
        badge = badge_target(target, endpoint_url=self._endpoint_url())
        return TargetInventory(target.name, badge, inventory, declaration=target)

    def refresh(self, target: PlanTarget, position: str, report: Callable[[str], None]) -> TargetInventory:
        """Read ``target``'s servers from DRS and cache them; on failure its cached part with the reason."""
        part = self.cached(target)
        where = f"{part.label}, {position}"
        try:
            gateway = self._gateway(target)
            report(f"{where}: asking DRS for the source servers…")
            fetched = _inventory(gateway)
            if fetched.account_id and fetched.account_id != target.account:
                raise DrsDesktopError(
                    f"its credentials reach account {fetched.account_id}, not {target.account}: check the "
                    "target's profile (nothing was cached)"
                )
            report(f"{where}: saving {len(fetched.servers)} servers to the cache…")
            stored = inventory_store.save_inventory(self._db, _in_account(fetched, target.account))
        except DrsDesktopError as exc:
            logger.warning("inventory of target %s not refreshed: %s", target.name, exc)
            return replace(part, error=str(exc))
        logger.info("inventory of target %s refreshed: %d servers", target.name, len(stored.servers))
        return replace(part, inventory=stored)

    def close(self) -> None:
        gateways, self._gateways = self._gateways, {}
        for _, gateway in gateways.values():
            try:
                gateway.close()
            except Exception:
                logger.exception("closing a target's DRS gateway failed")

    def _gateway(self, target: PlanTarget) -> DrsGateway:
        """The target's gateway, kept while the ``AwsTarget`` it was made for stays the same (compared
        with what was asked: a factory may hand the gateway a target with credentials filled in)."""
        wanted = aws_target_for(target, endpoint_url=self._endpoint_url())
        kept = self._gateways.get(target.name)
        if kept is not None and kept[0] == wanted:
            return kept[1]
        if kept is not None:
            kept[1].close()
        gateway = self._gateway_factory(wanted)
        self._gateways[target.name] = (wanted, gateway)
        return gateway


def _inventory(gateway: DrsGateway) -> Inventory:
    """``gateway.inventory()`` with the account read from the servers' ARNs (every DRS ARN names its
    account), and from STS only when there are none: one boto3 client a target instead of two, which
    is most of what a first refresh of ten targets costs."""
    servers = gateway.describe_source_servers()
    fetched_at = gateway.drs_clock.now()
    accounts = {account_from_arn(server.arn) for server in servers} - {""}
    account = next(iter(accounts)) if len(accounts) == 1 else gateway.caller_identity().account
    ordered = sorted(servers, key=lambda s: (s.hostname.lower(), s.source_server_id))
    return Inventory(tuple(ordered), fetched_at, account, gateway.target.region)


def _in_account(inventory: Inventory, account: str) -> Inventory:
    """``inventory`` keyed by the target's account (when neither STS nor an ARN said which it is)."""
    if inventory.account_id:
        return inventory
    return Inventory(inventory.servers, inventory.fetched_at, account, inventory.region)
