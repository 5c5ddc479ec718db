"""The runner's EC2 calls for a drill into the drill network (``engine.drill_net``): point a server's launch
template at the drill profile, and set its production version back.

``ExecutionRunner`` hands ``PointTemplates`` and ``RestoreTemplates`` here with its own journal and clock,
so each follows the runner contract: the intent is journaled before any write, each server's answer right
after its calls. Both are safe to send again after a crash: CreateLaunchTemplateVersion carries the
command's client token (EC2 returns the version the first call made), and a default that already is this
run's drill version (pointing) or the production version (restoring) is taken as it is. A default someone
else set during the drill is never overwritten: the failure says so.

A point whose set-default failed is read back: still not our drill version, the drill version is
deleted (it was never the default; an unused version left in EC2 would only confuse) and the failure
says whether it was; the read-back failing too is ``TemplatePointUnknown`` (the template may be
pointed: the engine keeps the server off and restores). ``still_pointed`` is the read right before a
drill chunk's StartRecovery (one DescribeLaunchTemplates for the chunk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.errors import DrsError, DrsNotFound
from drs_desktop.domain.ec2 import LaunchTemplateData, LaunchTemplateVersionView, drill_description
from drs_desktop.domain.engine.commands import (
    PointTemplates,
    RestoreTemplates,
    StartJob,
    TemplatePoint,
    TemplateRestore,
)
from drs_desktop.domain.engine.drill_net_events import (
    TemplateDefaultChanged,
    TemplatePointFailed,
    TemplatePointUnknown,
    TemplateRestoreFailed,
    TemplatesPointed,
    TemplatesPointRequested,
    TemplatesRestored,
    TemplatesRestoreRequested,
)
from drs_desktop.domain.engine.events import Event

logger = logging.getLogger(__name__)


class _NotPointed(Exception):
    """Set-default failed and the default read back is not the drill version: ``event`` says so."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class _MaybePointed(Exception):
    """Set-default failed and the default could not be read back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DrillNetCommands:
    """Executes ``PointTemplates`` and ``RestoreTemplates`` for one runner, through ``ec2()`` (the EC2
    gateway of the command's target, owned by the runner)."""

    def __init__(
        self,
        ec2: Callable[[], Ec2Gateway],
        record: Callable[[Event], None],
        clock: Callable[[], datetime],
        read: Callable[[str, Callable[[], Any]], Any] | None = None,
    ) -> None:
        self._ec2 = ec2
        self._record = record
        self._clock = clock
        # The runner's read: a failure becomes Throttled/PollFailed, which paces the engine's next try.
        self._read = read or (lambda _operation, call: call())

    # -- pointing

    def point(self, command: PointTemplates) -> None:
        self._record(
            TemplatesPointRequested(server_ids=tuple(s.server_id for s in command.servers), at=self._clock())
        )
        zones = self._zones(command)
        for item in command.servers:
            try:
                event: Event = self._point_one(command, item, zones)
            except DrsError as error:
                logger.warning(
                    "pointing %s's template %s failed: %s", item.server_id, item.template_id, error
                )
                event = TemplatePointFailed(server_id=item.server_id, reason=_reason(error), at=self._clock())
            self._record(event)

    def _zones(self, command: PointTemplates) -> dict[str, str]:
        """Every subnet's Availability Zone, when there are several drill subnets to choose from (one
        DescribeSubnets per command); {} otherwise, or when EC2 does not answer (the first subnet then)."""
        if len(command.subnet_ids) < 2:
            return {}
        try:
            return {subnet.subnet_id: subnet.availability_zone for subnet in self._ec2().subnets()}
        except DrsError as error:
            logger.warning("drill subnets' zones not read (%s): the first drill subnet is used", error)
            return {}

    def _point_one(self, command: PointTemplates, item: TemplatePoint, zones: dict[str, str]) -> Event:
        default = _default_version(self._ec2(), item.template_id)
        origin = default.drill_origin
        if origin is not None:
            execution, production = origin
            if execution != command.execution_id:
                reason = (
                    f"its default version {default.version} is a drill version of another run ({execution}): "
                    "restore it first (drs-desktop launch-settings restore)"
                )
                return TemplatePointFailed(server_id=item.server_id, reason=reason, at=self._clock())
            drill = default.version  # ours: a resend after a crash
            subnet = default.data.subnet_id or ""
        elif default.is_drill_version:
            reason = (
                f"its default version {default.version} is marked as a drill version but names no "
                "production version"
            )
            return TemplatePointFailed(server_id=item.server_id, reason=reason, at=self._clock())
        else:
            production = default.version
            subnet = drill_subnet(command, default.data.subnet_id, zones)
            created = self._ec2().create_template_version(
                item.template_id,
                LaunchTemplateData(subnet_id=subnet, security_group_ids=command.security_group_ids),
                source_version=production,
                description=drill_description(command.execution_id, production),
                client_token=item.client_token,
            )
            drill = created.version
            try:
                self._make_default(item.template_id, drill)
            except _MaybePointed as unknown:
                return TemplatePointUnknown(
                    server_id=item.server_id,
                    template_id=item.template_id,
                    production_version=production,
                    drill_version=drill,
                    reason=unknown.reason,
                    at=self._clock(),
                    subnet_id=subnet,
                )
            except _NotPointed as failed:
                return self._unused(item, drill, failed.event)
        logger.info(
            "template %s of %s: drill version %d (production %d)",
            item.template_id,
            item.server_id,
            drill,
            production,
        )
        return TemplatesPointed(
            server_id=item.server_id,
            template_id=item.template_id,
            production_version=production,
            drill_version=drill,
            at=self._clock(),
            subnet_id=subnet,
        )

    def _make_default(self, template_id: str, drill: int) -> None:
        """Make ``drill`` the default. A failed call may still have taken effect (a lost answer): the
        default is read again, and if it is ``drill`` the point stands (a failure journaled then would leave
        the template pointed at the drill network after the run, as nothing restores a failed point)."""
        try:
            self._ec2().set_default_version(template_id, drill)
        except DrsError as error:
            try:
                now = _default_version(self._ec2(), template_id).version
            except DrsError as again:
                logger.warning("template %s: default not read back after %s: %s", template_id, error, again)
                raise _MaybePointed(
                    f"{_reason(error)}; the default could not be read back ({_reason(again)}): "
                    f"drill version {drill} may be the default"
                ) from None
            if now != drill:
                raise _NotPointed(
                    TemplatePointFailed(server_id="", reason=_reason(error), at=self._clock())
                ) from error
            logger.info("template %s: the lost answer's default is the drill version %d", template_id, drill)

    def _unused(self, item: TemplatePoint, drill: int, failed: Event) -> Event:
        """The point failed after its drill version was made (never the default: just read back): delete
        it, and say whether it went."""
        assert isinstance(failed, TemplatePointFailed)
        try:
            refused = self._ec2().delete_template_versions(item.template_id, [drill])
            problem = refused.get(drill, "")
        except DrsError as error:
            problem = _reason(error)
        if problem:
            logger.warning("unused drill version %d of %s not deleted: %s", drill, item.template_id, problem)
        reason = f"{failed.reason}; unused drill version {drill} " + (
            f"NOT deleted ({problem})" if problem else "deleted"
        )
        return TemplatePointFailed(
            server_id=item.server_id,
            reason=reason,
            at=self._clock(),
            unused_version=drill,
            unused_deleted=not problem,
            delete_error=problem,
        )

    # -- right before a start

    def still_pointed(self, command: StartJob) -> bool:
        """Read the chunk's templates (one DescribeLaunchTemplates) right before its StartRecovery: True
        when every default is still this run's drill version. Otherwise each that is not is journaled
        ``TemplateDefaultChanged`` (the engine points it again or fails it), and False: nothing starts.
        A read that fails is journaled by the runner's read (the engine paces its next try): False."""
        checks = command.drill_versions
        ids = [c.template_id for c in checks]
        found = self._read("DescribeLaunchTemplates", lambda: self._ec2().launch_templates(ids))
        if found is None:
            return False
        defaults = {t.template_id: t.default_version for t in found}
        changed = False
        for check in checks:
            now = defaults.get(check.template_id)
            if now == check.drill_version:
                continue
            changed = True
            logger.warning(
                "template %s of %s: default %s, not drill version %d, right before the start",
                check.template_id,
                check.server_id,
                now,
                check.drill_version,
            )
            self._record(
                TemplateDefaultChanged(server_id=check.server_id, found_version=now or 0, at=self._clock())
            )
        return not changed

    # -- restoring

    def restore(self, command: RestoreTemplates) -> None:
        self._record(
            TemplatesRestoreRequested(
                server_ids=tuple(s.server_id for s in command.servers), at=self._clock()
            )
        )
        for item in command.servers:
            try:
                event: Event = self._restore_one(item)
            except DrsNotFound as error:
                event = TemplateRestoreFailed(
                    server_id=item.server_id, reason=f"the template is gone: {error}", at=self._clock()
                )
            except DrsError as error:
                logger.warning(
                    "restoring %s's template %s failed: %s", item.server_id, item.template_id, error
                )
                event = TemplateRestoreFailed(
                    server_id=item.server_id,
                    reason=_reason(error),
                    definite=not error.transient,
                    at=self._clock(),
                )
            self._record(event)

    def _restore_one(self, item: TemplateRestore) -> Event:
        default = _default_version(self._ec2(), item.template_id)
        if default.version == item.drill_version:
            self._ec2().set_default_version(item.template_id, item.production_version)
            return TemplatesRestored(server_id=item.server_id, at=self._clock())
        if default.version == item.production_version:
            return TemplatesRestored(server_id=item.server_id, at=self._clock())
        reason = (
            f"its default version was changed to {default.version} during the drill (not by this run): "
            f"left as it is, not set back to production version {item.production_version}"
        )
        return TemplateRestoreFailed(
            server_id=item.server_id, reason=reason, changed_to=default.version, at=self._clock()
        )


def _default_version(ec2: Ec2Gateway, template_id: str) -> LaunchTemplateVersionView:
    versions = ec2.template_versions(template_id, ["$Default"])
    if len(versions) != 1:
        raise DrsNotFound(f"EC2 listed {len(versions)} default version(s) of launch template {template_id}")
    return versions[0]


def _reason(error: DrsError) -> str:
    return f"{error.code or type(error).__name__}: {error}"


def drill_subnet(command: PointTemplates, production_subnet: str | None, zones: dict[str, str]) -> str:
    """The drill subnet in the Availability Zone of the server's production subnet; the first drill subnet
    when there is one only, the zone is not known, or no drill subnet is in it."""
    zone = zones.get(production_subnet or "")
    if zone:
        for subnet_id in command.subnet_ids:
            if zones.get(subnet_id) == zone:
                return subnet_id
    return command.subnet_id
