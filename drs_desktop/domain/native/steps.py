"""A native DRS recovery plan step, as DRS takes and gives it (``configuration`` of
CreateRecoveryPlanStep, an item of ListRecoveryPlanSteps).

A step is SERVER (1 to 100 source servers recovered in parallel, each CRITICAL or OPTIONAL) or WAIT (1 to
120 minutes). DRS names a server of a step by its source server ARN, which holds the account and Region;
a local plan names servers by ID. ``NativeServer.arn`` keeps the ARN where it is known (read from DRS, or
built from the plan's target) and takes no part in equality: within one plan, which is in one account and
Region, the ID is the server. ``wire`` builds a missing ARN from the account and Region it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "MAX_NAME",
    "MAX_SERVERS_PER_STEP",
    "MAX_STEPS",
    "MAX_WAIT_MINUTES",
    "MIN_WAIT_MINUTES",
    "NAME_PATTERN",
    "NativeServer",
    "NativeStep",
    "NativeStepKind",
    "partition_of",
    "source_server_arn",
    "with_arns",
]

#: DRS's limits (drs_native_recovery_plans.txt): steps per plan, servers per SERVER step, WAIT minutes.
MAX_STEPS = 20
MAX_SERVERS_PER_STEP = 100
MIN_WAIT_MINUTES = 1
MAX_WAIT_MINUTES = 120
#: RecoveryPlanName and RecoveryPlanStepName: 1 to 256 characters of this pattern (anchored).
MAX_NAME = 256
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9 _-]*\Z")
MAX_DESCRIPTION = 1024

_IMPACTS = ("CRITICAL", "OPTIONAL")
_SERVER_ID = re.compile(r"s-[0-9a-zA-Z]{17}\Z")
_SERVER_ARN = re.compile(r"arn:(?:[0-9a-zA-Z_-]+:){3}([0-9]{12,}):source-server/(s-[0-9a-zA-Z]{17})\Z")


class NativeStepKind(StrEnum):
    SERVER = "SERVER"
    WAIT = "WAIT"


@dataclass(frozen=True)
class NativeServer:
    """One server of a SERVER step. ``arn`` "" until known; not compared (see the module's docstring)."""

    source_server_id: str
    impact: str  # "CRITICAL" | "OPTIONAL"
    arn: str = field(default="", compare=False)


@dataclass(frozen=True)
class NativeStep:
    """One step of a native plan, in the shape both directions share."""

    name: str
    kind: NativeStepKind
    servers: tuple[NativeServer, ...] = ()  # SERVER: 1..100
    wait_minutes: int | None = None  # WAIT: 1..120

    def same_content(self, other: NativeStep) -> bool:
        """Whether ``other`` does what this step does, whatever its name and its servers' order (DRS
        need not give servers back in the order they were sent, and the order means nothing)."""
        return (
            self.kind == other.kind
            and self.wait_minutes == other.wait_minutes
            and frozenset(self.servers) == frozenset(other.servers)
        )

    def wire(self, *, account: str = "", region: str = "") -> dict[str, Any]:
        """The ``configuration`` CreateRecoveryPlanStep and UpdateRecoveryPlanStep take. A server without
        an ARN gets one built from ``account`` and ``region``; ValueError when neither is there, or when
        the step breaks DRS's limits (DRS would refuse it anyway, after the call)."""
        if self.kind is NativeStepKind.WAIT:
            minutes = self.wait_minutes
            if minutes is None or not MIN_WAIT_MINUTES <= minutes <= MAX_WAIT_MINUTES:
                raise ValueError(f"wait step {self.name!r}: {minutes} minutes is outside 1 to 120")
            return {"waitStepConfiguration": {"waitDurationMinutes": minutes}}
        if not 1 <= len(self.servers) <= MAX_SERVERS_PER_STEP:
            raise ValueError(f"server step {self.name!r}: {len(self.servers)} servers is outside 1 to 100")
        servers = []
        for server in self.servers:
            arn = server.arn
            if not arn:
                if not (account and region):
                    raise ValueError(
                        f"server step {self.name!r}: server {server.source_server_id} has no ARN; "
                        "give the account and Region of the plan"
                    )
                arn = source_server_arn(account, region, server.source_server_id)
            servers.append({"serverArn": arn, "impactLevel": server.impact})
        return {"serverStepConfiguration": {"servers": servers}}

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> NativeStep:
        """The step of a ListRecoveryPlanSteps or GetRecoveryPlanStep item; ValueError naming the field
        when the item is not what DRS documents (never a half-read step)."""
        if not isinstance(item, Mapping):
            raise ValueError(f"a recovery plan step is a mapping, not {type(item).__name__}")
        name = item.get("stepName")
        if not isinstance(name, str) or not name:
            raise ValueError("stepName: missing or not a string")
        config = item.get("configuration")
        if not isinstance(config, Mapping):
            raise ValueError(f"configuration of step {name!r}: missing or not a mapping")
        server_cfg = config.get("serverStepConfiguration")
        wait_cfg = config.get("waitStepConfiguration")
        if (server_cfg is None) == (wait_cfg is None):
            raise ValueError(
                f"configuration of step {name!r}: exactly one of serverStepConfiguration and "
                "waitStepConfiguration is expected"
            )
        if wait_cfg is not None:
            minutes = wait_cfg.get("waitDurationMinutes") if isinstance(wait_cfg, Mapping) else None
            if not isinstance(minutes, int) or isinstance(minutes, bool):
                raise ValueError(
                    f"configuration.waitStepConfiguration.waitDurationMinutes of step {name!r}: "
                    "missing or not a whole number"
                )
            return cls(name, NativeStepKind.WAIT, wait_minutes=minutes)
        servers = server_cfg.get("servers") if isinstance(server_cfg, Mapping) else None
        if not isinstance(servers, Sequence) or isinstance(servers, str | bytes):
            raise ValueError(
                f"configuration.serverStepConfiguration.servers of step {name!r}: missing or not a list"
            )
        return cls(
            name, NativeStepKind.SERVER, tuple(_server_from_wire(name, i, s) for i, s in enumerate(servers))
        )


def _server_from_wire(step: str, index: int, item: object) -> NativeServer:
    where = f"configuration.serverStepConfiguration.servers[{index}] of step {step!r}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: not a mapping")
    arn = item.get("serverArn")
    match = _SERVER_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValueError(f"{where}.serverArn: missing or not a source server ARN")
    impact = item.get("impactLevel", "CRITICAL")  # DRS's default when the level is left out
    if impact not in _IMPACTS:
        raise ValueError(f"{where}.impactLevel: {impact!r} is neither CRITICAL nor OPTIONAL")
    return NativeServer(match.group(2), str(impact), arn=str(arn))


def partition_of(region: str) -> str:
    """The AWS partition a Region is in (ARNs differ: ``arn:aws-cn:...``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def source_server_arn(account: str, region: str, server_id: str) -> str:
    """The ARN DRS gives source server ``server_id`` of ``account`` in ``region``."""
    if not _SERVER_ID.match(server_id):
        raise ValueError(f"{server_id!r} is not a source server ID")
    return f"arn:{partition_of(region)}:drs:{region}:{account}:source-server/{server_id}"


def with_arns(steps: Sequence[NativeStep], account: str, region: str) -> tuple[NativeStep, ...]:
    """``steps`` with every server's ARN set (those that have one keep it)."""
    return tuple(
        replace(
            step,
            servers=tuple(
                s if s.arn else replace(s, arn=source_server_arn(account, region, s.source_server_id))
                for s in step.servers
            ),
        )
        for step in steps
    )
