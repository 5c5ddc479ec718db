"""The estate: source servers generated from a scenario, and their point-in-time snapshots.

Generation draws from the scenario's ``fleet`` stream only, so the same seed gives the same hostnames,
IDs, OS and replication states whatever else the run does. Snapshots are not stored: a server's
point-in-time schedule (every 10 minutes for the last hour, hourly for a day, daily for 7 days, DRS's
default retention) is computed from the clock when asked, which keeps a 4,000-server world cheap.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator, Mapping

from drs_desktop.simulator.entities import LaunchConfig, Server, Snapshot
from drs_desktop.simulator.ids import Arns, IdFactory, stable_hex, stream
from drs_desktop.simulator.scenario import REPLICATION_STATES, AppSpec, Scenario, ScenarioError, ServerSpec

logger = logging.getLogger(__name__)

LINUX_OS = (
    "Ubuntu 22.04.4 LTS",
    "Ubuntu 20.04.6 LTS",
    "Red Hat Enterprise Linux release 8.9 (Ootpa)",
    "Red Hat Enterprise Linux release 9.3 (Plow)",
    "Amazon Linux 2",
    "SUSE Linux Enterprise Server 15 SP5",
    "Rocky Linux release 9.3 (Blue Onyx)",
)
WINDOWS_OS = (
    "Microsoft Windows Server 2019 Datacenter",
    "Microsoft Windows Server 2022 Standard",
    "Microsoft Windows Server 2016 Standard",
)
CPU_MODELS = ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "AMD EPYC 7502P 32-Core Processor")
SIZES = {  # tier -> (instance type, cpus, ram GiB, data disk GiB or 0)
    "web": ("m5.large", 2, 8, 0),
    "app": ("m5.xlarge", 4, 16, 100),
    "db": ("r5.2xlarge", 8, 64, 500),
}
DEFAULT_SIZE = ("m5.large", 2, 8, 50)
#: States in which the agent is replicating in this account (they count against the 300 quota).
REPLICATING_STATES = frozenset(REPLICATION_STATES) - {"STOPPED", "DISCONNECTED"}
#: States with no usable replicated data (initial sync not done, or DRS deleted the data).
NO_DATA_STATES = frozenset({"INITIATING", "INITIAL_SYNC", "STOPPED", "DISCONNECTED"})
#: States in which replication is not progressing, so the newest snapshot ages.
FROZEN_STATES = frozenset({"STALLED", "PAUSED", "STOPPED", "DISCONNECTED"})
PIT_MINUTES = 10
RETENTION_DAYS = 7
AGENT_VERSION = "4.6.524"


def build_fleet(scenario: Scenario, seed: int, start_ts: float, arns: Arns) -> list[Server]:
    """Every source server of the scenario, in a stable order (applications, then servers, then bulk)."""
    rng = stream(seed, "fleet")
    ids = IdFactory(stream(seed, "fleet-ids"))
    fleet = scenario.fleet
    rows: list[tuple[str, str, str, str, dict[str, str], ServerSpec | None]] = []
    for app in fleet.applications:
        rows.extend(_app_rows(app, rng))
    for spec in fleet.servers:
        family = spec.os or _pick(rng, {"linux": 0.7, "windows": 0.3})
        rows.append((spec.hostname, family, spec.application or "", spec.tier or "", dict(spec.tags), spec))
    gen = fleet.generated
    for i in range(gen.count):
        app_name = f"app{(i % gen.applications) + 1:03d}"
        tier = gen.tiers[(i // gen.applications) % len(gen.tiers)]
        family = _pick(rng, gen.os_mix)
        rows.append((f"{gen.hostname_prefix}-{i + 1:05d}", family, app_name, tier, {}, None))
    hostnames = [r[0] for r in rows]
    if len(set(hostnames)) != len(hostnames):
        dup = next(h for h in hostnames if hostnames.count(h) > 1)
        raise ScenarioError(scenario.source, "fleet", f"hostname {dup!r} is used by more than one server")
    servers = [_make_server(scenario, rng, ids, arns, start_ts, *row) for row in rows]
    _place_on_staging_accounts(scenario, servers)
    logger.debug("Built a fleet of %d source servers", len(servers))
    return servers


def _app_rows(app: AppSpec, rng: random.Random) -> Iterator[tuple[str, str, str, str, dict[str, str], None]]:
    for tier in app.tiers:
        for n in range(tier.count):
            family = _pick(rng, tier.os_mix)
            tags = {**app.tags, **tier.tags}
            yield f"{tier.hostname_prefix}-{n + 1:02d}", family, app.name, tier.name, tags, None


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    items = list(weights.items())
    total = sum(w for _, w in items)
    draw = rng.random() * total
    for name, weight in items:
        draw -= weight
        if draw < 0:
            return str(name)
    return str(items[-1][0])


def _make_server(
    scenario: Scenario,
    rng: random.Random,
    ids: IdFactory,
    arns: Arns,
    start_ts: float,
    hostname: str,
    family: str,
    application: str,
    tier: str,
    extra_tags: dict[str, str],
    spec: ServerSpec | None,
) -> Server:
    fleet = scenario.fleet
    rep = fleet.replication
    server_id = (spec.server_id if spec and spec.server_id else None) or ids.source_server()
    state = (
        rep.overrides.get(hostname) or (spec.replication_state if spec else None) or _pick(rng, rep.states)
    )
    itype, cpus, ram_gib, data_gib = SIZES.get(tier, DEFAULT_SIZE)
    os_string = rng.choice(WINDOWS_OS if family == "windows" else LINUX_OS)
    root_gib = rng.choice((50, 80, 100)) if family == "linux" else rng.choice((100, 128))
    disk_names = ("disk0", "disk1") if family == "windows" else ("/dev/sda", "/dev/sdb")
    disks = [(disk_names[0], root_gib * 2**30)]
    if data_gib:
        disks.append((disk_names[1], data_gib * 2**30))
    added = start_ts - rng.uniform(5, 400) * 86400
    lag = rng.uniform(rep.lag_seconds.low, rep.lag_seconds.high)
    stopped_at: float | None = None
    first_byte: float | None = added + rng.uniform(60, 900)
    sync_done: float | None = first_byte + rng.uniform(3600, 6 * 3600) if first_byte else None
    error = None
    if state in ("INITIATING", "INITIAL_SYNC"):
        added = start_ts - rng.uniform(600, 4 * 3600)
        first_byte = None if state == "INITIATING" else added + rng.uniform(120, 600)
        sync_done = None
    elif state in FROZEN_STATES:
        lag = rng.uniform(rep.stalled_lag_seconds.low, rep.stalled_lag_seconds.high)
        stopped_at = start_ts - lag
        if state == "STALLED":
            error = rng.choice(("UNSTABLE_NETWORK", "AGENT_NOT_SEEN", "NOT_CONVERGING"))
    if spec and spec.lag_seconds is not None:
        lag = spec.lag_seconds
        if stopped_at is not None:
            stopped_at = start_ts - lag
    tags = {
        "Name": hostname,
        **fleet.common_tags,
        **({fleet.application_tag: application} if application else {}),
        **({fleet.tier_tag: tier} if tier else {}),
        **extra_tags,
    }
    octets = rng.randrange(1, 255), rng.randrange(1, 255)
    mac = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
    return Server(
        server_id=server_id,
        arn=arns.source_server(server_id),
        hostname=hostname,
        fqdn=f"{hostname}.{fleet.domain}",
        os_family=family,
        os_string=os_string,
        application=application,
        tier=tier,
        tags=tags,
        replication_state=state,
        lag_seconds=lag,
        replication_stopped_at=stopped_at,
        added_ts=added,
        first_byte_ts=first_byte,
        sync_done_ts=sync_done,
        cpus=cpus,
        cpu_model=rng.choice(CPU_MODELS),
        ram_bytes=ram_gib * 2**30,
        disks=disks,
        ip=f"10.20.{octets[0]}.{octets[1]}",
        mac=mac,
        instance_type=itype,
        agent_version=AGENT_VERSION,
        staging_account=None,
        snapshot_offset=rng.uniform(0, PIT_MINUTES * 60),
        launch_config=LaunchConfig(name=hostname, launch_template_id=ids.launch_template()),
        replication_error=error,
    )


def _place_on_staging_accounts(scenario: Scenario, servers: list[Server]) -> None:
    """Servers beyond the replicating quota become extended source servers of the staging accounts."""
    limit = scenario.quotas.max_replicating_servers
    replicating = [s for s in servers if s.replication_state in REPLICATING_STATES]
    excess = replicating[limit:]
    if not excess:
        return
    accounts = scenario.fleet.staging_accounts
    if not accounts:
        raise ScenarioError(
            scenario.source,
            "fleet",
            f"{len(replicating)} replicating source servers exceed quotas.max_replicating_servers ({limit}); "
            "list fleet.staging_accounts to model extended source servers, or make servers STOPPED or "
            "DISCONNECTED",
        )
    if len(excess) > limit * len(accounts):
        raise ScenarioError(
            scenario.source,
            "fleet.staging_accounts",
            f"{len(excess)} extended servers need at least {-(-len(excess) // limit)} staging accounts "
            f"({limit} replicating servers each)",
        )
    for i, server in enumerate(excess):
        server.staging_account = accounts[i % len(accounts)]


def replicating_count(servers: Iterable[Server]) -> int:
    """Servers counting against the account's replicating-server quota (extended ones do not)."""
    return sum(1 for s in servers if s.replication_state in REPLICATING_STATES and not s.extended)


def has_data(server: Server) -> bool:
    return server.replication_state not in NO_DATA_STATES and server.sync_done_ts is not None


def newest_data_ts(server: Server, now: float) -> float:
    """The newest moment whose data DRS holds for ``server`` (for a healthy server: ``now - lag``)."""
    if server.replication_stopped_at is not None:
        return min(now, server.replication_stopped_at)
    return now - server.lag_seconds


def pit_snapshots(server: Server, now: float, seed: int) -> list[Snapshot]:
    """The server's point-in-time snapshots at ``now``, oldest first, plus any on-demand ones."""
    result: dict[float, Snapshot] = {}
    if has_data(server) and server.sync_done_ts is not None:
        end = newest_data_ts(server, now)
        step = PIT_MINUTES * 60
        last = ((end - server.snapshot_offset) // step) * step + server.snapshot_offset
        times = {last - k * step for k in range(6)}
        times.update(last - h * 3600 for h in range(1, 24))
        times.update(last - d * 86400 for d in range(1, RETENTION_DAYS + 1))
        for t in times:
            if t >= server.sync_done_ts and t >= now - RETENTION_DAYS * 86400 - 1:
                snap = _snapshot(server, t, seed)
                if snap.ts is not None and snap.ts > now:
                    snap.ts = None  # still being taken: no timestamp yet (drs_api.md §12.9)
                result[t] = snap
    for snap in server.extra_snapshots:
        if snap.expected_ts >= now - RETENTION_DAYS * 86400:
            result[snap.expected_ts] = snap
    return [result[t] for t in sorted(result)]


def _snapshot(server: Server, t: float, seed: int, kind: str = "pit") -> Snapshot:
    key = int(t)
    ebs = tuple(f"snap-{stable_hex(seed, server.server_id, key, kind, i)}" for i in range(len(server.disks)))
    return Snapshot(
        snapshot_id=f"pit-{stable_hex(seed, server.server_id, key, kind)}",
        server_id=server.server_id,
        expected_ts=t,
        ts=t + 2.0 + (key % 7),
        ebs_snapshots=ebs,
    )


def add_snapshot_without_timestamp(server: Server, t: float, seed: int) -> Snapshot:
    """By hand: a finished snapshot of ``server`` at ``t`` that DescribeRecoverySnapshots lists without
    ``timestamp`` (only ``expectedTimestamp`` and its EBS snapshots, like DRS's published example,
    drs_api.md §12.9); StartRecovery accepts it. For tests of clients that must take it as usable."""
    snap = _snapshot(server, t, seed, "untimed")
    snap.timestamp_shown = False
    server.extra_snapshots.append(snap)
    return snap


def on_demand_snapshot(server: Server, t: float, seed: int) -> Snapshot:
    """The snapshot a job takes when no recoverySnapshotID was given (no ``ts`` until it completes)."""
    snap = _snapshot(server, t, seed, "on-demand")
    snap.ts = None
    server.extra_snapshots.append(snap)
    return snap
