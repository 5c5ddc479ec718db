"""Launch settings drift of every plan, read from DRS and EC2, and accepting one server's drift.

Qt-free: the GUI asks through its ``aws`` task thread (the Servers view after each inventory refresh, the
plan editor's launch settings dialog on demand), the same service a CLI could call. The service belongs
to the one thread that calls it (DESIGN §3.5): its SQLite reader and its gateways are plain attributes,
built on first use, closed by ``close()`` on that thread.

Why one reading for every plan: ``read_launch_state`` lists every template's default version and every
subnet in one paged call each, whatever the number of servers, so the union of the plans' servers is read
once and each plan previewed against it (pure), rather than a listing per plan.

Accepting re-reads the one server from DRS and EC2 first: what becomes desired is what the server has
now, not what a reading minutes old said. The revision is saved through ``PlanLibrary`` with the
revision the operator looked at as its base, so a plan saved elsewhere meanwhile is a conflict, never
overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.errors import DrsDesktopError, PlanConflictError
from drs_desktop.domain.launch.current import ServerFacts
from drs_desktop.domain.plan.launch_preview import LaunchPreview, plan_servers, preview_launch_settings
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.domain.views.launch_drift import (
    LaunchDrift,
    PlanDrift,
    accept_fields,
    accepted_comment,
    has_launch_settings,
    plan_drift,
    reads_launch_state,
    server_drift,
    with_accepted,
)
from drs_desktop.services.launch_apply import ApplyOutcome, ApplyProgress, apply_plan
from drs_desktop.services.launch_state import read_launch_state
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import plans as plan_store
from drs_desktop.storage.db import Database, LazyReader

logger = logging.getLogger(__name__)

__all__ = ["AcceptedDrift", "LaunchDriftService"]


@dataclass(frozen=True)
class AcceptedDrift:
    """An accepted drift: the plan's new revision, the fields made desired, and those that could not be."""

    plan_name: str
    revision: int
    server_id: str
    accepted: tuple[str, ...]
    refused: tuple[str, ...] = ()


class LaunchDriftService:
    """Reads drift and accepts it, for the thread that owns it. ``drs`` and ``ec2`` build the gateways
    (on that thread, on first need); ``clock`` is the app's, the time every reading is stamped with."""

    def __init__(
        self,
        db: Database,
        drs: Callable[[], DrsGateway],
        ec2: Callable[[], Ec2Gateway],
        *,
        clock: Callable[[], datetime],
        reads: PatientReads | None = None,
    ) -> None:
        self._db = db
        self._make_drs = drs
        self._make_ec2 = ec2
        self._clock = clock
        self._reads = reads
        self._reader = LazyReader(db)
        self._drs: DrsGateway | None = None
        self._ec2: Ec2Gateway | None = None

    def read(self, plan_names: Sequence[str] | None = None) -> LaunchDrift:
        """The drift of every plan desiring launch settings (or of those named), read now."""
        stored = self._plans(plan_names)
        inventory = inventory_store.load_inventory(self._reader())
        now = self._clock()
        if not stored:
            return LaunchDrift((), now)
        if inventory is None:
            raise DrsDesktopError(
                "no inventory yet: refresh the servers first, then read the launch settings"
            )
        ids = list(dict.fromkeys(sid for s in stored for sid, _ in plan_servers(s.plan, inventory)))
        drs, ec2 = self._gateways()
        state = read_launch_state(drs, ec2, ids, read=self._reads, now=now)
        facts = [ServerFacts.of(server) for server in inventory.servers]
        plans = []
        for item in stored:
            # A plan read only for its drill network's templates desires nothing: no server is "as desired".
            preview = (
                preview_launch_settings(
                    item.plan, facts, state.configs, state.templates, state.subnet_cidrs, inventory
                )
                if has_launch_settings(item.plan)
                else LaunchPreview()
            )
            servers = [sid for sid, _ in plan_servers(item.plan, inventory)]
            pointed = tuple(sid for sid in servers if sid in state.drill_versions)
            plans.append(plan_drift(item.plan.name, item.revision.revision, preview, now, pointed))
        drifted = sum(len(p.drifted) for p in plans)
        logger.info("launch drift of %d plan(s), %d server(s): %d drifted", len(plans), len(ids), drifted)
        return LaunchDrift(tuple(plans), now, dict(state.drill_versions))

    def read_plan(self, name: str) -> PlanDrift:
        """One plan's drift, read now (a plan without launch settings: no servers, said by its summary)."""
        found = self.read([name]).plan(name)
        if found is None:
            stored = self._load(name)
            return PlanDrift(stored.plan.name, stored.revision.revision, self._clock())
        return found

    def accept(self, plan_name: str, server_id: str, base_revision: int) -> AcceptedDrift:
        """Make ``server_id``'s current launch settings its desired ones in ``plan_name``: a server
        override saved as a new revision (PlanConflictError when the plan moved past ``base_revision``)."""
        stored = self._load(plan_name)
        plan = stored.plan
        inventory = inventory_store.load_inventory(self._reader())
        server = inventory.by_id().get(server_id) if inventory is not None else None
        if inventory is None or server is None:
            raise DrsDesktopError(f"server {server_id} is not in the inventory; refresh the servers first")
        drs, ec2 = self._gateways()
        state = read_launch_state(drs, ec2, [server_id], read=self._reads, now=self._clock())
        preview = preview_launch_settings(
            plan, [ServerFacts.of(server)], state.configs, state.templates, state.subnet_cidrs, inventory
        )
        planned = next((s for s in preview.servers if s.server_id == server_id), None)
        if planned is None:
            raise DrsDesktopError(f"plan {plan.name!r} does not launch server {server_id}")
        if not planned.changed:
            raise DrsDesktopError(f"{server.hostname or server_id} is as desired now: nothing to accept")
        result = accept_fields(planned, state.configs.get(server_id), state.templates.get(server_id))
        if not result.accepted:
            raise DrsDesktopError("nothing can be accepted: " + "; ".join(result.refused))
        comment = accepted_comment(server_drift(plan.name, planned), result.accepted)
        saved = PlanLibrary(self._db, clock=self._clock).save_plan(
            with_accepted(plan, server_id, result.fields),
            comment,
            previous_name=plan.name,
            base_revision=base_revision,
        )
        logger.info("plan %r revision %d: %s", plan.name, saved.revision.revision, comment)
        return AcceptedDrift(plan.name, saved.revision.revision, server_id, result.accepted, result.refused)

    def apply(
        self,
        plan_name: str,
        base_revision: int,
        operator: str = "",
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> ApplyOutcome:
        """Apply ``plan_name``'s desired launch settings now (``services.launch_apply``: interrupted applies
        of this target first, then a fresh preview, journaled per server, read back and verified).
        PlanConflictError when the plan moved past ``base_revision``: the operator saw another."""
        stored = self._load(plan_name)
        if stored.revision.revision != base_revision:
            raise PlanConflictError(
                f"plan {plan_name!r} is at revision {stored.revision.revision} now, not {base_revision}: "
                "read its launch settings again before applying"
            )
        inventory = inventory_store.load_inventory(self._reader())
        if inventory is None:
            raise DrsDesktopError("no inventory yet: refresh the servers first, then apply")
        drs, ec2 = self._gateways()
        outcome, _ = apply_plan(
            self._db, stored, inventory, drs, ec2, operator=operator, on_progress=progress
        )
        return outcome

    def close(self) -> None:
        """Release the reader and the gateways, on the owning thread."""
        self._reader.close()
        for gateway in (self._drs, self._ec2):
            if gateway is not None:
                gateway.close()
        self._drs = self._ec2 = None

    # -- internals

    def _gateways(self) -> tuple[DrsGateway, Ec2Gateway]:
        if self._drs is None:
            self._drs = self._make_drs()
        if self._ec2 is None:
            self._ec2 = self._make_ec2()
        return self._drs, self._ec2

    def _load(self, name: str) -> StoredPlan:
        return plan_store.load_plan(self._reader(), name)

    def _plans(self, names: Sequence[str] | None) -> list[StoredPlan]:
        wanted = names if names is not None else [s.name for s in plan_store.list_plans(self._reader())]
        found = []
        for name in wanted:
            try:
                stored = self._load(name)
            except DrsDesktopError as error:
                logger.warning("launch drift: plan %r not read (%s)", name, error)
                continue
            if reads_launch_state(stored.plan):
                found.append(stored)
        return found
