"""Unfinished runs that cannot be picked up again in this session, and why. Pure.

At start the desktop resumes each unfinished run from its journal, driving it against the DRS it ran
against. That is only true for a run of the target the application is connected to now. A demo run's DRS
was the embedded simulator of the application that ran it: a new start makes a new world on another
port, so the run's jobs and instances are gone for good (``gone``). A run against AWS seen from a demo
session (or another Region or endpoint) is not gone, only elsewhere: it waits until the application runs
against its target again. Neither may be resumed against the wrong DRS. Ending one:
``services.stranded_runs.abandon_execution``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from drs_desktop.domain.engine.record import ExecutionRecord

__all__ = ["DEMO_CLOSE_REASON", "StrandedRun", "is_loopback", "split_unfinished", "stranded"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

#: The reason journaled for a demo execution the application was closed on (the close dialog says it).
DEMO_CLOSE_REASON = "the application was closed: the demo world ended with it"


@dataclass(frozen=True)
class StrandedRun:
    """An unfinished run this session will not resume, and why."""

    record: ExecutionRecord
    reason: str
    gone: bool  # its DRS world is gone for good: ending it is all that is left


def _target(record: ExecutionRecord) -> Mapping[str, Any]:
    target = record.options.get("target")
    return target if isinstance(target, Mapping) else {}


def is_loopback(endpoint: object) -> bool:
    return isinstance(endpoint, str) and bool(endpoint) and urlsplit(endpoint).hostname in _LOOPBACK


def stranded(record: ExecutionRecord, current: Mapping[str, Any]) -> StrandedRun | None:
    """Why ``record`` cannot be resumed against ``current`` (a target: endpoint_url, region), or None."""
    ran = _target(record)
    endpoint, here = ran.get("endpoint_url") or None, current.get("endpoint_url") or None
    if endpoint == here and (ran.get("region") or None) in (None, current.get("region") or None):
        return None
    if is_loopback(endpoint):
        why = (
            f"it ran against a DRS simulator at {endpoint} (a demo world), which ended with the application "
            "that ran it: its jobs and instances are gone with it, so it cannot be picked up again"
        )
        return StrandedRun(record, why, gone=True)
    where = f"the endpoint {endpoint}" if endpoint else "AWS"
    region = f" in {ran.get('region')}" if ran.get("region") else ""
    why = (
        f"it runs against {where}{region}, not the target of this session: it is picked up again when the "
        "application runs against that target"
    )
    return StrandedRun(record, why, gone=False)


def split_unfinished(
    records: Iterable[ExecutionRecord], current: Mapping[str, Any]
) -> tuple[list[ExecutionRecord], list[StrandedRun]]:
    """(runs to resume against ``current``, runs that cannot be resumed here)."""
    resumable: list[ExecutionRecord] = []
    left: list[StrandedRun] = []
    for record in records:
        found = stranded(record, current)
        if found is None:
            resumable.append(record)
        else:
            left.append(found)
    return resumable, left
