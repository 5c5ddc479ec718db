"""``InProcessDrs``: the runner's ``DrsCalls`` answered by the simulator's own backend, in this thread.

The same world, quotas, jobs, faults and virtual clock as the simulator serves over HTTP, without the
HTTP: each call goes to ``DrsBackend.handle`` with the operation's model parameters, and its answer is
parsed by the very parsers ``aws.drs.DrsGateway`` uses (``aws.drs_parse``); a modeled error becomes the
botocore ``ClientError`` botocore would raise and is mapped by ``aws.errors.map_error``, as in the
gateway. Transport faults of the simulator's ``FaultPlan`` apply too (throttle, 5xx, dropped connection,
before or after the action), except ``hold`` and ``latency``, which need a server thread.

It lives in tests, not in the simulator: the simulator may import no app layer (its answers are plain
dicts), and the services may not import the simulator. ``test_inprocess_drs`` checks that it gives the
same domain views as ``DrsGateway`` over HTTP for the same world.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError

from drs_desktop.aws.drs import (
    _NO_SUCH_JOB,
    MAX_JOB_IDS_PER_CALL,
    MAX_SERVER_IDS_PER_CALL,
    batched,
)
from drs_desktop.aws.drs_parse import (
    format_timestamp,
    parse_job,
    parse_job_log_entry,
    parse_last_launch,
    parse_recovery_instance,
)
from drs_desktop.aws.errors import map_error
from drs_desktop.domain.drs.views import DrsJobView, JobLogEntry, LastLaunchView, RecoveryInstanceView
from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.contract import SimulatorError

T = TypeVar("T")

#: The HTTP status of each modeled error (the service model's ``error.httpStatusCode``).
_STATUS = {
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "AccessDeniedException": 403,
    "UninitializedAccountException": 400,
}


class Crash(BaseException):
    """The runner's process dies in the middle of a call (a test's fault, not an error it may catch)."""


class _Clock:
    """DRS's time is the simulator's virtual clock: always known."""

    def __init__(self, backend: DrsBackend) -> None:
        self._backend = backend

    @property
    def anchored(self) -> bool:
        return True

    def now(self) -> datetime:
        return self._backend.clock.now()


#: A test's hook around each call: ``(operation, params)``; it may raise a ``SimulatorError`` (DRS refuses),
#: a botocore connection error (the answer is lost), or ``Crash``.
Hook = Callable[[str, dict[str, Any]], None]


class InProcessDrs:
    """``services.drs_calls.DrsCalls`` over a ``DrsBackend``. ``before_call`` runs first on every call and
    ``after_call`` once DRS carried it out (a test's faults: a late start, a crash in the middle)."""

    def __init__(
        self, backend: DrsBackend, *, before_call: Hook | None = None, after_call: Hook | None = None
    ) -> None:
        self.backend = backend
        self.drs_clock = _Clock(backend)
        self.before_call = before_call
        self.after_call = after_call
        self._last_answer: datetime | None = None
        self.refused: list[tuple[str, str]] = []  # (operation, code) of every refusal the world made

    def with_single_attempt_reads(self) -> InProcessDrs:
        return self  # no in-call retries here at all

    def last_answer_time(self) -> datetime | None:
        return self._last_answer

    def sync_clock(self) -> datetime | None:
        self._list("DescribeJobs", {"filters": {"jobIDs": [_NO_SUCH_JOB]}})
        return self._last_answer

    # -- plumbing

    def _call(self, operation: str, params: dict[str, Any], *, mutating: bool = False) -> dict[str, Any]:
        try:
            if self.before_call is not None:
                self.before_call(operation, params)
            answer = self._send(operation, params)
            if self.after_call is not None:
                self.after_call(operation, params)
            return answer
        except SimulatorError as error:
            status = error.status or _STATUS.get(error.code, 400)
            response: dict[str, Any] = {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
                **error.members,
            }
            raise map_error(ClientError(response, operation), operation, mutating=mutating) from error
        except ConnectionClosedError as error:
            raise map_error(error, operation, mutating=mutating) from error

    def _send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One request as the HTTP server serves it: the transport fault first, then the backend."""
        fault = self.backend.transport_fault(operation)
        kind = fault.kind if fault is not None else None
        if kind in ("hold", "latency"):
            raise NotImplementedError(f"the in-process DRS cannot apply a {kind!r} fault")
        self._last_answer = self.backend.clock.now().replace(microsecond=0)  # a Date header's precision
        if fault is not None and kind == "throttle":
            raise SimulatorError(
                "ThrottlingException", "Rate exceeded", retryAfterSeconds=str(fault.retry_after)
            )
        if fault is not None and kind == "server_error":
            raise SimulatorError("InternalServerException", "Internal error", status=fault.status)
        if kind == "drop":
            raise ConnectionClosedError(endpoint_url="in-process")
        try:
            answer = self.backend.handle(operation, params)
        except SimulatorError as error:
            self.refused.append((operation, error.code))
            raise
        if kind == "drop_after":
            raise ConnectionClosedError(endpoint_url="in-process")
        if fault is not None and kind == "server_error_after":
            raise SimulatorError("InternalServerException", "Internal error", status=fault.status)
        return answer

    def _list(self, operation: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            page = self._call(operation, {**params, **({"nextToken": token} if token else {})})
            items.extend(page.get("items") or [])
            token = page.get("nextToken")
            if not token:
                return items

    @staticmethod
    def _parsed(items: Sequence[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], T]) -> list[T]:
        return [parse(item) for item in items]

    # -- DrsCalls

    def start_recovery(
        self,
        server_ids: Sequence[str],
        *,
        is_drill: bool,
        tags: Mapping[str, str],
        snapshot_ids: Mapping[str, str] | None = None,
    ) -> DrsJobView:
        snapshots = dict(snapshot_ids or {})
        servers = [
            {"sourceServerID": s, **({"recoverySnapshotID": snapshots[s]} if s in snapshots else {})}
            for s in server_ids
        ]
        params: dict[str, Any] = {"sourceServers": servers, "isDrill": is_drill}
        if tags:
            params["tags"] = {str(k): str(v) for k, v in tags.items()}
        return parse_job(self._call("StartRecovery", params, mutating=True)["job"])

    def terminate_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> DrsJobView:
        ids = list(dict.fromkeys(recovery_instance_ids))
        answer = self._call("TerminateRecoveryInstances", {"recoveryInstanceIDs": ids}, mutating=True)
        return parse_job(answer["job"])

    def describe_jobs(self, job_ids: Sequence[str]) -> list[DrsJobView]:
        jobs: list[DrsJobView] = []
        for batch in batched(job_ids, MAX_JOB_IDS_PER_CALL):
            jobs.extend(self._parsed(self._list("DescribeJobs", {"filters": {"jobIDs": batch}}), parse_job))
        return jobs

    def jobs_since(self, from_dt: datetime, to_dt: datetime | None = None) -> list[DrsJobView]:
        filters = {"fromDate": format_timestamp(from_dt.astimezone(UTC))}
        if to_dt is not None:
            filters["toDate"] = format_timestamp(to_dt, round_up=True)
        return self._parsed(self._list("DescribeJobs", {"filters": filters}), parse_job)

    def job_log(self, job_id: str) -> list[JobLogEntry]:
        return self._parsed(self._list("DescribeJobLogItems", {"jobID": job_id}), parse_job_log_entry)

    def last_launches(self, ids: Sequence[str]) -> list[LastLaunchView]:
        items: list[Mapping[str, Any]] = []
        for batch in batched(ids, MAX_SERVER_IDS_PER_CALL):
            items.extend(self._list("DescribeSourceServers", {"filters": {"sourceServerIDs": batch}}))
        return self._parsed(items, parse_last_launch)

    def describe_recovery_instances(
        self,
        source_server_ids: Sequence[str] | None = None,
        instance_ids: Sequence[str] | None = None,
    ) -> list[RecoveryInstanceView]:
        if (source_server_ids is not None and not source_server_ids) or (
            instance_ids is not None and not instance_ids
        ):
            return []
        filters: dict[str, list[str]] = {}
        if source_server_ids:
            filters["sourceServerIDs"] = list(dict.fromkeys(source_server_ids))
        if instance_ids:
            filters["recoveryInstanceIDs"] = list(dict.fromkeys(instance_ids))
        items = self._list("DescribeRecoveryInstances", {"filters": filters})
        return self._parsed(items, parse_recovery_instance)
