"""One server of a launch settings apply, step by step: check, new template version, default, DRS, verify.

``services.launch_apply`` runs several servers at once; this is what one worker does for one server,
with its own gateways. Each step starts from the step the journal recorded, commits its intent before a
write (``pending_step``) and its answer right after, so a crash anywhere resumes by redoing the step the
server had not recorded as done. Every write is idempotent: the template version carries a ClientToken of
the apply and the server (a resend returns the version the first call made), ModifyLaunchTemplate and
UpdateLaunchConfiguration set values. A server whose template's default version or DRS fields are no
longer what the preview read is refused (SKIPPED): the apply never writes over a change it did not see,
and a resume reads the default version again before it sets its own (the check was an earlier run's).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.domain.drs.errors import DrsError, DrsOutcomeUnknown, DrsUnavailable
from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.ec2 import LaunchTemplateData, LaunchTemplateVersionView
from drs_desktop.domain.launch.diff import DrsUpdate
from drs_desktop.services.patient_reads import PatientReads
from drs_desktop.storage.launch_applies import ApplyServer, ServerStep, with_step

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Sends of one idempotent write before the server is left for a resume.
WRITE_ATTEMPTS = 3
#: The mark at the start of every template version description an apply writes.
VERSION_MARK = "drs-desktop launch settings apply"
DRS_NAMES = ("copy_private_ip", "os_byol", "launch_disposition", "right_sizing", "copy_tags")


class Stopped(Exception):
    """The apply was asked to stop between two steps (the operator, or a failure elsewhere)."""


class WriteUnclear(Exception):
    """A write's outcome stayed unknown after every send: the server is left for a resume."""


def client_token(apply_id: str, server_id: str) -> str:
    """The ClientToken of one server's template version in one apply (EC2 takes at most 64 ASCII)."""
    return hashlib.sha256(f"{apply_id}/{server_id}".encode()).hexdigest()[:64]


def version_description(apply_id: str, plan_name: str, revision: int) -> str:
    text = f"{VERSION_MARK} {apply_id} (plan {plan_name} r{revision})"
    return text[:255]


def shown(value: object) -> str:
    """A DRS value as the preview shows it (``domain.launch.diff``'s wording), to compare with its read."""
    if value is None or value == "":
        return "(unknown)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compose(update: LaunchTemplateData, base: LaunchTemplateData) -> LaunchTemplateData:
    """The whole data of the new version: the update's members over the base's. EC2 replaces a network
    interface whole, so subnet, groups, address and public IP travel together; ``private_ip`` "" in the
    update removes the base's address."""
    if update.private_ip == "":
        private_ip = None
    else:
        private_ip = update.private_ip or base.private_ip
    return LaunchTemplateData(
        subnet_id=update.subnet_id or base.subnet_id,
        security_group_ids=update.security_group_ids or base.security_group_ids,
        instance_type=update.instance_type or base.instance_type,
        private_ip=private_ip,
        associate_public_ip=base.associate_public_ip,
        instance_tags=update.instance_tags or base.instance_tags,
    )


def template_mismatches(want: LaunchTemplateData, got: LaunchTemplateData) -> list[str]:
    """The members of the default version read back that differ from what was written."""
    out = []
    if (want.subnet_id or "") != (got.subnet_id or ""):
        out.append(f"subnet is {got.subnet_id or '(none)'}, not {want.subnet_id}")
    if sorted(set(want.security_group_ids)) != sorted(set(got.security_group_ids)):
        out.append(f"security groups are {', '.join(got.security_group_ids) or '(none)'}")
    if (want.instance_type or "") != (got.instance_type or ""):
        out.append(f"instance type is {got.instance_type or '(none)'}, not {want.instance_type}")
    if (want.private_ip or "") != (got.private_ip or ""):
        out.append(f"private IP is {got.private_ip or '(none)'}, not {want.private_ip or '(none)'}")
    if dict(want.instance_tags) != dict(got.instance_tags):
        out.append("instance tags differ")
    return out


def drs_mismatches(update: DrsUpdate, got: LaunchConfigView) -> list[str]:
    out = []
    for name in DRS_NAMES:
        value = getattr(update, name)
        if value is not None and shown(getattr(got, name)) != shown(value):
            out.append(f"{name} is {shown(getattr(got, name))}, not {shown(value)}")
    return out


class ServerSteps:
    """The steps of one apply's servers, for one worker thread (its own gateways, DESIGN §3.5).

    ``save`` journals a server (the process's one writer); ``stop`` is checked between steps.
    """

    def __init__(
        self,
        *,
        apply_id: str,
        description: str,
        drs: DrsGateway,
        ec2: Ec2Gateway,
        save: Callable[[ApplyServer, bool], None],
        stop: threading.Event,
        sleep: Callable[[float], None],
    ) -> None:
        self.apply_id = apply_id
        self.description = description
        self.drs = drs
        self.ec2 = ec2
        self._save = save
        self._stop = stop
        self._sleep = sleep
        self._read = PatientReads(sleep=sleep)

    def advance(self, server: ApplyServer) -> ApplyServer:
        """Take ``server`` from its recorded step to its end (or raise ``Stopped``/``WriteUnclear``,
        leaving it where the journal says)."""
        s = server
        resumed = server.step is not ServerStep.PENDING  # its check was made by an earlier run
        try:
            if s.step is ServerStep.PENDING:
                s = self._between(self.check(s))
            if s.step is ServerStep.CHECKED:
                s = self._between(self.create_version(s) if s.template_data is not None else s)
            if s.step is ServerStep.VERSION_CREATED:
                s = self._between(self.set_default(s, resumed=resumed))
            if s.step is ServerStep.CHECKED:  # no template change
                s = with_step(s, ServerStep.DEFAULT_SET)
            if s.step is ServerStep.DEFAULT_SET:
                s = self._between(self.update_drs(s, resumed=resumed))
            if s.step is ServerStep.DRS_UPDATED:
                s = self.verify(s)
        except _Ended as ended:
            return ended.server
        return s

    def _between(self, s: ApplyServer) -> ApplyServer:
        if s.step.ended:
            raise _Ended(s)
        if self._stop.is_set():
            raise Stopped
        return s

    def _record(self, s: ApplyServer, *, pending: bool = False) -> ApplyServer:
        self._save(s, pending)
        return s

    def _end(self, s: ApplyServer, step: ServerStep, reason: str) -> ApplyServer:
        return self._record(with_step(s, step, pending_step=s.pending_step, reason=reason))

    def _failed(self, s: ApplyServer, what: str, error: DrsError) -> ApplyServer:
        held = s.half_changed()
        reason = f"{what}: {error}" + (f" ({held})" if held else "")
        return self._end(replace(s, pending_step=""), ServerStep.FAILED, reason)

    def _write(self, operation: str, call: Callable[[], T]) -> T:
        """An idempotent write, sent again when its outcome is unknown or the failure transient."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return call()
            except DrsError as error:
                if not error.transient:
                    raise
                if attempt == WRITE_ATTEMPTS:
                    raise WriteUnclear(f"{operation}: {error}") from error
                logger.info("%s: %s; sending it again", operation, error.code or type(error).__name__)
                if not isinstance(error, DrsOutcomeUnknown):
                    self._sleep(min(error.retry_after or float(2**attempt), 30.0))
        raise AssertionError("unreachable")

    # -- the steps ---------------------------------------------------------------------------------

    def check(self, s: ApplyServer) -> ApplyServer:
        """Refuse the server when DRS or EC2 changed since the preview; else fix the new version's data."""
        try:
            if s.drs_update is not None:
                config = self._read(partial_config(self.drs, s.server_id), "GetLaunchConfiguration")
                changed = _drs_changed(s.drs_update, s.drs_before or {}, config)
                if changed:
                    return self._end(s, ServerStep.SKIPPED, f"changed in DRS since the preview: {changed}")
            data = s.template_data
            if data is not None:
                default = self._default_version(s.template_id)
                if default.version != s.base_version:
                    return self._end(
                        s,
                        ServerStep.SKIPPED,
                        f"changed in EC2 since the preview: the default version of {s.template_id} is "
                        f"now {default.version}, the preview read {s.base_version}",
                    )
                if default.data.other_interfaces:
                    return self._end(
                        s,
                        ServerStep.SKIPPED,
                        f"the default version of {s.template_id} has {default.data.other_interfaces} "
                        "network interface(s) besides device 0, which a new version would drop (EC2 "
                        "replaces the network interfaces whole); change this template in EC2",
                    )
                data = compose(data, default.data)
        except DrsError as error:
            if error.transient:
                raise WriteUnclear(f"reading {s.server_id}: {error}") from error
            return self._failed(s, "reading it before writing", error)
        return self._record(with_step(s, ServerStep.CHECKED, template_data=data))

    def create_version(self, s: ApplyServer) -> ApplyServer:
        assert s.template_data is not None
        data = s.template_data
        self._record(replace(s, pending_step="create_version"), pending=True)
        try:
            version = self._write(
                "CreateLaunchTemplateVersion",
                lambda: self.ec2.create_template_version(
                    s.template_id,
                    data,
                    source_version=s.base_version,
                    description=self.description,
                    client_token=client_token(self.apply_id, s.server_id),
                ),
            )
        except DrsError as error:
            return self._failed(s, "CreateLaunchTemplateVersion refused", error)
        return self._record(with_step(s, ServerStep.VERSION_CREATED, new_version=version.version))

    def set_default(self, s: ApplyServer, *, resumed: bool = False) -> ApplyServer:
        """Make the new version the default. On a resume, the default is read first: the apply's check is
        from an earlier run, and a default someone set since (neither the base version nor the apply's)
        is left alone, the server SKIPPED with its unused version named."""
        assert s.new_version is not None
        number = s.new_version
        if resumed:
            try:
                current = self._default_version(s.template_id).version
            except DrsError as error:
                if error.transient:
                    raise WriteUnclear(f"reading {s.server_id} before its default: {error}") from error
                return self._failed(s, "reading its default version before setting it", error)
            if current == number:  # set by the earlier run, its answer not recorded
                return self._record(with_step(s, ServerStep.DEFAULT_SET))
            if current != s.base_version:
                return self._end(
                    replace(s, pending_step=""),
                    ServerStep.SKIPPED,
                    f"changed in EC2 since the preview: the default version of {s.template_id} is now "
                    f"{current}, the preview read {s.base_version}; the apply's version {number} was "
                    "created and left unused (not the default)",
                )
        self._record(replace(s, pending_step="set_default"), pending=True)
        try:
            self._write("ModifyLaunchTemplate", lambda: self.ec2.set_default_version(s.template_id, number))
        except DrsError as error:
            return self._failed(
                replace(s, step=ServerStep.VERSION_CREATED), "ModifyLaunchTemplate refused", error
            )
        return self._record(with_step(s, ServerStep.DEFAULT_SET))

    def update_drs(self, s: ApplyServer, *, resumed: bool = False) -> ApplyServer:
        """UpdateLaunchConfiguration with the DRS fields. On a resume, DRS is read first, as for the
        default version: a field someone set since (neither what the preview read nor what is desired) is
        left alone, the server SKIPPED with the field named."""
        update = s.drs_update
        if update is None:
            return self._record(with_step(s, ServerStep.DRS_UPDATED))
        if resumed:
            try:
                config = self._read(partial_config(self.drs, s.server_id), "GetLaunchConfiguration")
            except DrsError as error:
                if error.transient:
                    raise WriteUnclear(f"reading {s.server_id} before its update: {error}") from error
                return self._failed(s, "reading its launch configuration before updating it", error)
            moved = _drs_moved(update, s.drs_before or {}, config)
            if moved:
                return self._end(
                    replace(s, pending_step=""),
                    ServerStep.SKIPPED,
                    f"changed in DRS since the preview: {moved}; its launch configuration was left as is",
                )
        self._record(replace(s, pending_step="update_drs"), pending=True)
        try:
            self._write(
                "UpdateLaunchConfiguration",
                lambda: self.drs.update_launch_configuration(
                    s.server_id,
                    copy_private_ip=update.copy_private_ip,
                    os_byol=update.os_byol,
                    launch_disposition=update.launch_disposition,
                    right_sizing=update.right_sizing,
                    copy_tags=update.copy_tags,
                ),
            )
        except DrsError as error:
            return self._failed(
                replace(s, step=ServerStep.DEFAULT_SET), "UpdateLaunchConfiguration refused", error
            )
        return self._record(with_step(s, ServerStep.DRS_UPDATED))

    def verify(self, s: ApplyServer) -> ApplyServer:
        """Read back the launch configuration and the template's default version; every desired field
        must be there."""
        problems: list[str] = []
        try:
            if s.drs_update is not None:
                config = self._read(partial_config(self.drs, s.server_id), "GetLaunchConfiguration")
                problems += drs_mismatches(s.drs_update, config)
            if s.template_data is not None:
                default = self._default_version(s.template_id)
                if default.version != s.new_version:
                    problems.append(f"the default version is {default.version}, not {s.new_version}")
                else:
                    problems += template_mismatches(s.template_data, default.data)
        except DrsError as error:
            if error.transient:
                raise WriteUnclear(f"reading {s.server_id} back: {error}") from error
            return self._failed(s, "reading it back", error)
        if problems:
            return self._end(s, ServerStep.FAILED, "read back: " + "; ".join(problems))
        return self._end(s, ServerStep.VERIFIED, "")

    def _default_version(self, template_id: str) -> LaunchTemplateVersionView:
        versions = self._read(
            lambda: self.ec2.template_versions(template_id, ["$Default"]), "DescribeLaunchTemplateVersions"
        )
        if len(versions) != 1:
            raise _unreadable(f"EC2 listed {len(versions)} default versions of {template_id}")
        return versions[0]


class _Ended(Exception):
    def __init__(self, server: ApplyServer) -> None:
        super().__init__(server.server_id)
        self.server = server


def partial_config(drs: DrsGateway, server_id: str) -> Callable[[], LaunchConfigView]:
    return lambda: drs.launch_configuration(server_id)


def _drs_changed(update: DrsUpdate, before: Mapping[str, str], config: LaunchConfigView) -> str:
    changed = []
    for name in DRS_NAMES:
        if getattr(update, name) is None:
            continue
        now = shown(getattr(config, name))
        if name in before and before[name] != now:
            changed.append(f"{name} is now {now}, the preview read {before[name]}")
    return "; ".join(changed)


def _drs_moved(update: DrsUpdate, before: Mapping[str, str], config: LaunchConfigView) -> str:
    """The fields of ``update`` DRS now holds at a value that is neither what the preview read nor what
    the apply sets: someone else's change, made since (a resume must not overwrite it)."""
    moved = []
    for name in DRS_NAMES:
        wanted = getattr(update, name)
        if wanted is None or name not in before:
            continue
        now = shown(getattr(config, name))
        if now not in (before[name], shown(wanted)):
            moved.append(f"{name} is now {now}, the preview read {before[name]}")
    return "; ".join(moved)


def _unreadable(message: str) -> DrsError:
    return DrsUnavailable(
        message, code="MalformedResponse", operation="DescribeLaunchTemplateVersions", transient=False
    )
