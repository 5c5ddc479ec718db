"""Events of a drill into a drill network (``engine.drill_net``): pointing launch templates at the drill
profile before a chunk launches, and restoring their production versions after.

``TemplatesPointRequested`` is journaled before any EC2 call of a ``PointTemplates``, then one
``TemplatesPointed`` or ``TemplatePointFailed`` per server; ``TemplatesRestoreRequested`` before the calls
of a ``RestoreTemplates``, then ``TemplatesRestored`` or ``TemplateRestoreFailed`` per server. Frozen and
JSON-serializable like every event (``engine.events``): add fields with defaults, never repurpose one.
``target``: the DRS target the server is in ("" in a run of one; ``engine.accounts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class TemplatesPointRequested:
    server_ids: tuple[str, ...]
    at: datetime
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplatesPointed:
    """``drill_version`` of ``template_id`` is its default now; ``production_version`` was before."""

    server_id: str
    template_id: str
    production_version: int
    drill_version: int
    at: datetime
    target: str = ""
    subnet_id: str = ""  # the drill subnet the version points at ("" in journals before it was kept)


@dataclass(frozen=True, kw_only=True)
class TemplatePointFailed:
    """The server's template could not be pointed at the drill network: the server is not launched.
    ``unused_version``: a drill version made before the point failed (set-default refused), never the
    default; ``unused_deleted`` whether it was deleted, ``delete_error`` why not."""

    server_id: str
    reason: str
    at: datetime
    target: str = ""
    unused_version: int | None = None
    unused_deleted: bool = False
    delete_error: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplatePointUnknown:
    """Making ``drill_version`` the default got no answer and reading the default back failed too: the
    template MAY be pointed. The server is not launched (never into a network not known); the run reads
    it back and restores ``production_version`` (only if the default is still ``drill_version``) before
    it finishes."""

    server_id: str
    template_id: str
    production_version: int
    drill_version: int
    reason: str
    at: datetime
    target: str = ""
    subnet_id: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplateDefaultChanged:
    """Read right before the server's chunk's StartRecovery: the template's default is ``found_version``,
    no longer this run's drill version (set back behind the run's back, e.g. ``launch-settings restore``
    elsewhere). The server is not started into production: it is pointed again, or failed."""

    server_id: str
    found_version: int
    at: datetime
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplatesRestoreRequested:
    server_ids: tuple[str, ...]
    at: datetime
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplatesRestored:
    """The server's template's default is its production version again (set now, or found so)."""

    server_id: str
    at: datetime
    target: str = ""


@dataclass(frozen=True, kw_only=True)
class TemplateRestoreFailed:
    """The production version was not set back. ``definite``: it will not be tried again (someone else
    changed the default, ``changed_to``, or the template is gone); otherwise a later try may succeed."""

    server_id: str
    reason: str
    at: datetime
    definite: bool = True
    changed_to: int | None = None
    target: str = ""
