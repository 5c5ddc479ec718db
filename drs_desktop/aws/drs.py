"""``DrsGateway``: every DRS (and STS) call the application makes, typed in, frozen domain values out.

Nothing above the ``aws`` layer sees boto3: arguments are plain Python, answers are the views of
``domain.drs.views`` (and ``SourceServer``/``Inventory``/``RecoverySnapshot``), and failures are the
``DrsError`` family of ``domain.drs.errors``.

Rules this module keeps (reference §2.3, §7, §9, §12):
- StartRecovery and TerminateRecoveryInstances go out once, on a client with botocore retries off: DRS
  has no idempotency token, and a resend after a lost answer could launch a second drill. A failure
  whose outcome is unknown is ``DrsOutcomeUnknown``; the caller reconciles (``jobs_since`` + tags).
- Read calls get botocore's standard retries (a few attempts, short backoff); what still fails is
  ``DrsThrottled`` (with Retry-After) or ``DrsUnavailable`` so the engine's own backoff takes over.
- ``isDrill`` is always sent explicitly (left out, DRS runs a real recovery).
- Filters respect the model's list limits (1,000 job IDs, 200 server/instance IDs per call); an empty
  ID list never becomes an empty filter, which DRS reads as "everything".
- Every listing follows every page.

Threading: a gateway belongs to one thread (DESIGN §3.5): its boto3 session and clients are plain
attributes, built on its first call, and boto3 sessions are not thread-safe. A thread that needs DRS builds
its own gateway (the GUI's composition root hands each thread a gateway factory); gateways of one DRS share
a thread-safe ``DrsClock``. Logging names operations and counts at DEBUG, never a response body or a
credential.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, Unpack

from drs_desktop.aws import credential_expiry
from drs_desktop.aws import session as aws_session
from drs_desktop.aws.assume_role import EXPIRED_CODES, RoleCredentials
from drs_desktop.aws.drs_clock import DrsClock, parse_http_date
from drs_desktop.aws.drs_parse import (
    account_from_arn,
    format_timestamp,
    parse_caller_identity,
    parse_extensible_server,
    parse_job,
    parse_job_log_entry,
    parse_last_launch,
    parse_launch_action,
    parse_launch_configuration,
    parse_recovery_instance,
    parse_snapshot,
    parse_source_server,
)
from drs_desktop.aws.errors import map_error
from drs_desktop.aws.gateway_base import GatewayBase, GatewaySettings
from drs_desktop.aws.session import AwsTarget
from drs_desktop.aws.simulator_clock import simulator_world
from drs_desktop.domain.drs.errors import (
    DrsAuthError,
    DrsError,
    DrsOutcomeUnknown,
    DrsRejected,
    DrsUnavailable,
)
from drs_desktop.domain.drs.extended import ExtensibleServer
from drs_desktop.domain.drs.views import (
    CallerIdentity,
    DrsJobView,
    JobLogEntry,
    LastLaunchView,
    LaunchActionView,
    LaunchConfigView,
    RecoveryInstanceView,
)
from drs_desktop.domain.engine.recovery_point import RecoverySnapshot
from drs_desktop.domain.inventory import Inventory, SourceServer

logger = logging.getLogger(__name__)

#: A job ID of DRS's shape that no job has: a filter that matches nothing.
_NO_SUCH_JOB = "drsjob-00000000000000000"

#: Model limits per call (reference §7): not quotas, hard API limits.
MAX_JOB_IDS_PER_CALL = 1000
MAX_SERVER_IDS_PER_CALL = 200
MAX_INSTANCE_IDS_PER_CALL = 200
MAX_SERVERS_PER_START = 200
MAX_INSTANCES_PER_TERMINATE = 200

T = TypeVar("T")

#: Builds the gateway's client of a kind (``read``, ``write``, ``sts``) instead of boto3: the engine's tests
#: answer the gateway's own requests in process (``tests/inprocess_drs.py``); real AWS never uses one.
ClientFactory = Callable[[str], Any]


def batched(items: Sequence[str], size: int) -> Iterator[list[str]]:
    """``items`` in order, deduplicated, in lists of at most ``size``."""
    unique = list(dict.fromkeys(items))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class _Clients:
    """The gateway's boto3 session and clients, built on first use by the thread that owns the gateway."""

    def __init__(self) -> None:
        self.session: Any = None
        self.read: Any = None
        self.write: Any = None
        self.sts: Any = None
        self.last_answer_time: datetime | None = None  # DRS's Date on the last answer received


class DrsGateway(GatewayBase):
    """The DRS API of one ``AwsTarget``.

    ``read_max_attempts`` is botocore's attempt budget for read calls (1 turns its retries off, which
    tests use to see a throttle at once); ``page_size`` sets ``maxResults`` on listings (None: DRS's
    default); the other settings are ``GatewaySettings``. ``client_factory`` replaces boto3's clients
    (tests only).
    """

    def __init__(
        self,
        target: AwsTarget | Callable[[], AwsTarget],
        *,
        read_max_attempts: int = aws_session.READ_MAX_ATTEMPTS,
        drs_clock: DrsClock | None = None,
        client_factory: ClientFactory | None = None,
        **settings: Unpack[GatewaySettings],
    ) -> None:
        super().__init__(target, max_attempts=read_max_attempts, **settings)
        self._client_factory = client_factory
        self._clients = _Clients()
        self._identity: CallerIdentity | None = None
        self._world: str | None = None
        # Shared with the gateways derived from this one: DRS has one time whoever asks.
        self.drs_clock = drs_clock or DrsClock()

    def last_answer_time(self) -> datetime | None:
        """DRS's time (the ``Date`` header) of the last answer received through this gateway, errors
        included; None before any. The engine journals what it saw with this time."""
        return self._clients.last_answer_time

    def with_single_attempt_reads(self) -> DrsGateway:
        """The same target with botocore's read retries off. botocore resends a throttled read at once
        and ignores Retry-After; the orchestration engine paces its reads itself (Retry-After, backoff),
        so the runner talks to DRS through this."""
        if self._max_attempts == 1:
            return self
        return DrsGateway(
            self._resolved or self._target_source,
            read_max_attempts=1,
            drs_clock=self.drs_clock,
            client_factory=self._client_factory,
            **self.settings(),
        )

    def for_another_thread(self) -> DrsGateway:
        """The same target and settings with clients of its own, for a worker thread that reads beside
        this one (boto3 sessions are not thread-safe, DESIGN §3.5); DRS's clock is shared. The thread
        closes it when done."""
        return DrsGateway(
            self.target,
            read_max_attempts=self._max_attempts,
            drs_clock=self.drs_clock,
            client_factory=self._client_factory,
            **self.settings(),
        )

    # -- clients (built on first use) --------------------------------------------------------------

    def _session(self) -> Any:
        if self._clients.session is None:
            self._clients.session = self._new_session()
        return self._clients.session

    # -- credentials -----------------------------------------------------------------------------------

    def credentials_expire_at(self) -> datetime | None:
        """When the credentials this gateway signs with stop working: STS's expiry of a role's session,
        the sign-in's expiry of an IAM Identity Center profile, botocore's expiry of other temporary
        credentials; None for long-lived keys or when unknown. No network call: a role's expiry is known
        once its first call (or ``caller_identity``) has assumed it."""
        target = self.target
        if self._client_factory is not None:
            return None
        credentials = self._session().get_credentials() if target.role is None else self._role_credentials()
        return credential_expiry.credentials_expire_at(target, credentials)

    @property
    def refresh_needs_person(self) -> bool:
        """Whether renewing the credentials needs someone (an MFA code, an SSO sign-in, new typed keys):
        the engine asks before ``credentials_expire_at`` rather than fail a wave at it."""
        return credential_expiry.refresh_needs_person(self.target)

    def _role_credentials(self) -> RoleCredentials | None:
        if self.target.role is None or self.target.credentials is not None:
            return None
        credentials = self._session().get_credentials()
        return credentials if isinstance(credentials, RoleCredentials) else None

    def _renewed_after_expiry(self, error: DrsError, sent_at: float) -> bool:
        """AWS called the role's credentials expired (a clock far off, a laptop that slept, a session
        revoked): have the next request assume the role again. True when there is a role to renew."""
        if not isinstance(error, DrsAuthError) or error.code not in EXPIRED_CODES:
            return False
        credentials = self._role_credentials()
        if credentials is None or credentials.needs_person:
            return False  # a code is asked when the operator renews, not on a run loop (engine.accounts)
        credentials.renew(since=sent_at)
        logger.info("%s: the role's session expired; assuming it again", error.operation)
        return True

    def _client(self, kind: str) -> Any:
        """The gateway's client: ``read`` (retries on), ``write`` (one attempt) or ``sts``."""
        client = getattr(self._clients, kind)
        if client is None:
            if self._client_factory is not None:
                client = self._client_factory(kind)
            else:
                service = "sts" if kind == "sts" else "drs"
                client = self._new_client(
                    self._session(), service, retries=kind != "write", local_only=service == "sts"
                )
            client.meta.events.register("after-call", self._on_answer)
            setattr(self._clients, kind, client)
        return client

    def _on_answer(self, http_response: Any = None, **_: Any) -> None:
        """botocore's ``after-call`` (every answer, errors included): note DRS's time."""
        headers = getattr(http_response, "headers", None)
        at = parse_http_date(headers.get("Date") if headers is not None else None)
        if at is None:
            return
        self._clients.last_answer_time = at
        self.drs_clock.observe(at)

    def close(self) -> None:
        """Close the clients (their connection pools); the next call makes new ones. The owning thread
        calls this before it ends."""
        for kind in ("read", "write", "sts"):
            client = getattr(self._clients, kind)
            if client is not None:
                client.close()
                setattr(self._clients, kind, None)
        self._clients.session = None

    def _auth_hint(self) -> str:
        """How to fix expired credentials, for SSO profiles (read from the config only on an error)."""
        target = self.target
        if not target.profile or target.credentials is not None or target.is_local:
            return ""
        return (
            aws_session.sso_login_hint(target.profile) if aws_session.is_sso_profile(target.profile) else ""
        )

    # -- call plumbing -------------------------------------------------------------------------------

    def _call(self, operation: str, kind: str, call: Callable[[Any], T]) -> T:
        """Run ``call(client)``; every failure (client creation included) becomes a ``DrsError``.

        When AWS says a role's session expired, the role is assumed again and a read is sent once more; a
        write is not (it goes out once; its auth error is definite, so the caller may send it again)."""
        mutating = kind == "write"
        sent_at = time.monotonic()
        try:
            return call(self._client(kind))
        except Exception as exc:
            error = self._failed(operation, mutating, exc)
            if not self._renewed_after_expiry(error, sent_at) or mutating:
                self._log_failure(operation, mutating, error)
                raise error from exc
        try:
            return call(self._client(kind))
        except Exception as exc:
            error = self._failed(operation, mutating, exc)
            self._log_failure(operation, mutating, error)
            raise error from exc

    def call(self, operation: str, kind: str, call: Callable[[Any], T]) -> T:
        """``call(client)`` through this gateway's plumbing (errors mapped, DRS's clock noted, an expired
        role renewed): for the sibling gateways of ``aws`` (``aws.native_plans``) that share its target,
        clients and clock. ``kind`` is ``read`` (botocore retries) or ``write`` (sent once)."""
        return self._call(operation, kind, call)

    def _failed(self, operation: str, mutating: bool, exc: Exception) -> DrsError:
        return map_error(exc, operation, mutating=mutating, auth_hint=self._auth_hint())

    @staticmethod
    def _log_failure(operation: str, mutating: bool, error: DrsError) -> None:
        log = logger.warning if (mutating or not error.transient) else logger.info
        log(
            "%s failed: %s (%s, definite=%s, retry_after=%s)",
            operation,
            error.code or type(error).__name__,
            type(error).__name__,
            error.definite,
            error.retry_after,
        )

    def _list(self, operation: str, method: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Every ``items`` of every page of a read operation."""

        def run(client: Any) -> list[Mapping[str, Any]]:
            pages = client.get_paginator(method).paginate(
                **params, PaginationConfig={"PageSize": self._page_size} if self._page_size else {}
            )
            items: list[Mapping[str, Any]] = []
            count = 0
            for page in pages:
                count += 1
                items.extend(item for item in page.get("items", []) or [] if isinstance(item, Mapping))
            logger.debug("%s: %d item(s) in %d page(s)", operation, len(items), count)
            return items

        return self._call(operation, "read", run)

    # -- identity and inventory ----------------------------------------------------------------------

    def caller_identity(self) -> CallerIdentity:
        """STS GetCallerIdentity (cached: the identity of a target does not change under it)."""
        if self._identity is None:
            response = self._call("GetCallerIdentity", "sts", lambda sts: sts.get_caller_identity())
            self._identity = parse_caller_identity(response)
            logger.debug("GetCallerIdentity: account %s", self._identity.account)
        return self._identity

    def simulator_world(self) -> str | None:
        """The world ID of the DRS Desktop simulator this gateway talks to (None: AWS, or another
        endpoint). Kept once known (a simulator's world does not change while it runs); a lookup that
        got no answer is asked again next time, so a simulator that was slow to answer once never makes a
        demo run be recorded without its world (and later listed as gone while it lives)."""
        if not self._world:
            self._world = simulator_world(self.target.endpoint_url) or ""
        return self._world or None

    def describe_source_servers(self, ids: Sequence[str] | None = None) -> list[SourceServer]:
        """Source servers (all of them, or those of ``ids``; unknown IDs are simply absent)."""
        if ids is None:
            items = self._list("DescribeSourceServers", "describe_source_servers", {})
        else:
            items = []
            for batch in batched(ids, MAX_SERVER_IDS_PER_CALL):
                params = {"filters": {"sourceServerIDs": batch}}
                items.extend(self._list("DescribeSourceServers", "describe_source_servers", params))
        return _unique(_parse_all(items, parse_source_server), lambda s: s.source_server_id)

    def last_launches(self, ids: Sequence[str]) -> list[LastLaunchView]:
        """Each server's ``lifeCycle.lastLaunch.initiated`` (job ID and time): DRS's own record of the
        last job that took it, whoever started that job."""
        items: list[Mapping[str, Any]] = []
        for batch in batched(ids, MAX_SERVER_IDS_PER_CALL):
            params = {"filters": {"sourceServerIDs": batch}}
            items.extend(self._list("DescribeSourceServers", "describe_source_servers", params))
        return _unique(_parse_all(items, parse_last_launch), lambda s: s.source_server_id)

    def inventory(self) -> Inventory:
        """Every source server, sorted by hostname, stamped with account, region and fetch time.

        The account comes from STS; if STS cannot answer (and the servers can), from their ARNs.
        """
        servers = self.describe_source_servers()
        fetched_at = self.drs_clock.now()  # DRS's time (its answer's Date): the demo's is virtual
        try:
            account = self.caller_identity().account
        except DrsError:
            account = next((a for a in (account_from_arn(s.arn) for s in servers) if a), "")
            if not account:
                raise
            logger.info("STS unavailable; account %s taken from the source server ARNs", account)
        ordered = sorted(servers, key=lambda s: (s.hostname.lower(), s.source_server_id))
        return Inventory(
            servers=tuple(ordered), fetched_at=fetched_at, account_id=account, region=self.target.region
        )

    # -- extended source servers (staging accounts) --------------------------------------------------

    def list_staging_accounts(self) -> list[str]:
        """ListStagingAccounts: the staging accounts of the servers already extended into this account and
        Region (DRS lists no account before its first extended server), sorted."""

        def run(client: Any) -> list[str]:  # its pages hold ``accounts``, not ``items``
            pages = client.get_paginator("list_staging_accounts").paginate(
                PaginationConfig={"PageSize": self._page_size} if self._page_size else {}
            )
            return [
                str(a.get("accountID") or "")
                for page in pages
                for a in page.get("accounts", []) or []
                if isinstance(a, Mapping)
            ]

        return sorted({a for a in self._call("ListStagingAccounts", "read", run) if a})

    def list_extensible_source_servers(self, staging_account_id: str) -> list[ExtensibleServer]:
        """ListExtensibleSourceServers: the servers of ``staging_account_id`` (in this Region) that can
        be extended into this account; DRS leaves out those already extended here."""
        params = {"stagingAccountID": staging_account_id}
        items = self._list("ListExtensibleSourceServers", "list_extensible_source_servers", params)
        servers = _parse_all(items, lambda item: parse_extensible_server(item, staging_account_id))
        return _unique(servers, lambda s: s.arn)

    def extended_source_servers(self, staging_account_ids: Sequence[str]) -> list[SourceServer]:
        """This account's source servers extended from any of ``staging_account_ids`` (200 per call)."""
        items: list[Mapping[str, Any]] = []
        for batch in batched(staging_account_ids, MAX_SERVER_IDS_PER_CALL):
            params = {"filters": {"stagingAccountIDs": batch}}
            items.extend(self._list("DescribeSourceServers", "describe_source_servers", params))
        return _unique(_parse_all(items, parse_source_server), lambda s: s.source_server_id)

    def create_extended_source_server(
        self, source_server_arn: str, tags: Mapping[str, str] | None = None
    ) -> SourceServer:
        """CreateExtendedSourceServer, sent once (no idempotency token; a resend of a lost answer would be
        refused as "already extended", so the caller looks for the server instead). Returns the new
        source server of this account. ``DrsOutcomeUnknown`` when it may or may not exist."""
        params: dict[str, Any] = {"sourceServerArn": source_server_arn}
        if tags:
            params["tags"] = {str(k): str(v) for k, v in tags.items()}
        operation = "CreateExtendedSourceServer"
        response = self._call(operation, "write", lambda drs: drs.create_extended_source_server(**params))
        try:
            server = parse_source_server(response["sourceServer"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DrsOutcomeUnknown(
                "DRS accepted the call but its answer names no source server; refresh to find it",
                code="MalformedResponse",
                operation=operation,
            ) from exc
        logger.info(
            "CreateExtendedSourceServer: %s extended as %s", source_server_arn, server.source_server_id
        )
        return server

    # -- launching -----------------------------------------------------------------------------------

    def start_recovery(
        self,
        server_ids: Sequence[str],
        *,
        is_drill: bool,
        tags: Mapping[str, str],
        snapshot_ids: Mapping[str, str] | None = None,
    ) -> DrsJobView:
        """StartRecovery, sent exactly once. Returns the new job (PENDING).

        ``snapshot_ids`` maps a server to the recovery snapshot to launch from (point in time); servers
        without one launch from the latest data. Raises ``DrsRejected`` (before sending) for a request
        that cannot be right; ``DrsConflict``, ``DrsQuotaExceeded``, ``DrsThrottled`` etc. when DRS
        refused (definite); ``DrsOutcomeUnknown`` when the job may or may not exist.
        """
        ids = list(server_ids)
        snapshots = dict(snapshot_ids or {})
        problem = _start_problem(ids, is_drill, snapshots)
        if problem:
            raise DrsRejected(problem, code="ClientValidation", operation="StartRecovery")
        source_servers = [
            {"sourceServerID": sid, **({"recoverySnapshotID": snapshots[sid]} if sid in snapshots else {})}
            for sid in ids
        ]
        params: dict[str, Any] = {"sourceServers": source_servers, "isDrill": is_drill}
        if tags:
            params["tags"] = {str(k): str(v) for k, v in tags.items()}
        response = self._call("StartRecovery", "write", lambda drs: drs.start_recovery(**params))
        job = self._answered_job("StartRecovery", response)
        logger.info(
            "StartRecovery: job %s for %d server(s), %s, %d from a chosen snapshot",
            job.job_id,
            len(ids),
            "drill" if is_drill else "RECOVERY",
            len(snapshots),
        )
        return job

    def terminate_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> DrsJobView:
        """TerminateRecoveryInstances for at most 200 IDs, sent exactly once; returns the TERMINATE job.

        DRS takes no tags here.
        """
        ids = list(dict.fromkeys(recovery_instance_ids))
        if not ids or len(ids) > MAX_INSTANCES_PER_TERMINATE:
            raise DrsRejected(
                f"TerminateRecoveryInstances takes 1 to {MAX_INSTANCES_PER_TERMINATE} IDs, not {len(ids)}",
                code="ClientValidation",
                operation="TerminateRecoveryInstances",
            )
        response = self._call(
            "TerminateRecoveryInstances",
            "write",
            lambda drs: drs.terminate_recovery_instances(recoveryInstanceIDs=ids),
        )
        job = self._answered_job("TerminateRecoveryInstances", response)
        logger.info("TerminateRecoveryInstances: job %s for %d instance(s)", job.job_id, len(ids))
        return job

    def _answered_job(self, operation: str, response: Mapping[str, Any]) -> DrsJobView:
        """The job of a mutating call's answer. DRS accepted the call, so an unreadable answer is not a
        failure to launch: it is an unknown outcome (the job exists, its ID was not read)."""
        try:
            return parse_job(response["job"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DrsOutcomeUnknown(
                "DRS accepted the call but its answer names no job; reconcile before retrying",
                code="MalformedResponse",
                operation=operation,
            ) from exc

    # -- jobs ----------------------------------------------------------------------------------------

    def describe_jobs(self, job_ids: Sequence[str]) -> list[DrsJobView]:
        """The jobs of ``job_ids`` (1,000 per call, every page); unknown IDs are simply absent."""
        jobs: list[DrsJobView] = []
        for batch in batched(job_ids, MAX_JOB_IDS_PER_CALL):
            items = self._list("DescribeJobs", "describe_jobs", {"filters": {"jobIDs": batch}})
            jobs.extend(_parse_all(items, parse_job))
        return _unique(jobs, lambda j: j.job_id)

    def sync_clock(self) -> datetime | None:
        """One cheap read (DescribeJobs for a job ID that cannot exist) so that ``drs_clock`` knows DRS's
        time before anything is journaled with it; returns that time (None without a ``Date``)."""
        self._list("DescribeJobs", "describe_jobs", {"filters": {"jobIDs": [_NO_SUCH_JOB]}})
        return self.last_answer_time()

    def jobs_since(self, from_dt: datetime, to_dt: datetime | None = None) -> list[DrsJobView]:
        """Jobs created at or after ``from_dt`` (and at or before ``to_dt``), newest first as DRS lists
        them. For reconciling after a crash: match tags, never the whole tag map."""
        filters = {"fromDate": format_timestamp(from_dt)}
        if to_dt is not None:
            filters["toDate"] = format_timestamp(to_dt, round_up=True)
        items = self._list("DescribeJobs", "describe_jobs", {"filters": filters})
        return _unique(_parse_all(items, parse_job), lambda j: j.job_id)

    def job_log(self, job_id: str) -> list[JobLogEntry]:
        """Every log item of a job, in DRS's (chronological) order; [] for an unknown job."""
        items = self._list("DescribeJobLogItems", "describe_job_log_items", {"jobID": job_id})
        return _parse_all(items, parse_job_log_entry)

    # -- recovery instances and snapshots ------------------------------------------------------------

    def describe_recovery_instances(
        self,
        source_server_ids: Sequence[str] | None = None,
        instance_ids: Sequence[str] | None = None,
    ) -> list[RecoveryInstanceView]:
        """Recovery instances: all, or those of these source servers and/or instance IDs (both: AND)."""
        if (source_server_ids is not None and not source_server_ids) or (
            instance_ids is not None and not instance_ids
        ):
            return []
        server_batches: list[list[str] | None] = (
            list(batched(source_server_ids, MAX_SERVER_IDS_PER_CALL)) if source_server_ids else [None]
        )
        instance_batches: list[list[str] | None] = (
            list(batched(instance_ids, MAX_INSTANCE_IDS_PER_CALL)) if instance_ids else [None]
        )
        items: list[Mapping[str, Any]] = []
        for servers in server_batches:
            for instances in instance_batches:
                filters: dict[str, list[str]] = {}
                if servers is not None:
                    filters["sourceServerIDs"] = servers
                if instances is not None:
                    filters["recoveryInstanceIDs"] = instances
                items.extend(
                    self._list(
                        "DescribeRecoveryInstances", "describe_recovery_instances", {"filters": filters}
                    )
                )
        return _unique(_parse_all(items, parse_recovery_instance), lambda r: r.recovery_instance_id)

    def recovery_snapshots(
        self, source_server_id: str, *, before: datetime | None = None, after: datetime | None = None
    ) -> list[RecoverySnapshot]:
        """A server's point-in-time snapshots, newest first; optionally only those expected at or before
        ``before`` / at or after ``after``. A snapshot still being taken has ``timestamp`` None."""
        filters: dict[str, str] = {}
        if after is not None:
            filters["fromDateTime"] = format_timestamp(after)
        if before is not None:
            filters["toDateTime"] = format_timestamp(before, round_up=True)
        params: dict[str, Any] = {"sourceServerID": source_server_id, "order": "DESC"}
        if filters:
            params["filters"] = filters
        items = self._list("DescribeRecoverySnapshots", "describe_recovery_snapshots", params)
        return _parse_all(items, parse_snapshot)

    # -- launch settings -----------------------------------------------------------------------------

    def launch_configuration(self, source_server_id: str) -> LaunchConfigView:
        """GetLaunchConfiguration; ``DrsNotFound`` for an unknown server."""
        response = self._call(
            "GetLaunchConfiguration",
            "read",
            lambda drs: drs.get_launch_configuration(sourceServerID=source_server_id),
        )
        try:
            return parse_launch_configuration(response)
        except (KeyError, TypeError, ValueError) as exc:
            raise DrsUnavailable(
                "DRS answered GetLaunchConfiguration without a source server",
                code="MalformedResponse",
                operation="GetLaunchConfiguration",
            ) from exc

    def update_launch_configuration(
        self,
        source_server_id: str,
        *,
        copy_private_ip: bool | None = None,
        os_byol: bool | None = None,
        launch_disposition: str | None = None,
        right_sizing: str | None = None,
        copy_tags: bool | None = None,
    ) -> LaunchConfigView:
        """UpdateLaunchConfiguration with the fields given (None: not sent, DRS keeps its value); returns
        the configuration DRS answers with. It sets values, so a resend after a lost answer does no harm:
        it goes out once (the write client) and the caller reads back. ``DrsRejected`` before sending
        when there is nothing to send; ``DrsConflict`` while the server has an active job."""
        params: dict[str, Any] = {"sourceServerID": source_server_id}
        if copy_private_ip is not None:
            params["copyPrivateIp"] = copy_private_ip
        if os_byol is not None:
            params["licensing"] = {"osByol": os_byol}
        if launch_disposition is not None:
            params["launchDisposition"] = str(launch_disposition)
        if right_sizing is not None:
            params["targetInstanceTypeRightSizingMethod"] = str(right_sizing)
        if copy_tags is not None:
            params["copyTags"] = copy_tags
        operation = "UpdateLaunchConfiguration"
        if len(params) == 1:
            raise DrsRejected(
                "no launch configuration field to update", code="ClientValidation", operation=operation
            )
        response = self._call(operation, "write", lambda drs: drs.update_launch_configuration(**params))
        try:
            config = parse_launch_configuration(response)
        except (KeyError, TypeError, ValueError) as exc:
            raise DrsOutcomeUnknown(
                "DRS accepted UpdateLaunchConfiguration but its answer names no source server; read it back",
                code="MalformedResponse",
                operation=operation,
            ) from exc
        logger.info("UpdateLaunchConfiguration: %s (%d field(s))", source_server_id, len(params) - 1)
        return config

    def launch_actions(self, resource_id: str) -> list[LaunchActionView]:
        """The post-launch actions of a source server (``s-...``) or launch template (``lct-...``)."""
        items = self._list("ListLaunchActions", "list_launch_actions", {"resourceId": resource_id})
        return sorted(_parse_all(items, parse_launch_action), key=lambda a: (a.order, a.action_id))


def _start_problem(ids: list[str], is_drill: object, snapshots: Mapping[str, str]) -> str:
    """Why a StartRecovery request must not be sent, or "" (the engine chunks; this is a safety net)."""
    if not isinstance(is_drill, bool):
        return "is_drill must be True or False: left out, DRS would run a real recovery"
    if not ids:
        return "StartRecovery needs at least one source server"
    if len(ids) > MAX_SERVERS_PER_START:
        return f"StartRecovery takes at most {MAX_SERVERS_PER_START} servers, not {len(ids)}"
    if len(set(ids)) != len(ids):
        return "a source server is listed twice"
    strays = sorted(set(snapshots) - set(ids))
    if strays:
        return f"snapshot IDs given for servers not in the job: {', '.join(strays)}"
    return ""


def _parse_all(items: Iterable[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], T]) -> list[T]:
    """Each item parsed; one without its ID is logged and skipped rather than failing the listing."""
    out: list[T] = []
    for item in items:
        try:
            out.append(parse(item))
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("Skipping an unreadable %s item: %s", parse.__name__.removeprefix("parse_"), exc)
    return out


def _unique(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """First occurrence of each key, order kept (a listing can shift while it is paged)."""
    seen: set[str] = set()
    out: list[T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
