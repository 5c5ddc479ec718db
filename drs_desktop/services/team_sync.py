"""Team sync for the GUI: the Settings page's save and table check, and the background sync thread's
resources (``TeamSync``). Qt-free; the sync itself is ``services.sync.SyncService``, as for
``drs-desktop sync now``.

Why a class of its own around ``SyncService``: the GUI's sync thread lives as long as the window, while
the table it syncs with may be set, changed (before anything was synced) or switched off meanwhile.
``TeamSync`` reads the configuration from the database before each round and builds the DynamoDB client
and the ``SyncService`` again only when the table, Region, endpoint or profile changed, so the puller's
gap timers survive from one round to the next (docs/sync.md, "Pulling without missing a change"). It
belongs to one thread: its client (boto3 sessions are not shared) and its own SQLite reader for the
status (``LazyReader``); writes go through the shared connection, as every writer's (DESIGN §4).

A failed round is not an exception here but an answer (``SyncRound.error``): the status bar must say
"offline since …" and the thread must go on to the next round. ``failing_since`` is the first failure
since the last success, as this session saw it (the database keeps only the latest error).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drs_desktop import __version__
from drs_desktop.aws.sync_retry import DEFAULT_BACKOFF, Backoff
from drs_desktop.aws.sync_schema import SyncTableTarget, configured_region, dynamodb_client
from drs_desktop.aws.sync_table import check_table
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.sync_errors import SyncError, SyncTargetError
from drs_desktop.domain.views.sync_conflicts import ConflictView
from drs_desktop.domain.views.sync_status import SyncProgress, SyncSettings, SyncSetup, SyncStatus
from drs_desktop.services.sync import GAP_GRACE, SyncService
from drs_desktop.services.team_sync_conflicts import conflict_view
from drs_desktop.storage import sync_outbox as outbox
from drs_desktop.storage.db import Database, LazyReader, Readable, utc_now
from drs_desktop.storage.settings import get_bool, set_setting
from drs_desktop.storage.sync_conflicts import open_conflicts

logger = logging.getLogger(__name__)

__all__ = [
    "ENABLED_KEY",
    "ResolveAnswer",
    "SyncRound",
    "TeamSync",
    "load_sync_settings",
    "save_sync_settings",
]

#: The local setting of the background sync's switch (domain.settings).
ENABLED_KEY = "sync.enabled"

ClientFactory = Callable[[SyncTableTarget], Any]

#: Seconds a call of the background sync may wait to connect or for an answer: a round on a dead link
#: ends (and says "offline") rather than hanging, and the application's shutdown waits no longer.
CLIENT_TIMEOUT = 15.0


def background_client(target: SyncTableTarget) -> Any:
    return dynamodb_client(target, timeout=CLIENT_TIMEOUT)


def load_sync_settings(db: Readable) -> SyncSettings:
    state = outbox.get_state(db)
    return SyncSettings(
        table=state.table_name,
        region=state.region,
        profile=state.profile,
        endpoint=state.endpoint,
        enabled=get_bool(db, ENABLED_KEY),
        desktop_id=state.desktop_id,
    )


def table_target(settings: SyncSettings) -> SyncTableTarget:
    """The table ``settings`` name; SyncTargetError (one line) for a name, Region or endpoint that cannot
    be used. A missing Region is the profile's (or AWS_REGION's), as for ``sync now``."""
    profile = settings.profile.strip() or None
    region = settings.region.strip() or configured_region(profile)
    if not region:
        raise SyncTargetError("no AWS Region for the table: give one (or give the profile a region)")
    endpoint = settings.endpoint.strip() or None
    return SyncTableTarget(
        table=settings.table.strip(), region=region, profile=profile, endpoint_url=endpoint
    )


def save_sync_settings(
    db: Database,
    wanted: SyncSettings,
    *,
    app_version: str = __version__,
    client_factory: ClientFactory = dynamodb_client,
) -> SyncSetup:
    """Store where this desktop syncs and the switch, then check the table (``check_table``) and say
    what it found. Nothing is stored for a target that cannot be used (a bad name, Region, endpoint, or
    another table once this desktop has synced with one). The settings are stored even when the check
    fails: the table may be out of reach for now, and the status bar then says so at each round."""
    current = load_sync_settings(db)
    if not wanted.table.strip():
        if wanted.enabled:
            return SyncSetup(current, False, False, "Not saved: give the team's table name to sync with.")
        set_setting(db, ENABLED_KEY, False)
        return SyncSetup(load_sync_settings(db), True, False, "Saved: team sync is off.")
    try:
        target = table_target(wanted)
        outbox.configure(
            db,
            target.table,
            region=target.region,
            endpoint=target.endpoint_url or "",
            profile=target.profile or "",
        )
    except DrsDesktopError as exc:
        return SyncSetup(current, False, False, f"Not saved: {exc}")
    set_setting(db, ENABLED_KEY, wanted.enabled)
    saved = load_sync_settings(db)
    switch = "background sync on" if saved.enabled else "background sync off"
    try:
        info = check_table(target, client=client_factory(target), app_version=app_version)
    except SyncError as exc:
        return SyncSetup(saved, True, False, f"Saved ({switch}), but the table check failed: {exc}")
    header = info.header
    return SyncSetup(
        saved,
        True,
        True,
        f"Saved ({switch}). {target.table} is a DRS Desktop sync table (schema {header.schema}, "
        f"for DRS Desktop {header.min_app_version} or newer).",
    )


@dataclass(frozen=True)
class SyncRound:
    """What one background round did: the status after it, what kinds of data it brought here
    (``plans``, ``executions``, ``settings``: the panes to reload), its one line, or its error."""

    status: SyncStatus
    pulled: frozenset[str] = frozenset()
    line: str = ""
    notes: tuple[str, ...] = ()
    error: str | None = None
    conflicts: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ResolveAnswer:
    """A resolution done: what it did in words, and which kinds of local data it changed."""

    message: str
    changed: frozenset[str]
    status: SyncStatus


_PULLED_KINDS = {
    "plans": "plans",
    "revisions": "plans",
    "executions": "executions",
    "journal pages": "executions",
    "executions deleted": "executions",  # a teammate's retention (services.sync_pull_apply)
    "settings": "settings",
}


class TeamSync:
    """The sync thread's resources: build it on that thread, ``close`` it there."""

    def __init__(
        self,
        db: Database,
        *,
        app_version: str = __version__,
        monotonic: Callable[[], float] = time.monotonic,
        grace: float = GAP_GRACE,
        backoff: Backoff = DEFAULT_BACKOFF,
        client_factory: ClientFactory = background_client,
    ) -> None:
        self._db = db
        self._reader = LazyReader(db)
        self._app_version = app_version
        self._monotonic = monotonic
        self._grace = grace
        self._backoff = backoff
        self._client_factory = client_factory
        self._target: SyncTableTarget | None = None
        self._client: Any = None
        self._service: SyncService | None = None
        self._failing_since: datetime | None = None
        self._transient: bool | None = None

    def close(self) -> None:
        self._reader.close()
        self._service = self._client = self._target = None

    # -- what the status bar shows (no network) -------------------------------------------------------

    def status(self) -> SyncStatus:
        reader = self._reader()
        state = outbox.get_state(reader)
        failing_since = None
        if state.last_error:
            failing_since = self._failing_since or state.last_error_at
        return SyncStatus(
            configured=bool(state.table_name),
            enabled=get_bool(reader, ENABLED_KEY),
            table=state.table_name,
            queued=outbox.pending_count(reader),
            conflicts=len(open_conflicts(reader)),
            last_sync_at=state.last_sync_at,
            last_error=state.last_error,
            failing_since=failing_since,
            as_of=utc_now(),
            transient=self._transient if state.last_error else None,
        )

    # -- a round --------------------------------------------------------------------------------------

    def sync_now(self, progress: Callable[[SyncProgress], None] | None = None) -> SyncRound:
        """Pull, push, pull (``SyncService.sync_now``) with the table configured now; a failure is the
        answer's ``error`` (recorded in the database as the last error, as ``sync now`` records it)."""
        settings = load_sync_settings(self._reader())
        if not settings.table:
            return SyncRound(self.status())
        try:
            service = self._service_for(settings)
            report = service.sync_now(progress=progress)
        except Exception as exc:
            return self._failed(exc)
        self._failing_since, self._transient = None, None
        pulled = frozenset(
            _PULLED_KINDS[what] for what, n in report.pulled.items() if n and what in _PULLED_KINDS
        )
        return SyncRound(
            self.status(), pulled, report.describe(), tuple(report.notes), None, tuple(report.conflicts)
        )

    def _failed(self, exc: Exception) -> SyncRound:
        if isinstance(exc, DrsDesktopError):
            logger.warning("background sync failed: %s", exc)
        else:
            logger.exception("background sync failed unexpectedly")
        message = " ".join(str(exc).split()) or type(exc).__name__
        state = outbox.get_state(self._reader())
        if state.last_error != message:  # failed before SyncService ran (a profile, a client): record it
            outbox.record_sync(self._db, error=message)
            state = outbox.get_state(self._reader())
        if self._failing_since is None:
            self._failing_since = state.last_error_at or utc_now()
        self._transient = bool(getattr(exc, "transient", False))
        return SyncRound(self.status(), error=message)

    def _service_for(self, settings: SyncSettings) -> SyncService:
        target = table_target(settings)
        if self._service is None or target != self._target:
            self._client = self._client_factory(target)
            self._service = SyncService(
                self._db,
                self._client,
                target,
                settings.desktop_id,
                self._app_version,
                monotonic=self._monotonic,
                grace=self._grace,
                backoff=self._backoff,
            )
            self._target = target
        return self._service

    # -- conflicts ------------------------------------------------------------------------------------

    def conflicts(self) -> tuple[ConflictView, ...]:
        """The open conflicts, each with both sides and the diff. Their side's plan document is read here
        when this desktop has it, else from the table (a consistent Query); out of reach, the dialog
        says so in place of the diff."""
        reader = self._reader()
        settings = load_sync_settings(reader)
        views = []
        for conflict in open_conflicts(reader):
            views.append(conflict_view(reader, conflict, settings.desktop_id, self._table_reader(settings)))
        return tuple(views)

    def _table_reader(self, settings: SyncSettings) -> Callable[[], tuple[Any, str]]:
        def client() -> tuple[Any, str]:
            self._service_for(settings)
            assert self._target is not None
            return self._client, self._target.table

        return client

    def resolve(self, kind: str, key: str, choice: str) -> ResolveAnswer:
        """``SyncService.resolve``: what was done, in words; nothing is sent until the next round."""
        settings = load_sync_settings(self._reader())
        message = self._service_for(settings).resolve(kind, key, choice)
        changed: frozenset[str] = frozenset()
        if choice != "keep_mine":
            changed = frozenset(
                {"plans"} if kind == "PLAN" else {"executions"} if kind == "EXEC" else {"settings"}
            )
        return ResolveAnswer(message, changed, self.status())
