"""Which layer decides each launch setting of one server, and which subnet its IP maps to.

The order, lowest first (a later layer replaces every field it sets; ``add_tags`` merge key by key):

1. the server's protection group's defaults;
2. the plan's defaults;
3. the group's tag overrides that select the server, in the order written;
4. the plan's tag overrides that select the server, in the order written;
5. the group's server overrides that name the server, in the order written;
6. the plan's server overrides that name the server, in the order written.

So a more specific override wins over a less specific one (a server over a tag, any override over the
defaults), and where the plan and its group say the same thing as specifically, the plan wins: the
plan is the operator's decision for this recovery, a group may be reused from another. Nothing set
anywhere leaves the server's current value.

A subnet given as a CIDR table maps the server's IPs: the row with the longest prefix containing any of
its IPs wins; two IPs matching equally specific rows of different subnets are a problem, never a guess.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from drs_desktop.domain.launch.current import ServerFacts
from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, SubnetByIp

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Layer:
    """One set of values that applies to a server, and where it comes from in the operator's words."""

    source: str
    fields: LaunchFields


@dataclass(frozen=True)
class Resolved:
    """The desired values for one server (a CIDR table still unmapped) and the layer behind each.

    ``sources`` maps a field name to the layer that set it; for ``add_tags`` each tag key is its own
    entry (``add_tags.KEY``), since several layers may add tags.
    """

    fields: LaunchFields
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)


def layers_for(
    server: ServerFacts,
    plan: LaunchSettings,
    group: LaunchSettings | None = None,
    group_name: str = "",
) -> list[Layer]:
    """The layers that apply to ``server``, lowest first (the order in the module docstring)."""
    group = group or LaunchSettings()
    in_group = f"group {group_name!r}" if group_name else "group"
    layers: list[Layer] = []
    if not group.defaults.is_empty():
        layers.append(Layer(f"{in_group} defaults", group.defaults))
    if not plan.defaults.is_empty():
        layers.append(Layer("plan defaults", plan.defaults))
    for by_tags in (True, False):
        layers += _matching(group.overrides, server, by_tags, in_group)
        layers += _matching(plan.overrides, server, by_tags, "plan")
    return layers


def _matching(overrides: tuple[Override, ...], server: ServerFacts, by_tags: bool, owner: str) -> list[Layer]:
    found: list[Layer] = []
    for index, override in enumerate(overrides):
        if override.is_tag_selector != by_tags or not override.selects(server.source_server_id, server.tags):
            continue
        if override.tags is not None:
            what = "tags " + ", ".join(f"{k}={v}" for k, v in override.tags.items())
        else:
            what = "server"
        found.append(Layer(f"{owner} override {index + 1} ({what})", override.settings))
    return found


def merge(layers: list[Layer]) -> Resolved:
    """The values the layers give together, later layers winning field by field."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    tags: dict[str, str] | None = None
    for layer in layers:
        for name in layer.fields.set_fields():
            value = getattr(layer.fields, name)
            if name == "add_tags":
                tags = {**(tags or {}), **value}
                sources.update({f"add_tags.{key}": layer.source for key in value})
            else:
                values[name] = value
                sources[name] = layer.source
    if tags is not None:
        values["add_tags"] = tags
    return Resolved(LaunchFields(**values), sources)  # type: ignore[arg-type]


def resolve(
    server: ServerFacts, plan: LaunchSettings, group: LaunchSettings | None = None, group_name: str = ""
) -> Resolved:
    return merge(layers_for(server, plan, group, group_name))


# ------------------------------------------------------------------------------------------ CIDR tables


@dataclass(frozen=True)
class SubnetMatch:
    """The subnet a CIDR table gives a server, or why none: ``problem`` is set exactly when
    ``subnet_id`` is empty."""

    subnet_id: str = ""
    cidr: str = ""
    ip: str = ""
    problem: str = ""


@lru_cache(maxsize=256)
def parse_table(table: SubnetByIp) -> tuple[tuple[tuple[IpNetwork, str, str], ...], str]:
    """The table's rows as networks, most specific first, and the first invalid row's problem ("" if
    none). A table with an invalid row maps nothing: a partly read table could pick a wrong subnet."""
    rows: list[tuple[IpNetwork, str, str]] = []
    for cidr, subnet_id in table.rows:
        try:
            rows.append((ipaddress.ip_network(cidr, strict=True), subnet_id, cidr))
        except ValueError:
            return (), f"the subnet table's row {cidr!r} is not a CIDR block; fix the plan's launch settings"
    rows.sort(key=lambda row: -row[0].prefixlen)
    return tuple(rows), ""


def map_subnet(table: SubnetByIp, ips: tuple[str, ...]) -> SubnetMatch:
    """The subnet of the most specific row containing one of ``ips``."""
    rows, problem = parse_table(table)
    if problem:
        return SubnetMatch(problem=problem)
    if not ips:
        return SubnetMatch(problem="the subnet is chosen by IP, but DRS reports no IP for this server")
    best: list[tuple[int, str, str, str]] = []  # (prefix length, subnet, cidr, ip)
    for text in ips:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue  # DRS reported something else as an IP: it maps nothing (named below if none maps)
        for network, subnet_id, cidr in rows:
            if address.version == network.version and address in network:
                best.append((network.prefixlen, subnet_id, cidr, text))
                break  # rows are most specific first
    if not best:
        shown = ", ".join(ips)
        return SubnetMatch(problem=f"no row of the subnet table contains the server's IP ({shown})")
    longest = max(prefix for prefix, *_ in best)
    winners = [entry for entry in best if entry[0] == longest]
    subnets = {subnet for _, subnet, _, _ in winners}
    if len(subnets) > 1:
        shown = "; ".join(f"{ip} -> {subnet} ({cidr})" for _, subnet, cidr, ip in winners)
        return SubnetMatch(problem=f"the server's IPs map to different subnets, equally specific: {shown}")
    _, subnet_id, cidr, ip = winners[0]
    return SubnetMatch(subnet_id=subnet_id, cidr=cidr, ip=ip)
