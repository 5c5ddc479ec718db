"""Fault injection: what goes wrong, where, and how often, reproducibly.

Two families:

- transport faults, applied by the HTTP server around the call. Before the backend sees it (the action
  does not happen): throttling (429 with ``Retry-After``), 5xx, added latency and dropped connections.
  After the backend carried it out (the action happens, the answer is lost): a dropped connection or a
  5xx instead of the answer, or a request held until the virtual clock has moved on, so the client's
  read timeout fires first. Each operation draws from its own seeded stream, so whether the 7th
  DescribeJobs call is throttled depends only on the seed and on it being the 7th DescribeJobs call,
  not on what other operations did in between.
- world faults, decided per (job, source server) by hashing, so the decision does not depend on call
  order at all: a failed launch, a failed conversion, a job that never finishes, the missing-EC2-
  permissions pattern of drs_api.md §12.7, a failed post-launch action, and a LAUNCHED server whose
  ``recoveryInstanceID`` is left out of the job (§12.5).

Faults come from a scenario file (``faults:``) or are set at run time through this class, e.g.
``sim.faults.throttle("DescribeJobs", rate=0.5)``, ``sim.faults.lose_answer("StartRecovery", count=1)``
or ``sim.faults.fail_launch(servers=["web-01"])``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from drs_desktop.simulator.contract import TransportFault
from drs_desktop.simulator.ids import stable_fraction, stream

logger = logging.getLogger(__name__)

ALL_OPERATIONS = "*"
WORLD_FAULT_KINDS = (
    "launch",
    "conversion",
    "permissions",
    "stuck",
    "post_launch",
    "missing_instance_id",
    "terminate",
)


#: The rates of a TransportRule in the order one draw is compared against them. New kinds go at the end,
#: so a seed keeps injecting the same faults it did before they existed.
_RATES = ("drop_rate", "error_rate", "throttle_rate", "drop_after_rate", "error_after_rate", "hold_rate")


@dataclass(frozen=True)
class TransportRule:
    """Transport faults for one operation (or ``*``): rates are probabilities per call in [0, 1].

    ``drop_rate``, ``error_rate`` and ``throttle_rate`` strike before the backend sees the call;
    ``drop_after_rate`` and ``error_after_rate`` after it carried the call out (the answer is lost);
    ``hold_rate`` holds the call ``hold_seconds`` of virtual time, then carries it out. ``error_status``
    is the status of both kinds of 5xx. ``count`` limits the rule to its next ``count`` matching faults
    (then it is spent), which lets a test say "throttle exactly the next two StartRecovery calls".
    """

    throttle_rate: float = 0.0
    retry_after: int = 1
    error_rate: float = 0.0
    error_status: int = 500
    latency_seconds: float = 0.0
    drop_rate: float = 0.0
    count: int | None = None
    drop_after_rate: float = 0.0
    error_after_rate: float = 0.0
    hold_rate: float = 0.0
    hold_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        total = sum(getattr(self, name) for name in _RATES)
        if total > 1.0 + 1e-9:
            raise ValueError(f"{' + '.join(_RATES)} must not exceed 1, got {total:g}")
        if not 500 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 5xx status, got {self.error_status}")
        if self.retry_after < 0 or self.latency_seconds < 0 or self.hold_seconds < 0:
            raise ValueError("retry_after, latency_seconds and hold_seconds must be >= 0")
        if self.hold_rate > 0 and self.hold_seconds <= 0:
            raise ValueError("hold_rate needs hold_seconds > 0 (how long to hold, in virtual seconds)")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")

    def fault_for(self, draw: float) -> TransportFault | None:
        """The fault a draw in [0, 1) picks, latency aside."""
        threshold = 0.0
        for name in _RATES:
            threshold += getattr(self, name)
            if draw < threshold:
                return self._fault(name)
        return None

    def _fault(self, rate: str) -> TransportFault:
        if rate == "drop_rate":
            return TransportFault(kind="drop")
        if rate == "error_rate":
            return TransportFault(kind="server_error", status=self.error_status)
        if rate == "throttle_rate":
            return TransportFault(kind="throttle", status=429, retry_after=self.retry_after)
        if rate == "drop_after_rate":
            return TransportFault(kind="drop_after")
        if rate == "error_after_rate":
            return TransportFault(kind="server_error_after", status=self.error_status)
        return TransportFault(kind="hold", hold_seconds=self.hold_seconds)

    def spent(self) -> TransportRule:
        """This rule once its ``count`` is used up: latency only."""
        return replace(self, count=None, **dict.fromkeys(_RATES, 0.0))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ServerFaultRule:
    """A world fault hitting the named servers (IDs or hostnames) always, and any other at ``fraction``."""

    servers: frozenset[str] = field(default_factory=frozenset)
    fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {self.fraction}")

    @property
    def active(self) -> bool:
        return bool(self.servers) or self.fraction > 0.0


class FaultPlan:
    """The faults in force; thread-safe, since the HTTP server asks from its own threads."""

    def __init__(
        self,
        seed: int,
        transport: dict[str, TransportRule] | None = None,
        world: dict[str, ServerFaultRule] | None = None,
    ) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._transport: dict[str, TransportRule] = dict(transport or {})
        self._world: dict[str, ServerFaultRule] = {}
        for kind, rule in (world or {}).items():
            self._set_world(kind, rule)
        self._streams: dict[str, random.Random] = {}
        self._injected: dict[str, int] = {}

    # -- transport -------------------------------------------------------------------------------

    def set_transport(self, operation: str, rule: TransportRule | None) -> None:
        """Replace the rule for ``operation`` (``*`` = every operation without its own rule)."""
        with self._lock:
            if rule is None:
                self._transport.pop(operation, None)
            else:
                self._transport[operation] = rule

    def throttle(
        self,
        operation: str = ALL_OPERATIONS,
        *,
        rate: float = 1.0,
        retry_after: int = 1,
        count: int | None = None,
    ) -> None:
        self._merge(operation, throttle_rate=rate, retry_after=retry_after, count=count)

    def server_errors(
        self,
        operation: str = ALL_OPERATIONS,
        *,
        rate: float = 1.0,
        status: int = 500,
        count: int | None = None,
    ) -> None:
        self._merge(operation, error_rate=rate, error_status=status, count=count)

    def drop_connections(
        self, operation: str = ALL_OPERATIONS, *, rate: float = 1.0, count: int | None = None
    ) -> None:
        self._merge(operation, drop_rate=rate, count=count)

    def latency(self, operation: str = ALL_OPERATIONS, *, seconds: float) -> None:
        self._merge(operation, latency_seconds=seconds)

    def lose_answer(
        self,
        operation: str = ALL_OPERATIONS,
        *,
        how: Literal["drop", "5xx"] = "drop",
        rate: float = 1.0,
        status: int = 500,
        count: int | None = None,
    ) -> None:
        """Carry the call out, then lose its answer: drop the connection, or answer ``status`` (5xx).

        E.g. ``lose_answer("StartRecovery", count=1)``: the job is created and launches, the client gets
        a connection error and must find the job by its tags before it starts anything again.
        """
        if how == "drop":
            self._merge(operation, drop_after_rate=rate, count=count)
        elif how == "5xx":
            self._merge(operation, error_after_rate=rate, error_status=status, count=count)
        else:
            raise ValueError(f"how must be 'drop' or '5xx', got {how!r}")

    def hold(
        self, operation: str = ALL_OPERATIONS, *, seconds: float, rate: float = 1.0, count: int | None = None
    ) -> None:
        """Hold matching calls until the virtual clock is ``seconds`` past their arrival, then carry them out.

        On a manual clock the call waits for ``clock.advance``; on a running clock for the real time
        that takes. A client whose read timeout is shorter gives up first and never sees the answer.
        """
        self._merge(operation, hold_rate=rate, hold_seconds=seconds, count=count)

    def _merge(self, operation: str, **changes: object) -> None:
        with self._lock:
            base = self._transport.get(operation, TransportRule())
            self._transport[operation] = replace(base, **changes)  # type: ignore[arg-type]

    def transport_rules(self) -> dict[str, TransportRule]:
        with self._lock:
            return dict(self._transport)

    def transport_fault(self, operation: str) -> TransportFault | None:
        """The fault for this call of ``operation``, drawn from that operation's own stream."""
        with self._lock:
            key = operation if operation in self._transport else ALL_OPERATIONS
            rule = self._transport.get(key)
            if rule is None:
                return None
            rng = self._streams.get(operation)
            if rng is None:
                rng = stream(self._seed, f"transport:{operation}")
                self._streams[operation] = rng
            fault = rule.fault_for(rng.random())
            if fault is not None and rule.count is not None:
                remaining = rule.count - 1
                self._transport[key] = rule.spent() if remaining <= 0 else replace(rule, count=remaining)
            if fault is None and rule.latency_seconds > 0:
                fault = TransportFault(kind="latency", delay_seconds=rule.latency_seconds)
            if fault is not None:
                self._injected[fault.kind] = self._injected.get(fault.kind, 0) + 1
                logger.debug("Injecting %s into %s", fault.kind, operation)
            return fault

    def describe(self) -> dict[str, object]:
        """The faults in force as plain data (the control API's status)."""
        with self._lock:
            transport = {
                op: {k: v for k, v in vars(rule).items() if v not in (0.0, None) or k == "count"}
                for op, rule in self._transport.items()
            }
            world = {
                kind: {"servers": sorted(rule.servers), "fraction": rule.fraction}
                for kind, rule in self._world.items()
                if rule.active
            }
            return {"transport": transport, "world": world, "injected": dict(self._injected)}

    def injected(self) -> dict[str, int]:
        """How many transport faults of each kind were injected so far."""
        with self._lock:
            return dict(self._injected)

    # -- world -----------------------------------------------------------------------------------

    def _set_world(self, kind: str, rule: ServerFaultRule) -> None:
        if kind not in WORLD_FAULT_KINDS:
            raise ValueError(f"unknown world fault {kind!r}; expected one of {', '.join(WORLD_FAULT_KINDS)}")
        self._world[kind] = rule

    def set_world(self, kind: str, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        with self._lock:
            self._set_world(kind, ServerFaultRule(frozenset(servers), fraction))

    def fail_launch(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """Matching servers end FAILED with a LAUNCH_FAILED log event."""
        self.set_world("launch", servers=servers, fraction=fraction)

    def fail_conversion(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """Matching servers end FAILED with a CONVERSION_FAIL log event."""
        self.set_world("conversion", servers=servers, fraction=fraction)

    def fail_permissions(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """The log stops after SNAPSHOT_END and the server ends FAILED minutes later (no FAIL event)."""
        self.set_world("permissions", servers=servers, fraction=fraction)

    def hang_jobs(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """A job holding a matching server never finishes: it stays STARTED, its servers IN_PROGRESS."""
        self.set_world("stuck", servers=servers, fraction=fraction)

    def fail_post_launch(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """Post-launch action runs of matching servers end FAILED."""
        self.set_world("post_launch", servers=servers, fraction=fraction)

    def omit_instance_ids(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """LAUNCHED participating servers without ``recoveryInstanceID`` in the job (drs_api.md §12.5)."""
        self.set_world("missing_instance_id", servers=servers, fraction=fraction)

    def fail_terminate(self, *, servers: Iterable[str] = (), fraction: float = 0.0) -> None:
        """TERMINATE jobs leave matching servers' instances running: CLEANUP_FAIL with a raw error, the
        participant FAILED."""
        self.set_world("terminate", servers=servers, fraction=fraction)

    def clear(self) -> None:
        """Remove every transport and world fault."""
        with self._lock:
            self._transport.clear()
            self._world.clear()

    def hits(self, kind: str, job_id: str, server_id: str, hostname: str) -> bool:
        """Whether world fault ``kind`` strikes ``server_id`` in ``job_id``; order-independent."""
        with self._lock:
            rule = self._world.get(kind)
        if rule is None or not rule.active:
            return False
        if server_id in rule.servers or hostname in rule.servers:
            return True
        return rule.fraction > 0.0 and stable_fraction(self._seed, kind, job_id, server_id) < rule.fraction

    def job_hits(self, kind: str, job_id: str, servers: Iterable[tuple[str, str]]) -> bool:
        """Job-level decision: a named server (``(id, hostname)`` pairs) is in the job, or the job's draw."""
        with self._lock:
            rule = self._world.get(kind)
        if rule is None or not rule.active:
            return False
        if any(sid in rule.servers or host in rule.servers for sid, host in servers):
            return True
        return rule.fraction > 0.0 and stable_fraction(self._seed, kind, job_id) < rule.fraction
