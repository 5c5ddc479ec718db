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
its IPs wins; two IPs matching equally specific rows of different subnets are a problem, never a guess,
and so are an IPv4 and an IPv6 address matching rows of different subnets (their prefix lengths do not
compare).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from drs_desktop.domain.launch.current import ServerFacts
from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, SubnetByIp


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
    group_index, plan_index = _indexed(group), _indexed(plan)
    layers += _tag_layers(group_index, server, in_group)
    layers += _tag_layers(plan_index, server, "plan")
    layers += _server_layers(group_index, server, in_group)
    layers += _server_layers(plan_index, server, "plan")
    return layers


@dataclass(frozen=True)
class _Index:
    """A settings' overrides split by selector, each with its 0-based position: tag overrides in order,
    and server overrides by server ID, so resolving many servers never scans every server override."""

    tags: tuple[tuple[int, Override], ...]
    servers: Mapping[str, tuple[tuple[int, Override], ...]]


def _build_index(settings: LaunchSettings) -> _Index:
    by_server: dict[str, list[tuple[int, Override]]] = {}
    for index, override in enumerate(settings.overrides):
        if override.tags is None:
            for server_id in dict.fromkeys(override.servers):
                by_server.setdefault(server_id, []).append((index, override))
    tags = tuple((i, o) for i, o in enumerate(settings.overrides) if o.tags is not None)
    return _Index(tags, {key: tuple(value) for key, value in by_server.items()})


def _tag_layers(index: _Index, server: ServerFacts, owner: str) -> list[Layer]:
    found: list[Layer] = []
    for position, override in index.tags:
        if override.selects(server.source_server_id, server.tags):
            assert override.tags is not None
            what = ", ".join(f"{k}={v}" for k, v in override.tags.items())
            found.append(Layer(f"{owner} override {position + 1} (tags {what})", override.settings))
    return found


def _server_layers(index: _Index, server: ServerFacts, owner: str) -> list[Layer]:
    return [
        Layer(f"{owner} override {position + 1} (server)", override.settings)
        for position, override in index.servers.get(server.source_server_id, ())
    ]


# Memos keyed by identity (holding the object, so an ID is never reused while its entry lives): a plan's
# settings and CIDR tables are immutable and shared by every server resolved against them, and hashing
# a 260-row table or 100 overrides for every server would cost more than the lookup it saves.
_MEMO_SIZE = 64
_index_memo: dict[int, tuple[LaunchSettings, _Index]] = {}
_table_memo: dict[int, tuple[SubnetByIp, ParsedTable]] = {}


def _indexed(settings: LaunchSettings) -> _Index:
    found = _index_memo.get(id(settings))
    if found is not None and found[0] is settings:
        return found[1]
    if len(_index_memo) >= _MEMO_SIZE:
        _index_memo.clear()
    index = _build_index(settings)
    _index_memo[id(settings)] = (settings, index)
    return index


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


@dataclass(frozen=True)
class ParsedTable:
    """A CIDR table as lookups: per prefix length (longest first) and IP version, the blocks' network
    numbers -> (subnet, CIDR as written). ``problem`` names the first invalid row; then nothing maps."""

    levels: tuple[
        tuple[int, int, int, Mapping[int, tuple[str, str]]], ...
    ] = ()  # (prefix, version, bits, blocks)
    problem: str = ""


def parse_table(table: SubnetByIp) -> ParsedTable:
    """The table as lookups (memoized per table). A table with an invalid row maps nothing: a partly
    read table could pick a wrong subnet."""
    found = _table_memo.get(id(table))
    if found is not None and found[0] is table:
        return found[1]
    parsed = _parse_table(table)
    if len(_table_memo) >= _MEMO_SIZE:
        _table_memo.clear()
    _table_memo[id(table)] = (table, parsed)
    return parsed


def _parse_table(table: SubnetByIp) -> ParsedTable:
    levels: dict[tuple[int, int], dict[int, tuple[str, str]]] = {}
    for cidr, subnet_id in table.rows:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            return ParsedTable(
                problem=f"the subnet table's row {cidr!r} is not a CIDR block; fix the plan's launch settings"
            )
        blocks = levels.setdefault((network.prefixlen, network.version), {})
        blocks.setdefault(
            int(network.network_address) >> (network.max_prefixlen - network.prefixlen), (subnet_id, cidr)
        )
    ordered = sorted(levels.items(), key=lambda item: -item[0][0])
    return ParsedTable(
        tuple((prefix, version, 32 if version == 4 else 128, blocks) for (prefix, version), blocks in ordered)
    )


def map_subnet(table: SubnetByIp, ips: tuple[str, ...]) -> SubnetMatch:
    """The subnet of the most specific row containing one of ``ips``."""
    parsed = parse_table(table)
    if parsed.problem:
        return SubnetMatch(problem=parsed.problem)
    if not ips:
        return SubnetMatch(problem="the subnet is chosen by IP, but DRS reports no IP for this server")
    best: list[tuple[int, int, str, str, str]] = []  # (IP version, prefix length, subnet, cidr, ip)
    for text in ips:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue  # DRS reported something else as an IP: it maps nothing (named below if none maps)
        number = int(address)
        for prefix, version, bits, blocks in parsed.levels:  # longest prefix first
            if version != address.version:
                continue
            hit = blocks.get(number >> (bits - prefix))
            if hit is not None:
                best.append((version, prefix, hit[0], hit[1], text))
                break
    if not best:
        shown = ", ".join(ips)
        return SubnetMatch(problem=f"no row of the subnet table contains the server's IP ({shown})")
    # The longest prefix wins among addresses of one IP version; prefix lengths of IPv4 and IPv6 do not
    # compare (a /64 holds more addresses than a /24), so the versions' winners must agree.
    winners = []
    for version in sorted({entry[0] for entry in best}):
        same = [entry for entry in best if entry[0] == version]
        longest = max(entry[1] for entry in same)
        winners += [entry for entry in same if entry[1] == longest]
    subnets = {subnet for _, _, subnet, _, _ in winners}
    if len(subnets) > 1:
        shown = "; ".join(f"{ip} -> {subnet} ({cidr})" for _, _, subnet, cidr, ip in winners)
        return SubnetMatch(problem=f"the server's IPs map to different subnets, equally specific: {shown}")
    _, _, subnet_id, cidr, ip = winners[0]
    return SubnetMatch(subnet_id=subnet_id, cidr=cidr, ip=ip)
