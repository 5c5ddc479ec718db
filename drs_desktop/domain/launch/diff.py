"""What applying the desired launch settings would change on one server, and what stops it.

The diff is split by the call that makes each change, because an apply makes two kinds: DRS's
UpdateLaunchConfiguration (copy private IP, licensing, launch disposition, right-sizing, copy tags) and
a new version of the server's EC2 launch template (subnet, security groups, instance type, tags, private
IP). Only what changes is listed. A server with an error has its changes listed (the preview shows what
was meant) but no update to apply: a server is applied whole or not at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drs_desktop.domain.launch.current import LaunchConfigLike, ServerFacts, TemplateValues
from drs_desktop.domain.launch.model import Disposition, LaunchFields, RightSizing, SubnetByIp
from drs_desktop.domain.launch.resolve import Resolved, map_subnet

DRS_FIELDS = ("copy_private_ip", "os_byol", "launch_disposition", "right_sizing", "copy_tags")
TEMPLATE_FIELDS = ("subnet", "security_groups", "instance_type", "add_tags")


class Destination(StrEnum):
    DRS = "drs"  # UpdateLaunchConfiguration
    TEMPLATE = "template"  # a new EC2 launch template version


@dataclass(frozen=True)
class FieldChange:
    """One field that changes: ``field`` is a setting's name, or ``tag KEY`` for one tag."""

    field: str
    destination: Destination
    before: str
    after: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class LaunchProblem:
    """An error (blocks applying the server) or a warning, with a stable ``code`` for tools."""

    code: str
    message: str
    error: bool = True

    def __str__(self) -> str:
        return self.message if self.error else f"warning: {self.message}"


@dataclass(frozen=True)
class DrsUpdate:
    """The fields to send with UpdateLaunchConfiguration; None is "not sent"."""

    copy_private_ip: bool | None = None
    os_byol: bool | None = None
    launch_disposition: Disposition | None = None
    right_sizing: RightSizing | None = None
    copy_tags: bool | None = None


@dataclass(frozen=True)
class TemplateUpdate:
    """A new launch template version based on ``base_version``; None fields are copied from it.

    ``tags`` is the version's whole instance tag set (the base's and the added ones); ``private_ip`` ""
    removes a fixed private IP the new subnet cannot hold.
    """

    template_id: str
    base_version: int
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] | None = None
    instance_type: str | None = None
    tags: Mapping[str, str] | None = field(default=None, hash=False)
    private_ip: str | None = None


@dataclass(frozen=True)
class ServerLaunchPlan:
    """One server's preview: desired values (subnet mapped to an ID), changes, problems, updates."""

    server_id: str
    hostname: str
    desired: LaunchFields
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)
    changes: tuple[FieldChange, ...] = ()
    errors: tuple[LaunchProblem, ...] = ()
    warnings: tuple[LaunchProblem, ...] = ()
    drs: DrsUpdate | None = None
    template: TemplateUpdate | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.errors)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def plan_server(
    server: ServerFacts,
    resolved: Resolved,
    config: LaunchConfigLike | None,
    template: TemplateValues | None,
    subnet_cidrs: Mapping[str, str] | None = None,
) -> ServerLaunchPlan:
    """The preview of one server. ``subnet_cidrs`` maps the target's subnet IDs to their CIDRs as EC2
    reports them; None when not known, which leaves the checks that need it as warnings."""
    return _Planner(server, resolved, config, template, subnet_cidrs).run()


class _Planner:
    def __init__(
        self,
        server: ServerFacts,
        resolved: Resolved,
        config: LaunchConfigLike | None,
        template: TemplateValues | None,
        subnet_cidrs: Mapping[str, str] | None,
    ) -> None:
        self.server = server
        self.want = resolved.fields
        self.sources = resolved.sources
        self.config = config
        self.template = template
        self.subnets = subnet_cidrs
        self.errors: list[LaunchProblem] = []
        self.warnings: list[LaunchProblem] = []
        self.changes: list[FieldChange] = []

    def error(self, code: str, message: str) -> None:
        self.errors.append(LaunchProblem(code, message))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(LaunchProblem(code, message, error=False))

    def run(self) -> ServerLaunchPlan:
        subnet_id = self.subnet()
        desired = _replace_subnet(self.want, subnet_id)
        drs = self.drs_changes()
        template = self.template_changes(subnet_id)
        self.copy_private_ip(subnet_id)
        self.right_sizing()
        blocked = bool(self.errors)
        return ServerLaunchPlan(
            server_id=self.server.source_server_id,
            hostname=self.server.hostname,
            desired=desired,
            sources=self.sources,
            changes=tuple(self.changes),
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            drs=None if blocked else drs,
            template=None if blocked else template,
        )

    # -- subnet

    def subnet(self) -> str | None:
        """The desired subnet ID (a CIDR table mapped), or None when none is desired or it cannot be."""
        wanted = self.want.subnet
        if wanted is None:
            return None
        if isinstance(wanted, SubnetByIp):
            match = map_subnet(wanted, self.server.ips)
            if match.problem:
                self.error("subnet_unmapped", f"subnet: {match.problem}")
                return None
            subnet_id = match.subnet_id
        else:
            subnet_id = wanted
        if self.subnets is not None and subnet_id not in self.subnets:
            self.error("unknown_subnet", f"subnet: {subnet_id} is not a subnet EC2 reports in this target")
        return subnet_id

    # -- DRS launch configuration

    def drs_changes(self) -> DrsUpdate | None:
        wanted = {
            name: getattr(self.want, name) for name in DRS_FIELDS if getattr(self.want, name) is not None
        }
        if not wanted:
            return None
        if self.config is None:
            self.error("launch_configuration_unknown", "the server's DRS launch configuration was not read")
            return None
        sent: dict[str, object] = {}
        for name, value in wanted.items():
            current = _current_drs(self.config, name)
            if _shown(current) != _shown(value):
                self.change(name, Destination.DRS, _shown(current), _shown(value))
                sent[name] = value
        return DrsUpdate(**sent) if sent else None  # type: ignore[arg-type]

    # -- EC2 launch template

    def template_changes(self, subnet_id: str | None) -> TemplateUpdate | None:
        want = self.want
        if (
            subnet_id is None
            and want.subnet is None
            and all(getattr(want, name) is None for name in TEMPLATE_FIELDS[1:])
        ):
            return None
        current = self.template
        if current is None:
            self.error("template_unknown", "the server's launch template (default version) was not read")
            return None
        update: dict[str, object] = {}
        if subnet_id is not None and subnet_id != current.subnet_id:
            self.change("subnet", Destination.TEMPLATE, current.subnet_id or "(none)", subnet_id)
            update["subnet_id"] = subnet_id
            self.private_ip_in_new_subnet(current, subnet_id, update)
        groups = want.security_groups
        if groups is not None and sorted(set(groups)) != sorted(set(current.security_group_ids)):
            before = ", ".join(current.security_group_ids) or "(none)"
            self.change("security_groups", Destination.TEMPLATE, before, ", ".join(groups) or "(none)")
            update["security_group_ids"] = groups
        if want.instance_type is not None and want.instance_type != current.instance_type:
            self.change(
                "instance_type", Destination.TEMPLATE, current.instance_type or "(none)", want.instance_type
            )
            update["instance_type"] = want.instance_type
        added = {k: v for k, v in (want.add_tags or {}).items() if current.tags.get(k) != v}
        for key, value in added.items():
            had = current.tags.get(key)
            source = self.sources.get(f"add_tags.{key}", "")
            self.changes.append(
                FieldChange(
                    f"tag {key}", Destination.TEMPLATE, "(none)" if had is None else had, value, source
                )
            )
        if added:
            update["tags"] = {**current.tags, **added}
        if not update:
            return None
        if current.other_interfaces:
            self.error(
                "template_other_interfaces",
                f"the launch template {current.template_id} has {current.other_interfaces} network "
                "interface(s) besides device 0, which a new version would drop; change it in EC2",
            )
        return TemplateUpdate(template_id=current.template_id, base_version=current.version, **update)  # type: ignore[arg-type]

    def private_ip_in_new_subnet(
        self, current: TemplateValues, subnet_id: str, update: dict[str, object]
    ) -> None:
        """A fixed private IP in the template must lie in the new subnet, or the launch fails: remove it
        (said as a change and a warning) when it does not; warn when that cannot be told."""
        if not current.private_ip:
            return
        cidr = (self.subnets or {}).get(subnet_id)
        if cidr is None:
            self.warn(
                "private_ip_not_checked",
                f"the template's private IP {current.private_ip} may not fit {subnet_id} "
                "(the subnet's CIDR is not known)",
            )
            return
        if not _contains(cidr, current.private_ip):
            self.changes.append(
                FieldChange(
                    "private_ip",
                    Destination.TEMPLATE,
                    current.private_ip,
                    "(none)",
                    self.sources.get("subnet", ""),
                )
            )
            update["private_ip"] = ""
            self.warn(
                "private_ip_removed",
                f"the template's private IP {current.private_ip} is outside {subnet_id} ({cidr}); "
                "the new version leaves it out",
            )

    # -- checks

    def copy_private_ip(self, subnet_id: str | None) -> None:
        copy = self.want.copy_private_ip
        if copy is None and self.config is not None:
            copy = self.config.copy_private_ip
        if not copy or (self.want.subnet is not None and subnet_id is None):
            return  # off, or the desired subnet is already an error: checking the template's would mislead
        subnet = subnet_id or (self.template.subnet_id if self.template is not None else "")
        ip = _first_ipv4(self.server.ips)  # DRS copies the private IPv4 address; IPv6 ones may come first
        if ip is None:
            self.warn(
                "copy_private_ip_not_checked", "copy private IP: DRS reports no IPv4 address for this server"
            )
            return
        cidr = (self.subnets or {}).get(subnet) if subnet else None
        if cidr is None:
            what = f"the CIDR of {subnet} is not known" if subnet else "the subnet is not known"
            self.warn("copy_private_ip_not_checked", f"copy private IP: not checked, {what}")
            return
        if not _contains(cidr, ip):
            self.error(
                "copy_private_ip_outside_subnet",
                f"copy private IP: the server's IP {ip} is outside {subnet} ({cidr}); the launch would fail",
            )

    def right_sizing(self) -> None:
        if self.want.instance_type is None:
            return
        method: str = self.want.right_sizing or (self.config.right_sizing if self.config is not None else "")
        if method == RightSizing.NONE:
            return
        shown = method or "not known"
        self.warn(
            "right_sizing_overwrites",
            f"instance type {self.want.instance_type}: DRS's instance type right-sizing ({shown}) picks the "
            "type at launch and will overwrite it; set right_sizing: NONE to keep it",
        )

    def change(self, name: str, destination: Destination, before: str, after: str) -> None:
        self.changes.append(FieldChange(name, destination, before, after, self.sources.get(name, "")))


def _current_drs(config: LaunchConfigLike, name: str) -> object:
    return getattr(config, name)


def _shown(value: object) -> str:
    if value is None or value == "":
        return "(unknown)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first_ipv4(ips: tuple[str, ...]) -> str | None:
    for text in ips:
        try:
            if ipaddress.ip_address(text).version == 4:
                return text
        except ValueError:
            continue
    return None


def _contains(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _replace_subnet(fields: LaunchFields, subnet_id: str | None) -> LaunchFields:
    if fields.subnet is None or isinstance(fields.subnet, str):
        return fields
    return replace(fields, subnet=subnet_id)
