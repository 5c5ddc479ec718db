"""What a server has now: its facts, its DRS launch configuration and its default template version.

The resolver reads plain values, never a gateway answer. ``LaunchConfigLike`` is the part of
``domain.drs.views.LaunchConfigView`` it reads, as a protocol: the launch package stays below the DRS
views (which sit above the engine and the plan) while a ``LaunchConfigView`` is passed as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from drs_desktop.domain.inventory import SourceServer


@dataclass(frozen=True)
class ServerFacts:
    """A source server as resolution needs it: ID, hostname, tags, and its IPs, primary first.

    The IPs are DRS's ``sourceProperties.networkInterfaces[].ips`` (the primary interface's first);
    ``copy private IP`` copies the first one.
    """

    source_server_id: str
    hostname: str = ""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    ips: tuple[str, ...] = ()

    @classmethod
    def of(cls, server: SourceServer, ips: tuple[str, ...] | None = None) -> ServerFacts:
        """The facts of ``server``, with its inventory IPs unless ``ips`` is given."""
        return cls(server.source_server_id, server.hostname, server.tags, server.ips if ips is None else ips)


class LaunchConfigLike(Protocol):
    """The DRS launch configuration fields the diff compares (GetLaunchConfiguration).

    ``right_sizing`` and ``launch_disposition`` are DRS's strings ("" when not reported); a None bool
    is "not reported" too, shown as unknown and always sent when a value is desired.
    """

    @property
    def launch_disposition(self) -> str: ...
    @property
    def right_sizing(self) -> str: ...
    @property
    def copy_private_ip(self) -> bool | None: ...
    @property
    def copy_tags(self) -> bool | None: ...
    @property
    def os_byol(self) -> bool | None: ...


@dataclass(frozen=True)
class TemplateValues:
    """The launch settings a server's EC2 launch template holds in its default version.

    ``subnet_id`` and ``private_ip`` are the first network interface's; ``tags`` the instance tags of
    its tag specifications. ``version`` is the version number read, so an apply can base its new
    version on exactly it (and notice that someone made another in between).
    """

    template_id: str = ""
    version: int = 0
    subnet_id: str = ""
    security_group_ids: tuple[str, ...] = ()
    instance_type: str = ""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    private_ip: str = ""
    other_interfaces: int = 0  # network interfaces beside device 0: a new version would drop them
