"""Whether anything else touches a scheduled drill's servers, so that it must not start.

Why before launching: an unattended drill that launched a server another run is recovering (or that
DRS is already launching) would fight it with nobody there to notice; DRS allows one job per server. The
caller gathers the unfinished executions it knows (this desktop's, and teammates' pulled through sync)
and DRS's active jobs (one DescribeJobs); this says, one line each, what holds which of the servers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Holder", "conflicts"]


@dataclass(frozen=True)
class Holder:
    """Something that holds servers: ``kind`` "execution" or "DRS job", its ID, a label (its plan)."""

    kind: str
    holder_id: str
    label: str
    server_ids: frozenset[str]


def conflicts(server_ids: Iterable[str], holders: Iterable[Holder]) -> list[str]:
    """One line per holder that touches any of ``server_ids`` (empty: the drill may start)."""
    ours = set(server_ids)
    lines = []
    for holder in holders:
        shared = sorted(ours & holder.server_ids)
        if shared:
            more = f" and {len(shared) - 3} more" if len(shared) > 3 else ""
            label = f" ({holder.label})" if holder.label else ""
            lines.append(f"{holder.kind} {holder.holder_id}{label} holds {', '.join(shared[:3])}{more}")
    return lines
