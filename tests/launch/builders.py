"""Small builders for the launch settings tests: servers, current launch configurations, templates."""

from __future__ import annotations

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.launch.current import ServerFacts, TemplateValues

S1 = "s-0000000000000000a"
S2 = "s-0000000000000000b"
S3 = "s-0000000000000000c"
SUBNET_A = "subnet-0aaaaaaaaaaaaaaaa"  # 10.1.0.0/16
SUBNET_B = "subnet-0bbbbbbbbbbbbbbbb"  # 10.1.2.0/24
SUBNET_C = "subnet-0cccccccccccccccc"  # 10.9.0.0/16
SG_1 = "sg-0111111111111111a"
SG_2 = "sg-0222222222222222b"
CIDRS = {SUBNET_A: "10.1.0.0/16", SUBNET_B: "10.1.2.0/24", SUBNET_C: "10.9.0.0/16"}


def server(server_id: str = S1, ip: str = "10.1.2.10", **tags: str) -> ServerFacts:
    return ServerFacts(server_id, hostname=f"host-{server_id[-1]}", tags=tags, ips=(ip,) if ip else ())


def config(server_id: str = S1, **values: object) -> LaunchConfigView:
    """The real DRS view, as the gateway builds it: the diff reads it through its protocol."""
    defaults: dict[str, object] = {
        "launch_disposition": "STARTED",
        "right_sizing": "NONE",
        "copy_private_ip": False,
        "copy_tags": False,
        "os_byol": False,
    }
    return LaunchConfigView(source_server_id=server_id, **{**defaults, **values})  # type: ignore[arg-type]


def template(**values: object) -> TemplateValues:
    defaults: dict[str, object] = {
        "template_id": "lt-0123456789abcdef0",
        "version": 3,
        "subnet_id": SUBNET_A,
        "security_group_ids": (SG_1,),
        "instance_type": "m5.large",
        "tags": {"Name": "web"},
    }
    return TemplateValues(**{**defaults, **values})  # type: ignore[arg-type]
