"""A tiny test double of the simulator's world, for protocol tests that must not depend on the real one.

It implements the ``Backend`` contract for a handful of operations on plain dicts, and lets a test
script the next error, a crash, a transport fault or a malformed result per operation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.contract import SimulatorError, TransportFault, paginate

ACCOUNT = "123456789012"
REGION = "us-east-1"


def server_id(n: int) -> str:
    return f"s-{n:017x}"


def job_id(n: int) -> str:
    return f"drsjob-{n:017x}"


def arn(kind: str, ident: str) -> str:
    return f"arn:aws:drs:{REGION}:{ACCOUNT}:{kind}/{ident}"


def scope(operation: str, params: dict[str, Any]) -> str:
    """Pagination scope: the operation plus a digest of its filters, as the contract's paginate expects."""
    filters = json.dumps(params.get("filters") or {}, sort_keys=True, default=str)
    return f"{operation}:{hashlib.sha256(filters.encode()).hexdigest()[:16]}"


@dataclass
class FakeWorld:
    servers: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, SimulatorError] = field(default_factory=dict)
    crash: set[str] = field(default_factory=set)
    faults: dict[str, TransportFault] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Manual, at the clock's fixed default start: the ``Date`` header and held requests use it.
    clock: VirtualClock = field(default_factory=VirtualClock)

    @classmethod
    def with_servers(cls, count: int) -> FakeWorld:
        world = cls()
        for n in range(1, count + 1):
            sid = server_id(n)
            world.servers.append(
                {
                    "sourceServerID": sid,
                    "arn": arn("source-server", sid),
                    "tags": {"Name": f"web-{n:02d}"},
                    "lastLaunchResult": "NOT_STARTED",
                    "replicationDirection": "FAILOVER",
                    "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS", "lagDuration": "PT1S"},
                    "sourceProperties": {"identificationHints": {"hostname": f"web-{n:02d}"}},
                }
            )
        return world

    # --- Backend contract -----------------------------------------------------------------------------

    def transport_fault(self, operation: str) -> TransportFault | None:
        return self.faults.get(operation)

    def caller_identity(self) -> dict[str, str]:
        return {
            "Account": ACCOUNT,
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/demo",
            "UserId": "AIDASIMULATORDEMO0001",
        }

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, params))
        if operation in self.crash:
            raise RuntimeError(f"boom in {operation}: secret-internal-detail")
        if operation in self.errors:
            raise self.errors[operation]
        if operation in self.results:
            return self.results[operation]
        method = getattr(self, f"_{operation}", None)
        if method is None:
            raise SimulatorError("AccessDeniedException", f"{operation} is not simulated by FakeWorld")
        return method(params)

    # --- operations -----------------------------------------------------------------------------------

    def _DescribeSourceServers(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set((params.get("filters") or {}).get("sourceServerIDs") or [])
        items = [s for s in self.servers if not wanted or s["sourceServerID"] in wanted]
        page, token = paginate(
            items,
            params.get("maxResults"),
            params.get("nextToken"),
            scope=scope("DescribeSourceServers", params),
        )
        return {"items": page, "nextToken": token}

    def _StartRecovery(self, params: dict[str, Any]) -> dict[str, Any]:
        jid = job_id(len(self.jobs) + 1)
        job = {
            "jobID": jid,
            "arn": arn("job", jid),
            "type": "LAUNCH",
            "initiatedBy": "START_DRILL" if params.get("isDrill") else "START_RECOVERY",
            "creationDateTime": dt.datetime(2024, 9, 16, 4, 42, 46, tzinfo=dt.UTC).isoformat(),
            "status": "PENDING",
            "tags": {**(params.get("tags") or {}), "resourceArn": arn("job", jid)},
            "participatingServers": [
                {"sourceServerID": s["sourceServerID"], "launchStatus": "PENDING"}
                for s in params["sourceServers"]
            ],
            "participatingResources": [],
        }
        self.jobs.append(job)
        return {"job": job}

    def _DescribeJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        page, token = paginate(
            list(reversed(self.jobs)),
            params.get("maxResults"),
            params.get("nextToken"),
            scope=scope("DescribeJobs", params),
        )
        return {"items": page, "nextToken": token}

    def _DeleteJob(self, params: dict[str, Any]) -> dict[str, Any]:
        before = len(self.jobs)
        self.jobs = [j for j in self.jobs if j["jobID"] != params["jobID"]]
        if len(self.jobs) == before:
            raise SimulatorError(
                "ResourceNotFoundException", "Job not found", resourceId=params["jobID"], resourceType="JOB"
            )
        return {}

    def _InitializeService(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _ListTagsForResource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": dict(self.tags.get(params["resourceArn"], {}))}

    def _TagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        self.tags.setdefault(params["resourceArn"], {}).update(params["tags"])
        return {}

    def _UntagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        current = self.tags.setdefault(params["resourceArn"], {})
        for key in params["tagKeys"]:
            current.pop(key, None)
        return {}
