"""Desired launch settings benchmark (on demand, not in the suite): resolve and diff a plan's servers.

    .venv/bin/python tests/benchmarks/bench_launch_settings.py [--servers 1000] [--repeat 5]

Builds a plan the shape of a large estate: ``--servers`` servers in 10 waves, half in protection groups
by ID and half in tag groups (each group with its own settings), a CIDR table of 260 rows (/16 and /24
blocks) mapping every server's IP to a subnet, 20 tag overrides and 100 server overrides; every server
with a current DRS launch configuration and default template version, some already as desired. Prints,
best of ``--repeat`` runs, the time of:

1. ``preview``: ``preview_launch_settings`` (resolution, CIDR mapping, checks and diff of every server);
2. ``validate``: ``validate_plan`` with the inventory (the settings' own checks included);
3. ``file``: the plan written as a YAML plan file and read back (parse, structure, validation);

and what the preview found (servers changed, blocked, and the writes an apply would make). Exits 1 when
the preview of 1,000 servers takes a second or more.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.launch.current import ServerFacts, TemplateValues
from drs_desktop.domain.launch.diff import Destination
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings, Override, SubnetByIp
from drs_desktop.domain.plan.launch_preview import preview_launch_settings
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import validate_plan
from drs_desktop.storage.planfile import dump_plan, parse_plan_text

TARGET_S = 1.0
GROUPS = 20
WAVES = 10


def server_id(number: int) -> str:
    return f"s-{number:017d}"


def subnet(number: int) -> str:
    return f"subnet-{number:017x}"


def ip_of(number: int) -> str:
    return f"10.{number % 10}.{(number // 10) % 25}.{number % 200 + 10}"


def table() -> SubnetByIp:
    rows = [(f"10.{a}.0.0/16", subnet(1000 + a)) for a in range(10)]
    rows += [(f"10.{a}.{b}.0/24", subnet(2000 + a * 25 + b)) for a in range(10) for b in range(25)]
    return SubnetByIp(tuple(rows))


def build(count: int) -> tuple[RecoveryPlan, Inventory, list[ServerFacts]]:
    servers = tuple(
        SourceServer(
            server_id(n), f"host-{n}", tags={"App": f"app{n % GROUPS}", "Tier": ("db", "web")[n % 2]}
        )
        for n in range(count)
    )
    inventory = Inventory(servers=servers, account_id="111122223333", region="us-east-1")
    groups: list[ProtectionGroup] = []
    for g in range(GROUPS):
        own = LaunchSettings(
            LaunchFields(instance_type=f"m5.{('large', 'xlarge')[g % 2]}", add_tags={"Group": f"g{g}"}),
            (Override(LaunchFields(os_byol=True), tags={"Tier": "db"}),),
        )
        if g % 2:
            groups.append(ProtectionGroup(f"group {g}", tags={"App": f"app{g}"}, launch_settings=own))
        else:
            members = tuple(server_id(n) for n in range(count) if n % GROUPS == g)
            groups.append(ProtectionGroup(f"group {g}", server_ids=members, launch_settings=own))
    waves = tuple(
        Wave(f"wave {w}", groups=tuple(f"group {g}" for g in range(GROUPS) if g % WAVES == w))
        for w in range(WAVES)
    )
    overrides = [
        Override(LaunchFields(launch_disposition=Disposition.STOPPED), tags={"App": f"app{i}"})
        for i in range(20)
    ]
    overrides += [
        Override(LaunchFields(instance_type="r5.2xlarge", copy_private_ip=False), servers=(server_id(n),))
        for n in range(0, count, max(1, count // 100))
    ]
    plan = RecoveryPlan(
        "Estate",
        protection_groups=tuple(groups),
        waves=waves,
        launch_settings=LaunchSettings(
            LaunchFields(subnet=table(), copy_private_ip=True, copy_tags=True, add_tags={"DR": "yes"}),
            tuple(overrides),
        ),
    )
    facts = [ServerFacts.of(s, (ip_of(n),)) for n, s in enumerate(servers)]
    return plan, inventory, facts


def current(count: int) -> tuple[dict[str, LaunchConfigView], dict[str, TemplateValues], dict[str, str]]:
    configs = {
        server_id(n): LaunchConfigView(
            source_server_id=server_id(n),
            launch_disposition="STARTED",
            right_sizing=("NONE", "BASIC")[n % 7 == 0],
            copy_private_ip=n % 3 == 0,
            copy_tags=True,
            os_byol=False,
        )
        for n in range(count)
    }
    templates = {
        server_id(n): TemplateValues(
            template_id=f"lt-{n:017x}",
            version=1,
            subnet_id=subnet(1000 + n % 10),
            security_group_ids=("sg-0123456789abcdef0",),
            instance_type="m5.large",
            tags={"Name": f"host-{n}"},
        )
        for n in range(count)
    }
    cidrs = {row_subnet: cidr for cidr, row_subnet in table().rows}
    return configs, templates, cidrs


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plan, inventory, facts = build(args.servers)
    configs, templates, cidrs = current(args.servers)

    def preview() -> object:
        return preview_launch_settings(plan, facts, configs, templates, cidrs, inventory)

    found = preview_launch_settings(plan, facts, configs, templates, cidrs, inventory)
    preview_s = best(args.repeat, preview)
    validate_s = best(args.repeat, lambda: validate_plan(plan, inventory))
    text = dump_plan(plan, "yaml")
    file_s = best(args.repeat, lambda: parse_plan_text(text, "bench.yaml"))
    assert parse_plan_text(text, "bench.yaml").plan == plan
    calls = found.calls()
    changes = sum(len(s.changes) for s in found.servers)
    warnings = sum(len(s.warnings) for s in found.servers)
    print(
        f"servers {len(found.servers)}, overrides {len(plan.launch_settings.overrides)}, "
        f"CIDR rows {len(table().rows)}"
    )
    print(
        f"changed {len(found.changed)}, blocked {len(found.blocked)}, field changes {changes}, "
        f"warnings {warnings}; "
        f"an apply writes {calls[Destination.DRS]} launch configurations and "
        f"{calls[Destination.TEMPLATE]} template versions"
    )
    print(
        f"preview  {preview_s * 1000:8.1f} ms "
        f"({preview_s / max(1, len(found.servers)) * 1e6:.1f} us a server)"
    )
    print(f"validate {validate_s * 1000:8.1f} ms")
    print(f"file     {file_s * 1000:8.1f} ms  (YAML, {len(text) // 1024} KB, parsed and validated)")
    limit = TARGET_S * args.servers / 1000
    return 1 if preview_s >= limit else 0


if __name__ == "__main__":
    raise SystemExit(main())
