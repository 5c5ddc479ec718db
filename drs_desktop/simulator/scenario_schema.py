"""Loading and validation of scenario documents: every key checked, unknown keys rejected, errors naming
the key.

Kept apart from ``scenario`` (the frozen dataclasses) so each stays readable; this module imports that
one, never the other way round (tests/test_layering.py fails on an import cycle).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from drs_desktop.simulator.automation_spec import read_automation
from drs_desktop.simulator.ec2_spec import read_ec2
from drs_desktop.simulator.faults import WORLD_FAULT_KINDS, ServerFaultRule, TransportRule
from drs_desktop.simulator.scenario import (
    OS_FAMILIES,
    REPLICATION_STATES,
    SHIPPED,
    ActionSpec,
    AppSpec,
    AwsHostedSpec,
    Behaviour,
    FaultSpec,
    FleetSpec,
    GeneratedSpec,
    OsRange,
    OutsideJobSpec,
    PostLaunchSpec,
    Quotas,
    ReplicationSpec,
    Scenario,
    ScenarioError,
    ServerSpec,
    SnsTopicSpec,
    SourceOrigin,
    TierSpec,
    Timings,
    check_fleet_against_quotas,
    known_operations,
    shipped_path,
)
from drs_desktop.simulator.scenario_accounts import check_accounts, read_accounts
from drs_desktop.simulator.scenario_node import ACCOUNT_RE as _ACCOUNT_RE
from drs_desktop.simulator.scenario_node import HOST_RE as _HOST_RE
from drs_desktop.simulator.scenario_node import NAME_RE as _NAME_RE
from drs_desktop.simulator.scenario_node import REGION_RE as _REGION_RE
from drs_desktop.simulator.scenario_node import SERVER_ID_RE as _SERVER_ID_RE
from drs_desktop.simulator.scenario_node import Node as _Node

_SNS_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_ACTION_CODE_RE = re.compile(r"^[A-Za-z0-9-/:]+$")


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario | None = None) -> Scenario:
    """Load a scenario from a file path, a shipped name, a dict (tests) or None (the demo)."""
    if isinstance(source, Scenario):
        return source
    if source is None:
        source = "demo"
    if isinstance(source, Mapping):
        return build_scenario(source, "<dict>")
    path = Path(source)
    if isinstance(source, str) and source in SHIPPED and not path.exists():
        path = shipped_path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read the scenario file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(path.name, "", f"not valid YAML: {exc}") from None
    if data is None:
        data = {}
    return build_scenario(data, path.name)


def build_scenario(data: Any, source: str) -> Scenario:
    root = _Node(data, source, "")
    defaults = Scenario()
    start_text = root.text("start_time")
    start_time = None
    if start_text is not None:
        try:
            start_time = datetime.fromisoformat(start_text.replace("Z", "+00:00"))
        except ValueError:
            raise root.error("start_time", f"not an ISO 8601 time: {start_text!r}") from None
        if start_time.tzinfo is None:
            start_time = start_time.replace(tzinfo=UTC)
    quotas = _quotas(root.child("quotas"))
    multi = root.has("accounts")
    for key in ("fleet", "identity_arn", "initialized"):
        if multi and root.has(key):
            raise root.error(key, "belongs in each of accounts[] when the scenario lists accounts")
    accounts = read_accounts(root, quotas, fleet=_fleet, quotas_reader=_quotas)
    default_account = accounts[0].account_id if accounts else defaults.account_id
    scenario = Scenario(
        name=root.text("name", source.rsplit(".", 1)[0]) or "scenario",
        description=root.text("description", "") or "",
        source=source,
        account_id=root.text("account_id", default_account, pattern=_ACCOUNT_RE) or default_account,
        region=root.text("region", defaults.region, pattern=_REGION_RE) or defaults.region,
        seed=root.integer("seed", 0),
        start_time=start_time,
        initialized=root.flag("initialized", True),
        timestamp_format="zulu"
        if root.choice("timestamp_format", "offset", ("offset", "zulu")) == "zulu"
        else "offset",
        identity_arn=root.text("identity_arn"),
        quotas=quotas,
        fleet=_fleet(root.child("fleet")),
        timings=_timings(root.child("timings")),
        post_launch=_post_launch(root.child("post_launch")),
        faults=_faults(root.child("faults")),
        server_step_timeout_minutes=_native(root.child("native_plans")),
        behaviour=_behaviour(root.child("behaviour")),
        outside_jobs=tuple(_outside_job(n) for n in root.items("outside_jobs")),
        accounts=accounts,
        ec2=read_ec2(root.child("ec2")),
        automation=read_automation(root.child("automation")),
    )
    scenario = replace(
        scenario, sns_topics=_sns_topics(root.child("sns"), scenario.account_id, scenario.region)
    )
    root.finish()
    if accounts:
        check_accounts(scenario)
    else:
        check_fleet_against_quotas(scenario)
    return scenario


def _sns_topics(node: _Node, account_id: str, region: str) -> tuple[SnsTopicSpec, ...]:
    """``sns: {topics: [{name, account_id, region, publishers, display_name}]}``."""
    topics = []
    for item in node.items("topics"):
        name = item.text("name", pattern=_SNS_NAME_RE)
        if not name:
            raise item.error("name", "is required")
        topics.append(
            SnsTopicSpec(
                name=name,
                account_id=item.text("account_id", account_id, pattern=_ACCOUNT_RE) or account_id,
                region=item.text("region", region, pattern=_REGION_RE) or region,
                publishers=item.strings("publishers"),
                display_name=item.text("display_name", "") or "",
            )
        )
        for i, publisher in enumerate(topics[-1].publishers):
            if not _ACCOUNT_RE.fullmatch(publisher):
                raise item.error(f"publishers[{i}]", "is not a 12-digit account ID")
        item.finish()
    node.finish()
    return tuple(topics)


def _quotas(node: _Node, base: Quotas | None = None) -> Quotas:
    d = base or Quotas()
    quotas = Quotas(**{name: node.integer(name, getattr(d, name), low=1) for name in d.__dataclass_fields__})
    node.finish()
    return quotas


def _timings(node: _Node) -> Timings:
    d = Timings()
    values: dict[str, Any] = {}
    for name in d.__dataclass_fields__:
        default = getattr(d, name)
        values[name] = (
            node.os_range(name, default) if isinstance(default, OsRange) else node.range(name, default)
        )
    node.finish()
    return Timings(**values)


def _fleet(node: _Node) -> FleetSpec:
    d = FleetSpec()
    apps = tuple(_app(n) for n in node.items("applications"))
    names = [a.name for a in apps]
    if len(set(names)) != len(names):
        raise node.error("applications", "application names must be unique")
    servers = tuple(_server(n) for n in node.items("servers"))
    accounts = node.strings("staging_accounts")
    for i, account in enumerate(accounts):
        if not _ACCOUNT_RE.match(account):
            raise node.error(f"staging_accounts[{i}]", f"must be a 12-digit account ID, got {account!r}")
    fleet = FleetSpec(
        domain=node.text("domain", d.domain) or d.domain,
        application_tag=node.text("application_tag", d.application_tag) or d.application_tag,
        tier_tag=node.text("tier_tag", d.tier_tag) or d.tier_tag,
        common_tags=node.tags("common_tags"),
        applications=apps,
        servers=servers,
        generated=_generated(node.child("generated")),
        replication=_replication(node.child("replication")),
        staging_accounts=accounts,
        aws_hosted=_aws_hosted(node.child("aws_hosted")),
    )
    node.finish()
    return fleet


def _aws_hosted(node: _Node) -> AwsHostedSpec:
    hostnames = node.strings("hostnames")
    for i, hostname in enumerate(hostnames):
        if not _HOST_RE.match(hostname):
            raise node.error(f"hostnames[{i}]", f"not a hostname: {hostname!r}")
    origins: dict[str, SourceOrigin] = {}
    table = node.child("origins")
    for hostname in list(table.data):
        if not isinstance(hostname, str) or not _HOST_RE.match(hostname):
            raise table.error(str(hostname), "is not a hostname")
        entry = table.child(hostname)
        origins[hostname] = SourceOrigin(
            region=entry.text("region", pattern=_REGION_RE),
            account_id=entry.text("account", pattern=_ACCOUNT_RE),
        )
        entry.finish()
    table.finish()
    spec = AwsHostedSpec(
        fraction=node.number("fraction", 0.0, high=1.0),
        hostnames=hostnames,
        tags=node.tags("tags"),
        origins=origins,
    )
    node.finish()
    return spec


def _app(node: _Node) -> AppSpec:
    name = node.text("name", pattern=_NAME_RE)
    if name is None:
        raise node.error("name", "is required")
    app_os = node.weights("os", {"linux": 0.7, "windows": 0.3}, OS_FAMILIES)
    tiers = []
    for tier_node in node.items("tiers"):
        tier_name = tier_node.text("name", pattern=_NAME_RE)
        if tier_name is None:
            raise tier_node.error("name", "is required")
        tiers.append(
            TierSpec(
                name=tier_name,
                count=tier_node.integer("count", 1, high=4000),
                os_mix=tier_node.weights("os", app_os, OS_FAMILIES),
                hostname_prefix=tier_node.text("hostname_prefix", f"{name}-{tier_name}", pattern=_HOST_RE)
                or f"{name}-{tier_name}",
                tags=tier_node.tags("tags"),
            )
        )
        tier_node.finish()
    if not tiers:
        raise node.error("tiers", "an application needs at least one tier")
    app = AppSpec(name=name, tiers=tuple(tiers), tags=node.tags("tags"))
    node.finish()
    return app


def _server(node: _Node) -> ServerSpec:
    hostname = node.text("hostname", pattern=_HOST_RE)
    if hostname is None:
        raise node.error("hostname", "is required")
    spec = ServerSpec(
        hostname=hostname,
        os=node.choice("os", "linux", OS_FAMILIES) if node.has("os") else None,
        server_id=node.text("id", pattern=_SERVER_ID_RE),
        application=node.text("application"),
        tier=node.text("tier"),
        tags=node.tags("tags"),
        replication_state=node.choice("replication_state", "CONTINUOUS", REPLICATION_STATES)
        if node.has("replication_state")
        else None,
        lag_seconds=node.number("lag_seconds", 0.0) if node.has("lag_seconds") else None,
        aws_hosted=node.flag("aws_hosted", False),
    )
    node.finish()
    return spec


def _generated(node: _Node) -> GeneratedSpec:
    d = GeneratedSpec()
    tiers = node.strings("tiers") or d.tiers
    spec = GeneratedSpec(
        count=node.integer("count", 0, high=100000),
        applications=node.integer("applications", d.applications, low=1),
        tiers=tiers,
        os_mix=node.weights("os", d.os_mix, OS_FAMILIES),
        hostname_prefix=node.text("hostname_prefix", d.hostname_prefix, pattern=_HOST_RE)
        or d.hostname_prefix,
    )
    node.finish()
    return spec


def _replication(node: _Node) -> ReplicationSpec:
    d = ReplicationSpec()
    overrides_node = node.child("overrides")
    overrides = {
        str(k): overrides_node.choice(str(k), "CONTINUOUS", REPLICATION_STATES) for k in overrides_node.data
    }
    overrides_node.finish()
    spec = ReplicationSpec(
        states=node.weights("states", d.states, REPLICATION_STATES),
        lag_seconds=node.range("lag_seconds", d.lag_seconds),
        stalled_lag_seconds=node.range("stalled_lag_seconds", d.stalled_lag_seconds),
        overrides=overrides,
    )
    node.finish()
    return spec


def _post_launch(node: _Node) -> PostLaunchSpec:
    actions: list[ActionSpec] = []
    for n in node.items("actions"):
        name = n.text("name")
        code = n.text("action_code", pattern=_ACTION_CODE_RE)
        if not name or not code:
            raise n.error("name" if not name else "action_code", "is required")
        actions.append(
            ActionSpec(
                name=name,
                action_code=code,
                type=n.choice("type", "SSM_COMMAND", ("SSM_COMMAND", "SSM_AUTOMATION")),
                category=n.choice(
                    "category", "OTHER", ("MONITORING", "VALIDATION", "CONFIGURATION", "SECURITY", "OTHER")
                ),
                order=n.integer("order", 2 + len(actions), low=2, high=10000),
                optional=n.flag("optional", True),
                active=n.flag("active", True),
                description=n.text("description", "") or "",
                applies_to=n.tags("applies_to"),
            )
        )
        n.finish()
    spec = PostLaunchSpec(run_on_drills=node.flag("run_on_drills", False), actions=tuple(actions))
    node.finish()
    return spec


def _faults(node: _Node) -> FaultSpec:
    transport: dict[str, TransportRule] = {}
    tnode = node.child("transport")
    operations = known_operations()
    for op in list(tnode.data):
        if op != "*" and op not in operations:
            raise tnode.error(str(op), "not a DRS operation of the installed botocore model (or '*')")
        r = tnode.child(str(op))
        try:
            transport[str(op)] = TransportRule(
                throttle_rate=r.number("throttle_rate", 0.0, high=1.0),
                retry_after=r.integer("retry_after", 1),
                error_rate=r.number("error_rate", 0.0, high=1.0),
                error_status=r.integer("error_status", 500, low=500, high=599),
                latency_seconds=r.number("latency_seconds", 0.0),
                drop_rate=r.number("drop_rate", 0.0, high=1.0),
                count=r.integer("count", 0, low=1) if r.has("count") else None,
                drop_after_rate=r.number("drop_after_rate", 0.0, high=1.0),
                error_after_rate=r.number("error_after_rate", 0.0, high=1.0),
                hold_rate=r.number("hold_rate", 0.0, high=1.0),
                hold_seconds=r.number("hold_seconds", 0.0),
            )
            if r.has("hold_seconds") and not r.has("hold_rate"):
                raise r.error("hold_seconds", "needs hold_rate (the share of calls to hold, e.g. 1.0)")
        except ValueError as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise r.error("", str(exc)) from None
        r.finish()
    tnode.finish()
    world: dict[str, ServerFaultRule] = {}
    keys = {
        f"{kind}_failures" if kind in ("launch", "conversion", "permissions", "post_launch") else kind: kind
        for kind in WORLD_FAULT_KINDS
    }
    keys["stuck_jobs"] = keys.pop("stuck")
    for key, kind in keys.items():
        if node.has(key):
            w = node.child(key)
            world[kind] = ServerFaultRule(
                frozenset(w.strings("servers")), w.number("fraction", 0.0, high=1.0)
            )
            w.finish()
    node.finish()
    return FaultSpec(transport=transport, world=world)


def _native(node: _Node) -> int:
    value = node.integer("server_step_timeout_minutes", Scenario().server_step_timeout_minutes, low=1)
    node.finish()
    return value


def _behaviour(node: _Node) -> Behaviour:
    d = Behaviour()
    spec = Behaviour(
        missing_instance_id_fraction=node.number(
            "missing_instance_id_fraction", d.missing_instance_id_fraction, high=1.0
        )
    )
    node.finish()
    return spec


def _outside_job(node: _Node) -> OutsideJobSpec:
    if not node.has("at"):
        raise node.error("at", "is required (virtual seconds after the world starts)")
    servers = node.strings("servers")
    if not servers:
        raise node.error("servers", "is required: a non-empty list of server IDs or hostnames")
    spec = OutsideJobSpec(
        at=node.number("at", 0.0),
        servers=servers,
        is_drill=node.choice("mode", "drill", ("drill", "recovery")) == "drill",
        tags=node.tags("tags"),
    )
    node.finish()
    return spec
